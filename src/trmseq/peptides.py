"""Where synthetic peptides come from: random tryptic-like sequences or a protein FASTA.

Each function takes a ``numpy.random.Generator``; nothing here seeds global state.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trmseq.errors import InputError
from trmseq.vocab import Vocabulary

# Amino-acid frequencies in UniProtKB/Swiss-Prot (release statistics, percent).
AA_FREQUENCY = {
    "A": 8.25, "R": 5.53, "N": 4.06, "D": 5.45, "C": 1.37, "Q": 3.93, "E": 6.75, "G": 7.07,
    "H": 2.27, "I": 5.96, "L": 9.66, "K": 5.84, "M": 2.42, "F": 3.86, "P": 4.70, "S": 6.56,
    "T": 5.34, "W": 1.08, "Y": 2.92, "V": 6.87,
}  # fmt: skip


@dataclass(frozen=True)
class PeptideSampler:
    """Draws modified peptides as vocabulary tokens.

    Parameters
    ----------
    vocab
        The residues and modifications that may appear.
    min_length, max_length
        Residue count range (inclusive).
    mod_rate
        Probability that a residue with a variable modification carries it.
    nterm_rate
        Probability that a peptide carries one of the N-terminal modifications.
    proteins
        Peptides to draw from (e.g. a tryptic digest); None draws random tryptic-like ones.
    """

    vocab: Vocabulary
    min_length: int = 6
    max_length: int = 30
    mod_rate: float = 0.15
    nterm_rate: float = 0.05
    proteins: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.min_length <= self.max_length:
            raise ValueError("need 1 <= min_length <= max_length")
        if not (0 <= self.mod_rate <= 1 and 0 <= self.nterm_rate <= 1):
            raise ValueError("modification rates must lie in [0, 1]")

    def residues(self, rng: np.random.Generator) -> str:
        """Return an unmodified peptide sequence (I folded into L when the vocabulary folds)."""
        if self.proteins:
            seq = self.proteins[rng.integers(len(self.proteins))]
        else:
            seq = _random_tryptic(self._length(rng), rng)
        return seq.replace("I", "L") if self.vocab.fold_isoleucine else seq

    def _length(self, rng: np.random.Generator) -> int:
        # Tryptic peptides cluster around 8-15 residues; keep a uniform share so long ones occur.
        if rng.random() < 0.3:
            return int(rng.integers(self.min_length, self.max_length + 1))
        length = int(round(rng.lognormal(np.log(12.0), 0.35)))
        return int(np.clip(length, self.min_length, self.max_length))

    def sample(self, rng: np.random.Generator) -> tuple[str, ...]:
        """Return one peptide as vocabulary tokens, modifications drawn at the configured rates."""
        tokens = []
        for aa in self.residues(rng):
            plain = self.vocab.fixed.get(aa) or self.vocab[aa]
            options = [t for t in self.vocab.tokens if t.residue == aa and t is not plain]
            if options and rng.random() < self.mod_rate:
                tokens.append(options[rng.integers(len(options))].name)
            else:
                tokens.append(plain.name)
        nterm = self.vocab.nterm_tokens
        if nterm and rng.random() < self.nterm_rate:
            tokens.insert(0, nterm[rng.integers(len(nterm))].name)
        return tuple(tokens)


_NONTERMINAL = "".join(a for a in AA_FREQUENCY if a not in "KR")
_P_NONTERMINAL = np.array([AA_FREQUENCY[a] for a in _NONTERMINAL]) / sum(
    AA_FREQUENCY[a] for a in _NONTERMINAL
)
# Missed cleavages (an inner K or R) in the real training-side peptides of real_dev.mgf: 25% of
# them have one or more (0: 75%, 1: 18.5%, 2: 5.2%, 3+: 1.5%), 20-24% up to 18 residues and
# 54% from 19 on, and half of the 3+ precursors do. The count is drawn geometrically with this
# chance of one more, rising with length (benchmarks/peptide_stats.py).
MISSED_CLEAVAGE_RATE = 0.22
MISSED_CLEAVAGE_RATE_LONG = 0.5  # reached at 25 residues, from MISSED_CLEAVAGE_RATE at 15


def _random_tryptic(length: int, rng: np.random.Generator) -> str:
    """A random sequence with natural residue frequencies ending, nine times in ten, in K or R.

    Like real tryptic peptides, some carry missed cleavages: a K or R inside (or first).
    """
    body = rng.choice(list(_NONTERMINAL), size=length, p=_P_NONTERMINAL)
    if rng.random() < 0.9:
        body[-1] = "K" if rng.random() < 0.5 else "R"
    long = float(np.clip((length - 15) / 10, 0.0, 1.0))
    rate = MISSED_CLEAVAGE_RATE + (MISSED_CLEAVAGE_RATE_LONG - MISSED_CLEAVAGE_RATE) * long
    missed = 0
    while missed < length - 1 and rng.random() < rate:
        missed += 1
    for i in rng.choice(length - 1, size=missed, replace=False):
        body[i] = "K" if rng.random() < 0.5 else "R"
    return "".join(body)


def read_fasta(path: str | Path) -> Iterator[tuple[str, str]]:
    """Yield (header, sequence) pairs from a FASTA file.

    Raises
    ------
    InputError
        If the file cannot be read or holds no ``>`` records.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"{path}: cannot read FASTA ({e.strerror})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file; expected FASTA") from None
    if not text.lstrip().startswith(">"):
        raise InputError(f"{path}: not a FASTA file (no '>' header on the first line)")
    for record in text.split(">")[1:]:
        header, _, body = record.partition("\n")
        yield header.strip(), re.sub(r"\s+", "", body).upper()


