"""Would charge reduction help real 3+ spectra? What 2+ fragment peaks add to the 1+ ladder.

Charge reduction (deconvolution) rewrites a fragment peak that its isotope partner, C13/2
higher, marks as doubly charged into its singly charged m/z, so that a 3+ spectrum shows one
b/y ladder, as 2+ spectra do. It can only help where a b/y ion is seen at fragment charge 2 and
not at charge 1, and only when the 2+ peak's isotope partner is there to mark it. This counts,
per precursor charge, on real scans (KIND single or best-of-library) with their annotated
peptide: b/y ions seen at fragment charge 1 and 2 (a peak within ``--ppm``, plus half the m/z
rounding step), those seen only at 2, those of them with their partner, and how many of all
peaks with a partner (and none C13/2 below, nor C13 above: a 2+ monoisotopic peak by its
pattern) are a b/y 2+ ion of the peptide. Prints a markdown table (docs/benchmarks.md, item 14).

    python benchmarks/split_real_dev.py --out runs/real
    python benchmarks/charge_reduction.py runs/real/train.mgf
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from fragment_intensities import load_single
from synthetic_vs_real import REALISTIC_KINDS, mz_grid, within

from trmseq.constants import C13_DIFF
from trmseq.masses import fragment_mz
from trmseq.vocab import Vocabulary


def counts(mz: np.ndarray, masses: np.ndarray, ppm: float) -> np.ndarray:
    """(ions, seen at 1+, seen at 2+, 2+ only, 2+ only with partner, peaks with partner, of them b/y 2+)."""
    grid = mz_grid(mz)
    ions1 = np.concatenate([fragment_mz(masses, "b", 1), fragment_mz(masses, "y", 1)])
    ions2 = np.concatenate([fragment_mz(masses, "b", 2), fragment_mz(masses, "y", 2)])
    seen1 = within(mz, ions1, ppm, None, grid)
    seen2 = within(mz, ions2, ppm, None, grid)
    partner = within(mz, ions2 + C13_DIFF / 2, ppm, None, grid)
    only2 = seen2 & ~seen1
    paired = within(mz, mz + C13_DIFF / 2, ppm, None, grid)
    paired &= ~within(mz, mz - C13_DIFF / 2, ppm, None, grid) & ~within(mz, mz + C13_DIFF, ppm, None, grid)
    is_ion2 = within(ions2, mz, ppm, None, grid)
    return np.array([len(ions1), seen1.sum(), seen2.sum(), only2.sum(), (only2 & partner).sum(),
                     paired.sum(), (paired & is_ion2).sum()])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mgf", type=Path, help="annotated real spectra (the training side of the split)")
    parser.add_argument("--ppm", type=float, default=20.0)
    args = parser.parse_args()
    if not args.mgf.is_file():
        parser.error(f"{args.mgf}: no such file")
    items = load_single(args.mgf, Vocabulary(), kinds=REALISTIC_KINDS)
    if not items:
        raise SystemExit(f"{args.mgf}: no spectra with KIND={' or '.join(REALISTIC_KINDS)} and a readable SEQ=")
    print("| precursor charge | spectra | b/y ions per spectrum | seen at 1+ | seen at 2+ | at 2+ only "
          "| at 2+ only, with partner | peaks with a partner | of them a b/y 2+ ion |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, charges in (("2+", (2,)), ("3+", (3,)), ("4+ and more", tuple(range(4, 10)))):
        rows = [counts(it["mz"], it["masses"], args.ppm) for it in items if it["charge"] in charges]
        if not rows:
            continue
        total = np.sum(rows, axis=0)
        per = total / len(rows)
        print(f"| {label} | {len(rows)} | {per[0]:.1f} | {per[1]:.1f} | {per[2]:.1f} | {per[3]:.1f} | {per[4]:.1f} "
              f"| {per[5]:.1f} | {total[6] / max(1, total[5]):.2f} |")


if __name__ == "__main__":
    main()
