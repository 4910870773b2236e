"""What a new user runs into: stale files, odd models, impossible precursors, many threads."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from trmseq.cli import app

runner = CliRunner()


def predict(*args: str):
    return runner.invoke(app, ["predict", *args])


def one_line_error(result, code: int = 1) -> str:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


def test_a_run_without_skips_removes_an_older_skipped_list(tmp_path: Path, casanovo_sample: Path,
                                                          write_text) -> None:  # fmt: skip
    bad = write_text("bad.mgf", """
        BEGIN IONS
        TITLE=no charge
        PEPMASS=500.0
        100.0 1.0
        END IONS
        """)  # fmt: skip
    out = tmp_path / "out.mztab"
    first = predict(str(bad), str(casanovo_sample), "-o", str(out))
    assert first.exit_code == 0, first.output
    listed = pd.read_csv(tmp_path / "out.mztab.skipped.tsv", sep="\t")
    assert list(listed["spectra_ref"]) == ["ms_run[1]:index=0"]  # prefixed as in the PSM table
    second = predict(str(casanovo_sample), "-o", str(out))
    assert second.exit_code == 0, second.output
    assert not (tmp_path / "out.mztab.skipped.tsv").exists()
    assert "skipped spectra listed" not in second.output


def test_an_unreachable_precursor_is_skipped_with_its_reason(tmp_path: Path, write_text) -> None:
    peaks = "\n".join(f"{100 + 7.3 * i:.4f} {1 + i % 5}" for i in range(40))
    mgf = write_text("odd.mgf", f"""
        BEGIN IONS
        TITLE=huge
        PEPMASS=1000000000.0
        CHARGE=2+
        {peaks}
        END IONS
        BEGIN IONS
        TITLE=tiny
        PEPMASS=40.0
        CHARGE=1+
        {peaks}
        END IONS
        """)  # fmt: skip
    out = tmp_path / "odd.tsv"
    result = predict(str(mgf), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "sequenced 0" in result.output and "skipped 2" in result.output
    listed = pd.read_csv(tmp_path / "odd.tsv.skipped.tsv", sep="\t")
    reasons = dict(zip(listed["title"], listed["reason"], strict=True))
    assert reasons["huge"].startswith("precursor mass above the heaviest peptide the model writes")
    assert reasons["tiny"].startswith("precursor mass below the lightest peptide")
    assert pd.read_csv(out, sep="\t").empty


class _Payload:
    def __reduce__(self):
        return (os.system, ("echo this-must-not-run > pwned.txt",))


@pytest.mark.parametrize("kind", ["pickle-with-code", "torch-with-code", "random-bytes", "text",
                                  "other-torch-file", "truncated"])  # fmt: skip
def test_a_bad_model_file_is_one_line(kind: str, tmp_path: Path, casanovo_sample: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    model = tmp_path / "model.ckpt"
    if kind == "pickle-with-code":
        model.write_bytes(pickle.dumps(_Payload()))
    elif kind == "torch-with-code":
        torch.save({"weights": _Payload()}, model)
    elif kind == "random-bytes":
        model.write_bytes(os.urandom(4096))
    elif kind == "text":
        model.write_text("hello\n")
    elif kind == "other-torch-file":
        torch.save({"state_dict": {"w": torch.zeros(3)}}, model)
    else:
        from trmseq.paths import resolve_model

        model.write_bytes(Path(resolve_model(None)).read_bytes()[:50_000])
    line = one_line_error(predict(str(casanovo_sample), "-o", "out.mztab", "--model", str(model)))
    assert line.startswith(f"error: {model}: ")
    assert "argumen" not in line and "weights_only" not in line  # no torch internals
    if kind == "torch-with-code":
        assert "could run code" in line and "refused" in line
    assert not (tmp_path / "pwned.txt").exists()
    assert not (tmp_path / "out.mztab").exists()


def test_threads_option_sets_torch_threads(tmp_path: Path, casanovo_sample: Path) -> None:
    before = torch.get_num_threads()
    try:
        result = predict(str(casanovo_sample), "-o", str(tmp_path / "a.mztab"), "--threads", "1")
        assert result.exit_code == 0, result.output
        assert torch.get_num_threads() == 1
        rows_1 = (tmp_path / "a.mztab").read_text().split("\nPSH")[1]
        torch.set_num_threads(2)
        again = predict(str(casanovo_sample), "-o", str(tmp_path / "b.mztab"), "--threads", "2")
        assert again.exit_code == 0 and torch.get_num_threads() == 2
        assert (tmp_path / "b.mztab").read_text().split("\nPSH")[1] == rows_1  # same answers
    finally:
        torch.set_num_threads(before)
    assert runner.invoke(app, ["predict", str(casanovo_sample), "--threads", "0"]).exit_code == 2
