"""Read identifications from mzTab (PSM section) and plain TSV tables.

Both are tab-separated tables of PSMs, read here directly so that a bad row is reported with its
line number. mzTab peptides are ``sequence`` plus ``modifications`` (``3-UNIMOD:35``, position
0 the N-terminus), or the ProForma column trmseq and Casanovo write; a TSV's ``sequence`` is in
any notation trmseq parses. Only rank-1 rows are read when the table has a rank column.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from trmseq.constants import UNIMOD
from trmseq.errors import InputError
from trmseq.io.text import open_text
from trmseq.labels.identification import (
    Identification,
    Key,
    LabelFile,
    Peptidoform,
    is_expect_name,
    is_q_value_name,
    label_file,
    peptidoform,
    protein_flags,
    ref_keys,
    run_name,
    scan_key,
)

PROFORMA = "opt_global_cv_MS:1003169_proforma_peptidoform_sequence"
_NULL = {"", "null"}  # mzTab's empty cell; NaN and INF are numbers
# A decoy column's values: MaxQuant's Reverse column holds "+" or nothing; anything else is a
# mistake to report, not a target to assume.
_DECOY = {"1", "true", "yes", "decoy", "+"}
_TARGET = {"", "null", "0", "false", "no", "target", "-"}
_RUN_REF = re.compile(r"(ms_run\[\d+\]):(.*)$", re.DOTALL)
_MOD = re.compile(r"(\d+)-(.+)", re.DOTALL)


@dataclass(frozen=True)
class _Columns:
    """Which header names hold what (None: the table lacks it)."""

    ref: str | None
    scan: str | None
    title: str | None
    file: str | None
    sequence: str | None
    proforma: str | None
    modifications: str | None
    charge: str | None
    q: str | None
    expect: str | None
    rank: str | None
    decoy: str | None
    proteins: str | None


def _columns(header: Sequence[str], scores: dict[str, str] | None = None) -> _Columns:
    lower = {h.lower(): h for h in header}

    def pick(*names: str) -> str | None:
        return next((lower[n.lower()] for n in names if n.lower() in lower), None)

    by_kind = {kind: column for column, kind in (scores or {}).items() if column in header}
    return _Columns(
        ref=pick("spectra_ref", "scannr"),  # Sage's scannr holds the nativeID
        scan=pick("scan", "scans", "scan_number", "opt_global_cv_MS:1003057_scan_number"),
        title=pick("title", "spectrum_title", "opt_global_spectrum_title"),
        file=pick("file", "filename"),
        sequence=pick("sequence", "peptide"),
        proforma=pick(PROFORMA),
        modifications=pick("modifications"),
        charge=pick("charge"),
        q=by_kind.get("q-value") or next((h for h in header if is_q_value_name(h)), None),
        expect=by_kind.get("expect"),
        rank=pick("opt_global_rank", "rank"),
        decoy=pick("opt_global_cv_MS:1002217_decoy_peptide", "decoy", "is_decoy", "reverse")
        or (pick("label") if "scannr" in lower else None),  # Sage: label 1 target, -1 decoy
        proteins=pick("accession", "protein", "proteins"),
    )


def read_mztab(path: Path) -> LabelFile:
    """The rank-1 PSMs of an mzTab 1.0 file.

    Runs come from ``ms_run[k]-location``; a ``psm_search_engine_score[k]`` described as a
    q-value (or an expectation value) gives the threshold's score, as does an ``opt_`` column
    named like a q-value (``opt_global_q_value``). Rows repeated for several proteins count once.

    Raises
    ------
    InputError
        Naming the line: no PSM section, a row whose cells do not match the header, an
        undefined ms_run, or a number that is not one.
    """
    metadata: dict[str, str] = {}
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    for n, line in _lines(path):
        cells = line.split("\t")
        tag = cells[0].strip()
        if tag == "MTD" and len(cells) >= 3:
            metadata[cells[1].strip()] = cells[2].strip()
        elif tag == "PSH":
            header = [c.strip() for c in cells[1:]]
        elif tag == "PSM":
            if header is None:
                raise InputError(f"{path}, line {n}: PSM line before the PSH header")
            rows.append((n, cells[1:]))
    if header is None:
        raise InputError(f"{path}: no PSM section (no PSH line); is it an mzTab identification file?")
    # A location of null (the spec's "unknown") names no run: its PSMs join any input file.
    runs = {m[1]: None if v.lower() in _NULL else run_name(v) for k, v in metadata.items()
            if (m := re.fullmatch(r"(ms_run\[\d+\])-location", k))}  # fmt: skip
    scores = {}
    for key, value in metadata.items():
        if m := re.fullmatch(r"psm_search_engine_score\[(\d+)\]", key):
            kind = "q-value" if is_q_value_name(value) else "expect" if is_expect_name(value) else None
            if kind:
                scores[f"search_engine_score[{m[1]}]"] = kind
    columns = _columns(header, scores)
    # A PSM mapped to several proteins repeats on one row per protein: it is one identification,
    # a decoy only if every protein is one, whatever the order of its rows.
    psms: dict[object, tuple[int, dict[str, str], list[str], list[bool]]] = {}
    for n, cells in rows:
        where = f"{path}, line {n}"
        row = _row(cells, header, where)
        psm_id = row.get("PSM_ID", "")
        key: object = (psm_id, row.get("spectra_ref", "")) if psm_id.lower() not in _NULL else n
        proteins, flagged = [_cell(row, columns.proteins) or ""], [_decoy_flag(row, columns.decoy, where)]
        if key in psms:
            psms[key][2].extend(proteins)
            psms[key][3].extend(flagged)
        else:
            psms[key] = (n, row, proteins, flagged)
    found: list[Identification] = []
    for n, row, proteins, flagged in psms.values():
        if columns.proteins is not None:
            row = {**row, columns.proteins: ";".join(proteins)}
        if columns.decoy is not None:  # flagged a decoy on every row, or on none
            row = {**row, columns.decoy: "1" if all(flagged) else "0"}
        ident = _identification(row, f"{path}, line {n}", columns, runs, mztab=True)
        if ident is not None:
            found.append(ident)
    return label_file(str(path), found)


def read_tsv(path: Path) -> LabelFile:
    """The identifications of a tab-separated table with a header.

    Columns: ``spectra_ref``, ``scan`` or ``title`` (at least one), ``sequence`` (any notation
    trmseq parses), and optionally ``q_value``, ``charge``, ``file`` (the spectrum file or run
    the row belongs to; without it a row joins to any input file), ``protein`` and ``decoy``.
    trmseq's own TSV output reads as it is.

    Raises
    ------
    InputError
        For a missing column, or a row (named by its line) that does not fit the header.
    """
    lines = [(n, line) for n, line in _lines(path) if not line.startswith("#")]
    if not lines:
        raise InputError(f"{path}: empty; expected a header line with spectra_ref/scan/title and sequence")
    header = [c.strip().strip('"') for c in lines[0][1].split("\t")]
    if len(header) == 1 and ("," in header[0] or ";" in header[0]):
        raise InputError(f"{path}: not tab-separated (the header is one cell: {header[0][:60]!r}); "
                         "save it as tab-separated text")  # fmt: skip
    columns = _columns(header)
    named = ", ".join(header)[:200]
    if columns.sequence is None and columns.proforma is None:
        raise InputError(f"{path}: no sequence column (columns: {named})")
    if columns.ref is None and columns.scan is None and columns.title is None:
        raise InputError(f"{path}: no spectra_ref, scan or title column to join on (columns: {named})")
    found = []
    for n, line in lines[1:]:
        where = f"{path}, line {n}"
        ident = _identification(_row(line.split("\t"), header, where), where, columns, {}, mztab=False)
        if ident is not None:
            found.append(ident)
    return label_file(str(path), found)


def _lines(path: Path) -> list[tuple[int, str]]:
    """The non-blank lines of a text file, numbered from 1."""
    try:
        with open_text(path, "a labels table") as handle:
            text = handle.read()
    except (OSError, EOFError, zlib.error) as e:  # EOFError, zlib.error: a truncated or corrupt gzip
        raise InputError(f"{path}: cannot read ({getattr(e, 'strerror', None) or e})") from None
    if "\x00" in text:
        raise InputError(f"{path}: not a text file (a NUL byte)")
    return [(n, line.rstrip("\r")) for n, line in enumerate(text.split("\n"), start=1) if line.strip()]


def _row(cells: list[str], header: list[str], where: str) -> dict[str, str]:
    if len(cells) != len(header):
        raise InputError(f"{where}: {len(cells)} cells, but the header has {len(header)}")
    # A cell "quoted" by a spreadsheet is read without its quotes.
    return dict(zip(header, (_unquoted(c.strip()) for c in cells), strict=True))


def _unquoted(cell: str) -> str:
    return cell[1:-1] if len(cell) >= 2 and cell[0] == cell[-1] == '"' else cell


def _cell(row: dict[str, str], column: str | None) -> str | None:
    value = row.get(column) if column else None
    return None if value is None or value.lower() in _NULL else value


def _number(row: dict[str, str], column: str | None, where: str) -> float | None:
    value = _cell(row, column)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        raise InputError(f"{where}: {column} {value!r} is not a number") from None
    return None if math.isnan(number) else number


def _identification(
    row: dict[str, str], where: str, columns: _Columns, runs: dict[str, str | None], mztab: bool
) -> Identification | None:
    rank = _number(row, columns.rank, where)
    if rank is not None and rank != 1:
        return None
    run, keys = _where(row, where, columns, runs)
    peptide, problem = _peptide(row, columns, mztab)
    text = _cell(row, columns.charge)
    if text is not None:  # "2+" as MGF writes it
        row = {**row, columns.charge: text.rstrip("+")}  # type: ignore[dict-item]
    charge = _number(row, columns.charge, where)
    proteins = re.split(r"[;,]", _cell(row, columns.proteins) or "")
    decoy, contaminant = protein_flags(proteins)
    if _decoy_flag(row, columns.decoy, where):
        decoy, contaminant = True, False
    return Identification(
        where=where, run=run, keys=keys, peptide=peptide,
        charge=int(charge) if charge is not None and charge.is_integer() else None,
        q_value=_number(row, columns.q, where), expect=_number(row, columns.expect, where),
        decoy=decoy, contaminant=contaminant, problem=problem,
    )  # fmt: skip


def _decoy_flag(row: dict[str, str], column: str | None, where: str) -> bool:
    """Whether the row's decoy column says decoy; raises InputError for a value it cannot read."""
    value = (row.get(column, "") if column else "").strip().lower()
    if column is not None and column.lower() == "label":  # says target: Sage/Percolator 1/-1, mokapot True/False
        if value in ("1", "true", "-1", "false"):
            return value in ("-1", "false")
        raise InputError(f"{where}: {column} {value!r} is neither a target (1, true) nor a decoy (-1, false)")
    if value in _DECOY or value in _TARGET:
        return value in _DECOY
    raise InputError(f"{where}: {column} {value!r} is neither a decoy (1, true, yes, +, decoy) nor a target "
                     "(0, false, no, -, empty)")  # fmt: skip


