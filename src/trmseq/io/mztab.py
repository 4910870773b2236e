"""Write PSMs as mzTab 1.0 (Identification, Summary mode) or as a plain TSV table.

Follows FORMATS.md section 1: the required metadata, the real fixed and variable modifications
as Unimod terms, ms_run locations with format and id_format, PSH/PSM columns in the spec
order, the spec form of ``modifications`` (``3-UNIMOD:35,0-UNIMOD:1``), and ``null`` for every
empty cell. trmseq has no PSI-MS term of its own, so it names itself as a user parameter.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TextIO

from trmseq import __version__
from trmseq.constants import UNIMOD
from trmseq.io import run_name as spectrum_run_name
from trmseq.io import spectrum_format
from trmseq.psm import PSM
from trmseq.vocab import Token, Vocabulary

SOFTWARE = f"[, , trmseq, {__version__}]"
COLUMNS = [
    "sequence", "PSM_ID", "accession", "unique", "database", "database_version",
    "search_engine", "search_engine_score[1]", "modifications", "retention_time", "charge",
    "exp_mass_to_charge", "calc_mass_to_charge", "spectra_ref", "pre", "post", "start", "end",
    "opt_global_cv_MS:1003169_proforma_peptidoform_sequence", "opt_global_aa_scores",
    "opt_global_precursor_error_ppm", "opt_global_isotope", "opt_global_fits_precursor",
    "opt_global_recursion_steps", "opt_global_rank", "opt_global_spectrum_title",
    "opt_global_cv_MS:1003057_scan_number", "opt_global_cv_MS:1003063_universal_spectrum_identifier",
    "opt_global_probability", "opt_global_q_value",
]  # fmt: skip
# The TSV names the confidence columns plainly; every other column as in mzTab.
TSV_NAMES = {"opt_global_probability": "probability", "opt_global_q_value": "q_value"}
_FORMATS = {  # suffix -> (file format CV, nativeID format CV)
    ".mgf": ("[MS, MS:1001062, Mascot MGF format, ]",
             "[MS, MS:1000774, multiple peak list nativeID format, ]"),
    ".mzml": ("[MS, MS:1000584, mzML format, ]", "[MS, MS:1001530, mzML unique identifier, ]"),
    ".mzxml": ("[MS, MS:1000566, ISB mzXML format, ]",
               "[MS, MS:1000776, scan number only nativeID format, ]"),
}  # fmt: skip


# A USI names a run as deposited in a repository: its file name without path or extension,
# never escaped. Names with whitespace, control or non-ASCII characters cannot be written
# unescaped in one token, so such runs get no USI (null) rather than a broken one.
_USI_RUN = re.compile(r"[\x21-\x7e]+")


def _unimod(delta: float) -> tuple[str, str] | None:
    """(accession, name) of the Unimod entry with this mass, if trmseq knows one."""
    for name, (number, mass) in UNIMOD.items():
        if abs(mass - delta) < 0.0015:
            return f"UNIMOD:{number}", name
    return None


def _mod_terms(token: Token) -> list[str]:
    """The accessions of a token's modifications, one per delta (CHEMMOD:+x for unknown ones).

    A combined N-terminal token (Carbamyl + Ammonia-loss) gives both Unimod terms at position 0:
    the spec keeps CHEMMOD for chemistry that has no Unimod entry (section 5.8).
    """
    terms = []
    for delta in token.deltas:
        known = _unimod(delta)
        terms.append(known[0] if known else f"CHEMMOD:{delta:+.6f}")
    return terms


def _mod_param(token: Token, delta: float) -> str:
    """The metadata parameter of one modification: its Unimod entry, or CHEMMOD by mass."""
    known = _unimod(delta)
    if known:
        return f"[UNIMOD, {known[0]}, {known[1]}, ]"
    return f"[CHEMMOD, CHEMMOD:{delta:+.6f}, , ]"


def metadata(vocab: Vocabulary, runs: Sequence[Path], settings: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The MTD lines: version, mode, runs, software and settings, score, modifications."""
    lines = [
        ("mzTab-version", "1.0.0"),
        ("mzTab-mode", "Summary"),
        ("mzTab-type", "Identification"),
        ("description", "trmseq de novo peptide sequencing of " + ", ".join(p.name for p in runs)),
    ]
    for i, run in enumerate(runs, start=1):
        file_format, id_format = _FORMATS.get(spectrum_format(run), (None, None))
        lines.append((f"ms_run[{i}]-location", Path(run).resolve().as_uri()))
        if file_format:
            lines.append((f"ms_run[{i}]-format", file_format))
            lines.append((f"ms_run[{i}]-id_format", id_format))
    lines.append(("software[1]", SOFTWARE))
    lines.extend((f"software[1]-setting[{i}]", f"{k} = {v}") for i, (k, v) in enumerate(settings, 1))
    lines.append(("psm_search_engine_score[1]",
                  "[MS, MS:1001143, search engine specific score for PSMs, ]"))  # fmt: skip
    lines.extend(_modification_lines(vocab))
    return lines


