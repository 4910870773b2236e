"""Real annotated spectra relabelled with substituted residues: new peptides on real peaks.

A few thousand real spectra are too few to train on as they are (the model learns their
peptides), and synthetic spectra still differ from real ones in ways no forward model has
captured. A variant keeps a real spectrum's peaks, noise and mass errors but changes one or two
residues of its peptide: every peak that the original peptide's b, a or y ions (with their
water and ammonia losses and first isotope, at any fragment charge below the precursor's)
explain moves by the mass difference of the substituted residues it contains, divided by its
charge; the precursor moves likewise; peaks nothing explains stay where they are.

What this cannot move: immonium and internal ions of the substituted residues, and the
intensity pattern, which stays that of the original residues (so proline, histidine, lysine and
arginine, which change how a peptide fragments, are neither replaced nor introduced).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from trmseq.batch import Example
from trmseq.config import DataConfig
from trmseq.constants import C13_DIFF
from trmseq.masses import N_TERMINAL_IONS, fragment_mz
from trmseq.vocab import Vocabulary

# Residues whose substitution leaves the fragmentation pattern plausible (see the docstring).
KEPT = frozenset("PHKR")
ION_TYPES = ("b", "a", "y", "b-H2O", "b-NH3", "y-H2O", "y-NH3")
TOL_PPM = 20.0
TOL_DA = 0.006  # some libraries write m/z to 0.01 Da


def substitute(
    example: Example,
    vocab: Vocabulary,
    data: DataConfig,
    rng: np.random.Generator,
    max_substitutions: int = 2,
) -> Example | None:
    """Return a variant of a preprocessed, annotated spectrum with 1..max residues replaced.

    Returns None when the peptide has no residue that may be replaced.
    """
    spectrum, peptide = example
    if peptide is None or spectrum.charge is None:
        return None
    tokens = [vocab[t] for t in peptide]
    last = len(tokens) - 1  # the C-terminal residue (tryptic K/R) stays
    sites = [i for i, t in enumerate(tokens[:last]) if not t.is_nterm and t.residue not in KEPT]
    choices = [t for t in vocab.tokens if not t.is_nterm and t.residue not in KEPT]
    if not sites:
        return None
    n = int(rng.integers(1, max_substitutions + 1))
    new = list(peptide)
    delta = np.zeros(len(tokens))
    for i in rng.choice(sites, size=min(n, len(sites)), replace=False):
        options = [t for t in choices if abs(t.mass - tokens[i].mass) > 0.05]
        pick = options[int(rng.integers(len(options)))]
        new[i], delta[i] = pick.name, pick.mass - tokens[i].mass
    if tokens[0].is_nterm:  # residue_masses folds the N-terminal token into the first residue
        delta = np.concatenate([[delta[0] + delta[1]], delta[2:]])
    shifts = _peak_shifts(spectrum.mz, vocab.residue_masses(peptide), delta, spectrum.charge)
    keep = np.isfinite(shifts)
    mz = spectrum.mz[keep] + shifts[keep]
    intensity = spectrum.intensity[keep].astype(np.float64)
    precursor = spectrum.precursor_mz + delta.sum() / spectrum.charge
    inside = (mz >= data.min_mz) & (mz <= data.max_mz) & (np.abs(mz - precursor) > data.remove_precursor_tol_da)
    mz, intensity = mz[inside], intensity[inside]
    if len(mz) == 0:
        return None
    order = np.argsort(mz, kind="stable")
    intensity = intensity[order] / np.linalg.norm(intensity)
    moved = dataclasses.replace(spectrum, mz=mz[order], intensity=intensity.astype(np.float32),
                                precursor_mz=precursor)  # fmt: skip
    return moved, tuple(new)


def _peak_shifts(mz: np.ndarray, masses: np.ndarray, delta: np.ndarray, charge: int) -> np.ndarray:
    """The m/z shift of each peak: 0 for unexplained peaks, NaN where explanations disagree."""
    ions, shifts = [], []
    before = np.cumsum(delta)[:-1]  # mass change of the first i residues, i = 1..n-1
    after = np.cumsum(delta[::-1])[:-1]  # of the last i
    for z in range(1, max(2, charge)):
        for ion in ION_TYPES:
            change = before if ion in N_TERMINAL_IONS else after
            for iso in (0, 1):
                ions.append(fragment_mz(masses, ion, z) + iso * C13_DIFF / z)
                shifts.append(change / z)
    theo, shift = np.concatenate(ions), np.concatenate(shifts)
    order = np.argsort(theo)
    theo, shift = theo[order], shift[order]
    tol = np.maximum(mz * TOL_PPM * 1e-6, TOL_DA)
    lo = np.searchsorted(theo, mz - tol)
    hi = np.searchsorted(theo, mz + tol)
    out = np.zeros(len(mz))
    for k in np.nonzero(hi > lo)[0]:
        s = shift[lo[k] : hi[k]]
        out[k] = s[0] if np.all(np.abs(s - s[0]) < 1e-9) else np.nan
    return out
