"""Fragment intensities from a stronger forward model, for training's synthetic spectra.

trmseq's own intensity model (:mod:`trmseq.intensity`) is small and was fitted on about 900 real
scans, few of them charge 3+; on the 3+ spectra of the real test split its b/y pattern (at
fragment charges 1 and 2) correlates with the observed one at a median 0.39, where MS2PIP's
HCDch2 model reaches 0.69 (docs/synthetic.md). MS2PIP is too heavy a dependency for trmseq, so
it serves as a teacher offline: ``benchmarks/ms2pip_bank.py``, run once in an environment that
has it, draws peptides and charges as training does and stores MS2PIP's b and y intensities at
fragment charges 1 and 2 in a :class:`TeacherBank` file. A run whose ``train.teacher_bank``
names that file draws its synthetic peptides and charges from the bank (one entry in
:data:`VALIDATION_EVERY` is kept for validation), and the ``realistic`` preset takes each b/y
ion's level and its split between fragment charges from it
(:func:`trmseq.synthetic.simulate_peaks`). Nothing at prediction time uses it.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from trmseq.errors import ConfigError, PeptideError
from trmseq.vocab import Vocabulary

# Rows of an entry's levels: b 1+, y 1+, b 2+, y 2+; each b row in b1.. order and each y row
# in y1.. order, n - 1 values for a peptide of n residues.
N_ROWS = 4
VALIDATION_EVERY = 50  # entries 0, 50, 100, ... validate a run; the others train it


@dataclass(frozen=True)
class TeacherBank:
    """Peptides with their precursor charge and teacher b/y intensities, entry by entry.

    Entry ``i``'s levels are ``levels[start[i]:start[i + 1]]`` reshaped to (4, n - 1).
    """

    peptides: tuple[tuple[str, ...], ...]  # vocabulary tokens
    charge: np.ndarray  # int64
    levels: np.ndarray  # float32, all entries one after another
    start: np.ndarray  # int64, len(peptides) + 1 offsets into levels
    _eligible: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.peptides)

    @property
    def n_residues(self) -> np.ndarray:
        """Residues of each entry's peptide."""
        return np.diff(self.start) // N_ROWS + 1

    def entry(self, i: int) -> tuple[tuple[str, ...], int, np.ndarray]:
        """Entry ``i``: (peptide tokens, precursor charge, levels of shape (4, n - 1))."""
        levels = self.levels[self.start[i] : self.start[i + 1]].astype(np.float64)
        return self.peptides[i], int(self.charge[i]), levels.reshape(N_ROWS, -1)

    def eligible(self, max_length: int, charges: tuple[int, ...]) -> np.ndarray:
        """Indices of the entries of at most ``max_length`` residues and one of ``charges``."""
        key = (max_length, charges)
        if key not in self._eligible:
            keep = (self.n_residues <= max_length) & np.isin(self.charge, charges)
            self._eligible[key] = np.flatnonzero(keep)
        return self._eligible[key]

    def draw(
        self, rng: np.random.Generator, max_length: int, charges: tuple[int, ...]
    ) -> tuple[tuple[str, ...], int, np.ndarray]:
        """A uniformly drawn entry among the :meth:`eligible` ones (see :meth:`entry`)."""
        pool = self.eligible(max_length, charges)
        if not len(pool):
            raise ValueError(f"no teacher entry of at most {max_length} residues and charge in {charges}")
        return self.entry(int(pool[rng.integers(len(pool))]))

    def subset(self, keep: np.ndarray) -> TeacherBank:
        """The entries where the boolean mask ``keep`` is true."""
        index = np.flatnonzero(keep)
        return TeacherBank.from_levels([self.peptides[i] for i in index], self.charge[index],
                                       [self.levels[self.start[i] : self.start[i + 1]] for i in index])  # fmt: skip

    def split(self, validation: bool) -> TeacherBank:
        """The entries that validate a run (one in :data:`VALIDATION_EVERY`), or the others."""
        held_out = np.arange(len(self)) % VALIDATION_EVERY == 0
        return self.subset(held_out if validation else ~held_out)

    def save(self, path: str | Path, vocab: Vocabulary) -> None:
        """Write the bank (peptides in mass-offset notation) as a compressed ``.npz``."""
        np.savez_compressed(
            path, peptides=np.array([vocab.mass_offset(p) for p in self.peptides]),
            charge=self.charge, levels=self.levels, start=self.start,
        )  # fmt: skip

    @classmethod
    def load(cls, path: str | Path, vocab: Vocabulary) -> TeacherBank:
        """Read a bank written by :meth:`save`; its peptides must fit ``vocab``.

        Raises
        ------
        ConfigError
            Naming the file and what is wrong with it (one line).
        """
        try:
            with np.load(path) as data:
                texts, charge, levels, start = data["peptides"], data["charge"], data["levels"], data["start"]
        except OSError as error:
            raise ConfigError(f"{path}: cannot read the teacher bank ({error.strerror or error})") from None
        except (KeyError, ValueError, EOFError, zipfile.BadZipFile) as error:
            raise ConfigError(f"{path}: not a teacher bank ({error})") from None
        try:
            peptides = [vocab.parse(str(t)) for t in texts]
        except PeptideError as error:
            raise ConfigError(
                f"{path}: a peptide of the teacher bank does not fit the model's vocabulary: {error}"
            ) from None
        sizes = np.array([N_ROWS * (vocab.n_residues(p) - 1) for p in peptides], dtype=np.int64)
        if not (len(peptides) and len(charge) == len(peptides) and len(start) == len(peptides) + 1
                and start[0] == 0 and np.array_equal(np.diff(start), sizes) and start[-1] == len(levels)):  # fmt: skip
            raise ConfigError(f"{path}: a damaged teacher bank (its peptides, charges and levels do not match)")
        return cls(tuple(peptides), charge.astype(np.int64), levels.astype(np.float32), start.astype(np.int64))

    @classmethod
    def from_entries(
        cls, entries: list[tuple[tuple[str, ...], int, np.ndarray]], vocab: Vocabulary
    ) -> TeacherBank:
        """Build a bank from (peptide tokens, charge, levels of shape (4, n - 1)) per entry."""
        if not entries:
            raise ValueError("a teacher bank needs at least one peptide")
        for peptide, _, levels in entries:
            if levels.shape != (N_ROWS, vocab.n_residues(peptide) - 1):
                raise ValueError(f"{vocab.mass_offset(peptide)}: levels of shape {levels.shape}, "
                                 f"expected ({N_ROWS}, {vocab.n_residues(peptide) - 1})")  # fmt: skip
        return cls.from_levels([e[0] for e in entries], np.asarray([e[1] for e in entries]),
                               [e[2].ravel() for e in entries])  # fmt: skip

    @classmethod
    def from_levels(cls, peptides: list, charge: np.ndarray, levels: list[np.ndarray]) -> TeacherBank:
        """Build a bank from flat level arrays (4 * (n - 1) values each), unchecked."""
        sizes = [len(x) for x in levels]
        return cls(
            peptides=tuple(tuple(p) for p in peptides),
            charge=np.asarray(charge, dtype=np.int64),
            levels=np.concatenate(levels).astype(np.float32) if levels else np.zeros(0, np.float32),
            start=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        )


def level_split(levels: np.ndarray, max_z: int) -> tuple[tuple[np.ndarray, np.ndarray], list[np.ndarray]]:
    """A teacher's b and y level summed over fragment charges, and each one's split by charge.

    Parameters
    ----------
    levels : np.ndarray of shape (4, n - 1)
        b 1+, y 1+, b 2+, y 2+ (see :data:`N_ROWS`).
    max_z
        The highest fragment charge the spectrum gets. At 1 the 1+ levels alone count; above
        2, charge 3 and up get nothing (the teacher predicts charges 1 and 2 only).

    Returns
    -------
    (b, y) : each of shape (n - 1,)
    [b_weights, y_weights] : each of shape (max_z, n - 1), the share of the level at each charge
    """
    b1, y1, b2, y2 = levels
    if max_z == 1:
        return (b1, y1), [np.ones((1, len(b1))), np.ones((1, len(y1)))]
    weights = []
    for one, two in ((b1, b2), (y1, y2)):
        total = one + two
        w = np.zeros((max_z, len(one)))
        w[0] = np.divide(one, total, out=np.ones_like(one), where=total > 0)
        w[1] = 1.0 - w[0]
        weights.append(w)
    return (b1 + b2, y1 + y2), weights
