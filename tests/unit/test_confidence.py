"""Calibrated probabilities and q-values: by hand, and the evidence against pyteomics masses."""

from __future__ import annotations

import numpy as np
import pytest

from pyteomics_ref import fragment_ladder, residue_masses
from trmseq.confidence import (
    FEATURES,
    Calibrator,
    expected_calibration_error,
    fdr_table,
    features,
    fit,
    q_values,
    reliability,
)


def test_q_values_by_hand() -> None:
    # sorted: 0.99, 0.9, 0.5 -> running mean of 1 - p: 0.01, (0.01 + 0.1) / 2, (0.01 + 0.1 + 0.5) / 3
    assert q_values([0.9, 0.5, 0.99]) == pytest.approx([0.055, 0.61 / 3, 0.01])
    assert q_values([]).shape == (0,)


def test_fdr_table_by_hand() -> None:
    p = np.array([0.995, 0.99, 0.9, 0.8, 0.1])
    right = np.array([True, False, True, True, False])
    # q: 0.005, 0.0075, 0.0383, 0.0788, 0.2430
    rows = fdr_table(p, right, n_spectra=10, levels=(0.01, 0.05))
    assert rows[0] == pytest.approx({"q": 0.01, "accepted": 2, "estimated_fdr": 0.0075,
                                     "true_fdr": 0.5, "peptide_recall": 0.1})  # fmt: skip
    assert rows[1] == pytest.approx({"q": 0.05, "accepted": 3, "estimated_fdr": 0.115 / 3,
                                     "true_fdr": 1 / 3, "peptide_recall": 0.2})  # fmt: skip


def test_reliability_and_ece_by_hand() -> None:
    p = np.array([0.05, 0.15, 0.15, 0.95])
    right = np.array([False, True, False, True])
    bins = reliability(p, right, n_bins=10)
    assert [b["n"] for b in bins] == [1, 2, 0, 0, 0, 0, 0, 0, 0, 1]
    assert bins[1]["predicted"] == pytest.approx(0.15) and bins[1]["observed"] == 0.5
    assert bins[2]["predicted"] is None
    # |0.05 - 0| * 1 + |0.15 - 0.5| * 2 + |0.95 - 1| * 1, over 4
    assert expected_calibration_error(p, right) == pytest.approx((0.05 + 0.7 + 0.05) / 4)


def test_fit_recovers_a_known_logistic_model_and_round_trips() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20_000, len(FEATURES))) * 2 + 1
    true_w = np.zeros(len(FEATURES))
    true_w[:3] = [1.5, -1.0, 0.5]  # on standardised features
    z = ((x - x.mean(0)) / x.std(0)) @ true_w - 0.7
    right = rng.random(len(x)) < 1 / (1 + np.exp(-z))
    c = fit(x, right, "simulated")
    assert np.asarray(c.coef)[:3] == pytest.approx([1.5, -1.0, 0.5], abs=0.08)
    assert np.abs(np.asarray(c.coef)[3:]).max() < 0.08
    assert c.intercept == pytest.approx(-0.7, abs=0.08)
    assert Calibrator.from_dict(c.to_dict()) == c
    assert all(type(v) is float for v in c.to_dict()["mean"])  # plain floats: loadable as weights
    assert expected_calibration_error(c.probability(x), right) < 0.02


def test_fragment_evidence_against_pyteomics_ladders() -> None:
    tokens = tuple("PEPTLDEK")  # 8 residues, 7 bonds
    b = fragment_ladder(tokens, "b", 1)  # b1..b7
    y = fragment_ladder(tokens, "y", 1)  # y1..y7
    # peaks at b2, b3, b4 (bonds 2-4) and y2 (bond 6), one noise peak
    mz = np.sort(np.array([b[1], b[2], b[3], y[1], 555.5]))
    intensity = np.array([1.0, 1.0, 1.0, 1.0, 4.0])[np.argsort(np.array([b[1], b[2], b[3], y[1], 555.5]))]
    x = dict(zip(FEATURES, features((0.9,) * 8, -2.0, -1.0, True, 3.0, 0, np.array(residue_masses(tokens)),
                                     mz, intensity, 2, 1.5, False, 0.02), strict=True))  # fmt: skip
    assert x["ion_coverage"] == pytest.approx(4 / 7)
    assert x["longest_ladder"] == pytest.approx(3 / 7)
    assert x["explained_intensity"] == pytest.approx(4 / 8)
    assert x["search_gap"] == pytest.approx(1.0)
    assert x["log_abs_ppm_error"] == pytest.approx(np.log(4.0))
    assert (x["n_residues"], x["charge"], x["charge_3_plus"]) == (8, 2, 0)
    assert x["rival_gap"] == 20.0  # no rival: as if far ahead


def test_rival_gap_is_the_lead_over_the_best_other_peptide_within_20() -> None:
    tokens = tuple("PEPTLDEK")
    masses = np.array(residue_masses(tokens))
    gap = FEATURES.index("rival_gap")

    def lead(rival: float | None) -> float:
        args = ((0.9,) * 8, -2.0, -1.0, True, 3.0, 0, masses, np.array([300.0]), np.ones(1), 2, 1.5, False, 0.02)
        return float(features(*args, rival_log_prob=rival)[gap])

    assert lead(-3.5) == pytest.approx(1.5)
    assert lead(-1.25) == pytest.approx(-0.75)  # a candidate behind its rival
    assert (lead(-40.0), lead(30.0), lead(None)) == (20.0, -20.0, 20.0)


def test_show_annotates_the_ions_pyteomics_computes() -> None:
    from trmseq.show import annotate
    from trmseq.spectrum import Spectrum
    from trmseq.vocab import Vocabulary

    tokens = ("P", "E", "P", "T", "L", "D", "E", "K")
    b1, y1, y2 = fragment_ladder(tokens, "b", 1), fragment_ladder(tokens, "y", 1), fragment_ladder(tokens, "y", 2)
    peaks = {b1[2] + 0.005: "b3", y1[4] - 0.004: "y5", y2[6]: "y7++", 480.0: None}
    mz = np.array(sorted(peaks))
    s = Spectrum(mz=mz, intensity=np.ones(len(mz), np.float32), precursor_mz=470.0, charge=3,
                 file="x.mgf", index=0, ref="index=0")  # fmt: skip
    found = {round(float(mz[m.peak]), 4): m.label for m in annotate(s, tokens, Vocabulary())}
    assert found == {round(k, 4): v for k, v in peaks.items() if v}
