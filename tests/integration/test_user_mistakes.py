"""Mistakes users make, found by using the tool as one: each gets one clear line, or a warning
and the right result, never a traceback, a garbled path or a silently wrong number."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from model_helpers import tiny_config
from trmseq import config as config_mod
from trmseq.cli import app
from trmseq.io.mgf import read_mgf
from trmseq.train import Trainer

runner = CliRunner()


def run(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def one_error(result, *named: object) -> str:
    """Exit 1, one stderr line starting 'error:' that names each of ``named``."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    for name in named:
        assert str(name) in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("model")
    Trainer(tiny_config(max_steps=2), out).run()
    return out / "last.ckpt"


@pytest.fixture
def spectra(tmp_path: Path, casanovo_sample: Path) -> Path:
    path = tmp_path / "run.mgf"
    shutil.copy(casanovo_sample, path)
    return path


# -- spectrum files ------------------------------------------------------------------------------


def test_a_bad_file_type_among_several_fails_before_any_work(spectra: Path, model: Path, tmp_path: Path) -> None:
    typo = tmp_path / "second.mgff"
    typo.write_text("BEGIN IONS\nEND IONS\n")
    line = one_error(run("predict", spectra, typo, "-o", tmp_path / "o.mztab", "--model", model), typo)
    assert "unknown spectrum file type" in line
    assert not (tmp_path / "o.mztab").exists()


def test_a_file_named_twice_is_read_once_with_a_warning(spectra: Path, model: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.tsv"
    result = run("predict", spectra, spectra.parent, "-o", out, "--model", model)  # the file, then its folder
    assert result.exit_code == 0, result.output
    assert f"warning: {spectra.parent / spectra.name}: given more than once; read once" in result.stderr
    assert "read 10 spectra from 1 file(s)" in result.stderr
    assert len(out.read_text().splitlines()) == 1 + 10


def test_a_compressed_spectrum_file_is_read_as_the_plain_one(spectra: Path, model: Path, tmp_path: Path) -> None:
    packed = tmp_path / "run.mgf.gz"
    packed.write_bytes(gzip.compress(spectra.read_bytes()))
    rows = {}
    for path in (spectra, packed):
        out = tmp_path / f"{path.name}.mztab"
        result = run("predict", path, "-o", out, "--model", model)
        assert result.exit_code == 0, result.output
        rows[path] = [line for line in out.read_text().splitlines()
                      if line.startswith("PSM") or line.startswith("MTD\tms_run[1]-") and "location" not in line]
    assert len(rows[packed]) == 12 and rows[packed] == rows[spectra]  # same USIs and run format (MGF)
    broken = tmp_path / "broken.mzML.gz"
    broken.write_bytes(gzip.compress(b"<mzML/>"))
    one_error(run("inspect", broken), broken, "no MS2 spectra in this mzML file")


def test_windows_1252_titles_are_read_not_refused(tmp_path: Path, casanovo_sample: Path) -> None:
    text = casanovo_sample.read_text().replace("TITLE=", "TITLE=café ", 1)
    path = tmp_path / "latin.mgf"
    path.write_bytes(text.encode("cp1252"))
    spectra = list(read_mgf(path))
    assert len(spectra) == 10 and spectra[0].title is not None and spectra[0].title.startswith("café ")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (lambda text: gzip.compress(text.encode())[:20], "truncated or corrupt gzip file"),
        (lambda text: text.encode("utf-16"), "UTF-16 text"),
        (lambda text: text.replace("END IONS", "END IONS\n\x00", 1).encode(), "line 3: not a text file"),
    ],
)
def test_compressed_utf16_and_binary_mgf_are_one_line(tmp_path: Path, content, message: str) -> None:
    path = tmp_path / "x.mgf"
    path.write_bytes(content("BEGIN IONS\nEND IONS\nBEGIN IONS\nEND IONS\n"))
    one_error(run("inspect", path), path, message)


