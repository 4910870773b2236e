"""Write a teacher bank: peptides with MS2PIP's b/y intensities, for `train.teacher_bank`.

MS2PIP is not a dependency of trmseq; run this in an environment that has it next to trmseq
(``ms2pip==4.1.2``, whose HCD models work offline, needs ``pyteomics<5``, which trmseq accepts;
see docs/synthetic.md, "MS2PIP as a teacher")::

    python -m venv ms2pip-env && ms2pip-env/bin/pip install torch==2.13.0 "ms2pip==4.1.2" "pyteomics<5" .
    ms2pip-env/bin/python benchmarks/ms2pip_bank.py --model src/trmseq/weights/default.ckpt \
        -n 150000 --seed 33 -o runs/ms2pip_bank.npz
    ms2pip-env/bin/python benchmarks/ms2pip_bank.py --annotated runs/real/test.mgf -o runs/test_bank.npz

With ``--model``, ``-n`` peptides and charges are drawn as training draws its synthetic ones
(the checkpoint's vocabulary and ``train`` section: lengths, modification rates, charges that
follow the basic residues). With ``--annotated``, the bank holds the annotated peptides of a
file at their precursor charge, one entry per spectrum (``benchmarks/teacher_intensities.py``
compares it with real spectra). MS2PIP's HCDch2 model predicts b and y ions at
fragment charges 1 and 2; its log2 outputs are turned back into linear intensities.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from ms2pip.core import predict_batch
from psm_utils import PSM, PSMList

from trmseq import checkpoint
from trmseq.config import Config
from trmseq.errors import TrmseqError
from trmseq.peptides import PeptideSampler, sample_charge
from trmseq.reading import usable_spectra
from trmseq.spectrum import SkipCounter
from trmseq.teacher import TeacherBank
from trmseq.vocab import Vocabulary

MODEL = "HCDch2"


def drawn(config: Config, vocab: Vocabulary, n: int, seed: int) -> list[tuple[tuple[str, ...], int]]:
    """``n`` (peptide, charge) pairs drawn as :class:`trmseq.data.SyntheticStream` draws them."""
    t = config.train
    sampler = PeptideSampler(vocab, t.min_length, t.max_length, t.mod_rate, t.nterm_rate)
    charges = tuple(range(config.data.min_charge, config.data.max_charge + 1))
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        peptide = sampler.sample(rng)
        out.append((peptide, sample_charge(vocab.residues(peptide), rng, charges)))
    return out


def predicted(pairs: list[tuple[tuple[str, ...], int]], vocab: Vocabulary, processes: int) -> list[np.ndarray]:
    """MS2PIP's b 1+, y 1+, b 2+, y 2+ intensities (linear) of each pair, shape (4, n - 1)."""
    psms = PSMList(psm_list=[PSM(peptidoform=f"{vocab.proforma(p)}/{z}", spectrum_id=str(i))
                             for i, (p, z) in enumerate(pairs)])  # fmt: skip
    levels: list[np.ndarray | None] = [None] * len(pairs)
    for result in predict_batch(psms, model=MODEL, processes=processes):
        out = result.predicted_intensity
        levels[int(result.psm_index)] = np.stack([2.0 ** out[k] - 0.001 for k in ("b", "y", "b2", "y2")]).clip(min=0)
    missing = [i for i, x in enumerate(levels) if x is None]
    if missing:
        raise SystemExit(f"ms2pip_bank.py: MS2PIP returned nothing for {len(missing)} peptides, "
                         f"e.g. {vocab.proforma(pairs[missing[0]][0])}")  # fmt: skip
    return levels  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", type=Path, help="draw peptides as this checkpoint's training does")
    source.add_argument("--annotated", type=Path, help="the annotated peptides of this file instead")
    parser.add_argument("-n", type=int, default=150_000, help="peptides to draw (with --model)")
    parser.add_argument("--seed", type=int, default=33)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    started = time.time()
    try:
        if args.model is not None:
            _, tokenizer, config, _ = checkpoint.load_model(args.model)
            vocab = tokenizer.vocab
            pairs = drawn(config, vocab, args.n, args.seed)
        else:
            config, vocab = Config(), Vocabulary()
            pairs = [(p, s.charge) for s, p in usable_spectra([args.annotated], config.data, SkipCounter(), vocab)]
    except TrmseqError as error:
        raise SystemExit(f"ms2pip_bank.py: {error}") from None
    if not pairs:
        raise SystemExit(f"ms2pip_bank.py: {args.annotated}: no usable annotated spectra")
    bank = TeacherBank.from_entries([(p, z, x) for (p, z), x in zip(pairs, predicted(pairs, vocab, args.processes),
                                                                    strict=True)], vocab)  # fmt: skip
    bank.save(args.output, vocab)
    print(f"wrote {args.output}: {len(bank)} peptides, charges "
          f"{ {int(z): int(k) for z, k in zip(*np.unique(bank.charge, return_counts=True), strict=True)} }, "
          f"{time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
