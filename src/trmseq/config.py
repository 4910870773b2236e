"""Configuration: one tree of frozen dataclasses with defaults in code, loaded from YAML.

Missing keys take their defaults; unknown keys are an error that names them. Every field has a
one-line help text (``metadata["help"]``) that :func:`dump` writes as a comment.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from trmseq.errors import ConfigError, PeptideError
from trmseq.vocab import DEFAULT_FIXED_MODS, DEFAULT_VARIABLE_MODS, Vocabulary


def _opt(default: Any, help: str) -> Any:  # noqa: A002
    if isinstance(default, (list, tuple)):
        return field(default=tuple(default), metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class VocabConfig:
    """Residues and modifications."""

    fixed_mods: tuple[str, ...] = _opt(DEFAULT_FIXED_MODS, "on every copy of the residue")
    variable_mods: tuple[str, ...] = _opt(
        DEFAULT_VARIABLE_MODS,
        "residue+delta or N-terminal delta; add S+79.966, T+79.966, Y+79.966 for phospho",
    )
    fold_isoleucine: bool = _opt(True, "read I as L (same mass)")

    def __post_init__(self) -> None:
        try:
            self.build()
        except PeptideError as e:
            raise ConfigError(f"invalid vocab: {e}") from None

    def build(self) -> Vocabulary:
        """Return the :class:`~trmseq.vocab.Vocabulary` this section describes."""
        return Vocabulary(self.fixed_mods, self.variable_mods, self.fold_isoleucine)


@dataclass(frozen=True)
class DataConfig:
    """Which spectra are used and how their peaks are prepared."""

    min_mz: float = _opt(50.0, "drop peaks below this m/z")
    max_mz: float = _opt(2500.0, "drop peaks above this m/z")
    remove_precursor_tol_da: float = _opt(2.0, "drop peaks this close to the precursor m/z (Da)")
    n_peaks: int = _opt(150, "keep this many most intense peaks")
    min_peaks: int = _opt(20, "skip spectra with fewer peaks left")
    min_charge: int = _opt(1, "skip spectra with a lower precursor charge")
    max_charge: int = _opt(4, "skip spectra with a higher precursor charge")

    def __post_init__(self) -> None:
        _check(self.min_mz >= 0 and self.max_mz > self.min_mz, "data.min_mz < data.max_mz")
        _check(self.remove_precursor_tol_da >= 0, "data.remove_precursor_tol_da >= 0")
        _check(self.n_peaks >= 1, "data.n_peaks >= 1")
        _check(0 <= self.min_peaks <= self.n_peaks, "0 <= data.min_peaks <= data.n_peaks")
        _check(1 <= self.min_charge <= self.max_charge, "1 <= data.min_charge <= data.max_charge")


@dataclass(frozen=True)
class Config:
    """Everything trmseq can be configured with."""

    vocab: VocabConfig = field(default_factory=VocabConfig)
    data: DataConfig = field(default_factory=DataConfig)


def _check(ok: bool, rule: str) -> None:
    if not ok:
        raise ConfigError(f"invalid configuration: need {rule}")


def load(path: str | Path | None = None) -> Config:
    """Read a YAML configuration file; None gives the defaults.

    Raises
    ------
    ConfigError
        If the file is missing or not YAML, a key is unknown, or a value has the wrong type.
    """
    if path is None:
        return Config()
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"{path}: cannot read configuration ({e.strerror})") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from None
    try:
        return from_dict(raw or {})
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None


def from_dict(raw: dict[str, Any], cls: type = Config, where: str = "") -> Any:
    """Build a config dataclass from nested dicts, checking keys and types."""
    if not isinstance(raw, dict):
        raise ConfigError(f"section {where or 'top level'} must be a mapping")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        known = ", ".join(fields)
        raise ConfigError(
            f"unknown key(s) {', '.join(where + k for k in unknown)}; known here: {known}"
        )
    hints = typing.get_type_hints(cls)
    values = {}
    for name, value in raw.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            values[name] = from_dict(value or {}, hint, f"{where}{name}.")
        else:
            values[name] = _coerce(value, hint, where + name)
    return cls(**values)


def _coerce(value: Any, hint: Any, key: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        hint = next(a for a in options if a is not type(None))
        origin = typing.get_origin(hint)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key} must be a list, got {value!r}")
        item = typing.get_args(hint)[0]
        return tuple(_coerce(v, item, key) for v in value)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key} must be true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key} must be an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key} must be a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key} must be a string, got {value!r}")
        return value
    return value


def to_dict(config: Any) -> dict[str, Any]:
    """Return the config as plain nested dicts and lists (for YAML and checkpoints)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            out[f.name] = to_dict(value)
        elif isinstance(value, tuple):
            out[f.name] = list(value)
        else:
            out[f.name] = value
    return out


def dump(config: Config | None = None) -> str:
    """Return YAML text with every key and a one-line comment on each."""
    config = config or Config()
    lines = ["# trmseq configuration; every key is optional (missing keys take these defaults)."]
    for section in dataclasses.fields(config):
        value = getattr(config, section.name)
        lines.append("")
        lines.append(f"{section.name}:  # {type(value).__doc__.strip().splitlines()[0]}")
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            item = list(item) if isinstance(item, tuple) else item
            text = yaml.safe_dump(item, default_flow_style=True, width=10_000).strip()
            text = text.removesuffix("\n...").removesuffix("...").strip()
            lines.append(f"  {f.name}: {text}  # {f.metadata.get('help', '')}")
    return "\n".join(lines) + "\n"
