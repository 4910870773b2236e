"""How far to trust an answer: evidence features, a calibrated probability, and q-values.

For each candidate peptide a handful of cheap features describe how sure the model was (token
probabilities, the halting logit, whether the last recursion step changed the answer) and how
well the peptide explains its spectrum (precursor fit, matched b/y ions, ladder continuity). A
logistic regression fitted on annotated spectra (:func:`fit`) maps them to the probability that
the peptide is exactly right (I = L); it is stored in the checkpoint. q-values follow from the
probabilities alone: sorted from the most probable, the running mean of ``1 - p`` is the
expected share of wrong peptides among those accepted (no decoys needed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from trmseq.masses import fragment_bonds, fragment_mz

FEATURES = (
    "mean_log_token_p",  # mean log of the per-token scores
    "min_log_token_p",  # log of the weakest token's score
    "path_log_p_per_slot",  # log-probability of the CTC path over the slots, per token
    "fits_precursor",  # 1 if within the tolerance
    "log_abs_ppm_error",  # log(1 + |precursor error| in ppm), the error capped at 100 ppm
    "isotope_offset",  # 13C offset of the best fit (0 or 1)
    "explained_intensity",  # share of the spectrum's (scaled) intensity at b/y ions
    "ion_coverage",  # share of the peptide's bonds with a b or y ion observed
    "longest_ladder",  # longest run of consecutive observed bonds, over the bonds
    "search_gap",  # log-probability given up to fit the precursor (greedy path - this path)
    "rival_gap",  # log-probability lead over the best other fitting peptide found, within +-20
    "weak_token_share",  # share of tokens scored below 0.5
    "halting_logit",  # the halting head at the step answered, capped at +-10
    "changed_last_step",  # 1 if the last recursion step changed the answer
    "n_residues",
    "charge",
    "charge_3_plus",  # 1 for precursors of charge 3 or more
)

# A peptide with no rival, or far ahead of it: a difference of 20 in log-probability is e^20.
_RIVAL_CAP = 20.0


def features(
    aa_scores: Sequence[float],
    log_prob: float,
    greedy_log_prob: float,
    fits: bool,
    ppm_error: float | None,
    isotope: int | None,
    residue_masses: np.ndarray,
    mz: np.ndarray,
    intensity: np.ndarray,
    charge: int,
    halting_logit: float,
    changed: bool,
    tol_da: float,
    rival_log_prob: float | None = None,
) -> np.ndarray:
    """The :data:`FEATURES` of one candidate, as float64 of shape (len(FEATURES),).

    ``greedy_log_prob`` is the log-probability of the most probable path, fitting or not;
    ``mz`` and ``intensity`` are the preprocessed peaks the model saw; ``rival_log_prob`` that
    of the best other fitting peptide the search found (None: none, and the gap is 20).
    """
    scores = np.clip(np.asarray(aa_scores, dtype=np.float64), 1e-6, 1.0)
    explained, coverage, ladder = _fragment_evidence(residue_masses, mz, intensity, charge, tol_da)
    error = min(abs(ppm_error), 100.0) if ppm_error is not None else 100.0
    return np.array([
        np.log(scores).mean(), np.log(scores.min()), log_prob / max(1, len(scores)), float(fits),
        np.log1p(error), float(isotope or 0), explained, coverage, ladder,
        min(greedy_log_prob - log_prob, 50.0), _RIVAL_CAP if rival_log_prob is None else
        float(np.clip(log_prob - rival_log_prob, -_RIVAL_CAP, _RIVAL_CAP)), float((scores < 0.5).mean()),
        float(np.clip(halting_logit, -10, 10)), float(changed), float(len(residue_masses)),
        float(charge), float(charge >= 3),
    ])  # fmt: skip


def _fragment_evidence(
    residue_masses: np.ndarray, mz: np.ndarray, intensity: np.ndarray, charge: int, tol_da: float
) -> tuple[float, float, float]:
    """(share of intensity at b/y ions, share of bonds seen, longest run of bonds seen / bonds)."""
    n_bonds = len(residue_masses) - 1
    if n_bonds < 1 or len(mz) == 0:
        return 0.0, 0.0, 0.0
    seen = np.zeros(n_bonds, dtype=bool)
    explained = np.zeros(len(mz), dtype=bool)
    for z in range(1, max(1, charge - 1) + 1):
        for ion in ("b", "y"):
            hit = _near(mz, fragment_mz(residue_masses, ion, z), tol_da)  # (n_peaks, n_bonds)
            explained |= hit.any(axis=1)
            seen[fragment_bonds(len(residue_masses), ion)] |= hit.any(axis=0)
    total = float(intensity.sum()) or 1.0
    runs = np.diff(np.flatnonzero(np.r_[True, ~seen, True])) - 1
    return float(intensity[explained].sum()) / total, float(seen.mean()), float(runs.max()) / n_bonds


def _near(mz: np.ndarray, ions: np.ndarray, tol_da: float) -> np.ndarray:
    return np.abs(mz[:, None] - ions[None, :]) <= tol_da


@dataclass(frozen=True)
class Calibrator:
    """A logistic regression from standardised features to P(peptide exactly right)."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    n_fit: int  # annotated candidates it was fitted on
    fitted_on: str  # what they were, in words

    def probability(self, x: np.ndarray) -> np.ndarray:
        """P(right) for feature rows ``x`` of shape (n, len(features)) or (len(features),)."""
        z = (np.asarray(x, dtype=np.float64) - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-(z @ np.asarray(self.coef) + self.intercept)))

    def to_dict(self) -> dict:
        """Plain lists and numbers, for a checkpoint."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, raw: dict) -> Calibrator:
        """Rebuild from :meth:`to_dict`; raises ValueError if it does not fit these features."""
        c = cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})
        if c.features != FEATURES:
            missing = [f for f in FEATURES if f not in c.features]
            unknown = [f for f in c.features if f not in FEATURES]
            raise ValueError(f"made for other evidence features (missing {', '.join(missing) or 'none'}, "
                             f"unknown {', '.join(unknown) or 'none'})")  # fmt: skip
        return c


def fit(x: np.ndarray, right: np.ndarray, fitted_on: str, l2: float = 1.0, n_iter: int = 50) -> Calibrator:
    """Fit the logistic regression by Newton's method with an L2 penalty (not on the intercept).

    Parameters
    ----------
    x : numpy.ndarray of shape (n, len(FEATURES))
    right : numpy.ndarray of shape (n,), bool
        Whether each candidate is exactly the annotated peptide.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(right, dtype=np.float64)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    design = np.c_[(x - mean) / scale, np.ones(len(x))]
    w = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(n_iter):
        p = 1.0 / (1.0 + np.exp(-(design @ w)))
        gradient = design.T @ (p - y) + penalty * w
        hessian = (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    as_floats = lambda a: tuple(float(v) for v in a)  # noqa: E731 - plain floats load as weights
    return Calibrator(FEATURES, as_floats(mean), as_floats(scale), as_floats(w[:-1]), float(w[-1]),
                      len(x), fitted_on)  # fmt: skip


def q_values(probabilities: Sequence[float]) -> np.ndarray:
    """The FDR at which each answer would be accepted, estimated from the probabilities alone.

    Accepting every answer at least as probable as answer ``i`` expects a share of
    ``mean(1 - p)`` wrong among them; the q-value is the smallest such share over the cut-offs
    that accept ``i``.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if len(p) == 0:
        return p
    order = np.argsort(-p, kind="stable")
    fdr = np.cumsum(1.0 - p[order]) / np.arange(1, len(p) + 1)
    q = np.minimum.accumulate(fdr[::-1])[::-1]
    out = np.empty_like(q)
    out[order] = q
    return out


def reliability(probability: np.ndarray, right: np.ndarray, n_bins: int = 10) -> list[dict]:
    """Predicted probability against the observed share right, in equal-width bins (with counts;
    an empty bin has None for both)."""
    p, y = np.asarray(probability, dtype=np.float64), np.asarray(right, dtype=bool)
    which = np.minimum((p * n_bins).astype(int), n_bins - 1)
    return [{"low": b / n_bins, "high": (b + 1) / n_bins, "n": int((which == b).sum()),
             "predicted": float(p[which == b].mean()) if (which == b).any() else None,
             "observed": float(y[which == b].mean()) if (which == b).any() else None}
            for b in range(n_bins)]  # fmt: skip


def expected_calibration_error(probability: np.ndarray, right: np.ndarray, n_bins: int = 10) -> float:
    """Mean |predicted - observed| over the bins of :func:`reliability`, weighted by their counts."""
    bins = [b for b in reliability(probability, right, n_bins) if b["n"]]
    total = sum(b["n"] for b in bins)
    return float(sum(b["n"] * abs(b["predicted"] - b["observed"]) for b in bins) / max(1, total))


def fdr_table(probability: np.ndarray, right: np.ndarray, n_spectra: int,
              levels: Sequence[float] = (0.01, 0.05, 0.10)) -> list[dict[str, float]]:  # fmt: skip
    """At each q-value level: PSMs accepted, the estimated and the true FDR, and peptide recall."""
    p, y = np.asarray(probability, dtype=np.float64), np.asarray(right, dtype=bool)
    q = q_values(p)
    rows = []
    for level in levels:
        accepted = q <= level
        n = int(accepted.sum())
        rows.append({"q": level, "accepted": n,
                     "estimated_fdr": float((1 - p[accepted]).mean()) if n else 0.0,
                     "true_fdr": float((~y[accepted]).mean()) if n else 0.0,
                     "peptide_recall": float(y[accepted].sum()) / max(1, n_spectra)})  # fmt: skip
    return rows
