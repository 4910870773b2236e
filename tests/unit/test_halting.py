"""Halting at inference: a spectrum whose halting logit turns positive leaves the batch.

Its answer must be exactly the one a run without halting has after that many steps, whatever
the other spectra do, and ``steps`` must say when it stopped.
"""

from __future__ import annotations

import pytest
import torch

from model_helpers import HALT, force_halting, tiny_batch, tiny_config
from trmseq.checkpoint import build_model
from trmseq.config import DecodeConfig
from trmseq.inference import Runner

N_SUP = 4
N_SPECTRA = 6


def infer(model, tokenizer, batch, halting: bool, keep_steps: bool = False):
    """Run the inference recursion of :class:`trmseq.inference.Runner`."""
    runner = Runner(model, tokenizer, DecodeConfig(n_sup=N_SUP, halting=halting))
    return runner.infer(batch, keep_steps=keep_steps)


def fresh_model(config):
    torch.manual_seed(0)
    model, tokenizer = build_model(config)
    return model.eval(), tokenizer


@pytest.fixture(scope="module")
def setup():
    config = tiny_config()
    model, tokenizer = fresh_model(config)
    batch, _ = tiny_batch(config, n=N_SPECTRA)
    reference = infer(model, tokenizer, batch, halting=False, keep_steps=True)
    assert reference.steps.tolist() == [N_SUP] * N_SPECTRA
    assert len(reference.per_step) == N_SUP
    # the answers change from step to step, so stopping early is visible
    for k in range(1, N_SUP):
        assert not torch.allclose(reference.per_step[k - 1], reference.per_step[k], atol=1e-3)
    return config, batch, reference


HALT_AT = [
    [None, 1, 2, None, 3, 2],  # mixed: the batch shrinks at steps 1, 2 and 3
    [2, None, None, None, None, None],  # only the first spectrum leaves
    [None, None, None, None, None, 1],  # only the last spectrum leaves, at once
    [1, 1, 1, 1, 1, 1],  # everyone at step 1: the loop ends early
    [3, 2, 3, 1, 2, 3],  # everyone gone by step 3, before the last step
    [4, None, 4, None, 4, None],  # a positive logit at the last step changes nothing
    [None] * N_SPECTRA,  # no one halts
]


@pytest.mark.parametrize("keep_steps", [False, True])
@pytest.mark.parametrize("halt_at", HALT_AT)
def test_halted_answers_equal_a_run_without_halting_cut_at_their_step(setup, halt_at, keep_steps) -> None:
    config, batch, reference = setup
    model, tokenizer = fresh_model(config)
    force_halting(model, batch, halt_at)
    out = infer(model, tokenizer, batch, halting=True, keep_steps=keep_steps)
    steps = [N_SUP if k is None else min(k, N_SUP) for k in halt_at]
    assert out.steps.tolist() == steps
    for i, k in enumerate(steps):
        torch.testing.assert_close(out.log_probs[i], reference.per_step[k - 1][i], rtol=0, atol=1e-5)
        halted = halt_at[i] is not None and halt_at[i] <= N_SUP
        assert out.q[i].item() == pytest.approx(HALT if halted else -HALT)


def test_without_halting_every_spectrum_runs_every_step(setup) -> None:
    config, batch, reference = setup
    model, tokenizer = fresh_model(config)
    force_halting(model, batch, [1] * N_SPECTRA)  # the head says halt; --no-halting ignores it
    out = infer(model, tokenizer, batch, halting=False)
    assert out.steps.tolist() == [N_SUP] * N_SPECTRA
    torch.testing.assert_close(out.log_probs, reference.per_step[-1], rtol=0, atol=1e-5)
    assert out.q.tolist() == pytest.approx([HALT] * N_SPECTRA)
