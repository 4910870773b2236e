"""Read identifications from pepXML (with lxml) and mzIdentML (through pyteomics).

Only each spectrum's rank-1 hit is read. pepXML names a modified residue by its full mass
(``mod_aminoacid_mass mass="160.030649"`` for carbamidomethyl C) and the termini as H + delta
and OH + delta; mzIdentML gives deltas (``monoisotopicMassDelta``) at locations 0..n+1.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lxml import etree
from pyteomics.auxiliary import PyteomicsError

from trmseq.constants import UNIMOD
from trmseq.errors import InputError
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
    residue_delta,
    run_name,
    scan_key,
)

_XML_ERRORS = (etree.XMLSyntaxError, PyteomicsError, ValueError, KeyError, TypeError, OSError)


def read_pepxml(path: Path) -> LabelFile:
    """The rank-1 identification of every spectrum query in a pepXML file.

    Spectra are named by ``spectrumNativeID``, ``start_scan`` and the ``spectrum`` attribute
    (``run.00123.00123.2``, whose first part is the run). Scores: a search score named like a
    q-value (Percolator), else PeptideProphet/iProphet probabilities, else ``expect``. Read
    with lxml, one query at a time: about 10,000 queries a second, ten times pyteomics' reader.

    Raises
    ------
    InputError
        For malformed XML, a file without spectrum queries, or a query naming no spectrum or
        holding an unreadable number (naming the query).
    """
    found = []
    n = 0
    try:
        for _, query in etree.iterparse(str(path), tag="{*}spectrum_query", huge_tree=True,
                                        resolve_entities=False):
            n += 1
            found.append(_pepxml_identification(query, path, n))
            query.clear()
            while query.getprevious() is not None:  # drop what was read: memory stays flat
                del query.getparent()[0]
    except etree.XMLSyntaxError as e:
        detail = str(e).splitlines()[0][:160] if str(e) else type(e).__name__
        raise InputError(f"{path}: malformed pepXML after {n} spectrum queries ({detail})") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e})") from None
    if n == 0:
        raise InputError(f"{path}: no spectrum_query elements; is it a pepXML file?")
    return label_file(str(path), [i for i in found if i is not None])


def _pepxml_identification(query: Any, path: Path, n: int) -> Identification | None:
    name = query.get("spectrum")
    where = f"{path}, spectrum_query {n}" + (f" ({name})" if name else "")
    try:
        return _pepxml_hit(query, name, where)
    except (ValueError, TypeError) as e:
        raise InputError(f"{where}: {e}") from None


def _pepxml_hit(query: Any, name: str | None, where: str) -> Identification | None:
    native = query.get("spectrumNativeID")
    keys: list[Key] = ref_keys(native) if native else []
    if query.get("start_scan") is not None and (key := scan_key(query.get("start_scan"))):
        keys.append(key)
    if name:
        keys.append(("title", name))
    if not keys:
        raise InputError(f"{where}: names no spectrum (no spectrum, start_scan or spectrumNativeID)")
    hit = next((h for h in query.iterfind("{*}search_result/{*}search_hit")
                if h.get("hit_rank", "1").strip() == "1"), None)  # fmt: skip
    if hit is None:
        return None  # searched, nothing found: not an identification
    sequence = hit.get("peptide")
    if not sequence:
        raise InputError(f"{where}: search_hit has no peptide")
    form = peptidoform(sequence, _pepxml_mods(hit, sequence))
    scores = {s.get("name"): s.get("value") for s in hit.iterfind("{*}search_score")}
    proteins = [hit.get("protein")] + [a.get("protein") for a in hit.iterfind("{*}alternative_protein")]
    decoy, contaminant = protein_flags(proteins)
    return Identification(
        where=where, run=_pepxml_run(name), keys=tuple(dict.fromkeys(keys)),
        peptide=form if isinstance(form, Peptidoform) else sequence,
        charge=_int(query.get("assumed_charge")),
        q_value=_first_score(scores, is_q_value_name), expect=_first_score(scores, is_expect_name),
        probability=_prophet(hit), decoy=decoy, contaminant=contaminant,
        problem=form if isinstance(form, str) else None,
    )  # fmt: skip


def _pepxml_mods(hit: Any, sequence: str) -> list[tuple[int, float]]:
    """(position, delta) of each modification: full residue masses and terminal groups minus
    the unmodified residue, H (N-terminus) or OH (C-terminus)."""
    mods = []
    for info in hit.iterfind("{*}modification_info"):
        for attribute, position in (("mod_nterm_mass", 0), ("mod_cterm_mass", len(sequence) + 1)):
            if info.get(attribute) is not None:
                mods.append((position, residue_delta(sequence, position, float(info.get(attribute)))))
        for mod in info.iterfind("{*}mod_aminoacid_mass"):
            position = int(mod.get("position"))
            mods.append((position, residue_delta(sequence, position, float(mod.get("mass")))))
    return mods


def _pepxml_run(name: str | None) -> str | None:
    """The run of a TPP spectrum name ``run.00123.00123.2``; None for any other name."""
    parts = (name or "").rsplit(".", 3)
    if len(parts) == 4 and all(p.isdigit() for p in parts[1:]) and parts[0]:
        return run_name(parts[0])
    return None


def _prophet(hit: Any) -> float | None:
    """The iProphet probability if there is one, else PeptideProphet's."""
    found: dict[str, float] = {}
    for result in hit.iterfind("{*}analysis_result"):
        analysis = result.get("analysis", "")
        for element in result.iterfind(f"{{*}}{analysis}_result"):
            if element.get("probability") is not None:
                found[analysis] = float(element.get("probability"))
    return found.get("interprophet", found.get("peptideprophet"))


