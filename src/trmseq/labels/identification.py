"""One identification from a search engine, and how it names its spectrum, run and peptide.

An :class:`Identification` is what every labels reader produces: the keys that join it to a
spectrum (nativeID, scan number, MGF index, title), the run it belongs to, the peptide (as
text in a notation trmseq parses, or as residues with explicit mass deltas), and the scores
and flags that decide whether it counts as a label.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from trmseq.constants import H2O, RESIDUE_MASSES
from trmseq.errors import InputError, PeptideError
from trmseq.io import SPECTRUM_SUFFIXES, run_name  # noqa: F401  (re-exported for the label readers)
from trmseq.spectrum import Spectrum
from trmseq.vocab import Vocabulary

H_ATOM = 1.00782503207  # pepXML's mod_nterm_mass is the N-terminal group: H + modification
OH = H2O - H_ATOM  # and mod_cterm_mass the C-terminal group: OH + modification
# A delta this small is no modification: search engines round residue masses differently.
NO_DELTA_DA = 0.005

DECOY_PREFIXES = ("decoy", "rev_", "reverse_", "xxx_", "##")
CONTAMINANT_PREFIXES = ("contam", "con__", "cont_")

Key = tuple[str, str]  # (kind, value): ("native", id), ("scan", "12"), ("index", "0"), ("title", t)


@dataclass(frozen=True)
class Peptidoform:
    """Residues with explicit modification masses, as pepXML, mzIdentML and mzTab give them."""

    residues: str
    deltas: tuple[float, ...]  # one mass delta per residue, 0.0 when unmodified
    nterm: float = 0.0
    cterm: float = 0.0


@dataclass(frozen=True)
class Identification:
    """The rank-1 peptide a search engine gave one spectrum.

    ``run`` is the run (spectrum file) the identification names, without folder or suffix, or
    None when the format names none (it then joins to any input file). ``problem`` is why the
    peptide cannot be read; it is reported when the identification meets its spectrum.
    """

    where: str  # file and record, for messages
    run: str | None
    keys: tuple[Key, ...]  # the most specific first
    peptide: str | Peptidoform  # str: a notation Vocabulary.parse reads
    charge: int | None = None
    q_value: float | None = None
    expect: float | None = None
    probability: float | None = None  # PeptideProphet / iProphet
    decoy: bool = False
    contaminant: bool = False
    problem: str | None = None

    def __post_init__(self) -> None:
        if self.q_value is not None and not 0 <= self.q_value <= 1:
            raise InputError(f"{self.where}: q-value {self.q_value:g} is outside 0-1; a percentage?")

    def tokens(self, vocab: Vocabulary) -> tuple[str, ...] | str:
        """The peptide in ``vocab``'s tokens, or why the vocabulary cannot express it."""
        if self.problem:
            return self.problem
        try:
            text = self.peptide if isinstance(self.peptide, str) else _proforma(self.peptide, vocab)
            return vocab.parse(text)
        except PeptideError as e:
            return e.reason


def _proforma(form: Peptidoform, vocab: Vocabulary) -> str:
    """ProForma with mass deltas.

    Raises
    ------
    PeptideError
        For a C-terminal modification, or a residue without its fixed modification (a plain C
        in trmseq's notation means carbamidomethyl C, so it cannot stand for unmodified C).
    """
    if abs(form.cterm) > NO_DELTA_DA:
        raise PeptideError(f"C-terminal modification {form.cterm:+.3f} is not in the vocabulary")
    parts = [f"[{form.nterm:+.6f}]-" if abs(form.nterm) > NO_DELTA_DA else ""]
    for aa, delta in zip(form.residues, form.deltas, strict=True):
        if abs(delta) > NO_DELTA_DA:
            parts.append(f"{aa}[{delta:+.6f}]")
        elif aa in vocab.fixed:
            raise PeptideError(f"{aa} without its fixed modification {vocab.fixed[aa].name}")
        else:
            parts.append(aa)
    return "".join(parts)


def peptidoform(sequence: str, mods: Iterable[tuple[int, float]]) -> Peptidoform | str:
    """Build a peptidoform from (position, mass delta) pairs: 0 N-terminus, 1..n, n+1 C-terminus.

    Returns the reason instead when a position lies outside the peptide.
    """
    n = len(sequence)
    deltas = [0.0] * n
    nterm = cterm = 0.0
    for position, delta in mods:
        if position == 0:
            nterm += delta
        elif position == n + 1:
            cterm += delta
        elif 1 <= position <= n:
            deltas[position - 1] += delta
        else:
            return f"modification at position {position} outside the {n}-residue peptide"
    return Peptidoform(sequence, tuple(deltas), nterm, cterm)


def residue_delta(sequence: str, position: int, mass: float) -> float:
    """pepXML gives a modified residue's full mass; return its modification's delta."""
    if position == 0:
        return mass - H_ATOM
    if position == len(sequence) + 1:
        return mass - OH
    aa = sequence[position - 1] if 1 <= position <= len(sequence) else ""
    return mass - RESIDUE_MASSES[aa] if aa in RESIDUE_MASSES else 0.0


# -- how identifications and spectra are named ----------------------------------------------------

_INDEX_REF = re.compile(r"index=(\d+)")
_SCAN_REF = re.compile(r"scan=(\d+)")
_SCAN_IN = re.compile(r"\bscan=(\d+)")
_NATIVE_IN_TITLE = re.compile(r'NativeID:"([^"]+)"')
# The Trans-Proteomic Pipeline's title, also MaxQuant's and msconvert's first word: run.start.end
# with an optional charge; a spectrum of one scan (start == end) is that scan.
_TPP_TITLE = re.compile(r"^\S+?\.(\d+)\.(\d+)(?:\.\d+)?$")


