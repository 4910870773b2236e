"""A small log-linear model of b/y fragment intensities, fitted to real spectra.

For a peptide and its precursor charge the model gives every singly charged b and y ion a share
of the spectrum's b/y intensity: ``share_j = exp(x_j . w) / sum_k exp(x_k . w)`` over the
peptide's 2(n-1) ions, where ``x_j`` (:func:`ion_features`) describes the cleaved bond (the
residues on both sides and one further out, its relative position, whether it is one of the
first or last three bonds), the fragment (its basic residues) and the precursor charge, each
feature separately for b and y ions (so every feature interacts with the ion type).

Fitting (:func:`fit`) minimises the cross-entropy between observed and predicted shares, a
multinomial log-linear (softmax) regression with a ridge penalty, by Newton's method; zeros
(missing ions) need no special treatment. The parameters are a few hundred numbers, stored as
JSON (:meth:`IntensityModel.to_json`); the fitted ones ship as ``intensity_model.json`` next to
this module (:func:`load_default`). numpy only.

Rows of the feature matrix and of every share vector are ordered b1..b(n-1), y1..y(n-1).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from trmseq.constants import RESIDUE_MASSES, UNIMOD

RESIDUES = "ACDEFGHKLMNPQRSTVWY"  # I is read as L; modifications are ignored (M+15.995 -> M)
IONS = ("b", "y")
# Residue slots around the bond between residues k and k+1 (0-based): k-1, k | k+1, k+2.
SLOTS = ("n2", "n1", "c1", "c2")
KNOTS = (0.0, 0.25, 0.5, 0.75, 1.0)  # hat functions on the bond's relative position
CHARGES = (1, 2, 3, 4)  # 4 stands for 4 and above
MASS_KNOTS = (0.0, 400.0, 800.0, 1200.0, 1600.0, 2000.0)  # hat functions on fragment mass (Da)
BASIC = "RKH"
FORMAT_VERSION = 1
DEFAULT_PATH = Path(__file__).resolve().parent / "intensity_model.json"


def _base_names() -> list[str]:
    names = ["bias"]
    names += [f"{slot}={aa}" for slot in SLOTS for aa in RESIDUES]
    names += [f"pos_hat{k}" for k in KNOTS]
    names += ["bond1", "bond2", "bond3", "bond-1", "bond-2", "bond-3"]
    names += [f"charge{z}" for z in CHARGES]
    names += ["pos_x_charge3+"]
    names += [f"frag_{aa}" for aa in BASIC]
    names += [f"mass_hat{int(k)}" for k in MASS_KNOTS]
    names += [f"mass_hat{int(k)}_x_charge3+" for k in MASS_KNOTS]
    return names


BASE_NAMES: tuple[str, ...] = tuple(_base_names())
FEATURE_NAMES: tuple[str, ...] = tuple(f"{ion}:{name}" for ion in IONS for name in BASE_NAMES)
N_FEATURES = len(FEATURE_NAMES)
_INDEX = {name: i for i, name in enumerate(BASE_NAMES)}
_CAM = UNIMOD["Carbamidomethyl"][1]  # C is read as carbamidomethyl C, as in the vocabulary


def clean_residues(residues: str) -> str:
    """Upper-case one-letter residues with I read as L; raises on anything else."""
    out = residues.upper().replace("I", "L")
    bad = set(out) - set(RESIDUES)
    if bad:
        raise ValueError(f"unknown residues {sorted(bad)} in {residues!r}")
    return out


def ion_features(residues: str, charge: int) -> np.ndarray:
    """Feature matrix of a peptide's singly charged b and y ions, shape (2(n-1), N_FEATURES).

    Row ``k`` (0 <= k < n-1) is b(k+1), the ion of the bond after residue k; row ``n-1+i`` is
    y(i+1), the ion of the bond after residue n-2-i. The two ions of one bond share the bond's
    features but fill different halves of the row (b features first, then y).

    Parameters
    ----------
    residues
        One-letter residues (modifications left out; I is read as L).
    charge
        Precursor charge.
    """
    seq = clean_residues(residues)
    n = len(seq)
    if n < 2:
        raise ValueError("a peptide needs at least two residues to fragment")
    base = np.zeros((n - 1, len(BASE_NAMES)))
    base[:, _INDEX["bias"]] = 1.0
    codes = np.array([RESIDUES.index(aa) for aa in seq])
    first = _INDEX[f"{SLOTS[0]}={RESIDUES[0]}"]
    bonds = np.arange(n - 1)  # bond k lies between residues k and k+1
    for s, offset in enumerate((-1, 0, 1, 2)):
        pos = bonds + offset
        ok = (pos >= 0) & (pos < n)
        base[bonds[ok], first + s * len(RESIDUES) + codes[pos[ok]]] = 1.0
    rel = (bonds + 1) / n  # share of the peptide on the N-terminal side
    step = KNOTS[1] - KNOTS[0]
    for knot in KNOTS:
        base[:, _INDEX[f"pos_hat{knot}"]] = np.clip(1.0 - np.abs(rel - knot) / step, 0.0, None)
    for j in range(3):
        if j < n - 1:
            base[j, _INDEX[f"bond{j + 1}"]] = 1.0
            base[n - 2 - j, _INDEX[f"bond-{j + 1}"]] = 1.0
    z = min(max(int(charge), CHARGES[0]), CHARGES[-1])
    base[:, _INDEX[f"charge{z}"]] = 1.0
    if charge >= 3:
        base[:, _INDEX["pos_x_charge3+"]] = rel
    b_rows, y_rows = base.copy(), base[::-1].copy()  # y(i+1) belongs to bond n-2-i
    for aa in BASIC:
        is_aa = np.array([c == aa for c in seq], dtype=float)
        prefix = np.cumsum(is_aa)[:-1]  # count in residues 0..k (the b fragment of bond k)
        b_rows[:, _INDEX[f"frag_{aa}"]] = np.minimum(prefix, 2.0)
        suffix = np.cumsum(is_aa[::-1])[:-1]  # count in the last i+1 residues (y(i+1))
        y_rows[:, _INDEX[f"frag_{aa}"]] = np.minimum(suffix, 2.0)
    mass = np.array([RESIDUE_MASSES[aa] for aa in seq]) + np.where(codes == RESIDUES.index("C"), _CAM, 0.0)
    b_mass = np.cumsum(mass)[:-1]
    y_mass = np.cumsum(mass[::-1])[:-1]
    mstep = MASS_KNOTS[1] - MASS_KNOTS[0]
    for rows, fmass in ((b_rows, b_mass), (y_rows, y_mass)):
        fmass = np.minimum(fmass, MASS_KNOTS[-1])
        for knot in MASS_KNOTS:
            hat = np.clip(1.0 - np.abs(fmass - knot) / mstep, 0.0, None)
            rows[:, _INDEX[f"mass_hat{int(knot)}"]] = hat
            if charge >= 3:
                rows[:, _INDEX[f"mass_hat{int(knot)}_x_charge3+"]] = hat
    out = np.zeros((2 * (n - 1), N_FEATURES))
    out[: n - 1, : len(BASE_NAMES)] = b_rows
    out[n - 1 :, len(BASE_NAMES) :] = y_rows
    return out


def _segment_softmax(scores: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Softmax of ``scores`` within each contiguous segment beginning at ``starts``."""
    top = np.maximum.reduceat(scores, starts)
    lengths = np.diff(np.append(starts, len(scores)))
    e = np.exp(scores - np.repeat(top, lengths))
    return e / np.repeat(np.add.reduceat(e, starts), lengths)


