"""Do synthetic peptides look like real ones? Missed cleavages and precursor charges, side by side.

For annotated real spectra (KIND single, best-of-library or consensus) and for peptides drawn
by trmseq's sampler and charge model, prints: the share of peptides with 0, 1, 2, 3+ inner K/R
(missed cleavages) by length, the charge mix by the number of basic sites (H, and K/R before the
last residue), and the log-loss of the charge model on the real spectra (and of the older
model that used length alone).

    python benchmarks/split_real_dev.py --out runs/real
    python benchmarks/peptide_stats.py runs/real/train.mgf runs/real/test.mgf --n-synthetic 20000
"""

from __future__ import annotations

import argparse
import math
import re
from collections import Counter
from pathlib import Path

import numpy as np
from pyteomics import mgf

from trmseq import peptides
from trmseq.peptides import PeptideSampler, basic_sites
from trmseq.vocab import Vocabulary

KINDS = ("single", "best-of-library", "consensus")
LENGTHS = ((6, 9), (10, 13), (14, 18), (19, 50))


def real_peptides(path: Path) -> list[tuple[str, int]]:
    out = []
    for spectrum in mgf.read(str(path), use_index=False):
        params = spectrum["params"]
        if "seq" in params and params.get("kind", "single") in KINDS:
            # residue letters only: mass offsets (M+15.995) and ProForma names (M[Oxidation]) dropped
            residues = re.sub(r"[^A-Z]", "", re.sub(r"\[[^\]]*\]", "", params["seq"]))
            out.append((residues, int(params["charge"][0])))
    return out


def synthetic_peptides(n: int, seed: int) -> list[tuple[str, int]]:
    vocab = Vocabulary()
    sampler = PeptideSampler(vocab)
    out = []
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        residues = vocab.residues(sampler.sample(rng))
        out.append((residues, peptides.sample_charge(residues, rng)))
    return out


def missed(seq: str) -> int:
    return seq[:-1].count("K") + seq[:-1].count("R")


def describe(name: str, rows: list[tuple[str, int]]) -> None:
    print(f"\n## {name}: {len(rows)} peptides")
    print("| length | n | inner K/R 0 / 1 / 2 / 3+ | charge 1 / 2 / 3 / 4+ |")
    print("|---|---|---|---|")
    for lo, hi in LENGTHS:
        part = [(s, z) for s, z in rows if lo <= len(s) <= hi]
        if part:
            m = Counter(min(missed(s), 3) for s, _ in part)
            c = Counter(min(z, 4) for _, z in part)
            print(f"| {lo}-{hi} | {len(part)} | " + " / ".join(f"{m[k] / len(part):.2f}" for k in range(4))
                  + " | " + " / ".join(f"{c[k] / len(part):.2f}" for k in range(1, 5)) + " |")  # fmt: skip
    print("| basic sites | n | | charge 1 / 2 / 3 / 4+ |")
    for b in range(4):
        part = [z for s, z in rows if min(basic_sites(s), 3) == b]
        if part:
            c = Counter(min(z, 4) for z in part)
            print(f"| {b}{'+' if b == 3 else ''} | {len(part)} | | "
                  + " / ".join(f"{c[k] / len(part):.2f}" for k in range(1, 5)) + " |")  # fmt: skip


def log_loss(rows: list[tuple[str, int]], mean, sd: float) -> float:
    """Mean negative log-probability of each charge under round(mean(seq) + N(0, sd)), clipped to 1..4."""
    def cdf(x: float) -> float:
        return 0.5 * (1 + math.erf(x / math.sqrt(2)))

    total = 0.0
    for seq, z in rows:
        z, mu = min(z, 4), mean(seq)
        hi = 1.0 if z >= 4 else cdf((z + 0.5 - mu) / sd)
        lo = 0.0 if z <= 1 else cdf((z - 0.5 - mu) / sd)
        total -= math.log(max(hi - lo, 1e-12))
    return total / len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("real", type=Path, nargs="+", help="annotated MGF files (SEQ=, KIND=)")
    parser.add_argument("--n-synthetic", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for path in args.real:
        if not path.is_file():
            parser.error(f"{path}: no such file")
        rows = real_peptides(path)
        if not rows:
            parser.error(f"{path}: no annotated spectra (SEQ=) of KIND {', '.join(KINDS)}")
        describe(str(path), rows)
        fitted = log_loss(rows, lambda s: peptides.CHARGE_BASE + peptides.CHARGE_PER_RESIDUE * len(s)
                          + peptides.CHARGE_PER_BASIC * basic_sites(s), peptides.CHARGE_SD)  # fmt: skip
        by_length = log_loss(rows, lambda s: 1.0 + len(s) / 9.0, 0.5)  # the model before 2026-12-06
        print(f"charge log-loss: this model {fitted:.3f}, length alone {by_length:.3f}")
    describe(f"synthetic (seed {args.seed})", synthetic_peptides(args.n_synthetic, args.seed))


if __name__ == "__main__":
    main()
