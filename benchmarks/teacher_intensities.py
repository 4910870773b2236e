"""b/y intensities of the `realistic` preset with and without a teacher bank, against real scans.

Run by hand; prints a markdown table (docs/synthetic.md, "MS2PIP as a teacher")::

    ms2pip-env/bin/python benchmarks/ms2pip_bank.py --annotated runs/real/test.mgf -o runs/test_bank.npz
    python benchmarks/teacher_intensities.py runs/real/test.mgf --teacher runs/test_bank.npz

For each real scan of KIND single or best-of-library whose annotated peptide and charge the
bank holds, the observed b/y intensities (most intense peak within ``--ppm`` of each ion, 0 if
none) are compared by Pearson correlation with: trmseq's fitted model (1+ ions); the teacher's
own prediction (1+); and the ``realistic`` preset's peak lists, averaged over ``--draws`` draws,
without and with the teacher's intensities (:func:`trmseq.synthetic.simulate_peaks`). For
precursors of charge 3 and more the 1+ and 2+ ions are compared together too, since the preset
splits each ion between those charges and the teacher decides that split. Medians per source and
precursor charge. The last columns: the median share of those ions seen at all (real, and
in the draws without and with the teacher).
"""

from __future__ import annotations

import argparse
import platform
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from fragment_intensities import by_intensities, load_single

from trmseq.errors import TrmseqError
from trmseq.intensity import load_default, pearson
from trmseq.synthetic import PRESETS, simulate_peaks
from trmseq.teacher import TeacherBank
from trmseq.vocab import Vocabulary


def ions(
    mz: np.ndarray, intensity: np.ndarray, masses: np.ndarray, ppm: float, charges: tuple[int, ...]
) -> np.ndarray:
    """b then y intensities at each of ``charges`` in turn (not summed)."""
    return np.concatenate([by_intensities(mz, intensity, masses, ppm, (z,)) for z in charges])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mgf", type=Path, help="annotated real scans (e.g. the test side of the split)")
    parser.add_argument("--teacher", type=Path, required=True, help="bank of the file's peptides")
    parser.add_argument("--ppm", type=float, default=20.0)
    parser.add_argument("--draws", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started, vocab = time.time(), Vocabulary()
    try:
        bank = TeacherBank.load(args.teacher, vocab)
    except TrmseqError as error:
        raise SystemExit(f"teacher_intensities.py: {error}") from None
    if not args.mgf.is_file():
        raise SystemExit(f"teacher_intensities.py: {args.mgf}: no such file")
    def key(masses: np.ndarray, charge: int) -> tuple:  # modifications count: M and M+15.995 differ
        return tuple(np.round(masses, 4)), charge

    levels = {key(vocab.residue_masses(p), z): x for p, z, x in (bank.entry(i) for i in range(len(bank)))}
    items = load_single(args.mgf, vocab, ("single", "best-of-library"))
    fitted, preset = load_default(), PRESETS["realistic"]
    rows: dict[tuple[str, str], list] = defaultdict(list)
    missing = 0
    for i, it in enumerate(items):
        teacher = levels.get(key(it["masses"], it["charge"]))
        if teacher is None:
            missing += 1
            continue
        z = it["charge"]
        for charges in ((1,), (1, 2)) if z >= 3 else ((1,),):
            observed = ions(it["mz"], it["intensity"], it["masses"], args.ppm, charges)
            if not observed.any():
                continue
            drawn, seen = [], [float((observed > 0).mean())]
            for with_teacher in (None, teacher):
                rngs = [np.random.default_rng([args.seed, i, d]) for d in range(args.draws)]
                runs = [simulate_peaks(it["residues"], it["masses"], z, preset, rng, with_teacher) for rng in rngs]
                found = np.array([ions(m, x, it["masses"], args.ppm, charges) for m, x in runs])
                drawn.append(found.mean(axis=0))
                seen.append(float((found > 0).mean()))
            values = [np.nan, np.nan]  # the models' own 1+ predictions: 1+ ions only
            if charges == (1,):
                values = [pearson(observed, p) for p in (fitted.predict(it["residues"], z), teacher[:2].ravel())]
            values += [pearson(observed, p) for p in drawn] + seen
            label = f"{min(z, 3)}+{' (1+ and 2+ ions)' if len(charges) == 2 else ''}"
            for source in (it["source"], "**all**"):
                rows[(source, label)].append(values)
    print(f"{args.mgf.name}: {len(items)} scans (single, best-of-library), {missing} not in the bank; "
          f"median Pearson per spectrum\n")  # fmt: skip
    print("| source | precursor | n | fitted | teacher | realistic | realistic + teacher "
          "| ions seen: real | realistic | + teacher |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    size = defaultdict(int)
    for (source, _), values in rows.items():
        size[source] += len(values)
    for (source, label), values in sorted(rows.items(), key=lambda kv: (kv[0][0] == "**all**", -size[kv[0][0]], kv[0])):
        table = np.array(values, dtype=float)
        columns = [c[~np.isnan(c)] for c in table.T]
        cells = " | ".join(f"{np.median(c):.2f}" if len(c) else "-" for c in columns)
        print(f"| {source} | {label} | {len(values)} | {cells} |")
    print(f"\n<!-- {platform.machine()}, {time.time() - started:.0f} s -->")


if __name__ == "__main__":
    main()
