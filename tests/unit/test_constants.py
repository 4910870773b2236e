"""trmseq.constants against pyteomics and the Unimod table in shared/FORMATS.md."""

from __future__ import annotations

import pytest
from pyteomics import mass

import pyteomics_ref as ref
from trmseq import constants


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("PROTON", mass.nist_mass["H+"][0][0]),
        ("H2O", mass.calculate_mass(formula="H2O")),
        ("NH3", mass.calculate_mass(formula="NH3")),
        ("CO", mass.calculate_mass(formula="CO")),
        ("C13_DIFF", mass.nist_mass["C"][13][0] - mass.nist_mass["C"][12][0]),
    ],
)
def test_physical_constants_match_pyteomics(name: str, expected: float) -> None:
    assert getattr(constants, name) == pytest.approx(expected, abs=1e-9)


def test_constants_match_the_design_document() -> None:
    # Hand-copied from DESIGN.md section 1.
    assert constants.PROTON == pytest.approx(1.00727646677, abs=1e-11)
    assert constants.H2O == pytest.approx(18.0105646837, abs=1e-10)
    assert constants.NH3 == pytest.approx(17.02654910101, abs=1e-10)
    assert constants.CO == pytest.approx(27.99491461956, abs=1e-10)
    assert constants.C13_DIFF == pytest.approx(1.003354835, abs=1e-8)


def test_residue_masses_match_pyteomics() -> None:
    assert set(constants.RESIDUE_MASSES) == set("GASPVTCLINDQKEMHFRYW")
    for aa, m in constants.RESIDUE_MASSES.items():
        assert m == pytest.approx(mass.std_aa_mass[aa], abs=1e-9), aa


def test_isoleucine_and_leucine_are_isobaric() -> None:
    assert constants.RESIDUE_MASSES["I"] == constants.RESIDUE_MASSES["L"]


@pytest.mark.parametrize(("name", "entry"), sorted(ref.UNIMOD_TABLE.items()))
def test_unimod_entries_match_formats_table(name: str, entry: tuple[int, float]) -> None:
    accession, delta = entry
    assert constants.UNIMOD[name][0] == accession
    assert constants.UNIMOD[name][1] == pytest.approx(delta, abs=1e-6)


@pytest.mark.parametrize("name", ["Carbamidomethyl", "Oxidation", "Acetyl", "Phospho"])
def test_unimod_masses_match_pyteomics_proforma(name: str) -> None:
    # pyteomics resolves the name through psims' vendored Unimod (offline).
    plain = ref.proforma_mass("PEPTIDE")
    modified = ref.proforma_mass(f"[{name}]-PEPTIDE")
    assert modified - plain == pytest.approx(constants.UNIMOD[name][1], abs=1e-5)


def test_carbamidomethyl_cysteine() -> None:
    c = constants.RESIDUE_MASSES["C"] + constants.UNIMOD["Carbamidomethyl"][1]
    assert c == pytest.approx(160.030649, abs=1e-6)
