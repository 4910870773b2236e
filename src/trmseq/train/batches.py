"""The batch of each optimizer step, built in the loop or ahead of it by worker processes.

A batch is a pure function of the step number (and the seed), so a resumed run continues with
exactly the data it would have seen, with or without workers.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import queue
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from trmseq.batch import Example, SpectrumBatch, collate
from trmseq.data import AnnotatedSet, SyntheticStream
from trmseq.tokenizer import Tokenizer
from trmseq.variants import substitute

TRAIN_DOMAIN, VALIDATION_DOMAIN = 0, 1  # keep synthetic training and validation spectra apart


@dataclass
class BatchMaker:
    """Builds the batch of one optimizer step: a pure function of the step, so resumable.

    Global example ``g = (step * world + rank) * batch_size + j`` is real with a seeded chance
    of ``1 - synthetic_fraction`` (when real spectra are given) and synthetic otherwise; a real
    one is replaced by a variant with substituted residues (:mod:`trmseq.variants`) with a
    seeded chance of ``real_variants``.
    """

    synthetic: SyntheticStream
    real: AnnotatedSet | None
    tokenizer: Tokenizer
    seed: int
    batch_size: int
    synthetic_fraction: float
    real_variants: float = 0.0
    rank: int = 0
    world: int = 1

    def __call__(self, step: int, presets: list[str], weights: list[float], max_length: int) -> SpectrumBatch:
        self.synthetic.sampler = dataclasses.replace(self.synthetic.sampler, max_length=max_length)
        examples = []
        first = (step * self.world + self.rank) * self.batch_size
        for g in range(first, first + self.batch_size):
            use_real = (
                self.real is not None
                and np.random.default_rng([self.seed, g]).random() >= self.synthetic_fraction
            )
            if use_real:
                examples.append(self._real(g))
            else:
                examples.append(self.synthetic.example(g, presets, weights))
        return collate(examples, self.tokenizer)

    def _real(self, g: int) -> Example:
        example = self.real.example(g, self.seed)  # type: ignore[union-attr]
        rng = np.random.default_rng([self.seed, g, 1])
        if self.real_variants > 0 and rng.random() < self.real_variants:
            variant = substitute(example, self.tokenizer.vocab, self.real.data, rng)  # type: ignore[union-attr]
            if variant is not None:
                return variant
        return example


def _serve(maker: BatchMaker, requests, results) -> None:
    """A worker process: build the batch of each requested step until told to stop (None)."""
    torch.set_num_threads(1)  # the parallelism is across workers
    while (request := requests.get()) is not None:
        step, schedule = request
        try:
            batch = maker(step, *schedule)
            # numpy arrays travel through plain pickling; tensors would need shared memory
            arrays = {f: None if (t := getattr(batch, f)) is None else t.numpy()
                      for f in batch.__dataclass_fields__}  # fmt: skip
            results.put((step, arrays, None))
        except Exception as e:  # noqa: BLE001 - reported to, and raised in, the training loop
            results.put((step, None, f"{type(e).__name__}: {e}"))


class Prefetch:
    """Batches of the next steps built by worker processes while the device trains.

    Each worker receives the batch maker once, when it starts. Batches are requested up to
    ``2 * workers`` steps ahead with the schedule of their own step, so a run bounded by steps
    gets the same batches as without workers; a timed run's schedule lags by those few steps.
    """

    def __init__(self, maker: BatchMaker, workers: int) -> None:
        context = multiprocessing.get_context("spawn")  # no fork after CUDA initialisation
        self.requests = context.Queue()
        self.results = context.Queue()
        self.workers = [context.Process(target=_serve, args=(maker, self.requests, self.results),
                                        daemon=True) for _ in range(workers)]  # fmt: skip
        for worker in self.workers:
            worker.start()
        self.ahead = 2 * workers
        self.requested: set[int] = set()
        self.ready: dict[int, dict] = {}

    def get(self, step: int, schedule_of: Callable[[int], tuple]) -> SpectrumBatch:
        """The batch of ``step``; asks the workers for the steps after it."""
        for s in range(step, step + self.ahead):
            if s not in self.requested:
                self.requests.put((s, schedule_of(s)))
                self.requested.add(s)
        while step not in self.ready:
            try:
                s, arrays, error = self.results.get(timeout=5.0)
            except queue.Empty:
                if not all(w.is_alive() for w in self.workers):
                    raise RuntimeError("a batch worker process died") from None
                continue
            if error is not None:
                raise RuntimeError(f"batch worker failed on step {s}: {error}")
            if s >= step:  # older ones belong to a restarted sequence
                self.ready[s] = arrays
        self.requested = {s for s in self.requested if s > step}
        arrays = self.ready.pop(step)
        return SpectrumBatch(**{k: None if v is None else torch.from_numpy(v) for k, v in arrays.items()})

    def close(self) -> None:
        """Stop the workers."""
        for _ in self.workers:
            self.requests.put(None)
        for worker in self.workers:
            worker.join(timeout=5.0)
            if worker.is_alive():
                worker.terminate()
