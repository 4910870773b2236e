"""Equal-wall-time ablations: train one configuration for N minutes, validate every M minutes.

The test set is 300 synthetic spectra of one preset drawn in-process (SyntheticStream domain 2,
seed 12345: never trained on). Each validation decodes as `trmseq predict` does (greedy, then
mass-constrained search when the greedy answer misses the precursor) and also reports greedy
peptide recall after each recursion step. Unlike `learning_curve.py`, validation time counts
against the budget here (about 10 s per validation), identically for every configuration.

    python benchmarks/ablation.py --minutes 12 --every 3                       # the defaults
    python benchmarks/ablation.py --minutes 12 --set model.n_sup=1 --set train.depth_warmup=0
    python benchmarks/ablation.py --minutes 12 --set model.initial_draft=blank
"""

from __future__ import annotations

import argparse
import tempfile
import time

import yaml

from trmseq import config as tc
from trmseq.data import SyntheticStream
from trmseq.peptides import PeptideSampler
from trmseq.train import Trainer, validate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=12.0)
    parser.add_argument("--every", type=float, default=3.0)
    parser.add_argument("--preset", default="moderate", help="preset of the test set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    args = parser.parse_args()
    raw = tc.to_dict(tc.Config())
    for item in args.set:
        key, value = item.split("=", 1)
        section, name = key.split(".", 1)
        raw[section][name] = yaml.safe_load(value)
    raw["train"].update(max_minutes=args.minutes, max_steps=10**9, val_every=10**9,
                        checkpoint_every=10**9)
    config = tc.from_dict(raw)
    trainer = Trainer(config, tempfile.mkdtemp(prefix="trmseq-ablation-"), seed=args.seed)
    vocab = trainer.tokenizer.vocab
    stream = SyntheticStream(PeptideSampler(vocab, 6, 30, 0.15, 0.05), config.data, 12345, domain=2)
    test = [stream.example(i, [args.preset], [1.0]) for i in range(300)]
    print(f"overrides: {args.set or 'none (defaults)'}; test: 300 {args.preset} spectra", flush=True)
    next_check = args.every * 60
    done = trainer._done

    def check_then_done() -> bool:
        nonlocal next_check
        finished = done()
        if trainer.progress.elapsed_s >= next_check or finished:
            start = time.perf_counter()
            v = validate(trainer.ema, trainer.tokenizer, test, trainer.device, config.decode)
            steps = [round(v[f"peptide_recall_step{k}"], 3) for k in range(1, 50)
                     if f"peptide_recall_step{k}" in v]  # fmt: skip
            print(f"min {trainer.progress.elapsed_s / 60:5.1f}  step {trainer.progress.step:6d}  "
                  f"AA precision {v['aa_precision']:.3f}  AA recall {v['aa_recall']:.3f}  "
                  f"peptide recall {v['peptide_recall']:.3f}  fits {v['fits_precursor']:.3f}  "
                  f"greedy per step {steps}  ({time.perf_counter() - start:.0f} s)", flush=True)
            next_check += args.every * 60
        return finished

    trainer._done = check_then_done  # type: ignore[method-assign]
    trainer.run()


if __name__ == "__main__":
    main()
