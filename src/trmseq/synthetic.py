"""Synthetic annotated spectra: a forward model from a peptide to its MS/MS peaks.

The model covers what real HCD spectra show (DESIGN.md section 1): b, y and a ions at every
fragment charge below the precursor's, H2O and NH3 losses, 13C isotope peaks, the precursor
with its losses, immonium and internal fragment ions, noise peaks (crowding the low m/z range,
with isotope partners of their own; in ``realistic``, the unexplained peaks of a real spectrum
instead: :mod:`trmseq.background`), missing fragments, ppm mass error and uneven intensities
(strong cleavage N-terminal to proline and C-terminal to D/E, weak cleavage at the first two
bonds, rare b1, strong b2 and a2, b ions fading with size). Presets go from an idealised ladder
to ``realistic``, whose statistics were matched to real spectra (docs/synthetic.md).
Spectrum ``i`` of a seed is drawn from ``default_rng([seed, i])``, so any slice of a synthetic
set can be regenerated on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from trmseq.background import load_default as load_background
from trmseq.constants import C13_DIFF, CO, H2O, NH3, PROTON
from trmseq.errors import ConfigError
from trmseq.intensity import load_default
from trmseq.io.atomic import atomic_write_text
from trmseq.io.mgf import write_mgf
from trmseq.masses import fragment_mz, mz
from trmseq.peptides import PeptideSampler, fasta_peptides, sample_charge
from trmseq.presets import PRESETS, SimulationParams
from trmseq.spectrum import Spectrum
from trmseq.teacher import level_split
from trmseq.vocab import Vocabulary

_IMMONIUM_PRONE = "HFYWLMPKQE"


def simulate_peaks(
    residues: str,
    residue_masses: np.ndarray,
    charge: int,
    params: SimulationParams,
    rng: np.random.Generator,
    teacher: np.ndarray | None = None,
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
    teacher : np.ndarray of shape (4, n - 1), optional
        b/y intensities at fragment charges 1 and 2 from a teacher (:mod:`trmseq.teacher`).
        With a preset of fitted intensities they replace (raised to ``teacher_power``) the
        fitted model, its presence rule and the mass rule that splits each ion between charges.
    """
    n = len(residue_masses)
    max_z = max(1, min(params.max_fragment_charge, charge - 1))
    bonds = _bond_intensities(residues, params, rng)
    split = None
    if teacher is not None and params.fitted_intensities:
        fitted, split = level_split(teacher**params.teacher_power, max_z)
    else:
        fitted = load_default().predict_by(residues, charge) if params.fitted_intensities else None
        if fitted is not None and params.presence_ref > 0:
            fitted = _presence(fitted, params.presence_ref, params.presence_power, rng)
    mzs: list[np.ndarray] = []
    ints: list[np.ndarray] = []
    zs: list[np.ndarray] = []
    neutral_prefix = np.cumsum(residue_masses[:-1])
    total = float(residue_masses.sum())
    for ion in params.ion_types:
        nterm = ion[0] in "ab"
        base = bonds if nterm else bonds[::-1]
        # Fragment neutral mass decides how its charge is spread (big fragments hold more),
        # unless a teacher says.
        frag_mass = neutral_prefix if nterm else total - neutral_prefix[::-1]
        if split is not None:
            weights = split[0 if nterm else 1]
        else:
            weights = _charge_weights(frag_mass, max_z, params.charge_mass, params.charge_sharpness)
        if fitted is not None:  # the fitted level is the ion's over all its charges (y1.. order)
            level = base * fitted[0 if nterm else 1] * _ion_ratio(ion, params, n, rng)
        else:
            share = 1.0 - params.y_fraction if nterm else params.y_fraction
            level = base * share * _ion_ratio(ion, params, n, rng)
            if nterm and params.b_mass_decay > 0:
                level = level * np.exp(-frag_mass / params.b_mass_decay)  # big b ions break further
            if nterm and params.cleavage_effects:
                level[:1] *= 0.05  # b1 (and a1, b1 losses) are rarely seen; b2 and a2 are strong
                level[1:2] *= 3.0
        for z in range(1, max_z + 1):
            mzs.append(fragment_mz(residue_masses, ion, z))
            ints.append(level * weights[z - 1])
            zs.append(np.full(n - 1, z))
    mz_arr, int_arr, z_arr = np.concatenate(mzs), np.concatenate(ints), np.concatenate(zs)
    keep = rng.random(len(mz_arr)) >= params.dropout
    mz_arr, int_arr, z_arr = mz_arr[keep], int_arr[keep], z_arr[keep]
    if params.isotopes:
        mz_arr, int_arr = _add_isotopes(mz_arr, int_arr, z_arr, params.isotope_ratio, rng)
    scale = int_arr.max() if len(int_arr) else 1.0
    extra_mz, extra_int = _extra_peaks(residues, residue_masses, charge, params, rng)
    noise_mz, noise_int = _noise_peaks(residues, residue_masses, params, rng)
    mz_arr = np.concatenate([mz_arr, extra_mz, noise_mz])
    int_arr = np.concatenate([int_arr, extra_int * scale, noise_int * scale])
    if params.intensity_sigma > 0:
        int_arr = int_arr * rng.lognormal(0.0, params.intensity_sigma, len(int_arr))
    if params.ppm > 0:
        mz_arr = mz_arr * (1.0 + rng.normal(0.0, params.ppm / 2.0, len(mz_arr)) * 1e-6)
    keep = (int_arr > 0) & (mz_arr > 0)
    if params.detection_limit > 0 and keep.any():
        limit = params.detection_limit * (params.high_charge_limit if charge >= 3 else 1.0)
        if params.detection_sigma > 0:  # instruments and libraries threshold differently
            limit = min(0.5, limit * rng.lognormal(0.0, params.detection_sigma))
        keep &= int_arr >= limit * int_arr[keep].max()
    mz_arr, int_arr = mz_arr[keep], int_arr[keep]
    if params.real_background and len(int_arr):
        # Real peaks already carry real m/z errors, height scatter and a detection limit.
        bank_mz, bank_int = load_background().draw(total + H2O, charge, rng)
        mz_arr = np.concatenate([mz_arr, bank_mz])
        int_arr = np.concatenate([int_arr, bank_int * int_arr.max()])
    order = np.argsort(mz_arr)
    int_arr = int_arr[order]
    return mz_arr[order], (1e4 * int_arr / int_arr.max()) if len(int_arr) else int_arr


