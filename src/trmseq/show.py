"""A picture of the evidence: one spectrum with a peptide's b/y ions marked (``trmseq show``).

:func:`annotate` finds which peaks a peptide explains (b and y ions at every fragment charge
below the precursor's); :func:`draw` plots them, coloured and labelled, with the peptide's
ladder across the top and, optionally, a second peptide mirrored below for comparison.
matplotlib is an optional extra (``pip install "trmseq[plot]"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trmseq import checkpoint
from trmseq.constants import PROTON
from trmseq.device import resolve_device
from trmseq.errors import InputError, PeptideError
from trmseq.inference import Runner
from trmseq.io import read_spectra
from trmseq.io.atomic import atomic_write
from trmseq.masses import fragment_mz, precursor_error_ppm
from trmseq.paths import resolve_model
from trmseq.spectrum import Spectrum, preprocess
from trmseq.vocab import Vocabulary

COLOURS = {"b": "#1f77b4", "y": "#d62728"}


@dataclass(frozen=True)
class Match:
    """A peak explained by a fragment ion."""

    peak: int  # index into the spectrum's peaks
    series: str  # "b" or "y"
    number: int  # b3 -> 3
    charge: int
    mz_error_da: float

    @property
    def label(self) -> str:
        """The ion's name: b3, y5, y7++."""
        return f"{self.series}{self.number}" + "+" * (self.charge if self.charge > 1 else 0)


def find_spectrum(path: Path, index: int | None = None, scan: str | None = None,
                  title: str | None = None) -> Spectrum:  # fmt: skip
    """The first spectrum of a file with this 0-based index, scan number or title.

    Raises
    ------
    InputError
        If the file holds no such spectrum.
    """
    for s in read_spectra(path):
        if (index is not None and s.index == index) or (scan is not None and s.scan == scan) or (
            title is not None and s.title == title
        ):
            return s
    wanted = f"index {index}" if index is not None else f"scan {scan}" if scan is not None else f"title {title!r}"
    raise InputError(f"{path}: no spectrum with {wanted}")


def explain(
    spectrum: Spectrum, model_path: str | Path | None, device: str = "auto",
    peptide: str | None = None, compare: str | None = None,
) -> tuple[Vocabulary, tuple[str, ...], tuple[str, ...] | None, str]:  # fmt: skip
    """The peptide to show (the given one, else the model's answer), the one to compare, a note.

    Raises
    ------
    InputError
        If a peptide cannot be read, or the model gives none for this spectrum.
    """
    path = resolve_model(model_path)
    model, tokenizer, config, payload = checkpoint.load_model(path)
    vocab = tokenizer.vocab

    def parse(text: str) -> tuple[str, ...]:
        try:
            return vocab.parse(text)
        except PeptideError as e:
            raise InputError(f"peptide {text!r}: {e.reason}") from None

    other = parse(compare) if compare else None
    if peptide is not None:
        return vocab, parse(peptide), other, "(as given)"
    processed = preprocess(spectrum, config.data)
    if isinstance(processed, str):
        raise InputError(f"{spectrum.where()}: not sequenced ({processed}); give a peptide with --peptide")
    runner = Runner(model, tokenizer, config.decode, resolve_device(device), checkpoint.calibrator(payload, path))
    (answer,) = runner.answer([processed])
    if not answer.candidates:
        raise InputError(f"{spectrum.where()}: the model gives no peptide; give one with --peptide")
    p = answer.evidence[0].probability
    note = "(the model's answer" + (f", probability {p:.3f})" if p is not None else ")")
    return vocab, answer.candidates[0].peptide, other, note


def annotate(spectrum: Spectrum, peptide: Sequence[str], vocab: Vocabulary, tol_da: float = 0.02) -> list[Match]:
    """The b/y ions of ``peptide`` found among the peaks, the most intense peak per ion."""
    masses = vocab.residue_masses(peptide)
    matches = []
    for charge in range(1, max(1, (spectrum.charge or 2) - 1) + 1):
        for series in ("b", "y"):
            for number, ion in enumerate(fragment_mz(masses, series, charge), start=1):
                near = np.flatnonzero(np.abs(spectrum.mz - ion) <= tol_da)
                if len(near):
                    best = int(near[np.argmax(spectrum.intensity[near])])
                    matches.append(Match(best, series, number, charge, float(spectrum.mz[best] - ion)))
    return matches


