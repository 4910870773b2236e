"""From spectrum files to usable spectra: read, check, preprocess, and count what is skipped.

Every spectrum read is either yielded or counted in the :class:`~trmseq.spectrum.SkipCounter`
under its reason, so the totals always reconcile with the input.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from trmseq.config import DataConfig
from trmseq.errors import PeptideError
from trmseq.io import read_spectra
from trmseq.masses import precursor_error_ppm
from trmseq.spectrum import SkipCounter, Spectrum, preprocess
from trmseq.vocab import Vocabulary

# Annotated spectra whose label misses the precursor by more than this are skipped: the label
# belongs to another spectrum or uses a convention we do not (e.g. unmodified C).
ANNOTATION_TOL_PPM = 50.0
ANNOTATION_ISOTOPES = (-1, 0, 1, 2)


def read_annotation(spectrum: Spectrum, vocab: Vocabulary) -> tuple[str, ...] | str:
    """Return the spectrum's annotated peptide as tokens, or why it cannot be used."""
    if not spectrum.annotation:
        return "no annotation (SEQ=)"
    try:
        peptide = vocab.parse(spectrum.annotation)
    except PeptideError as e:
        return f"annotation: {e.reason}"
    if spectrum.charge is not None and spectrum.charge > 0:
        error, _ = precursor_error_ppm(
            vocab.peptide_mass(peptide), spectrum.precursor_mz, spectrum.charge,
            ANNOTATION_ISOTOPES,
        )
        if abs(error) > ANNOTATION_TOL_PPM:
            return f"annotation mass off the precursor by more than {ANNOTATION_TOL_PPM:g} ppm"
    return peptide


def usable_spectra(
    paths: Iterable[str | Path],
    config: DataConfig,
    counter: SkipCounter,
    vocab: Vocabulary | None = None,
) -> Iterator[tuple[Spectrum, tuple[str, ...] | None]]:
    """Yield (preprocessed spectrum, peptide) for every usable spectrum in the files.

    With a ``vocab``, spectra must carry an annotation that the vocabulary can read and whose
    mass fits the precursor; without one, the peptide is None.
    """
    for path in paths:
        for spectrum in read_spectra(path):
            counter.read += 1
            peptide = None
            if vocab is not None:
                peptide = read_annotation(spectrum, vocab)
                if isinstance(peptide, str):
                    counter.skip(spectrum, peptide)
                    continue
            processed = preprocess(spectrum, config)
            if isinstance(processed, str):
                counter.skip(spectrum, processed)
                continue
            yield processed, peptide