def _presence(
    shares: tuple[np.ndarray, np.ndarray], ref: float, power: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The b and y shares with the weak ions (below ``ref`` of the strongest) either dropped or
    raised to ``ref`` of the strongest, present with probability (share / that) ** ``power``."""
    floor = ref * max(float(shares[0].max()), float(shares[1].max()))
    out = []
    for share in shares:
        weak = share < floor
        present = rng.random(len(share)) < (share / floor) ** power
        out.append(np.where(weak, np.where(present, floor, 0.0), share))
    return out[0], out[1]


def _bond_intensities(
    residues: str, params: SimulationParams, rng: np.random.Generator
) -> np.ndarray:
    """Relative cleavage intensity of each peptide bond (n - 1 of them)."""
    n = len(residues)
    bonds = np.ones(n - 1)
    if params.bond_sigma > 0:
        bonds *= rng.lognormal(0.0, params.bond_sigma, n - 1)
    if params.cleavage_effects and not params.fitted_intensities:
        # Real HCD spectra: the first bond (b1 / y(n-1)) and to a lesser degree the second are
        # weak; the C-terminal bonds are not (y1 and y2 of tryptic peptides are strong).
        bonds[:2] *= (0.1, 0.5)[: n - 1]
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
            ratio[1] *= params.a2_boost  # a2 (index 1) is the classic strong a ion
        return ratio * rng.lognormal(0.0, 0.5, n - 1)
    return params.loss_ratio * rng.lognormal(-0.5, 1.0, n - 1)


def _charge_weights(
    frag_mass: np.ndarray, max_z: int, per_charge: float = 600.0, sharpness: float = 1.0
) -> np.ndarray:
    """Share of each fragment's intensity at charge 1..max_z, shape (max_z, n_fragments)."""
    if max_z == 1:
        return np.ones((1, len(frag_mass)))
    # Preference for charge z peaks where the fragment is about z * per_charge Da.
    z = np.arange(1, max_z + 1)[:, None]
    logits = -sharpness * ((frag_mass[None, :] / per_charge - z) ** 2)
    weights = np.exp(logits)
    return weights / weights.sum(axis=0, keepdims=True)


def _add_isotopes(
    mz_arr: np.ndarray,
    int_arr: np.ndarray,
    z: np.ndarray,
    ratio: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Add M+1 and M+2 13C peaks using an averagine-like ratio (about 0.055% per Da) x ``ratio``."""
    neutral = (mz_arr - PROTON) * z
    r1 = np.clip(0.00055 * neutral, 0.0, 2.0)
    r2 = r1**2 / 2.0
    noise = rng.lognormal(0.0, 0.15, (2, len(mz_arr)))
    if ratio != 1.0:  # fewer heavy atoms in effect: M+1 scales by ratio, M+2 by its square
        r1, r2 = r1 * ratio, r2 * ratio**2
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
    """Precursor and immonium peaks, intensities relative to the base peak."""
    mzs, ints = [], []
    neutral = float(residue_masses.sum()) + H2O
    if params.precursor_peak > 0:
        level = params.precursor_peak * rng.lognormal(0.0, params.precursor_sigma)
        mzs.append(mz(neutral, charge))
        ints.append(level)
        if params.precursor_loss > 0:  # with its H2O/NH3 losses and, with isotopes, its M+1
            mzs.extend([mz(neutral - H2O, charge), mz(neutral - NH3, charge)])
            ints.extend(level * params.precursor_loss * rng.lognormal(0.0, 0.7, 2))
            if params.isotopes:
                mzs.append(mz(neutral + C13_DIFF, charge))
                ints.append(level * min(2.0, 0.00055 * neutral) * params.isotope_ratio)
    if params.immonium_rate > 0:
        # One immonium ion per distinct (modified) immonium-prone residue: M+16 gives 120.
        kinds = {(aa, round(float(m), 4)) for aa, m in zip(residues, residue_masses, strict=True)
                 if aa in _IMMONIUM_PRONE}  # fmt: skip
        for _, mass in sorted(kinds):
            if rng.random() < params.immonium_rate:
                mzs.append(mass - CO + PROTON)
                ints.append(0.1 * rng.lognormal(0.0, 0.8))
    return np.asarray(mzs, dtype=np.float64), np.asarray(ints, dtype=np.float64)


def _noise_peaks(
    residues: str,
    residue_masses: np.ndarray,
    params: SimulationParams,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Noise peaks and internal fragments (1+), intensities relative to the base peak."""
    mzs: list[np.ndarray] = []
    ints: list[np.ndarray] = []
    n_noise = 0
    if params.noise_peaks > 0 and not params.real_background:
        mean = params.noise_peaks
        if params.noise_count_sigma > 0:
            mean *= rng.lognormal(0.0, params.noise_count_sigma)
        n_noise = rng.poisson(mean)
    if n_noise:
        total = float(residue_masses.sum())
        hi = max(200.0, min(2000.0, total + 20.0))
        if params.noise_mz_beta == (1.0, 1.0):
            mzs.append(rng.uniform(50.0, hi, n_noise))
        else:
            mzs.append(50.0 + (hi - 50.0) * rng.beta(*params.noise_mz_beta, n_noise))
        ints.append(params.noise_level * rng.lognormal(0.0, params.noise_sigma, n_noise))
    if params.internal_peaks > 0 and len(residue_masses) >= 4:
        imz, iint = _internal_fragments(residues, residue_masses, params, rng)
        mzs.append(imz)
        ints.append(iint)
    if not mzs:
        return np.zeros(0), np.zeros(0)
    mz_arr, int_arr = np.concatenate(mzs), np.concatenate(ints)
    if params.noise_isotopes and len(mz_arr):
        mz_arr, int_arr = _add_isotopes(
            mz_arr, int_arr, np.ones(len(mz_arr), dtype=np.int64), params.isotope_ratio, rng
        )
    return mz_arr, int_arr


def _internal_fragments(
    residues: str,
    residue_masses: np.ndarray,
    params: SimulationParams,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Internal b-type ions (neither terminus), mostly 2-4 residues, often starting at P."""
    n = len(residue_masses)
    count = rng.poisson(params.internal_peaks)
    starts = np.arange(1, n - 2)  # the fragment spans residues start..end, 1 <= start < end <= n-2
    codes = np.frombuffer(residues[1 : n - 2].encode(), dtype=np.uint8)
    weight = np.where(codes == ord("P"), 3.0, 1.0)
    start = rng.choice(starts, size=count, p=weight / weight.sum())
    end = np.minimum(start + rng.geometric(0.5, count), n - 2)
    cumulative = np.concatenate([[0.0], np.cumsum(residue_masses)])
    mz_arr = cumulative[end + 1] - cumulative[start] + PROTON
    return mz_arr, params.internal_level * rng.lognormal(0.0, params.noise_sigma, count)


def synthesize(
    peptide: tuple[str, ...],
    charge: int,
    vocab: Vocabulary,
    params: SimulationParams,
    rng: np.random.Generator,
    teacher: np.ndarray | None = None,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Return (precursor m/z, peak m/z, peak intensity) for one peptide at one charge.

    ``teacher``: the peptide's b/y intensities from a teacher bank (see :func:`simulate_peaks`).
    """
    masses = vocab.residue_masses(peptide)
    residues = vocab.residues(peptide)
    mz_arr, int_arr = simulate_peaks(residues, masses, charge, params, rng, teacher)
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
        charge = sample_charge(vocab.residues(peptide), rng, charges)
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
    """Write ``n`` synthetic annotated spectra to an MGF file (gzip-compressed if its name ends
    in ``.gz``), atomically. Returns ``n``.

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
    with atomic_write_text(path) as handle:
        for spectrum in spectra:
            write_mgf([spectrum], handle)
            if on_spectrum is not None:
                on_spectrum()
    return n