def draw(
    spectrum: Spectrum,
    peptide: Sequence[str],
    vocab: Vocabulary,
    path: str | Path,
    compare: Sequence[str] | None = None,
    tol_da: float = 0.02,
    isotopes: Sequence[int] = (0, 1),
) -> None:
    """Plot the spectrum with ``peptide``'s ions above the axis (``compare``'s mirrored below).

    The file type follows the suffix (.png or .svg).

    Raises
    ------
    ImportError
        When matplotlib is not installed.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    peptides = [peptide] + ([compare] if compare else [])
    fig, ax = plt.subplots(figsize=(11, 5.5 if compare else 4.2))
    top = float(spectrum.intensity.max()) if spectrum.n_peaks else 1.0
    for sign, pep in zip((1, -1), peptides, strict=False):
        _draw_one(ax, spectrum, pep, vocab, sign, top, tol_da)
    titles = []
    for pep in peptides:
        error, isotope = precursor_error_ppm(vocab.peptide_mass(pep), spectrum.precursor_mz,
                                             spectrum.charge or 1, isotopes)  # fmt: skip
        titles.append(f"{vocab.proforma(pep)}  ({error:+.1f} ppm" + (f", isotope {isotope}" if isotope else "") + ")")
    ax.set_title(f"{spectrum.where()}\nprecursor m/z {spectrum.precursor_mz:.4f}, {spectrum.charge}+:  "
                 + "  vs  ".join(titles), fontsize=9)  # fmt: skip
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set(xlabel="m/z", ylabel="relative intensity", ylim=(-1.3 if compare else 0, 1.3))
    fig.tight_layout()
    path = Path(path)
    with atomic_write(path, "wb") as handle:
        fig.savefig(handle, format=path.suffix.lstrip(".").lower() or "png", dpi=130)
    plt.close(fig)


def _draw_one(ax, spectrum: Spectrum, peptide: Sequence[str], vocab: Vocabulary, sign: int, top: float,
              tol_da: float) -> None:  # fmt: skip
    """One peptide's view: grey peaks, its ions coloured and named, its ladder across the top."""
    height = sign * spectrum.intensity / top
    ax.vlines(spectrum.mz, 0, height, color="#b0b0b0", linewidth=0.7)
    matches = annotate(spectrum, peptide, vocab, tol_da)
    for m in matches:
        x, h = spectrum.mz[m.peak], height[m.peak]
        ax.vlines(x, 0, h, color=COLOURS[m.series], linewidth=1.2)
        ax.annotate(m.label, (x, h), textcoords="offset points", xytext=(0, 2 * sign),
                    ha="center", va="bottom" if sign > 0 else "top", fontsize=7, color=COLOURS[m.series])  # fmt: skip
    # the ladder: each residue between its bonds; solid where the b or y ions of both bonds were seen
    masses = vocab.residue_masses(peptide)
    n = len(masses)
    edges = np.r_[0.0, np.cumsum(masses)] + PROTON  # b-ion m/z at each bond, termini included
    seen = {0, n} | {m.number if m.series == "b" else n - m.number for m in matches}
    letters = list(vocab.residues(peptide))
    y = sign * 1.15
    for i, letter in enumerate(letters):
        solid = i in seen and i + 1 in seen
        ax.plot([edges[i], edges[i + 1]], [y, y], color=COLOURS["b"], alpha=1.0 if solid else 0.25, linewidth=1.5)
        ax.text((edges[i] + edges[i + 1]) / 2, y + 0.03 * sign, letter, ha="center",
                va="bottom" if sign > 0 else "top", fontsize=8)  # fmt: skip
