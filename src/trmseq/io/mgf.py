"""Read and write MGF (Mascot Generic Format) spectrum files.

Our own streaming reader rather than pyteomics: it keeps every spectrum (pyteomics' indexed
reader drops untitled and duplicate-titled ones, see FORMATS.md), and a malformed line is
reported with its file, line number and spectrum index. The tests compare it with
``pyteomics.mgf`` on real files.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

import numpy as np

from trmseq.errors import InputError
from trmseq.io.text import open_text
from trmseq.spectrum import Spectrum

_COMMENT = ("#", ";", "!", "/")
_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def read_mgf(path: str | Path) -> Iterator[Spectrum]:
    """Yield the spectra of an MGF file in order, one at a time.

    Raises
    ------
    InputError
        If the file cannot be opened, is not text, has a malformed spectrum, or is a truncated
        gzip file.
    """
    path = Path(path)
    with open_text(path, "an MGF file") as handle:
        try:
            yield from _parse(handle, str(path))
        except (EOFError, gzip.BadGzipFile, zlib.error) as e:
            raise InputError(f"{path}: truncated or corrupt gzip file ({e})") from None


def _parse(lines: TextIO, file: str) -> Iterator[Spectrum]:
    header: dict[str, str] = {}
    params: dict[str, str] | None = None
    peaks: list[str] = []
    index = 0
    begin_line = 0
    for n, raw in enumerate(lines, start=1):
        if "\x00" in raw:
            raise InputError(f"{file}, line {n}: not a text file (a NUL byte); expected MGF")
        line = raw.strip()
        if params is None:
            if not line or line.startswith(_COMMENT):
                continue
            if line.upper() == "BEGIN IONS":
                params, peaks, begin_line = dict(header), [], n
            elif "=" in line:
                key, value = line.split("=", 1)
                header[key.strip().upper()] = value.strip()
            else:
                raise InputError(f"{file}, line {n}: expected BEGIN IONS, found {line[:40]!r}")
            continue
        if not line:
            continue
        upper = line.upper()
        if upper == "END IONS":
            yield _spectrum(params, peaks, file, index, begin_line)
            index += 1
            params = None
        elif upper == "BEGIN IONS":
            raise InputError(
                f"{file}, line {n}: BEGIN IONS inside spectrum index={index} "
                f"(opened on line {begin_line}); is an END IONS missing?"
            )
        elif line[0].isdigit() or line[0] in "+-." or _is_float(line.split()[0]):
            peaks.append(line)  # "nan 5" is a (bad) peak, dropped by preprocessing
        elif "=" in line:
            key, value = line.split("=", 1)
            params[key.strip().upper()] = value.strip()
        else:
            raise InputError(
                f"{file}, line {n}, spectrum index={index}: cannot read {line[:40]!r}"
            )
    if params is not None:
        raise InputError(
            f"{file}: spectrum index={index} (line {begin_line}) has no END IONS; "
            "the file looks truncated"
        )
    if index == 0:
        raise InputError(f"{file}: no spectra (no BEGIN IONS block); is it an MGF file?")


def _spectrum(params: dict[str, str], peaks: list[str], file: str, index: int, line: int) -> Spectrum:
    try:
        table = [p.split()[:2] for p in peaks]
        values = np.array(table, dtype=np.float64).reshape(-1, 2)
    except ValueError:
        bad = next(p for p in peaks if len(p.split()) < 2 or not _all_floats(p.split()[:2]))
        raise InputError(f"{file}, line {_line_of(file, line, bad)}, spectrum index={index}: "
                         f"cannot read peak {bad[:40]!r}") from None
    pepmass = _FLOAT.match(params.get("PEPMASS", ""))
    return Spectrum(
        mz=values[:, 0],
        intensity=values[:, 1].astype(np.float32),
        precursor_mz=float(pepmass.group()) if pepmass else float("nan"),
        charge=_charge(params.get("CHARGE")),
        file=file,
        index=index,
        ref=f"index={index}",
        scan=params.get("SCANS") or params.get("SCAN") or None,
        title=params.get("TITLE") or None,
        rt_seconds=_first_float(params.get("RTINSECONDS")),
        annotation=params.get("SEQ") or None,
    )


def _line_of(file: str, start: int, text: str) -> int:
    """The number of the first line from ``start`` on that reads ``text``: for an error message
    only, so the parser need not keep a line number for every peak."""
    with open_text(Path(file), "an MGF file") as handle:
        for n, raw in enumerate(handle, start=1):
            if n >= start and raw.strip() == text:
                return n
    return start


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _all_floats(parts: list[str]) -> bool:
    try:
        [float(p) for p in parts]
    except ValueError:
        return False
    return True


def _first_float(text: str | None) -> float | None:
    match = _FLOAT.match(text or "")
    return float(match.group()) if match else None


def _charge(text: str | None) -> int | None:
    """Read ``2+``, ``+2``, ``2``, ``3-`` or ``2.0+`` (PRIDE exports); none or several charges
    (``2+ and 3+``) or a fractional one (``2.5+``) give None."""
    found = re.findall(r"([+-]?)\s*(\d+)(?:\.0+)?(?![.\d])\s*([+-]?)", text or "")
    if re.search(r"\d\.\d*[1-9]", text or ""):
        return None
    if len(found) != 1:
        return None
    before, value, after = found[0]
    return -int(value) if "-" in (before, after) else int(value)


def write_mgf(spectra: Iterable[Spectrum], handle: TextIO) -> int:
    """Write spectra as MGF blocks; the annotation becomes ``SEQ=``. Returns the count."""
    n = 0
    for s in spectra:
        lines = ["BEGIN IONS"]
        if s.title:
            lines.append(f"TITLE={s.title}")
        lines.append(f"PEPMASS={s.precursor_mz:.6f}")
        if s.charge is not None:
            lines.append(f"CHARGE={s.charge}+")
        if s.scan:
            lines.append(f"SCANS={s.scan}")
        if s.rt_seconds is not None:
            lines.append(f"RTINSECONDS={s.rt_seconds:.3f}")
        if s.annotation:
            lines.append(f"SEQ={s.annotation}")
        lines.extend(f"{m:.5f} {i:.4g}" for m, i in zip(s.mz, s.intensity, strict=True))
        lines.append("END IONS\n")
        handle.write("\n".join(lines) + "\n")
        n += 1
    return n
