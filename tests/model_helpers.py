"""A tiny configuration and batches for fast model tests."""

from __future__ import annotations

from trmseq import config as tc
from trmseq.data import SyntheticStream, collate
from trmseq.peptides import PeptideSampler
from trmseq.tokenizer import Tokenizer


def tiny_config(**train: object) -> tc.Config:
    """A model small enough to train for a few steps in a test (d=32, 1+1 layers)."""
    model = tc.ModelConfig(d_model=32, n_heads=2, n_encoder_layers=1, n_core_layers=1,
                          n_slots=16, max_length=11, l_cycles=2, h_cycles=2, n_sup=2)
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
