"""``trmseq calibrate``: fit the map from a model's evidence to the probability of being right.

The model runs on annotated spectra (real files, plus synthetic ones from the forward model);
each spectrum's best candidate gives its :data:`~trmseq.confidence.FEATURES` and whether it is
exactly the annotated peptide; a logistic regression fitted on those is stored in a copy of the
checkpoint, which ``predict`` then uses for its ``probability`` and ``q_value`` columns. Since a
calibrated model re-ranks its candidates by that probability (``decode.rerank``), the fit is
done twice: the second time on the answers the first fit ranks first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trmseq import checkpoint
from trmseq.batch import Example
from trmseq.confidence import FEATURES, Calibrator, expected_calibration_error, fit
from trmseq.data import SyntheticStream
from trmseq.decode import peptide_masses
from trmseq.device import resolve_device
from trmseq.errors import InputError
from trmseq.evaluate import score_peptides
from trmseq.inference import Runner
from trmseq.io.atomic import check_writable
from trmseq.labels import Labels
from trmseq.paths import resolve_model
from trmseq.peptides import PeptideSampler
from trmseq.reading import usable_spectra
from trmseq.spectrum import SkipCounter
from trmseq.tokenizer import Tokenizer

CALIBRATION_DOMAIN = 2  # synthetic spectra apart from training (0) and validation (1)


@dataclass
class CalibrationSummary:
    """What ``calibrate_model`` fitted, on what."""

    calibrator: Calibrator
    counter: SkipCounter  # the annotated files' spectra: read, used, skipped by reason
    n_real: int
    n_synthetic: int
    share_right: float  # of the best candidates it was fitted on
    ece_fit: float  # expected calibration error on the fitting data itself


def evidence_and_truth(runner: Runner, examples: Sequence[Example], batch_size: int = 128,
                       on_spectra: Callable[[int], object] | None = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Features of each spectrum's best candidate, and whether it is the annotated peptide.

    A spectrum without a candidate gives no row (it has no probability to calibrate).
    """
    vocab = runner.tokenizer.vocab
    rows, right = [], []
    for i in range(0, len(examples), batch_size):
        chunk = examples[i : i + batch_size]
        for (_, truth), answer in zip(chunk, runner.answer([s for s, _ in chunk]), strict=True):
            if not answer.candidates:
                continue
            exact = score_peptides([vocab.residue_masses(truth).tolist()],
                                   [peptide_masses(answer.candidates[0].peptide, vocab)])[1][0]  # fmt: skip
            rows.append(answer.evidence[0].features)
            right.append(exact)
        if on_spectra is not None:
            on_spectra(len(chunk))
    return np.array(rows).reshape(-1, len(FEATURES)), np.array(right, dtype=bool)


def _enough(x: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(right) < 50 or right.all() or not right.any():
        raise InputError(f"too little to calibrate on: {len(right)} answers, {int(right.sum())} right; "
                         "give more annotated spectra (or --synthetic N)")  # fmt: skip
    return x, right


def synthetic_examples(tokenizer: Tokenizer, config, n: int, seed: int, preset: str) -> list[Example]:
    """``n`` synthetic spectra of the train section's peptides, from the calibration domain."""
    t = config.train
    sampler = PeptideSampler(tokenizer.vocab, t.min_length, t.max_length, t.mod_rate, t.nterm_rate)
    charges = tuple(range(config.data.min_charge, config.data.max_charge + 1))
    stream = SyntheticStream(sampler, config.data, seed, domain=CALIBRATION_DOMAIN, charges=charges)
    return [stream.example(i, [preset], [1.0]) for i in range(n)]


def calibrate_model(
    files: Sequence[Path],
    output: Path,
    model_path: str | Path | None = None,
    n_synthetic: int = 0,
    preset: str = "realistic",
    seed: int = 0,
    device: str = "auto",
    on_spectra: Callable[[int], object] | None = None,
    labels: Labels | None = None,
) -> CalibrationSummary:
    """Fit a calibration for a model on annotated files (and synthetic spectra); save a copy.

    The copy at ``output`` holds the same weights and configuration plus the calibration. With
    ``labels``, the true peptides come from identification files rather than ``SEQ=``.

    Raises
    ------
    TrmseqError
        For a missing or corrupt model, unreadable files, or too little to fit on.
    """
    check_writable(output)  # before the work, not after it
    path = resolve_model(model_path)
    model, tokenizer, config, payload = checkpoint.load_model(path)
    runner = Runner(model, tokenizer, config.decode, resolve_device(device))
    counter = SkipCounter()
    real = list(usable_spectra(files, config.data, counter, tokenizer.vocab, labels)) if files else []
    if files and not real:
        reasons = "; ".join(f"{n} {r}" for r, n in counter.counts.most_common(3)) or "none read"
        raise InputError(f"{', '.join(map(str, files))}: no usable annotated spectra to calibrate on ({reasons})")
    synthetic = synthetic_examples(tokenizer, config, n_synthetic, seed, preset) if n_synthetic else []
    examples = real + synthetic
    if on_spectra is not None:
        on_spectra(2 * counter.n_skipped)  # progress counts both passes over every spectrum read
    what = (f"{len(real)} annotated spectra from {', '.join(p.name for p in files) or 'no files'}"
            f" + {len(synthetic)} synthetic ({preset})")  # fmt: skip
    x, right = _enough(*evidence_and_truth(runner, examples, config.decode.batch_size, on_spectra))
    calibrator = fit(x, right, what)
    if config.decode.rerank > 1:
        # A calibrated model reports the candidate it ranks first, not the search's first: refit
        # once on those answers, so that the probability describes the answer it goes with.
        runner = Runner(model, tokenizer, config.decode, runner.device, calibrator)
        x, right = _enough(*evidence_and_truth(runner, examples, config.decode.batch_size, on_spectra))
        calibrator = fit(x, right, f"{what}; refit on the answers it re-ranks")
    elif on_spectra is not None:
        on_spectra(len(examples))  # no second pass
    ece = expected_calibration_error(calibrator.probability(x), right)
    checkpoint.save(output, config, model.state_dict(), payload.get("step", 0), payload.get("metrics"),
                    calibration=calibrator)  # fmt: skip
    return CalibrationSummary(calibrator, counter, len(real), len(synthetic), float(right.mean()), ece)
