"""Options that several commands share, and applying them to a configuration."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Annotated, Any

import typer

from trmseq import config as config_mod
from trmseq.errors import ConfigError
from trmseq.terminal import err

LabelsOption = Annotated[list[Path] | None, typer.Option("--labels", metavar="FILE", help=(
    "Search results that label the spectra instead of SEQ=: pepXML, mzIdentML, mzTab or TSV (repeatable)."))]
MaxQOption = Annotated[float, typer.Option("--max-q", min=0.0, max=1.0, help="With --labels: the highest q-value.")]
MaxExpectOption = Annotated[float, typer.Option("--max-expect", min=0.0, help=(
    "With --labels, for files without q-values (Comet pepXML): the highest expect value."))]

DeviceOption = Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:N or mps.")]
NSupOption = Annotated[
    int | None, typer.Option(min=1, help="Recursion depth (default: the model's).")
]
HaltingOption = Annotated[
    bool | None,
    typer.Option("--halting/--no-halting", help="Stop refining once the model is confident."),
]
RerankOption = Annotated[
    int | None,
    typer.Option(min=1, help=(
        "Re-rank the search's first N candidates by the calibrated probability (default 5; 1: off).")),
]


def _above_zero(value: float | None) -> float | None:
    if value is not None and not 0 < value < math.inf:  # also refuses nan
        raise typer.BadParameter("must be above 0 and finite")
    return value


ToleranceOption = Annotated[
    float | None, typer.Option(callback=_above_zero, help="Precursor tolerance in ppm, above 0 (default 50).")
]
ModelOption = Annotated[
    Path | None,
    typer.Option("--model", "-m", help="Checkpoint (default: $TRMSEQ_MODEL, else the bundled model)."),
]


def apply_changes(cfg: config_mod.Config, section: str, **changes: Any) -> config_mod.Config:
    """Return ``cfg`` with the given (non-None) fields of one section changed."""
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        return cfg
    try:
        new = dataclasses.replace(getattr(cfg, section), **changes)
        return dataclasses.replace(cfg, **{section: new})
    except TypeError as e:  # pragma: no cover - options and fields are kept in step
        raise ConfigError(str(e)) from None


def load_decode_config(path: Path | None) -> config_mod.Config | None:
    """Load ``--config`` for a command that runs a checkpoint, which takes only its decode section.

    The vocabulary, preprocessing and network come from the checkpoint (they must match its
    weights), so a file that sets them gets a warning instead of being silently half-applied.
    """
    if path is None:
        return None
    cfg = config_mod.load(path)
    default = config_mod.Config()
    ignored = [f.name for f in dataclasses.fields(cfg) if f.name != "decode"
               and getattr(cfg, f.name) != getattr(default, f.name)]  # fmt: skip
    if ignored:
        err.print(f"warning: {path}: only its decode section applies here; the model's checkpoint sets "
                  f"{', '.join(ignored)}", highlight=False)  # fmt: skip
    return cfg
