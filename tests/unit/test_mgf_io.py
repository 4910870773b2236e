"""MGF reading and writing, compared with pyteomics.mgf; reader dispatch and path expansion."""

from __future__ import annotations

import gzip
import io
import logging
from pathlib import Path

import numpy as np
import pytest
from pyteomics import mgf

from reader_checks import assert_mgf_matches_pyteomics
from trmseq.errors import InputError
from trmseq.io import count_spectra, expand_paths, read_spectra, run_name
from trmseq.io.mgf import read_mgf, write_mgf
from trmseq.spectrum import Spectrum


def test_casanovo_sample_matches_pyteomics(casanovo_sample: Path) -> None:
    spectra = assert_mgf_matches_pyteomics(casanovo_sample)
    assert len(spectra) == 10
    # Hand-read from the file: the first block.
    first = spectra[0]
    assert (first.title, first.charge, first.scan) == ("0", 2, "F1:2478")
    assert first.precursor_mz == 451.25348
    assert first.rt_seconds == 824.574
    assert first.annotation == "IAHYNKR"
    assert first.n_peaks == 25
    assert first.mz[0] == pytest.approx(63.994834899902344)
    assert first.where().startswith(str(casanovo_sample))


def test_untitled_and_duplicate_titles_are_all_kept(write_text) -> None:
    path = write_text(
        "nt.mgf",
        """
        BEGIN IONS
        PEPMASS=400.2
        CHARGE=2+
        100.0 1.0
        END IONS
        BEGIN IONS
        PEPMASS=401.2
        CHARGE=2+
        101.0 1.0
        END IONS
        BEGIN IONS
        TITLE=dup
        PEPMASS=402.2
        102.0 1.0
        END IONS
        BEGIN IONS
        TITLE=dup
        PEPMASS=403.2 1234.5
        CHARGE=3+
        103.0 1.0
        END IONS
        """,
    )
    spectra = assert_mgf_matches_pyteomics(path)
    assert [s.title for s in spectra] == [None, None, "dup", "dup"]
    assert [s.ref for s in spectra] == ["index=0", "index=1", "index=2", "index=3"]
    assert [s.precursor_mz for s in spectra] == [400.2, 401.2, 402.2, 403.2]
    assert [s.charge for s in spectra] == [2, 2, None, 3]


def test_header_comments_charges_and_line_endings(write_text, tmp_path: Path) -> None:
    text = (
        "# a comment\n"
        "MASS=Monoisotopic\n"
        "CHARGE=3+\n"
        "\n"
        "BEGIN IONS\nTITLE=global charge\nPEPMASS=500.0\n150.0 10.0\n160.0 20.0 1+\nEND IONS\n"
        "; another comment\n"
        "BEGIN IONS\nTITLE=plus first\nPEPMASS=500.0\nCHARGE=+2\n150.0 10.0\nEND IONS\n"
        "BEGIN IONS\nTITLE=bare\nPEPMASS=500.0\nCHARGE=2\n150.0 1e3\nEND IONS\n"
        "BEGIN IONS\nTITLE=negative\nPEPMASS=500.0\nCHARGE=3-\n150.0 10.0\nEND IONS\n"
        "BEGIN IONS\nTITLE=two charges\nPEPMASS=500.0\nCHARGE=2+ and 3+\n150.0 10.0\nEND IONS\n"
        "BEGIN IONS\nTITLE=no peaks\nPEPMASS=500.0\nCHARGE=2+\nEND IONS\n"
        "BEGIN IONS\ntitle=lower case keys\npepmass=500.0\ncharge=2+\nrtinseconds=12.5\n"
        "seq=PEPTIDE\n150.0 10.0\nEND IONS\n"
    )
    lf = tmp_path / "lf.mgf"
    lf.write_text(text, encoding="utf-8")
    crlf = tmp_path / "crlf.mgf"
    crlf.write_bytes(text.replace("\n", "\r\n").encode())
    for path in (lf, crlf):
        spectra = assert_mgf_matches_pyteomics(path)
        assert [s.charge for s in spectra] == [3, 2, 2, -3, None, 2, 2]
        assert spectra[0].n_peaks == 2 and spectra[2].intensity[0] == 1000.0
        assert spectra[5].n_peaks == 0
        assert spectra[6].rt_seconds == 12.5 and spectra[6].annotation == "PEPTIDE"


