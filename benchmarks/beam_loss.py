"""How often the precursor-constrained search's beam misses the most probable fitting peptide.

For each spectrum whose greedy answer does not fit the precursor (the ones that need the
search), compare the best candidate at the default beam with the one at a much wider beam, on
the same log-probabilities of the bundled (or a given) model.

    python benchmarks/beam_loss.py examples/mouse_casanovo_128.mgf --wide 4096
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np

from trmseq import checkpoint
from trmseq.batch import collate
from trmseq.decode import decode_spectrum
from trmseq.inference import Runner
from trmseq.paths import resolve_model
from trmseq.reading import usable_spectra
from trmseq.spectrum import SkipCounter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spectra", type=Path, nargs="+")
    parser.add_argument("--model", type=Path)
    parser.add_argument("--wide", type=int, default=4096)
    args = parser.parse_args()
    model, tokenizer, config, _ = checkpoint.load_model(resolve_model(args.model))
    runner = Runner(model, tokenizer, config.decode)
    spectra = [s for s, _ in usable_spectra(args.spectra, config.data, SkipCounter())]
    wide = dataclasses.replace(config.decode, beam=args.wide)
    searched, worse, none, gaps = 0, 0, 0, []
    for i in range(0, len(spectra), 128):
        chunk = spectra[i : i + 128]
        out = runner.infer(collate([(s, None) for s in chunk]))
        for lp, s in zip(out.log_probs.numpy(), chunk, strict=True):
            default = decode_spectrum(lp, s, tokenizer, config.decode)
            if default and default[0].fits and default[0].log_prob == float(lp.max(-1).sum()):
                continue  # the greedy answer fits: no search
            searched += 1
            best = decode_spectrum(lp, s, tokenizer, wide)
            if not (default and default[0].fits):
                none += bool(best and best[0].fits)
                continue
            if best and best[0].fits and best[0].log_prob > default[0].log_prob + 1e-9:
                worse += 1
                gaps.append(best[0].log_prob - default[0].log_prob)
    print(f"{len(spectra)} spectra, {searched} searched (greedy answer does not fit)")
    print(f"beam {config.decode.beam} finds no fitting peptide where beam {args.wide} does: {none}")
    print(f"beam {config.decode.beam} returns a less probable peptide than beam {args.wide}: {worse}"
          + (f" (by {min(gaps):.2f}-{max(gaps):.2f} nats, median {np.median(gaps):.2f})" if gaps else ""))


if __name__ == "__main__":
    main()
