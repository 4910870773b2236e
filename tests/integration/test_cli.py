"""The command line through typer's CliRunner: success paths and one-line errors."""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from pyteomics import mgf
from typer.testing import CliRunner

import pyteomics_ref as ref
from trmseq import config as config_mod
from trmseq.cli import app

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def run(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def assert_ok(result) -> None:
    assert result.exit_code == 0, (result.output, result.exception)
    assert "Traceback" not in result.output


def assert_error(result, *named: object) -> str:
    """Exit 1 with exactly one line on stderr, starting 'error:' and naming each of ``named``."""
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:"), lines[0]
    for name in named:
        assert str(name) in lines[0]
    return lines[0]


def records(path: Path) -> list[dict]:
    with mgf.MGF(str(path)) as reader:
        return list(reader)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An empty output folder; tests check it is still empty after a failure."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


# -- help and version ----------------------------------------------------------------------------


# The options each command's documentation names: README.md, docs/*.md, CHANGELOG.md and the
# command's docstring. `configure` (which writes the defaults), `calibrate` and `show` take no
# --config, as README's list of the commands that do says.
DOCUMENTED_OPTIONS = {
    "generate": ["--n", "-o", "--preset", "--seed", "--fasta", "--min-length", "--max-length",
                 "--min-charge", "--max-charge", "--notation", "--config"],
    "configure": ["-o"],
    "inspect": ["--annotated", "--config"],
    "train": ["--train", "--val", "--model", "-o", "--resume", "--max-steps", "--max-time",
              "--device", "--workers", "--config"],
    "overfit": ["--max-steps", "--max-time", "--config"],
    "predict": ["-o", "--model", "--top-k", "--tolerance", "--halting", "--no-halting", "--config"],
    "evaluate": ["--model", "--predictions", "--json", "--plot", "--tolerance", "--config"],
    "calibrate": ["-o", "--model", "--synthetic", "--labels", "--threads"],
    "show": ["--index", "--peptide", "-o"],
}  # fmt: skip


def help_options(command: str) -> set[str]:
    """The option names that ``trmseq COMMAND --help`` defines (not those its texts mention)."""
    result = run(command, "--help")
    assert_ok(result)
    _, options = result.stdout.split("Options:", 1)
    names: set[str] = set()
    for line in options.splitlines():
        defined = re.match(r"  (-[\w-]+(?:(?:, | / )-[\w-]+)*)", line)
        if defined:
            names.update(re.split(r", | / ", defined.group(1)))
    return names


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert_ok(result)
    for command in DOCUMENTED_OPTIONS:
        assert re.search(rf"^\s+{command}\b", result.stdout, re.MULTILINE), command


@pytest.mark.parametrize("command", sorted(DOCUMENTED_OPTIONS))
def test_command_help_lists_its_documented_options(command: str) -> None:
    names = help_options(command)
    assert "--help" in names  # the parsing found the option lines
    assert sorted(set(DOCUMENTED_OPTIONS[command]) - names) == []


def test_version() -> None:
    result = run("--version")
    assert_ok(result)
    assert result.stdout.strip() == f"trmseq {version('trmseq')}"


def test_python_dash_m() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "trmseq", "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"trmseq {version('trmseq')}"


# -- generate ------------------------------------------------------------------------------------


def test_generate_writes_an_mgf_pyteomics_reads(out: Path) -> None:
    path = out / "x.mgf"
    result = run("generate", "--n", 50, "-o", path, "--seed", 3)
    assert_ok(result)
    assert result.stdout == ""  # logs go to stderr
    assert "50" in result.stderr
    spectra = records(path)
    assert len(spectra) == 50
    for s in spectra:
        p = s["params"]
        mass = ref.peptide_mass(ref.split_mass_offset(p["seq"]))
        charge = int(p["charge"][0])
        observed = (p["pepmass"][0] - ref.PROTON) * charge
        assert min(abs(observed - mass - k * ref.C13_DIFF) / mass for k in (0, 1)) < 30e-6
        assert len(s["m/z array"]) > 0
    assert sorted(x.name for x in out.iterdir()) == ["x.mgf"]


def test_generate_is_deterministic(out: Path) -> None:
    for name, seed in (("a.mgf", 1), ("b.mgf", 1), ("c.mgf", 2)):
        assert_ok(run("generate", "-n", 20, "-o", out / name, "--seed", seed))
    assert (out / "a.mgf").read_bytes() == (out / "b.mgf").read_bytes()
    assert (out / "a.mgf").read_bytes() != (out / "c.mgf").read_bytes()


def test_generate_writes_gzip_when_the_name_ends_in_gz(out: Path) -> None:
    for name in ("a.mgf", "a.mgf.gz", "b.mgf.gz"):
        assert_ok(run("generate", "-n", 20, "-o", out / name, "--seed", 1))
    packed = (out / "a.mgf.gz").read_bytes()
    assert packed[:2] == b"\x1f\x8b" and gzip.decompress(packed) == (out / "a.mgf").read_bytes()
    assert packed == (out / "b.mgf.gz").read_bytes() and packed[4:8] == bytes(4)  # no time in the gzip header
    assert_ok(run("inspect", out / "a.mgf.gz"))


def test_generate_options(out: Path) -> None:
    path = out / "x.mgf"
    result = run(
        "generate", "-n", 100, "-o", path, "--preset", "clean", "--min-length", 7,
        "--max-length", 9, "--min-charge", 2, "--max-charge", 3, "--mod-rate", 0,
        "--nterm-rate", 0, "--notation", "proforma",
    )  # fmt: skip
    assert_ok(result)
    for s in records(path):
        p = s["params"]
        _, masses = ref.proforma_residue_masses(p["seq"])
        assert 7 <= len(masses) <= 9
        assert int(p["charge"][0]) in (2, 3)
        assert re.sub(r"C\[Carbamidomethyl\]", "C", p["seq"]).isalpha()  # no variable mods
        charge = int(p["charge"][0])
        assert p["pepmass"][0] == pytest.approx(
            (ref.proforma_mass(p["seq"]) + charge * ref.PROTON) / charge, abs=1e-5
        )


def test_generate_from_fasta(out: Path, tmp_path: Path) -> None:
    fasta = tmp_path / "p.fasta"
    fasta.write_text(">p1 test protein\nMAGLKDWSTKPERAAGG\nHHILLRSSSEEEK\n")
    # By hand: MAGLK | DWSTKPER (no cut before P) | AAGGHHILLR | SSSEEEK; 6-30 residues,
    # up to one missed cleavage, I read as L.
    expected = {"DWSTKPER", "AAGGHHLLLR", "SSSEEEK", "MAGLKDWSTKPER", "DWSTKPERAAGGHHLLLR",
                "AAGGHHLLLRSSSEEEK"}  # fmt: skip
    path = out / "x.mgf"
    assert_ok(run("generate", "-n", 40, "-o", path, "--fasta", fasta, "--preset", "clean"))
    drawn = {
        "".join(t[0] for t in ref.split_mass_offset(s["params"]["seq"]) if t[0].isalpha())
        for s in records(path)
    }
    assert drawn <= expected
    assert len(drawn) == len(expected)
    assert_ok(run("generate", "-n", 40, "-o", path, "--fasta", fasta, "--missed-cleavages", 0))
    drawn = {
        "".join(t[0] for t in ref.split_mass_offset(s["params"]["seq"]) if t[0].isalpha())
        for s in records(path)
    }
    assert drawn == {"DWSTKPER", "AAGGHHLLLR", "SSSEEEK"}


# -- configure -----------------------------------------------------------------------------------


def test_configure_stdout_loads_back_as_defaults(tmp_path: Path) -> None:
    result = run("configure")
    assert_ok(result)
    path = tmp_path / "c.yaml"
    path.write_text(result.stdout)
    assert config_mod.load(path) == config_mod.Config()


def test_configure_to_file_then_use_it(out: Path) -> None:
    path = out / "c.yaml"
    assert_ok(run("configure", "-o", path))
    assert config_mod.load(path) == config_mod.Config()
    assert_ok(run("generate", "-n", 5, "-o", out / "x.mgf", "-c", path))
    assert sorted(x.name for x in out.iterdir()) == ["c.yaml", "x.mgf"]


# -- inspect -------------------------------------------------------------------------------------


def counts(stdout: str) -> dict[str, int]:
    found = {}
    for key in ("spectra read", "usable", "skipped"):
        m = re.search(rf"^\s*{key}\s+([\d,]+)", stdout, re.MULTILINE)
        assert m, stdout
        found[key] = int(m.group(1).replace(",", ""))
    return found


def test_inspect_test_data(casanovo_sample: Path) -> None:
    result = run("inspect", casanovo_sample)
    assert_ok(result)
    assert str(casanovo_sample) in result.stdout
    assert counts(result.stdout) == {"spectra read": 10, "usable": 10, "skipped": 0}
    assert "2+: " in result.stdout


def test_inspect_xml_fixtures(tiny_mzml: Path, tiny_mzxml: Path) -> None:
    for path in (tiny_mzml, tiny_mzxml):
        result = run("inspect", path)
        assert_ok(result)
        # 3 MS2 spectra each: one has no charge, and all have fewer than 20 peaks.
        assert counts(result.stdout) == {"spectra read": 3, "usable": 0, "skipped": 3}
        assert "missing or ambiguous precursor charge" in result.stdout
        assert "fewer than 20 peaks" in result.stdout


def test_inspect_folder(tmp_path: Path, casanovo_sample: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.mgf", "b.MGF"):
        (folder / name).write_bytes(casanovo_sample.read_bytes())
    (folder / "notes.txt").write_text("ignored")
    result = run("inspect", folder)
    assert_ok(result)
    assert result.stdout.count("spectra read") == 2
    assert "notes.txt" not in result.stdout


@pytest.mark.parametrize(
    ("name", "read"),
    [("raw/ms2ml/sample_tiny_hela.mzML", 23), ("raw/winnow/spectra.mgf", 100)],
)
def test_inspect_real_files(name: str, read: int) -> None:
    path = SHARED / name
    if not path.is_file():
        pytest.skip(f"real data not found: {path}")
    result = run("inspect", path)
    assert_ok(result)
    c = counts(result.stdout)
    assert c["spectra read"] == read
    assert c["usable"] + c["skipped"] == read


def test_inspect_annotated_real_dev() -> None:
    path = SHARED / "real_dev.mgf"
    if not path.is_file():
        pytest.skip(f"real data not found: {path}")
    result = run("inspect", "--annotated", path)
    assert_ok(result)
    c = counts(result.stdout)
    assert c["spectra read"] == 2719
    assert c["usable"] + c["skipped"] == 2719
    assert "E-18.011" in result.stdout and "S+79.966" in result.stdout
    reasons = re.findall(r"^\s{4,}([\d,]+)\s{2}\S", result.stdout, re.MULTILINE)
    assert sum(int(n.replace(",", "")) for n in reasons) == c["skipped"]


# -- bad input: one line on stderr, exit 1, nothing written ----------------------------------------

MGF_CASES = {
    "not_mgf.mgf": b"hello\nthis is not an MGF file\n",
    "truncated.mgf": b"BEGIN IONS\nPEPMASS=400.2\nCHARGE=2+\n100.0 1.0\n200.0 2.0\n",
    "bad_peak.mgf": b"BEGIN IONS\nPEPMASS=400.2\nCHARGE=2+\n100.0 1.0\n200.0 lots\nEND IONS\n",
    "garbage.mgf": bytes(range(256)) * 8,
    "empty.mgf": b"",
    "spectra.txt": b"BEGIN IONS\nPEPMASS=400.2\n100.0 1.0\nEND IONS\n",
    "bad.mzML": b"<?xml version='1.0'?>\n<mzML><run>\n",
    "bad.mzXML": b"not xml at all\n",
}


@pytest.mark.parametrize("name", sorted(MGF_CASES))
def test_inspect_bad_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(MGF_CASES[name])
    assert_error(run("inspect", path), path)


def test_inspect_missing_file(tmp_path: Path) -> None:
    assert_error(run("inspect", tmp_path / "missing.mgf"), tmp_path / "missing.mgf")


def test_inspect_folder_without_spectra(tmp_path: Path) -> None:
    folder = tmp_path / "nothing"
    folder.mkdir()
    (folder / "readme.txt").write_text("no spectra here")
    assert_error(run("inspect", folder), folder)


def test_inspect_bad_config(tmp_path: Path, casanovo_sample: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("data:\n  min_peaks: -3\n")
    assert_error(run("inspect", casanovo_sample, "-c", config), config)


@pytest.mark.parametrize(
    ("config_text", "named"),
    [
        ("data:\n  bogus: 1\n", "data.bogus"),
        ("vocab:\n  fixed_mods: [C+57.021]\n  extra: true\n", "vocab.extra"),
        ("data:\n  n_peaks: many\n", "data.n_peaks"),
        ("vocab:\n  fold_isoleucine: maybe\n", "vocab.fold_isoleucine"),
        ("vocab:\n  variable_mods: [M+15.995, Z+1.0]\n", "Z+1.0"),
        ("[unclosed\n", "YAML"),
    ],
)
def test_generate_bad_config(tmp_path: Path, out: Path, config_text: str, named: str) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(config_text)
    assert_error(run("generate", "-n", 5, "-o", out / "x.mgf", "-c", config), config, named)
    assert list(out.iterdir()) == []


def test_generate_missing_config(tmp_path: Path, out: Path) -> None:
    config = tmp_path / "none.yaml"
    assert_error(run("generate", "-n", 5, "-o", out / "x.mgf", "-c", config), config)
    assert list(out.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--preset", "nope"], "nope"),
        (["--notation", "peaks"], "peaks"),
        (["--min-length", 10, "--max-length", 5], "10"),
        (["--min-charge", 4, "--max-charge", 2], "4"),
    ],
)
def test_generate_bad_options(out: Path, args: list, named: str) -> None:
    assert_error(run("generate", "-n", 5, "-o", out / "x.mgf", *args), named)
    assert list(out.iterdir()) == []


def test_failed_generate_leaves_existing_output_untouched(out: Path) -> None:
    path = out / "x.mgf"
    path.write_text("keep me")
    assert_error(run("generate", "-n", 5, "-o", path, "--preset", "nope"))
    assert path.read_text() == "keep me"
    assert [x.name for x in out.iterdir()] == ["x.mgf"]


@pytest.mark.parametrize(
    ("content", "named"),
    [(None, "missing.fasta"), (b"ACDEFGHIK\n", "bad.fasta"), (b"\xff\xfe\x00" * 50, "bad.fasta")],
)
def test_generate_bad_fasta(tmp_path: Path, out: Path, content: bytes | None, named: str) -> None:
    fasta = tmp_path / named
    if content is not None:
        fasta.write_bytes(content)
    assert_error(run("generate", "-n", 5, "-o", out / "x.mgf", "--fasta", fasta), fasta)
    assert list(out.iterdir()) == []


def test_generate_into_missing_folder(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "folder" / "x.mgf"
    assert_error(run("generate", "-n", 5, "-o", target), target.parent)
    assert list(tmp_path.iterdir()) == []


def test_generate_onto_a_folder(out: Path) -> None:
    folder = out / "taken"
    folder.mkdir()
    assert_error(run("generate", "-n", 5, "-o", folder), folder)
    assert [x.name for x in out.iterdir()] == ["taken"]
    assert list(folder.iterdir()) == []


def test_configure_into_missing_folder(tmp_path: Path) -> None:
    target = tmp_path / "nowhere" / "c.yaml"
    assert_error(run("configure", "-o", target), target.parent)
    assert list(tmp_path.iterdir()) == []


def test_predict_to_an_unknown_output_type(casanovo_sample: Path, out: Path) -> None:
    assert_error(run("predict", casanovo_sample, "-o", out / "x.csv"), "x.csv", ".mztab or .tsv")
    assert list(out.iterdir()) == []


def test_evaluate_with_model_and_predictions(casanovo_sample: Path, tmp_path: Path) -> None:
    predictions = tmp_path / "p.mztab"
    predictions.write_text("")
    assert_error(run("evaluate", casanovo_sample, "--model", tmp_path / "m.ckpt", "--predictions", predictions),
                 "--model or --predictions")  # fmt: skip


def test_train_resume_needs_the_run_folder() -> None:
    assert_error(run("train", "--resume"), "--output-dir")


def test_overfit_unknown_preset() -> None:
    assert_error(run("overfit", "--preset", "nope"), "nope")


@pytest.mark.parametrize(
    "args",
    [
        ["predict"],
        ["predict", "--top-k", 0],
        ["predict", "--n-sup", 0],
        ["predict", "--tolerance", -1],
        ["evaluate"],
        ["overfit", "--n", 0],
        ["train", "--max-steps", 0],
    ],
)
def test_usage_errors_of_the_model_commands_exit_2(casanovo_sample: Path, args: list) -> None:
    if args[0] == "predict" and len(args) > 1:
        args = [*args, casanovo_sample]
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["generate", "--n", 0],
        ["generate", "--mod-rate", 2],
        ["generate", "--min-length", 0],
        ["generate", "--bogus"],
        ["inspect"],
        ["nosuchcommand"],
    ],
)
def test_usage_errors_exit_2(out: Path, args: list) -> None:
    result = run(*args, "-o", out / "x.mgf") if args[0] == "generate" else run(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert list(out.iterdir()) == []
