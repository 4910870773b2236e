"""Background peaks copied from real spectra: the bank, its draws, and the realistic preset."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from trmseq.background import NEIGHBOURS, BackgroundBank, load_default
from trmseq.peptides import PeptideSampler
from trmseq.synthetic import PRESETS, generate
from trmseq.vocab import Vocabulary


def toy_bank() -> BackgroundBank:
    """Donor k of charge z: neutral mass 1000 + 10 k, peaks at m/z 150, 300 and 900 whose
    heights name it: 1, (k + 1) / 100 and z / 10."""
    donors = []
    for z in (2, 3):
        for k in range(40):
            rel = np.array([1.0, (k + 1) / 100, z / 10])
            donors.append((1000.0 + 10 * k, z, np.array([150.0, 300.0, 900.0]), rel))
    return BackgroundBank.from_donors(donors[::-1])  # any order in, sorted inside


def donor_of(rel: np.ndarray) -> tuple[int, int]:
    """(charge, k) of the donor a toy draw came from."""
    return int(round(rel[2] * 10)), int(round(rel[1] * 100)) - 1


def test_draw_takes_a_donor_of_the_same_charge_and_a_near_mass() -> None:
    bank, rng = toy_bank(), np.random.default_rng(0)
    for target_z, target_mass in ((2, 1200.0), (3, 1200.0), (2, 1000.0), (3, 1490.0)):
        seen = set()
        for _ in range(300):
            mz, rel = bank.draw(target_mass, target_z, rng)
            z, k = donor_of(rel)
            assert z == target_z
            seen.add(k)
            np.testing.assert_array_equal(mz, [150.0, 300.0, 900.0])  # all below mass + 20
        # The NEIGHBOURS donors nearest in mass (ties either way).
        assert len(seen) == NEIGHBOURS
        distances = np.abs(np.array([1000.0 + 10 * k for k in range(40)]) - target_mass)
        assert max(distances[k] for k in seen) <= np.sort(distances)[NEIGHBOURS - 1]


def test_draw_cuts_peaks_above_the_peptide_mass_and_falls_back_to_the_nearest_charge() -> None:
    bank, rng = toy_bank(), np.random.default_rng(1)
    mz, _ = bank.draw(870.0, 2, rng)
    np.testing.assert_array_equal(mz, [150.0, 300.0])  # 900 lies above 870 + 20
    for _ in range(50):
        assert donor_of(bank.draw(1500.0, 1, rng)[1])[0] == 2  # no 1+ donors: the nearest
        assert donor_of(bank.draw(1500.0, 5, rng)[1])[0] == 3


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    bank = toy_bank()
    bank.save(tmp_path / "bank.npz")
    back = BackgroundBank.load(tmp_path / "bank.npz")
    for field in dataclasses.fields(BackgroundBank):
        np.testing.assert_array_equal(getattr(bank, field.name), getattr(back, field.name))
    with pytest.raises(ValueError, match="at least one donor"):
        BackgroundBank.from_donors([])


def test_the_shipped_bank_is_sane() -> None:
    bank = load_default()
    assert len(bank) > 500
    assert np.all(np.diff(bank.start) >= 0) and bank.start[-1] == len(bank.mz)
    assert np.all((bank.intensity > 0) & (bank.intensity <= 1.0))
    assert np.all(bank.mz > 0)
    assert set(np.unique(bank.charge)) <= {1, 2, 3, 4, 5, 6}
    # Sorted by (charge, mass): draw relies on it.
    key = bank.charge * 1e5 + bank.mass
    assert np.all(np.diff(key) >= 0)


def test_realistic_spectra_carry_bank_peaks_and_the_formula_preset_does_not() -> None:
    vocab, bank = Vocabulary(), load_default()
    bank_mz = set(bank.mz.astype(np.float64).tolist())
    sampler = PeptideSampler(vocab)
    formula = dataclasses.replace(PRESETS["realistic"], real_background=False)

    def share_from_bank(params) -> float:
        hits = total = 0
        for s in generate(30, sampler, params, seed=3):
            hits += sum(m in bank_mz for m in s.mz.tolist())  # bank peaks keep their exact m/z
            total += len(s.mz)
        return hits / total

    assert share_from_bank(PRESETS["realistic"]) > 0.4  # most real peaks are unexplained
    assert share_from_bank(formula) == 0.0
