"""The log-linear b/y intensity model: features, fitting, JSON and the shipped parameters."""

from __future__ import annotations

import json

import numpy as np
import pytest

from trmseq.intensity import (
    BASE_NAMES,
    FEATURE_NAMES,
    N_FEATURES,
    IntensityModel,
    fit,
    ion_features,
    load_default,
    pearson,
)

NB = len(BASE_NAMES)


def col(ion: str, name: str) -> int:
    return FEATURE_NAMES.index(f"{ion}:{name}")


def test_features_of_a_hand_made_peptide():
    # A K P R, charge 2: bonds A|K, K|P, P|R; rows b1 b2 b3 y1 y2 y3.
    x = ion_features("AKPR", 2)
    assert x.shape == (6, N_FEATURES)
    # b rows fill only the b half, y rows only the y half.
    assert not x[:3, NB:].any() and not x[3:, :NB].any()
    # b1 is the bond A|K: no residue two to the left, A on the left, K and P on the right.
    b1 = x[0]
    assert b1[col("b", "n1=A")] == 1 and b1[col("b", "c1=K")] == 1 and b1[col("b", "c2=P")] == 1
    assert sum(b1[col("b", f"n2={aa}")] for aa in "ACDEFGHKLMNPQRSTVWY") == 0
    assert b1[col("b", "bond1")] == 1 and b1[col("b", "bond-3")] == 1  # first and third-to-last
    # y1 (fragment R) is the bond P|R: K two to the left, P left, R right, nothing beyond.
    y1 = x[3]
    assert y1[col("y", "n2=K")] == 1 and y1[col("y", "n1=P")] == 1 and y1[col("y", "c1=R")] == 1
    assert y1[col("y", "bond-1")] == 1 and y1[col("y", "bond3")] == 1
    # Basic residues counted in the fragment itself: b2 = AK holds one K, y1 = R one R, y3 = KPR.
    assert x[0, col("b", "frag_K")] == 0 and x[1, col("b", "frag_K")] == 1
    assert x[3, col("y", "frag_R")] == 1 and x[3, col("y", "frag_K")] == 0
    assert x[5, col("y", "frag_K")] == 1 and x[5, col("y", "frag_R")] == 1
    # Bond b2 = K|P lies at relative position 2/4 = 0.5: the 0.5 hat is 1, its neighbours 0.
    assert x[1, col("b", "pos_hat0.5")] == 1 and x[1, col("b", "pos_hat0.25")] == 0
    # b1 at 0.25; y1's bond (P|R) at 0.75.
    assert x[0, col("b", "pos_hat0.25")] == 1 and x[3, col("y", "pos_hat0.75")] == 1
    # Charge 2: its indicator on every row, no 3+ terms.
    assert x[:3, col("b", "charge2")].tolist() == [1, 1, 1]
    assert x[:, col("b", "pos_x_charge3+")].sum() == 0
    # b1 = A (71.04 Da) lies between the 0 and 400 Da mass knots: 1 - 71.04/400 on the first.
    assert x[0, col("b", "mass_hat0")] == pytest.approx(1 - 71.03711 / 400, abs=1e-5)


def test_isoleucine_reads_as_leucine_and_unknown_residues_fail():
    assert np.array_equal(ion_features("PEPTIDEK", 2), ion_features("PEPTLDEK", 2))
    with pytest.raises(ValueError):
        ion_features("PEPXK", 2)
    with pytest.raises(ValueError):
        ion_features("K", 2)


def test_charge_three_turns_on_its_terms():
    x = ion_features("AKPRLLE", 3)
    assert x[0, col("b", "pos_x_charge3+")] == pytest.approx(1 / 7)
    assert x[:, col("b", "charge3")].sum() == 6  # the six b rows


def _random_peptides(rng: np.random.Generator, count: int) -> list[tuple[str, int]]:
    letters = np.array(list("ACDEFGHKLMNPQRSTVWY"))
    out = []
    for _ in range(count):
        n = int(rng.integers(6, 16))
        out.append(("".join(rng.choice(letters, n - 1)) + rng.choice(["K", "R"]), int(rng.integers(2, 4))))
    return out


def test_fit_recovers_a_known_log_linear_model():
    rng = np.random.default_rng(7)
    true_w = rng.normal(0.0, 0.7, N_FEATURES)
    truth = IntensityModel(weights=true_w)
    train = _random_peptides(rng, 300)
    examples = [(seq, z, 1000.0 * truth.predict(seq, z)) for seq, z in train]
    model = fit(examples, ridge=1e-4)
    for seq, z in _random_peptides(rng, 30):  # peptides the fit never saw
        assert np.abs(model.predict(seq, z) - truth.predict(seq, z)).max() < 2e-3
    # A noisy version (multinomial counts, zeros included) still gets close.
    noisy = [(seq, z, rng.multinomial(400, truth.predict(seq, z)).astype(float)) for seq, z in train]
    rough = fit(noisy, ridge=1.0)
    rs = [pearson(rough.predict(seq, z), truth.predict(seq, z)) for seq, z in _random_peptides(rng, 30)]
    assert np.median(rs) > 0.9


def test_fit_rejects_bad_input():
    with pytest.raises(ValueError):
        fit([("PEPK", 2, np.zeros(6))])  # nothing observed
    with pytest.raises(ValueError):
        fit([("PEPK", 2, np.ones(5))])  # wrong length


