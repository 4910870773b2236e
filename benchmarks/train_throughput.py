"""Training throughput and peak memory on this machine's CPU (issue 3).

Each configuration runs in a fresh process (so peak RSS is its own): a few warm-up steps, then
timed optimizer steps on synthetic `moderate` spectra of one fixed peptide length. Prints a
markdown table.

    python benchmarks/train_throughput.py                       # N_sup and length sweeps
    python benchmarks/train_throughput.py --steps 20 --threads 2
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time, torch
from trmseq import config as tc
from trmseq.checkpoint import build_model
from trmseq.batch import collate
from trmseq.data import SyntheticStream
from trmseq.model.loss import DeepSupervision
from trmseq.peptides import PeptideSampler
spec = json.loads(sys.argv[1])
torch.set_num_threads(spec["threads"])
model_cfg = tc.ModelConfig(**spec["model"])
cfg = tc.Config(model=model_cfg)
torch.manual_seed(0)
model, tok = build_model(cfg)
length = spec["length"]
stream = SyntheticStream(PeptideSampler(tok.vocab, length, length), cfg.data, 0)
loss_fn = DeepSupervision(model, full_backprop=spec["full_backprop"], draft_teacher=0.5)
opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
batches = [collate([stream.example(64 * j + i, ["moderate"], [1.0]) for i in range(64)], tok)
           for j in range(spec["steps"] + 3)]
def step(b):
    loss, _ = loss_fn(b, model_cfg.n_sup, model_cfg.h_cycles, model_cfg.l_cycles)
    opt.zero_grad(); loss.backward(); opt.step()
for b in batches[:3]:
    step(b)
start = time.perf_counter()
for b in batches[3:]:
    step(b)
elapsed = time.perf_counter() - start
print(json.dumps({"spectra_per_s": 64 * spec["steps"] / elapsed,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(spec: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(spec)], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=15, help="timed steps per configuration")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    base = {"steps": args.steps, "threads": args.threads, "full_backprop": False}
    rows = []
    print("| what | N_sup | T | n | peptide length | backprop | spectra/s | peak RSS (MB) |")
    print("|---|---|---|---|---|---|---|---|")
    sweeps = [("N_sup", {"n_sup": k, "h_cycles": 1, "l_cycles": 1}, 12, False) for k in (1, 2, 3, 4, 6)]
    sweeps += [("length", {"n_sup": 3, "h_cycles": 1, "l_cycles": 1}, L, False) for L in (8, 16, 24, 30)]
    sweeps += [("TRM no-grad vs full", {"n_sup": 3, "h_cycles": 3, "l_cycles": 2}, 12, full)
               for full in (False, True)]
    for what, model, length, full in sweeps:
        result = run(base | {"model": model, "length": length, "full_backprop": full})
        rows.append((what, model, length, full, result))
        print(f"| {what} | {model['n_sup']} | {model['h_cycles']} | {model['l_cycles']} | {length} "
              f"| {'every cycle' if full else 'last cycle'} | {result['spectra_per_s']:.0f} "
              f"| {result['peak_rss_mb']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
