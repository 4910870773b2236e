"""Re-ranking the search's top candidates by how well they explain the spectrum (issue 12, item 4).

The precursor-constrained search orders its top ``--top-k`` candidates by the model's path
log-probability. This benchmark scores other orders on annotated spectra, with ``predict``'s
decoding otherwise (halting on, the model's depth):

- ``search``: the search's own order (what ``predict`` reports as rank 1);
- ``probability``: the calibrated probability of being right (trmseq.confidence: model
  likelihood plus matched b/y intensity, bond coverage and ladder length, among others);
- ``explained``: per-slot path log-probability + w x (bond coverage + explained intensity),
  w chosen on ``--dev`` (annotated spectra the model never trained on, e.g. ``real_dev_extra``)
  and then applied unchanged to ``test``;
- ``any of k``: some candidate of the k is right (the ceiling of any re-ranking).

    python benchmarks/split_real_dev.py --out runs/real
    python benchmarks/rerank.py runs/real/test.mgf --dev ../shared/data/real_dev_extra.mgf
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
import torch

from trmseq import checkpoint
from trmseq.confidence import FEATURES
from trmseq.evaluate import score_peptides
from trmseq.inference import Runner
from trmseq.paths import resolve_model
from trmseq.reading import usable_spectra
from trmseq.spectrum import SkipCounter

WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
COLUMN = {name: i for i, name in enumerate(FEATURES)}


def candidates(path: Path, runner: Runner, config) -> tuple[list[np.ndarray], list[np.ndarray], list[int]]:
    """Per spectrum: features of its candidates (search order), which are right, its charge."""
    vocab = runner.tokenizer.vocab
    examples = list(usable_spectra([path], config.data, SkipCounter(), vocab))
    feats, right, charges = [], [], []
    size = runner.decode.batch_size
    for i in range(0, len(examples), size):
        chunk = examples[i : i + size]
        for (spectrum, truth), answer in zip(chunk, runner.answer([s for s, _ in chunk]), strict=True):
            true_m = vocab.residue_masses(truth).tolist()
            pred = [vocab.residue_masses(c.peptide).tolist() for c in answer.candidates]
            _, exact = score_peptides([true_m] * len(pred), pred)
            x = np.array([e.features for e in answer.evidence]).reshape(len(pred), len(FEATURES))
            p = np.array([e.probability if e.probability is not None else np.nan for e in answer.evidence])
            feats.append(np.column_stack([x, p]) if len(pred) else np.zeros((0, len(FEATURES) + 1)))
            right.append(exact)
            charges.append(spectrum.charge)
    return feats, right, charges


def recall(feats, right, key) -> float:
    """Share of spectra whose highest-``key`` candidate is right (first on ties: search order)."""
    hits = [bool(r[int(np.argmax(key(f)))]) if len(r) else False for f, r in zip(feats, right, strict=True)]
    return float(np.mean(hits))


def explained(w: float):
    cov, inten, path = COLUMN["ion_coverage"], COLUMN["explained_intensity"], COLUMN["path_log_p_per_slot"]
    return lambda f: f[:, path] + w * (f[:, cov] + f[:, inten])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("test", type=Path)
    parser.add_argument("--dev", type=Path, required=True)
    parser.add_argument("--model", default=None)
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--beam", type=int, default=None, help="the search's beam (default: the model's)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    path = resolve_model(args.model)
    model, tokenizer, config, payload = checkpoint.load_model(path)
    # the search's order: re-ranking is what this benchmark does itself
    decode = dataclasses.replace(config.decode, top_k=args.top_k, rerank=1, beam=args.beam or config.decode.beam)
    runner = Runner(model, tokenizer, decode, "cpu", checkpoint.calibrator(payload, path))
    start = time.perf_counter()
    dev = candidates(args.dev, runner, config)
    test = candidates(args.test, runner, config)
    seconds = time.perf_counter() - start
    best_w = max(WEIGHTS, key=lambda w: recall(dev[0], dev[1], explained(w)))
    prob = len(FEATURES)
    gap = COLUMN["search_gap"]

    def misses_only(f: np.ndarray) -> np.ndarray:  # the greedy answer fits: it is rank 1, gap 0
        return f[:, prob] if len(f) and f[0, gap] > 1e-9 else -np.arange(len(f))

    orders = [("search", lambda f: -np.arange(len(f))), ("probability", lambda f: f[:, prob]),
              ("probability, where the greedy answer misses the precursor", misses_only),
              (f"explained (w={best_w:g}, chosen on dev)", explained(best_w))]  # fmt: skip
    rows = []
    for name, key in orders:
        cells = [recall(d[0], d[1], key) for d in (dev, test)]
        for z in (2, 3):
            idx = [i for i, c in enumerate(test[2]) if (c >= 3 if z == 3 else c == z)]
            cells.append(recall([test[0][i] for i in idx], [test[1][i] for i in idx], key))
        rows.append((name, cells))
    any_k = [float(np.mean([r.any() for r in d[1]])) for d in (dev, test)]
    greedy_fit = np.mean([len(f) > 0 and f[0, gap] <= 1e-9 for f in test[0]])
    print(f"<!-- python benchmarks/rerank.py {args.test} --dev {args.dev} --top-k {args.top_k} "
          f"(beam {decode.beam}); model {path.name}; {len(dev[1])} dev + {len(test[1])} test spectra, "
          f"{seconds:.0f} s -->")
    print(f"| order of the top {args.top_k} | dev peptide recall | test peptide recall | test 2+ | test 3+ |")
    print("|---|---|---|---|---|")
    for name, cells in rows:
        print(f"| {name} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")
    print(f"| any of {args.top_k} (ceiling) | {any_k[0]:.3f} | {any_k[1]:.3f} | | |")
    for k in (1, 2, 3, 5):
        print(f"test, any of the search's first {k}: "
              f"{np.mean([r[:k].any() for r in test[1]]):.3f}; by probability, first of the search's "
              f"{k}: {recall([f[:k] for f in test[0]], [r[:k] for r in test[1]], orders[1][1]):.3f}")
    print(f"test: the greedy answer fits the precursor for {greedy_fit:.1%} of the spectra")
    print("dev, w: " + ", ".join(f"{w:g} {recall(dev[0], dev[1], explained(w)):.3f}" for w in WEIGHTS))


if __name__ == "__main__":
    main()
