"""mzTab cell values, not only shape: masses, modifications, ProForma, scan numbers and USIs.

Expected masses come from pyteomics (tests/pyteomics_ref.py), accessions and the precursor
error from hand computation; files are read back with pyteomics' own mzTab and USI parsers.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from pyteomics import mztab
from pyteomics.usi import USI

from pyteomics_ref import C13_DIFF, PROTON, peptide_mass, precursor_mz, proforma_mass
from trmseq.decode import Candidate
from trmseq.inference import Answer, evidence
from trmseq.io.mztab import COLUMNS, psm_row, write_mztab, write_tsv
from trmseq.predict import _psms
from trmseq.spectrum import Spectrum
from trmseq.tokenizer import Tokenizer
from trmseq.vocab import Vocabulary

VOCAB = Vocabulary()  # the default: C+57.021 fixed; M, N, Q and four N-terminal variable mods
TOKENIZER = Tokenizer(VOCAB)


def spectrum(file: str, precursor: float, charge: int, index: int = 0, scan: str | None = None) -> Spectrum:
    return Spectrum(mz=np.empty(0), intensity=np.empty(0, np.float32), precursor_mz=precursor,
                    charge=charge, file=file, index=index, ref=f"index={index}", scan=scan,
                    title=f"spectrum {index}", rt_seconds=61.5)  # fmt: skip


def answer(candidate: Candidate, steps: int, spectrum: Spectrum) -> Answer:
    """An answer as the Runner gives it, with the Runner's own evidence (precursor error, isotope)."""
    found = evidence(candidate, spectrum, VOCAB, (0, 1), candidate.log_prob, -5.0, False, 0.02)
    return Answer([candidate], [found], steps)


def written(psms, files: list[Path], tmp_path: Path) -> tuple[Path, list[dict[str, str]]]:
    out = tmp_path / "out.mztab"
    with open(out, "w", newline="") as handle:
        write_mztab(handle, psms, VOCAB, files)
    table = mztab.MzTab(str(out)).spectrum_match_table
    return out, table.to_dict("records")


def test_masses_modifications_and_error_of_a_modified_peptide_at_isotope_1(tmp_path: Path) -> None:
    peptide = ("+43.006-17.027", "Q+0.984", "M+15.995", "C+57.021", "K")
    charge = 2
    theoretical = precursor_mz(peptide, charge)
    # observed at the first 13C peak, 4 ppm heavy
    observed = (peptide_mass(peptide) * (1 + 4e-6) + C13_DIFF + charge * PROTON) / charge
    file = tmp_path / "run_1.mgf"
    s = spectrum(str(file), observed, charge, index=3, scan="10039")
    psms = _psms(s, answer(Candidate(peptide, (0.9, 0.8, 0.7, 0.6, 0.5), -1.0, True), 3, s), TOKENIZER)
    _, rows = written(psms, [file], tmp_path)
    (row,) = rows
    assert row["sequence"] == "QMCK"
    assert row["calc_mass_to_charge"] == pytest.approx(theoretical, abs=1e-5)
    assert row["exp_mass_to_charge"] == pytest.approx(observed, abs=1e-5)
    # error by hand: observed neutral mass less one 13C spacing, against the pyteomics mass
    neutral = (observed - PROTON) * charge
    by_hand = (neutral - C13_DIFF - peptide_mass(peptide)) / peptide_mass(peptide) * 1e6
    assert by_hand == pytest.approx(4.0, abs=1e-6)
    assert float(row["opt_global_precursor_error_ppm"]) == pytest.approx(by_hand, abs=0.01)
    assert int(row["opt_global_isotope"]) == 1
    # Carbamyl (UNIMOD:5) and Ammonia-loss (UNIMOD:385) on the N-terminus, position 0; then
    # Deamidated Q (7), Oxidation M (35), Carbamidomethyl C (4) at residues 1, 2, 3.
    assert row["modifications"] == "0-UNIMOD:5,0-UNIMOD:385,1-UNIMOD:7,2-UNIMOD:35,3-UNIMOD:4"
    assert "CHEMMOD" not in row["modifications"]
    proforma = row["opt_global_cv_MS:1003169_proforma_peptidoform_sequence"]
    assert proforma_mass(proforma) == pytest.approx(peptide_mass(peptide), abs=1e-4)
    assert int(row["opt_global_cv_MS:1003057_scan_number"]) == 10039  # xsd:integer
    assert row["spectra_ref"] == "ms_run[1]:index=3"
    usi = USI.parse(row["opt_global_cv_MS:1003063_universal_spectrum_identifier"])
    assert (usi.dataset, usi.datafile, usi.scan_identifier_type, usi.scan_identifier) == (
        "USI000000", "run_1", "index", "3")
    assert usi.interpretation == f"{proforma}/2"


