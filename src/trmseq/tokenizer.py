"""Peptides as integer sequences for the model: 0 is the CTC blank, 1..V the vocabulary tokens."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from trmseq.vocab import Vocabulary

BLANK = 0


class Tokenizer:
    """Map vocabulary tokens to class indices and back.

    Attributes
    ----------
    masses : torch.Tensor of shape (n_classes,)
        Mass of each class (0 for the blank), float64.
    """

    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        self.n_classes = len(vocab) + 1
        self.masses = torch.tensor([0.0, *vocab.masses.tolist()], dtype=torch.float64)
        self.is_residue = torch.tensor([False, *[not t.is_nterm for t in vocab.tokens]])

    def encode(self, peptide: Sequence[str]) -> list[int]:
        """Return the class index of each token."""
        return [self.vocab.index[t] + 1 for t in peptide]

    def decode(self, ids: Sequence[int] | np.ndarray) -> tuple[str, ...]:
        """Return the tokens of class indices, skipping blanks."""
        return tuple(self.vocab.names[i - 1] for i in ids if i != BLANK)


def ctc_runs(path: np.ndarray) -> np.ndarray:
    """First slot of each run of one class along a CTC path (blank runs included).

    Parameters
    ----------
    path : numpy.ndarray of shape (n_slots,)
        The class chosen at each slot.
    """
    if len(path) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, path[1:] != path[:-1]])


def ctc_collapse(path: np.ndarray) -> np.ndarray:
    """Collapse a CTC path: merge runs of the same class, then drop blanks."""
    out = path[ctc_runs(path)]
    return out[out != BLANK]
