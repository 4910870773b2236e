"""Self-describing checkpoints: weights plus the full configuration that rebuilds the model.

Files are written atomically and read with ``torch.load(weights_only=True)``, which refuses to
run code from the file. A missing, truncated, corrupt or foreign file raises
:class:`~trmseq.errors.CheckpointError` with one line saying which.
"""

from __future__ import annotations

import pickle
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch

from trmseq import __version__
from trmseq import config as config_mod
from trmseq.confidence import Calibrator
from trmseq.config import Config
from trmseq.errors import CheckpointError, ConfigError
from trmseq.io.atomic import atomic_write
from trmseq.model.trm import TRM
from trmseq.tokenizer import Tokenizer

FORMAT = "trmseq-checkpoint"
VERSION = 1


def save(
    path: str | Path,
    config: Config,
    weights: dict[str, torch.Tensor],
    step: int,
    metrics: dict[str, float] | None = None,
    train_state: dict[str, Any] | None = None,
    calibration: Calibrator | None = None,
) -> None:
    """Write a checkpoint atomically.

    Parameters
    ----------
    weights
        The weights to predict with (the EMA during training).
    train_state
        Everything needed to resume training exactly (raw weights, optimizer, RNG, position);
        None for a checkpoint meant only for prediction.
    """
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "trmseq_version": __version__,
        "config": config_mod.to_dict(config),
        "weights": {k: v.detach().cpu() for k, v in weights.items()},
        "step": int(step),
        "metrics": dict(metrics or {}),
    }
    if train_state is not None:
        payload["train_state"] = train_state
    if calibration is not None:  # only for these weights: training does not carry it over
        payload["calibration"] = calibration.to_dict()
    with atomic_write(path, "wb") as handle:
        torch.save(payload, handle)


def load(path: str | Path) -> dict[str, Any]:
    """Read and check a checkpoint file (on the CPU).

    Raises
    ------
    CheckpointError
        If the file is missing, truncated, corrupt, not a trmseq checkpoint, from a newer
        format, or holds an invalid configuration.
    """
    path = Path(path)
    if path.is_dir():
        hint = "; a training run's model is its best.ckpt" if (path / "best.ckpt").exists() else ""
        raise CheckpointError(f"{path}: is a folder, not a checkpoint file{hint}")
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols of foreign files
            warnings.simplefilter("ignore")
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - unpickling garbage can raise almost anything
        raise CheckpointError(f"{path}: {_unreadable(path, e)}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: a PyTorch file, but not a trmseq checkpoint")
    if not isinstance(payload.get("version", 0), int):
        raise CheckpointError(f"{path}: corrupt checkpoint (format version {payload['version']!r})")
    if payload.get("version", 0) > VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format {payload['version']} is newer than this trmseq "
            f"({__version__}) understands; upgrade trmseq"
        )
    try:
        payload["config"] = config_mod.from_dict(config_mod.upgrade(payload["config"]))
    except (ConfigError, KeyError, TypeError) as e:
        raise CheckpointError(f"{path}: invalid configuration in checkpoint ({e})") from None
    return payload


def _unreadable(path: Path, error: Exception) -> str:
    """Say in domain terms why torch could not load a file as plain weights."""
    code = re.search(r"GLOBAL (\S+)", str(error)) if isinstance(error, pickle.UnpicklingError) else None
    if code:
        return (f"not a trmseq checkpoint: it holds Python objects ({code.group(1)}) that could run "
                f"code when loaded; trmseq loads plain weights only and refused it")  # fmt: skip
    with open(path, "rb") as handle:
        archive = handle.read(4) == b"PK\x03\x04"  # what torch.save writes: a zip archive
    if archive or isinstance(error, zipfile.BadZipFile):
        return "not a readable checkpoint: a damaged or truncated archive (copy it again)"
    return "not a checkpoint: a corrupt file, or another kind of file"


def calibrator(payload: dict[str, Any], path: str | Path) -> Calibrator | None:
    """The checkpoint's calibration of its scores into probabilities, if it has one."""
    raw = payload.get("calibration")
    if raw is None:
        return None
    try:
        return Calibrator.from_dict(raw)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: its calibration does not fit this trmseq ({e}); "
                              "refit it with `trmseq calibrate`") from None  # fmt: skip


def build_model(config: Config) -> tuple[TRM, Tokenizer]:
    """Return a freshly initialised model (and its tokenizer) for a configuration."""
    tokenizer = Tokenizer(config.vocab.build())
    return TRM(config.model, tokenizer), tokenizer


def load_model(path: str | Path) -> tuple[TRM, Tokenizer, Config, dict[str, Any]]:
    """Rebuild the model stored in a checkpoint, in eval mode, on the CPU.

    Returns
    -------
    model, tokenizer, config, payload
    """
    payload = load(path)
    config: Config = payload["config"]
    model, tokenizer = build_model(config)
    try:
        model.load_state_dict(payload["weights"])
    except (RuntimeError, KeyError) as e:
        first = str(e).strip().splitlines()[0][:120]
        raise CheckpointError(f"{path}: weights do not fit the model they describe ({first})") from None
    model.eval()
    return model, tokenizer, config, payload
