"""Build the background-peak bank that the ``realistic`` preset draws from (issue 12).

Run by hand on the training side of the peptide-disjoint split only; writes the bank that ships
with trmseq::

    python benchmarks/split_real_dev.py --out runs/real
    python benchmarks/background_bank.py runs/real/train.mgf -o src/trmseq/background_peaks.npz

Donors are the scans of KIND single or best-of-library with a readable peptide, from the
high-resolution sources that keep their raw peaks: ``crux`` and ``mzSpecLib``'s ion-trap scans
are matched at 0.5 Da (a 20 ppm match would call most of their fragments unexplained) and
``casanovo``'s file was already preprocessed to about 50 peaks, so all three are left out. A peak
is unexplained when no ion that ``benchmarks/synthetic_vs_real.py`` annotates (b, y, a, H2O and
NH3 losses at fragment charges 1..z-1, their +1/+2 isotopes, the precursor with its losses and
M+1 at charges 1..z, immonium ions) lies within ``--ppm``. Files that round m/z to 0.01 Da
(PepNet) get a uniform jitter of half a step, so that no synthetic background peak sits on a
grid that real fragments lack.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import numpy as np
from synthetic_vs_real import mz_grid, read_real, theoretical, within

from trmseq.background import BackgroundBank
from trmseq.constants import H2O
from trmseq.vocab import Vocabulary

LEFT_OUT = {"crux": "low-res", "mzSpecLib": "low-res", "casanovo": "preprocessed"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train", type=Path, help="training side of the split (MGF with SEQ=)")
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--ppm", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    vocab = Vocabulary()
    items, skipped = read_real(args.train, vocab)
    rng = np.random.default_rng(args.seed)
    donors, used, peaks, unexplained = [], Counter(), Counter(), Counter()
    for spectrum, peptide, extra in items:
        source = extra.get("SOURCE", "?")
        if source in LEFT_OUT:
            skipped[f"{source}: {LEFT_OUT[source]}"] += 1
            continue
        masses = vocab.residue_masses(peptide)
        residues = [float(m) for m in masses]
        mz = np.asarray(spectrum.mz, dtype=np.float64)
        intensity = np.asarray(spectrum.intensity, dtype=np.float64)
        if len(mz) == 0:
            continue
        grid = mz_grid(mz)
        _, _, every = theoretical(masses, spectrum.charge, residues)
        rest = ~within(every, mz, args.ppm, None, grid) & (intensity > 0)
        out_mz = mz[rest]
        if grid:
            out_mz = out_mz + rng.uniform(-grid / 2, grid / 2, len(out_mz))
        donors.append(
            (float(masses.sum()) + H2O, spectrum.charge, out_mz, intensity[rest] / intensity.max())
        )
        used[source] += 1
        peaks[source] += len(mz)
        unexplained[source] += int(rest.sum())
    bank = BackgroundBank.from_donors(donors)
    bank.save(args.output)
    print(f"{args.output}: {len(bank)} donors, {len(bank.mz)} peaks, "
          f"{args.output.stat().st_size / 1e3:.0f} kB")
    for source in sorted(used):
        print(f"  {source}: {used[source]} donors, {unexplained[source]} of {peaks[source]} "
              f"peaks unexplained ({unexplained[source] / peaks[source]:.0%})")
    print("  charges: " + ", ".join(f"{z}+ {n}" for z, n in sorted(Counter(bank.charge.tolist()).items())))
    for reason, n in sorted(skipped.items()):
        print(f"  skipped {n}: {reason}")


if __name__ == "__main__":
    main()