def test_several_peptides_in_one_seq_are_one_reason(write_text) -> None:
    blocks = "".join(f"BEGIN IONS\nPEPMASS=500\nCHARGE=2+\nSEQ=PEPK,PEP{x}K\n100 1\nEND IONS\n" for x in "ACDE")
    result = run("inspect", write_text("p.mgf", blocks), "--annotated")
    assert result.exit_code == 0, result.output
    assert "4  annotation: several peptides (comma-separated)" in result.stdout


def test_a_bad_peak_names_its_own_line(write_text) -> None:
    path = write_text("p.mgf", "BEGIN IONS\nPEPMASS=500\nCHARGE=2+\n100.1 5\n101,5 7\nEND IONS\n")
    one_error(run("inspect", path), f"{path}, line 5, spectrum index=0", "'101,5 7'")


def test_a_folder_given_as_a_file_or_model_says_so(tmp_path: Path, spectra: Path) -> None:
    one_error(run("show", tmp_path, "--index", "0"), tmp_path, "is a folder")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "best.ckpt").write_bytes(b"")
    one_error(run("predict", spectra, "--model", run_dir, "-o", tmp_path / "o.mztab"), "its best.ckpt")


# -- output paths --------------------------------------------------------------------------------


def test_paths_with_brackets_are_printed_as_they_are(spectra: Path, model: Path, tmp_path: Path) -> None:
    folder = tmp_path / "run [final]"
    folder.mkdir()
    result = run("predict", spectra, "-o", folder / "out.mztab", "--model", model)
    assert result.exit_code == 0, result.output
    assert f"wrote 10 PSMs to {folder / 'out.mztab'}" in result.stderr
    odd = tmp_path / "x["
    odd.mkdir()
    result = run("generate", "-n", 3, "-o", odd / "g.mgf")
    assert result.exit_code == 0, result.output
    assert f"wrote 3 spectra to {odd / 'g.mgf'}" in result.stderr


def test_a_write_protected_output_is_kept(spectra: Path, model: Path, tmp_path: Path) -> None:
    out = tmp_path / "keep.mztab"
    out.write_text("the lab's results\n")
    out.chmod(0o444)
    one_error(run("predict", spectra, "-o", out, "--model", model), out, "write-protected")
    assert out.read_text() == "the lab's results\n"


def test_a_linked_output_replaces_the_target_and_keeps_the_link(spectra: Path, model: Path, tmp_path: Path) -> None:
    target = tmp_path / "target.tsv"
    link = tmp_path / "link.tsv"
    link.symlink_to(target)
    assert run("predict", spectra, "-o", link, "--model", model).exit_code == 0
    assert link.is_symlink() and len(target.read_text().splitlines()) == 11


def test_evaluate_checks_its_outputs_before_the_work(spectra: Path, model: Path, tmp_path: Path) -> None:
    one_error(run("evaluate", spectra, "--model", model, "--plot", tmp_path / "x.txt"), "x.txt", ".png")
    result = run("evaluate", spectra, "--model", model, "--json", tmp_path / "x.json",
                 "--plot", tmp_path / "no" / "x.png")  # fmt: skip
    one_error(result, tmp_path / "no" / "x.png", "cannot write here")
    assert result.stdout == "" and not (tmp_path / "x.json").exists()


def test_calibrate_writes_a_checkpoint_name(spectra: Path, model: Path, tmp_path: Path) -> None:
    one_error(run("calibrate", spectra, "--model", model, "-o", tmp_path / "x.mztab"), "x.mztab", ".ckpt")


def test_a_titles_tab_does_not_shift_the_skipped_list(write_text, model: Path, tmp_path: Path) -> None:
    path = write_text("t.mgf", "BEGIN IONS\nTITLE=a\tb\nPEPMASS=500\n100 1\nEND IONS\n")  # no charge
    assert run("predict", path, "-o", tmp_path / "o.tsv", "--model", model).exit_code == 0
    rows = (tmp_path / "o.tsv.skipped.tsv").read_text().splitlines()
    assert [len(r.split("\t")) for r in rows] == [4, 4] and rows[1].split("\t")[2] == "a b"


# -- options and configuration -------------------------------------------------------------------


