"""Mass arithmetic on peptides and ions: neutral masses, m/z, fragment ladders, ppm errors.

A peptide enters here as the array of its residue masses (see
:meth:`trmseq.vocab.Vocabulary.residue_masses`), so these functions know nothing about notation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from trmseq.constants import C13_DIFF, CO, H2O, NH3, PROTON

# Shift of each ion series from its plain residue sum (before protons are added).
ION_SHIFTS: dict[str, float] = {
    "a": -CO,
    "b": 0.0,
    "y": H2O,
    "a-NH3": -CO - NH3,
    "b-H2O": -H2O,
    "b-NH3": -NH3,
    "y-H2O": 0.0,
    "y-NH3": H2O - NH3,
}
N_TERMINAL_IONS = frozenset({"a", "b", "a-NH3", "b-H2O", "b-NH3"})


def peptide_mass(residue_masses: Sequence[float] | np.ndarray) -> float:
    """Return the neutral monoisotopic mass of a peptide: its residues plus one water."""
    return float(np.sum(residue_masses)) + H2O


def mz(neutral_mass: float | np.ndarray, charge: int | np.ndarray) -> float | np.ndarray:
    """Return the m/z of a neutral mass carrying ``charge`` protons."""
    return neutral_mass / charge + PROTON


def neutral_mass(mz_: float | np.ndarray, charge: int | np.ndarray) -> float | np.ndarray:
    """Return the neutral mass of an ion observed at ``mz_`` with ``charge`` protons."""
    return (mz_ - PROTON) * charge


def ppm(observed: float | np.ndarray, theoretical: float | np.ndarray) -> float | np.ndarray:
    """Return the relative error of ``observed`` against ``theoretical`` in parts per million."""
    return (observed - theoretical) / theoretical * 1e6


def fragment_mz(
    residue_masses: Sequence[float] | np.ndarray, ion_type: str = "b", charge: int = 1
) -> np.ndarray:
    """Return the m/z ladder of one ion series.

    Parameters
    ----------
    residue_masses
        Mass of each residue, N- to C-terminus, terminal modifications included.
    ion_type
        One of :data:`ION_SHIFTS` ("a", "b", "y", and their H2O/NH3 losses).
    charge
        Fragment charge.

    Returns
    -------
    numpy.ndarray of shape (n_residues - 1,)
        Element ``i - 1`` is ion ``i`` (b1..b(n-1) or y1..y(n-1)).
    """
    masses = np.asarray(residue_masses, dtype=np.float64)
    if ion_type not in ION_SHIFTS:
        raise ValueError(f"unknown ion type {ion_type!r}; expected one of {sorted(ION_SHIFTS)}")
    if ion_type in N_TERMINAL_IONS:
        sums = np.cumsum(masses[:-1])
    else:
        sums = np.cumsum(masses[::-1][:-1])
    return (sums + ION_SHIFTS[ion_type] + charge * PROTON) / charge


def fragment_bonds(n_residues: int, ion_type: str = "b") -> np.ndarray:
    """The bond each ion of :func:`fragment_mz`'s ladder breaks, as int64 of shape (n_residues - 1,).

    Bond ``k`` joins residues ``k`` and ``k + 1`` (0-based): b/a ion ``k + 1`` and y ion
    ``n - k - 1`` both come from breaking it.
    """
    if ion_type not in ION_SHIFTS:
        raise ValueError(f"unknown ion type {ion_type!r}; expected one of {sorted(ION_SHIFTS)}")
    bonds = np.arange(max(n_residues - 1, 0))
    return bonds if ion_type in N_TERMINAL_IONS else bonds[::-1]


def precursor_error_ppm(
    peptide_mass_: float, precursor_mz: float, charge: int, isotopes: Sequence[int] = (0, 1)
) -> tuple[float, int]:
    """Return the smallest precursor error in ppm over isotope offsets, and that offset.

    The observed precursor may be the ``k``-th isotope peak, so its neutral mass is compared
    with ``peptide_mass_ + k * C13_DIFF`` for each ``k`` in ``isotopes``.
    """
    observed = neutral_mass(precursor_mz, charge)
    errors = [(ppm(observed - k * C13_DIFF, peptide_mass_), k) for k in isotopes]
    return min(errors, key=lambda e: abs(e[0]))
