"""How much of the peptide does the spectrum itself determine? A ceiling for exact-match recall.

A bond (between residues k and k+1) is *seen* when a peak lies within tolerance of one of its
fragments: b or y at fragment charge 1..max(1, z-1) (``--ions by``), or also a, b-H2O, b-NH3,
y-H2O, y-NH3 (``--ions all``), matched on the peaks as `predict` preprocesses them. Unseen
bonds join residues into segments whose order the fragments cannot tell: AB and BA give the
same b/y ladder around them. A spectrum is *determined* when no segment holds two different
residues (I/L are one residue here, as everywhere in trmseq; equal-mass compositions such as
N/GG are not counted, so the share is an upper bound). The *guess ceiling* is the chance of
getting the order right by a uniform guess among each segment's distinct orderings, averaged
over spectra: the recall a model would reach from fragment presence alone. A model can do
better only through priors (K/R at the C-terminus) or what presence does not say (intensities,
internal ions), and worse by missing what is there.

With ``--predictions`` (an mzTab or TSV of `trmseq predict` on the same file), recall is split
by whether the spectrum was determined: how much of what the spectrum says the model gets right;
a second table splits it by the number of orderings (2: one pair of residues a coin flip apart),
and a last list says how many distinct peptides each group holds.

    trmseq predict runs/real/test.mgf -o /tmp/test.mztab
    python benchmarks/ladder_ceiling.py runs/real/test.mgf --predictions /tmp/test.mztab
    python benchmarks/ladder_ceiling.py runs/real/test.mgf --n-peaks 100000   # every peak

(``--n-peaks`` changes only what this script matches; the model saw predict's peaks.)
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from synthetic_vs_real import mz_grid, within

from trmseq.config import Config
from trmseq.decode import peptide_masses
from trmseq.evaluate import score_peptides
from trmseq.masses import fragment_mz
from trmseq.reading import SkipCounter, usable_spectra
from trmseq.report import _read_predictions

N_SIDE = ("b", "a", "b-H2O", "b-NH3")  # ions that end at bond k counted from the N-terminus
C_SIDE = ("y", "y-H2O", "y-NH3")


def seen_bonds(mz: np.ndarray, masses: np.ndarray, charge: int, ions: str, ppm: float, da: float | None) -> np.ndarray:
    """Boolean (n-1,): bonds with at least one observed fragment."""
    n = len(masses)
    bonds = np.arange(n - 1)
    wanted = ("b", "y") if ions == "by" else N_SIDE + C_SIDE
    seen = np.zeros(n - 1, dtype=bool)
    peaks, grid = np.sort(mz), mz_grid(mz)
    for z in range(1, max(1, charge - 1) + 1):
        for ion in wanted:
            ladder = fragment_mz(masses, ion, z)
            where = bonds if ion in N_SIDE else bonds[::-1]  # y_{n-k-1} ends at bond k
            seen[where[within(peaks, ladder, ppm, da, grid)]] = True
    return seen


def orderings(labels: list[float], seen: np.ndarray) -> int:
    """Number of distinct residue orders the fragments cannot tell apart (1: determined)."""
    total, start = 1, 0
    for k in [*np.flatnonzero(seen).tolist(), len(labels) - 1]:
        segment = Counter(labels[start : k + 1])
        total *= math.factorial(sum(segment.values())) // math.prod(map(math.factorial, segment.values()))
        start = k + 1
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spectra", type=Path, nargs="+", help="annotated MGF (SEQ=)")
    parser.add_argument("--predictions", type=Path, help="trmseq's mzTab/TSV for the same spectra")
    parser.add_argument("--ions", choices=("by", "all"), default="by")
    parser.add_argument("--ppm", type=float, default=20.0)
    parser.add_argument("--da", type=float, default=None, help="absolute tolerance instead of ppm")
    parser.add_argument("--n-peaks", type=int, default=None,
                        help="keep this many most intense peaks (default: predict's 150)")  # fmt: skip
    args = parser.parse_args()
    config = Config()
    if args.n_peaks:
        config = dataclasses.replace(config, data=dataclasses.replace(config.data, n_peaks=args.n_peaks))
    vocab = config.vocab.build()
    table = _read_predictions(args.predictions) if args.predictions else None
    rows: list[dict] = []
    for spectrum, peptide in usable_spectra(args.spectra, config.data, SkipCounter(), vocab):
        masses = np.asarray(peptide_masses(peptide, vocab))
        seen = seen_bonds(spectrum.mz, masses, spectrum.charge, args.ions, args.ppm, args.da)
        n_orders = orderings([round(float(m), 4) for m in masses], seen)
        row = {"charge": min(spectrum.charge, 3), "length": len(masses), "orders": n_orders,
               "coverage": seen.mean() if len(seen) else 1.0, "right": None, "peptide": "".join(peptide)}  # fmt: skip
        if table is not None:
            hit = table.get((str(Path(spectrum.file).resolve()), spectrum.ref))
            guess = peptide_masses(vocab.parse(hit[0]), vocab) if hit else None
            row["right"] = bool(score_peptides([masses.tolist()], [guess])[1][0])
        rows.append(row)
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups["all"].append(r)
        groups[f"charge {r['charge']}{'+' if r['charge'] == 3 else ''}"].append(r)
        groups["length " + ("7-10" if r["length"] <= 10 else "11-14" if r["length"] <= 14 else "15+")].append(r)
    print(f"ions: {args.ions}; tolerance: {f'{args.da} Da' if args.da else f'{args.ppm} ppm'}")
    head = "| spectra | n | bond coverage | determined | guess ceiling |"
    if table is not None:
        head += " recall | recall, determined | recall, not determined |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for name in sorted(groups, key=lambda g: (g != "all", g)):
        g = groups[name]
        determined = [r for r in g if r["orders"] == 1]
        line = (f"| {name} | {len(g)} | {np.mean([r['coverage'] for r in g]):.3f} "
                f"| {len(determined) / len(g):.3f} | {np.mean([1 / r['orders'] for r in g]):.3f} |")  # fmt: skip
        if table is not None:
            rest = [r for r in g if r["orders"] > 1]
            line += f" {_recall(g)} | {_recall(determined)} | {_recall(rest)} |"
        print(line)
    if table is None:
        return
    buckets = ((1, 1), (2, 2), (3, 6), (7, 24), (25, math.inf))
    names = [f"{lo}" if lo == hi else f"{lo}-{hi}" if hi < math.inf else f">{lo - 1}" for lo, hi in buckets]
    print("\nrecall (spectra) by the number of orderings the fragments leave open")
    print("| spectra | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for name in sorted(groups, key=lambda g: (g != "all", g)):
        cells = [_recall([r for r in groups[name] if lo <= r["orders"] <= hi]) for lo, hi in buckets]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("\nrepeated peptides (a group's rate moves by peptides, not spectra)")
    for name in sorted(groups, key=lambda g: (g != "all", g)):
        by_peptide: dict[str, list[bool]] = defaultdict(list)
        for r in groups[name]:
            by_peptide[r["peptide"]].append(r["right"])
        top = sorted(by_peptide.items(), key=lambda kv: -len(kv[1]))[:2]
        print(f"- {name}: {len(groups[name])} spectra of {len(by_peptide)} peptides, "
              f"{sum(any(v) for v in by_peptide.values())} right at least once; most repeated: "
              + ", ".join(f"{p} {sum(v)}/{len(v)} right" for p, v in top))  # fmt: skip


def _recall(rows: list[dict]) -> str:
    return f"{np.mean([r['right'] for r in rows]):.3f} ({len(rows)})" if rows else "-"


if __name__ == "__main__":
    main()