def test_predict_says_which_config_sections_it_ignores(spectra: Path, model: Path, tmp_path: Path, write_text) -> None:
    config = write_text("c.yaml", "data:\n  min_peaks: 100\ndecode:\n  top_k: 2\n")
    result = run("predict", spectra, "-o", tmp_path / "o.tsv", "--model", model, "--config", config)
    assert result.exit_code == 0, result.output
    assert f"warning: {config}: only its decode section applies here; the model's checkpoint sets data" in (
        result.stderr
    )
    assert len((tmp_path / "o.tsv").read_text().splitlines()) == 1 + 2 * 10  # decode applied, data not


def test_a_config_that_is_not_utf8_is_one_line(spectra: Path, tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_bytes(b"# caf\xe9\ndecode:\n  top_k: 2\n")
    one_error(run("predict", spectra, "--config", config, "-o", tmp_path / "o.tsv"), config, "UTF-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--device", "mps"], "no Apple GPU"),
    ],
)
def test_impossible_settings_are_one_line(spectra: Path, model: Path, tmp_path: Path, args, message: str) -> None:
    import torch

    if args[0] == "--device" and torch.backends.mps.is_available():
        pytest.skip("this machine has an Apple GPU")
    one_error(run("predict", spectra, "--model", model, "-o", tmp_path / "o.tsv", *args), message)


def test_usage_limits_are_usage_errors(spectra: Path, tmp_path: Path) -> None:
    assert run("predict", spectra, "--top-k", 21, "-o", tmp_path / "o.tsv").exit_code == 2
    for tolerance in ("0", "inf", "nan"):
        result = run("predict", spectra, "--tolerance", tolerance, "-o", tmp_path / "o.tsv")
        assert result.exit_code == 2 and "must be above 0 and finite" in result.output
    assert run("generate", "-n", 2, "--min-length", 1, "-o", tmp_path / "g.mgf").exit_code == 2
    assert not (tmp_path / "o.tsv").exists() and not (tmp_path / "g.mgf").exists()


# -- evaluating a results file -------------------------------------------------------------------


def test_results_moved_with_their_spectra_are_matched_by_file_name(spectra: Path, model: Path, tmp_path: Path) -> None:
    here = run("evaluate", spectra, "--model", model, "--json", tmp_path / "direct.json")
    assert here.exit_code == 0, here.output
    assert run("predict", spectra, "-o", tmp_path / "p.mztab", "--model", model).exit_code == 0
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.copy(spectra, moved / spectra.name)
    shutil.copy(tmp_path / "p.mztab", moved / "p.mztab")
    os.chdir(moved)
    result = run("evaluate", moved / spectra.name, "-p", moved / "p.mztab")
    assert result.exit_code == 0, result.output
    assert f"names {spectra.resolve()}; matched to {(moved / spectra.name).resolve()} by file name" in result.stderr
    scored = [line for line in result.stdout.splitlines() if line.startswith(("AA precision", "peptide recall"))]
    direct = [line for line in here.stdout.splitlines() if line.startswith(("AA precision", "peptide recall"))]
    assert scored == direct  # the same answers, scored the same, as when nothing moved


def test_results_for_other_spectra_are_an_error(spectra: Path, model: Path, tmp_path: Path, write_text) -> None:
    assert run("predict", spectra, "-o", tmp_path / "p.mztab", "--model", model).exit_code == 0
    other = tmp_path / "other.mgf"
    shutil.copy(spectra, other)
    one_error(run("evaluate", other, "-p", tmp_path / "p.mztab"), "none of its 10 PSMs", "run.mgf")
    table = write_text("t.tsv", "peptide\tscore\nPEPTIDE\t0.5\n")
    one_error(run("evaluate", spectra, "-p", table), "no column spectra_ref")


def test_nothing_to_evaluate_says_why(write_text) -> None:
    path = write_text("n.mgf", "BEGIN IONS\nPEPMASS=500\nSEQ=PEPTIDE\n100 1\nEND IONS\n")
    one_error(run("evaluate", path), "no usable annotated spectra", "missing or ambiguous precursor charge")


