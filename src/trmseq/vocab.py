"""The residue vocabulary: which (modified) residues exist, their masses, and peptide notation.

A peptide is a tuple of token names in mass-offset notation, N-terminal modification first:
``("+42.011", "P", "E", "P", "T", "M+15.995", "L", "D", "E")``. :meth:`Vocabulary.parse` reads
the notations the field uses (mass offsets as in MassIVE-KB, ProForma, PEAKS-style brackets,
flanked forms, plain residues); :meth:`Vocabulary.mass_offset` and :meth:`Vocabulary.proforma`
write them back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from trmseq.constants import H2O, RESIDUE_MASSES, UNIMOD
from trmseq.errors import PeptideError

DEFAULT_FIXED_MODS = ("C+57.021",)
DEFAULT_VARIABLE_MODS = (
    "M+15.995",
    "N+0.984",
    "Q+0.984",
    "+42.011",
    "+43.006",
    "-17.027",
    "+43.006-17.027",
)
PHOSPHO_MODS = ("S+79.966", "T+79.966", "Y+79.966")

# How far a written delta may be from a vocabulary delta and still mean it. Notations round
# deltas to 2-3 decimals (PEAKS writes "+.98"); distinct modifications in use differ far more.
DELTA_TOL_DA = 0.01
# A delta written with 3 decimals is taken to be the Unimod entry it rounds from.
_UNIMOD_SNAP_DA = 0.0015
_STANDARD = "GASPVTCLINDQKEMHFRYW"
_DELTA = r"[+-](?:\d+\.?\d*|\.\d+)"
_SPEC = re.compile(rf"^([A-Z]?)((?:{_DELTA})+)$")
_FLANKED = re.compile(r"^(?:[A-Z_\-]|\[[^\]]*\])?\.(.+)\.(?:[A-Z_\-])?$")


@dataclass(frozen=True)
class Token:
    """One vocabulary entry: a residue with its modification, or an N-terminal modification."""

    name: str  # canonical mass-offset text: "M+15.995", "+42.011", "L"
    residue: str  # "" for an N-terminal modification
    deltas: tuple[float, ...]  # exact mass of each modification on it
    mass: float  # residue mass plus deltas; for an N-terminal token, the deltas alone

    @property
    def is_nterm(self) -> bool:
        """Whether this token is an N-terminal modification rather than a residue."""
        return self.residue == ""

    @property
    def delta(self) -> float:
        """The total modification mass on this token."""
        return float(sum(self.deltas))


def _snap(delta: float) -> float:
    """Return the exact Unimod mass for a rounded delta, or the delta itself."""
    for _, mass in UNIMOD.values():
        if abs(mass - delta) < _UNIMOD_SNAP_DA:
            return mass
    return delta


def _unimod_name(delta: float) -> str | None:
    for name, (_, mass) in UNIMOD.items():
        if abs(mass - delta) < _UNIMOD_SNAP_DA:
            return name
    return None


def make_token(spec: str) -> Token:
    """Build a token from a modification spec in mass-offset notation.

    ``"M+15.995"`` is a modified residue, ``"+42.011"`` and ``"+43.006-17.027"`` are N-terminal
    modifications, ``"K"`` is a plain residue.
    """
    spec = spec.strip()
    if len(spec) == 1 and spec in _STANDARD:
        return Token(spec, spec, (), RESIDUE_MASSES[spec])
    match = _SPEC.match(spec)
    if match is None or (match.group(1) and match.group(1) not in _STANDARD):
        raise PeptideError(
            f"cannot read modification {spec!r}: write it as residue + mass delta ('M+15.995') "
            "or, for the N-terminus, as the delta alone ('+42.011')"
        )
    residue = match.group(1)
    deltas = tuple(_snap(float(d)) for d in re.findall(_DELTA, match.group(2)))
    name = residue + "".join(f"{d:+.3f}" for d in deltas)
    base = RESIDUE_MASSES[residue] if residue else 0.0
    return Token(name, residue, deltas, base + sum(deltas))


class Vocabulary:
    """Residues and modifications a model can read and write.

    Parameters
    ----------
    fixed_mods
        Modifications present on every copy of their residue, e.g. ``("C+57.021",)``: a plain
        "C" in any annotation means carbamidomethyl C, and unmodified C is not in the vocabulary.
    variable_mods
        Modified residues (``"M+15.995"``) and N-terminal modifications (``"+42.011"``) that
        may occur.
    fold_isoleucine
        Read I as L (they have the same mass); the default is True, as in every de novo tool.
    """

    def __init__(
        self,
        fixed_mods: Iterable[str] = DEFAULT_FIXED_MODS,
        variable_mods: Iterable[str] = DEFAULT_VARIABLE_MODS,
        fold_isoleucine: bool = True,
    ) -> None:
        self.fold_isoleucine = fold_isoleucine
        self.fixed = {t.residue: t for t in map(make_token, fixed_mods)}
        if "" in self.fixed:
            raise PeptideError("a fixed modification needs a residue, e.g. 'C+57.021'")
        variable = [make_token(s) for s in variable_mods]
        plain = [r for r in _STANDARD if r not in self.fixed and not (fold_isoleucine and r == "I")]
        tokens = [make_token(r) for r in plain] + list(self.fixed.values()) + variable
        names = [t.name for t in tokens]
        if len(set(names)) != len(names):
            raise PeptideError(f"modification listed twice in {names}")
        self.tokens: tuple[Token, ...] = tuple(tokens)
        self.names: tuple[str, ...] = tuple(names)
        self.index = {name: i for i, name in enumerate(names)}
        self.masses = np.array([t.mass for t in tokens])
        self._by_name = dict(zip(names, tokens, strict=True))
        self.fixed_mods = tuple(t.name for t in self.fixed.values())
        self.variable_mods = tuple(t.name for t in variable)

    def __len__(self) -> int:
        return len(self.tokens)

    def __repr__(self) -> str:
        return (
            f"Vocabulary(fixed_mods={self.fixed_mods}, variable_mods={self.variable_mods}, "
            f"fold_isoleucine={self.fold_isoleucine})"
        )

    def __getitem__(self, name: str) -> Token:
        return self._by_name[name]

    @property
    def nterm_tokens(self) -> tuple[Token, ...]:
        """The N-terminal modification tokens."""
        return tuple(t for t in self.tokens if t.is_nterm)

    # -- masses ------------------------------------------------------------------------------

    def residue_masses(self, peptide: Sequence[str]) -> np.ndarray:
        """Return one mass per residue, with an N-terminal modification added to the first."""
        masses = [self._by_name[t].mass for t in peptide]
        if peptide and self._by_name[peptide[0]].is_nterm:
            if len(masses) < 2:
                raise PeptideError(f"N-terminal modification {peptide[0]} without residues")
            masses = [masses[0] + masses[1], *masses[2:]]
        return np.array(masses)

    def peptide_mass(self, peptide: Sequence[str]) -> float:
        """Return the neutral monoisotopic mass of a peptide."""
        return float(sum(self._by_name[t].mass for t in peptide)) + H2O

    def n_residues(self, peptide: Sequence[str]) -> int:
        """Return the peptide length in residues (an N-terminal modification is not one)."""
        return len(self.residues(peptide))

    def residues(self, peptide: Sequence[str]) -> str:
        """Return the peptide's residue letters, modifications left out (``M+15.995`` -> ``M``)."""
        return "".join(self._by_name[t].residue for t in peptide)

    # -- reading -----------------------------------------------------------------------------

    def parse(self, text: str) -> tuple[str, ...]:
        """Read a peptide written in any supported notation.

        Raises
        ------
        PeptideError
            Naming the residue or modification that the vocabulary lacks, or the syntax problem.
        """
        s = re.sub(r"/\d+$", "", text.strip())  # a ProForma charge is not part of the peptide
        flanked = _FLANKED.match(s)
        if flanked:
            s = flanked.group(1)
        if not s:
            raise PeptideError("empty peptide", text)
        if "[" in s or "<" in s or "{" in s:
            nterm, residues = _split_proforma(s, text)
        else:
            nterm, residues = _split_mass_offset(s, text)
        return self._tokens(nterm, residues, text)

    def _tokens(
        self, nterm: list[float], residues: list[tuple[str, list[float]]], text: str
    ) -> tuple[str, ...]:
        if not residues:
            raise PeptideError("no residues", text)
        out: list[str] = []
        nterm_token = self._match_nterm(sum(nterm), text) if nterm else None
        for i, (aa, deltas) in enumerate(residues):
            if aa == "I" and self.fold_isoleucine:
                aa = "L"
            if aa not in RESIDUE_MASSES:
                raise PeptideError(f"unknown residue {aa!r}", text)
            if not deltas:
                token = self.fixed.get(aa) or self._by_name.get(aa)
                if token is None:
                    raise PeptideError(f"residue {aa} is not in the vocabulary", text)
                out.append(token.name)
                continue
            delta = sum(deltas)
            token = self._match_residue(aa, delta)
            if token is None and i == 0 and nterm_token is None:
                # A terminal delta written on the first residue ("Q-17.027EPER", "C+39.995")
                # is the same chemistry as an N-terminal token plus that residue.
                split = self._split_first(aa, delta)
                if split is not None:
                    nterm_token, token = split
            if token is None:
                raise PeptideError(f"modification {aa}{delta:+.3f} is not in the vocabulary", text)
            out.append(token.name)
        return ((nterm_token.name,) if nterm_token else ()) + tuple(out)

    def _match_residue(self, aa: str, delta: float) -> Token | None:
        for t in self.tokens:
            if t.residue == aa and t.deltas and abs(t.delta - delta) < DELTA_TOL_DA:
                return t
        return None

    def _match_nterm(self, delta: float, text: str) -> Token:
        for t in self.nterm_tokens:
            if abs(t.delta - delta) < DELTA_TOL_DA:
                return t
        raise PeptideError(f"N-terminal modification {delta:+.3f} is not in the vocabulary", text)

    def _split_first(self, aa: str, delta: float) -> tuple[Token, Token] | None:
        candidates = [t for t in self.tokens if t.residue == aa]
        for n in self.nterm_tokens:
            for t in candidates:
                if abs(n.delta + t.delta - delta) < DELTA_TOL_DA:
                    return n, t
        return None

    # -- writing -----------------------------------------------------------------------------

    def mass_offset(self, peptide: Sequence[str]) -> str:
        """Write a peptide as MassIVE-KB does: ``+42.011PEPTM+15.995C+57.021``."""
        return "".join(peptide)

    def proforma(self, peptide: Sequence[str]) -> str:
        """Write a peptide in ProForma 2.0 with Unimod names: ``[Acetyl]-PEPTM[Oxidation]C[...]``."""
        parts = []
        for name in peptide:
            t = self._by_name[name]
            if t.is_nterm:
                if len(t.deltas) == 1 and _unimod_name(t.delta):
                    parts.append(f"[{_unimod_name(t.delta)}]-")
                else:
                    parts.append(f"[{t.delta:+.6f}]-")
                continue
            mods = "".join(f"[{_unimod_name(d) or format(d, '+.6f')}]" for d in t.deltas)
            parts.append(t.residue + mods)
        return "".join(parts)


