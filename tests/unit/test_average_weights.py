"""benchmarks/average_weights.py, the script that made the bundled model's stage 7."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import torch

from model_helpers import tiny_config
from trmseq import checkpoint

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "average_weights.py"


def _save(path: Path, config, seed: int, minutes: float) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    model, _ = checkpoint.build_model(config)
    weights = model.state_dict()
    checkpoint.save(path, config, weights, step=seed, train_state={"elapsed_s": 60.0 * minutes})
    return weights


def _run(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True)


def test_the_average_is_the_mean_of_the_late_snapshots(tmp_path):
    config = tiny_config()
    early = _save(tmp_path / "a.ckpt", config, seed=1, minutes=10)
    late = [_save(tmp_path / f"{s}.ckpt", config, seed=s, minutes=40) for s in (2, 3)]
    done = _run(tmp_path / "soup.ckpt", tmp_path / "a.ckpt", tmp_path / "2.ckpt", tmp_path / "3.ckpt",
                "--min-minutes", 30)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "averaged 2 of 3" in done.stdout
    soup = checkpoint.load(tmp_path / "soup.ckpt")
    assert "train_state" not in soup and "calibration" not in soup and soup["step"] == 3
    name = next(k for k, v in early.items() if v.dtype.is_floating_point and v.numel() > 1)
    expected = (late[0][name] + late[1][name]) / 2
    torch.testing.assert_close(soup["weights"][name], expected)
    assert not torch.allclose(soup["weights"][name], (early[name] + late[0][name] + late[1][name]) / 3)


def test_another_model_is_refused_in_one_line(tmp_path):
    config = tiny_config()
    _save(tmp_path / "a.ckpt", config, seed=1, minutes=40)
    _save(tmp_path / "b.ckpt", replace(config, model=replace(config.model, d_model=64)), seed=2, minutes=40)
    done = _run(tmp_path / "soup.ckpt", tmp_path / "a.ckpt", tmp_path / "b.ckpt")
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0 and "b.ckpt: another model" in done.stderr
    assert not (tmp_path / "soup.ckpt").exists()


def test_an_unwritable_output_is_one_line(tmp_path):
    _save(tmp_path / "a.ckpt", tiny_config(), seed=1, minutes=40)
    done = _run(tmp_path / "no" / "soup.ckpt", tmp_path / "a.ckpt")
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0 and "soup.ckpt: cannot write here" in done.stderr
