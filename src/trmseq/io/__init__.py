"""Spectrum file input and result output.

:func:`read_spectra` picks the reader by file suffix; :func:`expand_paths` turns files and
folders given on the command line into the list of spectrum files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from trmseq.errors import InputError
from trmseq.io.mgf import read_mgf
from trmseq.io.mzml import read_mzml, read_mzxml
from trmseq.spectrum import Spectrum

READERS: dict[str, Callable[[Path], Iterator[Spectrum]]] = {
    ".mgf": read_mgf,
    ".mzml": read_mzml,
    ".mzxml": read_mzxml,
}

__all__ = ["READERS", "expand_paths", "read_spectra"]


def read_spectra(path: str | Path) -> Iterator[Spectrum]:
    """Return an iterator over the spectra of one MGF, mzML or mzXML file.

    Raises
    ------
    InputError
        At once, if the file does not exist or its suffix names no known format.
    """
    path = Path(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise InputError(f"{path}: unknown spectrum file type; expected .mgf, .mzML or .mzXML")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a spectrum file")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    return reader(path)


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Return the spectrum files named, with folders replaced by the spectrum files inside them.

    Raises
    ------
    InputError
        If a path does not exist, or a folder holds no spectrum files.
    """
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.suffix.lower() in READERS and f.is_file())
            if not found:
                raise InputError(f"{p}: folder holds no .mgf, .mzML or .mzXML files")
            files.extend(found)
        elif p.exists():
            files.append(p)
        else:
            raise InputError(f"{p}: no such file or folder")
    return files
