"""Compare trmseq's readers with pyteomics' on any MGF or mzML file."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from pyteomics import mgf, mzml

from trmseq.io import read_spectra
from trmseq.spectrum import Spectrum


def pyteomics_spectra(path: Path) -> list[dict]:
    # mgf.MGF keeps untitled and duplicate-titled spectra (mgf.read would index by TITLE).
    # pyteomics cannot convert the "CHARGE=2.0+" that PRIDE exports write, so it reads a copy
    # with those written "2+"; trmseq reads the original (its charge parsing: test_mgf_io.py).
    text = path.read_text(encoding="utf-8-sig")
    plain = re.sub(r"(?m)^CHARGE=(\d+)\.0+([+-])\s*$", r"CHARGE=\1\2", text)
    with mgf.MGF(io.StringIO(plain), read_charges=False) as reader:
        return list(reader)


def single_charge(params: dict) -> int | None:
    """One charge from the CHARGE text, written out here: "2+", "+2", "3-", "2.0+"; else None."""
    text = str(params.get("charge", "")).strip()
    if not text or " " in text or "," in text:
        return None
    sign = -1 if "-" in text else 1
    value = float(text.strip("+-"))
    return sign * int(value) if value.is_integer() else None


def assert_mgf_matches_pyteomics(path: Path) -> list[Spectrum]:
    ours = list(read_spectra(path))
    theirs = pyteomics_spectra(path)
    assert len(ours) == len(theirs)
    for i, (s, t) in enumerate(zip(ours, theirs, strict=True)):
        p = t["params"]
        np.testing.assert_array_equal(s.mz, t["m/z array"])
        np.testing.assert_array_equal(s.intensity, t["intensity array"].astype(np.float32))
        assert s.mz.dtype == np.float64
        assert s.intensity.dtype == np.float32
        if "pepmass" in p:
            assert s.precursor_mz == p["pepmass"][0]
        else:  # a spectrum without PEPMASS: no precursor, skipped later with that reason
            assert np.isnan(s.precursor_mz)
        assert s.charge == single_charge(p)
        assert s.title == p.get("title")
        assert s.annotation == p.get("seq")
        if "rtinseconds" in p:
            assert s.rt_seconds == pytest.approx(float(p["rtinseconds"]))
        else:
            assert s.rt_seconds is None
        assert s.index == i
        assert s.ref == f"index={i}"
        assert s.file == str(path)
    return ours


def assert_mzml_matches_pyteomics(path: Path) -> list[Spectrum]:
    """MS2 spectra only; nativeID refs verbatim; retention times converted to seconds."""
    ours = list(read_spectra(path))
    with mzml.MzML(str(path)) as reader:
        theirs = [s for s in reader if s["ms level"] == 2]
    assert len(ours) == len(theirs)
    for i, (s, t) in enumerate(zip(ours, theirs, strict=True)):
        np.testing.assert_array_equal(s.mz, t["m/z array"])
        np.testing.assert_array_equal(s.intensity, t["intensity array"].astype(np.float32))
        ion = t["precursorList"]["precursor"][0]["selectedIonList"]["selectedIon"][0]
        assert s.precursor_mz == ion["selected ion m/z"]
        assert s.charge == ion.get("charge state")
        assert s.ref == t["id"]
        assert s.index == i
        time = t["scanList"]["scan"][0]["scan start time"]
        factor = {"minute": 60.0, "second": 1.0}[time.unit_info]
        assert s.rt_seconds == pytest.approx(float(time) * factor)
        assert s.title == t.get("spectrum title")
    return ours
