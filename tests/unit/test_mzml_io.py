"""mzML (psims fixture) and mzXML (hand-written fixture) reading, compared with pyteomics."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

import pyteomics_ref as ref
from reader_checks import assert_mzml_matches_pyteomics
from spectrum_files import MZML_MS2, MZXML_SCANS
from trmseq.errors import InputError
from trmseq.io import read_spectra


def test_mzml_reads_ms2_only_with_native_ids(tiny_mzml: Path) -> None:
    spectra = list(read_spectra(tiny_mzml))
    assert len(spectra) == len(MZML_MS2)
    assert [s.ref for s in spectra] == [
        f"controllerType=0 controllerNumber=1 scan={n}" for n in (2, 3, 4)
    ]
    assert [s.scan for s in spectra] == ["2", "3", "4"]
    assert [s.index for s in spectra] == [0, 1, 2]
    assert [s.charge for s in spectra] == [2, 3, None]
    assert [s.title for s in spectra] == ["PEPTIDE.2", "LESLIEK.3", "SAMPLER.4"]
    # 62 s, 1.5 min, 64 s
    assert [s.rt_seconds for s in spectra] == pytest.approx([62.0, 90.0, 64.0])
    for s, (peptide, z, _, _) in zip(spectra, MZML_MS2, strict=True):
        assert s.precursor_mz == pytest.approx(ref.precursor_mz(peptide, z or 2), abs=1e-6)
        expected = sorted(ref.fragment_ladder(peptide, "b", 1))
        np.testing.assert_allclose(s.mz, expected, atol=1e-6)
        np.testing.assert_array_equal(s.intensity, 100.0 * np.arange(1, len(peptide)))
        assert s.file == str(tiny_mzml)


def test_mzml_matches_pyteomics(tiny_mzml: Path) -> None:
    assert len(assert_mzml_matches_pyteomics(tiny_mzml)) == 3


def test_mzml_fixture_is_schema_valid(tiny_mzml: Path) -> None:
    from psims.validation.validator import validate

    ok, _ = validate(str(tiny_mzml))
    assert ok


def test_mzml_with_only_ms1_is_an_error(tmp_path: Path, tiny_mzml: Path) -> None:
    text = tiny_mzml.read_text()
    path = tmp_path / "ms1.mzML"
    path.write_text(text.replace('name="MSn spectrum"', 'name="MS1 spectrum"').replace(
        'accession="MS:1000511" name="ms level" value="2"',
        'accession="MS:1000511" name="ms level" value="1"',
    ))  # fmt: skip
    assert 'name="ms level" value="2"' not in path.read_text()
    with pytest.raises(InputError, match=r"ms1\.mzML.*no MS2"):
        list(read_spectra(path))


@pytest.mark.parametrize("suffix", [".mzML", ".mzXML"])
def test_truncated_xml_is_an_input_error(
    tmp_path: Path, tiny_mzml: Path, tiny_mzxml: Path, suffix: str
) -> None:
    source = tiny_mzml if suffix == ".mzML" else tiny_mzxml
    data = source.read_bytes()
    path = tmp_path / f"truncated{suffix}"
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(InputError) as info:
        list(read_spectra(path))
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("suffix", [".mzML", ".mzXML"])
@pytest.mark.parametrize("content", [b"just some text\n", bytes(range(256)), b""])
def test_not_xml_is_an_input_error(tmp_path: Path, suffix: str, content: bytes) -> None:
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(content)
    with pytest.raises(InputError, match=f"bad{suffix}"):
        list(read_spectra(path))


def test_mzxml_ms2_only_scan_refs_and_seconds(tiny_mzxml: Path) -> None:
    spectra = list(read_spectra(tiny_mzxml))
    ms2 = [num for num, scan in MZXML_SCANS.items() if scan[0] == 2]
    assert ms2 == [2, 3, 5]
    assert [s.ref for s in spectra] == ["scan=2", "scan=3", "scan=5"]
    assert [s.scan for s in spectra] == ["2", "3", "5"]
    assert [s.index for s in spectra] == [0, 1, 2]
    assert [s.charge for s in spectra] == [2, None, 3]
    # retentionTime="PT62.5S" etc.
    assert [s.rt_seconds for s in spectra] == pytest.approx([62.5, 75.0, 81.0])
    for s, num in zip(spectra, ms2, strict=True):
        _, _, prec, _, _, mz, intensity = MZXML_SCANS[num]
        assert s.precursor_mz == pytest.approx(prec, abs=1e-6)
        # big-endian ("network") and little-endian 32-bit pairs decode alike
        np.testing.assert_array_equal(s.mz, np.asarray(mz, dtype=np.float32))
        np.testing.assert_array_equal(s.intensity, np.asarray(intensity, dtype=np.float32))
    assert spectra[0].precursor_mz == pytest.approx(400.687258, abs=1e-6)


@pytest.mark.parametrize("fixture", ["tiny_mzml", "tiny_mzxml"])
def test_gzip_compressed_mzml_and_mzxml_read_as_the_plain_file(
    request: pytest.FixtureRequest, tmp_path: Path, fixture: str
) -> None:
    plain_path: Path = request.getfixturevalue(fixture)
    packed = tmp_path / (plain_path.name + ".gz")
    packed.write_bytes(gzip.compress(plain_path.read_bytes()))
    plain, unpacked = list(read_spectra(plain_path)), list(read_spectra(packed))
    assert len(unpacked) == len(plain) > 0
    for a, b in zip(plain, unpacked, strict=True):
        assert np.array_equal(a.mz, b.mz) and np.array_equal(a.intensity, b.intensity)
        assert (a.ref, a.precursor_mz, a.charge, a.rt_seconds) == (b.ref, b.precursor_mz, b.charge, b.rt_seconds)


def test_truncated_gzip_mzml_is_an_input_error(tmp_path: Path, tiny_mzml: Path) -> None:
    data = gzip.compress(tiny_mzml.read_bytes())
    path = tmp_path / "cut.mzML.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"cut\.mzML\.gz: malformed or truncated mzML"):
        list(read_spectra(path))
