"""Read MS2 spectra from mzML and mzXML files (through pyteomics, streamed).

Retention times are converted to seconds whatever unit the file uses. mzML spectra keep their
nativeID verbatim as the reference; mzXML spectra are referenced as ``scan=N``.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from lxml import etree
from pyteomics import mzml, mzxml
from pyteomics.auxiliary import PyteomicsError

from trmseq.errors import InputError
from trmseq.io.text import open_binary
from trmseq.spectrum import Spectrum

_SCAN = re.compile(r"\bscan=(\d+)")


def read_mzml(path: str | Path) -> Iterator[Spectrum]:
    """Yield the MS2 spectra of an mzML file in order.

    Raises
    ------
    InputError
        If the file is missing, is not mzML, or is truncated or malformed.
    """
    path = Path(path)
    ms2 = 0
    for raw in _records(path, mzml.MzML, "mzML"):
        if raw.get("ms level") != 2:
            continue
        native_id = raw.get("id") or f"index={raw.get('index')}"
        scan = _SCAN.search(native_id)
        ion = _first(raw, "precursorList", "precursor", "selectedIonList", "selectedIon")
        time = _first(raw, "scanList", "scan").get("scan start time")
        yield Spectrum(
            mz=np.asarray(raw.get("m/z array", ()), dtype=np.float64),
            intensity=np.asarray(raw.get("intensity array", ()), dtype=np.float32),
            precursor_mz=float(ion.get("selected ion m/z", float("nan"))),
            charge=_int_or_none(ion.get("charge state")),
            file=str(path),
            index=ms2,
            ref=native_id,
            scan=scan.group(1) if scan else None,
            title=raw.get("spectrum title"),
            rt_seconds=_seconds(time),
        )
        ms2 += 1
    if ms2 == 0:
        raise InputError(f"{path}: no MS2 spectra in this mzML file")


def read_mzxml(path: str | Path) -> Iterator[Spectrum]:
    """Yield the MS2 spectra of an mzXML file in order.

    Raises
    ------
    InputError
        If the file is missing, is not mzXML, or is truncated or malformed.
    """
    path = Path(path)
    ms2 = 0
    for raw in _records(path, mzxml.MzXML, "mzXML"):
        if int(raw.get("msLevel", 0)) != 2:
            continue
        precursors = raw.get("precursorMz") or [{}]
        num = str(raw.get("num", raw.get("id", ms2)))
        time = raw.get("retentionTime")  # pyteomics converts mzXML times to minutes
        yield Spectrum(
            mz=np.asarray(raw.get("m/z array", ()), dtype=np.float64),
            intensity=np.asarray(raw.get("intensity array", ()), dtype=np.float32),
            precursor_mz=float(precursors[0].get("precursorMz", float("nan"))),
            charge=_int_or_none(precursors[0].get("precursorCharge")),
            file=str(path),
            index=ms2,
            ref=f"scan={num}",
            scan=num,
            rt_seconds=float(time) * 60.0 if time is not None else None,
        )
        ms2 += 1
    if ms2 == 0:
        raise InputError(f"{path}: no MS2 spectra in this mzXML file")


def _records(path: Path, reader: Any, kind: str) -> Iterator[dict]:
    """Iterate a pyteomics XML reader, turning its errors into one-line InputErrors."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    count = 0
    try:
        with open_binary(path) as source, reader(source, use_index=False, decode_binary=True) as records:
            for count, raw in enumerate(records, start=1):  # noqa: B007
                yield raw
    except (etree.XMLSyntaxError, PyteomicsError, ValueError, KeyError, OSError, EOFError, zlib.error) as e:
        detail = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
        raise InputError(
            f"{path}: malformed or truncated {kind} after {count} spectra ({detail})"
        ) from None


def _first(record: dict, *keys: str) -> dict:
    """Follow nested pyteomics containers, taking the first element of each list."""
    node: Any = record
    for key in keys:
        node = node.get(key, {}) if isinstance(node, dict) else {}
        if isinstance(node, list):
            node = node[0] if node else {}
    return node if isinstance(node, dict) else {}


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _seconds(time: Any) -> float | None:
    if time is None:
        return None
    unit = str(getattr(time, "unit_info", "") or "").lower()
    return float(time) * 60.0 if unit.startswith("min") else float(time)
