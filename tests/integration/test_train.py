"""Training end to end: checkpoints, exact resume, DDP on 2 CPU processes, bad input (overfit: test_terminal.py)."""

from __future__ import annotations

import csv
import dataclasses
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from typer.testing import CliRunner, Result

from model_helpers import tiny_config
from trmseq import checkpoint
from trmseq import config as tc
from trmseq.cli import app
from trmseq.errors import CheckpointError
from trmseq.teacher import TeacherBank
from trmseq.train import Trainer
from trmseq.vocab import Vocabulary

runner = CliRunner()


def write_config(path: Path, config: tc.Config) -> Path:
    path.write_text(yaml.safe_dump(tc.to_dict(config)))
    return path


def test_training_writes_checkpoints_that_rebuild_the_model(tmp_path: Path) -> None:
    result = Trainer(tiny_config(), tmp_path, seed=1).run()
    assert result["step"] == 6
    for name in ("last.ckpt", "best.ckpt", "metrics.csv"):
        assert (tmp_path / name).is_file()
    model, tokenizer, config, payload = checkpoint.load_model(tmp_path / "last.ckpt")
    assert config == tiny_config()
    assert payload["step"] == 6
    rows = list(csv.DictReader(open(tmp_path / "metrics.csv")))
    assert [int(r["step"]) for r in rows if r["loss"]] == [1, 2, 3, 4, 5, 6]
    assert any(r["val_peptide_recall"] for r in rows)


class _StopError(Exception):
    pass


def test_resume_continues_exactly(tmp_path: Path) -> None:
    config = tiny_config(max_steps=6, checkpoint_every=3, val_every=100)
    straight = Trainer(config, tmp_path / "a", seed=3)
    straight.run()

    def crash_after_step_4(event: str, info: dict) -> None:
        if event == "step" and info["step"] == 4:
            raise _StopError  # a crash after the step-3 checkpoint: step 4 is lost

    with pytest.raises(_StopError):
        Trainer(config, tmp_path / "b", seed=3).run(crash_after_step_4)
    resumed = Trainer(config, tmp_path / "b", resume=True)
    assert resumed.progress.step == 3
    resumed.run()
    for name, ref in straight.model.state_dict().items():
        assert torch.equal(ref, resumed.model.state_dict()[name]), name
    for name, ref in straight.ema.state_dict().items():
        assert torch.equal(ref, resumed.ema.state_dict()[name]), name


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_ddp_on_two_cpu_processes_matches_one_process_with_the_whole_batch(tmp_path: Path) -> None:
    # No corrupted drafts: their random choices are drawn per process, so they would differ.
    config = tiny_config(max_steps=3, batch_size=4, val_every=100, checkpoint_every=100,
                         draft_teacher=0.0)
    cfg_path = write_config(tmp_path / "ddp.yaml", config)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
           f"--master_port={_free_port()}", "-m", "trmseq", "train", "--config", str(cfg_path),
           "-o", str(tmp_path / "ddp"), "--device", "cpu", "--seed", "5"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "x 2" in proc.stderr  # both processes joined
    single = Trainer(tc.Config(model=config.model, train=tc.TrainConfig(
        **(tc.to_dict(config.train) | {"batch_size": 8, "curriculum": tuple(config.train.curriculum),
                                      "curriculum_until": tuple(config.train.curriculum_until)}))),
        tmp_path / "single", seed=5, device="cpu")  # fmt: skip
    single.run()
    ddp = checkpoint.load(tmp_path / "ddp" / "last.ckpt")["train_state"]["model"]
    for name, ref in single.model.state_dict().items():
        assert torch.allclose(ref, ddp[name], atol=1e-5), name


def test_cli_train_and_resume(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "c.yaml", tiny_config(max_steps=2))
    out = tmp_path / "run"
    first = runner.invoke(app, ["train", "--config", str(cfg), "-o", str(out), "--device", "cpu"])
    assert first.exit_code == 0, first.output
    assert "parameters" in first.output
    more = runner.invoke(app, ["train", "-o", str(out), "--resume", "--max-steps", "4"])
    assert more.exit_code == 0, more.output
    assert "resuming" in more.output
    assert checkpoint.load(out / "last.ckpt")["step"] == 4


def test_cli_train_on_real_annotated_file(tmp_path: Path, casanovo_sample: Path) -> None:
    cfg = write_config(tmp_path / "c.yaml", tiny_config(max_steps=2))
    result = runner.invoke(app, ["train", "--config", str(cfg), "-o", str(tmp_path / "r"),
                                 "--train", str(casanovo_sample), "--val", str(casanovo_sample)])
    assert result.exit_code == 0, result.output
    assert "training spectra" in result.output


