"""Peptide notation: parsing every notation the field uses, writing it back, and errors."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pyteomics_ref as ref
from trmseq.config import VocabConfig
from trmseq.errors import ConfigError, PeptideError
from trmseq.vocab import DEFAULT_VARIABLE_MODS, PHOSPHO_MODS, Vocabulary

VOCAB = Vocabulary()
PHOSPHO_VOCAB = Vocabulary(variable_mods=DEFAULT_VARIABLE_MODS + PHOSPHO_MODS)

PEPTIDE = ("P", "E", "P", "T", "L", "D", "E")
OX = ("P", "E", "P", "T", "M+15.995", "L", "D", "E")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # plain residues; I is folded to L; plain C means carbamidomethyl C
        ("PEPTIDE", PEPTIDE),
        ("  PEPTIDE\n", PEPTIDE),
        ("PEPCK", ("P", "E", "P", "C+57.021", "K")),
        # mass-offset (MassIVE-KB, Casanovo v4, nine-species benchmark)
        ("PEPTM+15.995IDE", OX),
        ("C+57.021PEPK", ("C+57.021", "P", "E", "P", "K")),
        ("N+0.984Q+0.984K", ("N+0.984", "Q+0.984", "K")),
        ("+42.011PEP", ("+42.011", "P", "E", "P")),
        ("+43.006QNK", ("+43.006", "Q", "N", "K")),
        ("-17.027QNK", ("-17.027", "Q", "N", "K")),
        ("+43.006-17.027QNK", ("+43.006-17.027", "Q", "N", "K")),
        ("+42.011M+15.995K", ("+42.011", "M+15.995", "K")),
        # a terminal delta written on the first residue is the N-terminal token
        ("Q-17.027EPER", ("-17.027", "Q", "E", "P", "E", "R")),
        ("C+39.995ASLQK", ("-17.027", "C+57.021", "A", "S", "L", "Q", "K")),
        # ProForma 2.0
        ("PEPTM[Oxidation]IDE", OX),
        ("PEPTM[oxidation]IDE", OX),
        ("PEPTM[UNIMOD:35]IDE", OX),
        ("PEPTM[+15.995]IDE", OX),
        ("PEPTM[U:Oxidation]IDE", OX),
        ("PEPTM[Obs:+15.995]IDE", OX),
        ("C[Carbamidomethyl]PEK", ("C+57.021", "P", "E", "K")),
        ("C[UNIMOD:4]PEK", ("C+57.021", "P", "E", "K")),
        ("N[Deamidated]Q[Deamidated]K", ("N+0.984", "Q+0.984", "K")),
        ("[Acetyl]-PEP", ("+42.011", "P", "E", "P")),
        ("[UNIMOD:1]-PEP", ("+42.011", "P", "E", "P")),
        ("[Carbamyl]-QK", ("+43.006", "Q", "K")),
        ("[Ammonia-loss]-QK", ("-17.027", "Q", "K")),
        ("[Carbamyl][Ammonia-loss]-QK", ("+43.006-17.027", "Q", "K")),
        ("[+25.980265]-QK", ("+43.006-17.027", "Q", "K")),  # Casanovo v5's combined token
        ("<[Carbamidomethyl]@C>PEPCK", ("P", "E", "P", "C+57.021", "K")),
        ("PEPTIDE/2", PEPTIDE),
        ("[Acetyl]-PEPTM[Oxidation]IDE/3", ("+42.011", *OX)),
        # PEAKS / DeepNovo
        ("C(+57.02)M(+15.99)N(+.98)K", ("C+57.021", "M+15.995", "N+0.984", "K")),
        ("PEPTM(+15.99)IDE", OX),
        # flanked
        ("K.PEPTIDE.R", PEPTIDE),
        ("_.PEPTIDE._", PEPTIDE),
        ("-.PEPTIDE.-", PEPTIDE),
        ("K.PEPTM+15.995IDE.-", OX),
        ("R.+42.011PEP.A", ("+42.011", "P", "E", "P")),
    ],
)
def test_parse_notations(text: str, expected: tuple[str, ...]) -> None:
    assert VOCAB.parse(text) == expected


def test_isoleucine_kept_when_not_folded() -> None:
    vocab = Vocabulary(fold_isoleucine=False)
    assert vocab.parse("PEPTIDE") == ("P", "E", "P", "T", "I", "D", "E")
    assert "I" in vocab.names


def test_default_vocabulary_contents() -> None:
    names = set(VOCAB.names)
    assert names == set(ref.DEFAULT_RESIDUE_TOKENS) | set(ref.DEFAULT_NTERM_TOKENS)
    assert "I" not in names and "C" not in names  # folded / fixed
    for name in VOCAB.names:
        residue, delta = ref.TOKEN_CHEMISTRY[name]
        expected = (ref.AA[residue] if residue else 0.0) + delta
        assert VOCAB[name].mass == pytest.approx(expected, abs=1e-6), name
        assert VOCAB[name].is_nterm == (residue == "")


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("PEPXIDE", "X"),
        ("PEPBK", "B"),
        ("PEPTS+79.966K", "S+79.966"),
        ("PEPS[Phospho]K", "S+79.966"),
        ("E-18.011AK", "E-18.011"),
        ("PEPC+236.157K", "C+236.157"),
        ("+79.966PEPK", "+79.966"),
        ("[Phospho]-PEPK", "+79.966"),
        ("PEPTM[Foo]K", "Foo"),
        ("PEPTM[UNIMOD:999]K", "UNIMOD:999"),
        ("PEPTM[15.995]K", "15.995"),  # unsigned deltas are not ProForma
        ("PEPK[Acetyl]", "K+42.011"),
    ],
)
def test_unknown_residue_or_modification_is_named(text: str, named: str) -> None:
    with pytest.raises(PeptideError) as info:
        VOCAB.parse(text)
    assert named in str(info.value)
    assert named in info.value.reason
    assert text.strip() in str(info.value)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[Phospho]?PEPSK", "not supported"),
        ("PEPT{Glycan:Hex}K", "not supported"),
        ("PEPK-[Amidated]", "C-terminal"),
        ("", "empty"),
        ("   ", "empty"),
        ("+42.011", "no residues"),
        ("pepk", "pepk"),
        ("PEP*K", "*K"),
        ("PEP K", " K"),
        ("<[Carbamidomethyl]C>PEPCK", "global"),
    ],
)
def test_unsupported_syntax_raises(text: str, words: str) -> None:
    with pytest.raises(PeptideError, match=re.escape(words)):
        VOCAB.parse(text)


def test_phospho_only_when_configured() -> None:
    vocab = VocabConfig(variable_mods=(*DEFAULT_VARIABLE_MODS, "S+79.966")).build()
    expected = ("P", "E", "P", "S+79.966", "K")
    assert vocab.parse("PEPS+79.966K") == expected
    assert vocab.parse("PEPS[Phospho]K") == expected
    assert vocab.parse("PEPS[UNIMOD:21]K") == expected
    assert vocab.parse("PEPS(+79.97)K") == expected
    with pytest.raises(PeptideError, match=re.escape("T+79.966")):
        vocab.parse("PEPT+79.966K")
    with pytest.raises(PeptideError, match=re.escape("S+79.966")):
        VOCAB.parse("PEPS+79.966K")


def test_writers_by_hand() -> None:
    peptide = ("+42.011", "P", "E", "P", "T", "M+15.995", "C+57.021", "N+0.984", "K")
    assert VOCAB.mass_offset(peptide) == "+42.011PEPTM+15.995C+57.021N+0.984K"
    assert (
        VOCAB.proforma(peptide)
        == "[Acetyl]-PEPTM[Oxidation]C[Carbamidomethyl]N[Deamidated]K"
    )
    assert VOCAB.proforma(("-17.027", "Q", "K")) == "[Ammonia-loss]-QK"
    assert VOCAB.proforma(("+43.006", "Q", "K")) == "[Carbamyl]-QK"


def test_invalid_vocabulary() -> None:
    with pytest.raises(PeptideError):
        Vocabulary(fixed_mods=("+42.011",))
    with pytest.raises(PeptideError):
        Vocabulary(variable_mods=("M+15.995", "M+15.995"))
    with pytest.raises(PeptideError, match="X"):
        Vocabulary(variable_mods=("X+1.0",))
    with pytest.raises(ConfigError):
        VocabConfig(variable_mods=("M+15.995", "oxidation"))


def test_nterm_token_alone_has_no_residue_masses() -> None:
    with pytest.raises(PeptideError):
        VOCAB.residue_masses(("+42.011",))


# -- round trips ---------------------------------------------------------------------------------

RESIDUE_TOKENS = ref.DEFAULT_RESIDUE_TOKENS + ref.PHOSPHO_TOKENS


@st.composite
def peptides(draw: st.DrawFn) -> tuple[str, ...]:
    body = draw(st.lists(st.sampled_from(RESIDUE_TOKENS), min_size=1, max_size=30))
    nterm = draw(st.none() | st.sampled_from(ref.DEFAULT_NTERM_TOKENS))
    return ((nterm,) if nterm else ()) + tuple(body)


@settings(max_examples=300)
@given(peptides())
def test_mass_offset_round_trip(peptide: tuple[str, ...]) -> None:
    assert PHOSPHO_VOCAB.parse(PHOSPHO_VOCAB.mass_offset(peptide)) == peptide


@settings(max_examples=300)
@given(peptides())
def test_proforma_round_trip(peptide: tuple[str, ...]) -> None:
    text = PHOSPHO_VOCAB.proforma(peptide)
    assert PHOSPHO_VOCAB.parse(text) == peptide
    assert PHOSPHO_VOCAB.parse(f"{text}/2") == peptide


@settings(max_examples=200)
@given(peptides())
def test_pyteomics_reads_our_proforma_to_the_same_mass(peptide: tuple[str, ...]) -> None:
    text = PHOSPHO_VOCAB.proforma(peptide)
    assert ref.proforma_mass(text) == pytest.approx(ref.peptide_mass(peptide), abs=1e-5)
    assert PHOSPHO_VOCAB.peptide_mass(peptide) == pytest.approx(ref.proforma_mass(text), abs=1e-5)


@settings(max_examples=200)
@given(peptides())
def test_flanked_and_peaks_forms_parse_the_same(peptide: tuple[str, ...]) -> None:
    text = PHOSPHO_VOCAB.mass_offset(peptide)
    assert PHOSPHO_VOCAB.parse(f"K.{text}.A") == peptide
    peaks = re.sub(r"([+-]\d+\.\d+)", r"(\1)", text)
    assert PHOSPHO_VOCAB.parse(peaks) == peptide


def test_casanovo_proforma_annotations(casanovo_sample) -> None:
    from pyteomics import mgf

    seen = 0
    for spectrum in mgf.MGF(str(casanovo_sample)):
        seq = spectrum["params"]["seq"]
        peptide = VOCAB.parse(seq)
        assert VOCAB.peptide_mass(peptide) == pytest.approx(ref.proforma_mass(seq), abs=1e-5)
        seen += 1
    assert seen == 10


@settings(max_examples=300)
@given(
    st.text(alphabet="ACDEFGHIKLMNPQRSTVWYXB[]()<>@-+.0123456789/_:{}?#Oxidation ", max_size=30)
    | st.text(max_size=20)
)
def test_parse_raises_only_peptide_error(text: str) -> None:
    try:
        peptide = VOCAB.parse(text)
    except PeptideError:
        return
    assert peptide and all(t in VOCAB.names for t in peptide)
