"""A teacher bank: b/y intensities from a stronger model for training's synthetic spectra."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import pyteomics_ref as ref
from trmseq.config import DataConfig
from trmseq.data import SyntheticStream
from trmseq.errors import ConfigError
from trmseq.peptides import PeptideSampler
from trmseq.synthetic import PRESETS, simulate_peaks
from trmseq.teacher import VALIDATION_EVERY, TeacherBank, level_split
from trmseq.vocab import DEFAULT_VARIABLE_MODS, Vocabulary

VOCAB = Vocabulary()
# The realistic preset with everything random or extra switched off: what remains is each b/y
# ion's level and its split between fragment charges.
BARE = dataclasses.replace(
    PRESETS["realistic"], ion_types=("b", "y"), dropout=0.0, isotopes=False, intensity_sigma=0.0,
    bond_sigma=0.0, ppm=0.0, detection_limit=0.0, real_background=False, presence_ref=0.0,
    noise_peaks=0.0, precursor_peak=0.0, precursor_loss=0.0, immonium_rate=0.0, internal_peaks=0.0,
    teacher_power=1.0,
)  # fmt: skip


def levels_for(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.1, 1.0, (4, n - 1))


def entries() -> list[tuple[tuple[str, ...], int, np.ndarray]]:
    peptides = [("P", "E", "P", "T", "L", "D", "E", "K"), ("+42.011", "M+15.995", "C+57.021", "L", "R"),
                ("S", "A", "M", "P", "L", "E", "R", "G", "K")]  # fmt: skip
    charges = (2, 3, 3)
    return [(p, z, levels_for(VOCAB.n_residues(p), k)) for k, (p, z) in enumerate(zip(peptides, charges, strict=True))]


def test_level_split_sums_charges_and_keeps_their_shares() -> None:
    b1, y1, b2, y2 = np.array([[1.0, 0.0, 2.0], [0.5, 0.5, 0.0], [3.0, 0.0, 2.0], [0.0, 0.5, 0.0]])
    (b, y), (wb, wy) = level_split(np.stack([b1, y1, b2, y2]), 1)
    np.testing.assert_allclose(b, b1)  # a 2+ precursor's spectrum has 1+ fragments only
    np.testing.assert_allclose(y, y1)
    np.testing.assert_allclose(wb, [[1, 1, 1]])
    (b, y), (wb, wy) = level_split(np.stack([b1, y1, b2, y2]), 3)
    np.testing.assert_allclose(b, [4.0, 0.0, 4.0])
    np.testing.assert_allclose(y, [0.5, 1.0, 0.0])
    np.testing.assert_allclose(wb, [[0.25, 1.0, 0.5], [0.75, 0.0, 0.5], [0, 0, 0]])  # no 3+ level
    np.testing.assert_allclose(wy, [[1.0, 0.5, 1.0], [0.0, 0.5, 0.0], [0, 0, 0]])


@pytest.mark.parametrize("power", [1.0, 0.5])
def test_simulate_peaks_puts_the_teacher_levels_on_the_ion_masses(power: float) -> None:
    tokens = ("S", "A", "M", "P", "L", "E", "R", "G", "K")
    levels = levels_for(9, 7)
    params = dataclasses.replace(BARE, teacher_power=power)
    mz, intensity = simulate_peaks(VOCAB.residues(tokens), VOCAB.residue_masses(tokens), 3, params,
                                   np.random.default_rng(0), levels)  # fmt: skip
    levels = levels**power
    found = {}
    for ion in ("b", "y"):
        for z in (1, 2):
            expected = ref.fragment_ladder(tokens, ion, z)  # pyteomics, ion i at index i - 1
            hit = [int(np.argmin(np.abs(mz - x))) for x in expected]
            assert np.abs(mz[hit] - expected).max() < 1e-6
            found[ion, z] = intensity[hit]
    # Intensities are rescaled to a base peak of 1e4; the teacher's are relative.
    scale = found["b", 1][0] / levels[0, 0]
    np.testing.assert_allclose(found["b", 1], scale * levels[0], rtol=1e-6)
    np.testing.assert_allclose(found["y", 1], scale * levels[1], rtol=1e-6)
    np.testing.assert_allclose(found["b", 2], scale * levels[2], rtol=1e-6)
    np.testing.assert_allclose(found["y", 2], scale * levels[3], rtol=1e-6)


def test_the_teacher_path_skips_the_presence_rule_but_keeps_the_bond_scatter() -> None:
    tokens = ("S", "A", "M", "P", "L", "E", "R", "G", "K")
    levels = levels_for(9, 7)
    levels[:, 3] = 1e-4  # weak enough for the presence rule to drop it, were it applied
    args = (VOCAB.residues(tokens), VOCAB.residue_masses(tokens), 3)
    strict = dataclasses.replace(BARE, presence_ref=0.5, presence_power=4.0)
    mz, intensity = simulate_peaks(*args, strict, np.random.default_rng(0), levels)
    b4 = ref.fragment_ladder(tokens, "b", 1)[3]
    assert np.abs(mz - b4).min() < 1e-6  # still there
    scattered = dataclasses.replace(BARE, bond_sigma=0.7)
    one = simulate_peaks(*args, scattered, np.random.default_rng(1), levels)[1]
    two = simulate_peaks(*args, scattered, np.random.default_rng(2), levels)[1]
    assert not np.allclose(one / one.max(), two / two.max())


def test_without_a_fitted_preset_the_teacher_is_ignored() -> None:
    tokens = ("P", "E", "P", "T", "L", "D", "E", "K")
    args = (VOCAB.residues(tokens), VOCAB.residue_masses(tokens), 2, PRESETS["hard"])
    plain = simulate_peaks(*args, np.random.default_rng(3))
    taught = simulate_peaks(*args, np.random.default_rng(3), levels_for(8, 1))
    np.testing.assert_array_equal(plain[0], taught[0])
    np.testing.assert_array_equal(plain[1], taught[1])


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    bank = TeacherBank.from_entries(entries(), VOCAB)
    bank.save(tmp_path / "bank.npz", VOCAB)
    loaded = TeacherBank.load(tmp_path / "bank.npz", VOCAB)
    assert len(loaded) == 3
    for i, (peptide, charge, levels) in enumerate(entries()):
        got = loaded.entry(i)
        assert got[0] == peptide and got[1] == charge
        np.testing.assert_allclose(got[2], levels, rtol=1e-6)


def test_bad_banks_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"PEPTLDEK: levels of shape \(4, 3\), expected \(4, 7\)"):
        TeacherBank.from_entries([(entries()[0][0], 2, np.zeros((4, 3)))], VOCAB)
    (tmp_path / "junk.npz").write_text("not numpy")
    with pytest.raises(ConfigError, match="junk.npz: not a teacher bank"):
        TeacherBank.load(tmp_path / "junk.npz", VOCAB)
    bank = TeacherBank.from_entries(entries(), VOCAB)
    bank.save(tmp_path / "bank.npz", VOCAB)
    no_oxidation = Vocabulary(variable_mods=tuple(m for m in DEFAULT_VARIABLE_MODS if "15.995" not in m))
    with pytest.raises(ConfigError, match="does not fit the model's vocabulary.*M\\+15.995"):
        TeacherBank.load(tmp_path / "bank.npz", no_oxidation)
    # Levels that do not add up to the peptides' lengths: damaged, not a reshape error later.
    np.savez_compressed(tmp_path / "short.npz", peptides=np.array([VOCAB.mass_offset(p) for p in bank.peptides]),
                        charge=bank.charge, levels=bank.levels[:-4], start=bank.start - np.r_[0, 0, 0, 4])  # fmt: skip
    with pytest.raises(ConfigError, match="short.npz: a damaged teacher bank"):
        TeacherBank.load(tmp_path / "short.npz", VOCAB)


def test_draws_keep_to_the_length_and_charges_asked_for() -> None:
    bank = TeacherBank.from_entries(entries(), VOCAB)  # 8 residues 2+, 4 residues 3+, 9 residues 3+
    rng = np.random.default_rng(0)
    assert {bank.draw(rng, 8, (2, 3))[0] for _ in range(60)} == {entries()[0][0], entries()[1][0]}
    assert {bank.draw(rng, 30, (3,))[1] for _ in range(30)} == {3}
    assert {bank.draw(rng, 4, (2, 3, 4))[0] for _ in range(10)} == {entries()[1][0]}
    with pytest.raises(ValueError, match="no teacher entry of at most 3 residues"):
        bank.draw(rng, 3, (2, 3))


def test_validation_entries_are_held_out_of_training() -> None:
    many = [(p, z, x) for _ in range(40) for p, z, x in entries()]  # 120 entries
    bank = TeacherBank.from_entries(many, VOCAB)
    train, val = bank.split(validation=False), bank.split(validation=True)
    assert len(val) == len(range(0, 120, VALIDATION_EVERY)) and len(train) + len(val) == 120
    for k, i in enumerate(range(0, 120, VALIDATION_EVERY)):
        assert val.entry(k)[:2] == bank.entry(i)[:2]
        np.testing.assert_array_equal(val.entry(k)[2], bank.entry(i)[2])
    assert train.entry(0)[0] == bank.entry(1)[0]


def test_a_stream_with_a_teacher_draws_its_peptides_charges_and_lengths() -> None:
    bank = TeacherBank.from_entries(entries(), VOCAB)
    sampler = PeptideSampler(VOCAB, 2, 8)  # the 9-residue entry is too long
    stream = SyntheticStream(sampler, DataConfig(), seed=0, charges=(2, 3), teacher=bank)
    seen = {stream.example(i, ["realistic"], [1.0])[1] for i in range(60)}
    assert seen == {entries()[0][0], entries()[1][0]}
    stream = SyntheticStream(sampler, DataConfig(), seed=0, charges=(2,), teacher=bank)
    assert {stream.example(i, ["realistic"], [1.0])[0].charge for i in range(30)} == {2}
