"""The precursor-constrained search, as tensor operations over a batch on the model's device.

For each spectrum it finds the most probable CTC paths whose peptides fit the precursor mass
(PrimeNovo's "precise mass control", DESIGN.md section 4). It is a Viterbi dynamic program over
(slot, residue mass so far, last class): the future of a partial path depends only on its mass
and its last class (CTC merges a repeated class unless a blank separates it), so keeping the
best path per state loses nothing. For ``top_k`` > 1 a state keeps the best paths of up to
``top_k`` distinct peptides: the k-th best peptide may share its mass and last class with better
ones (a permutation such as AGS behind GAS), and keeping one path per state would lose it
(``per_state=1`` does so knowingly: the best fitting final states then give up to ``top_k``
peptides at the cost of a top-1 search, as the re-ranking pool). States
whose mass can no longer reach the precursor in the slots left are dropped, and at most ``beam``
states (those whose best path scores highest) are kept per slot.

Every spectrum of the batch is one row of fixed width (``beam`` states, or ``beam * top_k``
paths); empty places hold a score of minus infinity. Per slot the work is a handful of row-wise
sorts and top-k selections, the same for one spectrum or a thousand, so a GPU does a whole batch
at the cost of one spectrum, and a CPU pays Python's overhead once per slot rather than once per
slot and spectrum.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from trmseq.constants import C13_DIFF, H2O
from trmseq.tokenizer import BLANK, Tokenizer

_MASS_BIN_DA = 1e-3  # states closer than this in mass are merged (GG vs N differ by 1e-5 Da)
# A state's peptide is named by a rolling hash modulo a prime (products stay below 2**63). A
# collision could only drop a distinct peptide from a top-k list.
_HASH_MUL, _HASH_MOD = 1_000_003, 2**31 - 1
# With top_k == 1 a slot's new states come from its best candidates only: the best state of
# each of the ``beam`` best distinct states lies among the ``_PREFIX * beam`` best candidates
# unless fewer than ``beam`` distinct states are among them, which is checked (then every
# candidate of that spectrum is ranked).
_PREFIX = 2


def search(
    log_probs: torch.Tensor,
    observed_mass: Sequence[float],
    tokenizer: Tokenizer,
    tol_ppm: float = 50.0,
    isotopes: Sequence[int] = (0, 1),
    beam: int = 256,
    top_k: int = 1,
    per_state: int | None = None,
    support: torch.Tensor | None = None,
    support_tol: float = 0.02,
    support_weight: float = 0.0,
) -> list[list[tuple[np.ndarray, float]]]:
    """The ``top_k`` most probable fitting peptides of each spectrum, each by its best CTC path.

    ``per_state`` (default ``top_k``) is how many peptides a state keeps: 1 costs what a top-1
    search costs and still returns up to ``top_k`` peptides (those of the best fitting final
    states), but may miss one that shares its mass and last class with a better one.

    With ``support`` (per spectrum, sorted residue masses padded with infinity, as
    :func:`trmseq.decode.prefix_support` makes them) and ``support_weight``, a path scores
    ``support_weight`` more for each residue whose prefix mass (the residue mass up to and
    including it), short of the whole peptide, lies within ``support_tol`` Da of a support mass;
    the scores returned include that bonus.

    Parameters
    ----------
    log_probs : torch.Tensor of shape (batch, n_slots, n_classes)
        Log-probabilities, on any device; the search runs there.
    observed_mass
        Neutral precursor mass of each spectrum (from m/z and charge).

    Returns
    -------
    list of list of (path, log_prob)
        Per spectrum, best first, distinct peptides: the CTC path (n_slots class indices) and
        its log-probability; empty when no path within the beam fits.
    """
    device = log_probs.device
    real = torch.float32 if device.type == "mps" else torch.float64  # MPS has no float64
    lp = log_probs.to(real)
    b, n_slots, n_classes = lp.shape
    masses = tokenizer.masses.to(device, real)
    nterm = [c for c in range(1, n_classes) if not tokenizer.is_residue[c]]
    nterm_classes = torch.tensor(nterm, dtype=torch.int64, device=device)
    shift = torch.tensor([k * C13_DIFF for k in isotopes], dtype=real, device=device)
    if support is not None:
        support = support.to(device, real).contiguous()
        residue = tokenizer.is_residue.to(device)
    targets = torch.as_tensor(observed_mass, dtype=real, device=device)[:, None] - shift - H2O
    tol = tol_ppm * 1e-6 * (targets.max(1).values + H2O) + 1e-6  # ppm of the peptide mass
    lo, hi = targets.min(1).values - tol, targets.max(1).values + tol
    top_mass = float(masses.max())
    # the states of every spectrum at the current slot, one row each
    mass = torch.zeros((b, 1), dtype=real, device=device)
    last = torch.full((b, 1), BLANK, dtype=torch.int64, device=device)
    score = torch.zeros((b, 1), dtype=real, device=device)
    peptide = torch.zeros((b, 1), dtype=torch.int64, device=device)
    history: list[tuple[torch.Tensor, torch.Tensor]] = []  # per slot: (parent, class)
    for t in range(n_slots):
        new_score = score[:, :, None] + lp[:, t, None, :]  # (b, width, classes)
        if nterm:  # N-terminal tokens only first (repeating one is no new token)
            again = (mass[:, :, None] != 0) & (last[:, :, None] != nterm_classes)  # -17.027 weighs < 0
            new_score[:, :, nterm] = new_score[:, :, nterm].masked_fill(again, -torch.inf)
        candidates = _Candidates(mass, last, peptide, masses)
        new_mass = None
        if support is not None and support_weight:
            new_mass = candidates.mass().reshape(new_score.shape)
            new_score += support_weight * _supported(candidates, new_mass, support, support_tol, residue, lo)
        # drop what overshoots the precursor or can no longer reach it; checked only where it can bind
        left = (n_slots - t - 1) * top_mass
        if bool(((mass.max(1).values + top_mass > hi) | (mass.min(1).values + left < lo)).any()):
            if new_mass is None:
                new_mass = candidates.mass().reshape(new_score.shape)
            bound = (new_mass > hi[:, None, None]) | (new_mass + left < lo[:, None, None])
            new_score.masked_fill_(bound, -torch.inf)
        keep, score = _select(new_score.reshape(b, -1), candidates, per_state or top_k, beam)
        live = max(1, int(torch.isfinite(score).sum(1).max()))  # kept paths come best first
        keep, score = keep[:, :live], score[:, :live]
        mass, peptide = candidates.mass(keep), candidates.peptide(keep)
        parent, last = keep // n_classes, keep % n_classes
        history.append((parent, last))
    fit = torch.zeros(mass.shape, dtype=torch.bool, device=device)
    for k in range(targets.shape[1]):
        target = targets[:, k, None]
        fit |= (mass - target).abs() <= tol_ppm * 1e-6 * (target + H2O)
    final = score.masked_fill(~fit, -torch.inf)
    # a peptide ends in at most two states (last slot blank or not), so 2 * top_k paths suffice
    order = final.argsort(dim=1, descending=True, stable=True)[:, : 2 * top_k]
    values, names = final.gather(1, order).tolist(), peptide.gather(1, order).tolist()
    chosen: list[list[int]] = []
    for i, candidates in enumerate(order.tolist()):
        seen: set[int] = set()
        row = []
        for j, value, p in zip(candidates, values[i], names[i], strict=True):
            if value == -np.inf or len(row) == top_k:
                break
            if p not in seen:  # a peptide ends in several states (last slot blank or not)
                seen.add(p)
                row.append(j)
        chosen.append(row)
    width = max((len(r) for r in chosen), default=0)
    if width == 0:
        return [[] for _ in range(b)]
    index = torch.tensor([r + [0] * (width - len(r)) for r in chosen], device=device)
    paths = torch.empty((b, width, n_slots), dtype=torch.int64, device=device)
    at = index
    for t in range(n_slots - 1, -1, -1):
        parent, c = history[t]
        paths[:, :, t] = c.gather(1, at)
        at = parent.gather(1, at)
    scores = score.gather(1, index).cpu().tolist()
    paths_np = paths.cpu().numpy()
    return [[(paths_np[i, j], float(scores[i][j])) for j in range(len(r))]
            for i, r in enumerate(chosen)]  # fmt: skip


def _supported(candidates: _Candidates, mass: torch.Tensor, support: torch.Tensor, tol: float,
               residue: torch.Tensor, below: torch.Tensor) -> torch.Tensor:
    """Per row (states, classes): whether each candidate emits a residue whose prefix mass
    ``mass`` lies within ``tol`` of a support mass (sorted per row, padded with infinity).

    Only residues count (an N-terminal modification alone is no fragment), and only prefixes
    lighter than ``below`` per row (the lightest peptide that fits): the whole peptide is no
    fragment either.
    """
    _, c, emit = candidates._parts(None, None)
    flat = mass.reshape(len(mass), -1)
    at = torch.searchsorted(support, flat)
    near_below = (flat - support.gather(1, (at - 1).clamp(min=0))).abs() <= tol
    near_above = (support.gather(1, at.clamp(max=support.shape[1] - 1)) - flat).abs() <= tol
    near = (near_below | near_above).reshape(mass.shape)
    return near & emit & residue[c] & (mass < below[:, None, None])


@dataclass
class _Candidates:
    """One slot's candidate paths, every state x every class (flattened per row).

    Their masses, states and peptides are computed only for the candidates a selection looks at.
    """

    parent_mass: torch.Tensor  # (batch, states)
    parent_last: torch.Tensor  # (batch, states) their last class
    parent_peptide: torch.Tensor  # (batch, states)
    masses: torch.Tensor  # (classes,)

    def _parts(self, index: torch.Tensor | None, rows: torch.Tensor | None):
        """Parent, class and whether it emits a token; ``index`` None: every candidate at once."""
        pick = (lambda x: x) if rows is None else (lambda x: x[rows])
        if index is None:  # by broadcasting parents over classes, then flattened
            c = torch.arange(len(self.masses), device=self.masses.device)
            emit = (c != BLANK) & (c != pick(self.parent_last)[:, :, None])
            return (lambda x: pick(x)[:, :, None]), c, emit
        parent, c = index // len(self.masses), index % len(self.masses)
        emit = (c != BLANK) & (c != pick(self.parent_last).gather(1, parent))  # CTC: a new token
        return (lambda x: pick(x).gather(1, parent)), c, emit

    def mass(self, index: torch.Tensor | None = None, rows: torch.Tensor | None = None) -> torch.Tensor:
        """Residue mass of the candidates at ``index`` (default every one) of ``rows`` (all)."""
        parent, c, emit = self._parts(index, rows)
        out = parent(self.parent_mass) + torch.where(emit, self.masses[c], 0.0)
        return out.reshape(len(out), -1)

    def state(self, index: torch.Tensor | None = None, rows: torch.Tensor | None = None) -> torch.Tensor:
        """The state (mass bin, last class) of the candidates at ``index`` as one integer."""
        parent, c, emit = self._parts(index, rows)
        mass = parent(self.parent_mass) + torch.where(emit, self.masses[c], 0.0)
        state = torch.round(mass / _MASS_BIN_DA).long() * len(self.masses) + c
        return state.reshape(len(state), -1)

    def peptide(self, index: torch.Tensor | None = None, rows: torch.Tensor | None = None) -> torch.Tensor:
        """A hash of the tokens the candidates at ``index`` have emitted."""
        parent, c, emit = self._parts(index, rows)
        before = parent(self.parent_peptide)
        return torch.where(emit, (before * _HASH_MUL + c) % _HASH_MOD, before).reshape(len(before), -1)

    def every(self) -> torch.Tensor:
        """Every candidate's index, per row."""
        b, n = self.parent_mass.shape[0], self.parent_mass.shape[1] * len(self.masses)
        return torch.arange(n, device=self.masses.device).expand(b, n)


