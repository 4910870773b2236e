"""The precursor-constrained search alone: trmseq.search (batched tensors) against the numpy one.

Runs the bundled (or a given) model once on the spectra, then both searches on the same
log-probabilities of every usable spectrum (not only those whose greedy answer misses the
precursor), and reports their time and whether their answers agree. The numpy search is
trmseq's former one, kept in tests/numpy_search.py.

    trmseq generate --n 1000 --seed 777 -o runs/r1000.mgf
    python benchmarks/search_speed.py runs/r1000.mgf --threads 1
    python benchmarks/search_speed.py examples/mouse_casanovo_128.mgf --top-k 3
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from trmseq import checkpoint
from trmseq.batch import collate
from trmseq.decode import path_candidate
from trmseq.inference import Runner
from trmseq.masses import neutral_mass
from trmseq.paths import resolve_model
from trmseq.reading import usable_spectra
from trmseq.search import search
from trmseq.spectrum import SkipCounter

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from numpy_search import mass_constrained  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spectra", type=Path)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--top-k", type=int, default=1)
    parser.add_argument("--beam", type=int, default=256)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    model, tokenizer, config, _ = checkpoint.load_model(resolve_model(args.model))
    runner = Runner(model, tokenizer, config.decode)
    spectra = [s for s, _ in usable_spectra([args.spectra], config.data, SkipCounter())]
    same = n_found = 0
    t_old = t_new = 0.0
    for i in range(0, len(spectra), 128):
        chunk = spectra[i : i + 128]
        log_probs = runner.infer(collate([(s, None) for s in chunk])).log_probs
        observed = [float(neutral_mass(s.precursor_mz, s.charge)) for s in chunk]
        start = time.perf_counter()
        old = [mass_constrained(lp, tokenizer, m, 50.0, (0, 1), args.beam, args.top_k)
               for lp, m in zip(log_probs.numpy(), observed, strict=True)]  # fmt: skip
        t_old += time.perf_counter() - start
        start = time.perf_counter()
        new = search(log_probs, observed, tokenizer, 50.0, (0, 1), args.beam, args.top_k)
        t_new += time.perf_counter() - start
        for lp, a, b in zip(log_probs.numpy(), old, new, strict=True):
            got = [path_candidate(path, np.exp(lp), tokenizer, score, True) for path, score in b]
            same += [c.peptide for c in a] == [c.peptide for c in got] and np.allclose(
                [c.log_prob for c in a], [c.log_prob for c in got], rtol=0, atol=1e-9)
            n_found += bool(got)
    n = len(spectra)
    print(f"{n} spectra ({args.spectra.name}), beam {args.beam}, top-k {args.top_k}, "
          f"{torch.get_num_threads()} thread(s): same answers for {same} ({n_found} found a fitting peptide)")
    print(f"numpy search, one spectrum at a time: {t_old:.1f} s ({1000 * t_old / n:.1f} ms/spectrum)")
    print(f"trmseq.search, batches of 128:        {t_new:.1f} s ({1000 * t_new / n:.1f} ms/spectrum); "
          f"{t_old / t_new:.1f}x")


if __name__ == "__main__":
    main()