@pytest.mark.parametrize(
    ("text", "expect"),
    [("train:\n  lr: fast\n", "train.lr must be a number"),
     ("model:\n  d_model: 30\n  n_heads: 4\n", "d_model divisible by model.n_heads"),
     ("train:\n  curriculum: [clean, nonsense]\n", "presets from"),
     ("train:\n  batch_sise: 3\n", "unknown key(s) train.batch_sise")],
)
def test_bad_config_values_give_one_line(tmp_path: Path, text: str, expect: str) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    result = runner.invoke(app, ["train", "--config", str(cfg), "-o", str(tmp_path / "x")])
    assert result.exit_code == 1
    assert expect in result.output and "Traceback" not in result.output
    assert not (tmp_path / "x").exists()


def test_training_file_without_usable_annotations_is_an_error(tmp_path: Path) -> None:
    mgf = tmp_path / "unlabelled.mgf"
    mgf.write_text("BEGIN IONS\nPEPMASS=500.0\nCHARGE=2+\n" + "".join(
        f"{100 + i}.0 10\n" for i in range(30)) + "END IONS\n")
    result = runner.invoke(app, ["train", "--train", str(mgf), "-o", str(tmp_path / "x")])
    assert result.exit_code == 1
    assert "no usable annotated spectra" in result.output and "no annotation" in result.output


@pytest.mark.parametrize("content", [b"", b"not a checkpoint at all", b"PK\x03\x04truncated"])
def test_corrupt_checkpoints_give_one_line(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.ckpt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="bad.ckpt"):
        checkpoint.load(path)
    result = runner.invoke(app, ["train", "--model", str(path), "-o", str(tmp_path / "x")])
    assert result.exit_code == 1 and "Traceback" not in result.output


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > evil.txt",))


def test_checkpoint_loading_never_runs_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.ckpt"
    torch.save({"format": "trmseq-checkpoint", "payload": Evil()}, path)
    with pytest.raises(CheckpointError):
        checkpoint.load(path)
    assert not (tmp_path / "evil.txt").exists()


def test_foreign_and_truncated_checkpoints(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(2)}}, foreign)
    with pytest.raises(CheckpointError, match="not a trmseq checkpoint"):
        checkpoint.load(foreign)
    Trainer(tiny_config(max_steps=1), tmp_path / "run").run()
    whole = (tmp_path / "run" / "last.ckpt").read_bytes()
    cut = tmp_path / "cut.ckpt"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(CheckpointError, match="cut.ckpt: not a readable checkpoint"):
        checkpoint.load(cut)


def test_batch_workers_give_the_same_training_as_the_training_loop(tmp_path: Path) -> None:
    config = tiny_config(max_steps=4, val_every=100)
    inline = Trainer(config, tmp_path / "a", seed=5)
    inline.run()
    config = dataclasses.replace(config, train=dataclasses.replace(config.train, workers=2))
    pooled = Trainer(config, tmp_path / "b", seed=5)
    pooled.run()
    for name, ref in inline.model.state_dict().items():
        assert torch.equal(ref, pooled.model.state_dict()[name]), name


def with_train(config: tc.Config, **changes: object) -> tc.Config:
    return dataclasses.replace(config, train=dataclasses.replace(config.train, **changes))


def test_cli_train_with_a_teacher_bank(tmp_path: Path) -> None:
    vocab, rng = Vocabulary(), np.random.default_rng(0)
    peptides = [("S", "A", "M", "P", "L", "E", "R", "G", "K"), ("P", "E", "P", "T", "L", "D", "E", "K"),
                ("V", "L", "S", "E", "G", "E", "W", "K")]  # fmt: skip
    entries = [(p, z, rng.uniform(0.1, 1, (4, len(p) - 1))) for p, z in zip(peptides, (3, 2, 3), strict=True)]
    bank = tmp_path / "teacher.npz"
    TeacherBank.from_entries(entries, vocab).save(bank, vocab)
    config = with_train(tiny_config(max_steps=2), curriculum=("realistic",), curriculum_until=(),
                        teacher_bank=str(bank))  # fmt: skip

    def train(config: tc.Config, out: str) -> Result:
        cfg = write_config(tmp_path / f"{out}.yaml", config)
        return runner.invoke(app, ["train", "--config", str(cfg), "-o", str(tmp_path / out), "--device", "cpu"])

    result = train(config, "run")
    assert result.exit_code == 0, result.output
    assert checkpoint.load(tmp_path / "run" / "last.ckpt")["step"] == 2
    # Batch workers (spawned processes) get the bank too.
    result = train(with_train(config, workers=1), "workers")
    assert result.exit_code == 0, result.output
    # A bank that is missing, or holds no charge training draws, is one line before any training.
    result = train(with_train(config, teacher_bank=str(tmp_path / "missing.npz")), "missing")
    assert result.exit_code == 1 and "missing.npz: cannot read the teacher bank (No such file" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "missing").exists()
    result = train(dataclasses.replace(config, data=dataclasses.replace(config.data, max_charge=1)), "charge")
    assert result.exit_code == 1 and "no peptide of the teacher bank has at most 8 residues" in result.output