def _modification_lines(vocab: Vocabulary) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    fixed = [vocab[name] for name in vocab.fixed_mods]
    variable = [vocab[name] for name in vocab.variable_mods]
    for kind, tokens, none in (
        ("fixed_mod", fixed, "[MS, MS:1002453, No fixed modifications searched, ]"),
        ("variable_mod", variable, "[MS, MS:1002454, No variable modifications searched, ]"),
    ):
        # One entry per (modification, site); a combined token adds its parts if not yet listed.
        entries = list(dict.fromkeys((_mod_param(token, delta), token.is_nterm, token.residue)
                                     for token in tokens for delta in token.deltas))  # fmt: skip
        if not entries:
            lines.append((f"{kind}[1]", none))
        for i, (param, is_nterm, residue) in enumerate(entries, start=1):
            lines.append((f"{kind}[{i}]", param))
            lines.append((f"{kind}[{i}]-site", "N-term" if is_nterm else residue))
            if is_nterm:
                lines.append((f"{kind}[{i}]-position", "Any N-term"))
    return lines


def modifications(peptide: Sequence[str], vocab: Vocabulary) -> str:
    """The spec's ``modifications`` cell: ``{position}-{accession}``, comma separated."""
    parts = []
    position = 0
    for name in peptide:
        token = vocab[name]
        if not token.is_nterm:
            position += 1
        parts.extend(f"{0 if token.is_nterm else position}-{term}" for term in _mod_terms(token))
    return ",".join(parts) or "null"


def _fmt(value: object, digits: int = 6) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value != value:
            return "NaN"
        return f"{value:.{digits}f}"
    text = str(value)
    return tsv_cell(text) if text else "null"


