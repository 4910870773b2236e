"""Split an annotated MGF by the default model's real-data split rule, to report accuracy on
the peptides that model never trained on apart from those it did.

The rule is benchmarks/split_real_dev.py's: a peptide (residues only, I as L) is on the
training side when the first byte of the SHA-256 of its sequence is >= 128. Modifications in
any notation (ProForma brackets, mass offsets) are dropped before hashing.

    python benchmarks/example_overlap.py examples/mouse_casanovo_128.mgf --out /tmp/ex
    trmseq evaluate /tmp/ex/unseen.mgf
"""

from __future__ import annotations

import argparse
import hashlib
import re
from pathlib import Path


def peptide_key(seq: str) -> str:
    plain = re.sub(r"\[[^\]]*\]|\([^)]*\)|[+-]\d+(?:\.\d+)?", "", seq)
    return re.sub(r"[^A-Z]", "", plain).replace("I", "L")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mgf", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    sides: dict[str, list[str]] = {"seen": [], "unseen": []}
    for block in args.mgf.read_text().split("BEGIN IONS")[1:]:
        seq = next(line.split("=", 1)[1] for line in block.splitlines() if line.startswith("SEQ="))
        trained = hashlib.sha256(peptide_key(seq).encode()).digest()[0] / 256 >= 0.5
        sides["seen" if trained else "unseen"].append("BEGIN IONS" + block)
    for side, blocks in sides.items():
        (args.out / f"{side}.mgf").write_text("".join(blocks))
        print(f"{side}: {len(blocks)} spectra -> {args.out / f'{side}.mgf'}")


if __name__ == "__main__":
    main()
