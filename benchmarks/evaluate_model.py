"""Accuracy of a model on held-out sets (issue 5): synthetic presets and real spectra by source.

Synthetic test sets: 1,000 spectra per preset from `trmseq generate` with fixed seeds (never
trained on: training draws its spectra from a different random stream). Real test set: the
test side of `split_real_dev.py` (KIND single and best-of-library; no peptide of it is in
the training side), evaluated whole and per SOURCE. Each set is one `trmseq evaluate` run;
the JSON reports land in --out. Prints markdown tables.

    python benchmarks/evaluate_model.py --out runs/eval                # the bundled model
    python benchmarks/evaluate_model.py --model runs/x/best.ckpt --out runs/eval-x
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from collections import defaultdict
from pathlib import Path

PRESETS = {"clean": 9001, "moderate": 9002, "hard": 9003, "realistic": 9004}


def split_by_source(path: Path, out: Path) -> dict[str, Path]:
    """Write one MGF per SOURCE= value; return {source: path}."""
    blocks: dict[str, list[str]] = defaultdict(list)
    block: list[str] = []
    for line in path.read_text().splitlines(keepends=True):
        block.append(line)
        if line.startswith("END IONS"):
            text = "".join(block)
            source = re.search(r"^SOURCE=(.*)$", text, re.M)
            blocks[source.group(1).strip() if source else "?"].append(text)
            block = []
    files = {}
    for source, texts in sorted(blocks.items()):
        files[source] = out / f"real_test_{re.sub(r'[^A-Za-z0-9_-]', '_', source)}.mgf"
        files[source].write_text("".join(texts))
    return files


def evaluate(files: list[Path], model: Path | None, report: Path, device: str) -> dict:
    cmd = ["trmseq", "evaluate", *map(str, files), "--json", str(report), "--device", device]
    if model is not None:
        cmd += ["--model", str(model)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(report.read_text())


def row(name: str, r: dict) -> str:
    m, fdr = r["metrics"], r["peptide_recall_at_fdr"]
    steps = " -> ".join(f"{s['peptide_recall']:.3f}" for s in r["per_recursion_step"])
    return (f"| {name} | {m['n_spectra']:,} | {m['aa_precision']:.3f} | {m['aa_recall']:.3f} "
            f"| {m['peptide_recall']:.3f} | {r['precision_coverage_auc']:.3f} "
            f"| {fdr['1%']['recall']:.3f} "
            f"| {r['fits_precursor'] / max(1, m['n_spectra']):.3f} | {steps} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="checkpoint (default: the bundled model)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--real-test", type=Path, default=Path("runs/real/test.mgf"))
    parser.add_argument("--n", type=int, default=1000, help="spectra per synthetic preset")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    sets: list[tuple[str, list[Path]]] = []
    for preset, seed in PRESETS.items():
        path = args.out / f"test_{preset}_{args.n}_seed{seed}.mgf"
        if not path.exists():
            subprocess.run(["trmseq", "generate", "--n", str(args.n), "--preset", preset, "--seed",
                            str(seed), "-o", str(path)], check=True, capture_output=True)
        sets.append((f"synthetic {preset}", [path]))
    if args.real_test.exists():
        sets.append(("real test, all sources", [args.real_test]))
        sets += [(f"real test, {s}", [p]) for s, p in split_by_source(args.real_test, args.out).items()]

    print("| test set | spectra | AA precision | AA recall | peptide recall | PC area "
          "| peptide recall at 1% FDR | fits precursor | peptide recall per step |")
    print("|---|---|---|---|---|---|---|---|---|")
    reports = {}
    for name, files in sets:
        report = args.out / (re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_") + ".json")
        reports[name] = evaluate(files, args.model, report, args.device)
        print(row(name, reports[name]), flush=True)

    print("\nPeptide recall by length (synthetic realistic, real test):")
    print("| length | " + " | ".join(n for n in ("synthetic realistic", "real test, all sources")) + " |")
    print("|---|---|---|")
    real = reports.get("real test, all sources", {}).get("by_length", {})
    for length, v in reports["synthetic realistic"]["by_length"].items():
        r = real.get(length)
        other = f"{r['peptide_recall']:.3f} (n={r['n_spectra']})" if r else "-"
        print(f"| {length} | {v['peptide_recall']:.3f} (n={v['n_spectra']}) | {other} |")


if __name__ == "__main__":
    main()