def ref_keys(ref: str) -> list[Key]:
    """Keys of a spectrum reference: ``index=N`` (MGF), ``scan=N``, or a nativeID."""
    ref = ref.strip()
    if m := _INDEX_REF.fullmatch(ref):
        return [("index", str(int(m[1])))]
    if m := _SCAN_REF.fullmatch(ref):
        return [("scan", str(int(m[1])))]
    keys = [("native", ref)]
    if m := _SCAN_IN.search(ref):
        keys.append(("scan", str(int(m[1]))))
    return keys


def scan_key(value: object) -> Key | None:
    """A scan number as a key: ``12``, ``12.0``, ``scan=12`` and ``ms_run[1]:scan=12`` agree."""
    text = str(value).strip()
    text = re.sub(r"^ms_run\[\d+\]:", "", text).removeprefix("scan=")
    if not text or text.lower() in ("null", "nan", "none"):
        return None
    try:
        number = float(text)
    except ValueError:
        return ("scan", text)
    return ("scan", str(int(number))) if number.is_integer() else ("scan", text)


def spectrum_keys(spectrum: Spectrum) -> list[Key]:
    """Every key a spectrum can be found by, the most specific first.

    An msconvert MGF title (``run.12.12.2 File:"run.raw", NativeID:"... scan=12"``) also gives
    its nativeID and its first word, and a title ``run.12.12`` or ``run.12.12.2`` (TPP, MaxQuant)
    of a spectrum without ``SCANS=`` its scan.
    """
    keys = ref_keys(spectrum.ref)
    if spectrum.scan and (key := scan_key(spectrum.scan)):
        keys.append(key)
    if spectrum.title:
        if m := _NATIVE_IN_TITLE.search(spectrum.title):
            keys.extend(ref_keys(m[1]))
        keys.append(("title", spectrum.title))
        first = spectrum.title.split()[0] if spectrum.title.split() else ""
        if first and first != spectrum.title:
            keys.append(("title", first))
        if not spectrum.scan and (m := _TPP_TITLE.match(first)) and int(m[1]) == int(m[2]):
            keys.append(("scan", str(int(m[1]))))
    return list(dict.fromkeys(keys))


def protein_flags(accessions: Sequence[str | None]) -> tuple[bool, bool]:
    """(decoy, contaminant): decoy if every protein is a decoy, contaminant if every target is one."""
    names = [a.strip() for a in accessions if a and a.strip()]
    if not names:
        return False, False
    targets = [a for a in names if not a.lower().startswith(DECOY_PREFIXES)]
    if not targets:
        return True, False
    return False, all(a.lower().startswith(CONTAMINANT_PREFIXES) for a in targets)


def is_q_value_name(name: str) -> bool:
    """Whether a score name is a PSM-level q-value (not a peptide- or protein-level one)."""
    plain = re.sub(r"[^a-z0-9]", "", name.lower())
    if plain in ("spectrumq", "psmq"):  # Sage's spectrum_q
        return True
    return "qvalue" in plain and "pep" not in plain and "protein" not in plain


def is_expect_name(name: str) -> bool:
    """Whether a score name is an expectation value (Comet, X!Tandem, MSFragger, Mascot, MS-GF+)."""
    plain = re.sub(r"[^a-z0-9]", "", name.lower())
    return "expect" in plain or (plain.endswith("evalue") and not plain.endswith("specevalue"))


def q_values_from_probabilities(probabilities: Sequence[float]) -> list[float]:
    """q-values from PeptideProphet-style probabilities.

    Accepting every PSM with probability >= t has an estimated FDR of the mean (1 - p) over
    those PSMs; a PSM's q-value is the lowest such FDR over the thresholds t <= its own p.
    """
    p = list(probabilities)
    order = sorted(range(len(p)), key=lambda i: -p[i])
    fdr = []
    errors = 0.0
    for k, i in enumerate(order, start=1):
        errors += 1.0 - p[i]
        fdr.append(errors / k)
    q = [0.0] * len(p)
    best = float("inf")
    for k in range(len(order) - 1, -1, -1):
        if k == len(order) - 1 or p[order[k + 1]] != p[order[k]]:  # a threshold takes all ties
            best = min(best, fdr[k])
        q[order[k]] = best
    return q


@dataclass(frozen=True)
class LabelFile:
    """The identifications of one labels file, and the score its threshold applies to.

    ``score`` is ``"q-value"`` or ``"expect"``, or None when the file has neither (then every
    target identification counts); ``note`` says where q-values came from when not the file.
    """

    path: str
    identifications: tuple[Identification, ...]
    score: str | None
    note: str = ""


def label_file(path: str, identifications: list[Identification]) -> LabelFile:
    """Decide what the threshold applies to: q-values, else PeptideProphet probabilities turned
    into q-values, else expectation values, else nothing."""
    if any(i.q_value is not None for i in identifications):
        return LabelFile(path, tuple(identifications), "q-value")
    scored = [k for k, i in enumerate(identifications) if i.probability is not None]
    if scored:
        q = q_values_from_probabilities([identifications[k].probability or 0.0 for k in scored])
        out = list(identifications)
        for k, value in zip(scored, q, strict=True):
            out[k] = replace(out[k], q_value=value)
        return LabelFile(path, tuple(out), "q-value", "from PeptideProphet probabilities")
    if any(i.expect is not None for i in identifications):
        return LabelFile(path, tuple(identifications), "expect")
    return LabelFile(path, tuple(identifications), None)
