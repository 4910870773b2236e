"""benchmarks/grow_encoder.py: deeper encoder, same predictions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

from model_helpers import tiny_batch, tiny_config
from trmseq import checkpoint
from trmseq.config import DecodeConfig
from trmseq.inference import Runner

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "grow_encoder.py"


def _run(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True)


def _log_probs(path: Path, batch) -> list[torch.Tensor]:
    model, tokenizer, _, _ = checkpoint.load_model(path)
    model.eval()
    with torch.no_grad():
        out = Runner(model, tokenizer, DecodeConfig(halting=False)).infer(batch, keep_steps=True)
    return out.per_step


def _trained_looking(tmp_path: Path):
    """A tiny checkpoint whose weights are all non-zero, as a trained model's are."""
    config = tiny_config()
    torch.manual_seed(0)
    model, _ = checkpoint.build_model(config)
    weights = {k: v + 0.05 * torch.randn_like(v) if v.is_floating_point() else v
               for k, v in model.state_dict().items()}  # fmt: skip
    checkpoint.save(tmp_path / "old.ckpt", config, weights, step=7)
    return config


def test_the_grown_model_predicts_exactly_as_the_old_one(tmp_path):
    config = _trained_looking(tmp_path)
    done = _run(tmp_path / "old.ckpt", tmp_path / "new.ckpt", "--layers", 3)
    assert done.returncode == 0, done.stderr
    grown = checkpoint.load(tmp_path / "new.ckpt")
    assert grown["config"].model.n_encoder_layers == 3 and grown["step"] == 7
    assert "encoder.2.mlp.gate_up.weight" in grown["weights"]
    batch, _ = tiny_batch(config, n=4, preset="moderate")
    for old, new in zip(_log_probs(tmp_path / "old.ckpt", batch), _log_probs(tmp_path / "new.ckpt", batch),
                        strict=True):  # fmt: skip
        torch.testing.assert_close(new, old, rtol=0, atol=1e-5)
    # The equality is the zeroed residual outputs' doing: a non-zero one changes the answers.
    grown["weights"]["encoder.2.mlp.down.weight"].normal_(0, 0.1)
    checkpoint.save(tmp_path / "perturbed.ckpt", grown["config"], grown["weights"], step=7)
    perturbed = _log_probs(tmp_path / "perturbed.ckpt", batch)
    assert not torch.allclose(perturbed[-1], _log_probs(tmp_path / "old.ckpt", batch)[-1], atol=1e-3)


def test_shrinking_is_refused_in_one_line(tmp_path):
    _trained_looking(tmp_path)
    done = _run(tmp_path / "old.ckpt", tmp_path / "new.ckpt", "--layers", 1)
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0 and "already has 1 encoder layers" in done.stderr
    assert not (tmp_path / "new.ckpt").exists()


def test_unreadable_input_and_unwritable_output_are_one_line(tmp_path):
    _trained_looking(tmp_path)
    cases = [((tmp_path / "none.ckpt", tmp_path / "new.ckpt"), "none.ckpt: no such checkpoint file"),
             ((tmp_path / "old.ckpt", tmp_path / "no" / "new.ckpt"), "new.ckpt: cannot write here")]
    for args, message in cases:
        done = _run(*args, "--layers", 2)
        assert done.returncode != 0
        assert done.stderr.strip().count("\n") == 0 and message in done.stderr, done.stderr
    assert not (tmp_path / "new.ckpt").exists()
