"""The batched precursor-constrained search against the per-spectrum numpy search it replaced.

``numpy_search.mass_constrained`` is trmseq's former search, kept as a reference. Both run on the
same log-probabilities: the bundled model's outputs on real and synthetic spectra, and random
peaky outputs whose precursor is the mass of a random peptide. Same peptides, same scores, same
order, at the default beam and with a top-k list. (tests/unit/test_decode.py checks the search
against brute-force enumeration.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from numpy_search import mass_constrained as reference
from trmseq import checkpoint
from trmseq.batch import collate
from trmseq.config import DecodeConfig
from trmseq.decode import path_candidate
from trmseq.inference import Runner
from trmseq.masses import neutral_mass
from trmseq.paths import resolve_model
from trmseq.presets import PRESETS
from trmseq.reading import usable_spectra
from trmseq.search import search
from trmseq.spectrum import SkipCounter, preprocess
from trmseq.synthetic import PeptideSampler, generate

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mouse_casanovo_128.mgf"
BEAM = DecodeConfig().beam


@pytest.fixture(scope="module")
def bundled():
    model, tokenizer, config, _ = checkpoint.load_model(resolve_model(None))
    return Runner(model, tokenizer, config.decode), tokenizer, config


def _outputs(runner: Runner, spectra) -> tuple[torch.Tensor, list[float]]:
    log_probs = torch.cat([runner.infer(collate([(s, None) for s in spectra[i : i + 128]])).log_probs
                           for i in range(0, len(spectra), 128)])  # fmt: skip
    return log_probs, [float(neutral_mass(s.precursor_mz, s.charge)) for s in spectra]


def _assert_same(log_probs: torch.Tensor, observed: list[float], tokenizer, top_k: int, beam: int = BEAM) -> int:
    """Both searches agree on every spectrum; returns how many found a fitting peptide."""
    found = search(log_probs, observed, tokenizer, 50.0, (0, 1), beam, top_k)
    n_found = 0
    for lp, mass, paths in zip(log_probs.numpy(), observed, found, strict=True):
        want = reference(lp, tokenizer, mass, 50.0, (0, 1), beam, top_k)
        got = [path_candidate(path, np.exp(lp), tokenizer, score, True) for path, score in paths]
        assert [c.peptide for c in got] == [c.peptide for c in want]
        np.testing.assert_allclose([c.log_prob for c in got], [c.log_prob for c in want], rtol=0, atol=1e-9)
        assert [c.aa_scores for c in got] == [c.aa_scores for c in want]
        n_found += bool(got)
    return n_found


@pytest.mark.parametrize("top_k", [1, 3])
def test_same_answers_on_real_spectra(bundled, top_k: int) -> None:
    runner, tokenizer, config = bundled
    spectra = [s for s, _ in usable_spectra([EXAMPLE], config.data, SkipCounter())]
    spectra = spectra if top_k == 1 else spectra[:48]
    log_probs, observed = _outputs(runner, spectra)
    assert _assert_same(log_probs, observed, tokenizer, top_k) > 0.9 * len(spectra)


def test_same_answers_on_realistic_synthetic_spectra(bundled) -> None:
    runner, tokenizer, config = bundled
    sampler = PeptideSampler(tokenizer.vocab, max_length=25)
    spectra = [preprocess(s, config.data) for s in generate(200, sampler, PRESETS["realistic"], seed=4)]
    log_probs, observed = _outputs(runner, [s for s in spectra if not isinstance(s, str)])
    assert _assert_same(log_probs, observed, tokenizer, 1) > 150


@pytest.mark.parametrize(("top_k", "beam", "n"), [(1, BEAM, 1000), (1, 16, 1000), (4, 32, 300)])
def test_same_answers_on_random_peaky_outputs(bundled, top_k: int, beam: int, n: int) -> None:
    _, tokenizer, _ = bundled
    rng = np.random.default_rng(top_k * 1000 + beam)
    n_slots, n_classes = 14, len(tokenizer.masses)
    logits = rng.normal(0.0, 3.0, (n, n_slots, n_classes))
    logits[:, :, 0] += rng.uniform(0, 4, (n, n_slots))  # blanks common, as after training
    log_probs = torch.from_numpy(logits).float().log_softmax(-1)
    residues = tokenizer.masses[1:][tokenizer.is_residue[1:]].numpy()
    observed = [float(rng.choice(residues, rng.integers(3, 8)).sum() + 18.010565) for _ in range(n)]
    assert _assert_same(log_probs, observed, tokenizer, top_k, beam) > n // 5


def test_one_peptide_per_state_still_lists_alternatives(bundled) -> None:
    """per_state=1 (the re-ranking pool): the top-1 answer first, then other fitting peptides."""
    runner, tokenizer, config = bundled
    spectra = [s for s, _ in usable_spectra([EXAMPLE], config.data, SkipCounter())]
    log_probs, observed = _outputs(runner, spectra)
    best = search(log_probs, observed, tokenizer, 50.0, (0, 1), BEAM, 1)
    pool = search(log_probs, observed, tokenizer, 50.0, (0, 1), BEAM, 5, per_state=1)
    vocab, n_more = tokenizer.vocab, 0
    for lp, mass, one, five in zip(log_probs.numpy(), observed, best, pool, strict=True):
        got = [path_candidate(path, np.exp(lp), tokenizer, score, True) for path, score in five]
        assert len(one) == min(1, len(five))
        if one:
            np.testing.assert_array_equal(five[0][0], one[0][0])
        peptides = [c.peptide for c in got]
        assert len(set(peptides)) == len(peptides)
        scores = [c.log_prob for c in got]
        assert scores == sorted(scores, reverse=True)
        for (path, score), c in zip(five, got, strict=True):  # its score is its path's, and it fits
            assert abs(score - lp[np.arange(len(path)), path].sum()) < 1e-4
            assert abs(vocab.peptide_mass(c.peptide) - mass) <= 50e-6 * mass + 1.00336 + 1e-6
        n_more += len(got) > 1
    assert n_more > len(spectra) // 2
