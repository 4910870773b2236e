"""The forward model's parameters and its named presets, ``clean`` to ``realistic``.

Pure data with no imports from trmseq, so that the configuration can check preset names
without importing the simulator (and, through it, the file writers).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SimulationParams:
    """Knobs of the forward model; see :data:`PRESETS`."""

    ion_types: tuple[str, ...] = ("b", "y")
    max_fragment_charge: int = 1  # fragments carry 1..min(this, precursor charge - 1) charges
    y_fraction: float = 0.5  # share of a bond's intensity that goes to the y ion
    cleavage_effects: bool = False  # strong before P and after D/E; weak first bonds, rare b1
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
    # Refinements fitted to real spectra (docs/synthetic.md); the defaults switch them off.
    b_mass_decay: float = 0.0  # N-terminal ions fade as exp(-mass / this) (Da); 0: no fading
    a2_boost: float = 4.0  # a2 intensity relative to the other a ions
    isotope_ratio: float = 1.0  # scale on the averagine 13C peak heights
    precursor_loss: float = 0.0  # precursor-H2O and -NH3 peaks relative to the precursor peak
    precursor_sigma: float = 0.7  # log-normal spread of the precursor peak's height
    internal_peaks: float = 0.0  # mean number of internal b-type fragment ions
    internal_level: float = 0.05  # their median intensity relative to the base peak
    noise_sigma: float = 1.0  # log-normal spread of noise peak intensities
    noise_count_sigma: float = 0.0  # log-normal spread of the noise peak count between spectra
    noise_mz_beta: tuple[float, float] = (1.0, 1.0)  # noise m/z shape over 50..peptide mass
    noise_isotopes: bool = False  # noise peaks get 13C partners as if they were 1+ fragments
    detection_sigma: float = 0.0  # log-normal spread of the detection limit between spectra
    # Detection limit times this for precursors of charge 3 and more: their signal is spread
    # over more ions and fragment charges, and real ones show fewer of their b/y ions.
    high_charge_limit: float = 1.0
    charge_mass: float = 600.0  # fragments prefer charge z near z * this neutral mass (Da)
    charge_sharpness: float = 1.0  # how strongly (higher: less split between charges)
    # b/y intensities from the model fitted to real spectra (trmseq.intensity) instead of
    # cleavage_effects, y_fraction and b_mass_decay; bond_sigma then adds the scatter around it.
    fitted_intensities: bool = False
    # With fitted_intensities: an ion weaker than presence_ref x the strongest b/y ion is absent,
    # or (with probability (its share / that) ** presence_power) at that level: real weak ions
    # are mostly missing and sometimes clear, not always faint; 0: off.
    presence_ref: float = 0.0
    presence_power: float = 1.0
    # Background peaks copied from real spectra (trmseq.background) instead of the noise-peak
    # formula (noise_peaks, noise_level, noise_count_sigma, noise_mz_beta, noise_isotopes).
    real_background: bool = False
    # With a teacher's b/y levels (trmseq.teacher): each raised to this power (below 1 flattens
    # them), and no presence rule. MS2PIP's levels span a wider range than real spectra show,
    # so as predicted its weak ions fall below the detection limit (test-side 2+ peptides: a
    # median 0.44 of their b/y ions seen against 0.62 real); fitted on the training side by how
    # often each b/y position is seen (docs/synthetic.md, "MS2PIP as a teacher").
    teacher_power: float = 0.8

    def __post_init__(self) -> None:
        for name in ("dropout", "isotope_error_rate", "immonium_rate", "y_fraction"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1]")
        if self.high_charge_limit <= 0:
            raise ValueError("high_charge_limit must be positive")


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
    # Matched to real HCD spectra in ../shared/data (docs/synthetic.md, compared with
    # benchmarks/synthetic_vs_real.py): about 120 peaks of which 10-15% are b/y ions and 60%
    # are unexplained, y ions carrying three quarters of the b/y intensity, b ions fading with
    # size, a strong a2, noise crowding the low m/z range.
    "realistic": SimulationParams(
        ion_types=("b", "y", "a", "b-H2O", "b-NH3", "y-H2O", "y-NH3"),
        max_fragment_charge=3, y_fraction=0.35, cleavage_effects=True, bond_sigma=0.7,
        loss_ratio=0.1, a_ratio=0.1, isotopes=True, precursor_peak=0.5, immonium_rate=0.5,
        dropout=0.07, detection_limit=0.012, noise_peaks=100.0, noise_level=0.025, ppm=7.0,
        precursor_ppm=5.0, isotope_error_rate=0.05, intensity_sigma=0.4, b_mass_decay=250.0,
        a2_boost=20.0, isotope_ratio=0.6, precursor_loss=0.02, internal_peaks=8.0,
        internal_level=0.04, noise_sigma=1.2, noise_count_sigma=0.6, noise_mz_beta=(1.2, 3.0),
        noise_isotopes=True, detection_sigma=0.7, charge_mass=610.0, charge_sharpness=1.75,
        precursor_sigma=1.2, fitted_intensities=True, real_background=True, presence_ref=0.1,
        presence_power=1.5, high_charge_limit=3.0,
    ),
}  # fmt: skip
