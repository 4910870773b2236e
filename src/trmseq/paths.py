"""Where trmseq keeps its files: platformdirs locations, overridable by environment variables.

``TRMSEQ_DATA_DIR`` moves training runs (default: the user data dir, e.g.
``~/.local/share/trmseq`` on Linux); useful on clusters where home is small.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import platformdirs


def data_dir() -> Path:
    """Return the folder for trmseq's data (training runs)."""
    return Path(os.environ.get("TRMSEQ_DATA_DIR") or platformdirs.user_data_dir("trmseq", False))


def new_run_dir() -> Path:
    """Return a fresh, timestamped folder under ``data_dir()/runs``."""
    return data_dir() / "runs" / datetime.now().strftime("%Y%m%d-%H%M%S")


def bundled_model() -> Path | None:
    """The default model shipped inside the package, if this installation has one."""
    from importlib.resources import files

    resource = files("trmseq") / "weights" / "default.ckpt"
    return Path(str(resource)) if resource.is_file() else None


def resolve_model(path: str | Path | None = None) -> Path:
    """The checkpoint to use: ``path``, else ``$TRMSEQ_MODEL``, else the bundled default.

    Raises
    ------
    CheckpointError
        If none of these names a model.
    """
    from trmseq.errors import CheckpointError

    chosen = path or os.environ.get("TRMSEQ_MODEL") or bundled_model()
    if chosen is None:
        raise CheckpointError(
            "no model: pass --model CHECKPOINT (this installation has no bundled default model)"
        )
    return Path(chosen)
