"""The streams of annotated spectra that training uses.

* :class:`SyntheticStream`: spectrum ``i`` generated from ``(seed, i)`` with the curriculum
  preset for its place in training; restartable at any index, shardable across processes.
* :class:`AnnotatedSet`: real annotated spectra read once, shuffled per epoch by seed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from trmseq.batch import Example, collate  # noqa: F401 - collate: see trmseq.batch
from trmseq.config import DataConfig
from trmseq.errors import InputError
from trmseq.labels import Labels
from trmseq.peptides import PeptideSampler, sample_charge
from trmseq.reading import usable_spectra
from trmseq.spectrum import SkipCounter, Spectrum, preprocess
from trmseq.synthetic import PRESETS, synthesize
from trmseq.teacher import TeacherBank
from trmseq.tokenizer import Tokenizer


class SyntheticStream:
    """Annotated synthetic spectra, generated on demand by index.

    Parameters
    ----------
    sampler
        Draws peptides (length range, modification rates).
    data
        Preprocessing applied to each spectrum, as for real input.
    seed, domain
        Spectrum ``i`` is drawn from ``default_rng([domain, seed, i])``.
    charges
        Precursor charges to draw from.
    teacher
        Draw each peptide, its charge and its b/y intensities from this bank instead, among its
        entries of at most the sampler's ``max_length`` residues and one of ``charges``.
    """

    def __init__(
        self,
        sampler: PeptideSampler,
        data: DataConfig,
        seed: int,
        domain: int = 0,
        charges: tuple[int, ...] = (1, 2, 3, 4),
        teacher: TeacherBank | None = None,
    ) -> None:
        self.sampler = sampler
        self.teacher = teacher
        # A sparse synthetic spectrum is what its preset asked for, not a bad acquisition: keep
        # it, or short clean peptides (fewer than 20 ions) would never be trained on.
        self.data = dataclasses.replace(data, min_peaks=1)
        self.seed = seed
        self.domain = domain  # separates e.g. training from validation spectra of one seed
        self.charges = charges

    def example(self, i: int, presets: Sequence[str], weights: Sequence[float]) -> Example:
        """Return spectrum ``i`` (preprocessed) and its peptide; regenerates until usable."""
        vocab = self.sampler.vocab
        for attempt in range(100):
            rng = np.random.default_rng([self.domain, self.seed, i, attempt])
            preset = presets[rng.choice(len(presets), p=np.asarray(weights) / sum(weights))]
            if self.teacher is not None:
                peptide, charge, levels = self.teacher.draw(rng, self.sampler.max_length, self.charges)
            else:
                peptide, levels = self.sampler.sample(rng), None
                charge = sample_charge(vocab.residues(peptide), rng, self.charges)
            precursor, mz, intensity = synthesize(peptide, charge, vocab, PRESETS[preset], rng, levels)
            spectrum = Spectrum(mz, intensity.astype(np.float32), precursor, charge,
                                "synthetic", i, f"index={i}")  # fmt: skip
            processed = preprocess(spectrum, self.data)
            if not isinstance(processed, str):
                return processed, peptide
        raise RuntimeError(f"synthetic spectrum {i} unusable after 100 attempts")


class AnnotatedSet:
    """Real annotated spectra held in memory (they are small), in a seeded order per epoch.

    The peptides come from the files' ``SEQ=`` annotations, or, with ``labels``, from
    identification files (:func:`trmseq.labels.read_labels`), which count what becomes of each.
    """

    def __init__(
        self,
        paths: Sequence[str | Path],
        data: DataConfig,
        tokenizer: Tokenizer,
        max_length: int,
        labels: Labels | None = None,
    ) -> None:
        self.data = data
        self.counter = SkipCounter()
        self.examples: list[Example] = []
        self._order: tuple[tuple[int, int], np.ndarray] | None = None
        for spectrum, peptide in usable_spectra(paths, data, self.counter, tokenizer.vocab, labels):
            if peptide is not None and len(peptide) > max_length:
                reason = f"peptide longer than {max_length} tokens"
                self.counter.skip(spectrum, reason)
                if labels is not None:
                    labels.unkeep(reason)
                continue
            self.examples.append((spectrum, peptide))
        if not self.examples:
            names = ", ".join(str(p) for p in paths)
            raise InputError(
                f"{names}: no usable annotated spectra ({self.counter.read} read; "
                + (", ".join(f"{n} {r}" for r, n in self.counter.counts.most_common(3)) or "none")
                + ")" + (f"; {labels.brief()}" if labels is not None else "")
            )

    def __len__(self) -> int:
        return len(self.examples)

    def example(self, i: int, seed: int) -> Example:
        """Return the ``i``-th example of the endless, epoch-by-epoch shuffled sequence."""
        epoch, pos = divmod(i, len(self.examples))
        if self._order is None or self._order[0] != (seed, epoch):
            order = np.random.default_rng([seed, epoch]).permutation(len(self.examples))
            self._order = ((seed, epoch), order)
        return self.examples[self._order[1][pos]]
