"""benchmarks/ladder_ceiling.py: which bonds a spectrum shows, and what order it leaves open.

Fragment m/z come from pyteomics, not from trmseq's own mass code.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from pyteomics import mass

from trmseq.vocab import Vocabulary

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


# pyteomics' ion types and the bond each breaks: an N-terminal ion of prefix length k + 1, or a
# C-terminal one of suffix length n - k - 1, comes from bond k.
ION_TYPES = {"b": ("b", 0.0), "a": ("a", 0.0), "b-H2O": ("b", -18.010565), "b-NH3": ("b", -17.026549),
             "y": ("y", 0.0), "y-H2O": ("y", -18.010565), "y-NH3": ("y", -17.026549)}  # fmt: skip


@pytest.mark.parametrize("ion", ION_TYPES)
@pytest.mark.parametrize("z", [1, 2])
def test_every_ion_type_marks_its_own_bond(ion, z):
    kind, loss = ION_TYPES[ion]
    peptide = "PEPTIDEMKR"
    masses = np.array([mass.std_aa_mass[a] for a in peptide])
    for k in range(len(peptide) - 1):
        part = peptide[: k + 1] if kind in "ab" else peptide[k + 1 :]
        mz = mass.fast_mass(part, ion_type=kind, charge=z) + loss / z
        seen = ladder.seen_bonds(np.array([mz]), masses, 3, "all", 20.0, None)
        assert seen[k], (ion, z, k)
        assert seen.sum() <= 2  # at most a true coincidence elsewhere (a2+ = a4 2+)
        shifted = ladder.seen_bonds(np.array([mz]), masses, 3, "all", 20.0, None, shift=4.0)
        assert not shifted[k]


def test_an_n_terminal_modification_stays_in_front():
    vocab = Vocabulary()
    acetyl_aak = ("+42.011", "A", "A", "K")
    labels = ladder.residue_labels(acetyl_aak, vocab)
    assert len(labels) == 3
    assert ladder.orderings(labels, np.zeros(2, dtype=bool)) == 3  # AAK, AKA, KAA
    # Acetyl-S has the mass of E, but the acetyl cannot move: S and E still swap.
    assert ladder.orderings(ladder.residue_labels(("+42.011", "S", "E", "K"), vocab), np.array([False, True])) == 2


def test_wrong_only_where_silent():
    masses = {a: mass.std_aa_mass[a] for a in "PETIDNG"}
    true = np.array([masses[a] for a in "PEPTIDE"])
    seen = np.array([1, 1, 0, 1, 1, 1], dtype=bool)  # bond 2 (P|T) unseen: PT and TP swap
    swapped = np.array([masses[a] for a in "PETPIDE"])
    assert ladder.wrong_only_where_silent(true, swapped, seen)
    moved = np.array([masses[a] for a in "EPPTIDE"])  # breaks bond 0 elsewhere: not silent
    assert not ladder.wrong_only_where_silent(true, moved, seen)
    other_mass = np.array([masses[a] for a in "PEPTIDD"])
    assert not ladder.wrong_only_where_silent(true, other_mass, seen)
    # N has the mass of GG: where the bond between the Gs is unseen, the spectrum cannot tell.
    gg = np.array([masses[a] for a in "PEGGIDE"])
    n = np.array([masses[a] for a in "PENIDE"])
    assert ladder.wrong_only_where_silent(gg, n, np.array([1, 1, 0, 1, 1, 1], dtype=bool))
    assert not ladder.wrong_only_where_silent(gg, n, np.ones(6, dtype=bool))


def test_a_segment_of_one_repeated_residue_is_determined():
    # GGGK with only y1 seen: GGG is one ordering, the peptide is determined.
    assert ladder.orderings([57.0215] * 3 + [128.095], np.array([False, False, True])) == 1
    assert ladder.orderings([57.0215, 71.0371, 57.0215, 128.095], np.array([False, False, True])) == 3


def _script(*args: object):
    import subprocess

    return subprocess.run([sys.executable, str(BENCHMARKS / "ladder_ceiling.py"), *map(str, args)],
                          capture_output=True, text=True)  # fmt: skip


def test_bad_input_is_one_line(tmp_path):
    unannotated = tmp_path / "plain.mgf"
    unannotated.write_text("BEGIN IONS\nPEPMASS=500.3\nCHARGE=2+\n" + "".join(f"{100 + i} 1\n" for i in range(30))
                           + "END IONS\n")  # fmt: skip
    cases = [((tmp_path / "none.mgf",), "none.mgf: No such file or directory"),
             ((unannotated,), "plain.mgf: no usable annotated spectra"),
             ((unannotated, "--predictions", tmp_path / "none.mztab"), "none.mztab: no such predictions file")]
    for args, message in cases:
        done = _script(*args)
        assert done.returncode == 1 and done.stdout == ""
        assert done.stderr.strip().count("\n") == 0 and message in done.stderr, done.stderr