def _select(score: torch.Tensor, candidates: _Candidates, top_k: int,
            beam: int) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """Per row, the indices of the paths to keep and their scores (minus infinity: unused).

    Paths of one peptide that end in the same state share their future, so only the best of
    them is kept. The beam keeps the ``beam`` states whose best path scores highest, so
    ``top_k`` changes which alternatives survive but never the best one.
    """
    n = score.shape[1]
    if top_k > 1:
        return _best_peptides(score, candidates, top_k, beam)
    if n <= _PREFIX * beam:
        return _best_states(score, candidates.state(), beam)[:2]
    head = score.topk(_PREFIX * beam, dim=1)
    keep, kept, enough = _best_states(head.values, candidates.state(head.indices), beam, ranked=True)
    keep = head.indices.gather(1, keep)
    if not bool(enough.all()):  # too few distinct states among the best: rank them all
        rows = (~enough).nonzero().squeeze(1)
        state = candidates.state(rows=rows)
        keep[rows], kept[rows], _ = _best_states(score[rows], state, beam)
    return keep, kept


def _by_state(score: torch.Tensor, state: torch.Tensor,
              ranked: bool = False) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """Per row, the order that sorts by state and, within a state, best first; and group starts.

    ``ranked``: the rows are already sorted best first, which saves one sort.
    """
    if ranked:
        order = state.argsort(dim=1, stable=True)
    else:
        order = score.argsort(dim=1, descending=True, stable=True)
        order = order.gather(1, state.gather(1, order).argsort(dim=1, stable=True))
    s = state.gather(1, order)
    start = torch.ones_like(s, dtype=torch.bool)
    start[:, 1:] = s[:, 1:] != s[:, :-1]
    return order, start


