"""The training log: one CSV row per logged step or validation (and TensorBoard if installed)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

CSV_FIELDS = [
    "step", "elapsed_s", "lr", "loss", "seq_loss", "token_acc", "exact", "halt_acc",
    "steps_run", "spectra_per_s", "presets", "max_length", "n_sup", "val_aa_precision",
    "val_aa_recall", "val_peptide_recall", "val_peptide_precision", "val_fits_precursor",
    "val_peptide_recall_step1", "val_peptide_recall_last_step",
]  # fmt: skip


def mean_row(rows: list[dict]) -> dict[str, float]:
    keys = rows[0].keys() if rows else []
    return {k: float(np.mean([r[k] for r in rows])) for k in keys}


class CsvLog:
    """Append metric rows to a CSV (and to TensorBoard when it is installed)."""

    def __init__(self, path: Path, enabled: bool, append: bool) -> None:
        self.enabled = enabled
        self.path = path
        self.tb = None
        if not enabled:
            return
        if not append or not path.exists():
            with open(path, "w", newline="") as f:
                csv.DictWriter(f, CSV_FIELDS).writeheader()
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(str(path.parent / "tensorboard"))
        except ImportError:
            pass

    def write(self, row: dict[str, Any]) -> None:
        if not self.enabled:
            return
        with open(self.path, "a", newline="") as f:
            csv.DictWriter(f, CSV_FIELDS, extrasaction="ignore").writerow(
                {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()}
            )
        if self.tb is not None:
            for k, v in row.items():
                if isinstance(v, (int, float)) and k != "step":
                    self.tb.add_scalar(k, v, int(row["step"]))
