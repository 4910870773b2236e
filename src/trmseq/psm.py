"""The peptide-spectrum match: the record handed from decoding to the output writers."""

from __future__ import annotations

from dataclasses import dataclass

from trmseq.spectrum import Spectrum


@dataclass(frozen=True)
class PSM:
    """One answer (or the reason there is none) for one spectrum.

    ``peptide`` is None when the spectrum could not be sequenced; ``skip_reason`` says why.
    """

    spectrum: Spectrum  # the spectrum as read (peaks may be dropped to save memory)
    peptide: tuple[str, ...] | None
    score: float  # in [0, 1] when the peptide fits the precursor, score - 1 (< 0) when not
    aa_scores: tuple[float, ...]
    fits_precursor: bool
    precursor_error_ppm: float | None
    isotope: int | None  # the precursor isotope offset that fits best
    calc_mz: float | None
    recursion_steps: int  # supervision steps run before the answer was taken
    rank: int = 1  # 1 for the best candidate; 2.. with --top-k
    skip_reason: str | None = None
    probability: float | None = None  # calibrated P(exactly right); None without a calibration
    q_value: float | None = None  # the FDR at which this PSM would be accepted

    @classmethod
    def skipped(cls, spectrum: Spectrum, reason: str, recursion_steps: int = 0) -> PSM:
        """A spectrum that gets no peptide, and why."""
        return cls(spectrum=spectrum, peptide=None, score=0.0, aa_scores=(), fits_precursor=False,
                   precursor_error_ppm=None, isotope=None, calc_mz=None,
                   recursion_steps=recursion_steps, skip_reason=reason)  # fmt: skip
