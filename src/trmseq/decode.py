"""From model outputs to peptides: greedy CTC decoding (mass-constrained decoding: predict)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from trmseq.tokenizer import Tokenizer, ctc_collapse
from trmseq.vocab import Vocabulary


def greedy_decode(logits: torch.Tensor, tokenizer: Tokenizer) -> list[tuple[str, ...]]:
    """Most probable class at every slot, collapsed (CTC); one peptide per spectrum.

    Parameters
    ----------
    logits : torch.Tensor of shape (batch, n_slots, n_classes)
    """
    paths = logits.argmax(-1).cpu().numpy()
    return [tokenizer.decode(ctc_collapse(path)) for path in paths]


def peptide_masses(peptide: Sequence[str], vocab: Vocabulary) -> list[float] | None:
    """Residue masses of a decoded peptide for scoring; None if it has no residue.

    An N-terminal token anywhere but first is scored as a residue of its own mass (and so
    never matches), rather than rejected.
    """
    if vocab.n_residues(peptide) == 0:
        return None
    masses = [vocab[t].mass for t in peptide]
    if vocab[peptide[0]].is_nterm:
        masses = [masses[0] + masses[1], *masses[2:]]
    return list(np.asarray(masses, dtype=float))
