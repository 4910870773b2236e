"""Peak preprocessing, skip reasons and the skip counter."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trmseq.config import DataConfig
from trmseq.spectrum import SkipCounter, Spectrum, preprocess, skip_reason

LOOSE = DataConfig(min_peaks=0)


def make(
    mz, intensity, precursor_mz: float = 1000.0, charge: int | None = 2, index: int = 0
) -> Spectrum:
    return Spectrum(
        mz=np.asarray(mz, dtype=np.float64),
        intensity=np.asarray(intensity, dtype=np.float32),
        precursor_mz=precursor_mz,
        charge=charge,
        file="t.mgf",
        index=index,
        ref=f"index={index}",
        title=f"s{index}",
    )


def kept(spectrum: Spectrum, config: DataConfig = LOOSE) -> Spectrum:
    out = preprocess(spectrum, config)
    assert isinstance(out, Spectrum), out
    return out


def test_mz_window_is_inclusive() -> None:
    out = kept(make([49.9, 50.0, 100.0, 2500.0, 2500.1], [1, 1, 1, 1, 1]))
    np.testing.assert_array_equal(out.mz, [50.0, 100.0, 2500.0])
    config = DataConfig(min_peaks=0, min_mz=100, max_mz=300)
    out = kept(make([99.0, 150.0, 301.0], [1, 1, 1]), config)
    np.testing.assert_array_equal(out.mz, [150.0])


def test_precursor_peak_is_removed() -> None:
    out = kept(make([497.9, 498.5, 500.0, 501.5, 502.1], [1, 1, 1, 1, 1], precursor_mz=500.0))
    np.testing.assert_array_equal(out.mz, [497.9, 502.1])
    config = DataConfig(min_peaks=0, remove_precursor_tol_da=0.1)
    out = kept(make([499.85, 499.95, 500.0, 500.05, 500.15], [1] * 5, precursor_mz=500.0), config)
    np.testing.assert_array_equal(out.mz, [499.85, 500.15])


def test_precursor_is_removed_before_top_k() -> None:
    config = DataConfig(min_peaks=0, n_peaks=2)
    out = kept(make([200.0, 300.0, 400.0, 600.0], [5, 1e9, 7, 6], precursor_mz=300.5), config)
    np.testing.assert_array_equal(out.mz, [400.0, 600.0])


def test_top_k_keeps_the_most_intense_sorted_by_mz() -> None:
    mz = [900.0, 100.0, 500.0, 300.0, 700.0, 200.0]
    intensity = [1.0, 36.0, 4.0, 25.0, 9.0, 16.0]
    out = kept(make(mz, intensity), DataConfig(min_peaks=0, n_peaks=3))
    np.testing.assert_array_equal(out.mz, [100.0, 200.0, 300.0])
    np.testing.assert_allclose(out.intensity, np.array([6.0, 4.0, 5.0]) / math.sqrt(77), rtol=1e-6)


def test_sqrt_then_unit_norm() -> None:
    out = kept(make([100.0, 200.0, 300.0, 400.0], [1.0, 4.0, 9.0, 16.0]))
    np.testing.assert_allclose(out.intensity, np.array([1, 2, 3, 4]) / math.sqrt(30), rtol=1e-6)
    assert np.linalg.norm(out.intensity) == pytest.approx(1.0, rel=1e-6)
    assert out.mz.dtype == np.float64 and out.intensity.dtype == np.float32


def test_unsorted_input_is_sorted_with_its_intensities() -> None:
    out = kept(make([400.0, 100.0, 300.0, 200.0], [16.0, 1.0, 9.0, 4.0]))
    np.testing.assert_array_equal(out.mz, [100.0, 200.0, 300.0, 400.0])
    np.testing.assert_allclose(out.intensity, np.array([1, 2, 3, 4]) / math.sqrt(30), rtol=1e-6)


def test_bad_intensities_and_mz_are_dropped() -> None:
    mz = [100.0, 200.0, 300.0, 400.0, 500.0, np.nan, 700.0, np.inf]
    intensity = [4.0, np.nan, -3.0, 0.0, np.inf, 5.0, 9.0, 5.0]
    out = kept(make(mz, intensity))
    np.testing.assert_array_equal(out.mz, [100.0, 700.0])
    np.testing.assert_allclose(out.intensity, np.array([2, 3]) / math.sqrt(13), rtol=1e-6)
    assert np.all(np.isfinite(out.intensity))


def test_input_is_not_modified_and_metadata_kept() -> None:
    spectrum = make([300.0, 100.0, 200.0], [9.0, 1.0, 4.0])
    before_mz, before_int = spectrum.mz.copy(), spectrum.intensity.copy()
    out = kept(spectrum)
    np.testing.assert_array_equal(spectrum.mz, before_mz)
    np.testing.assert_array_equal(spectrum.intensity, before_int)
    assert (out.ref, out.title, out.charge, out.precursor_mz) == ("index=0", "s0", 2, 1000.0)


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"charge": None}, "missing or ambiguous precursor charge"),
        ({"charge": 5}, "charge above 4"),
        ({"charge": 0}, "charge below 1"),
        ({"charge": -2}, "charge below 1"),
        ({"precursor_mz": float("nan")}, "no precursor m/z"),
        ({"precursor_mz": 0.0}, "no precursor m/z"),
    ],
)
def test_precursor_skip_reasons(kwargs: dict, reason: str) -> None:
    spectrum = make(np.arange(100.0, 400.0, 10.0), np.ones(30), **kwargs)
    assert skip_reason(spectrum, DataConfig()) == reason
    assert preprocess(spectrum, DataConfig()) == reason


def test_charge_range_is_configurable() -> None:
    spectrum = make(np.arange(100.0, 400.0, 10.0), np.ones(30), charge=5)
    assert skip_reason(spectrum, DataConfig(max_charge=6)) is None
    assert skip_reason(make([1.0], [1.0], charge=1), DataConfig(min_charge=2)) == "charge below 2"


def test_too_few_peaks_counts_after_filtering() -> None:
    # 25 peaks, but only 10 inside the m/z window.
    mz = np.concatenate([np.arange(10.0, 25.0), np.arange(100.0, 200.0, 10.0)])
    assert preprocess(make(mz, np.ones(25)), DataConfig()) == "fewer than 20 peaks"
    assert isinstance(preprocess(make(mz, np.ones(25)), DataConfig(min_peaks=10)), Spectrum)


@settings(max_examples=100)
@given(
    st.lists(
        st.tuples(
            st.floats(0.0, 3000.0, allow_nan=False),
            st.floats(-10.0, 1e6, allow_nan=False) | st.just(float("nan")),
        ),
        max_size=300,
    ),
    st.integers(1, 200),
)
def test_preprocess_properties(peaks: list[tuple[float, float]], n_peaks: int) -> None:
    config = DataConfig(min_peaks=1, n_peaks=n_peaks)
    mz = [p[0] for p in peaks]
    intensity = [p[1] for p in peaks]
    out = preprocess(make(mz, intensity, precursor_mz=1000.0), config)
    good = [
        (m, i) for m, i in peaks
        if i > 0 and np.float32(i) > 0 and 50 <= m <= 2500 and abs(m - 1000.0) > 2.0
    ]  # fmt: skip
    if not good:
        assert out == "fewer than 1 peaks"
        return
    assert isinstance(out, Spectrum)
    assert out.n_peaks == min(len(good), n_peaks)
    assert np.all(np.diff(out.mz) >= 0)
    assert set(out.mz.tolist()) <= {m for m, _ in good}
    assert np.linalg.norm(out.intensity.astype(np.float64)) == pytest.approx(1.0, rel=1e-5)
    # the kept peaks are at least as intense as any dropped one
    dropped = sorted((i for _, i in good), reverse=True)[n_peaks:]
    if dropped:
        scale = out.intensity.max() / math.sqrt(max(i for _, i in good))
        assert out.intensity.min() >= scale * math.sqrt(max(dropped)) * (1 - 1e-5)


def test_skip_counter() -> None:
    counter = SkipCounter(max_examples=2)
    spectra = [make([100.0], [1.0], index=i) for i in range(5)]
    counter.read = 5
    for s in spectra[:3]:
        counter.skip(s, "charge above 4")
    counter.skip(spectra[3], "no precursor m/z")
    assert counter.n_skipped == 4 and counter.n_used == 1
    assert counter.counts["charge above 4"] == 3
    assert counter.examples["charge above 4"] == ["t.mgf index=0 (s0)", "t.mgf index=1 (s1)"]
    lines = counter.summary().splitlines()
    assert lines[0].split() == ["3", "charge", "above", "4"]
    assert lines[1].split() == ["1", "no", "precursor", "m/z"]