@dataclass
class IntensityModel:
    """Weights of the log-linear model, one per name in :data:`FEATURE_NAMES`."""

    weights: np.ndarray
    ridge: float = 0.0
    info: dict = field(default_factory=dict)

    def scores(self, residues: str, charge: int) -> np.ndarray:
        """Log-intensity (up to a constant) of b1..b(n-1), y1..y(n-1)."""
        return ion_features(residues, charge) @ self.weights

    def predict(self, residues: str, charge: int) -> np.ndarray:
        """Share of the b/y (1+) intensity of each ion b1..b(n-1), y1..y(n-1); sums to 1."""
        s = self.scores(residues, charge)
        e = np.exp(s - s.max())
        return e / e.sum()

    def predict_by(self, residues: str, charge: int) -> tuple[np.ndarray, np.ndarray]:
        """The shares split into (b1..b(n-1), y1..y(n-1))."""
        p = self.predict(residues, charge)
        half = len(p) // 2
        return p[:half], p[half:]

    def to_dict(self) -> dict:
        return {
            "format": "trmseq-intensity",
            "version": FORMAT_VERSION,
            "ridge": self.ridge,
            "info": self.info,
            "weights": {name: round(float(w), 6) for name, w in zip(FEATURE_NAMES, self.weights, strict=True)},
        }

    def to_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def from_dict(cls, data: dict) -> IntensityModel:
        if data.get("format") != "trmseq-intensity" or data.get("version") != FORMAT_VERSION:
            raise ValueError("not a trmseq intensity model of a known version")
        weights = data["weights"]
        if set(weights) != set(FEATURE_NAMES):
            missing = sorted(set(FEATURE_NAMES) - set(weights))[:5]
            extra = sorted(set(weights) - set(FEATURE_NAMES))[:5]
            raise ValueError(f"feature names differ (missing {missing}, unknown {extra})")
        w = np.array([float(weights[name]) for name in FEATURE_NAMES])
        return cls(weights=w, ridge=float(data.get("ridge", 0.0)), info=dict(data.get("info", {})))

    @classmethod
    def from_json(cls, path: str | Path) -> IntensityModel:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def load_default() -> IntensityModel:
    """The model fitted to real spectra that ships with trmseq (``intensity_model.json``)."""
    return IntensityModel.from_json(DEFAULT_PATH)


