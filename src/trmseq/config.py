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
from trmseq.presets import PRESETS
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
class ModelConfig:
    """Sizes and mechanisms of the network; every checkpoint carries this section."""

    d_model: int = _opt(128, "width of every state")
    n_heads: int = _opt(4, "attention heads")
    n_encoder_layers: int = _opt(2, "transformer layers over the peaks")
    n_core_layers: int = _opt(2, "layers of the one recursive network (TRM uses 2)")
    mlp_expansion: float = _opt(2.0, "SwiGLU hidden size / d_model")
    n_slots: int = _opt(40, "output slots (CTC); must exceed max_tokens")
    max_tokens: int = _opt(31, "longest peptide in tokens (residues + N-terminal modification)")
    l_cycles: int = _opt(1, "n: latent updates per cycle")
    h_cycles: int = _opt(1, "T: cycles per supervision step; all but the last without gradient")
    n_sup: int = _opt(3, "N_sup: supervision steps (refinements) per spectrum; inference too, unless decode.n_sup")
    min_wavelength: float = _opt(0.001, "shortest m/z sinusoid wavelength (Da)")
    max_wavelength: float = _opt(10000.0, "longest m/z sinusoid wavelength (Da)")
    match_tol_da: float = _opt(0.02, "peak-matching tolerance of the physics features (Da)")
    graph_features: bool = _opt(True, "give each peak its spectrum-graph edges")
    draft_feedback: bool = _opt(True, "feed the draft's b/y evidence into each latent update")
    evidence_head: bool = _opt(True, "add a per-residue score of that evidence to the logits")
    initial_draft: str = _opt("physics", "first draft: physics (a greedy walk along the b/y ladder) or blank")
    answer_feedback: str = _opt(
        "state", "state (full-width y) or soft_embedding (the seed's softmax @ embedding)"
    )
    loss: str = _opt("ctc", "ctc (alignment-free) or positional (fixed positions, for ablation)")

    def __post_init__(self) -> None:
        _check(self.d_model % self.n_heads == 0, "model.d_model divisible by model.n_heads")
        _check(self.d_model % 2 == 0, "even model.d_model")
        _check(self.n_slots > self.max_tokens >= 1, "model.n_slots > model.max_tokens >= 1")
        for name in ("n_encoder_layers", "n_core_layers", "l_cycles", "h_cycles", "n_sup"):
            _check(getattr(self, name) >= 1, f"model.{name} >= 1")
        _check(self.match_tol_da > 0, "model.match_tol_da > 0")
        _check(self.answer_feedback in ("state", "soft_embedding"),
               "model.answer_feedback in {state, soft_embedding}")  # fmt: skip
        _check(self.loss in ("ctc", "positional"), "model.loss in {ctc, positional}")
        _check(self.initial_draft in ("physics", "blank"), "model.initial_draft in {physics, blank}")
        _check(self.draft_feedback or not self.evidence_head,
               "model.evidence_head needs model.draft_feedback")  # fmt: skip


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation, curriculum and bookkeeping of `trmseq train`."""

    batch_size: int = _opt(64, "spectra per optimizer step (per process under torchrun)")
    lr: float = _opt(2e-3, "peak learning rate (AdamW)")
    weight_decay: float = _opt(0.01, "AdamW weight decay")
    warmup_steps: int = _opt(50, "linear warm-up, then cosine decay to 10% of lr")
    max_steps: int = _opt(50_000, "stop after this many optimizer steps")
    max_minutes: float = _opt(0.0, "also stop after this much wall time (0: no limit)")
    grad_clip: float = _opt(1.0, "clip the gradient norm to this")
    ema_decay: float = _opt(0.999, "EMA of the weights, used for validation and saved")
    label_smoothing: float = _opt(0.0, "mix this much of a uniform-target loss into the sequence loss")
    viterbi_weight: float = _opt(0.5, "weight of cross-entropy on the best CTC alignment (peaky outputs)")
    supervision_weighting: str = _opt("uniform", "weight of step k's loss: uniform, linear, exponential")
    spectrum_loss_weight: float = _opt(0.0, "weight of the seed's spectrum-matching loss (ablation)")
    halting: bool = _opt(True, "train the halting head; stop supervising samples it halts")
    full_backprop: bool = _opt(False, "backpropagate through every cycle (the seed's scheme; ablation)")
    depth_warmup: float = _opt(0.5, "fraction of training run at T=1, n=1, N_sup=1 first")
    draft_teacher: float = _opt(0.5, "share of spectra whose first step starts from a corrupted true draft")
    draft_noise: float = _opt(0.5, "highest corruption rate of those drafts (substitutions, indels)")
    curriculum: tuple[str, ...] = _opt(("clean", "moderate", "hard"), "synthetic presets, in order")
    curriculum_until: tuple[float, ...] = _opt((0.1, 0.3), "fraction of training at which each stage but the last ends")
    min_length: int = _opt(6, "shortest synthetic peptide (residues)")
    start_length: int = _opt(12, "longest synthetic peptide at the start; grows to max_length")
    max_length: int = _opt(30, "longest synthetic peptide (residues) once the curriculum ends")
    mod_rate: float = _opt(0.15, "chance that a synthetic residue carries its variable modification")
    nterm_rate: float = _opt(0.05, "chance of a synthetic N-terminal modification")
    synthetic_fraction: float = _opt(0.5, "with --train files: share of synthetic spectra per batch")
    real_variants: float = _opt(0.0, "share of the real spectra replaced by a variant with 1-2 residues substituted")
    teacher_bank: str | None = _opt(None, "file of peptides with b/y intensities from a teacher model "
                                          "(benchmarks/ms2pip_bank.py): synthetic peptides come from it "
                                          "and `realistic` takes its intensities")
    val_every: int = _opt(500, "validate every this many steps")
    val_every_minutes: float = _opt(0.0, "validate every this many minutes instead (0: use val_every)")
    val_size: int = _opt(512, "synthetic validation spectra when no --val files are given")
    val_preset: str = _opt("moderate", "preset of the synthetic validation set")
    checkpoint_every: int = _opt(500, "write last.ckpt every this many steps")
    log_every: int = _opt(20, "write a metrics row every this many steps")
    workers: int = _opt(0, "processes preparing batches ahead (0: in the training loop; use several on a GPU)")

    def __post_init__(self) -> None:
        for name in ("batch_size", "max_steps", "val_every", "val_size", "checkpoint_every",
                     "log_every"):  # fmt: skip
            _check(getattr(self, name) >= 1, f"train.{name} >= 1")
        _check(self.min_length >= 2, "train.min_length >= 2 (a peptide needs two residues to fragment)")
        _check(self.lr > 0 and self.weight_decay >= 0, "train.lr > 0 and train.weight_decay >= 0")
        _check(self.warmup_steps >= 0 and self.max_minutes >= 0 and self.val_every_minutes >= 0,
               "non-negative train.warmup_steps, train.max_minutes, train.val_every_minutes")  # fmt: skip
        _check(0 <= self.ema_decay < 1, "0 <= train.ema_decay < 1")
        _check(0 <= self.label_smoothing < 1, "0 <= train.label_smoothing < 1")
        _check(self.viterbi_weight >= 0, "train.viterbi_weight >= 0")
        _check(self.supervision_weighting in ("uniform", "linear", "exponential"),
               "train.supervision_weighting in {uniform, linear, exponential}")  # fmt: skip
        _check(0 <= self.depth_warmup <= 1, "0 <= train.depth_warmup <= 1")
        _check(0 <= self.draft_teacher <= 1 and 0 <= self.draft_noise <= 1,
               "train.draft_teacher and train.draft_noise within [0, 1]")  # fmt: skip
        _check(len(self.curriculum) >= 1, "at least one train.curriculum preset")
        unknown = [p for p in (*self.curriculum, self.val_preset) if p not in PRESETS]
        _check(not unknown, f"presets from {sorted(PRESETS)} (got {unknown})")
        _check(len(self.curriculum_until) == len(self.curriculum) - 1,
               "one train.curriculum_until entry per curriculum stage but the last")  # fmt: skip
        _check(list(self.curriculum_until) == sorted(self.curriculum_until)
               and all(0 <= u <= 1 for u in self.curriculum_until),
               "train.curriculum_until increasing within [0, 1]")  # fmt: skip
        _check(self.min_length <= self.start_length <= self.max_length,
               "train.min_length <= train.start_length <= train.max_length")  # fmt: skip
        _check(0 <= self.mod_rate <= 1 and 0 <= self.nterm_rate <= 1, "rates within [0, 1]")
        _check(0 <= self.synthetic_fraction <= 1, "0 <= train.synthetic_fraction <= 1")
        _check(0 <= self.real_variants <= 1, "0 <= train.real_variants <= 1")
        _check(self.workers >= 0, "train.workers >= 0")


@dataclass(frozen=True)
class DecodeConfig:
    """How `trmseq predict` and `trmseq evaluate` turn model outputs into peptides."""

    precursor_tol_ppm: float = _opt(50.0, "a peptide fits the precursor within this many ppm")
    isotopes: tuple[int, ...] = _opt((0, 1), "precursor isotope offsets (13C peaks) to accept")
    mass_control: bool = _opt(True, "search for the best peptide that fits the precursor when greedy does not")
    beam: int = _opt(256, "states kept per slot by the mass-constrained search")
    top_k: int = _opt(1, "candidates reported per spectrum")
    rerank: int = _opt(5, "search candidates re-ranked by the calibrated probability; 1: the search's order")
    rival_beam: int = _opt(32, "with a calibrated model: beam of a second search that keeps 3 peptides per "
                           "state, adding same-mass rivals (swapped residues) to the candidates; 0: none")
    evidence_beam: int = _opt(64, "with a calibrated model: beam of a search that favours residues whose prefix "
                              "mass a b or y peak supports, adding the peptides the spectrum supports to the "
                              "candidates; 0: none")
    evidence_weight: float = _opt(4.0, "score (log-probability) that search adds per residue a peak supports; "
                                  "0: no such search")
    n_sup: int = _opt(0, "supervision steps at inference instead of model.n_sup; 0: model.n_sup")
    halting: bool = _opt(True, "stop refining a spectrum once the halting head says it is right")
    batch_size: int = _opt(128, "spectra per forward pass")

    def __post_init__(self) -> None:
        _check(0 < self.precursor_tol_ppm < float("inf"), "decode.precursor_tol_ppm > 0 and finite")
        _check(len(self.isotopes) >= 1 and all(-2 <= k <= 5 for k in self.isotopes),
               "decode.isotopes: one or more offsets within -2..5")  # fmt: skip
        _check(self.beam >= 1 and self.top_k >= 1 and self.rerank >= 1 and self.batch_size >= 1,
               "decode.beam, decode.top_k, decode.rerank and decode.batch_size >= 1")  # fmt: skip
        _check(self.n_sup >= 0, "decode.n_sup >= 0")
        _check(self.rival_beam >= 0, "decode.rival_beam >= 0 (0: no search for rivals)")
        _check(self.evidence_beam >= 0, "decode.evidence_beam >= 0 (0: no search guided by the peaks)")
        _check(0 <= self.evidence_weight < float("inf"), "decode.evidence_weight >= 0 and finite")


@dataclass(frozen=True)
class Config:
    """Everything trmseq can be configured with."""

    vocab: VocabConfig = field(default_factory=VocabConfig)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    decode: DecodeConfig = field(default_factory=DecodeConfig)

    def __post_init__(self) -> None:
        _check(self.train.max_length + 1 <= self.model.max_tokens,
               "train.max_length + 1 (an N-terminal modification) <= model.max_tokens")  # fmt: skip


# Keys renamed since they were first written: old YAML files get an error naming the new key,
# old checkpoints are upgraded when read (:func:`upgrade`).
RENAMED = {"model.max_length": "model.max_tokens"}


def upgrade(raw: dict[str, Any]) -> dict[str, Any]:
    """Return a config dict with renamed keys under their new names (for stored checkpoints)."""
    raw = {k: dict(v) if isinstance(v, dict) else v for k, v in raw.items()}
    for old, new in RENAMED.items():
        (section, key), (_, new_key) = old.split("."), new.split(".")
        if isinstance(raw.get(section), dict) and key in raw[section]:
            raw[section][new_key] = raw[section].pop(key)
    return raw


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
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not a UTF-8 text file (byte {e.start}); expected YAML") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from None
    try:
        return from_dict(raw or {})
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None


def from_dict(raw: dict[str, Any], cls: type = Config, where: str = "") -> Any:
    """Build a config dataclass from nested dicts, checking keys and types."""
    if not isinstance(raw, dict):
        raise ConfigError(f"section {where.rstrip('.') or 'top level'} must be a mapping")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    renamed = [k for k in unknown if where + k in RENAMED]
    if renamed:
        old = where + renamed[0]
        raise ConfigError(f"{old} is now called {RENAMED[old]} (same meaning); rename the key")
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
            values[name] = from_dict({} if value is None else value, hint, f"{where}{name}.")
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
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            raise ConfigError(
                f"{key} must be a string, got the number {value!r}; quote it, e.g. '+42.011'"
            )
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