def digest(
    protein: str, min_length: int, max_length: int, missed_cleavages: int = 1
) -> list[str]:
    """Return the tryptic peptides of a protein (after K/R, not before P) within a length range.

    Peptides with residues outside the 20 standard ones (X, B, Z, U, O, *) are left out.
    """
    sites = [0] + [m.end() for m in re.finditer(r"[KR](?!P)", protein)]
    if sites[-1] != len(protein):
        sites.append(len(protein))
    peptides = []
    for i in range(len(sites) - 1):
        for j in range(i + 1, min(i + 2 + missed_cleavages, len(sites))):
            pep = protein[sites[i] : sites[j]]
            if min_length <= len(pep) <= max_length and set(pep) <= set(AA_FREQUENCY):
                peptides.append(pep)
    return peptides


def fasta_peptides(
    path: str | Path, min_length: int, max_length: int, missed_cleavages: int = 1
) -> tuple[str, ...]:
    """Return the distinct tryptic peptides of every protein in a FASTA file, sorted.

    Raises
    ------
    InputError
        If the file yields no peptide in the length range.
    """
    found: set[str] = set()
    for _, sequence in read_fasta(path):
        found.update(digest(sequence, min_length, max_length, missed_cleavages))
    if not found:
        raise InputError(f"{path}: no tryptic peptides of length {min_length}-{max_length}")
    return tuple(sorted(found))


# Precursor charge as round(CHARGE_BASE + CHARGE_PER_RESIDUE * length + CHARGE_PER_BASIC * basic
# + N(0, CHARGE_SD)), with ``basic`` the H and the K/R other than the last residue: a
# maximum-likelihood fit to the 1,326 training-side peptides of real_dev.mgf (on the test side
# its log-loss is 0.41 per peptide against 0.86 for a charge from length alone). Real 3+
# peptides are the ones with extra basic sites, not only the long ones.
CHARGE_BASE = 1.6
CHARGE_PER_RESIDUE = 0.03
CHARGE_PER_BASIC = 0.25
CHARGE_SD = 0.4


def basic_sites(residues: str) -> int:
    """Residues beyond the C-terminal one that can hold a proton: every H, and K/R before the last."""
    return residues[:-1].count("K") + residues[:-1].count("R") + residues.count("H")


def sample_charge(
    residues: str, rng: np.random.Generator, charges: Sequence[int] = (1, 2, 3, 4)
) -> int:
    """Return a precursor charge for a peptide's residue letters, as in tryptic digests.

    The charge grows with length and with the basic residues (H, and K/R before the last
    residue) that can hold a proton.
    """
    mean = CHARGE_BASE + CHARGE_PER_RESIDUE * len(residues) + CHARGE_PER_BASIC * basic_sites(residues)
    z = int(round(mean + rng.normal(0.0, CHARGE_SD)))
    return int(np.clip(z, min(charges), max(charges)))