def _best_states(score: torch.Tensor, state: torch.Tensor, beam: int,
                 ranked: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # fmt: skip
    """Per row, the best path of each of the ``beam`` best states (Viterbi with a beam).

    Returns their indices and scores, and per row whether ``beam`` distinct states with a
    finite score were found or no candidate was left out.
    """
    order, start = _by_state(score, state, ranked)
    head = score.gather(1, order).masked_fill(~start, -torch.inf)
    width = min(beam, score.shape[1])
    best = head.topk(width, dim=1)
    enough = torch.isfinite(best.values[:, -1]) | ~torch.isfinite(score).all(1)
    # rows whose candidates are all ranked are exact whatever they found
    enough |= torch.full_like(enough, score.shape[1] <= width)
    return order.gather(1, best.indices), best.values, enough


def _best_peptides(score: torch.Tensor, candidates: _Candidates, top_k: int,
                   beam: int) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """Per row, the best path of each of the ``top_k`` best peptides of the ``beam`` best states.

    Works on the ``_PREFIX * beam * top_k`` best candidates, plus every other candidate of a
    chosen state that has fewer than ``top_k`` peptides among them; a row with fewer than
    ``beam`` distinct states among its best candidates is ranked whole.
    """
    b, n = score.shape
    m = _PREFIX * beam * top_k
    if n <= m:
        return _peptides(score, candidates.peptide(), candidates.state(), top_k, beam)[:2]
    head = score.topk(m, dim=1)
    keep, kept, short, enough = _peptides(head.values, candidates.peptide(head.indices),
                                          candidates.state(head.indices), top_k, beam, ranked=True)  # fmt: skip
    keep = head.indices.gather(1, keep)
    in_head = torch.zeros_like(score, dtype=torch.bool).scatter_(1, head.indices, True)
    extra = torch.isfinite(score) & ~in_head
    extra &= _member(candidates.state(), short)
    if not bool(enough.all()):  # too few distinct states among the best: rank the row whole
        rows = (~enough).nonzero().squeeze(1)
        keep[rows], kept[rows] = _peptides(score[rows], candidates.peptide(rows=rows),
                                           candidates.state(rows=rows), top_k, beam)[:2]  # fmt: skip
        extra[rows] = False
    if bool(extra.any()):  # the best candidates, then the others of short states, best first
        more = _compact(extra, score).sort(1, descending=True)
        index = torch.cat([head.indices, _compact(extra, candidates.every(), 0).gather(1, more.indices)], 1)
        k, v, _, _ = _peptides(torch.cat([head.values, more.values], 1), candidates.peptide(index),
                               candidates.state(index), top_k, beam, ranked=True)  # fmt: skip
        rows = extra.any(1)
        keep[rows], kept[rows] = index.gather(1, k)[rows], v[rows]
    return keep, kept


def _compact(mask: torch.Tensor, value: torch.Tensor, fill: float = -torch.inf) -> torch.Tensor:
    """Per row, the values where ``mask`` is set, in order, packed to the left; ``fill`` after."""
    width = int(mask.sum(1).max())
    at = (mask.long().cumsum(1) - 1).masked_fill(~mask, width)  # unused values go to a spare column
    out = torch.full((mask.shape[0], width + 1), fill, dtype=value.dtype, device=value.device)
    return out.scatter_(1, at, value)[:, :width]


def _member(state: torch.Tensor, short: torch.Tensor, size: int = 16384) -> torch.Tensor:
    """Per row, whether each state may be one of ``short``'s (-1 fills unused places).

    A hash table per row: never misses a member, and says yes to about ``len(short) / size`` of
    the others, which only adds candidates that cannot change the selection (their scores are
    below every state of the beam).
    """
    table = torch.zeros((len(state), size + 1), dtype=torch.bool, device=state.device)
    table.scatter_(1, torch.where(short >= 0, short % size, size), True)  # -1: the spare column
    return table.gather(1, state % size)


def _peptides(score: torch.Tensor, peptide: torch.Tensor, state: torch.Tensor, top_k: int, beam: int,
              ranked: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:  # fmt: skip
    """:func:`_best_peptides` on the candidates given; ``ranked``: rows sorted best first.

    Also returns, per row, the chosen states with fewer than ``top_k`` peptides (sorted, -1
    filling the rest) and whether ``beam`` distinct states were found or no candidate is left out.
    """
    b, n = score.shape
    order, start = _by_state(score, state, ranked)
    position = torch.arange(n, device=score.device).expand(b, n)
    group_start = torch.where(start, position, 0).cummax(1).values
    s_score, s_state = score.gather(1, order), state.gather(1, order)
    # the states of the beam: the best by their best path
    head = s_score.masked_fill(~start, -torch.inf)
    best = head.topk(min(beam, n), dim=1)
    enough = torch.isfinite(best.values[:, -1]) | ~torch.isfinite(score.min(1).values)
    chosen = torch.zeros_like(start).scatter_(1, best.indices, True)
    chosen &= torch.isfinite(head)
    chosen = chosen.gather(1, group_start)
    # the first, so best, path of each (state, peptide) in that order
    pair = peptide.gather(1, order) * n + group_start
    by_pair = pair.argsort(dim=1, stable=True)
    sorted_pair = pair.gather(1, by_pair)
    first_of_pair = torch.ones_like(start)
    first_of_pair[:, 1:] = sorted_pair[:, 1:] != sorted_pair[:, :-1]
    unique = torch.zeros_like(start).scatter_(1, by_pair, first_of_pair)
    valid = unique & chosen & torch.isfinite(s_score)
    count = valid.long().cumsum(1)
    rank = count - count.gather(1, group_start) + valid.long().gather(1, group_start)
    keep = valid & (rank <= top_k)
    # chosen states with fewer than top_k peptides here: candidates left out may add some
    found = torch.zeros_like(rank).scatter_reduce(1, group_start, rank * valid, "amax")
    short = start & chosen & (found < top_k)
    short_states = torch.where(short, s_state, -1).sort(1).values[:, -min(beam, n):].contiguous()
    width = min(beam * top_k, n)
    pick = s_score.masked_fill(~keep, -torch.inf).topk(width, dim=1)
    return order.gather(1, pick.indices), pick.values, short_states, enough
