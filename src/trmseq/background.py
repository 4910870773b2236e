"""Background peaks taken from real spectra: the peaks that no fragment of their peptide explains.

Real MS/MS spectra carry many peaks that are not ions of their peptide: internal fragments,
co-isolated peptides, chemical noise, unknown ions. Their number, m/z and heights are hard to
describe with a formula, so the ``realistic`` preset copies them from real spectra instead. A
:class:`BackgroundBank` holds, for each donor spectrum (real, annotated, from the training side
of the split only), its unexplained peaks: m/z and intensity relative to the donor's base peak.
:meth:`BackgroundBank.draw` picks a donor of the same precursor charge and about the same
neutral mass as the synthetic peptide and returns its peaks below that mass.

The bank shipped with trmseq (``background_peaks.npz``, :func:`load_default`) was built by
``benchmarks/background_bank.py`` (docs/synthetic.md says how, and from which spectra).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

DEFAULT_PATH = Path(__file__).resolve().parent / "background_peaks.npz"
NEIGHBOURS = 16  # a donor is drawn among this many of the nearest neutral masses


@dataclass(frozen=True)
class BackgroundBank:
    """Unexplained peaks of real spectra, donor by donor, sorted by (charge, neutral mass).

    Donor ``i``'s peaks are ``mz[start[i]:start[i + 1]]`` with heights ``intensity[...]``
    relative to that donor's base peak.
    """

    mz: np.ndarray  # float32, all donors' peaks one after another
    intensity: np.ndarray  # float32, relative to the donor's base peak
    start: np.ndarray  # int64, len(donors) + 1 offsets into mz
    mass: np.ndarray  # float64, donor precursor neutral mass (Da)
    charge: np.ndarray  # int64, donor precursor charge

    def __len__(self) -> int:
        return len(self.mass)

    def draw(
        self, neutral_mass: float, charge: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (m/z, relative intensity) of one donor's peaks below ``neutral_mass`` + 20.

        The donor has the same charge when the bank holds one (else the nearest charge) and is
        drawn among the :data:`NEIGHBOURS` donors nearest in neutral mass.
        """
        charges, starts = self._by_charge
        i = int(np.argmin(np.abs(charges - charge)))
        lo, hi = int(starts[i]), int(starts[i + 1])  # the donors of that charge
        centre = lo + int(np.searchsorted(self.mass[lo:hi], neutral_mass))
        first = max(lo, min(centre - NEIGHBOURS // 2, hi - NEIGHBOURS))
        last = min(hi, first + NEIGHBOURS)
        donor = int(rng.integers(first, last))
        sl = slice(self.start[donor], self.start[donor + 1])
        mz, intensity = self.mz[sl].astype(np.float64), self.intensity[sl].astype(np.float64)
        keep = mz <= neutral_mass + 20.0
        return mz[keep], intensity[keep]

    @cached_property
    def _by_charge(self) -> tuple[np.ndarray, np.ndarray]:
        """The charges present, and where each one's donors start (plus the end)."""
        charges, starts = np.unique(self.charge, return_index=True)
        return charges, np.append(starts, len(self.charge))

    def save(self, path: str | Path) -> None:
        np.savez_compressed(
            path, mz=self.mz, intensity=self.intensity, start=self.start, mass=self.mass,
            charge=self.charge,
        )  # fmt: skip

    @classmethod
    def load(cls, path: str | Path) -> BackgroundBank:
        with np.load(path) as data:
            return cls(
                mz=data["mz"], intensity=data["intensity"], start=data["start"],
                mass=data["mass"], charge=data["charge"],
            )  # fmt: skip

    @classmethod
    def from_donors(
        cls, donors: list[tuple[float, int, np.ndarray, np.ndarray]]
    ) -> BackgroundBank:
        """Build a bank from (neutral mass, charge, m/z, relative intensity) per donor."""
        if not donors:
            raise ValueError("a background bank needs at least one donor spectrum")
        order = sorted(range(len(donors)), key=lambda i: (donors[i][1], donors[i][0]))
        ordered = [donors[i] for i in order]
        sizes = [len(d[2]) for d in ordered]
        return cls(
            mz=np.concatenate([d[2] for d in ordered]).astype(np.float32),
            intensity=np.concatenate([d[3] for d in ordered]).astype(np.float32),
            start=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
            mass=np.asarray([d[0] for d in ordered], dtype=np.float64),
            charge=np.asarray([d[1] for d in ordered], dtype=np.int64),
        )


@lru_cache(maxsize=1)
def load_default() -> BackgroundBank:
    """The bank that ships with trmseq (``background_peaks.npz``), loaded once per process."""
    return BackgroundBank.load(DEFAULT_PATH)
