"""Spectrum file input and result output.

:func:`read_spectra` picks the reader by file suffix (``.mgf``, ``.mzML``, ``.mzXML``, each
also gzip-compressed as ``.gz``); :func:`expand_paths` turns files and folders given on the
command line into the list of spectrum files.
"""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

from trmseq.errors import InputError
from trmseq.io.mgf import read_mgf
from trmseq.io.mzml import read_mzml, read_mzxml
from trmseq.io.text import open_binary
from trmseq.spectrum import Spectrum

READERS: dict[str, Callable[[Path], Iterator[Spectrum]]] = {
    ".mgf": read_mgf,
    ".mzml": read_mzml,
    ".mzxml": read_mzxml,
}

# What marks one MS2 spectrum in each format, for counting without parsing. In mzML the
# ms level cvParam (MS:1000511) writes its value after the accession.
_MS2_MARKERS = {
    ".mgf": re.compile(rb"^[ \t]*BEGIN IONS", re.IGNORECASE | re.MULTILINE),
    ".mzml": re.compile(rb'accession="MS:1000511"[^>]*?value="2"'),
    ".mzxml": re.compile(rb'msLevel="2"'),
}

logger = logging.getLogger(__name__)

# What a run's file name may end in, here or in a search engine's results (for run names).
SPECTRUM_SUFFIXES = (".mzml", ".mgf", ".mzxml", ".raw", ".d", ".wiff", ".mzml.gz", ".mgf.gz", ".mzxml.gz")

__all__ = ["READERS", "SPECTRUM_SUFFIXES", "count_spectra", "expand_paths", "read_spectra", "run_name",
           "spectrum_format"]  # fmt: skip


def _without_gz(path: str | Path) -> Path:
    path = Path(path)
    return path.with_suffix("") if path.suffix.lower() == ".gz" else path


def spectrum_format(path: str | Path) -> str:
    """The format suffix of a spectrum file, lower case, without a trailing ``.gz``: ``.mgf``
    for both ``run.mgf`` and ``run.MGF.gz``."""
    return _without_gz(path).suffix.lower()


def run_name(location: str | Path) -> str:
    """A run's name from a path or URI: no folder, no spectrum-file suffix (``run.mzML`` and
    ``run.mzML.gz`` -> ``run``), as in USIs and in search engines' results."""
    text = str(location).strip()
    if text.lower().startswith("file:"):
        text = unquote(urlparse(text).path)
    name = re.split(r"[\\/]", text.rstrip("\\/"))[-1]
    lower = name.lower()
    for suffix in sorted(SPECTRUM_SUFFIXES, key=len, reverse=True):
        if lower.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def read_spectra(path: str | Path) -> Iterator[Spectrum]:
    """Return an iterator over the spectra of one MGF, mzML or mzXML file.

    Raises
    ------
    InputError
        At once, if the file does not exist or its suffix names no known format.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a spectrum file")
    reader = READERS.get(spectrum_format(path))
    if reader is None:
        raise InputError(f"{path}: unknown spectrum file type; expected .mgf, .mzML or .mzXML (or .gz of one)")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    return reader(path)


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Return the spectrum files named, with folders replaced by the spectrum files inside them.

    Checked before any is read, so that a typo in the last of several files does not surface
    after hours of work on the first. A file named twice (also through its folder) is kept once.

    Raises
    ------
    InputError
        If a path does not exist, a file's suffix names no known format, or a folder holds no
        spectrum files.
    """
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if spectrum_format(f) in READERS and f.is_file())
            for f in [f for f in found if f.suffix.lower() == ".gz" and f.with_suffix("") in found]:
                logger.warning("%s: the same run as %s beside it; read that one only", f, f.with_suffix("").name)
                found.remove(f)  # what `gzip -k` leaves: reading both would double every spectrum
            if not found:
                raise InputError(f"{p}: folder holds no .mgf, .mzML or .mzXML files (or .gz of one)")
            files.extend(found)
        elif not p.exists():
            raise InputError(f"{p}: no such file or folder")
        elif spectrum_format(p) not in READERS:
            raise InputError(f"{p}: unknown spectrum file type; expected .mgf, .mzML or .mzXML (or .gz of one)")
        else:
            files.append(p)
    seen: set[Path] = set()
    unique = []
    for f in files:
        if f.resolve() in seen:
            logger.warning("%s: given more than once; read once", f)
            continue
        seen.add(f.resolve())
        unique.append(f)
    return unique


def count_spectra(path: str | Path, chunk_bytes: int = 1 << 22) -> int:
    """Count the MS2 spectra of a file by scanning its bytes for each format's marker.

    About a second per gigabyte: cheap enough to give a progress bar its total before the
    real reading starts. An estimate, not a check: a malformed file is reported by the reader.
    """
    path = Path(path)
    marker = _MS2_MARKERS.get(spectrum_format(path))
    if marker is None:
        return 0
    n = 0
    rest = b""
    try:
        with open_binary(path) as handle:
            while chunk := handle.read(chunk_bytes):
                lines, _, partial = (rest + chunk).rpartition(b"\n")
                n += len(marker.findall(lines))
                rest = partial
    except (OSError, EOFError, zlib.error):  # the reader reports what is wrong
        return 0
    return n + len(marker.findall(rest))
