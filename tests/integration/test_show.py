"""trmseq show: the picture of one spectrum's evidence, and its one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from trmseq.cli import app

runner = CliRunner()


def test_show_the_models_answer_and_a_given_peptide(tmp_path: Path, casanovo_sample: Path) -> None:
    png = tmp_path / "s.png"
    result = runner.invoke(app, ["show", str(casanovo_sample), "--index", "2", "-o", str(png)])
    assert result.exit_code == 0, result.output
    assert "(the model's answer" in result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = tmp_path / "s.svg"
    result = runner.invoke(app, ["show", str(casanovo_sample), "--title", "2", "--peptide", "PEPTIDEK",
                                 "--compare", "PEPTLDEK", "-o", str(svg)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "PEPTLDEK (as given)" in result.output
    assert "<svg" in svg.read_text()[:500]


@pytest.mark.parametrize(("args", "message"), [
    (["--index", "99"], "no spectrum with index 99"),
    (["--index", "1", "--scan", "3"], "exactly one of --index, --scan, --title"),
    (["--index", "1", "--peptide", "PEPXIDE"], "peptide 'PEPXIDE'"),
    (["--index", "1", "-o", "x.jpg"], "must end in .png or .svg"),
])  # fmt: skip
def test_show_errors_are_one_line(args: list[str], message: str, tmp_path: Path, casanovo_sample: Path) -> None:
    if "-o" not in args:
        args = [*args, "-o", str(tmp_path / "x.png")]
    result = runner.invoke(app, ["show", str(casanovo_sample), *args])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.output
