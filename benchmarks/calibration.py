"""Does the probability mean what it says? Calibration per source on the real test split.

Splits an annotated MGF by its SOURCE= field, runs `trmseq evaluate --json` on each part and on
the whole, and prints a markdown table: expected calibration error, estimated and true FDR at
q <= 0.05 and 0.10, peptide recall at 5% true FDR, and precision-coverage area (ranked by
probability); then one of peptide recall by source and precursor charge (right / spectra),
since one source's few peptides can carry a charge's number. The model must carry a
calibration (`trmseq calibrate`).

    python benchmarks/split_real_dev.py --out runs/real
    python benchmarks/calibration.py runs/real/test.mgf --out runs/calibration
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path


def split_by_source(mgf: Path, out: Path) -> dict[str, Path]:
    parts: dict[str, list[str]] = defaultdict(list)
    for block in mgf.read_text().split("BEGIN IONS")[1:]:
        source = next((line.split("=", 1)[1] for line in block.splitlines() if line.startswith("SOURCE=")), "?")
        parts[source].append("BEGIN IONS" + block)
    paths = {}
    for source, blocks in sorted(parts.items()):
        paths[source] = out / f"{source}.mgf"
        paths[source].write_text("".join(blocks))
    return paths


def evaluate(mgf: Path, model: str | None, out: Path) -> dict:
    report = out / f"{mgf.stem}.json"
    cmd = [sys.executable, "-m", "trmseq", "evaluate", str(mgf), "--json", str(report)]
    subprocess.run(cmd + (["--model", model] if model else []), check=True, capture_output=True)
    return json.loads(report.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mgf", type=Path)
    parser.add_argument("--model")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if not args.mgf.is_file():
        parser.error(f"{args.mgf}: no such file")
    args.out.mkdir(parents=True, exist_ok=True)
    parts = {"all sources": args.mgf, **split_by_source(args.mgf, args.out)}
    print("| test set | spectra | peptide recall | ECE | q<=0.05: accepted, est. / true FDR "
          "| q<=0.10: accepted, est. / true FDR | recall at 5% true FDR | PC area |")
    print("|---|---|---|---|---|---|---|---|")
    reports = {name: evaluate(path, args.model, args.out) for name, path in parts.items()}
    for name, r in reports.items():
        c = r["calibration"]
        fdr = {row["q"]: row for row in c["fdr"]}
        cells = [f"{fdr[q]['accepted']}, {fdr[q]['estimated_fdr']:.3f} / {fdr[q]['true_fdr']:.3f}" for q in (0.05, 0.1)]
        print(f"| {name} | {r['metrics']['n_spectra']} | {r['metrics']['peptide_recall']:.3f} "
              f"| {c['expected_calibration_error']:.3f} | {cells[0]} | {cells[1]} "
              f"| {r['peptide_recall_at_fdr']['5%']['recall']:.3f} | {r['precision_coverage_auc']:.3f} |")
    print("\n| test set | 2+: right / spectra | 3+ and above: right / spectra |")
    print("|---|---|---|")
    for name, r in reports.items():
        print(f"| {name} | {_right_of(r, lambda z: z == 2)} | {_right_of(r, lambda z: z >= 3)} |")


def _right_of(report: dict, charges) -> str:
    """Peptides right / spectra over the precursor charges ``charges`` selects ("-" if none)."""
    rows = [row for z, row in report["by_charge"].items() if charges(int(z))]
    n = sum(row["n_spectra"] for row in rows)
    right = sum(round(row["n_spectra"] * row["peptide_recall"]) for row in rows)
    return f"{right} / {n} ({right / n:.3f})" if n else "-"


if __name__ == "__main__":
    main()