# -- training runs -------------------------------------------------------------------------------


def test_train_does_not_overwrite_a_run_and_resume_says_when_the_budget_is_spent(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(config_mod.to_dict(tiny_config(max_steps=2))))
    out = tmp_path / "run"
    first = run("train", "--config", config, "-o", out, "--device", "cpu")
    assert first.exit_code == 0, first.output
    before = (out / "last.ckpt").read_bytes()
    one_error(run("train", "--config", config, "-o", out), out, "--resume")
    assert (out / "last.ckpt").read_bytes() == before
    one_error(run("train", "-o", out, "--resume"), "used its budget (2 of 2 steps)", "--max-steps")
    again = run("train", "-o", out, "--resume", "--max-steps", 3, "--device", "cpu")
    assert again.exit_code == 0 and "stopped at step 3" in again.stderr, again.output


# -- found in review of the fixes above ------------------------------------------------------------


def test_nohup_keeps_its_hold_on_sighup() -> None:
    import signal

    from trmseq.terminal import on_sigterm_unwind

    before = signal.getsignal(signal.SIGHUP), signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # what nohup does
        on_sigterm_unwind()
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, before[0])
        signal.signal(signal.SIGTERM, before[1])


def test_a_write_protected_skipped_list_fails_before_the_work(write_text, model: Path, tmp_path: Path) -> None:
    path = write_text("s.mgf", "BEGIN IONS\nPEPMASS=500\n100 1\nEND IONS\n")  # no charge: skipped
    out = tmp_path / "s.tsv"
    out.write_text("old results\n")
    log = tmp_path / "s.tsv.skipped.tsv"
    log.write_text("old list\n")
    log.chmod(0o444)
    one_error(run("predict", path, "-o", out, "--model", model), log, "write-protected")
    assert out.read_text() == "old results\n" and log.read_text() == "old list\n"


def test_calibrate_checks_its_output_before_the_work(spectra: Path, model: Path, tmp_path: Path) -> None:
    out = tmp_path / "c.ckpt"
    out.write_bytes(b"keep")
    out.chmod(0o444)
    one_error(run("calibrate", spectra, "--model", model, "-o", out), out, "write-protected")


def test_results_for_a_same_named_file_are_not_borrowed(spectra: Path, model: Path, tmp_path: Path) -> None:
    other = tmp_path / "b" / spectra.name
    other.parent.mkdir()
    shutil.copy(spectra, other)
    assert run("predict", spectra, "-o", tmp_path / "a.tsv", "--model", model).exit_code == 0
    result = run("evaluate", spectra, other, "-p", tmp_path / "a.tsv")
    assert result.exit_code == 0, result.output
    assert "matched to" not in result.stderr  # b's spectra have no prediction of their own
    assert "spectra evaluated   20" in result.stdout


def test_results_written_on_windows_match_by_file_name(spectra: Path, model: Path, tmp_path: Path) -> None:
    assert run("predict", spectra, "-o", tmp_path / "p.tsv", "--model", model).exit_code == 0
    direct = run("evaluate", spectra, "-p", tmp_path / "p.tsv")
    table = (tmp_path / "p.tsv").read_text().replace(str(spectra), rf"C:\Users\lab\data\{spectra.name}")
    (tmp_path / "win.tsv").write_text(table)
    result = run("evaluate", spectra, "-p", tmp_path / "win.tsv")
    assert result.exit_code == 0, result.output
    assert result.stdout == direct.stdout


def test_a_stored_configuration_beyond_the_command_lines_limits_still_loads() -> None:
    from trmseq.config import DecodeConfig

    assert DecodeConfig(top_k=25).top_k == 25  # --top-k stops at 20; a checkpoint's config is not refused


def test_paths_print_without_emoji_codes(spectra: Path, model: Path, tmp_path: Path) -> None:
    out = tmp_path / "run:x:.tsv"
    result = run("predict", spectra, "-o", out, "--model", model)
    assert result.exit_code == 0 and f"wrote 10 PSMs to {out}" in result.stderr
