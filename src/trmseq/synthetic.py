"""Synthetic annotated spectra: a forward model from a peptide to its MS/MS peaks.

The model covers what real HCD spectra show (DESIGN.md section 1): b, y and a ions at every
fragment charge below the precursor's, H2O and NH3 losses, 13C isotope peaks, the precursor,
immonium ions, noise peaks, missing fragments, ppm mass error and uneven intensities (strong
cleavage N-terminal to proline and C-terminal to D/E, weak cleavage at the termini). Presets go
from an idealised ladder to ``realistic``, whose statistics were matched to real spectra
(docs/synthetic.md). Spectrum ``i`` of a seed is drawn from ``default_rng([seed, i])``, so any
slice of a synthetic set can be regenerated on its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trmseq.constants import C13_DIFF, CO, H2O, PROTON, RESIDUE_MASSES
from trmseq.errors import ConfigError
from trmseq.io.atomic import atomic_write
from trmseq.io.mgf import write_mgf
from trmseq.masses import fragment_mz, mz
from trmseq.peptides import PeptideSampler, fasta_peptides, sample_charge
from trmseq.spectrum import Spectrum
from trmseq.vocab import Vocabulary


@dataclass(frozen=True)
class SimulationParams:
    """Knobs of the forward model; see :data:`PRESETS`."""

    ion_types: tuple[str, ...] = ("b", "y")
    max_fragment_charge: int = 1  # fragments carry 1..min(this, precursor charge - 1) charges
    y_fraction: float = 0.5  # share of a bond's intensity that goes to the y ion
    cleavage_effects: bool = False  # strong before P and after D/E, weak at the termini
    bond_sigma: float = 0.0  # log-normal spread of bond intensities
    loss_ratio: float = 0.0  # mean H2O/NH3-loss intensity relative to its parent ion
    a_ratio: float = 0.0  # a-ion intensity relative to b (a2 gets 4x this)
    isotopes: bool = False  # add 13C isotope peaks at averagine-like ratios
    precursor_peak: float = 0.0  # relative intensity of the residual precursor peak
    immonium_rate: float = 0.0  # chance that an immonium-prone residue shows its ion
    dropout: float = 0.0  # chance that a fragment is missing regardless of intensity
    detection_limit: float = 0.0  # peaks below this fraction of the base peak are lost
    noise_peaks: float = 0.0  # mean number of random noise peaks
    noise_level: float = 0.05  # median noise intensity relative to the base peak
    ppm: float = 0.0  # 95% of peaks lie within +-ppm of the true m/z
    precursor_ppm: float = 0.0  # same for the precursor m/z
    isotope_error_rate: float = 0.0  # chance that PEPMASS is the +1 13C peak
    intensity_sigma: float = 0.0  # multiplicative log-normal noise on every peak

    def __post_init__(self) -> None:
        for name in ("dropout", "isotope_error_rate", "immonium_rate", "y_fraction"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1]")


PRESETS: dict[str, SimulationParams] = {
    # The seed's curriculum, stage 1: every b/y ion, equal intensities, nothing else.
    "clean": SimulationParams(),
    # Stage 2: 10% of fragments missing, 5 noise peaks.
    "moderate": SimulationParams(
        max_fragment_charge=2, bond_sigma=0.5, dropout=0.1, noise_peaks=5.0
    ),
    # Stage 3: 20% missing, 10 noise peaks, 20 ppm.
    "hard": SimulationParams(
        max_fragment_charge=2, bond_sigma=0.7, dropout=0.2, noise_peaks=10.0, ppm=20.0,
        precursor_ppm=10.0,
    ),
    # Matched to real HCD spectra in ../shared/data (docs/synthetic.md).
    "realistic": SimulationParams(
        ion_types=("b", "y", "a", "b-H2O", "b-NH3", "y-H2O", "y-NH3"),
        max_fragment_charge=3, y_fraction=0.65, cleavage_effects=True, bond_sigma=0.9,
        loss_ratio=0.12, a_ratio=0.08, isotopes=True, precursor_peak=0.15, immonium_rate=0.5,
        dropout=0.15, detection_limit=0.01, noise_peaks=60.0, noise_level=0.03, ppm=10.0,
        precursor_ppm=5.0, isotope_error_rate=0.05, intensity_sigma=0.25,
    ),
}  # fmt: skip

_IMMONIUM_PRONE = "HFYWLMPKQE"


def simulate_peaks(
    residues: str,
    residue_masses: np.ndarray,
    charge: int,
    params: SimulationParams,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Return (m/z, intensity) of a synthetic spectrum, sorted by m/z, base peak 1e4.

    Parameters
    ----------
    residues
        One-letter residues (to place cleavage effects and immonium ions).
    residue_masses
        Mass of each residue with its modifications (N-terminal one added to the first).
    charge
        Precursor charge.
    """
    n = len(residue_masses)
    bonds = _bond_intensities(residues, params, rng)
    mzs: list[np.ndarray] = []
    ints: list[np.ndarray] = []
    zs: list[np.ndarray] = []
    neutral_prefix = np.cumsum(residue_masses[:-1])
    total = float(residue_masses.sum())
    for ion in params.ion_types:
        base = bonds[::-1] if ion.startswith("y") else bonds
        share = params.y_fraction if ion.startswith("y") else 1.0 - params.y_fraction
        level = base * share * _ion_ratio(ion, params, n, rng)
        # Fragment neutral mass decides how its charge is spread: big fragments hold more.
        frag_mass = neutral_prefix if ion[0] in "ab" else total - neutral_prefix[::-1]
        max_z = max(1, min(params.max_fragment_charge, charge - 1))
        weights = _charge_weights(frag_mass, max_z)
        for z in range(1, max_z + 1):
            mzs.append(fragment_mz(residue_masses, ion, z))
            ints.append(level * weights[z - 1])
            zs.append(np.full(n - 1, z))
    mz_arr, int_arr, z_arr = np.concatenate(mzs), np.concatenate(ints), np.concatenate(zs)
    keep = rng.random(len(mz_arr)) >= params.dropout
    mz_arr, int_arr, z_arr = mz_arr[keep], int_arr[keep], z_arr[keep]
    if params.isotopes:
        mz_arr, int_arr = _add_isotopes(mz_arr, int_arr, z_arr, rng)
    extra_mz, extra_int = _extra_peaks(residues, residue_masses, charge, params, rng)
    mz_arr = np.concatenate([mz_arr, extra_mz])
    int_arr = np.concatenate([int_arr, extra_int * (int_arr.max() if len(int_arr) else 1.0)])
    if params.intensity_sigma > 0:
        int_arr = int_arr * rng.lognormal(0.0, params.intensity_sigma, len(int_arr))
    if params.ppm > 0:
        mz_arr = mz_arr * (1.0 + rng.normal(0.0, params.ppm / 2.0, len(mz_arr)) * 1e-6)
    keep = (int_arr > 0) & (mz_arr > 0)
    if params.detection_limit > 0 and keep.any():
        keep &= int_arr >= params.detection_limit * int_arr[keep].max()
    mz_arr, int_arr = mz_arr[keep], int_arr[keep]
    order = np.argsort(mz_arr)
    int_arr = int_arr[order]
    return mz_arr[order], (1e4 * int_arr / int_arr.max()) if len(int_arr) else int_arr