def test_missing_pepmass_gives_nan(write_text) -> None:
    path = write_text("np.mgf", "BEGIN IONS\nCHARGE=2+\n100 1\nEND IONS\n")
    (spectrum,) = read_mgf(path)
    assert np.isnan(spectrum.precursor_mz)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("BEGIN IONS\nPEPMASS=400\nCHARGE=2+\n100 1\n", "no END IONS"),
        ("BEGIN IONS\nPEPMASS=400\n100 abc\nEND IONS\n", "100 abc"),
        ("BEGIN IONS\nPEPMASS=400\n100\nEND IONS\n", "'100'"),
        ("BEGIN IONS\nPEPMASS=400\n100 1\nBEGIN IONS\n", "END IONS"),
        ("BEGIN IONS\nPEPMASS=400\nhello there\nEND IONS\n", "hello there"),
        ("hello\nworld\n", "hello"),
        ("", "no spectra"),
        ("MASS=Monoisotopic\n", "no spectra"),
    ],
)
def test_malformed_mgf_names_the_file(tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "bad.mgf"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as info:
        list(read_spectra(path))
    assert str(path) in str(info.value)
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_malformed_line_is_located(tmp_path: Path) -> None:
    path = tmp_path / "bad.mgf"
    path.write_text(
        "BEGIN IONS\nPEPMASS=400\n100 1\nEND IONS\nBEGIN IONS\nPEPMASS=400\n100 x\nEND IONS\n"
    )
    with pytest.raises(InputError, match=r"index=1"):
        list(read_spectra(path))


def test_binary_garbage_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "garbage.mgf"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(InputError, match="garbage.mgf"):
        list(read_spectra(path))


def test_read_spectra_dispatch(tmp_path: Path, casanovo_sample: Path) -> None:
    with pytest.raises(InputError, match="missing.mgf"):
        read_spectra(tmp_path / "missing.mgf")  # at once, before iterating
    (tmp_path / "x.txt").write_text("BEGIN IONS\nEND IONS\n")
    with pytest.raises(InputError, match=r"x\.txt.*unknown"):
        read_spectra(tmp_path / "x.txt")
    upper = tmp_path / "UPPER.MGF"
    upper.write_bytes(casanovo_sample.read_bytes())
    assert len(list(read_spectra(upper))) == 10
    (tmp_path / "dir.mgf").mkdir()
    with pytest.raises(InputError, match=r"dir\.mgf"):
        read_spectra(tmp_path / "dir.mgf")


def test_expand_paths(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    for name in ("b.mgf", "a.mzML", "c.mzXML", "notes.txt", "d.mgf.gz", "e.txt.gz", "b.mgf.gz"):
        (tmp_path / name).write_text("x")
    (tmp_path / "sub.mgf").mkdir()
    with caplog.at_level(logging.WARNING):
        found = expand_paths([tmp_path])
    assert found == [tmp_path / n for n in ("a.mzML", "b.mgf", "c.mzXML", "d.mgf.gz")]
    assert "b.mgf.gz: the same run as b.mgf beside it" in caplog.text  # not read twice
    with pytest.raises(InputError, match=r"e\.txt\.gz.*unknown"):
        expand_paths([tmp_path / "e.txt.gz"])
    assert expand_paths([tmp_path / "b.mgf"]) == [tmp_path / "b.mgf"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="empty"):
        expand_paths([empty])
    with pytest.raises(InputError, match="nothere"):
        expand_paths([tmp_path / "nothere"])


def test_write_mgf_reads_back_with_pyteomics() -> None:
    spectra = [
        Spectrum(
            mz=np.array([100.5, 200.25, 300.125]),
            intensity=np.array([1.0, 2.0, 3.0], dtype=np.float32),
            precursor_mz=400.687258, charge=2, file="x", index=0, ref="index=0",
            scan="7", title="first", rt_seconds=12.5, annotation="PEPTM+15.995IDE",
        ),
        Spectrum(
            mz=np.array([150.0]), intensity=np.array([5.0], dtype=np.float32),
            precursor_mz=500.0, charge=None, file="x", index=1, ref="index=1",
        ),
    ]  # fmt: skip
    out = io.StringIO()
    assert write_mgf(spectra, out) == 2
    out.seek(0)
    back = list(mgf.MGF(out))
    assert len(back) == 2
    p = back[0]["params"]
    assert p["title"] == "first"
    assert p["pepmass"][0] == pytest.approx(400.687258, abs=1e-6)
    assert list(p["charge"]) == [2]
    assert p["scans"] == "7"
    assert float(p["rtinseconds"]) == 12.5
    assert p["seq"] == "PEPTM+15.995IDE"
    np.testing.assert_allclose(back[0]["m/z array"], [100.5, 200.25, 300.125], atol=1e-5)
    np.testing.assert_allclose(back[0]["intensity array"], [1.0, 2.0, 3.0])
    assert "charge" not in back[1]["params"] and "title" not in back[1]["params"]


@pytest.mark.parametrize(("text", "charge"), [("2.0+", 2), ("3.00+", 3), ("2.5+", None), ("12+", 12),
                                              ("2+,3+", None)])  # fmt: skip
def test_charge_written_as_a_float_as_pride_exports_do(write_text, text: str, charge: int | None) -> None:
    path = write_text("p.mgf", f"BEGIN IONS\nPEPMASS=500.0\nCHARGE={text}\n150.0 10.0\nEND IONS\n")
    assert [s.charge for s in read_spectra(path)] == [charge]


def test_gzip_compressed_mgf_reads_as_the_plain_file(tmp_path: Path, casanovo_sample: Path) -> None:
    packed = tmp_path / "run.MGF.gz"
    packed.write_bytes(gzip.compress(casanovo_sample.read_bytes()))
    plain, unpacked = list(read_spectra(casanovo_sample)), list(read_spectra(packed))
    assert len(unpacked) == len(plain) == 10
    for a, b in zip(plain, unpacked, strict=True):
        assert np.array_equal(a.mz, b.mz) and np.array_equal(a.intensity, b.intensity)
        assert (a.precursor_mz, a.charge, a.title, a.annotation) == (b.precursor_mz, b.charge, b.title, b.annotation)
    assert count_spectra(packed) == 10
    assert run_name(packed) == "run" and run_name(tmp_path / "x.mzXML.gz") == "x"


def test_truncated_gzip_mgf_is_an_input_error(tmp_path: Path, casanovo_sample: Path) -> None:
    data = gzip.compress(casanovo_sample.read_bytes())
    path = tmp_path / "cut.mgf.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"cut\.mgf\.gz: truncated or corrupt gzip file"):
        list(read_spectra(path))
