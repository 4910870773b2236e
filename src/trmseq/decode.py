"""From per-slot probabilities to peptides: greedy CTC decoding and precursor-mass control.

:func:`mass_constrained` finds the most probable CTC path whose peptide fits the precursor mass
(PrimeNovo's "precise mass control", DESIGN.md section 4). It is a Viterbi dynamic program over
(slot, residue mass so far, last class): the future of a partial path depends only on its mass
and its last class (CTC merges a repeated class unless a blank separates it), so keeping the
best path per state loses nothing. States whose mass can no longer reach the precursor in the
slots left are dropped, and at most ``beam`` states are kept per slot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from trmseq.constants import C13_DIFF, H2O
from trmseq.tokenizer import BLANK, Tokenizer, ctc_collapse
from trmseq.vocab import Vocabulary

_MASS_BIN_DA = 1e-3  # states closer than this in mass are merged (GG vs N differ by 1e-5 Da)


@dataclass(frozen=True)
class Candidate:
    """One decoded peptide for a spectrum."""

    peptide: tuple[str, ...]
    aa_scores: tuple[float, ...]  # per token: its highest slot probability
    log_prob: float  # log-probability of the chosen path
    fits: bool  # fits the precursor within the tolerance and isotopes


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
    return [float(m) for m in masses]


def fits_precursor(
    peptide_mass: float, observed_mass: float, tol_ppm: float, isotopes: Sequence[int]
) -> bool:
    """Whether a peptide's neutral mass matches an observed one at any isotope offset."""
    return any(
        abs(observed_mass - k * C13_DIFF - peptide_mass) <= tol_ppm * 1e-6 * peptide_mass
        for k in isotopes
    )


def path_candidate(
    path: np.ndarray, probs: np.ndarray, tokenizer: Tokenizer, log_prob: float, fits: bool
) -> Candidate:
    """Turn a CTC path into a candidate, scoring each token by its best slot probability."""
    tokens, scores = [], []
    previous = BLANK
    for slot, cls in enumerate(path):
        if cls != BLANK and cls != previous:
            tokens.append(int(cls))
            scores.append(float(probs[slot, cls]))
        elif cls != BLANK:
            scores[-1] = max(scores[-1], float(probs[slot, cls]))
        previous = cls
    return Candidate(tokenizer.decode(tokens), tuple(scores), log_prob, fits)


def mass_constrained(
    log_probs: np.ndarray,
    tokenizer: Tokenizer,
    observed_mass: float,
    tol_ppm: float = 50.0,
    isotopes: Sequence[int] = (0, 1),
    beam: int = 256,
    top_k: int = 1,
) -> list[Candidate]:
    """The ``top_k`` most probable CTC paths whose peptide fits the precursor.

    Parameters
    ----------
    log_probs : numpy.ndarray of shape (n_slots, n_classes)
        Log-probabilities of one spectrum.
    observed_mass
        Neutral precursor mass (from m/z and charge).

    Returns
    -------
    list of Candidate
        Best first; empty when no path within the beam fits.
    """
    n_slots, n_classes = log_probs.shape
    masses = tokenizer.masses.numpy()
    is_nterm = ~tokenizer.is_residue.numpy()
    is_nterm[BLANK] = False
    targets = [observed_mass - k * C13_DIFF - H2O for k in isotopes]
    tol = tol_ppm * 1e-6 * max(targets) + 1e-6
    lo, hi = min(targets) - tol, max(targets) + tol
    top_mass = masses.max()
    # state arrays for the current slot
    mass = np.zeros(1)
    last = np.zeros(1, dtype=np.int64)
    score = np.zeros(1)
    history: list[tuple[np.ndarray, np.ndarray]] = []  # per slot: (parent index, class)
    cls = np.arange(n_classes)
    for t in range(n_slots):
        repeat = cls[None, :] == last[:, None]
        emit = (cls[None, :] != BLANK) & ~repeat
        new_mass = mass[:, None] + np.where(emit, masses[None, :], 0.0)
        new_score = score[:, None] + log_probs[t][None, :]
        ok = ~(emit & is_nterm[None, :] & (mass[:, None] > 0))  # N-terminal tokens only first
        left = n_slots - t - 1
        ok &= (new_mass <= hi) & (new_mass + left * top_mass >= lo)
        parent, c = np.nonzero(ok)
        new_mass, new_score = new_mass[parent, c], new_score[parent, c]
        # Recombine: one state per (mass bin, last class), the best-scoring.
        key_mass = np.round(new_mass / _MASS_BIN_DA).astype(np.int64)
        order = np.lexsort((-new_score, c, key_mass))
        first = np.ones(len(order), dtype=bool)
        first[1:] = (key_mass[order][1:] != key_mass[order][:-1]) | (c[order][1:] != c[order][:-1])
        keep = order[first]
        if len(keep) > beam:
            keep = keep[np.argpartition(-new_score[keep], beam - 1)[:beam]]
        mass, last, score = new_mass[keep], c[keep], new_score[keep]
        history.append((parent[keep], c[keep]))
        if len(keep) == 0:
            return []
    fit = np.zeros(len(mass), dtype=bool)
    for target in targets:
        fit |= np.abs(mass - target) <= tol_ppm * 1e-6 * (target + H2O)
    finals = np.nonzero(fit)[0]
    finals = finals[np.argsort(-score[finals])][:top_k]
    probs = np.exp(log_probs)
    out = []
    for index in finals:
        path = np.empty(n_slots, dtype=np.int64)
        i = int(index)
        for t in range(n_slots - 1, -1, -1):
            parent, c = history[t]
            path[t] = c[i]
            i = int(parent[i])
        out.append(path_candidate(path, probs, tokenizer, float(score[index]), True))
    return out
