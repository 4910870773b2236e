"""Peptide, precursor and fragment masses against pyteomics (the independent reference)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pyteomics_ref as ref
from trmseq import masses
from trmseq.vocab import DEFAULT_VARIABLE_MODS, PHOSPHO_MODS, Vocabulary

TOL = 1e-6
VOCAB = Vocabulary(variable_mods=DEFAULT_VARIABLE_MODS + PHOSPHO_MODS)
RESIDUE_TOKENS = ref.DEFAULT_RESIDUE_TOKENS + ref.PHOSPHO_TOKENS


@st.composite
def peptides(draw: st.DrawFn, min_size: int = 2, max_size: int = 30) -> tuple[str, ...]:
    """Random modified peptides as mass-offset tokens, N-terminal modification optional."""
    body = draw(st.lists(st.sampled_from(RESIDUE_TOKENS), min_size=min_size, max_size=max_size))
    nterm = draw(st.none() | st.sampled_from(ref.DEFAULT_NTERM_TOKENS))
    return ((nterm,) if nterm else ()) + tuple(body)


@settings(max_examples=300)
@given(peptides(min_size=1))
def test_peptide_mass_matches_pyteomics(peptide: tuple[str, ...]) -> None:
    expected = ref.peptide_mass(peptide)
    assert VOCAB.peptide_mass(peptide) == pytest.approx(expected, abs=TOL)
    assert masses.peptide_mass(VOCAB.residue_masses(peptide)) == pytest.approx(expected, abs=TOL)


@settings(max_examples=300)
@given(peptides(min_size=1), st.integers(1, 4))
def test_precursor_mz_matches_pyteomics(peptide: tuple[str, ...], charge: int) -> None:
    expected = ref.precursor_mz(peptide, charge)
    mz = masses.mz(VOCAB.peptide_mass(peptide), charge)
    assert mz == pytest.approx(expected, abs=TOL)
    assert masses.neutral_mass(mz, charge) == pytest.approx(ref.peptide_mass(peptide), abs=TOL)


@settings(max_examples=300)
@given(peptides(), st.sampled_from(ref.ION_TYPES), st.integers(1, 3))
def test_fragment_ladder_matches_pyteomics(
    peptide: tuple[str, ...], ion_type: str, charge: int
) -> None:
    got = masses.fragment_mz(VOCAB.residue_masses(peptide), ion_type, charge)
    expected = ref.fragment_ladder(peptide, ion_type, charge)
    assert got.shape == (len(expected),)
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOL)


@settings(max_examples=100)
@given(peptides(min_size=1), st.lists(st.sampled_from(RESIDUE_TOKENS), min_size=1).map(tuple))
def test_peptide_mass_is_additive(left: tuple[str, ...], right: tuple[str, ...]) -> None:
    joined = VOCAB.peptide_mass(left + right)
    parts = VOCAB.peptide_mass(left) + VOCAB.peptide_mass(right) - ref.H2O
    assert joined == pytest.approx(parts, abs=TOL)


# The PEPTIDE table in shared/FORMATS.md section 5 (hand formulas, asserted there to 1e-6).
PEPTIDE_B = {1: [98.06004, 227.10263, 324.15540, 425.20308, 538.28714, 653.31408],
             2: [49.53366, 114.05495, 162.58134, 213.10518, 269.64721, 327.16068]}  # fmt: skip
PEPTIDE_Y = {1: [148.06043, 263.08738, 376.17144, 477.21912, 574.27188, 703.31448],
             2: [74.53386, 132.04733, 188.58936, 239.11320, 287.63958, 352.16088]}  # fmt: skip


@pytest.mark.parametrize("charge", [1, 2])
def test_peptide_ladder_matches_published_table(charge: int) -> None:
    residues = VOCAB.residue_masses(VOCAB.parse("PEPTIDE"))
    np.testing.assert_allclose(
        masses.fragment_mz(residues, "b", charge), PEPTIDE_B[charge], atol=1e-5
    )
    np.testing.assert_allclose(
        masses.fragment_mz(residues, "y", charge), PEPTIDE_Y[charge], atol=1e-5
    )


def test_peptide_whole_masses_match_published_values() -> None:
    peptide = VOCAB.parse("PEPTIDE")
    assert VOCAB.peptide_mass(peptide) == pytest.approx(799.359964, abs=1e-6)
    assert masses.mz(VOCAB.peptide_mass(peptide), 1) == pytest.approx(800.36724, abs=1e-5)
    assert masses.mz(VOCAB.peptide_mass(peptide), 2) == pytest.approx(400.687258, abs=1e-6)


def test_fragment_charge_two_is_charge_one_shifted() -> None:
    residues = VOCAB.residue_masses(VOCAB.parse("LESLIEK"))
    one = masses.fragment_mz(residues, "y", 1)
    two = masses.fragment_mz(residues, "y", 2)
    np.testing.assert_allclose(two, (one + ref.PROTON) / 2, atol=1e-9)


def test_unknown_ion_type_is_rejected() -> None:
    with pytest.raises(ValueError, match="'c'"):
        masses.fragment_mz(np.array([100.0, 200.0]), "c", 1)


def test_ppm() -> None:
    assert masses.ppm(1000.001, 1000.0) == pytest.approx(1.0)
    assert masses.ppm(999.999, 1000.0) == pytest.approx(-1.0)


@pytest.mark.parametrize("isotope", [0, 1])
def test_precursor_error_finds_the_isotope_peak(isotope: int) -> None:
    m = ref.peptide_mass(tuple("PEPTIDEK"))
    observed_mz = (m + isotope * ref.C13_DIFF) / 2 + ref.PROTON
    error, offset = masses.precursor_error_ppm(m, observed_mz, 2)
    assert offset == isotope
    assert abs(error) < 0.01


def test_precursor_error_reports_the_smallest_error() -> None:
    m = 1000.0
    observed_mz = (m + 0.5) / 1 + ref.PROTON  # 500 ppm above M, 503 ppm below M + 1
    error, offset = masses.precursor_error_ppm(m, observed_mz, 1)
    assert offset == 0
    assert error == pytest.approx(500.0, rel=1e-6)
