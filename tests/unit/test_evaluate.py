"""Casanovo-compatible metrics on hand-made pairs, computed by hand."""

from __future__ import annotations

import numpy as np
import pytest
from pyteomics import mass

from trmseq.evaluate import match_residues, precision_coverage, recall_at_fdr, score_peptides
from trmseq.vocab import Vocabulary

AA = mass.std_aa_mass
VOCAB = Vocabulary()


def masses(text: str) -> list[float]:
    return VOCAB.residue_masses(VOCAB.parse(text)).tolist()


def test_identical_peptides_match_fully() -> None:
    assert match_residues(masses("PEPTIDEK"), masses("PEPTIDEK")).all()


def test_isoleucine_and_leucine_are_the_same() -> None:
    true = [AA[a] for a in "PEPTIDE"]
    pred = [AA[a] for a in "PEPTLDE"]
    assert match_residues(true, pred).all()


def test_isobaric_swap_keeps_the_cumulative_mass_but_not_the_residues() -> None:
    # GG (114.043) vs N (114.043): cumulative masses agree after N / after GG, but the single
    # residues differ by > 0.1 Da, so those positions do not match; the rest does.
    true = [AA[a] for a in "PEGGK"]
    pred = [AA[a] for a in "PENK"]
    matched = match_residues(true, pred)
    # Walk: P=P, E=E; G vs N: cumulative 57 vs 114 -> advance true; G+G vs N agree within
    # 0.5 Da -> paired at index max(3, 2) = 3, residues 57.02 vs 114.04 differ -> False; K=K
    # at max(4, 3) = 4. Then the C-terminal walk from the end: K=K; G vs N... leaves index 2.
    assert matched.tolist() == [True, True, False, False, True]


def test_near_isobaric_k_q_counts_as_a_match() -> None:
    # K and Q differ by 0.036 Da, below the 0.1 Da residue tolerance: Casanovo counts it.
    assert match_residues([AA["K"]], [AA["Q"]]).all()


def test_shifted_prediction_matches_from_the_c_terminus() -> None:
    true = [AA[a] for a in "AGSPEK"]
    pred = [AA[a] for a in "GASPEK"]  # swapped first two: prefix fails at 0, suffix SPEK fine
    matched = match_residues(true, pred)
    # AG vs GA: cumulative 71 vs 57 -> advance pred; 71 vs 128 ... pair at A+G = G+A (128.06)
    # -> index 1, residues G vs A differ -> False. S, P, E, K then match.
    assert matched.tolist() == [False, False, True, True, True, True]


def test_scores_by_hand() -> None:
    true = [masses("PEPK"), masses("AGSK"), masses("LLLK")]
    pred = [masses("PEPK"), masses("AGTK"), None]  # one exact, one 3/4, one missing
    metrics, exact = score_peptides(true, pred)
    assert exact.tolist() == [True, False, False]
    assert metrics.aa_precision == pytest.approx(7 / 8)
    assert metrics.aa_recall == pytest.approx(7 / 12)
    assert metrics.peptide_recall == pytest.approx(1 / 3)
    assert metrics.peptide_precision == pytest.approx(1 / 2)


def test_precision_coverage_and_fdr_by_hand() -> None:
    scores = [0.9, 0.8, 0.7, 0.6]
    correct = [True, True, False, True]
    curve = precision_coverage(scores, correct, n_spectra=5)
    assert curve.precision.tolist() == [1.0, 1.0, pytest.approx(2 / 3), 0.75]
    assert curve.coverage.tolist() == [0.2, 0.4, 0.6, 0.8]
    assert curve.auc == pytest.approx((1 + 1 + 2 / 3 + 0.75) / 5)
    assert recall_at_fdr(scores, correct, 5, 0.01) == (pytest.approx(2 / 5), 0.8)
    assert recall_at_fdr(scores, correct, 5, 0.30) == (pytest.approx(3 / 5), 0.6)
    assert recall_at_fdr([0.5], [False], 1, 0.05) == (0.0, None)


def test_tied_scores_are_cut_together() -> None:
    # Two predictions share a score; one is wrong: a 1% FDR cannot take only the right one.
    assert recall_at_fdr([0.9, 0.9], [True, False], 2, 0.01) == (0.0, None)
    assert np.isclose(recall_at_fdr([0.9, 0.9, 0.5], [True, True, False], 3, 0.01)[0], 2 / 3)
