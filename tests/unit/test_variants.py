"""Real spectra relabelled with substituted residues: the peaks move as pyteomics says they must."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import pyteomics_ref as ref
from trmseq.config import DataConfig
from trmseq.data import AnnotatedSet, SyntheticStream
from trmseq.peptides import PeptideSampler
from trmseq.spectrum import Spectrum
from trmseq.tokenizer import Tokenizer
from trmseq.train.batches import BatchMaker
from trmseq.variants import _peak_shifts, substitute
from trmseq.vocab import Vocabulary

VOCAB = Vocabulary()
DATA = DataConfig()
PEPTIDE = ("+42.011", "S", "A", "G", "E", "F", "L", "T", "C+57.021", "D", "W", "K")
NOISE = 333.3333  # explained by no ion of any peptide tried here (checked below)


def ions(tokens, charge: int) -> list[float]:
    """b and y at 1+, and y at 2+ for a 3+ precursor (pyteomics)."""
    out = ref.fragment_ladder(tokens, "b", 1) + ref.fragment_ladder(tokens, "y", 1)
    return out + (ref.fragment_ladder(tokens, "y", 2) if charge >= 3 else [])


def spectrum_of(tokens, charge: int) -> Spectrum:
    mz = np.array(sorted(ions(tokens, charge) + [NOISE]))
    intensity = np.linspace(1.0, 2.0, len(mz)).astype(np.float32)
    return Spectrum(mz, intensity, ref.precursor_mz(tokens, charge), charge, "toy.mgf", 0, "index=0")


@pytest.mark.parametrize("charge", [2, 3])
def test_every_ion_moves_to_the_new_peptides_ion_and_noise_stays(charge: int) -> None:
    original = ions(PEPTIDE, charge)
    assert np.min(np.diff(np.sort(original))) > 0.05  # no two ions of the toy coincide
    assert not ref.near([NOISE], original, tol_da=0.05).any()
    for seed in range(40):
        moved, peptide = substitute((spectrum_of(PEPTIDE, charge), PEPTIDE), VOCAB, DATA,
                                    np.random.default_rng(seed))  # fmt: skip
        assert peptide != PEPTIDE and len(peptide) == len(PEPTIDE)
        precursor = ref.precursor_mz(peptide, charge)
        assert moved.precursor_mz == pytest.approx(precursor, abs=1e-6)
        tol = DATA.remove_precursor_tol_da
        expected = [m for m in ions(peptide, charge) + [NOISE]
                    if DATA.min_mz <= m <= DATA.max_mz and abs(m - precursor) > tol]  # fmt: skip
        if ref.near([NOISE], ions(peptide, charge), tol_da=0.05).any():
            continue  # the new peptide happens to explain the noise peak
        np.testing.assert_allclose(moved.mz, np.sort(expected), atol=1e-6)
        assert np.linalg.norm(moved.intensity) == pytest.approx(1.0, abs=1e-5)


def test_substitutions_leave_fragmentation_residues_and_the_c_terminus_alone() -> None:
    changed = 0
    for seed in range(300):
        _, peptide = substitute((spectrum_of(PEPTIDE, 2), PEPTIDE), VOCAB, DATA, np.random.default_rng(seed))
        diff = [i for i, (a, b) in enumerate(zip(PEPTIDE, peptide, strict=True)) if a != b]
        assert 1 <= len(diff) <= 2
        assert peptide[0] == "+42.011" and peptide[-1] == "K"
        for i in diff:
            assert peptide[i][0] not in "PHKR"
            assert abs(VOCAB[peptide[i]].mass - VOCAB[PEPTIDE[i]].mass) > 0.05
        changed += len(diff)
    assert changed > 300  # two substitutions about half the time


def test_a_peptide_with_nothing_to_replace_gives_none() -> None:
    peptide = ("P", "H", "K", "R")
    assert substitute((spectrum_of(peptide, 2), peptide), VOCAB, DATA, np.random.default_rng(0)) is None


def test_a_peak_two_ions_explain_with_different_shifts_is_dropped() -> None:
    # residue 1 = residue 3 + water, so b1 and y1 coincide; changing residue 1 moves b1 only
    masses = np.array([119.0, 57.0, 119.0 - ref.H2O])
    b1 = 119.0 + ref.PROTON
    shifts = _peak_shifts(np.array([b1, 500.0]), masses, np.array([10.0, 0.0, 0.0]), 2)
    assert np.isnan(shifts[0]) and shifts[1] == 0.0


def test_real_variants_explain_their_spectra_as_well_as_the_originals(casanovo_sample: Path) -> None:
    real = AnnotatedSet([casanovo_sample], DATA, Tokenizer(VOCAB), max_length=40)

    def coverage(spectrum: Spectrum, peptide) -> float:
        theo = ref.fragment_ladder(peptide, "b", 1) + ref.fragment_ladder(peptide, "y", 1)
        return float(np.mean(ref.near(theo, spectrum.mz, tol_da=0.006, tol_ppm=20)))

    before, after = [], []
    for k, example in enumerate(real.examples):
        moved, peptide = substitute(example, VOCAB, DATA, np.random.default_rng(k))
        assert peptide != example[1]
        before.append(coverage(*example))
        after.append(coverage(moved, peptide))
        assert abs(moved.precursor_mz - ref.precursor_mz(peptide, moved.charge)) < 20e-6 * moved.precursor_mz + 0.02
    assert np.mean(after) == pytest.approx(np.mean(before), abs=0.03)
    assert np.mean(before) > 0.3


def test_batches_use_variants_at_the_configured_share(casanovo_sample: Path) -> None:
    tokenizer = Tokenizer(VOCAB)
    real = AnnotatedSet([casanovo_sample], DATA, tokenizer, max_length=40)
    synthetic = SyntheticStream(PeptideSampler(VOCAB), DATA, seed=0)

    def targets(share: float) -> list[list[int]]:
        maker = BatchMaker(synthetic, real, tokenizer, seed=3, batch_size=40, synthetic_fraction=0.0,
                           real_variants=share)  # fmt: skip
        batch = maker(0, ["realistic"], [1.0], 30)
        assert batch.targets is not None and batch.target_lengths is not None
        return [batch.targets[i, : batch.target_lengths[i]].tolist() for i in range(len(batch))]

    plain, none, every = targets(0.0), targets(0.0), targets(1.0)
    assert plain == none  # a pure function of the step
    originals = {tuple(tokenizer.encode(p)) for _, p in real.examples}
    assert all(tuple(t) in originals for t in plain)
    assert sum(tuple(t) not in originals for t in every) == len(every)