def read_mzid(path: Path) -> LabelFile:
    """The rank-1 identification of every SpectrumIdentificationResult in an mzIdentML file.

    Spectra are named by ``spectrumID`` (a nativeID, ``index=N`` or ``scan=N``) and the
    ``scan number(s)`` and ``spectrum title`` parameters; the run by the SpectraData location.
    Decoys by ``isDecoy`` (or the protein accession). Scores: a PSM-level q-value parameter
    (``PSM-level q-value``, ``MS-GF:QValue``, ``Percolator:Q value``), else an expectation value.

    Raises
    ------
    InputError
        For malformed XML or a file without SpectrumIdentificationResult elements.
    """
    from pyteomics import mzid

    def reader() -> Any:
        return mzid.MzIdentML(str(path), retrieve_refs=True, read_schema=False, huge_tree=True)

    found = _records(path, "mzIdentML", "results", reader, "SpectrumIdentificationResult",
                     _mzid_identification)  # fmt: skip
    if not found:
        raise InputError(f"{path}: no SpectrumIdentificationResult elements; is it mzIdentML?")
    return label_file(str(path), [i for i in found if i is not None])


def _mzid_identification(result: dict, path: Path, n: int) -> Identification | None:
    spectrum_id = result.get("spectrumID")
    where = f"{path}, SpectrumIdentificationResult {n}" + (f" ({spectrum_id})" if spectrum_id else "")
    keys: list[Key] = ref_keys(str(spectrum_id)) if spectrum_id else []
    if result.get("scan number(s)") is not None and (key := scan_key(result["scan number(s)"])):
        keys.append(key)
    if result.get("spectrum title"):
        keys.append(("title", str(result["spectrum title"])))
    if not keys:
        raise InputError(f"{where}: names no spectrum (no spectrumID)")
    items = [i for i in result.get("SpectrumIdentificationItem") or [] if i.get("rank", 1) == 1]
    if not items:
        return None
    item = items[0]
    sequence = item.get("PeptideSequence")
    if not sequence:
        raise InputError(f"{where}: SpectrumIdentificationItem {item.get('id', '')} has no peptide")
    form, problem = _mzid_peptide(sequence, item.get("Modification") or [])
    evidence = item.get("PeptideEvidenceRef") or []
    decoy, contaminant = protein_flags([e.get("accession") for e in evidence])
    if evidence and all("isDecoy" in e for e in evidence):
        decoy = all(bool(e["isDecoy"]) for e in evidence)
    location = result.get("location") or result.get("name")
    return Identification(
        where=where, run=run_name(str(location)) if location else None,
        keys=tuple(dict.fromkeys(keys)), peptide=form, charge=_int(item.get("chargeState")),
        q_value=_first_score(item, is_q_value_name), expect=_first_score(item, is_expect_name),
        decoy=decoy, contaminant=contaminant and not decoy, problem=problem,
    )  # fmt: skip


def _mzid_peptide(sequence: str, modifications: list[dict]) -> tuple[str | Peptidoform, str | None]:
    """(peptidoform, None), or (sequence, why its modifications cannot be read)."""
    mods = []
    for mod in modifications:
        delta = mod.get("monoisotopicMassDelta")
        if delta is None and mod.get("name") in UNIMOD:
            delta = UNIMOD[mod["name"]][1]
        if delta is None or mod.get("location") is None:
            named = f" {mod['name']}" if mod.get("name") else ""
            return sequence, f"modification{named} without a mass or location"
        mods.append((int(mod["location"]), float(delta)))
    form = peptidoform(sequence, mods)
    return (form, None) if isinstance(form, Peptidoform) else (sequence, form)


# -- shared ----------------------------------------------------------------------------------------


def _records(
    path: Path, kind: str, what: str, reader: Callable[[], Any], element: str,
    convert: Callable[[dict, Path, int], Identification | None],
) -> list[Identification | None]:
    """Convert each record, turning pyteomics' and lxml's errors into one-line InputErrors."""
    n = 0
    found = []
    try:
        with warnings.catch_warnings(), reader() as records:
            warnings.simplefilter("ignore")  # pyteomics warns about index trouble; errors say more
            for n, record in enumerate(records.iterfind(element), start=1):  # noqa: B007
                found.append(convert(record, path, n))
    except InputError:
        raise
    except _XML_ERRORS as e:
        detail = str(e).splitlines()[0][:160] if str(e) else type(e).__name__
        raise InputError(f"{path}: malformed {kind} after {n} {what} ({detail})") from None
    return found


def _first_score(scores: dict, wanted: Callable[[str], bool]) -> float | None:
    for name, value in scores.items():
        if isinstance(name, str) and wanted(name):
            try:
                number = float(value)
            except (TypeError, ValueError):
                continue
            return None if number != number else number  # NaN: no score, as in the tables
    return None


def _int(value: object) -> int | None:
    try:
        return int(value) if value is not None else None  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
