"""End-to-end `trmseq predict` throughput and peak memory on this machine (issue 4).

Each row is one `trmseq predict` process, timed from start to exit (model loading, reading,
preprocessing, recursion, decoding and writing included) with /usr/bin/time for peak RSS.
Test files are synthetic `realistic` spectra written once with a fixed seed.

    python benchmarks/predict_throughput.py --model runs/curve/run/best.ckpt --out runs/speed
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

import yaml


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB and stderr of a command."""
    proc = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M", *cmd], capture_output=True,
                          text=True, check=True)
    wall, rss_kb = re.search(r"TIME ([\d.]+) (\d+)", proc.stderr).groups()
    return float(wall), int(rss_kb) / 1024, proc.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--quick", action="store_true", help="only the default setting per size")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    sizes = [int(x) for x in args.sizes.split(",")]
    files = {}
    for n in sizes:
        files[n] = args.out / f"realistic_{n}.mgf"
        if not files[n].exists():
            subprocess.run(["trmseq", "generate", "--n", str(n), "--preset", "realistic",
                            "--seed", "777", "-o", str(files[n])], check=True)

    # reading alone
    print("| reading | spectra | seconds | spectra/s |\n|---|---|---|---|")
    for n in sizes:
        start = time.perf_counter()
        code = ("from trmseq.io import read_spectra; import sys; "
                "print(sum(1 for _ in read_spectra(sys.argv[1])))")
        subprocess.run([sys.executable, "-c", code, str(files[n])], check=True, capture_output=True)
        wall = time.perf_counter() - start
        print(f"| MGF, {files[n].stat().st_size / 1e6:.0f} MB (process start included) | {n:,} "
              f"| {wall:.1f} | {n / wall:,.0f} |")

    settings = [("default (N_sup 3, batch 128, halting, mass control)", {})]
    if not args.quick:
        settings += [(f"N_sup {k}", {"n_sup": k, "halting": False}) for k in (1, 2, 3, 6)]
        settings += [(f"batch {b}", {"batch_size": b}) for b in (32, 512)]
        settings += [("no mass control (greedy only)", {"mass_control": False})]
        settings += [("beam 64", {"beam": 64})]
    print("\n| setting | spectra | wall s | spectra/s | peak RSS (MB) | fit precursor |")
    print("|---|---|---|---|---|---|")
    for n in sizes:
        for name, decode in settings:
            if n > 1000 and decode:
                continue  # sweep on 1,000 spectra; the default setting on every size
            cfg = args.out / "decode.yaml"
            cfg.write_text(yaml.safe_dump({"decode": decode}))
            out = args.out / f"out_{n}.mztab"
            wall, rss, err = timed(["trmseq", "predict", str(files[n]), "-o", str(out), "--model",
                                    str(args.model), "--config", str(cfg), "--device", "cpu"])
            fit = re.search(r"\(([\d,]+) fit the precursor\)", err)
            print(f"| {name} | {n:,} | {wall:.1f} | {n / wall:.1f} | {rss:.0f} "
                  f"| {fit.group(1) if fit else '?'} |", flush=True)


if __name__ == "__main__":
    main()
