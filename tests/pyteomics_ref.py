"""Reference chemistry computed with pyteomics, independent of trmseq.

Every expected mass in the tests comes from here (or from hand-written numbers), never from
trmseq's own functions. Modified residues are given pyteomics masses through a custom
``aa_mass`` dict keyed by single spare characters, because ``pyteomics.mass.fast_mass`` reads a
sequence one character at a time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from pyteomics import mass, proforma

PROTON = mass.nist_mass["H+"][0][0]
H2O = mass.calculate_mass(formula="H2O")
NH3 = mass.calculate_mass(formula="NH3")
CO = mass.calculate_mass(formula="CO")
C13_DIFF = mass.nist_mass["C"][13][0] - mass.nist_mass["C"][12][0]
AA = mass.std_aa_mass

# The Unimod table in shared/FORMATS.md: name -> (accession, monoisotopic delta).
UNIMOD_TABLE = {
    "Carbamidomethyl": (4, 57.021464),
    "Oxidation": (35, 15.994915),
    "Deamidated": (7, 0.984016),
    "Acetyl": (1, 42.010565),
    "Carbamyl": (5, 43.005814),
    "Ammonia-loss": (385, -17.026549),
    "Phospho": (21, 79.966331),
}
_U = {name: delta for name, (_, delta) in UNIMOD_TABLE.items()}

# Mass-offset token -> (residue, exact delta). "" residue = N-terminal modification.
TOKEN_CHEMISTRY: dict[str, tuple[str, float]] = {
    **{aa: (aa, 0.0) for aa in "GASPVTLINDQKEMHFRYW"},
    "C+57.021": ("C", _U["Carbamidomethyl"]),
    "M+15.995": ("M", _U["Oxidation"]),
    "N+0.984": ("N", _U["Deamidated"]),
    "Q+0.984": ("Q", _U["Deamidated"]),
    "S+79.966": ("S", _U["Phospho"]),
    "T+79.966": ("T", _U["Phospho"]),
    "Y+79.966": ("Y", _U["Phospho"]),
    "+42.011": ("", _U["Acetyl"]),
    "+43.006": ("", _U["Carbamyl"]),
    "-17.027": ("", _U["Ammonia-loss"]),
    "+43.006-17.027": ("", _U["Carbamyl"] + _U["Ammonia-loss"]),
}
DEFAULT_RESIDUE_TOKENS = (
    *"GASPVTLNDQKEMHFRYW", "C+57.021", "M+15.995", "N+0.984", "Q+0.984",
)  # fmt: skip
DEFAULT_NTERM_TOKENS = ("+42.011", "+43.006", "-17.027", "+43.006-17.027")
PHOSPHO_TOKENS = ("S+79.966", "T+79.966", "Y+79.966")

ION_TYPES = ("a", "b", "y", "b-H2O", "b-NH3", "y-H2O", "y-NH3")
N_TERMINAL = ("a", "b", "b-H2O", "b-NH3", "a-NH3")

# Characters that pyteomics' fast_mass will look up in our custom aa_mass dict.
_SPARE = "abcdefghijklmnopqrstuvwxyz0123456789"


def residue_masses(tokens: Sequence[str]) -> list[float]:
    """Mass of each residue (pyteomics std_aa_mass + Unimod delta), N-term mod on the first."""
    masses: list[float] = []
    nterm = 0.0
    for t in tokens:
        residue, delta = TOKEN_CHEMISTRY[t]
        if residue == "":
            nterm += delta
        else:
            masses.append(AA[residue] + delta)
    masses[0] += nterm
    return masses


def encode(tokens: Sequence[str]) -> tuple[str, dict[str, float]]:
    """Return a one-character-per-residue string and the aa_mass dict pyteomics needs for it."""
    masses = residue_masses(tokens)
    chars: dict[float, str] = {}
    for m in masses:
        chars.setdefault(m, _SPARE[len(chars)])
    return "".join(chars[m] for m in masses), {c: m for m, c in chars.items()}


def peptide_mass(tokens: Sequence[str]) -> float:
    """Neutral monoisotopic mass, by pyteomics.mass.fast_mass."""
    seq, aa_mass = encode(tokens)
    return mass.fast_mass(seq, ion_type="M", charge=0, aa_mass=aa_mass)


def precursor_mz(tokens: Sequence[str], charge: int) -> float:
    """[M+zH]z+ m/z, by pyteomics.mass.fast_mass."""
    seq, aa_mass = encode(tokens)
    return mass.fast_mass(seq, ion_type="M", charge=charge, aa_mass=aa_mass)


def fragment_ladder(tokens: Sequence[str], ion_type: str, charge: int) -> list[float]:
    """Ion i at index i - 1 (i = 1 .. n - 1), by pyteomics.mass.fast_mass on sub-sequences."""
    seq, aa_mass = encode(tokens)
    n = len(seq)
    if ion_type in N_TERMINAL:
        parts = [seq[:i] for i in range(1, n)]
    else:
        parts = [seq[n - i :] for i in range(1, n)]
    return [mass.fast_mass(p, ion_type=ion_type, charge=charge, aa_mass=aa_mass) for p in parts]


def proforma_mass(text: str) -> float:
    """Neutral mass of a ProForma string, by pyteomics.proforma."""
    return proforma.ProForma.parse(text).mass


def proforma_residue_masses(text: str) -> tuple[str, list[float]]:
    """(plain residues, per-residue masses with mods and the N-term mod on the first)."""
    p = proforma.ProForma.parse(text)
    residues = "".join(aa for aa, _ in p.sequence)
    masses = [AA[aa] + sum(m.mass for m in mods or ()) for aa, mods in p.sequence]
    masses[0] += sum(m.mass for m in p.n_term or ())
    return residues, masses


def ions_by_hand(masses: Sequence[float], ion_type: str, charge: int) -> list[float]:
    """Fragment ladder from residue masses with the DESIGN.md formulas and pyteomics constants."""
    shift = {
        "a": -CO, "b": 0.0, "y": H2O, "b-H2O": -H2O, "b-NH3": -NH3, "y-H2O": 0.0,
        "y-NH3": H2O - NH3,
    }[ion_type]  # fmt: skip
    n = len(masses)
    if ion_type in N_TERMINAL:
        sums = [sum(masses[:i]) for i in range(1, n)]
    else:
        sums = [sum(masses[n - i :]) for i in range(1, n)]
    return [(s + shift + charge * PROTON) / charge for s in sums]


def split_mass_offset(seq: str) -> list[str]:
    """Split ``+42.011PEPTM+15.995K`` into tokens by regular expression (no trmseq involved)."""
    nterm = re.match(r"(?:[+-]\d+\.\d+)+", seq)
    start = nterm.end() if nterm else 0
    tokens = [nterm.group()] if nterm else []
    body = re.findall(r"[A-Z](?:[+-]\d+\.\d+)*", seq[start:])
    assert "".join(body) == seq[start:], f"cannot split {seq!r}"
    return tokens + body


def near(
    peaks: Sequence[float], targets: Sequence[float], tol_da: float = 0.0, tol_ppm: float = 0.0
) -> np.ndarray:
    """For each peak, whether some target lies within tol_da + tol_ppm of it."""
    t = np.sort(np.asarray(targets, dtype=np.float64))
    p = np.asarray(peaks, dtype=np.float64)
    if len(t) == 0:
        return np.zeros(len(p), dtype=bool)
    hi = np.clip(np.searchsorted(t, p), 0, len(t) - 1)
    lo = np.clip(hi - 1, 0, len(t) - 1)
    nearest = np.minimum(np.abs(t[hi] - p), np.abs(t[lo] - p))
    return nearest <= tol_da + tol_ppm * 1e-6 * p
