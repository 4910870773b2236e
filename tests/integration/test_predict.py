"""`trmseq predict` and `trmseq evaluate` end to end with a tiny trained model."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from pyteomics import mztab
from typer.testing import CliRunner

from model_helpers import tiny_config
from trmseq import checkpoint
from trmseq.cli import app
from trmseq.model.trm import TRM
from trmseq.train import Trainer

runner = CliRunner()
REQUIRED_MTD = ["mzTab-version", "mzTab-mode", "mzTab-type", "description", "ms_run[1]-location",
                "psm_search_engine_score[1]", "fixed_mod[1]", "variable_mod[1]"]  # fmt: skip


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("model")
    Trainer(tiny_config(max_steps=2), out).run()
    return out / "last.ckpt"


def test_mztab_has_the_required_lines_no_empty_cells_and_reads_back(
    model: Path, tmp_path: Path, casanovo_sample: Path, tiny_mzml: Path, tiny_mzxml: Path
) -> None:
    out = tmp_path / "out.mztab"
    result = runner.invoke(app, ["predict", str(casanovo_sample), str(tiny_mzml), str(tiny_mzxml),
                                 "-o", str(out), "--model", str(model)])  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    mtd = {line.split("\t")[1]: line.split("\t")[2] for line in lines if line.startswith("MTD")}
    for key in REQUIRED_MTD:
        assert key in mtd, key
    assert mtd["ms_run[1]-format"] == "[MS, MS:1001062, Mascot MGF format, ]"
    assert mtd["ms_run[2]-id_format"] == "[MS, MS:1001530, mzML unique identifier, ]"
    assert mtd["ms_run[3]-id_format"] == "[MS, MS:1000776, scan number only nativeID format, ]"
    assert mtd["fixed_mod[1]"] == "[UNIMOD, UNIMOD:4, Carbamidomethyl, ]"
    settings = dict(v.split(" = ") for k, v in mtd.items() if k.startswith("software[1]-setting"))
    assert settings["rival_beam"] == settings["evidence_beam"] == settings["evidence_weight"] == "0"  # no calibration
    header = next(line.split("\t") for line in lines if line.startswith("PSH"))
    assert header[1:19] == ["sequence", "PSM_ID", "accession", "unique", "database",
                            "database_version", "search_engine", "search_engine_score[1]",
                            "modifications", "retention_time", "charge", "exp_mass_to_charge",
                            "calc_mass_to_charge", "spectra_ref", "pre", "post", "start", "end"]
    rows = [line.split("\t") for line in lines if line.startswith("PSM")]
    for row in rows:
        assert len(row) == len(header) and all(cell != "" for cell in row)
    table = mztab.MzTab(str(out)).spectrum_match_table
    refs = [r.split(":", 1)[1] for r in table["spectra_ref"]]
    # every input spectrum is either a PSM row or listed, with its reason, as skipped
    skipped = tmp_path / "out.mztab.skipped.tsv"
    listed = pd.read_csv(skipped, sep="\t") if skipped.exists() else pd.DataFrame({"spectra_ref": []})
    n_read = int(re.search(r"read (\d+) spectra", result.output).group(1))
    assert len(refs) + len(listed) == n_read == 10 + 3 + 3  # MGF 10, mzML 3 MS2, mzXML 3 MS2
    # the skipped list names spectra as the PSM table does, ms_run[k] prefix included
    assert all(re.fullmatch(r"ms_run\[[123]\]:.+", r) for r in listed["spectra_ref"])
    everything = refs + [r.split(":", 1)[1] for r in listed["spectra_ref"]]
    assert sum(bool(re.fullmatch(r"index=\d+", r)) for r in everything) == 10
    assert sum(r.startswith("controllerType=0 controllerNumber=1 scan=") for r in everything) == 3
    assert sum(bool(re.fullmatch(r"scan=\d+", r)) for r in everything) == 3
    assert all(re.fullmatch(r"ms_run\[[123]\]:.+", r) for r in table["spectra_ref"])
    assert "missing or ambiguous precursor charge" in result.output


def test_tsv_output_loads_with_pandas_and_matches_mztab(model: Path, tmp_path: Path,
                                                       casanovo_sample: Path) -> None:
    args = ["predict", str(casanovo_sample), "--model", str(model)]
    assert runner.invoke(app, [*args, "-o", str(tmp_path / "a.tsv")]).exit_code == 0
    assert runner.invoke(app, [*args, "-o", str(tmp_path / "a.mztab")]).exit_code == 0
    tsv = pd.read_csv(tmp_path / "a.tsv", sep="\t")
    tab = mztab.MzTab(str(tmp_path / "a.mztab")).spectrum_match_table
    assert list(tsv["sequence"]) == list(tab["sequence"])


def test_same_input_same_output(model: Path, tmp_path: Path, casanovo_sample: Path) -> None:
    for name in ("1.mztab", "2.mztab"):
        runner.invoke(app, ["predict", str(casanovo_sample), "-o", str(tmp_path / name),
                            "--model", str(model)])  # fmt: skip
    assert (tmp_path / "1.mztab").read_bytes() == (tmp_path / "2.mztab").read_bytes()


def _with_halting_head(source: Path, target: Path, bias: float) -> Path:
    """A copy of a checkpoint whose halting logit is ``bias`` for every spectrum."""
    net, _, config, payload = checkpoint.load_model(source)
    with torch.no_grad():
        net.q_head.weight.zero_()
        net.q_head.bias.fill_(bias)
    checkpoint.save(target, config, net.state_dict(), payload["step"])
    return target


def _psm_table(path: Path) -> pd.DataFrame:
    return mztab.MzTab(str(path)).spectrum_match_table


def _steps(path: Path) -> list[int]:
    return [int(s) for s in _psm_table(path)["opt_global_recursion_steps"]]


def test_halting_flags_and_recursion_steps_column(model: Path, tmp_path: Path, casanovo_sample: Path) -> None:
    halts = _with_halting_head(model, tmp_path / "halts.ckpt", 5.0)  # "this answer is right"
    never = _with_halting_head(model, tmp_path / "never.ckpt", -5.0)

    def predict(name: str, net: Path, *flags: str) -> Path:
        out = tmp_path / name
        result = runner.invoke(app, ["predict", str(casanovo_sample), "-o", str(out), "--model", str(net),
                                     *flags])  # fmt: skip
        assert result.exit_code == 0, result.output
        return out

    early = predict("early.mztab", halts, "--n-sup", "3", "--halting")
    n_rows = len(_steps(early))
    assert n_rows >= 5
    assert _steps(early) == [1] * n_rows
    assert _steps(predict("default.mztab", halts, "--n-sup", "3")) == [1] * n_rows  # on by default
    assert _steps(predict("full.mztab", halts, "--n-sup", "3", "--no-halting")) == [3] * n_rows
    assert _steps(predict("never.mztab", never, "--n-sup", "3", "--halting")) == [3] * n_rows
    # Halting after step 1 gives what one step without halting gives, row for row.
    one_step = predict("one.mztab", halts, "--n-sup", "1", "--no-halting")
    pd.testing.assert_frame_equal(_psm_table(early), _psm_table(one_step))


def test_top_k_rows_are_distinct_peptides(model: Path, tmp_path: Path, casanovo_sample: Path) -> None:
    out = tmp_path / "top.tsv"
    result = runner.invoke(app, ["predict", str(casanovo_sample), "-o", str(out), "--model", str(model),
                                 "--top-k", "3"])  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, sep="\t")
    proforma = "opt_global_cv_MS:1003169_proforma_peptidoform_sequence"
    n_full = 0
    for _, rows in table.groupby("spectra_ref", sort=False):
        assert list(rows["opt_global_rank"]) == list(range(1, len(rows) + 1))
        assert len(rows) <= 3
        assert rows[proforma].is_unique, list(rows[proforma])
        n_full += len(rows) == 3
    assert n_full >= 5  # the barely trained model's flat outputs fit many peptides


def test_evaluate_with_model_and_with_predictions(model: Path, tmp_path: Path,
                                                  casanovo_sample: Path) -> None:
    report = tmp_path / "r.json"
    result = runner.invoke(app, ["evaluate", str(casanovo_sample), "--model", str(model),
                                 "--json", str(report), "--plot", str(tmp_path / "r.png")])
    assert result.exit_code == 0, result.output
    assert "peptide recall" in result.output
    data = json.loads(report.read_text())
    assert data["spectra"]["evaluated"] == 10
    assert len(data["per_recursion_step"]) == tiny_config().model.n_sup
    assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"
    out = tmp_path / "p.mztab"
    runner.invoke(app, ["predict", str(casanovo_sample), "-o", str(out), "--model", str(model)])
    again = runner.invoke(app, ["evaluate", str(casanovo_sample), "--predictions", str(out)])
    assert again.exit_code == 0, again.output


def test_evaluate_tolerance_is_the_precursor_tolerance(model: Path, tmp_path: Path,
                                                      casanovo_sample: Path) -> None:  # fmt: skip
    def fitting(*options: str) -> int:
        report = tmp_path / "r.json"
        result = runner.invoke(app, ["evaluate", str(casanovo_sample), "--model", str(model),
                                     "--json", str(report), *options])  # fmt: skip
        assert result.exit_code == 0, result.output
        return json.loads(report.read_text())["fits_precursor"]

    # The barely trained model's flat outputs fit many peptides within 50 ppm; within 0.001 ppm
    # none of the 10 fits (the nearest peptide mass lies further from any precursor).
    assert fitting() >= 5
    assert fitting("--tolerance", "0.001") == 0


def _file(name: str, content: str | bytes):
    def make(folder: Path) -> Path:
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        return path

    return make


@pytest.mark.parametrize(
    ("setup", "expect"),
    [
        (lambda d: d / "missing.mgf", "no such file"),
        (_file("empty.mgf", ""), "no spectra"),
        (_file("t.mgf", "BEGIN IONS\nPEPMASS=500\n100 1\n"), "truncated"),
        (_file("x.mgf", b"\x00\xff\xfe" * 50), "not a text file"),
        (_file("x.mzML", "<mzML><run>"), "malformed or truncated"),
        (_file("bad.mgf", "BEGIN IONS\nPEPMASS=500\nCHARGE=2\n1 2 3\nabc\nEND IONS\n"), "cannot read"),
        (_file("notes.txt", "hello"), "unknown spectrum file type"),
    ],
)
def test_bad_input_gives_one_line_and_no_output(model: Path, tmp_path: Path, setup, expect: str) -> None:
    path = setup(tmp_path)
    out = tmp_path / "out" / "o.mztab"
    out.parent.mkdir()
    result = runner.invoke(app, ["predict", str(path), "-o", str(out), "--model", str(model)])
    assert result.exit_code == 1, result.output
    assert expect in result.output and "Traceback" not in result.output
    assert list(out.parent.iterdir()) == []


def test_missing_or_corrupt_model(tmp_path: Path, casanovo_sample: Path) -> None:
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"garbage")
    for model_path, expect in ((tmp_path / "none.ckpt", "no such checkpoint"), (bad, "not a checkpoint")):
        result = runner.invoke(app, ["predict", str(casanovo_sample), "-o", str(tmp_path / "o.mztab"),
                                     "--model", str(model_path)])  # fmt: skip
        assert result.exit_code == 1 and expect in result.output
        assert not (tmp_path / "o.mztab").exists()


def test_unsorted_nan_and_negative_peaks_are_cleaned(
    model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 60 peaks from m/z 500 down to 69.3, every other one with a negative intensity, plus a
    # NaN m/z and a NaN intensity: only the 30 positive ones (even i) may reach the model.
    peaks = [f"{500 - i * 7.3:.4f} {(-1) ** i * (i + 1)}" for i in range(60)] + ["nan 5", "300 nan"]
    mgf = tmp_path / "odd.mgf"
    mgf.write_text("BEGIN IONS\nPEPMASS=600.3\nCHARGE=2+\n" + "\n".join(peaks) + "\nEND IONS\n")
    seen = []  # the batches the network was given
    encode = TRM.encode

    def recording_encode(self, batch):
        seen.append(batch)
        return encode(self, batch)

    monkeypatch.setattr(TRM, "encode", recording_encode)
    result = runner.invoke(app, ["predict", str(mgf), "-o", str(tmp_path / "o.tsv"), "--model", str(model)])
    assert result.exit_code == 0, result.output
    assert "read 1 spectra" in result.output
    assert len(pd.read_csv(tmp_path / "o.tsv", sep="\t")) == 1  # sequenced, not skipped
    (batch,) = seen
    mask = batch.mask[0].numpy()
    kept = [i for i in range(60) if i % 2 == 0]
    np.testing.assert_allclose(batch.mz[0].numpy()[mask], [500 - i * 7.3 for i in reversed(kept)], atol=1e-4)
    # sqrt-scaled to unit norm: sqrt(i + 1) / sqrt(sum of (i + 1)) = sqrt((i + 1) / 900)
    np.testing.assert_allclose(batch.intensity[0].numpy()[mask],
                               [np.sqrt((i + 1) / 900) for i in reversed(kept)], rtol=1e-6)  # fmt: skip


def test_the_bundled_model_is_used_without_model_and_sequences_real_spectra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trmseq import checkpoint
    from trmseq.paths import bundled_model, resolve_model

    monkeypatch.delenv("TRMSEQ_MODEL", raising=False)
    bundled = bundled_model()
    assert bundled is not None and bundled.stat().st_size < 20e6
    assert resolve_model() == bundled
    model, _, config, payload = checkpoint.load_model(bundled)
    assert "train_state" not in payload  # weights only: small, nothing to resume
    assert config.model.n_sup >= 1

    example = Path(__file__).parents[2] / "examples" / "mouse_casanovo_128.mgf"
    report = tmp_path / "report.json"
    result = runner.invoke(app, ["evaluate", str(example), "--json", str(report), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(report.read_text())["metrics"]
    assert metrics["n_spectra"] == 128
    # An untrained model scores about 0.01 here; the shipped one must have learnt something.
    assert metrics["aa_precision"] > 0.3 and metrics["peptide_recall"] > 0.1


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".mztab", ".tsv"])
def test_torchrun_on_two_cpu_processes_writes_what_one_process_writes(tmp_path: Path, suffix: str) -> None:
    # Two files, spectra that are skipped between sequenced ones, batches of 8: both processes
    # get batches, and the skipped list and the q-values (over every PSM) must come out the same.
    import os
    import socket
    import subprocess
    import sys

    files = [Path(__file__).resolve().parents[2] / "examples" / "mouse_casanovo_128.mgf",
             tmp_path / "small.mgf"]  # fmt: skip
    text = files[0].read_text().split("END IONS")
    files[1].write_text("END IONS".join(text[:20]).replace("CHARGE=2+", "CHARGE=9+", 3) + "END IONS\n")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = ["-m", "trmseq", "predict", *map(str, files), "--batch-size", "8", "--device", "cpu"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    two = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
                          f"--master_port={port}", *args, "-o", str(tmp_path / f"two{suffix}")],
                         capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert two.returncode == 0, two.stderr[-2000:]
    assert two.stderr.count("wrote ") == 1  # rank 0 alone reports
    one = subprocess.run([sys.executable, *args, "-o", str(tmp_path / f"one{suffix}")],
                         capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert one.returncode == 0, one.stderr[-2000:]
    assert "skipped 3" in one.stderr
    for name in (suffix, f"{suffix}.skipped.tsv"):
        assert (tmp_path / f"two{name}").read_bytes() == (tmp_path / f"one{name}").read_bytes(), name
    counts = [re.search(r"read .* skipped \d+", p.stderr).group() for p in (one, two)]  # timing aside
    assert counts[0] == counts[1]
