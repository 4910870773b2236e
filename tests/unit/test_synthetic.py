"""The synthetic spectrum generator, checked with pyteomics masses and by reading its MGF back."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from pyteomics import mgf

import pyteomics_ref as ref
from trmseq.errors import ConfigError
from trmseq.peptides import PeptideSampler
from trmseq.synthetic import (
    PRESETS,
    SimulationParams,
    generate,
    simulate_peaks,
    write_synthetic_mgf,
)
from trmseq.vocab import Vocabulary

VOCAB = Vocabulary()
ALL_IONS = ("a", "b", "y", "b-H2O", "b-NH3", "y-H2O", "y-NH3")


def read_back(path: Path) -> list[dict]:
    with mgf.MGF(str(path)) as reader:
        return list(reader)


def spectra(preset: str, n: int = 100, seed: int = 11, **kwargs) -> list:
    sampler = PeptideSampler(VOCAB, **kwargs)
    return list(generate(n, sampler, PRESETS[preset], seed=seed))


def ladder(tokens: list[str], ion_types=("b", "y"), charges=(1,)) -> np.ndarray:
    masses = ref.residue_masses(tokens)
    return np.concatenate(
        [ref.ions_by_hand(masses, ion, z) for ion in ion_types for z in charges]
    )


# -- precursor and annotation ------------------------------------------------------------------


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("notation", ["mass-offset", "proforma"])
def test_annotation_mass_fits_precursor(tmp_path: Path, preset: str, notation: str) -> None:
    path = tmp_path / "s.mgf"
    assert write_synthetic_mgf(path, 150, VOCAB, seed=5, preset=preset, notation=notation) == 150
    records = read_back(path)
    assert len(records) == 150
    # PEPMASS is written with 6 decimals; noisy presets jitter it by precursor_ppm (2 sigma).
    tol_ppm = 0.01 + 4 * PRESETS[preset].precursor_ppm
    offsets = Counter()
    for r in records:
        p = r["params"]
        charge = int(p["charge"][0])
        seq = p["seq"]
        if notation == "proforma":
            mass = ref.proforma_mass(seq)
        else:
            mass = ref.peptide_mass(ref.split_mass_offset(seq))
        observed = (p["pepmass"][0] - ref.PROTON) * charge
        errors = {k: (observed - k * ref.C13_DIFF - mass) / mass * 1e6 for k in (0, 1)}
        k = min(errors, key=lambda i: abs(errors[i]))
        assert abs(errors[k]) <= tol_ppm, (seq, charge, errors)
        offsets[k] += 1
        assert 1 <= charge <= 4
    if PRESETS[preset].isotope_error_rate == 0:
        assert offsets[1] == 0
    else:
        assert offsets[1] > 0


def test_lengths_and_charges_respected(tmp_path: Path) -> None:
    path = tmp_path / "s.mgf"
    write_synthetic_mgf(path, 200, VOCAB, seed=2, preset="clean", lengths=(8, 10), charges=(2, 3))
    for r in read_back(path):
        tokens = ref.split_mass_offset(r["params"]["seq"])
        assert 8 <= sum(t[0].isalpha() for t in tokens) <= 10
        assert int(r["params"]["charge"][0]) in (2, 3)


# -- determinism and slices ---------------------------------------------------------------------


@pytest.mark.parametrize("preset", ["clean", "realistic"])
def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path, preset: str) -> None:
    paths = [tmp_path / f"{i}.mgf" for i in range(3)]
    for path, seed in zip(paths, (7, 7, 8), strict=True):
        write_synthetic_mgf(path, 40, VOCAB, seed=seed, preset=preset)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()


def test_slices_match_a_longer_run() -> None:
    sampler = PeptideSampler(VOCAB)
    params = PRESETS["realistic"]
    whole = list(generate(25, sampler, params, seed=4))
    tail = list(generate(10, sampler, params, seed=4, start=15))
    assert [s.index for s in tail] == list(range(15, 25))
    assert [s.ref for s in tail] == [f"index={i}" for i in range(15, 25)]
    for a, b in zip(whole[15:], tail, strict=True):
        np.testing.assert_array_equal(a.mz, b.mz)
        np.testing.assert_array_equal(a.intensity, b.intensity)
        assert (a.precursor_mz, a.charge, a.annotation, a.title) == (
            b.precursor_mz, b.charge, b.annotation, b.title,
        )  # fmt: skip


def test_presets_give_different_files(tmp_path: Path) -> None:
    contents = set()
    for preset in PRESETS:
        path = tmp_path / f"{preset}.mgf"
        write_synthetic_mgf(path, 10, VOCAB, seed=1, preset=preset)
        contents.add(path.read_bytes())
    assert len(contents) == len(PRESETS)


# -- what each preset puts in a spectrum ---------------------------------------------------------


def test_clean_is_exactly_the_b_y_ladder() -> None:
    for s in spectra("clean"):
        theo = ladder(ref.split_mass_offset(s.annotation))
        assert ref.near(s.mz, theo, tol_da=1e-6).all(), s.annotation  # nothing off the ladder
        assert ref.near(theo, s.mz, tol_da=1e-6).all(), s.annotation  # nothing missing
        assert np.all(s.intensity == s.intensity[0])


def test_moderate_has_noise_and_missing_ions() -> None:
    unexplained = missing = 0
    for s in spectra("moderate"):
        tokens = ref.split_mass_offset(s.annotation)
        unexplained += int((~ref.near(s.mz, ladder(tokens, charges=(1, 2)), tol_da=1e-6)).sum())
        missing += int((~ref.near(ladder(tokens), s.mz, tol_da=1e-6)).sum())
    assert unexplained > 100  # about 5 noise peaks per spectrum
    assert missing > 100  # about 10% of fragments dropped


def test_realistic_has_more_peaks_a_ions_and_isotopes() -> None:
    clean = spectra("clean")
    real = spectra("realistic")
    assert np.mean([s.n_peaks for s in real]) > 2 * np.mean([s.n_peaks for s in clean])

    def per_spectrum(group: list, ions) -> float:
        """Mean number of peaks within 30 ppm of the given ions."""
        hits = []
        for s in group:
            masses = ref.residue_masses(ref.split_mass_offset(s.annotation))
            hits.append(ref.near(s.mz, ions(masses), tol_ppm=30).sum())
        return float(np.mean(hits))

    def a_ions(masses):
        return ref.ions_by_hand(masses, "a", 1)

    def y_isotopes(masses):
        return np.array(ref.ions_by_hand(masses, "y", 1)) + ref.C13_DIFF

    def water_losses(masses):
        return ref.ions_by_hand(masses, "y-H2O", 1) + ref.ions_by_hand(masses, "b-H2O", 1)

    # Clean spectra match these only by coincidence (a b ion within 30 ppm of a y-H2O, say).
    for ions, least in ((a_ions, 0.5), (y_isotopes, 1.0), (water_losses, 1.0)):
        assert per_spectrum(clean, ions) < 0.3, ions.__name__
        assert per_spectrum(real, ions) > least, ions.__name__


def test_fragment_charge_stays_below_precursor_charge() -> None:
    params = SimulationParams(
        ion_types=ALL_IONS, max_fragment_charge=3, a_ratio=0.1, loss_ratio=0.1
    )
    tokens = ref.split_mass_offset("PEPTM+15.995LDEKAGLSC+57.021HNYR")
    residues = "PEPTMLDEKAGLSCHNYR"
    masses = np.array(ref.residue_masses(tokens))
    for precursor_charge in (1, 2, 3, 4):
        rng = np.random.default_rng(0)
        mz, _ = simulate_peaks(residues, masses, precursor_charge, params, rng)
        allowed = range(1, max(1, precursor_charge - 1) + 1)
        assert ref.near(mz, ladder(tokens, ALL_IONS, allowed), tol_da=1e-6).all()
        for z in allowed:
            assert ref.near(ladder(tokens, ALL_IONS, (z,)), mz, tol_da=1e-6).all()


def test_detection_limit_is_raised_for_high_precursor_charges() -> None:
    # b/y only, scattered heights and nothing else: what survives is what the limit keeps.
    params = SimulationParams(bond_sigma=1.0, detection_limit=0.05, high_charge_limit=4.0)
    residues = "PEPTMLDEKAGLSCHNYR"
    masses = np.array(ref.residue_masses(ref.split_mass_offset("PEPTMLDEKAGLSC+57.021HNYR")))
    for charge, limit in ((2, 0.05), (3, 0.2), (4, 0.2)):
        weakest = []
        for seed in range(20):
            _, intensity = simulate_peaks(residues, masses, charge, params, np.random.default_rng(seed))
            weakest.append(intensity.min() / intensity.max())
        assert min(weakest) >= limit, charge
        assert min(weakest) < 1.5 * limit, charge  # the limit itself bites, not just the scatter
    with pytest.raises(ValueError):
        SimulationParams(high_charge_limit=0.0)


def test_fragment_charge_in_moderate_files(tmp_path: Path) -> None:
    path = tmp_path / "m.mgf"
    write_synthetic_mgf(path, 200, VOCAB, seed=9, preset="moderate")
    doubly = Counter()
    for r in read_back(path):
        z = int(r["params"]["charge"][0])
        tokens = ref.split_mass_offset(r["params"]["seq"])
        mz = r["m/z array"]
        only_2 = ref.near(mz, ladder(tokens, charges=(2,)), tol_da=2e-5) & ~ref.near(
            mz, ladder(tokens, charges=(1,)), tol_da=2e-5
        )
        doubly[z] += int(only_2.sum())
    assert doubly[1] == 0 and doubly[2] == 0
    assert doubly[3] > 0


# -- peptides drawn -------------------------------------------------------------------------------


def modified_share(peptides: list[tuple[str, ...]]) -> tuple[float, float]:
    residues = [t for p in peptides for t in p if t[0] in "MNQ"]
    mods = sum("+" in t for t in residues)
    nterm = sum(p[0][0] in "+-" for p in peptides)
    return mods / len(residues), nterm / len(peptides)


@pytest.mark.parametrize(
    ("mod_rate", "nterm_rate"), [(0.0, 0.0), (1.0, 1.0), (0.3, 0.5), (0.15, 0.05)]
)
def test_mod_rates(mod_rate: float, nterm_rate: float) -> None:
    sampler = PeptideSampler(VOCAB, mod_rate=mod_rate, nterm_rate=nterm_rate)
    peptides = [sampler.sample(np.random.default_rng([3, i])) for i in range(2000)]  # SE 0.011
    mods, nterm = modified_share(peptides)
    assert mods == pytest.approx(mod_rate, abs=0.06)
    assert nterm == pytest.approx(nterm_rate, abs=0.05)
    for p in peptides:  # every C carries the fixed modification; no I
        assert "C" not in p and "I" not in p


def test_mod_rate_zero_in_files(tmp_path: Path) -> None:
    path = tmp_path / "s.mgf"
    write_synthetic_mgf(path, 200, VOCAB, seed=1, preset="clean", mod_rate=0.0, nterm_rate=0.0)
    for r in read_back(path):
        tokens = ref.split_mass_offset(r["params"]["seq"])
        assert all(t == "C+57.021" or len(t) == 1 for t in tokens), tokens


def test_generated_peptides_use_only_vocabulary_tokens() -> None:
    for s in spectra("clean", n=200, seed=3, mod_rate=0.5, nterm_rate=0.5):
        tokens = ref.split_mass_offset(s.annotation)
        assert set(tokens) <= set(VOCAB.names)
        assert all(t[0] not in "+-" for t in tokens[1:])


# -- bad arguments ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"preset": "nope"}, "nope"),
        ({"notation": "peaks"}, "peaks"),
        ({"lengths": (10, 5)}, "length"),
        ({"charges": (4, 2)}, "charge"),
    ],
)
def test_bad_arguments_leave_no_file(tmp_path: Path, kwargs: dict, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        write_synthetic_mgf(tmp_path / "s.mgf", 5, VOCAB, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_failure_midway_leaves_no_file(tmp_path: Path) -> None:
    calls = []

    def stop() -> None:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_synthetic_mgf(tmp_path / "s.mgf", 10, VOCAB, on_spectrum=stop)
    assert list(tmp_path.iterdir()) == []


def test_simulation_params_validation() -> None:
    with pytest.raises(ValueError):
        SimulationParams(dropout=1.5)
    with pytest.raises(ValueError):
        dataclasses.replace(PRESETS["clean"], y_fraction=-0.1)
