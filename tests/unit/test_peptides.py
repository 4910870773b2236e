"""Peptide sources: tryptic digestion, FASTA reading, the sampler and charge draws."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pyteomics import mgf

import pyteomics_ref as ref
from trmseq.errors import InputError
from trmseq.peptides import (
    PeptideSampler,
    digest,
    fasta_peptides,
    read_fasta,
    sample_charge,
)
from trmseq.synthetic import write_synthetic_mgf
from trmseq.vocab import Vocabulary

# Two tiny proteins; their tryptic peptides are listed by hand below (K/R not before P).
FASTA = """\
>sp|P1|ONE first protein
AAAAAAKGGGGGG
RPIIILLLKEEEEEER
>sp|P2|TWO second protein
mmmmmmmmkddddddddk
"""
P1 = "AAAAAAKGGGGGGRPIIILLLKEEEEEER"
P2 = "MMMMMMMMKDDDDDDDDK"
NO_MISSED = {"AAAAAAK", "GGGGGGRPIIILLLK", "EEEEEER", "MMMMMMMMK", "DDDDDDDDK"}
ONE_MISSED = {"AAAAAAKGGGGGGRPIIILLLK", "GGGGGGRPIIILLLKEEEEEER", "MMMMMMMMKDDDDDDDDK"}


@pytest.fixture
def fasta(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.fasta"
    path.write_text(FASTA)
    return path


def test_read_fasta(fasta: Path) -> None:
    records = list(read_fasta(fasta))
    assert records == [("sp|P1|ONE first protein", P1), ("sp|P2|TWO second protein", P2)]


def test_digest_by_hand() -> None:
    assert set(digest(P1, 1, 50, 0)) == {"AAAAAAK", "GGGGGGRPIIILLLK", "EEEEEER"}
    assert set(digest(P1, 1, 50, 1)) == {
        "AAAAAAK", "GGGGGGRPIIILLLK", "EEEEEER",
        "AAAAAAKGGGGGGRPIIILLLK", "GGGGGGRPIIILLLKEEEEEER",
    }  # fmt: skip
    assert set(digest(P1, 1, 50, 2)) == set(digest(P1, 1, 50, 1)) | {P1}
    assert set(digest(P1, 8, 20, 1)) == {"GGGGGGRPIIILLLK"}
    assert digest("PEPKXAAAAAAR", 1, 50, 0) == ["PEPK"]  # X is not a standard residue
    assert set(digest("AAAKRGGGK", 1, 50, 0)) == {"AAAK", "R", "GGGK"}


def test_fasta_peptides(fasta: Path) -> None:
    assert fasta_peptides(fasta, 6, 30, 0) == tuple(sorted(NO_MISSED))
    assert fasta_peptides(fasta, 6, 30, 1) == tuple(sorted(NO_MISSED | ONE_MISSED))


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"no header here\nACDEFGHIK\n", "FASTA"),
        (b"", "FASTA"),
        (bytes(range(128, 256)), "not a text file"),
        (b">p\nKKKKK\n", "no tryptic peptides"),
    ],
)
def test_bad_fasta(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "bad.fasta"
    path.write_bytes(content)
    with pytest.raises(InputError, match=words) as info:
        fasta_peptides(path, 6, 30)
    assert str(path) in str(info.value)


def test_missing_fasta(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nothere.fasta"):
        fasta_peptides(tmp_path / "nothere.fasta", 6, 30)


def test_generated_spectra_come_from_the_fasta(fasta: Path, tmp_path: Path) -> None:
    out = tmp_path / "f.mgf"
    write_synthetic_mgf(out, 60, Vocabulary(), seed=3, preset="clean", fasta=fasta)
    allowed = {p.replace("I", "L") for p in NO_MISSED | ONE_MISSED}
    drawn = set()
    for record in mgf.MGF(str(out)):
        tokens = ref.split_mass_offset(record["params"]["seq"])
        drawn.add("".join(t[0] for t in tokens if t[0].isalpha()))
    assert drawn <= allowed
    assert len(drawn) >= 5


def test_sampler_lengths_and_validation() -> None:
    vocab = Vocabulary()
    sampler = PeptideSampler(vocab, min_length=7, max_length=9)
    for i in range(300):
        peptide = sampler.sample(np.random.default_rng([1, i]))
        assert 7 <= vocab.n_residues(peptide) <= 9
    with pytest.raises(ValueError):
        PeptideSampler(vocab, min_length=10, max_length=5)
    with pytest.raises(ValueError):
        PeptideSampler(vocab, min_length=0)
    with pytest.raises(ValueError):
        PeptideSampler(vocab, mod_rate=1.5)


def test_sampler_is_deterministic_per_generator() -> None:
    sampler = PeptideSampler(Vocabulary())
    a = [sampler.sample(np.random.default_rng([5, i])) for i in range(20)]
    b = [sampler.sample(np.random.default_rng([5, i])) for i in range(20)]
    assert a == b
    assert len(set(a)) == 20


def test_sample_charge() -> None:
    rng = np.random.default_rng(0)
    short = [sample_charge("PEPTLDEK", rng) for _ in range(500)]
    long = [sample_charge("PEPTLDEAGSLVNAEFGTAVYQEDTLGNK", rng) for _ in range(500)]
    basic = [sample_charge("PEHTKDERAK", rng) for _ in range(500)]  # H and two inner K/R
    plain = [sample_charge("PEGTLDEAAK", rng) for _ in range(500)]  # same length, none
    assert set(short) | set(long) | set(basic) <= {1, 2, 3, 4}
    assert np.mean(long) > np.mean(short)
    assert np.mean(basic) > np.mean(plain) + 0.4
    # the last residue's K/R is the one every tryptic peptide has: it adds no charge
    ends_r = np.mean([sample_charge("PEGTLDEAAR", rng) for _ in range(2000)])
    ends_a = np.mean([sample_charge("PEGTLDEAAA", rng) for _ in range(2000)])
    assert ends_r == pytest.approx(ends_a, abs=0.08)
    assert np.mean(np.array(plain) == 2) > 0.7  # a plain 10-mer is mostly 2+ (real: 92%)
    assert {sample_charge("A" * n, rng, (2, 3)) for n in range(1, 40) for _ in range(5)} <= {2, 3}


def test_random_peptides_have_missed_cleavages_as_real_ones_do() -> None:
    """About a quarter of real tryptic peptides carry an inner K/R (benchmarks/peptide_stats.py)."""
    vocab = Vocabulary()
    sampler = PeptideSampler(vocab, min_length=8, max_length=14)
    inner = []
    for i in range(3000):
        residues = vocab.residues(sampler.sample(np.random.default_rng([2, i])))
        inner.append(sum(aa in "KR" for aa in residues[:-1]))
    counts = np.bincount(inner, minlength=4)
    assert 0.17 < counts[1:].sum() / len(inner) < 0.30
    assert counts[1] > 2 * counts[2] > 0  # one missed cleavage is far commoner than two
