"""Batches of spectra as padded tensors: the one type the model sees.

Torch and numpy only (no file formats), so that :mod:`trmseq.model` and the data side both
import it without importing each other.

* :func:`collate`: list of (Spectrum, peptide) -> :class:`SpectrumBatch`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from trmseq.masses import neutral_mass
from trmseq.tokenizer import Tokenizer

if TYPE_CHECKING:
    from trmseq.spectrum import Spectrum

PAD_MZ = 1e9  # padded peaks sort last and match nothing

Example = tuple["Spectrum", tuple[str, ...] | None]


@dataclass
class SpectrumBatch:
    """Padded tensors for a batch of spectra.

    Attributes
    ----------
    mz : (batch, n_peaks) float64, sorted, padding PAD_MZ
    intensity : (batch, n_peaks) float32, padding 0
    mask : (batch, n_peaks) bool, True for real peaks
    precursor_mass : (batch,) float64, neutral mass from precursor m/z and charge
    charge : (batch,) int64
    targets : (batch, max_target_len) int64 class indices padded with 0, or None
    target_lengths : (batch,) int64, or None
    """

    mz: torch.Tensor
    intensity: torch.Tensor
    mask: torch.Tensor
    precursor_mass: torch.Tensor
    charge: torch.Tensor
    targets: torch.Tensor | None = None
    target_lengths: torch.Tensor | None = None

    def __len__(self) -> int:
        return self.mz.shape[0]

    def to(self, device: torch.device | str) -> SpectrumBatch:
        """Return the batch on ``device`` (float64 stays float64 except on MPS)."""
        def move(t: torch.Tensor | None) -> torch.Tensor | None:
            if t is None:
                return None
            if torch.device(device).type == "mps" and t.dtype == torch.float64:
                t = t.float()
            return t.to(device, non_blocking=True)

        return SpectrumBatch(*(move(getattr(self, f)) for f in self.__dataclass_fields__))


def collate(examples: Sequence[Example], tokenizer: Tokenizer | None = None) -> SpectrumBatch:
    """Pad a list of preprocessed spectra (and peptides, when a tokenizer is given)."""
    n_peaks = max(1, max(s.n_peaks for s, _ in examples))
    b = len(examples)
    mz = np.full((b, n_peaks), PAD_MZ)
    intensity = np.zeros((b, n_peaks), dtype=np.float32)
    for i, (s, _) in enumerate(examples):
        mz[i, : s.n_peaks] = s.mz
        intensity[i, : s.n_peaks] = s.intensity
    charge = np.array([s.charge for s, _ in examples], dtype=np.int64)
    precursor = np.array([s.precursor_mz for s, _ in examples])
    batch = SpectrumBatch(
        mz=torch.from_numpy(mz),
        intensity=torch.from_numpy(intensity),
        mask=torch.from_numpy(mz < PAD_MZ),
        precursor_mass=torch.from_numpy(np.asarray(neutral_mass(precursor, charge), dtype=np.float64)),
        charge=torch.from_numpy(charge),
    )
    if tokenizer is not None and all(p is not None for _, p in examples):
        ids = [tokenizer.encode(p) for _, p in examples]  # type: ignore[arg-type]
        lengths = torch.tensor([len(x) for x in ids], dtype=torch.int64)
        targets = torch.zeros((b, max(1, int(lengths.max()))), dtype=torch.int64)
        for i, x in enumerate(ids):
            targets[i, : len(x)] = torch.tensor(x, dtype=torch.int64)
        batch.targets, batch.target_lengths = targets, lengths
    return batch
