"""The spectrum record, its preprocessing, and the reasons a spectrum is skipped.

Readers (:mod:`trmseq.io`) produce :class:`Spectrum` objects with the peaks as acquired;
:func:`preprocess` returns a copy ready for the model (Casanovo's defaults: m/z 50-2500, no
precursor peak, the 150 most intense peaks, sqrt then unit-norm intensities) or the reason it
cannot be used. :class:`SkipCounter` keeps the count that the CLI reports.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from trmseq.config import DataConfig

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Spectrum:
    """One MS/MS spectrum and where it came from.

    ``ref`` is the mzTab spectra_ref body: ``index=N`` for MGF (0-based over all spectra in the
    file), the nativeID for mzML, ``scan=N`` for mzXML.
    """

    mz: np.ndarray  # float64, shape (n_peaks,)
    intensity: np.ndarray  # float32, shape (n_peaks,)
    precursor_mz: float  # NaN when the file gives none
    charge: int | None  # None when the file gives none
    file: str
    index: int
    ref: str
    scan: str | None = None
    title: str | None = None
    rt_seconds: float | None = None
    annotation: str | None = None  # the peptide as written in the file (SEQ=), any notation

    @property
    def n_peaks(self) -> int:
        """Number of peaks."""
        return len(self.mz)

    def where(self) -> str:
        """Name this spectrum for messages: file, reference and title."""
        title = f" ({self.title})" if self.title else ""
        return f"{self.file} {self.ref}{title}"


def skip_reason(spectrum: Spectrum, config: DataConfig) -> str | None:
    """Return why the spectrum's precursor cannot be used, or None when it can."""
    if not math.isfinite(spectrum.precursor_mz) or spectrum.precursor_mz <= 0:
        return "no precursor m/z"
    if spectrum.charge is None:
        return "missing or ambiguous precursor charge"
    if spectrum.charge < config.min_charge:
        return f"charge below {config.min_charge}"
    if spectrum.charge > config.max_charge:
        return f"charge above {config.max_charge}"
    return None


def preprocess(spectrum: Spectrum, config: DataConfig) -> Spectrum | str:
    """Filter and scale the peaks for the model.

    Returns
    -------
    Spectrum or str
        The preprocessed spectrum (peaks sorted by m/z, intensities sqrt-scaled to unit norm),
        or the reason it is skipped.
    """
    reason = skip_reason(spectrum, config)
    if reason:
        return reason
    mz, intensity = spectrum.mz, spectrum.intensity.astype(np.float64)
    keep = (
        np.isfinite(mz)
        & np.isfinite(intensity)
        & (intensity > 0)
        & (mz >= config.min_mz)
        & (mz <= config.max_mz)
        & (np.abs(mz - spectrum.precursor_mz) > config.remove_precursor_tol_da)
    )
    mz, intensity = mz[keep], intensity[keep]
    if len(mz) < config.min_peaks:
        return f"fewer than {config.min_peaks} peaks"
    if len(mz) > config.n_peaks:
        top = np.argpartition(-intensity, config.n_peaks - 1)[: config.n_peaks]
        mz, intensity = mz[top], intensity[top]
    order = np.argsort(mz, kind="stable")
    intensity = np.sqrt(intensity[order])
    intensity /= np.linalg.norm(intensity)
    return dataclasses.replace(spectrum, mz=mz[order], intensity=intensity.astype(np.float32))


@dataclass
class SkipCounter:
    """Counts skipped spectra by reason and remembers the first few of each for the log."""

    read: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    max_examples: int = 3

    def skip(self, spectrum: Spectrum, reason: str) -> None:
        """Record that ``spectrum`` was skipped because of ``reason``."""
        self.counts[reason] += 1
        shown = self.examples.setdefault(reason, [])
        if len(shown) < self.max_examples:
            shown.append(spectrum.where())
            logger.info("skipped %s: %s", spectrum.where(), reason)

    @property
    def n_skipped(self) -> int:
        """Total spectra skipped."""
        return sum(self.counts.values())

    @property
    def n_used(self) -> int:
        """Spectra read and not skipped."""
        return self.read - self.n_skipped

    def summary(self) -> str:
        """One line per reason, most common first."""
        return "\n".join(f"{n:>8,}  {reason}" for reason, n in self.counts.most_common())