def test_json_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    model = IntensityModel(weights=rng.normal(size=N_FEATURES), ridge=0.5, info={"spectra": 3})
    path = tmp_path / "m.json"
    model.to_json(path)
    back = IntensityModel.from_json(path)
    assert np.abs(back.weights - model.weights).max() <= 5e-7  # stored to 6 decimals
    assert back.ridge == 0.5 and back.info == {"spectra": 3}
    np.testing.assert_allclose(back.predict("ELVLSPKR", 2), model.predict("ELVLSPKR", 2), atol=1e-5)
    data = json.loads(path.read_text())
    del data["weights"][FEATURE_NAMES[0]]
    with pytest.raises(ValueError):
        IntensityModel.from_dict(data)


def test_shipped_model_predicts_shares():
    model = load_default()
    assert model.weights.shape == (N_FEATURES,) and np.isfinite(model.weights).all()
    y_totals = []
    for seq in ("PEPTIDEK", "LGEYGFQNALIVR", "AC", "HHHHWWWMMMCCK", "VLSPADKTNVK"):
        for z in (1, 2, 3, 4, 6):
            p = model.predict(seq, z)
            assert len(p) == 2 * (len(seq) - 1)
            assert np.isfinite(p).all() and (p > 0).all()
            assert p.sum() == pytest.approx(1.0, abs=1e-9)
            b, y = model.predict_by(seq, z)
            assert len(b) == len(y) == len(seq) - 1
            if z == 2 and seq in ("PEPTIDEK", "LGEYGFQNALIVR", "VLSPADKTNVK"):
                y_totals.append(y.sum())
    # Real tryptic 2+ spectra put most of the b/y intensity into y ions (docs/synthetic.md);
    # not so HHHHWWWMMMCCK, whose b ions hold four histidines.
    assert min(y_totals) > 0.5


def test_the_generator_can_draw_b_y_intensities_from_the_fitted_model() -> None:
    from pyteomics_ref import fragment_ladder, residue_masses
    from trmseq.presets import SimulationParams
    from trmseq.synthetic import simulate_peaks

    tokens = tuple("LAHYNKR")
    params = SimulationParams(fitted_intensities=True)  # every b/y ion at 1+, no scatter or noise
    mz, intensity = simulate_peaks("LAHYNKR", np.array(residue_masses(tokens)), 2, params, np.random.default_rng(0))
    ions = np.r_[fragment_ladder(tokens, "b", 1), fragment_ladder(tokens, "y", 1)]  # pyteomics m/z
    at = [intensity[np.argmin(np.abs(mz - m))] for m in ions]
    expected = load_default().predict("LAHYNKR", 2)
    assert np.allclose(np.asarray(at) / sum(at), expected, rtol=1e-6)


def test_a_triply_charged_precursor_splits_each_fitted_ion_over_its_charges() -> None:
    from pyteomics_ref import fragment_ladder, residue_masses
    from trmseq.presets import SimulationParams
    from trmseq.synthetic import simulate_peaks

    seq = "LAHYNKRPEGFSTWK"
    tokens = tuple(seq)
    params = SimulationParams(fitted_intensities=True, max_fragment_charge=2, charge_mass=610.0,
                              charge_sharpness=1.75)  # fmt: skip
    mz, intensity = simulate_peaks(seq, np.array(residue_masses(tokens)), 3, params, np.random.default_rng(0))

    def at(z: int) -> np.ndarray:
        ions = np.r_[fragment_ladder(tokens, "b", z), fragment_ladder(tokens, "y", z)]  # pyteomics
        return np.array([intensity[np.argmin(np.abs(mz - m))] for m in ions])

    one, two = at(1), at(2)
    # The fitted model gives each ion's intensity over all its charges (as it was fitted) ...
    assert np.allclose((one + two) / (one + two).sum(), load_default().predict(seq, 3), rtol=1e-6)
    # ... and heavy fragments carry it at 2+, light ones at 1+, as in real 3+ spectra.
    singly = np.r_[fragment_ladder(tokens, "b", 1), fragment_ladder(tokens, "y", 1)]
    share = two / (one + two)
    assert share[singly < 400].max() < 0.1 and share[singly > 1400].min() > 0.9
    n = len(seq) - 1  # b1..b(n), then y1..y(n): each series grows in mass
    assert np.all(np.diff(share[:n]) >= -1e-12) and np.all(np.diff(share[n:]) >= -1e-12)


def test_weak_ions_are_absent_or_clear_as_often_as_the_presence_rule_says() -> None:
    from pyteomics_ref import fragment_ladder, residue_masses
    from trmseq.presets import SimulationParams
    from trmseq.synthetic import simulate_peaks

    seq, tokens = "LAHYNKR", tuple("LAHYNKR")
    params = SimulationParams(fitted_intensities=True, presence_ref=0.3, presence_power=1.0)
    ions = np.r_[fragment_ladder(tokens, "b", 1), fragment_ladder(tokens, "y", 1)]  # pyteomics m/z
    share = load_default().predict(seq, 2)
    relative = share / share.max()
    draws = 400
    seen = np.zeros(len(ions))
    for i in range(draws):
        mz, intensity = simulate_peaks(seq, np.array(residue_masses(tokens)), 2, params, np.random.default_rng(i))
        for j, m in enumerate(ions):
            hit = np.abs(mz - m) < 1e-6
            if hit.any():
                seen[j] += 1
                expected = relative[j] if relative[j] >= 0.3 else 0.3  # a weak ion comes at 0.3 of the top
                assert intensity[hit][0] / 1e4 == pytest.approx(expected, rel=1e-6)
    chance = np.minimum(1.0, relative / 0.3)
    assert (chance < 1).sum() >= 3  # the peptide has weak ions to test
    spread = np.sqrt(chance * (1 - chance) / draws)
    assert np.all(np.abs(seen / draws - chance) <= 4 * spread + 1e-9)
