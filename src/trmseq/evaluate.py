"""Accuracy of predicted peptides against true ones, as the field computes it (Casanovo).

Residues are paired walking from the N-terminus while the two running masses agree within
0.5 Da; a pair matches when the two residue masses agree within 0.1 Da. If the whole peptide
does not match, the walk is repeated from the C-terminus down to the first unmatched position
(Casanovo's "best" mode). I and L have the same mass, so they always match. An N-terminal
modification is counted with the first residue, as Casanovo's tokenisation does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CUM_TOL_DA = 0.5
RESIDUE_TOL_DA = 0.1


def match_residues(
    true: Sequence[float], pred: Sequence[float], cum_tol: float = CUM_TOL_DA,
    residue_tol: float = RESIDUE_TOL_DA,
) -> np.ndarray:
    """Return which paired residues match, walking from the N-terminus then the C-terminus.

    Parameters
    ----------
    true, pred
        Residue masses of the true and predicted peptides.

    Returns
    -------
    numpy.ndarray of bool, length ``max(len(true), len(pred))``
        The peptides match exactly when every element is True.
    """
    matched = np.zeros(max(len(true), len(pred)), dtype=bool)
    _walk(true, pred, matched, cum_tol, residue_tol, reverse=False, stop=0)
    if matched.all():
        return matched
    first_miss = int(np.argmin(matched))
    _walk(true, pred, matched, cum_tol, residue_tol, reverse=True, stop=first_miss)
    return matched


def _walk(
    a: Sequence[float], b: Sequence[float], matched: np.ndarray, cum_tol: float,
    residue_tol: float, reverse: bool, stop: int,
) -> None:
    step = -1 if reverse else 1
    i, j = (len(a) - 1, len(b) - 1) if reverse else (0, 0)
    mass_a = mass_b = 0.0

    def inside(i: int, j: int) -> bool:
        if reverse:
            return i >= stop and j >= stop
        return i < len(a) and j < len(b)

    while inside(i, j):
        next_a, next_b = mass_a + a[i], mass_b + b[j]
        if abs(next_a - next_b) < cum_tol:
            matched[max(i, j)] = abs(a[i] - b[j]) < residue_tol
            i, j, mass_a, mass_b = i + step, j + step, next_a, next_b
        elif next_b > next_a:
            i, mass_a = i + step, next_a
        else:
            j, mass_b = j + step, next_b


@dataclass(frozen=True)
class Metrics:
    """Residue- and peptide-level accuracy over a set of spectra."""

    n_spectra: int
    n_predicted: int  # spectra with a (non-empty) prediction
    aa_precision: float  # matched residues / predicted residues
    aa_recall: float  # matched residues / true residues
    peptide_precision: float  # fully matched / spectra with a prediction
    peptide_recall: float  # fully matched / all spectra


def score_peptides(
    true: Sequence[Sequence[float]], pred: Sequence[Sequence[float] | None]
) -> tuple[Metrics, np.ndarray]:
    """Compare predicted with true peptides given as residue-mass lists.

    ``None`` or an empty list means no prediction for that spectrum: it counts against recall.

    Returns
    -------
    Metrics, and numpy.ndarray of bool (n_spectra,): which peptides match exactly.
    """
    n_true = n_pred = n_match = n_with_pred = 0
    exact = np.zeros(len(true), dtype=bool)
    for k, (t, p) in enumerate(zip(true, pred, strict=True)):
        n_true += len(t)
        if not p:
            continue
        n_with_pred += 1
        n_pred += len(p)
        matched = match_residues(t, p)
        n_match += int(matched.sum())
        exact[k] = bool(matched.all())
    n = len(true)
    metrics = Metrics(
        n_spectra=n,
        n_predicted=n_with_pred,
        aa_precision=n_match / n_pred if n_pred else 0.0,
        aa_recall=n_match / n_true if n_true else 0.0,
        peptide_precision=float(exact.sum()) / n_with_pred if n_with_pred else 0.0,
        peptide_recall=float(exact.sum()) / n if n else 0.0,
    )
    return metrics, exact


@dataclass(frozen=True)
class Curve:
    """Precision against coverage, spectra ranked by score (all spectra count in coverage)."""

    coverage: np.ndarray
    precision: np.ndarray
    auc: float  # area under the curve: 1 = every spectrum right and ranked


def precision_coverage(scores: Sequence[float], correct: Sequence[bool], n_spectra: int) -> Curve:
    """Rank predictions by score; precision of the top k against k / ``n_spectra``.

    Spectra without a prediction are not in ``scores`` but count in ``n_spectra``, so
    coverage never reaches 1 for them (as in Casanovo's evaluation).
    """
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")
    hits = np.asarray(correct, dtype=float)[order]
    if len(hits) == 0 or n_spectra == 0:
        return Curve(np.zeros(0), np.zeros(0), 0.0)
    k = np.arange(1, len(hits) + 1)
    precision = np.cumsum(hits) / k
    coverage = k / n_spectra
    auc = float(np.sum(precision) / n_spectra)  # right Riemann sum: each spectrum 1/N wide
    return Curve(coverage, precision, auc)


def recall_at_fdr(
    scores: Sequence[float], correct: Sequence[bool], n_spectra: int, fdr: float
) -> tuple[float, float | None]:
    """Peptide recall at the lowest score threshold whose precision is still >= 1 - ``fdr``.

    Returns
    -------
    (recall, threshold); threshold is None when no threshold reaches that precision.
    """
    s = np.asarray(scores, dtype=float)
    order = np.argsort(-s, kind="stable")
    hits = np.asarray(correct, dtype=bool)[order]
    if len(hits) == 0:
        return 0.0, None
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    # only cut between distinct scores: ties are kept or dropped together
    boundary = np.r_[s[order][1:] != s[order][:-1], True]
    ok = np.nonzero((precision >= 1 - fdr) & boundary)[0]
    if len(ok) == 0:
        return 0.0, None
    k = ok[-1]
    return float(hits[: k + 1].sum()) / n_spectra, float(s[order][k])
