"""Re-ranking the search's candidates by the calibrated probability (Runner, decode.rerank)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from trmseq import checkpoint
from trmseq.inference import Runner
from trmseq.paths import resolve_model
from trmseq.reading import usable_spectra
from trmseq.spectrum import SkipCounter

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mouse_casanovo_128.mgf"


@pytest.fixture(scope="module")
def answers():
    """The bundled (calibrated) model's answers on the example, re-ranked among 5 and not."""
    path = resolve_model(None)
    model, tokenizer, config, payload = checkpoint.load_model(path)
    calibrator = checkpoint.calibrator(payload, path)
    assert calibrator is not None
    spectra = [s for s, _ in usable_spectra([EXAMPLE], config.data, SkipCounter())]

    def run(**changes) -> list:
        decode = dataclasses.replace(config.decode, **changes)
        return Runner(model, tokenizer, decode, "cpu", calibrator).answer(spectra)

    plain = Runner(model, tokenizer, dataclasses.replace(config.decode, rerank=5), "cpu").answer(spectra)
    return run(rerank=1), run(rerank=5), run(rerank=5, top_k=3), plain


def test_the_answer_is_the_most_probable_of_the_pool(answers) -> None:
    search_order, reranked, _, _ = answers
    changed = 0
    for a, b in zip(search_order, reranked, strict=True):
        assert len(a.candidates) == len(b.candidates) == 1
        # the search's own first candidate is in the pool, so the chosen one is at least as likely
        assert b.evidence[0].probability >= a.evidence[0].probability
        changed += a.candidates[0].peptide != b.candidates[0].peptide
    assert 0 < changed < len(reranked)


def test_top_k_keeps_the_answer_then_lists_alternatives_by_probability(answers) -> None:
    _, reranked, top3, _ = answers
    assert any(len(a.candidates) > 1 for a in top3)
    for one, three in zip(reranked, top3, strict=True):
        # rank 1 is the answer without --top-k, with the same evidence and probability
        assert three.candidates[0] == one.candidates[0]
        assert three.evidence[0].probability == one.evidence[0].probability
        assert (three.evidence[0].features == one.evidence[0].features).all()
        p = [e.probability for e in three.evidence[1:]]
        assert p == sorted(p, reverse=True)
        assert len({c.peptide for c in three.candidates}) == len(three.candidates)


def test_without_a_calibration_nothing_is_re_ranked(answers) -> None:
    search_order, _, _, plain = answers
    for a, b in zip(search_order, plain, strict=True):
        assert [c.peptide for c in a.candidates] == [c.peptide for c in b.candidates]
        assert b.evidence[0].probability is None


def test_each_answer_knows_its_best_rival(answers) -> None:
    from trmseq.confidence import FEATURES

    gap = FEATURES.index("rival_gap")
    _, _, top3, plain = answers
    # The search's own order is by log-probability: its first leads its rival by >= 0.
    leads = [a.evidence[0].features[gap] for a in plain if a.candidates]
    assert min(leads) >= 0 and any(0 < v < 20 for v in leads)
    for a in top3:
        if len(a.candidates) > 1:
            log_p = [c.log_prob for c in a.candidates]
            for i, e in enumerate(a.evidence[1:], start=1):  # the rival may be a pool member not shown
                best_shown = max(log_p[1:i] + log_p[i + 1 :], default=None)
                if best_shown is not None:  # alternatives share one pool (the answer comes from another)
                    assert e.features[gap] <= min(20.0, max(-20.0, log_p[i] - best_shown)) + 1e-9