def tsv_cell(text: str) -> str:
    """``text`` as one tab-separated cell: tabs and line breaks (possible in titles) become spaces."""
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def psm_row(psm: PSM, psm_id: int, run: int, vocab: Vocabulary) -> dict[str, str]:
    """The PSM line's cells by column name (every name in :data:`COLUMNS`)."""
    s = psm.spectrum
    peptide = psm.peptide
    sequence = "".join(vocab[t].residue for t in peptide) if peptide else None
    proforma = vocab.proforma(peptide) if peptide else None
    scan = s.scan if s.scan and s.scan.isdigit() else None
    where = (s.ref.replace("=", ":", 1) if s.ref.startswith(("index=", "scan="))
             else f"scan:{scan}" if scan else None)  # fmt: skip
    run_name = spectrum_run_name(s.file)
    usi = (f"mzspec:USI000000:{run_name}:{where}:{proforma}/{s.charge}"
           if proforma and where and _USI_RUN.fullmatch(run_name) else None)  # fmt: skip
    return {
        "sequence": _fmt(sequence),  # plain residues, I reported as L
        "PSM_ID": str(psm_id),  # 1..n over the file
        "accession": "null",  # de novo: no protein
        "unique": "null",
        "database": "null",
        "database_version": "null",
        "search_engine": SOFTWARE,
        "search_engine_score[1]": _fmt(psm.score, 5) if peptide else "null",  # peptide score
        "modifications": modifications(peptide, vocab) if peptide else "null",  # 3-UNIMOD:35,...
        "retention_time": _fmt(s.rt_seconds, 3),  # seconds
        "charge": _fmt(s.charge),  # precursor charge
        "exp_mass_to_charge": _fmt(s.precursor_mz, 5),  # observed precursor m/z
        "calc_mass_to_charge": _fmt(psm.calc_mz, 5),  # the peptide's m/z at that charge
        "spectra_ref": f"ms_run[{run}]:{s.ref}",  # index=N (MGF), nativeID (mzML), scan=N (mzXML)
        "pre": "null",
        "post": "null",
        "start": "null",
        "end": "null",
        "opt_global_cv_MS:1003169_proforma_peptidoform_sequence": _fmt(proforma),
        "opt_global_aa_scores": ",".join(f"{x:.5f}" for x in psm.aa_scores) or "null",  # per token
        "opt_global_precursor_error_ppm": _fmt(psm.precursor_error_ppm, 2),  # at the best isotope
        "opt_global_isotope": _fmt(psm.isotope),  # that isotope offset
        "opt_global_fits_precursor": _fmt(psm.fits_precursor) if peptide else "null",  # 1 or 0
        "opt_global_recursion_steps": str(psm.recursion_steps),  # supervision steps run
        "opt_global_rank": str(psm.rank),  # 1 = best candidate
        "opt_global_spectrum_title": _fmt(s.title),  # MGF TITLE or mzML spectrum title
        "opt_global_cv_MS:1003057_scan_number": _fmt(scan),  # an xsd:integer
        "opt_global_cv_MS:1003063_universal_spectrum_identifier": _fmt(usi),  # null if unnamable
        "opt_global_probability": _fmt(psm.probability, 5),  # calibrated P(exactly right)
        "opt_global_q_value": _fmt(psm.q_value, 5),  # FDR at which it would be accepted
    }


def _rows(psms: Iterable[PSM], vocab: Vocabulary, runs: Sequence[Path]) -> Iterator[tuple[PSM, list[str]]]:
    """Each sequenced PSM with its cells in :data:`COLUMNS` order; PSM_IDs count from 1."""
    run_of = {str(p): i for i, p in enumerate(runs, start=1)}
    n = 0
    for psm in psms:
        if psm.peptide is not None:
            n += 1
            cells = psm_row(psm, n, run_of[psm.spectrum.file], vocab)
            yield psm, [cells[column] for column in COLUMNS]


def write_mztab(
    handle: TextIO, psms: Iterable[PSM], vocab: Vocabulary, runs: Sequence[Path],
    settings: Sequence[tuple[str, str]] = (),
) -> int:
    """Write an mzTab file; PSMs without a peptide are left out. Returns the rows written."""
    writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
    writer.writerows(["MTD", k, v] for k, v in metadata(vocab, runs, settings))
    writer.writerow([])
    writer.writerow(["PSH", *COLUMNS])
    n = 0
    for _, cells in _rows(psms, vocab, runs):
        writer.writerow(["PSM", *cells])
        n += 1
    return n


def write_tsv(handle: TextIO, psms: Iterable[PSM], vocab: Vocabulary, runs: Sequence[Path]) -> int:
    """Write the PSM table alone, with a header (spectra_ref keeps its ms_run[k] prefix)."""
    writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
    writer.writerow([*(TSV_NAMES.get(c, c) for c in COLUMNS), "file"])
    n = 0
    for psm, cells in _rows(psms, vocab, runs):
        writer.writerow([*cells, psm.spectrum.file])
        n += 1
    return n
