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
