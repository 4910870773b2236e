"""Learning curve of `trmseq train` on a CPU budget (issue 6).

Trains with a configuration (default: trmseq's defaults) for --minutes of training time,
validating the EMA weights every --every minutes on a fixed synthetic test set (never trained
on: a separate seed and file), with the same mass-constrained decoding as `trmseq predict`.
Validation pauses the training clock. Prints a markdown table and writes a PNG.

    python benchmarks/learning_curve.py --minutes 60 --every 5 --out runs/curve
    python benchmarks/learning_curve.py --minutes 20 --every 5 --set model.n_sup=1 --out runs/t1
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import time
from pathlib import Path

import yaml


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="training time budget")
    parser.add_argument("--every", type=float, default=5.0, help="validate every this many minutes")
    parser.add_argument("--out", type=Path, required=True, help="run folder")
    parser.add_argument("--preset", default="moderate", help="preset of the test set")
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--test-seed", type=int, default=20261127)
    parser.add_argument("--seed", type=int, default=0, help="training seed")
    parser.add_argument("--config", type=Path, help="start from this YAML instead of the defaults")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="override one setting (YAML value), repeatable")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    test = args.out / f"test_{args.preset}_{args.n_test}_seed{args.test_seed}.mgf"
    if not test.exists():
        subprocess.run(["trmseq", "generate", "--n", str(args.n_test), "--preset", args.preset,
                        "--seed", str(args.test_seed), "-o", str(test)], check=True)
    config = yaml.safe_load(args.config.read_text()) if args.config else {}
    config = config or {}
    for item in args.set:
        key, value = item.split("=", 1)
        section, name = key.split(".", 1)
        config.setdefault(section, {})[name] = yaml.safe_load(value)
    config.setdefault("train", {})
    config["train"].update(max_minutes=args.minutes, max_steps=10**9, val_every_minutes=args.every)
    cfg_path = args.out / "config.yaml"
    cfg_path.write_text(yaml.safe_dump(config))

    start = time.perf_counter()
    subprocess.run(["trmseq", "train", "--config", str(cfg_path), "--val", str(test),
                    "--seed", str(args.seed), "-o", str(args.out / "run"), "--device", "cpu"],
                   check=True)
    wall = time.perf_counter() - start
    rows = [r for r in csv.DictReader(open(args.out / "run" / "metrics.csv")) if r["val_peptide_recall"]]
    print(f"\ntest set: {test.name}; training budget {args.minutes:g} min, wall time {wall / 60:.1f} min")
    print("| training min | step | AA precision | AA recall | peptide recall | fits precursor "
          "| greedy peptide recall, step 1 -> last |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {float(r['elapsed_s']) / 60:.1f} | {r['step']} | {float(r['val_aa_precision']):.3f} "
              f"| {float(r['val_aa_recall']):.3f} | {float(r['val_peptide_recall']):.3f} "
              f"| {float(r['val_fits_precursor']):.3f} | {float(r['val_peptide_recall_step1']):.3f}"
              f" -> {float(r['val_peptide_recall_last_step']):.3f} |")
    plot(rows, args.out / "learning_curve.png")


def plot(rows: list[dict], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot", file=sys.stderr)
        return
    minutes = [float(r["elapsed_s"]) / 60 for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label in (("val_aa_precision", "AA precision"), ("val_aa_recall", "AA recall"),
                       ("val_peptide_recall", "peptide recall"),
                       ("val_fits_precursor", "fits precursor")):
        ax.plot(minutes, [float(r[key]) for r in rows], "o-", label=label)
    ax.set(xlabel="training time (min, 2 CPU cores)", ylim=(0, 1), title="trmseq train: learning curve")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
