"""Readers and usable_spectra on the real files in ../shared/data (skipped where absent)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pyteomics import mgf

import pyteomics_ref as ref
from reader_checks import assert_mgf_matches_pyteomics, assert_mzml_matches_pyteomics
from trmseq.config import DataConfig, VocabConfig
from trmseq.io import read_spectra
from trmseq.reading import usable_spectra
from trmseq.spectrum import SkipCounter
from trmseq.vocab import DEFAULT_VARIABLE_MODS, PHOSPHO_MODS, Vocabulary

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
RAW = sorted(p.relative_to(SHARED).as_posix() for p in SHARED.glob("raw/*/*") if p.suffix in (
    ".mgf", ".mzML"
)) if SHARED.is_dir() else []  # fmt: skip
REAL_FILES = [*RAW, "real_dev.mgf"] if RAW else ["missing"]


def shared(name: str) -> Path:
    path = SHARED / name
    if not path.is_file():
        pytest.skip(f"real data not found: {path}")
    return path


def test_expected_files_are_present() -> None:
    if not SHARED.is_dir():
        pytest.skip(f"real data not found at {SHARED}")
    assert "raw/ms2ml/sample_tiny_hela.mzML" in RAW
    assert "raw/casanovo/sample_preprocessed_spectra.mgf" in RAW
    assert len(RAW) >= 6


@pytest.mark.parametrize("name", REAL_FILES)
def test_real_file_matches_pyteomics(name: str) -> None:
    path = shared(name)
    if path.suffix == ".mgf":
        spectra = assert_mgf_matches_pyteomics(path)
    else:
        spectra = assert_mzml_matches_pyteomics(path)
    assert spectra


# Counts from ../shared/data/README.md.
@pytest.mark.parametrize(
    ("name", "count"),
    [
        ("raw/casanovo/sample_preprocessed_spectra.mgf", 128),
        ("raw/winnow/spectra.mgf", 100),
        ("raw/pepnet/example.mgf", 1001),
        ("raw/elfragmentador/01625b_GA1-TUM_first_pool_1_01_01-2xIT_2xHCD-1h-R1.mzML", 94),
        ("raw/ms2ml/sample_tiny_hela.mzML", 23),
        ("raw/sage/LQSRPAAPPAPGPGQLTLR.mzML", 1),
        ("real_dev.mgf", 2719),
    ],
)
def test_documented_counts(name: str, count: int) -> None:
    assert sum(1 for _ in read_spectra(shared(name))) == count


def test_mzml_times_are_minutes_converted_to_seconds() -> None:
    first = next(iter(read_spectra(shared("raw/ms2ml/sample_tiny_hela.mzML"))))
    # <cvParam name="scan start time" value="10.00064" unitName="minute"/>, read off the file.
    assert first.rt_seconds == pytest.approx(600.0384)
    assert first.ref == "controllerType=0 controllerNumber=1 scan=10039"
    assert first.scan == "10039"


def test_sage_single_spectrum() -> None:
    (spectrum,) = read_spectra(shared("raw/sage/LQSRPAAPPAPGPGQLTLR.mzML"))
    assert spectrum.charge == 3
    mass = ref.peptide_mass(tuple("LQSRPAAPPAPGPGQLTLR"))
    observed = (spectrum.precursor_mz - ref.PROTON) * 3
    assert min(abs(observed - mass - k * ref.C13_DIFF) for k in (0, 1)) < 0.02


@pytest.mark.parametrize(
    ("name", "off_precursor"),
    [
        ("raw/casanovo/sample_preprocessed_spectra.mgf", 0),  # ProForma names
        ("raw/winnow/spectra.mgf", 2),  # Unimod accessions; README: 2 labels fail the check
        ("raw/pepnet/example.mgf", 0),  # plain residues, C is carbamidomethyl C
    ],
)
def test_annotated_raw_files(name: str, off_precursor: int) -> None:
    path = shared(name)
    counter = SkipCounter()
    used = list(usable_spectra([path], DataConfig(), counter, Vocabulary()))
    with mgf.MGF(str(path)) as reader:
        assert counter.read == sum(1 for _ in reader)
    assert len(used) + counter.n_skipped == counter.read
    assert not [r for r in counter.counts if r.startswith("annotation:")]
    off = sum(n for r, n in counter.counts.items() if "off the precursor" in r)
    assert off == off_precursor


UNSUPPORTED = ("-18.011", "+79.966", "+236.157")


def real_dev_params() -> list[dict]:
    with mgf.MGF(str(shared("real_dev.mgf"))) as reader:
        return [s["params"] for s in reader]


def test_real_dev_counts_reconcile() -> None:
    params = real_dev_params()
    counter = SkipCounter()
    used = list(usable_spectra([shared("real_dev.mgf")], DataConfig(), counter, Vocabulary()))
    assert counter.read == len(params) == 2719
    assert len(used) == counter.n_used
    assert counter.n_used + counter.n_skipped == counter.read
    # Annotations outside the vocabulary are skipped with a reason naming the modification.
    unsupported = [p["seq"] for p in params if any(d in p["seq"] for d in UNSUPPORTED)]
    vocab_reasons = {r: n for r, n in counter.counts.items() if r.startswith("annotation:")}
    assert sum(vocab_reasons.values()) == len(unsupported) > 0
    for delta in UNSUPPORTED:
        assert any(delta in r for r in vocab_reasons), delta
    # Without a vocabulary only the peaks and precursors decide.
    counter = SkipCounter()
    used = list(usable_spectra([shared("real_dev.mgf")], DataConfig(), counter))
    assert counter.n_used + counter.n_skipped == counter.read == len(used) + counter.n_skipped
    too_high = sum(1 for p in params if int(p["charge"][0]) > 4)
    assert counter.counts["charge above 4"] == too_high > 0


def test_real_dev_used_annotations_match_pyteomics_masses() -> None:
    params = real_dev_params()
    vocab = Vocabulary()
    counter = SkipCounter()
    for spectrum, peptide in usable_spectra(
        [shared("real_dev.mgf")], DataConfig(), counter, vocab
    ):
        proforma = params[spectrum.index]["proforma"]
        assert vocab.peptide_mass(peptide) == pytest.approx(ref.proforma_mass(proforma), abs=1e-4)


def test_phospho_spectra_used_when_configured() -> None:
    vocab = VocabConfig(variable_mods=DEFAULT_VARIABLE_MODS + PHOSPHO_MODS).build()
    counter = SkipCounter()
    used = list(usable_spectra([shared("real_dev.mgf")], DataConfig(), counter, vocab))
    assert not [r for r in counter.counts if "79.966" in r]
    phospho = [p for _, p in used if any("+79.966" in t for t in p)]
    assert len(phospho) == 2
    assert counter.n_used + counter.n_skipped == counter.read == 2719


def test_real_dev_annotation_notation() -> None:
    # Every SEQ= is mass-offset notation as the README says.
    for p in real_dev_params():
        assert re.fullmatch(r"(?:[+-]\d+\.\d+)*(?:[A-Z](?:[+-]\d+\.\d+)*)+", p["seq"]), p["seq"]