@pytest.mark.parametrize(("peptide", "charge"), [(("+42.011", "A", "C+57.021", "D", "E", "K"), 1),
                                                 (("L", "N+0.984", "G", "Q", "R"), 3)])  # fmt: skip
def test_calc_mz_against_pyteomics(peptide: tuple[str, ...], charge: int, tmp_path: Path) -> None:
    file = tmp_path / "a.mgf"
    theoretical = precursor_mz(peptide, charge)
    s = spectrum(str(file), theoretical, charge)
    psms = _psms(s, answer(Candidate(peptide, (0.5,) * len(peptide), -1.0, True), 1, s), TOKENIZER)
    _, (row,) = written(psms, [file], tmp_path)
    assert row["calc_mass_to_charge"] == pytest.approx(theoretical, abs=1e-5)
    assert abs(float(row["opt_global_precursor_error_ppm"])) <= 0.01
    assert int(row["opt_global_isotope"]) == 0
    assert row["opt_global_cv_MS:1003057_scan_number"] in (None, "null") or np.isnan(
        row["opt_global_cv_MS:1003057_scan_number"])  # no scan number in the file: null


@pytest.mark.parametrize("name", ["run 1.mgf", "µspectra.mgf", "tab\there.mgf"])
def test_no_usi_for_run_names_a_usi_cannot_carry(name: str, tmp_path: Path) -> None:
    file = tmp_path / name
    peptide = ("P", "E", "P", "K")
    s = spectrum(str(file), precursor_mz(peptide, 2), 2)
    psms = _psms(s, answer(Candidate(peptide, (0.5,) * 4, -1.0, True), 1, s), TOKENIZER)
    handle = io.StringIO()
    write_tsv(handle, psms, VOCAB, [file])
    header, row = (line.split("\t") for line in handle.getvalue().splitlines()[:2])
    assert row[header.index("opt_global_cv_MS:1003063_universal_spectrum_identifier")] == "null"


def test_metadata_lists_unimod_terms_not_chemmod(tmp_path: Path) -> None:
    out, _ = written([], [tmp_path / "a.mgf"], tmp_path)
    mtd = dict(line.rstrip("\n").split("\t")[1:] for line in open(out) if line.startswith("MTD"))
    variable = {v for k, v in mtd.items() if k.startswith("variable_mod[") and k.endswith("]")}
    assert variable == {
        "[UNIMOD, UNIMOD:35, Oxidation, ]", "[UNIMOD, UNIMOD:7, Deamidated, ]",
        "[UNIMOD, UNIMOD:1, Acetyl, ]", "[UNIMOD, UNIMOD:5, Carbamyl, ]",
        "[UNIMOD, UNIMOD:385, Ammonia-loss, ]",
    }  # fmt: skip
    sites = [(mtd[k], mtd[k + "-site"]) for k in mtd if k.startswith("variable_mod[") and k.endswith("]")]
    assert len(sites) == len(set(sites)) == 6  # Deamidated on N and on Q; nothing listed twice
    assert not any("CHEMMOD" in str(v) for v in mtd.values())


def test_every_cell_is_named_once_in_column_order(tmp_path: Path) -> None:
    peptide = ("P", "E", "P", "K")
    s = spectrum(str(tmp_path / "a.mgf"), precursor_mz(peptide, 2), 2)
    (psm,) = _psms(s, answer(Candidate(peptide, (0.5,) * 4, -1.0, True), 1, s), TOKENIZER)
    assert list(psm_row(psm, 1, 1, VOCAB)) == COLUMNS
