"""benchmarks/ladder_ceiling.py: which bonds a spectrum shows, and what order it leaves open.

Fragment m/z come from pyteomics, not from trmseq's own mass code.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
from pyteomics import mass

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))  # the script imports its sibling synthetic_vs_real
_spec = importlib.util.spec_from_file_location("ladder_ceiling", BENCHMARKS / "ladder_ceiling.py")
ladder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ladder)

PEPTIDE = "PEPTIDE"
MASSES = np.array([mass.std_aa_mass[a] for a in PEPTIDE])


def _ion(prefix: str, kind: str, charge: int = 1) -> float:
    return mass.fast_mass(prefix, ion_type=kind, charge=charge)


def _seen(peaks: list[float], charge: int = 2, ions: str = "by") -> list[int]:
    return ladder.seen_bonds(np.sort(np.array(peaks)), MASSES, charge, ions, 20.0, None).astype(int).tolist()


def test_b_and_y_ions_mark_their_bonds():
    # b2 and b3 end at bonds 1 and 2; y1 (E) at bond 5, the last; a peak far from any ion marks nothing.
    peaks = [_ion("PE", "b"), _ion("PEP", "b"), _ion("E", "y"), 433.1]
    assert _seen(peaks) == [0, 1, 1, 0, 0, 1]
    # PE | P | TID | E: 2 x 1 x 6 x 1 orders the b/y ladder cannot tell apart.
    labels = [round(float(m), 4) for m in MASSES]
    assert ladder.orderings(labels, np.array(_seen(peaks), dtype=bool)) == 12


def test_doubly_charged_fragments_count_only_above_charge_2():
    peaks = [_ion("PEPT", "b", 2)]
    assert _seen(peaks, charge=2) == [0] * 6
    assert _seen(peaks, charge=3) == [0, 0, 0, 1, 0, 0]


def test_tolerance_and_the_other_ions():
    b3 = _ion("PEP", "b")
    assert _seen([b3 * (1 + 30e-6)]) == [0] * 6  # 30 ppm off: not seen at 20
    assert _seen([b3 * (1 + 10e-6)]) == [0, 0, 1, 0, 0, 0]
    a2, y2_water = _ion("PE", "a"), _ion("DE", "y") - mass.calculate_mass(formula="H2O")
    assert _seen([a2, y2_water]) == [0] * 6  # not b/y
    assert _seen([a2, y2_water], ions="all") == [0, 1, 0, 0, 1, 0]


def test_a_segment_of_one_repeated_residue_is_determined():
    # GGGK with only y1 seen: GGG is one ordering, the peptide is determined.
    assert ladder.orderings([57.0215] * 3 + [128.095], np.array([False, False, True])) == 1
    assert ladder.orderings([57.0215, 71.0371, 57.0215, 128.095], np.array([False, False, True])) == 3
