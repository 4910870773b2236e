"""Configuration: defaults, YAML round trip, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from trmseq import config as cfg
from trmseq.errors import ConfigError


def test_defaults() -> None:
    c = cfg.load(None)
    assert c == cfg.Config()
    assert c.data.min_mz == 50.0 and c.data.max_mz == 2500.0
    assert c.data.n_peaks == 150 and c.data.remove_precursor_tol_da == 2.0
    assert c.vocab.fixed_mods == ("C+57.021",)
    assert "M+15.995" in c.vocab.variable_mods and c.vocab.fold_isoleucine is True


def test_dump_loads_back_to_the_defaults(tmp_path: Path) -> None:
    text = cfg.dump()
    path = tmp_path / "c.yaml"
    path.write_text(text)
    assert cfg.load(path) == cfg.Config()
    keys = [line for line in text.splitlines() if line.startswith("  ")]
    assert {"  min_mz: 50.0", "  n_peaks: 150", "  fold_isoleucine: true"} <= {
        line.split("  #")[0] for line in keys
    }
    assert all("  # " in line for line in keys), "every key has a help comment"


def test_dump_of_custom_config_round_trips(tmp_path: Path) -> None:
    custom = cfg.Config(
        vocab=cfg.VocabConfig(variable_mods=("M+15.995", "S+79.966", "+42.011", "-17.027")),
        data=cfg.DataConfig(min_mz=100.0, n_peaks=50, min_peaks=5, max_charge=6),
    )
    path = tmp_path / "c.yaml"
    path.write_text(cfg.dump(custom))
    assert cfg.load(path) == custom
    assert cfg.from_dict(cfg.to_dict(custom)) == custom


@pytest.mark.parametrize("text", ["", "# only a comment\n", "data:\n", "vocab: {}\ndata: {}\n"])
def test_empty_sections_take_defaults(tmp_path: Path, text: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    assert cfg.load(path) == cfg.Config()


def test_partial_config(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("data:\n  min_mz: 100\n  max_charge: 3\n")
    c = cfg.load(path)
    assert c.data.min_mz == 100.0 and isinstance(c.data.min_mz, float)
    assert c.data.max_charge == 3 and c.data.n_peaks == 150


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("bogus: 1\n", "bogus"),
        ("data:\n  bogus: 1\n", "data.bogus"),
        ("vocab:\n  fixed: [C+57.021]\n", "vocab.fixed"),
        ("data:\n  n_peaks: many\n", "data.n_peaks"),
        ("data:\n  n_peaks: 150.5\n", "data.n_peaks"),
        ("data:\n  n_peaks: true\n", "data.n_peaks"),
        ("data:\n  min_mz: fifty\n", "data.min_mz"),
        ("vocab:\n  fold_isoleucine: 3\n", "vocab.fold_isoleucine"),
        ("vocab:\n  variable_mods: M+15.995\n", "vocab.variable_mods"),
        ("vocab:\n  variable_mods: [1, 2]\n", "vocab.variable_mods"),
        ("vocab:\n  variable_mods: [X+1]\n", "X+1"),
        ("data:\n  min_mz: 3000\n", "min_mz"),
        ("data:\n  min_charge: 0\n", "min_charge"),
        ("data:\n  n_peaks: 0\n", "n_peaks"),
        ("decode:\n  rival_beam: -1\n", "decode.rival_beam"),
        ("decode:\n  evidence_beam: -1\n", "decode.evidence_beam"),
        ("decode:\n  evidence_weight: -1\n", "decode.evidence_weight"),
        ("decode:\n  evidence_weight: .inf\n", "decode.evidence_weight"),
        ("- a\n- b\n", "mapping"),
        ("data: 5\n", "data"),
        ("data: [1, 2]\n", "data"),
        ("data: text\n", "data"),
        (": : :\n  - [\n", "YAML"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        cfg.load(path)
    assert str(path) in str(info.value)
    assert words in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("value", ["[]", "0", "false", "''"])
def test_empty_but_wrongly_typed_section_is_rejected(tmp_path: Path, value: str) -> None:
    # A section must be a mapping; an empty list, 0 or false is as wrong as 5.
    path = tmp_path / "bad.yaml"
    path.write_text(f"data: {value}\n")
    with pytest.raises(ConfigError, match="data"):
        cfg.load(path)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nothere.yaml"):
        cfg.load(tmp_path / "nothere.yaml")


def test_invalid_values_in_code() -> None:
    with pytest.raises(ConfigError):
        cfg.DataConfig(min_mz=10.0, max_mz=5.0)
    with pytest.raises(ConfigError):
        cfg.DataConfig(min_peaks=200, n_peaks=150)
    with pytest.raises(ConfigError):
        cfg.DataConfig(min_charge=3, max_charge=2)
    with pytest.raises(ConfigError):
        cfg.DataConfig(remove_precursor_tol_da=-1.0)


def test_a_renamed_key_names_its_new_name(tmp_path) -> None:
    path = tmp_path / "old.yaml"
    path.write_text("model:\n  max_length: 25\n")
    with pytest.raises(ConfigError, match=r"model\.max_length is now called model\.max_tokens"):
        cfg.load(path)


def test_checkpoints_with_old_key_names_are_upgraded() -> None:
    raw = cfg.to_dict(cfg.Config())
    raw["model"]["max_length"] = raw["model"].pop("max_tokens")
    assert cfg.from_dict(cfg.upgrade(raw)) == cfg.Config()
    assert "max_length" in raw["model"]  # the stored dict is left as it was


SHIPPED_CONFIGS = sorted((Path(__file__).parents[2] / "configs").glob("*.yaml"))


def test_shipped_configs_are_found() -> None:
    """Guards the test below, which a wrong folder would turn into an empty, skipped one."""
    assert len(SHIPPED_CONFIGS) >= 4


@pytest.mark.parametrize("path", SHIPPED_CONFIGS, ids=lambda p: p.name)
def test_shipped_configs_load(path: Path) -> None:
    """The configurations the docs tell users to run are valid (a misspelt key is an error)."""
    loaded = cfg.load(path)
    assert loaded.train.curriculum[-1] == "realistic"  # every recipe ends on the realistic preset