def fit(
    examples: list[tuple[str, int, np.ndarray]],
    ridge: float = 1.0,
    max_iter: int = 50,
    tol: float = 1e-8,
) -> IntensityModel:
    """Fit the model to observed b/y (1+) intensities.

    Parameters
    ----------
    examples
        (residues, precursor charge, observed intensity of b1..b(n-1), y1..y(n-1)); 0 for a
        missing ion. Examples whose ions are all 0 carry no information and are skipped.
    ridge
        L2 penalty on the weights (the loss sums one cross-entropy per spectrum).

    Returns
    -------
    IntensityModel
        With ``info`` holding the number of spectra used and the final loss per spectrum.
    """
    xs, ts = [], []
    for residues, charge, observed in examples:
        obs = np.clip(np.asarray(observed, dtype=np.float64), 0.0, None)
        x = ion_features(residues, charge)
        if len(obs) != len(x):
            raise ValueError(f"{residues}: {len(obs)} intensities for {len(x)} ions")
        if obs.sum() <= 0:
            continue
        xs.append(x)
        ts.append(obs / obs.sum())
    if not xs:
        raise ValueError("no example with an observed b/y intensity")
    x_all, t_all = np.concatenate(xs), np.concatenate(ts)
    starts = np.cumsum([0] + [len(x) for x in xs[:-1]])
    n_spec = len(xs)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        p = _segment_softmax(x_all @ w, starts)
        value = -float(t_all @ np.log(np.clip(p, 1e-300, None))) + 0.5 * ridge * float(w @ w)
        return value, p

    w = np.zeros(N_FEATURES)
    value, p = loss(w)
    for _ in range(max_iter):
        grad = x_all.T @ (p - t_all) + ridge * w
        mean_x = np.add.reduceat(x_all * p[:, None], starts)  # sum_j p_j x_j per spectrum
        hess = (x_all * p[:, None]).T @ x_all - mean_x.T @ mean_x + ridge * np.eye(N_FEATURES)
        step = np.linalg.solve(hess + 1e-9 * np.eye(N_FEATURES), grad)
        scale = 1.0
        while True:  # backtracking line search
            new_w = w - scale * step
            new_value, new_p = loss(new_w)
            if new_value <= value or scale < 1e-6:
                break
            scale /= 2.0
        done = value - new_value < tol * max(1.0, abs(value))
        w, value, p = new_w, new_value, new_p
        if done:
            break
    info = {"spectra": n_spec, "loss_per_spectrum": round(value / n_spec, 6)}
    return IntensityModel(weights=w, ridge=ridge, info=info)


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation; NaN when either vector is constant."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    a, b = a - a.mean(), b - b.mean()
    denom = np.sqrt((a @ a) * (b @ b))
    return float(a @ b / denom) if denom > 0 else float("nan")