def _split_mass_offset(s: str, text: str) -> tuple[list[float], list[tuple[str, list[float]]]]:
    """Split ``+42.011PEPTM+15.995IDE`` (or PEAKS ``M(+15.99)``) into N-term and residues."""
    nterm: list[float] = []
    residues: list[tuple[str, list[float]]] = []
    pos = 0
    pattern = re.compile(rf"([A-Z])|\(({_DELTA}|\d*\.?\d+)\)|({_DELTA})")
    while pos < len(s):
        m = pattern.match(s, pos)
        if m is None:
            raise PeptideError(f"cannot read {s[pos:pos + 10]!r}", text)
        if m.group(1):
            residues.append((m.group(1), []))
        else:
            delta = float(m.group(2) or m.group(3))
            (residues[-1][1] if residues else nterm).append(delta)
        pos = m.end()
    return nterm, residues


def _resolve_proforma_mod(mod: str, text: str) -> float:
    """Return the mass delta of one ProForma modification (name, accession or delta)."""
    body = mod.strip()
    for prefix in ("Obs:", "obs:", "U:", "u:"):
        if body.startswith(prefix):
            body = body[len(prefix) :]
    if re.fullmatch(_DELTA, body):
        return float(body)
    if body.upper().startswith("UNIMOD:"):
        number = body.split(":", 1)[1]
        for acc, mass in UNIMOD.values():
            if number.isdigit() and int(number) == acc:
                return mass
        raise PeptideError(f"Unimod accession [{mod}] is not known to trmseq", text)
    for name, (_, mass) in UNIMOD.items():
        if body.lower() == name.lower():
            return mass
    raise PeptideError(f"unknown modification [{mod}]", text)


