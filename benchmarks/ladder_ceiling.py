"""How much of the peptide does the spectrum itself determine? A ceiling for exact-match recall.

A bond (between residues k and k+1) is *seen* when a peak lies within tolerance of one of its
fragments: b or y at fragment charge 1..max(1, z-1) (``--ions by``), or also a, b-H2O, b-NH3,
y-H2O, y-NH3 (``--ions all``), matched on the peaks as `predict` preprocesses them (20 ppm;
``--low-res-da`` for the sources named by ``--low-res``, ion traps whose fragments 20 ppm
misses). Unseen bonds join residues into segments whose order the fragments cannot tell: AB
and BA give the same ions around them. A spectrum is *determined* when no segment holds two
different residues (I/L are one residue, as everywhere in trmseq). The *guess ceiling* is the
chance of getting every open order right by a uniform guess, averaged over spectra: the
recall that fragment presence alone allows. Three things move these numbers, and the table
says none of them: equal-mass compositions (N and GG) are not counted as open, and peaks that
match a fragment by chance close segments (both push "determined" up: ``--decoy-shift`` shifts
every fragment by some Da to measure the chance rate); a model can beat the guess only through
priors (K/R last) or what presence does not say (intensities, internal ions).

With ``--predictions`` (an mzTab or TSV of `trmseq predict` on the same file), recall is split
by whether the spectrum was determined, with the share of wrong answers that agree with the
truth at every seen bond (*wrong only where silent*: an order or a composition the spectrum
could not tell) and those that pass over a bond a singly charged fragment marks (*against a 1+
fragment*; the rest of the wrong answers go against doubly charged fragments only); a second
table splits recall by the number of orderings left open, and a last list says how many
distinct peptides each group holds (a group's rate moves by peptides).

    trmseq predict runs/real/test.mgf -o /tmp/test.mztab
    python benchmarks/ladder_ceiling.py runs/real/test.mgf --predictions /tmp/test.mztab
    python benchmarks/ladder_ceiling.py runs/real/test.mgf --n-peaks 100000   # every peak
    python benchmarks/ladder_ceiling.py runs/real/test.mgf --decoy-shift 4    # chance matches

(``--n-peaks`` changes only what this script matches; the model saw predict's peaks.)
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from synthetic_vs_real import mz_grid, parameter_blocks, within

from trmseq.config import Config
from trmseq.decode import peptide_masses
from trmseq.errors import TrmseqError
from trmseq.evaluate import score_peptides
from trmseq.masses import ION_SHIFTS, fragment_bonds, fragment_mz
from trmseq.reading import SkipCounter, usable_spectra
from trmseq.report import _read_predictions
from trmseq.vocab import Vocabulary

ALL_IONS = tuple(ion for ion in ION_SHIFTS if ion != "a-NH3")
SILENT_TOL_DA = 0.005  # prefix masses this close are one bond (same composition, float sums)
BUCKETS = ((1, 1), (2, 2), (3, 6), (7, 24), (25, math.inf))


def seen_bonds(
    mz: np.ndarray, masses: np.ndarray, charge: int, ions: str, ppm: float, da: float | None, shift: float = 0.0
) -> np.ndarray:
    """Boolean (n-1,): bonds with at least one fragment within tolerance of a peak.

    ``mz`` sorted; ``shift`` (Da) moves every fragment, for the rate of chance matches.
    """
    seen = np.zeros(len(masses) - 1, dtype=bool)
    grid = mz_grid(mz)
    for z in range(1, max(1, charge - 1) + 1):
        for ion in ("b", "y") if ions == "by" else ALL_IONS:
            hit = within(mz, fragment_mz(masses, ion, z) + shift, ppm, da, grid)
            seen[fragment_bonds(len(masses), ion)[hit]] = True
    return seen


def orderings(labels: list[float], seen: np.ndarray) -> int:
    """Number of distinct residue orders the seen bonds leave open (1: determined)."""
    total, start = 1, 0
    for k in [*np.flatnonzero(seen).tolist(), len(labels) - 1]:
        segment = Counter(labels[start : k + 1])
        total *= math.factorial(sum(segment.values())) // math.prod(map(math.factorial, segment.values()))
        start = k + 1
    return total


def residue_labels(peptide: tuple[str, ...], vocab: Vocabulary) -> list[float]:
    """One label per residue for telling orders apart: its mass, N-terminal modification left out
    (it stays at the N-terminus whatever the order)."""
    return [round(vocab[t].mass, 4) for t in peptide if not vocab[t].is_nterm]


def passes_over(true: np.ndarray, guess: np.ndarray, seen: np.ndarray) -> bool:
    """Whether ``guess`` fails to break the peptide at some seen bond of ``true``."""
    prefixes = np.cumsum(guess)[:-1]
    return any(np.abs(prefixes - p).min(initial=np.inf) > SILENT_TOL_DA for p in np.cumsum(true)[:-1][seen])


def wrong_only_where_silent(true: np.ndarray, guess: np.ndarray, seen: np.ndarray) -> bool:
    """Whether ``guess`` breaks the peptide at every seen bond of ``true`` and has its mass."""
    return abs(guess.sum() - true.sum()) <= SILENT_TOL_DA and not passes_over(true, guess, seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spectra", type=Path, help="annotated MGF (SEQ=)")
    parser.add_argument("--predictions", type=Path, help="trmseq's mzTab/TSV for the same spectra")
    parser.add_argument("--ions", choices=("by", "all"), default="by")
    parser.add_argument("--ppm", type=float, default=20.0)
    parser.add_argument("--low-res", default="crux,mzSpecLib", help="SOURCE= values matched at --low-res-da")
    parser.add_argument("--low-res-da", type=float, default=0.5)
    parser.add_argument("--n-peaks", type=int, default=None,
                        help="keep this many most intense peaks (default: predict's 150)")  # fmt: skip
    parser.add_argument("--decoy-shift", type=float, default=0.0, help="move every fragment by this many Da")
    args = parser.parse_args()
    config = Config()
    if args.n_peaks:
        config = dataclasses.replace(config, data=dataclasses.replace(config.data, n_peaks=args.n_peaks))
    try:
        rows, scored = _rows(args, config)
    except TrmseqError as e:
        sys.exit(f"error: {e}")
    except OSError as e:
        sys.exit(f"error: {e.filename}: {e.strerror}")
    if not rows:
        sys.exit(f"error: {args.spectra}: no usable annotated spectra (SEQ= with a peptide trmseq reads)")
    groups = _groups(rows)
    low_res = sorted(filter(None, args.low_res.split(",")))
    tolerance = f"{args.ppm:g} ppm ({', '.join(low_res) or 'no source'}: {args.low_res_da:g} Da)"
    print(f"ions: {args.ions}; tolerance: {tolerance}; peaks: {config.data.n_peaks}; "
          f"fragments shifted by {args.decoy_shift:g} Da")  # fmt: skip
    _summary(groups, scored)
    if scored:
        _by_orderings(groups)
        _repeats(groups)


def _rows(args: argparse.Namespace, config: Config) -> tuple[list[dict], bool]:
    """One row per usable spectrum (its ladder and, with predictions, the answer's fate)."""
    vocab = config.vocab.build()
    table = _read_predictions(args.predictions) if args.predictions else None
    source_of = [block.get("SOURCE", "") for block in parameter_blocks(args.spectra)]
    low_res = set(filter(None, args.low_res.split(",")))
    rows: list[dict] = []
    for spectrum, peptide in usable_spectra([args.spectra], config.data, SkipCounter(), vocab):
        source = source_of[spectrum.index] or "-"
        masses = np.asarray(peptide_masses(peptide, vocab))
        da = args.low_res_da if source in low_res else None
        seen = seen_bonds(spectrum.mz, masses, spectrum.charge, args.ions, args.ppm, da, args.decoy_shift)
        row = {"charge": min(spectrum.charge, 3), "length": len(masses), "source": source,
               "orders": orderings(residue_labels(peptide, vocab), seen), "peptide": "".join(peptide),
               "coverage": seen.mean() if len(seen) else 1.0,
               "right": None, "silent": None, "against_1plus": None}  # fmt: skip
        if table is not None:
            hit = table.get((str(Path(spectrum.file).resolve()), spectrum.ref))
            guess = np.asarray(peptide_masses(vocab.parse(hit[0]), vocab) or []) if hit else np.zeros(0)
            row["right"] = bool(score_peptides([masses.tolist()], [guess.tolist() or None])[1][0])
            wrong = not row["right"] and len(guess) > 0
            row["silent"] = wrong and wrong_only_where_silent(masses, guess, seen)
            singly = seen_bonds(spectrum.mz, masses, 2, args.ions, args.ppm, da, args.decoy_shift)  # 1+ only
            row["against_1plus"] = wrong and passes_over(masses, guess, singly)
        rows.append(row)
    return rows, table is not None


def _groups(rows: list[dict]) -> dict[str, list[dict]]:
    """Rows by group name: all, by precursor charge, by length, by source."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups["all"].append(r)
        groups[f"charge {r['charge']}{'+' if r['charge'] == 3 else ''}"].append(r)
        groups["length " + ("<=10" if r["length"] <= 10 else "11-14" if r["length"] <= 14 else "15+")].append(r)
        groups[f"source {r['source']}"].append(r)
    return dict(sorted(groups.items(), key=lambda kv: (kv[0] != "all", kv[0])))


def _summary(groups: dict[str, list[dict]], scored: bool) -> None:
    head = "| spectra | n | bond coverage | determined | guess ceiling |"
    if scored:
        head += (" recall | recall, determined | recall, not determined | wrong only where silent "
                 "| wrong against a 1+ fragment |")
    print(head + "\n|" + "---|" * (head.count("|") - 1))
    for name, g in groups.items():
        determined = [r for r in g if r["orders"] == 1]
        line = (f"| {name} | {len(g)} | {np.mean([r['coverage'] for r in g]):.3f} "
                f"| {len(determined) / len(g):.3f} | {np.mean([1 / r['orders'] for r in g]):.3f} |")  # fmt: skip
        if scored:
            wrong = [r for r in g if not r["right"]]
            silent, against = (f"{np.mean([r[k] for r in wrong]):.3f} of {len(wrong)}" if wrong else "-"
                               for k in ("silent", "against_1plus"))  # fmt: skip
            line += (f" {_recall(g)} | {_recall(determined)} | {_recall([r for r in g if r['orders'] > 1])} "
                     f"| {silent} | {against} |")
        print(line)


def _by_orderings(groups: dict[str, list[dict]]) -> None:
    names = [f"{lo}" if lo == hi else f"{lo}-{hi}" if hi < math.inf else f">{lo - 1}" for lo, hi in BUCKETS]
    print("\nrecall (spectra) by the number of orderings the fragments leave open")
    print("| spectra | " + " | ".join(names) + " |\n|---|" + "---|" * len(names))
    for name, g in groups.items():
        cells = [_recall([r for r in g if lo <= r["orders"] <= hi]) for lo, hi in BUCKETS]
        print(f"| {name} | " + " | ".join(cells) + " |")


def _repeats(groups: dict[str, list[dict]]) -> None:
    print("\nrepeated peptides (a group's rate moves by peptides, not spectra)")
    for name, g in groups.items():
        by_peptide: dict[str, list[bool]] = defaultdict(list)
        for r in g:
            by_peptide[r["peptide"]].append(r["right"])
        top = sorted(by_peptide.items(), key=lambda kv: -len(kv[1]))[:2]
        print(f"- {name}: {len(g)} spectra of {len(by_peptide)} peptides, "
              f"{sum(any(v) for v in by_peptide.values())} right at least once; most repeated: "
              + ", ".join(f"{p} {sum(v)}/{len(v)} right" for p, v in top))  # fmt: skip


def _recall(rows: list[dict]) -> str:
    """'recall (n)' of some rows, or '-' for none."""
    return f"{np.mean([r['right'] for r in rows]):.3f} ({len(rows)})" if rows else "-"


if __name__ == "__main__":
    main()
