"""The CLI as a user at a terminal sees it: every command that shows progress, under a pty.

Rich draws progress bars only when stderr is a terminal, so CliRunner (and any redirected
run) never exercises them; the quick start once crashed in a terminal alone. These tests run
the installed ``trmseq`` script in a pseudo-terminal and in subprocesses, as a user would.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
import yaml

from model_helpers import tiny_config
from trmseq import config as tc

TRMSEQ = [sys.executable, "-m", "trmseq"]
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_in_terminal(args: list[str], cwd: Path, timeout: float = 300) -> tuple[int, str]:
    """Run a command with stdin, stdout and stderr on a fresh 120x40 pseudo-terminal.

    Returns the exit code and the text the terminal received, without escape sequences.
    """
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM", "COLUMNS")}
    env.update(TERM="xterm-256color", OMP_NUM_THREADS="1")
    proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env,
                            start_new_session=True)  # fmt: skip
    os.close(slave)
    received = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 1 << 16)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                received += data
            elif proc.poll() is not None:
                break
        else:
            proc.kill()
            pytest.fail(f"{args} did not finish in {timeout} s:\n{received.decode(errors='replace')}")
    finally:
        os.close(master)
    text = ANSI_ESCAPE.sub("", received.decode(errors="replace")).replace("\r", "")
    return proc.wait(timeout=30), text


def assert_clean(code: int, screen: str) -> None:
    assert "Traceback" not in screen, screen
    assert code == 0, screen


@pytest.fixture(scope="module")
def fast_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "tiny.yaml"
    path.write_text(yaml.safe_dump(tc.to_dict(tiny_config(max_steps=3, val_every=3, val_size=8))))
    return path


def test_predict_in_a_terminal_draws_a_bar_and_writes_mztab(tmp_path: Path, casanovo_sample: Path) -> None:
    code, screen = run_in_terminal([*TRMSEQ, "predict", str(casanovo_sample), "-o", "out.mztab"], tmp_path)
    assert_clean(code, screen)
    assert "sequencing" in screen  # the bar was drawn
    assert "wrote 10 PSMs to out.mztab" in screen
    assert (tmp_path / "out.mztab").is_file()


def test_evaluate_in_a_terminal(tmp_path: Path, casanovo_sample: Path) -> None:
    code, screen = run_in_terminal([*TRMSEQ, "evaluate", str(casanovo_sample)], tmp_path)
    assert_clean(code, screen)
    assert "evaluating" in screen
    assert "peptide recall" in screen


def test_generate_in_a_terminal(tmp_path: Path) -> None:
    code, screen = run_in_terminal([*TRMSEQ, "generate", "--n", "30", "-o", "s.mgf"], tmp_path)
    assert_clean(code, screen)
    assert "generating" in screen
    assert (tmp_path / "s.mgf").read_text().count("BEGIN IONS") == 30


def test_train_in_a_terminal(tmp_path: Path, fast_config: Path) -> None:
    code, screen = run_in_terminal(
        [*TRMSEQ, "train", "--config", str(fast_config), "-o", "run", "--threads", "1"], tmp_path
    )
    assert_clean(code, screen)
    assert "stopped at step 3" in screen
    assert (tmp_path / "run" / "last.ckpt").is_file()


@pytest.mark.slow
def test_overfit_passes_in_a_terminal(tmp_path: Path) -> None:
    """The sanity check users run after installing: it must pass on a healthy install."""
    code, screen = run_in_terminal([*TRMSEQ, "overfit"], tmp_path, timeout=900)
    assert_clean(code, screen)
    assert "passed: loss" in screen


def test_overfit_out_of_steps_fails_and_out_of_time_gives_no_verdict(tmp_path: Path) -> None:
    steps = subprocess.run([*TRMSEQ, "overfit", "--max-steps", "2", "--n", "4"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=300)  # fmt: skip
    assert steps.returncode == 1
    assert "FAILED: not learned within the step budget (2 steps)" in steps.stderr
    timed = subprocess.run([*TRMSEQ, "overfit", "--max-time", "0", "--n", "4"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=300)  # fmt: skip
    assert timed.returncode == 1
    assert "no verdict: the time limit (0 min) ran out at step 0 of 300" in timed.stderr
    assert "Traceback" not in steps.stderr + timed.stderr


def test_sigterm_removes_the_temporary_file_and_exits_143(tmp_path: Path) -> None:
    """What a batch scheduler does to a run: SIGTERM mid-write leaves no trace."""
    big = tmp_path / "big.mgf"
    subprocess.run([*TRMSEQ, "generate", "--n", "1000", "-o", str(big), "--preset", "moderate"],
                   check=True, capture_output=True, timeout=300)  # fmt: skip
    proc = subprocess.Popen([*TRMSEQ, "predict", str(big), "-o", "out.mztab", "--threads", "1"],
                            cwd=tmp_path, stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".out.mztab.*.tmp")):  # writing has begun
        assert proc.poll() is None and time.monotonic() < deadline, "predict ended too soon"
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143
    assert stderr.strip().splitlines()[-1] == "terminated (SIGTERM)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.mgf"]


def test_a_killed_runs_temporary_file_is_cleaned_by_the_next_run(tmp_path: Path, casanovo_sample: Path) -> None:
    # A process id that is certainly gone: a child that has exited and been reaped.
    dead = subprocess.Popen(["true"])
    dead.wait()
    orphan = tmp_path / f".out.mztab.{dead.pid}.abc123.tmp"
    orphan.write_text("half a file from a run killed with kill -9")
    live = tmp_path / f".out.mztab.{os.getpid()}.def456.tmp"  # a writer still running: kept
    live.write_text("in progress")
    result = subprocess.run([*TRMSEQ, "predict", str(casanovo_sample), "-o", "out.mztab"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name, "out.mztab"]


def test_readme_quick_start_runs_in_a_terminal(tmp_path: Path) -> None:
    """The README's main command, typed at a terminal in the repository root."""
    root = Path(__file__).resolve().parents[2]
    example = root / "examples" / "mouse_casanovo_128.mgf"
    if not example.is_file():
        pytest.skip("examples/ not in this checkout")
    shutil.copy(example, tmp_path / example.name)
    code, screen = run_in_terminal(
        [*TRMSEQ, "predict", example.name, "-o", "peptides.mztab"], tmp_path
    )
    assert_clean(code, screen)
    assert "wrote 128 PSMs to peptides.mztab" in screen