def _bond_intensities(residues: str, params: SimulationParams, rng: np.random.Generator) -> np.ndarray:
    """Relative cleavage intensity of each peptide bond (n - 1 of them)."""
    n = len(residues)
    bonds = np.ones(n - 1)
    if params.bond_sigma > 0:
        bonds *= rng.lognormal(0.0, params.bond_sigma, n - 1)
    if params.cleavage_effects:
        k = np.arange(1, n)
        bonds *= np.minimum(1.0, 0.25 + 0.25 * np.minimum(k, n - k))
        for i in range(n - 1):  # bond i lies between residues i and i + 1
            if residues[i + 1] == "P":
                bonds[i] *= 5.0
            if residues[i] in "DE":
                bonds[i] *= 1.8
            if residues[i] == "P":
                bonds[i] *= 0.3
    return bonds


def _ion_ratio(ion: str, params: SimulationParams, n: int, rng: np.random.Generator) -> np.ndarray:
    """Intensity of a (possibly secondary) ion type relative to its parent b or y ion."""
    if ion in ("b", "y"):
        return np.ones(n - 1)
    if ion == "a":
        ratio = np.full(n - 1, params.a_ratio)
        if n > 2:
            ratio[1] *= 4.0  # a2 (index 1) is the classic strong a ion
        return ratio * rng.lognormal(0.0, 0.5, n - 1)
    return params.loss_ratio * rng.lognormal(-0.5, 1.0, n - 1)


def _charge_weights(frag_mass: np.ndarray, max_z: int) -> np.ndarray:
    """Share of each fragment's intensity at charge 1..max_z, shape (max_z, n_fragments)."""
    if max_z == 1:
        return np.ones((1, len(frag_mass)))
    # Preference for charge z peaks where the fragment is about z * 600 Da.
    z = np.arange(1, max_z + 1)[:, None]
    logits = -((frag_mass[None, :] / 600.0 - z) ** 2)
    weights = np.exp(logits)
    return weights / weights.sum(axis=0, keepdims=True)


