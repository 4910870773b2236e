"""Real-test accuracy of a training run's checkpoints: the learning curve against training time.

Scores each checkpoint given (copies of a run's ``last.ckpt`` taken as it trained, or the
bundled model) with `trmseq evaluate` on annotated spectra never trained on, with `predict`'s
decoding, and prints one markdown row per checkpoint: its training step and minutes (from the
checkpoint), AA precision, peptide recall, and peptide recall of 2+ and 3+ precursors.

    python benchmarks/split_real_dev.py --out runs/real
    python benchmarks/real_curve.py runs/real/test.mgf src/trmseq/weights/default.ckpt runs/ft2/snap_*.ckpt
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from trmseq import checkpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("test", type=Path, help="annotated spectra never trained on")
    parser.add_argument("checkpoints", type=Path, nargs="+")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    print("| checkpoint | step | minutes of this run | AA precision | peptide recall | 2+ | 3+ |")
    print("|---|---|---|---|---|---|---|")
    for ckpt in args.checkpoints:
        payload = checkpoint.load(ckpt)
        seconds = (payload.get("train_state") or {}).get("elapsed_s")  # of this run; None: exported
        with tempfile.TemporaryDirectory() as tmp:
            report = Path(tmp) / "report.json"
            subprocess.run([sys.executable, "-m", "trmseq", "evaluate", str(args.test), "--model", str(ckpt),
                            "--threads", str(args.threads), "--json", str(report)],
                           check=True, capture_output=True)  # fmt: skip
            r = json.loads(report.read_text())
        m, z = r["metrics"], r["by_charge"]
        when = f"{seconds / 60:.0f}" if seconds is not None else "-"
        print(f"| {ckpt.name} | {payload.get('step', '-')} | {when} | {m['aa_precision']:.3f} "
              f"| {m['peptide_recall']:.3f} | {z.get('2', {}).get('peptide_recall', 0):.3f} "
              f"| {z.get('3', {}).get('peptide_recall', 0):.3f} |", flush=True)


if __name__ == "__main__":
    main()
