"""A tiny configuration, batches and a forced halting head for fast model tests."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from trmseq import config as tc
from trmseq.data import SyntheticStream, collate
from trmseq.model.trm import StepOutput
from trmseq.peptides import PeptideSampler
from trmseq.tokenizer import Tokenizer


def tiny_config(**train: object) -> tc.Config:
    """A model small enough to train for a few steps in a test (d=32, 1+1 layers)."""
    model = tc.ModelConfig(d_model=32, n_heads=2, n_encoder_layers=1, n_core_layers=1,
                          n_slots=16, max_tokens=11, l_cycles=2, h_cycles=2, n_sup=2)
    options = dict(batch_size=8, max_steps=6, val_every=3, val_size=16, checkpoint_every=3,
                   log_every=1, warmup_steps=2, min_length=6, start_length=8, max_length=10,
                   curriculum=("clean", "moderate"), curriculum_until=(0.5,))
    options.update(train)
    return tc.Config(model=model, train=tc.TrainConfig(**options))


def tiny_batch(config: tc.Config, n: int = 4, preset: str = "clean", seed: int = 0):
    """A batch of ``n`` synthetic spectra with targets, and its tokenizer."""
    vocab = config.vocab.build()
    tokenizer = Tokenizer(vocab)
    stream = SyntheticStream(PeptideSampler(vocab, 6, 10), config.data, seed)
    return collate([stream.example(i, [preset], [1.0]) for i in range(n)], tokenizer), tokenizer


HALT = 0.01  # the forced halting logit: > 0 halts, so close to the threshold on both sides


def force_halting(model, batch, halt_at: Sequence[int | None]) -> None:
    """Make ``model``'s halting logit say "halt" for spectrum i from step ``halt_at[i]`` on.

    The logit is ``HALT`` (just above 0) from that step on; before it, and for a spectrum whose
    entry is None, it is ``-HALT``. Spectra are recognised by their precursor mass, since the
    inference recursion drops halted spectra from the batch; steps are counted from each
    ``encode`` (one per batch). The answers are the model's own.
    """
    by_mass = dict(zip(batch.precursor_mass.tolist(), halt_at, strict=True))
    assert len(by_mass) == len(halt_at), "the spectra need distinct precursor masses"
    encode, supervision_step = model.encode, model.supervision_step
    step = 0

    def encode_and_restart(batch):
        nonlocal step
        step = 0
        return encode(batch)

    def forced_step(carry, memory, *args, **kwargs):
        nonlocal step
        step += 1
        carry, out = supervision_step(carry, memory, *args, **kwargs)
        halts = [by_mass[m] is not None and step >= by_mass[m] for m in memory.precursor_mass.tolist()]
        q = torch.where(torch.tensor(halts, device=out.q.device), HALT, -HALT).to(out.q.dtype)
        return carry, StepOutput(out.logits, q)

    model.encode = encode_and_restart
    model.supervision_step = forced_step