def _add_isotopes(
    mz_arr: np.ndarray, int_arr: np.ndarray, z: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Add M+1 and M+2 13C peaks using an averagine-like ratio (about 0.055% per Da)."""
    neutral = (mz_arr - PROTON) * z
    r1 = np.clip(0.00055 * neutral, 0.0, 2.0)
    r2 = r1**2 / 2.0
    noise = rng.lognormal(0.0, 0.15, (2, len(mz_arr)))
    out_mz = np.concatenate([mz_arr, mz_arr + C13_DIFF / z, mz_arr + 2 * C13_DIFF / z])
    out_int = np.concatenate([int_arr, int_arr * r1 * noise[0], int_arr * r2 * noise[1]])
    return out_mz, out_int


def _extra_peaks(
    residues: str,
    residue_masses: np.ndarray,
    charge: int,
    params: SimulationParams,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Precursor, immonium and noise peaks, intensities relative to the base peak."""
    mzs, ints = [], []
    precursor = mz(float(residue_masses.sum()) + H2O, charge)
    if params.precursor_peak > 0:
        mzs.append(precursor)
        ints.append(params.precursor_peak * rng.lognormal(0.0, 0.7))
    if params.immonium_rate > 0:
        for aa in sorted(set(residues) & set(_IMMONIUM_PRONE)):
            if rng.random() < params.immonium_rate:
                mzs.append(RESIDUE_MASSES[aa] - CO + PROTON)
                ints.append(0.1 * rng.lognormal(0.0, 0.8))
    n_noise = rng.poisson(params.noise_peaks) if params.noise_peaks > 0 else 0
    if n_noise:
        hi = max(200.0, min(2000.0, float(residue_masses.sum()) + 20.0))
        mzs.extend(rng.uniform(50.0, hi, n_noise))
        ints.extend(params.noise_level * rng.lognormal(0.0, 1.0, n_noise))
    return np.asarray(mzs, dtype=np.float64), np.asarray(ints, dtype=np.float64)


def synthesize(
    peptide: tuple[str, ...],
    charge: int,
    vocab: Vocabulary,
    params: SimulationParams,
    rng: np.random.Generator,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Return (precursor m/z, peak m/z, peak intensity) for one peptide at one charge."""
    masses = vocab.residue_masses(peptide)
    residues = "".join(vocab[t].residue for t in peptide if not vocab[t].is_nterm)
    mz_arr, int_arr = simulate_peaks(residues, masses, charge, params, rng)
    precursor = float(mz(vocab.peptide_mass(peptide), charge))
    if params.isotope_error_rate and rng.random() < params.isotope_error_rate:
        precursor += C13_DIFF / charge
    if params.precursor_ppm > 0:
        precursor *= 1.0 + rng.normal(0.0, params.precursor_ppm / 2.0) * 1e-6
    return precursor, mz_arr, int_arr


def generate(
    n: int,
    sampler: PeptideSampler,
    params: SimulationParams,
    seed: int = 0,
    charges: tuple[int, ...] = (1, 2, 3, 4),
    notation: str = "mass-offset",
    start: int = 0,
) -> Iterator[Spectrum]:
    """Yield ``n`` annotated synthetic spectra, numbered from ``start``.

    Spectrum ``i`` depends only on ``(seed, i)`` and the arguments, so generating 0..n in one go
    or in slices gives identical spectra.
    """
    if notation not in ("mass-offset", "proforma"):
        raise ValueError("notation must be 'mass-offset' or 'proforma'")
    vocab = sampler.vocab
    write = vocab.proforma if notation == "proforma" else vocab.mass_offset
    for i in range(start, start + n):
        rng = np.random.default_rng([seed, i])
        peptide = sampler.sample(rng)
        charge = sample_charge(vocab.n_residues(peptide), rng, charges)
        precursor, mz_arr, int_arr = synthesize(peptide, charge, vocab, params, rng)
        yield Spectrum(
            mz=mz_arr,
            intensity=int_arr.astype(np.float32),
            precursor_mz=precursor,
            charge=charge,
            file="synthetic",
            index=i,
            ref=f"index={i}",
            scan=str(i + 1),
            title=f"trmseq:synthetic:seed={seed}:{i}",
            rt_seconds=round(0.5 * i, 3),
            annotation=write(peptide),
        )


def write_synthetic_mgf(
    path: str | Path,
    n: int,
    vocab: Vocabulary,
    seed: int = 0,
    preset: str = "realistic",
    lengths: tuple[int, int] = (6, 30),
    charges: tuple[int, int] = (1, 4),
    fasta: str | Path | None = None,
    missed_cleavages: int = 1,
    mod_rate: float = 0.15,
    nterm_rate: float = 0.05,
    notation: str = "mass-offset",
    on_spectrum: Callable[[], object] | None = None,
) -> int:
    """Write ``n`` synthetic annotated spectra to an MGF file, atomically. Returns ``n``.

    Raises
    ------
    ConfigError
        For an unknown preset or notation, or an empty length or charge range.
    InputError
        If the FASTA file cannot be read or yields no peptides.
    """
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
    if notation not in ("mass-offset", "proforma"):
        raise ConfigError(f"unknown notation {notation!r}; choose mass-offset or proforma")
    if lengths[0] > lengths[1]:
        raise ConfigError(f"min length {lengths[0]} is above max length {lengths[1]}")
    if charges[0] > charges[1]:
        raise ConfigError(f"min charge {charges[0]} is above max charge {charges[1]}")
    proteins = fasta_peptides(fasta, *lengths, missed_cleavages) if fasta else None
    sampler = PeptideSampler(vocab, *lengths, mod_rate, nterm_rate, proteins)
    spectra = generate(
        n, sampler, PRESETS[preset], seed, tuple(range(charges[0], charges[1] + 1)), notation
    )
    with atomic_write(path) as handle:
        for spectrum in spectra:
            write_mgf([spectrum], handle)
            if on_spectrum is not None:
                on_spectrum()
    return n
