"""From per-slot probabilities to peptides: greedy CTC decoding and precursor-mass control.

:func:`mass_constrained` finds the most probable CTC path whose peptide fits the precursor mass
(PrimeNovo's "precise mass control", DESIGN.md section 4). It is a Viterbi dynamic program over
(slot, residue mass so far, last class): the future of a partial path depends only on its mass
and its last class (CTC merges a repeated class unless a blank separates it), so keeping the
best path per state loses nothing. For ``top_k`` > 1 a state keeps the best paths of up to
``top_k`` distinct peptides: the k-th best peptide may share its mass and last class with better
ones (a permutation such as AGS behind GAS), and keeping one path per state would lose it. States
whose mass can no longer reach the precursor in the slots left are dropped, and at most ``beam``
states (those whose best path scores highest) are kept per slot.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from trmseq.config import DecodeConfig
from trmseq.constants import C13_DIFF, H2O
from trmseq.masses import neutral_mass
from trmseq.spectrum import Spectrum
from trmseq.tokenizer import BLANK, Tokenizer, ctc_collapse, ctc_runs
from trmseq.vocab import Vocabulary

_MASS_BIN_DA = 1e-3  # states closer than this in mass are merged (GG vs N differ by 1e-5 Da)
# Multiplier of the rolling hash that names a state's peptide (odd, so the hash stays mixing
# modulo 2**64). A collision could only drop a distinct peptide from a top-k list.
_HASH_MUL = np.uint64(0x9E3779B97F4A7C15)


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
    starts = ctc_runs(path)
    best = np.maximum.reduceat(probs[np.arange(len(path)), path], starts) if len(starts) else starts
    classes = path[starts]
    tokens = classes[classes != BLANK]
    scores = tuple(float(x) for x in best[classes != BLANK])
    return Candidate(tokenizer.decode(tokens.tolist()), scores, log_prob, fits)


def mass_constrained(
    log_probs: np.ndarray,
    tokenizer: Tokenizer,
    observed_mass: float,
    tol_ppm: float = 50.0,
    isotopes: Sequence[int] = (0, 1),
    beam: int = 256,
    top_k: int = 1,
) -> list[Candidate]:
    """The ``top_k`` most probable peptides that fit the precursor, each by its best CTC path.

    Parameters
    ----------
    log_probs : numpy.ndarray of shape (n_slots, n_classes)
        Log-probabilities of one spectrum.
    observed_mass
        Neutral precursor mass (from m/z and charge).

    Returns
    -------
    list of Candidate
        Best first, distinct peptides; empty when no path within the beam fits.
    """
    n_slots, n_classes = log_probs.shape
    masses = tokenizer.masses.numpy()
    is_nterm = ~tokenizer.is_residue.numpy()
    is_nterm[BLANK] = False
    targets = [observed_mass - k * C13_DIFF - H2O for k in isotopes]
    tol = tol_ppm * 1e-6 * (max(targets) + H2O) + 1e-6  # ppm of the peptide mass, water included
    lo, hi = min(targets) - tol, max(targets) + tol
    top_mass = masses.max()
    # state arrays for the current slot
    mass = np.zeros(1)
    last = np.zeros(1, dtype=np.int64)
    score = np.zeros(1)
    peptide = np.zeros(1, dtype=np.uint64)  # hash of the tokens emitted so far
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
        new_peptide = np.where(emit[parent, c], peptide[parent] * _HASH_MUL + c.astype(np.uint64),
                               peptide[parent])  # fmt: skip
        # a state: (mass bin, last class), as one integer
        state = np.round(new_mass / _MASS_BIN_DA).astype(np.int64) * n_classes + c
        keep = _select(state, new_peptide, new_score, top_k, beam)
        mass, last, score, peptide = new_mass[keep], c[keep], new_score[keep], new_peptide[keep]
        history.append((parent[keep], c[keep]))
        if len(keep) == 0:
            return []
    fit = np.zeros(len(mass), dtype=bool)
    for target in targets:
        fit |= np.abs(mass - target) <= tol_ppm * 1e-6 * (target + H2O)
    finals = np.nonzero(fit)[0]
    finals = finals[np.argsort(-score[finals])]
    # A peptide ends in several states (last slot blank or not): report it once, at its best.
    _, first = np.unique(peptide[finals], return_index=True)
    finals = finals[np.sort(first)][:top_k]
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


def _select(
    state: np.ndarray, peptide: np.ndarray, score: np.ndarray, top_k: int, beam: int
) -> np.ndarray:
    """Indices of the paths to keep: the best path of each of the ``top_k`` best peptides per state.

    Paths of one peptide that end in the same state share their future, so only the best of
    them is kept. The beam keeps the ``beam`` states whose best path scores highest, so
    ``top_k`` changes which alternatives survive but never the best one.
    """
    if top_k == 1:  # plain Viterbi with a beam; ties keep the earlier index
        order = np.lexsort((-score, state))
        first = np.ones(len(order), dtype=bool)
        first[1:] = state[order][1:] != state[order][:-1]
        keep = order[first]
        if len(keep) > beam:
            keep = keep[np.argpartition(-score[keep], beam - 1)[:beam]]
        return keep
    n = len(score)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(-score)] = np.arange(n)
    order = np.argsort(state * n + rank)  # by state, then best first (the keys are distinct)
    start = np.r_[True, state[order][1:] != state[order][:-1]]
    group = np.cumsum(start) - 1
    heads = np.flatnonzero(start)  # each state's best path
    if len(heads) > beam:
        chosen = np.zeros(len(heads), dtype=bool)
        chosen[np.argpartition(-score[order[heads]], beam - 1)[:beam]] = True
        order, group = order[chosen[group]], group[chosen[group]]
    # the first, so best, path of each (state, peptide); the key mixes both into 64 bits
    pair = peptide[order] * _HASH_MUL + state[order].astype(np.uint64)
    by_pair = np.argsort(pair)
    runs = np.flatnonzero(np.r_[True, pair[by_pair][1:] != pair[by_pair][:-1]])
    first = np.sort(np.minimum.reduceat(by_pair, runs))
    order, group = order[first], group[first]
    position = np.arange(len(order))
    start = np.r_[True, group[1:] != group[:-1]]
    within = position - np.maximum.accumulate(np.where(start, position, 0))  # rank in its state
    return order[within < top_k]


# -- the decoding policy ------------------------------------------------------------------


def decode_spectrum(
    log_probs: np.ndarray, spectrum: Spectrum, tokenizer: Tokenizer, decode: DecodeConfig
) -> list[Candidate]:
    """Greedy answer if it fits the precursor, else the mass-constrained search's best ones.

    Falls back to the greedy answer, flagged as not fitting, when no path fits.
    """
    vocab = tokenizer.vocab
    observed = float(neutral_mass(spectrum.precursor_mz, spectrum.charge))
    path = log_probs.argmax(-1)
    greedy = path_candidate(path, np.exp(log_probs), tokenizer,
                            float(log_probs[np.arange(len(path)), path].sum()), False)  # fmt: skip
    if _valid(greedy.peptide, vocab):
        fit = fits_precursor(vocab.peptide_mass(greedy.peptide), observed,
                             decode.precursor_tol_ppm, decode.isotopes)  # fmt: skip
        greedy = dataclasses.replace(greedy, fits=fit)
        if (fit and decode.top_k == 1) or not decode.mass_control:
            return [greedy]
    elif not decode.mass_control:
        return []
    found = mass_constrained(log_probs, tokenizer, observed, decode.precursor_tol_ppm,
                             decode.isotopes, decode.beam, decode.top_k)  # fmt: skip
    found = [c for c in found if _valid(c.peptide, vocab)]
    if found:
        return found
    return [greedy] if _valid(greedy.peptide, vocab) else []


def _valid(peptide: tuple[str, ...], vocab) -> bool:
    """A peptide with residues, and an N-terminal modification only at the start."""
    if vocab.n_residues(peptide) == 0:
        return False
    return not any(vocab[t].is_nterm for t in peptide[1:])


def peptide_score(candidate: Candidate) -> float:
    """Geometric mean of the per-token probabilities, in [0, 1]; minus 1 if it does not fit."""
    score = math.exp(float(np.mean(np.log(np.clip(candidate.aa_scores, 1e-12, 1.0)))))
    return score if candidate.fits else score - 1.0
