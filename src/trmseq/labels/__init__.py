"""Labels from a lab's own search-engine results: pepXML, mzIdentML, mzTab or a plain TSV.

:func:`read_labels` reads identification files into a :class:`Labels` table;
:func:`trmseq.reading.usable_spectra` joins it to the spectra as they are read (by nativeID,
scan number, MGF index or title, per run where the format names one) and counts what becomes of
every identification.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from trmseq.errors import InputError
from trmseq.labels.identification import Identification, LabelFile
from trmseq.labels.table import Labels
from trmseq.labels.tables import read_mztab, read_tsv
from trmseq.labels.xml import read_mzid, read_pepxml

logger = logging.getLogger(__name__)

__all__ = ["Identification", "LabelFile", "Labels", "read_label_file", "read_labels"]

READERS: dict[str, Callable[[Path], LabelFile]] = {
    ".pep.xml": read_pepxml,
    ".pepxml": read_pepxml,
    ".mzid": read_mzid,
    ".mztab": read_mztab,
    ".tsv": read_tsv,
}


def read_label_file(path: str | Path) -> LabelFile:
    """Read one identification file, picking the reader by its suffix.

    Raises
    ------
    InputError
        If the file is missing, of an unknown type, or malformed (naming the record).
    """
    path = Path(path)
    name = path.name.lower()
    reader = next((r for suffix, r in READERS.items() if name.endswith(suffix)), None)
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a labels file")
    if reader is None and name.endswith(".gz"):
        raise InputError(f"{path}: gzip-compressed; decompress it first (gunzip)")
    if reader is None:
        raise InputError(f"{path}: unknown labels file type; expected .pep.xml (.pepXML), .mzid, "
                         ".mzTab or .tsv")  # fmt: skip
    if not path.is_file():
        raise InputError(f"{path}: no such labels file")
    return reader(path)


def read_labels(paths: Iterable[str | Path], max_q: float = 0.01, max_expect: float = 0.01) -> Labels:
    """Read identification files into one label table (see :class:`Labels`); a file named twice
    is read once, with a warning, as spectrum files are."""
    unique: dict[Path, Path] = {}
    for p in map(Path, paths):
        if p.resolve() in unique:
            logger.warning("%s: given more than once; read once", p)
        unique.setdefault(p.resolve(), p)
    return Labels([read_label_file(p) for p in unique.values()], max_q=max_q, max_expect=max_expect)
