"""Compare trmseq's readers with pyteomics' on any MGF or mzML file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pyteomics import mgf, mzml

from trmseq.io import read_spectra
from trmseq.spectrum import Spectrum


def pyteomics_spectra(path: Path) -> list[dict]:
    # mgf.MGF keeps untitled and duplicate-titled spectra (mgf.read would index by TITLE).
    with mgf.MGF(str(path)) as reader:
        return list(reader)


def single_charge(params: dict) -> int | None:
    charges = params.get("charge")
    return int(charges[0]) if charges is not None and len(charges) == 1 else None


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
        assert s.precursor_mz == p["pepmass"][0]
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
