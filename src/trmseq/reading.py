"""From spectrum files to usable spectra: read, check, preprocess, and count what is skipped.

Every spectrum read is either yielded or counted in the :class:`~trmseq.spectrum.SkipCounter`
under its reason, so the totals always reconcile with the input.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from pathlib import Path

from trmseq.config import DataConfig
from trmseq.constants import UNIMOD
from trmseq.errors import PeptideError
from trmseq.io import read_spectra
from trmseq.labels import Labels
from trmseq.masses import precursor_error_ppm
from trmseq.spectrum import SkipCounter, Spectrum, preprocess
from trmseq.vocab import Vocabulary

# Annotated spectra whose label misses the precursor by more than this are skipped: the label
# belongs to another spectrum or uses a convention we do not (e.g. unmodified C).
ANNOTATION_TOL_PPM = 50.0
ANNOTATION_ISOTOPES = (-1, 0, 1, 2)
NO_LABEL = "no label (in the --labels files)"
CARBAMIDOMETHYL = UNIMOD["Carbamidomethyl"][1]


def _off_precursor(peptide: tuple[str, ...], spectrum: Spectrum, vocab: Vocabulary, shift: float = 0.0) -> bool:
    """Whether the peptide (its mass plus ``shift``) misses the precursor at every isotope offset -1..2."""
    if spectrum.charge is None or spectrum.charge <= 0:
        return False
    error, _ = precursor_error_ppm(
        vocab.peptide_mass(peptide) + shift, spectrum.precursor_mz, spectrum.charge, ANNOTATION_ISOTOPES
    )
    return abs(error) > ANNOTATION_TOL_PPM


def _mass_problem(peptide: tuple[str, ...], spectrum: Spectrum, vocab: Vocabulary, what: str) -> str | None:
    """Why the peptide's mass rules it out as the spectrum's label, or None if it fits.

    Some libraries (NIST's BSA consensus spectra) leave C unmodified where trmseq reads a plain
    C as carbamidomethyl C; such labels get a reason that says so.
    """
    if not _off_precursor(peptide, spectrum, vocab):
        return None
    n_cam = sum(vocab.residues([t]) == "C" and t != "C" for t in peptide)
    if n_cam and not _off_precursor(peptide, spectrum, vocab, -n_cam * CARBAMIDOMETHYL):
        return f"{what} mass off the precursor unless C is unmodified (trmseq reads C as C+57.021)"
    return f"{what} mass off the precursor by more than {ANNOTATION_TOL_PPM:g} ppm"


def read_annotation(spectrum: Spectrum, vocab: Vocabulary) -> tuple[str, ...] | str:
    """Return the spectrum's annotated peptide as tokens, or why it cannot be used."""
    if not spectrum.annotation:
        return "no annotation (SEQ=)"
    try:
        peptide = vocab.parse(spectrum.annotation)
    except PeptideError as e:
        if "," in spectrum.annotation:  # PRIDE exports list every peptide of a spectrum: one reason
            return "annotation: several peptides (comma-separated)"
        return f"annotation: {e.reason}"
    return _mass_problem(peptide, spectrum, vocab, "annotation") or peptide


def read_label(
    spectrum: Spectrum, labels: Labels, vocab: Vocabulary
) -> tuple[Spectrum, tuple[str, ...] | str, bool]:
    """Join a spectrum to its label: (spectrum, peptide or why not, whether a label was taken).

    A spectrum without a precursor charge takes the identification's. A label the vocabulary
    cannot express, or whose mass misses the precursor, is counted as skipped in ``labels``.
    """
    label = labels.take(spectrum)
    if label is None:
        return spectrum, NO_LABEL, False
    if spectrum.charge is None and label.charge is not None:
        spectrum = dataclasses.replace(spectrum, charge=label.charge)
    peptide = label.tokens(vocab)
    if isinstance(peptide, str):
        labels.settle(peptide)
        return spectrum, f"label: {peptide}", True
    reason = _mass_problem(peptide, spectrum, vocab, "label")
    if reason is not None:
        labels.settle(reason)
        return spectrum, reason, True
    return spectrum, peptide, True


def usable_spectra(
    paths: Iterable[str | Path],
    config: DataConfig,
    counter: SkipCounter,
    vocab: Vocabulary | None = None,
    labels: Labels | None = None,
) -> Iterator[tuple[Spectrum, tuple[str, ...] | None]]:
    """Yield (preprocessed spectrum, peptide) for every usable spectrum in the files.

    With a ``vocab``, spectra must carry an annotation (``SEQ=``; with ``labels``, a label from
    the identification files instead) that the vocabulary can read and whose mass fits the
    precursor; without one, the peptide is None. ``labels`` counts what becomes of each label.
    """
    if labels is not None and vocab is None:
        raise ValueError("labels need a vocabulary")
    for path in paths:
        for spectrum in read_spectra(path):
            counter.read += 1
            peptide = None
            labelled = False
            if labels is not None and vocab is not None:
                spectrum, peptide, labelled = read_label(spectrum, labels, vocab)
            elif vocab is not None:
                peptide = read_annotation(spectrum, vocab)
            if isinstance(peptide, str):
                counter.skip(spectrum, peptide)
                continue
            processed = preprocess(spectrum, config)
            if isinstance(processed, str):
                counter.skip(spectrum, processed)
                if labelled and labels is not None:
                    labels.settle(f"its spectrum is skipped: {processed}")
                continue
            if labelled and labels is not None:
                labels.settle(None)
            yield processed, peptide
