"""The precursor-constrained search as trmseq 0.x ran it: numpy, one spectrum at a time.

Kept as a reference for ``trmseq.search`` (which runs the same dynamic program over a batch, as
tensor operations): tests/unit/test_search.py compares both on thousands of spectra, and
benchmarks/search_speed.py times them. Not part of the package.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from trmseq.constants import C13_DIFF, H2O
from trmseq.decode import Candidate, path_candidate
from trmseq.tokenizer import BLANK, Tokenizer

_MASS_BIN_DA = 1e-3
_HASH_MUL = np.uint64(0x9E3779B97F4A7C15)


def mass_constrained(
    log_probs: np.ndarray,
    tokenizer: Tokenizer,
    observed_mass: float,
    tol_ppm: float = 50.0,
    isotopes: Sequence[int] = (0, 1),
    beam: int = 256,
    top_k: int = 1,
) -> list[Candidate]:
    """The former ``trmseq.decode.mass_constrained``: same arguments, same result."""
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
        ok = ~(emit & is_nterm[None, :] & (mass[:, None] != 0))  # N-terminal tokens only first (fixed: was > 0)
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


def _select(state: np.ndarray, peptide: np.ndarray, score: np.ndarray, top_k: int, beam: int) -> np.ndarray:
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
