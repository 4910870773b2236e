"""count_spectra: the byte scan that gives progress bars their total agrees with the readers."""

from __future__ import annotations

from pathlib import Path

import pytest

from trmseq.io import count_spectra, read_spectra

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
REAL = sorted(p for p in SHARED.glob("raw/*/*") if p.suffix.lower() in (".mgf", ".mzml")) if SHARED.is_dir() else []


def test_mgf_markers_in_any_case_and_indent_across_chunk_boundaries(write_text) -> None:
    block = "BEGIN IONS\nPEPMASS=500\nCHARGE=2+\n100 1\nEND IONS\n"
    text = "COM=header\n" + block * 5 + "  begin ions\nPEPMASS=400\nCHARGE=2+\n100 1\nend ions\n"
    path = write_text("a.mgf", text)
    assert len(list(read_spectra(path))) == 6
    for chunk in (7, 13, 64, 1 << 20):  # a marker split between reads is still counted once
        assert count_spectra(path, chunk_bytes=chunk) == 6


def test_mzml_and_mzxml_count_ms2_only(tiny_mzml: Path, tiny_mzxml: Path) -> None:
    for path in (tiny_mzml, tiny_mzxml):
        assert count_spectra(path) == len(list(read_spectra(path))) == 3


def test_unknown_or_missing_files_count_zero(tmp_path: Path) -> None:
    assert count_spectra(tmp_path / "missing.mgf") == 0
    (tmp_path / "x.txt").write_text("BEGIN IONS\n")
    assert count_spectra(tmp_path / "x.txt") == 0


@pytest.mark.skipif(not REAL, reason="../shared/data is not present")
@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_real_files(path: Path) -> None:
    assert count_spectra(path) == len(list(read_spectra(path)))
