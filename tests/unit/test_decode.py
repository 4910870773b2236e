"""Mass-constrained CTC decoding against brute-force enumeration of every path."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from pyteomics import mass

from trmseq.decode import fits_precursor, greedy_decode, mass_constrained
from trmseq.tokenizer import Tokenizer, ctc_collapse
from trmseq.vocab import Vocabulary

VOCAB = Vocabulary(fixed_mods=(), variable_mods=("+42.011",))
TOKENIZER = Tokenizer(VOCAB)
CLASSES = [0] + TOKENIZER.encode(tuple("GASPV")) + TOKENIZER.encode(("+42.011",))


def brute_force(log_probs: np.ndarray, observed: float) -> tuple[float, tuple[str, ...]] | None:
    best = None
    for path in itertools.product(CLASSES, repeat=log_probs.shape[0]):
        tokens = TOKENIZER.decode(ctc_collapse(np.array(path)))
        if not tokens or VOCAB.n_residues(tokens) == 0:
            continue
        if any(VOCAB[t].is_nterm for t in tokens[1:]):
            continue
        # independent mass: pyteomics on the plain residues plus the acetyl delta
        plain = "".join(VOCAB[t].residue for t in tokens)
        peptide_mass = mass.fast_mass(plain) + (42.010565 if VOCAB[tokens[0]].is_nterm else 0.0)
        if fits_precursor(peptide_mass, observed, 50.0, (0, 1)):
            score = float(sum(log_probs[t, c] for t, c in enumerate(path)))
            if best is None or score > best[0]:
                best = (score, tokens)
    return best


@pytest.mark.parametrize("seed", range(12))
def test_dynamic_program_finds_the_best_fitting_path(seed: int) -> None:
    rng = np.random.default_rng(seed)
    log_probs = np.full((6, TOKENIZER.n_classes), -60.0)
    for t in range(6):
        log_probs[t, CLASSES] = np.log(rng.dirichlet(np.ones(len(CLASSES))))
    target = "".join(rng.choice(list("GASPV"), size=int(rng.integers(2, 4))))
    observed = mass.fast_mass(target) + (1.00335 if seed % 3 == 0 else 0.0)  # +1 isotope too
    expected = brute_force(log_probs, observed)
    found = mass_constrained(log_probs, TOKENIZER, observed, 50.0, (0, 1), beam=10**6, top_k=3)
    if expected is None:
        assert found == []
        return
    assert found[0].log_prob == pytest.approx(expected[0], abs=1e-9)
    assert found[0].fits
    assert [c.log_prob for c in found] == sorted((c.log_prob for c in found), reverse=True)


def test_acetyl_only_at_the_n_terminus() -> None:
    acetyl = TOKENIZER.encode(("+42.011",))[0]
    g, a = TOKENIZER.encode(("G", "A"))
    # The most probable path puts acetyl second; the constraint must not allow that.
    log_probs = np.full((3, TOKENIZER.n_classes), -30.0)
    log_probs[0, g] = log_probs[1, acetyl] = log_probs[2, a] = 0.0
    observed = mass.fast_mass("GA") + 42.010565
    found = mass_constrained(log_probs, TOKENIZER, observed, 50.0, (0,), beam=1000)
    assert all(t != "+42.011" for c in found for t in c.peptide[1:])


def test_greedy_decode_collapses_repeats_and_blanks() -> None:
    g, a = TOKENIZER.encode(("G", "A"))
    path = [g, g, 0, g, a, a, 0]
    logits = torch.full((1, len(path), TOKENIZER.n_classes), -5.0)
    for t, c in enumerate(path):
        logits[0, t, c] = 5.0
    assert greedy_decode(logits, TOKENIZER) == [("G", "G", "A")]
