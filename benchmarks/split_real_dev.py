"""Split ../shared/data/real_dev.mgf by peptide into a training part and a held-out test part.

A peptide (residues only, I as L, modifications ignored) goes wholly to one side, chosen by a
hash of its sequence, so no test peptide is ever trained on in any charge or modification
state. The test part keeps only realistic spectra (KIND single or best-of-library); the
training part keeps every KIND except annotated-peaks-only.

    python benchmarks/split_real_dev.py --out runs/real
"""

from __future__ import annotations

import argparse
import hashlib
import re
from collections import Counter
from pathlib import Path

TEST_KINDS = {"single", "best-of-library"}


def peptide_key(seq: str) -> str:
    return re.sub(r"[^A-Z]", "", seq).replace("I", "L")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path,
                        default=Path(__file__).resolve().parents[2] / "shared" / "data" / "real_dev.mgf")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--test-share", type=float, default=0.5)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    blocks = args.source.read_text().split("BEGIN IONS")[1:]
    sides: dict[str, list[str]] = {"train": [], "test": []}
    counts: Counter[tuple[str, str]] = Counter()
    for block in blocks:
        fields = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        digest = hashlib.sha256(peptide_key(fields["SEQ"]).encode()).digest()
        test = digest[0] / 256 < args.test_share
        kind = fields.get("KIND", "")
        if test and kind in TEST_KINDS:
            side = "test"
        elif not test and kind != "annotated-peaks-only":
            side = "train"
        else:
            continue
        sides[side].append("BEGIN IONS" + block)
        counts[(side, fields.get("SOURCE", "?"))] += 1
    for side, items in sides.items():
        (args.out / f"{side}.mgf").write_text("".join(items))
        print(f"{side}: {len(items)} spectra -> {args.out / f'{side}.mgf'}")
    for (side, source), n in sorted(counts.items()):
        print(f"  {side:5} {source:16} {n}")


if __name__ == "__main__":
    main()
