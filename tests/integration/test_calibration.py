"""trmseq calibrate, predict's probability and q_value columns and --max-q, evaluate's check."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from trmseq import checkpoint
from trmseq.cli import app
from trmseq.confidence import q_values
from trmseq.paths import bundled_model

runner = CliRunner()


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled model calibrated anew on 10 real and 150 synthetic spectra."""
    out = tmp_path_factory.mktemp("cal") / "calibrated.ckpt"
    sample = Path(__file__).resolve().parents[1] / "data" / "casanovo_sample_10.mgf"
    result = runner.invoke(app, ["calibrate", str(sample), "--synthetic", "150", "-o", str(out),
                                 "--threads", "1"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "fitted on 10 annotated spectra (of 10 read) and 150 synthetic" in result.output
    return out


@pytest.mark.slow
def test_calibrate_keeps_the_weights_and_adds_a_calibration(calibrated: Path) -> None:
    source, copy = checkpoint.load(bundled_model()), checkpoint.load(calibrated)
    assert copy["config"] == source["config"]
    assert all(torch.equal(copy["weights"][k], v) for k, v in source["weights"].items())
    c = checkpoint.calibrator(copy, calibrated)
    assert c is not None and c.n_fit > 50 and "150 synthetic (realistic)" in c.fitted_on
    assert c.fitted_on.endswith("refit on the answers it re-ranks")  # the second of two fits


@pytest.mark.slow
def test_predict_reports_probabilities_and_q_values_and_filters(calibrated: Path, tmp_path: Path,
                                                                casanovo_sample: Path) -> None:  # fmt: skip
    every = tmp_path / "all.tsv"
    result = runner.invoke(app, ["predict", str(casanovo_sample), "-o", str(every), "--model", str(calibrated)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(every, sep="\t")
    assert table["probability"].between(0, 1).all()
    # q-values recomputed here from the probabilities: sorted, running mean of 1 - p
    p = table["probability"].to_numpy()
    order = p.argsort()[::-1]
    running = (1 - p[order]).cumsum() / range(1, len(p) + 1)
    expected = pd.Series(running[::-1]).cummin()[::-1].to_numpy()
    assert table["q_value"].to_numpy()[order] == pytest.approx(expected, abs=1e-5)
    assert q_values(p) == pytest.approx(table["q_value"].to_numpy(), abs=1e-5)
    level = float(table["q_value"].median())
    kept = tmp_path / "kept.mztab"
    result = runner.invoke(app, ["predict", str(casanovo_sample), "-o", str(kept), "--model", str(calibrated),
                                 "--max-q", f"{level}"])  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = kept.read_text().splitlines()
    settings = dict(line.split("\t")[2].split(" = ") for line in lines if "\tsoftware[1]-setting[" in line)
    # a calibrated top-1 run: both extra searches, at the configuration's defaults
    assert (settings["rival_beam"], settings["evidence_beam"], settings["evidence_weight"]) == ("32", "64", "4")
    rows = [line.split("\t") for line in lines if line.startswith(("PSH", "PSM"))]
    header = rows[0]
    q = [float(r[header.index("opt_global_q_value")]) for r in rows[1:]]
    assert len(q) == int((table["q_value"] <= level).sum()) and max(q) <= level
    assert f"left out {len(table) - len(q)} PSMs with a q-value above {level:g}" in result.output


@pytest.mark.slow
def test_evaluate_checks_the_calibration(calibrated: Path, tmp_path: Path, casanovo_sample: Path) -> None:
    out = tmp_path / "ev.json"
    result = runner.invoke(app, ["evaluate", str(casanovo_sample), "--model", str(calibrated), "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    c = report["calibration"]
    assert report["ranked_by"] == "probability"
    assert c["n"] == sum(b["n"] for b in c["reliability"]) == 10
    assert [r["q"] for r in c["fdr"]] == [0.01, 0.05, 0.1]
    assert 0 <= c["expected_calibration_error"] <= 1
    assert "expected calibration error" in result.output


def test_max_q_needs_a_calibrated_model(tmp_path: Path, casanovo_sample: Path) -> None:
    model = tmp_path / "plain.ckpt"
    payload = checkpoint.load(bundled_model())
    checkpoint.save(model, payload["config"], payload["weights"], payload["step"])  # no calibration
    result = runner.invoke(app, ["predict", str(casanovo_sample), "-o", str(tmp_path / "o.tsv"),
                                 "--model", str(model), "--max-q", "0.01"])  # fmt: skip
    assert result.exit_code == 1
    assert "has no calibration" in result.output and "trmseq calibrate" in result.output
    plain = runner.invoke(app, ["predict", str(casanovo_sample), "-o", str(tmp_path / "p.tsv"), "--model", str(model)])
    assert plain.exit_code == 0
    table = pd.read_csv(tmp_path / "p.tsv", sep="\t")
    assert table["probability"].isna().all() and table["q_value"].isna().all()  # null, not made up


def test_calibrate_needs_something_to_fit_on(tmp_path: Path) -> None:
    result = runner.invoke(app, ["calibrate", "-o", str(tmp_path / "x.ckpt")])
    assert result.exit_code == 1 and "give annotated spectrum files" in result.output


def test_calibrate_bad_input_is_one_line_before_the_work(tmp_path: Path, write_text) -> None:
    unannotated = write_text("u.mgf", "BEGIN IONS\nPEPMASS=500\nCHARGE=2+\n100 1\nEND IONS\n")
    result = runner.invoke(app, ["calibrate", str(unannotated), "-o", str(tmp_path / "x.ckpt")])
    assert result.exit_code == 1
    assert "no usable annotated spectra to calibrate on (1 no annotation (SEQ=))" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "x.ckpt").exists()
    result = runner.invoke(app, ["calibrate", "--synthetic", "10", "-o", str(tmp_path / "no" / "x.ckpt")])
    assert result.exit_code == 1 and "cannot write here" in result.output


@pytest.mark.slow
def test_top_k_keeps_the_answer_its_probability_and_its_q_value(calibrated: Path, tmp_path: Path,
                                                                 casanovo_sample: Path) -> None:  # fmt: skip
    def predict(name: str, *options: str) -> pd.DataFrame:
        out = tmp_path / name
        result = runner.invoke(app, ["predict", str(casanovo_sample), "-o", str(out), "--model", str(calibrated),
                                     *options])  # fmt: skip
        assert result.exit_code == 0, result.output
        return pd.read_csv(out, sep="\t")

    one, three = predict("one.tsv"), predict("three.tsv", "--top-k", "3")
    answers = three[three["opt_global_rank"] == 1].reset_index(drop=True)
    columns = ["spectra_ref", "sequence", "search_engine_score[1]", "probability", "q_value"]
    pd.testing.assert_frame_equal(answers[columns], one[columns])
    others = three[three["opt_global_rank"] > 1]
    assert len(others) > 0 and others["q_value"].isna().all() and others["probability"].notna().all()
    # --max-q keeps the spectra whose answer passes, with their alternatives
    level = float(one["q_value"].median())
    kept = predict("kept.tsv", "--top-k", "3", "--max-q", f"{level}")
    passing = set(one.loc[one["q_value"] <= level, "spectra_ref"])
    assert set(kept["spectra_ref"]) == passing
    assert len(kept) == int(three["spectra_ref"].isin(passing).sum())


@pytest.mark.slow
def test_evaluate_on_results_ranks_by_probability_as_the_model_does(calibrated: Path, tmp_path: Path,
                                                                     casanovo_sample: Path) -> None:  # fmt: skip
    direct, scored = tmp_path / "direct.json", tmp_path / "scored.json"
    result = runner.invoke(app, ["evaluate", str(casanovo_sample), "--model", str(calibrated), "--json", str(direct)])
    assert result.exit_code == 0, result.output
    for suffix in ("mztab", "tsv"):
        out = tmp_path / f"p.{suffix}"
        result = runner.invoke(app, ["predict", str(casanovo_sample), "-o", str(out), "--model", str(calibrated)])
        assert result.exit_code == 0, result.output
        result = runner.invoke(app, ["evaluate", str(casanovo_sample), "-p", str(out), "--json", str(scored)])
        assert result.exit_code == 0, result.output
        a, b = json.loads(direct.read_text()), json.loads(scored.read_text())
        assert b["ranked_by"] == "probability"
        for key in ("metrics", "precision_coverage_auc", "peptide_recall_at_fdr", "calibration"):
            assert _rounded(a[key]) == _rounded(b[key]), key  # the files keep 5 decimals


def _rounded(value: object) -> object:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value
