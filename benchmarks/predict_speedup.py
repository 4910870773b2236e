"""`trmseq predict` of this checkout against an older commit, side by side on the same machine.

Both run as separate processes, alternately (old, new, old, new, ...) so that a busy machine
slows both alike, on the same synthetic `realistic` spectra with the same model (the old
commit's bundled one unless --model is given), timed from start to exit with /usr/bin/time for
peak RSS. Their PSM rows are compared: the search must give the same answers.

    git worktree add /tmp/old 9267f97
    python benchmarks/predict_speedup.py --old /tmp/old --n 10000 --out runs/speedup
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path


def run(src: Path, spectra: Path, model: Path, out: Path, extra: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one `trmseq predict` with the package at ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    cmd = ["/usr/bin/time", "-f", "TIME %e %M", sys.executable, "-m", "trmseq", "predict", str(spectra),
           "--model", str(model), "-o", str(out), *extra]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"{src}: predict failed:\n{proc.stderr[-2000:]}")
    wall, rss_kb = re.search(r"TIME ([\d.]+) (\d+)", proc.stderr).groups()
    return float(wall), int(rss_kb) / 1024


def psm_rows(path: Path) -> list[str]:
    """The PSM rows of an mzTab file, the columns both versions write (ms_run names aside)."""
    rows = [line.split("\t") for line in path.read_text().splitlines() if line.startswith("PSM\t")]
    return ["\t".join(r[:12]) for r in rows]  # sequence .. spectra_ref, before optional columns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="a worktree of the older commit")
    parser.add_argument("--model", type=Path, help="default: the old commit's bundled model")
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("extra", nargs="*", help="further predict options, after --")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    new_src = Path(__file__).resolve().parents[1] / "src"
    old_src = args.old.resolve() / "src"
    model = args.model or old_src / "trmseq" / "weights" / "default.ckpt"
    spectra = args.out / f"realistic_{args.n}.mgf"
    if not spectra.exists():  # written by the old commit's generator: the same file for both
        subprocess.run([sys.executable, "-m", "trmseq", "generate", "--n", str(args.n), "--preset", "realistic",
                        "--seed", "777", "-o", str(spectra)], check=True, capture_output=True,
                       env={**os.environ, "PYTHONPATH": str(old_src)})  # fmt: skip
    times: dict[str, list[tuple[float, float]]] = {"old": [], "new": []}
    for i in range(args.repeats):
        for name, src in (("old", old_src), ("new", new_src)):
            times[name].append(run(src, spectra, model, args.out / f"{name}.mztab", args.extra))
            print(f"run {i + 1} {name}: {times[name][-1][0]:.1f} s, {times[name][-1][1]:.0f} MB", flush=True)
    same = psm_rows(args.out / "old.mztab") == psm_rows(args.out / "new.mztab")
    print(f"\n{args.n:,} realistic spectra, options {' '.join(args.extra) or '(defaults)'}; "
          f"PSM rows identical: {same}")
    print("| version | wall s (median) | spectra/s | peak RSS (MB) |\n|---|---|---|---|")
    for name in ("old", "new"):
        wall = statistics.median(t for t, _ in times[name])
        print(f"| {name} | {wall:.1f} | {args.n / wall:.1f} | {max(m for _, m in times[name]):.0f} |")
    ratio = statistics.median(t for t, _ in times["old"]) / statistics.median(t for t, _ in times["new"])
    print(f"speed-up: {ratio:.2f}x")


if __name__ == "__main__":
    main()