def _split_proforma(s: str, text: str) -> tuple[list[float], list[tuple[str, list[float]]]]:
    """Split a ProForma 2.0 peptidoform (the subset that de novo sequencing uses)."""
    global_mods: dict[str, list[float]] = {}
    while s.startswith("<"):
        m = re.match(r"<\[([^\]]+)\]@([A-Z](?:,[A-Z])*)>", s)
        if m is None:
            raise PeptideError("cannot read global modification", text)
        delta = _resolve_proforma_mod(m.group(1), text)
        for aa in m.group(2).split(","):
            global_mods.setdefault(aa, []).append(delta)
        s = s[m.end() :]
    if "{" in s or "?" in s or "#" in s:
        raise PeptideError("labile, unlocalised or grouped modifications are not supported", text)
    nterm: list[float] = []
    m = re.match(r"((?:\[[^\]]+\])+)-", s)
    if m:
        nterm = [_resolve_proforma_mod(x, text) for x in re.findall(r"\[([^\]]+)\]", m.group(1))]
        s = s[m.end() :]
    if re.search(r"-\[[^\]]+\]$", s):
        raise PeptideError("C-terminal modifications are not supported", text)
    residues: list[tuple[str, list[float]]] = []
    pos = 0
    pattern = re.compile(r"([A-Z])((?:\[[^\]]+\])*)")
    while pos < len(s):
        m = pattern.match(s, pos)
        if m is None:
            raise PeptideError(f"cannot read {s[pos:pos + 10]!r}", text)
        mods = [_resolve_proforma_mod(x, text) for x in re.findall(r"\[([^\]]+)\]", m.group(2))]
        residues.append((m.group(1), mods + global_mods.get(m.group(1), [])))
        pos = m.end()
    return nterm, residues