def _where(
    row: dict[str, str], where: str, columns: _Columns, runs: dict[str, str | None]
) -> tuple[str | None, tuple[Key, ...]]:
    """The run (None: any) and the join keys of a row."""
    run = None
    keys: list[Key] = []
    ref = _cell(row, columns.ref)
    if ref:
        first = ref.split("|")[0].strip()
        if m := _RUN_REF.match(first):
            if runs:
                if m[1] not in runs:
                    raise InputError(f"{where}: spectra_ref names {m[1]}, which the metadata does not define")
                run = runs[m[1]]
            first = m[2]
        keys.extend(ref_keys(first))
        if first.isdigit():  # a bare number (mokapot's and Percolator's ScanNr) is a scan
            keys.append(("scan", str(int(first))))
    file = _cell(row, columns.file)
    if file:
        run = run_name(file)
    scan = _cell(row, columns.scan)
    if scan and (key := scan_key(scan)):
        keys.append(key)
    title = _cell(row, columns.title)
    if title:
        keys.append(("title", title))
    if not keys:
        raise InputError(f"{where}: names no spectrum (spectra_ref, scan and title are empty)")
    return run, tuple(dict.fromkeys(keys))


def _peptide(row: dict[str, str], columns: _Columns, mztab: bool) -> tuple[str | Peptidoform, str | None]:
    """(peptide, None), or (what there is, why it cannot be read)."""
    proforma = _cell(row, columns.proforma)
    if proforma:
        return proforma, None
    sequence = _cell(row, columns.sequence)
    if sequence is None:
        return "", "no peptide"
    if not mztab:
        return sequence, None
    mods = []
    for item in _split_outside_brackets(_cell(row, columns.modifications) or ""):
        m = _MOD.fullmatch(item)
        if m is None:
            return sequence, f"cannot read modification {item!r}"
        delta = _accession_mass(m[2].strip())
        if isinstance(delta, str):
            return sequence, delta
        mods.append((int(m[1]), delta))
    form = peptidoform(sequence, mods)
    return (form, None) if isinstance(form, Peptidoform) else (sequence, form)


def _accession_mass(accession: str) -> float | str:
    """The mass delta of an mzTab modification accession, or why it is unknown."""
    kind, _, value = accession.partition(":")
    if kind.upper() == "UNIMOD":
        for number, mass in UNIMOD.values():
            if value == str(number):
                return mass
        return f"Unimod accession {accession} is not known to trmseq"
    if kind.upper() == "CHEMMOD":
        try:
            return float(value)
        except ValueError:
            pass
    return f"modification {accession} is not known to trmseq"


def _split_outside_brackets(text: str) -> list[str]:
    """Split on commas that are not inside [...] (CV parameters hold commas)."""
    parts, depth, current = [], 0, []
    for ch in text:
        depth += (ch == "[") - (ch == "]")
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]
