"""Where is the right peptide lost: by the search, or by the model? And would the spectrum tell?

For each annotated spectrum, the annotated peptide is scored as one more candidate: its best CTC
path under the model (a Viterbi alignment), its evidence features and calibrated probability
(its best rival: the best wrong candidate of the pool ``predict`` builds). Prints how often the
answer is right, how often any pool candidate is, how far below the answer the truth lies in
model log-probability, and how often the calibrated probability would prefer the truth to the
answer had the pool held it (an upper bound for any way of adding candidates).

    python benchmarks/truth_in_pool.py runs/real/test.mgf [--model CKPT] [--no-guided] [--min-charge Z]

Several files are read as one set; ``--min-charge 3`` keeps precursors of charge 3 or more (the
lab runs' 3+ spectra: the per-source files `benchmarks/calibration.py --out DIR` writes, e.g.
``DIR/winnow.mgf DIR/ms2ml.mgf``).

``--no-guided`` leaves the guided search out of the pool but keeps the model's calibration; a
model calibrated before that search existed (``git show 2d19e67:src/trmseq/weights/default.ckpt``)
with ``--no-guided`` gives the numbers as they were before it.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import torch

from trmseq import checkpoint
from trmseq.batch import collate
from trmseq.decode import decode_batch, fits_precursor, path_candidate, peptide_masses
from trmseq.errors import TrmseqError
from trmseq.evaluate import score_peptides
from trmseq.inference import Runner, evidence
from trmseq.masses import neutral_mass
from trmseq.paths import resolve_model
from trmseq.reading import usable_spectra
from trmseq.spectrum import SkipCounter


def viterbi(log_probs: np.ndarray, target: list[int]) -> np.ndarray | None:
    """The most probable CTC path (n_slots class indices) that collapses to ``target``.

    None when no path of ``n_slots`` does (a peptide longer than the slots can write).
    """
    ext = [0]
    for c in target:
        ext += [c, 0]
    n_slots, n_ext = log_probs.shape[0], len(ext)
    score = np.full((n_slots, n_ext), -np.inf)
    back = np.zeros((n_slots, n_ext), dtype=np.int64)
    score[0, :2] = log_probs[0, ext[:2]]
    for t in range(1, n_slots):
        for s in range(n_ext):
            options = [s, s - 1] + ([s - 2] if s >= 2 and ext[s] != 0 and ext[s] != ext[s - 2] else [])
            best = max((o for o in options if o >= 0), key=lambda o: score[t - 1, o])
            score[t, s], back[t, s] = score[t - 1, best] + log_probs[t, ext[s]], best
    if not np.isfinite(score[-1, -2:]).any():
        return None
    s = n_ext - 1 if score[-1, -1] >= score[-1, -2] else n_ext - 2
    path = np.zeros(n_slots, dtype=np.int64)
    for t in range(n_slots - 1, -1, -1):
        path[t], s = ext[s], back[t, s]
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mgf", type=Path, nargs="+")
    parser.add_argument("--model", default=None)
    parser.add_argument("--no-guided", action="store_true", help="the pool without the search guided by the peaks")
    parser.add_argument("--min-charge", type=int, default=1, help="only precursors of this charge or more")
    args = parser.parse_args()
    torch.set_num_threads(1)
    path = resolve_model(args.model)
    model, tokenizer, config, payload = checkpoint.load_model(path)
    calibrator = checkpoint.calibrator(payload, path)
    if calibrator is None:
        raise SystemExit(f"{path}: the model has no calibration")
    decode = dataclasses.replace(config.decode, evidence_beam=0) if args.no_guided else config.decode
    runner = Runner(model, tokenizer, decode, "cpu", calibrator)
    vocab, tol = tokenizer.vocab, model.config.match_tol_da
    try:
        examples = [(s, t) for s, t in usable_spectra(args.mgf, config.data, SkipCounter(), vocab)
                    if s.charge >= args.min_charge]  # fmt: skip
    except TrmseqError as error:
        raise SystemExit(f"truth_in_pool.py: {error}") from None
    if not examples:
        raise SystemExit(f"truth_in_pool.py: no usable annotated spectra of charge {args.min_charge} or more")
    right = lambda truth, c: bool(score_peptides([truth], [peptide_masses(c.peptide, vocab)])[1][0])  # noqa: E731
    rows = []
    for i in range(0, len(examples), decode.batch_size):
        chunk = examples[i : i + decode.batch_size]
        spectra = [s for s, _ in chunk]
        out = runner.infer(collate([(s, None) for s in spectra]))
        answers = runner._pool_ranked(decode, out.log_probs, out.q, out.changed, spectra)
        pools = decode_batch(out.log_probs, spectra, tokenizer, decode, max(decode.rerank, 2), True, tol)
        log_probs = out.log_probs.numpy()
        for j, ((spectrum, truth), (candidates, ev), pool) in enumerate(zip(chunk, answers, pools, strict=True)):
            masses = vocab.residue_masses(truth).tolist()
            lp = log_probs[j]
            ok = bool(candidates) and right(masses, candidates[0])
            answer = (candidates[0].log_prob if candidates else -np.inf, ev[0].probability if ev else 0.0)
            t_path = viterbi(lp, tokenizer.encode(truth))
            if t_path is None:  # no candidate could be the truth: it scores nothing
                rows.append((ok, False, answer[0], -np.inf, answer[1], 0.0))
                continue
            t_log_prob = float(lp[np.arange(len(t_path)), t_path].sum())
            observed = float(neutral_mass(spectrum.precursor_mz, spectrum.charge))
            fits = fits_precursor(vocab.peptide_mass(truth), observed, decode.precursor_tol_ppm, decode.isotopes)
            t_cand = path_candidate(t_path, np.exp(lp), tokenizer, t_log_prob, fits)
            rival = max((c.log_prob for c in pool if not right(masses, c)), default=None)
            t_ev = evidence(t_cand, spectrum, vocab, decode.isotopes, float(lp.max(-1).sum()), float(out.q[j]),
                            bool(out.changed[j]), tol, calibrator, rival)  # fmt: skip
            rows.append((ok, any(right(masses, c) for c in pool), answer[0], t_log_prob, answer[1],
                         t_ev.probability))  # fmt: skip
    ok, in_pool, a_lp, t_lp, a_p, t_p = map(np.array, zip(*rows, strict=True))
    n, wrong = len(ok), ~ok
    writable = np.isfinite(t_lp)
    gap = (a_lp - t_lp)[wrong & writable]
    print(f"{', '.join(map(str, args.mgf))}: {n} spectra of charge {args.min_charge} or more, model {path}"
          + (" (no guided search)" if args.no_guided else ""))  # fmt: skip
    print(f"answer right {ok.mean():.3f}; some pool candidate right {in_pool.mean():.3f}")
    if not writable.all():
        print(f"{int((~writable).sum())} of the annotated peptides need more slots than the model has "
              "(counted as wrong, left out of the comparisons below)")
    print(f"wrong answers {wrong.sum()}: the truth more probable under the model than the answer in "
          f"{int((t_lp[wrong] > a_lp[wrong]).sum())}; log-probability below the answer, quartiles "
          f"{np.percentile(gap, 25):.1f} / {np.median(gap):.1f} / {np.percentile(gap, 75):.1f}")
    preferred = int((t_p[wrong] > a_p[wrong]).sum())
    print(f"the truth's calibrated probability above the answer's: {preferred} of {wrong.sum()}; "
          f"peptide recall had the pool held the truth {(ok.sum() + preferred) / n:.3f}")


if __name__ == "__main__":
    main()
