"""Opening the files users bring (MGF, label tables, mzML) as the tools that wrote them wrote them.

Bytes that are not UTF-8 are read as Windows-1252, since titles and tables saved by Windows
tools (Excel, older converters) often are ("café"): no reason to refuse a spectrum or a label.
Gzip-compressed files (``.mgf.gz``, as repositories often serve them) are read through
gzip, recognised by their first bytes rather than their name; UTF-16 files (what PowerShell's
``>`` writes) are refused with a message that says what they are.
"""

from __future__ import annotations

import codecs
import gzip
import io
import zlib
from pathlib import Path
from typing import BinaryIO, TextIO

from trmseq.errors import InputError


def _cp1252(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return bytes(bad).decode("cp1252", errors="replace"), error.end


CP1252_FALLBACK = "trmseq-cp1252-fallback"
GZIP_MAGIC = b"\x1f\x8b"
codecs.register_error(CP1252_FALLBACK, _cp1252)


def open_text(path: Path, kind: str) -> TextIO:
    """Open ``path`` for reading as text (UTF-8, with or without a BOM, else Windows-1252),
    decompressing it if it is gzip-compressed.

    Raises
    ------
    InputError
        If the file cannot be opened, is a folder, or is UTF-16.
    """
    try:
        raw = open_binary(path)
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not {kind}") from None
    except OSError as e:
        raise InputError(f"{path}: cannot open ({e.strerror})") from None
    try:
        start = raw.peek(2)[:2]
    except (OSError, EOFError, zlib.error) as e:  # a gzip header that is not one
        raw.close()
        raise InputError(f"{path}: cannot read ({getattr(e, 'strerror', None) or e})") from None
    if start in (b"\xff\xfe", b"\xfe\xff"):
        raw.close()
        raise InputError(f"{path}: UTF-16 text (as PowerShell writes); save it as UTF-8 or ASCII")
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors=CP1252_FALLBACK)


def open_binary(path: Path) -> BinaryIO:
    """Open ``path`` for reading as bytes, decompressing it if it is gzip-compressed."""
    handle = open(path, "rb")  # noqa: SIM115
    if handle.peek(2)[:2] == GZIP_MAGIC:
        handle.close()
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return handle
