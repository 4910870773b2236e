"""Exact, gradient-free physics the model sees directly (DESIGN.md sections 3.4, 3.5 and 8).

* :func:`mz_encoding`: sinusoids with wavelengths from 0.001 to 10,000 Da, fine enough to tell
  residues 0.036 Da apart (K/Q).
* :func:`peak_graph_features`: for each peak, whether another peak lies one residue mass away
  (singly and doubly charged ladders) and whether its b/y complement is present: the edges of a
  spectrum graph.
* :func:`draft_features`: for the current draft, at every output slot, the observed peaks at the
  b and y positions of each candidate next residue, whether the draft's prefix itself is
  explained, and the precursor-mass residual. Fed into the next latent update so the model
  checks its work against the spectrum.
"""

from __future__ import annotations

import math

import torch

from trmseq.batch import PAD_MZ
from trmseq.constants import H2O, PROTON


def mz_encoding(
    mz: torch.Tensor, dim: int, min_wavelength: float = 1e-3, max_wavelength: float = 1e4
) -> torch.Tensor:
    """Encode masses or m/z values as sinusoids.

    Parameters
    ----------
    mz : torch.Tensor of any shape, float64
    dim
        Output size (even).

    Returns
    -------
    torch.Tensor of shape (*mz.shape, dim), float32
    """
    n = dim // 2
    wavelengths = torch.logspace(
        math.log10(min_wavelength), math.log10(max_wavelength), n, dtype=torch.float64,
        device=mz.device,
    )
    # The phase is reduced modulo 2*pi in float64 before the float32 cast, so the 0.001 Da
    # wavelengths keep their meaning at m/z 2000.
    phase = torch.remainder(mz.double().unsqueeze(-1) / wavelengths, 1.0) * (2 * math.pi)
    return torch.cat([torch.sin(phase), torch.cos(phase)], dim=-1).float()


def lookup(
    mz: torch.Tensor, weight: torch.Tensor, queries: torch.Tensor, tol_da: float
) -> torch.Tensor:
    """Return, for each query, the weight of the nearest peak within ``tol_da`` (0 if none).

    Parameters
    ----------
    mz : torch.Tensor of shape (batch, n_peaks), float64, sorted, padding = PAD_MZ
    weight : torch.Tensor of shape (batch, n_peaks)
    queries : torch.Tensor of shape (batch, ...), float64
    """
    flat = queries.reshape(queries.shape[0], -1).contiguous()
    right = torch.searchsorted(mz, flat).clamp(max=mz.shape[1] - 1)
    left = (right - 1).clamp(min=0)
    d_right = (mz.gather(1, right) - flat).abs()
    d_left = (mz.gather(1, left) - flat).abs()
    nearest = torch.where(d_left < d_right, left, right)
    hit = torch.minimum(d_left, d_right) <= tol_da
    out = torch.where(hit, weight.gather(1, nearest), torch.zeros_like(flat, dtype=weight.dtype))
    return out.reshape(queries.shape)


def peak_weight(intensity: torch.Tensor) -> torch.Tensor:
    """Relative intensity to the power 1/4: base peak 1, a 1% peak 0.32, padding 0."""
    top = intensity.amax(dim=1, keepdim=True).clamp(min=1e-12)
    return (intensity / top).clamp(min=0.0) ** 0.25


def peak_graph_features(
    mz: torch.Tensor,
    intensity: torch.Tensor,
    precursor_mass: torch.Tensor,
    gaps: torch.Tensor,
    tol_da: float,
) -> torch.Tensor:
    """Spectrum-graph edges at each peak.

    Parameters
    ----------
    mz, intensity : torch.Tensor of shape (batch, n_peaks)
    precursor_mass : torch.Tensor of shape (batch,), neutral peptide mass, float64
    gaps : torch.Tensor of shape (n_gaps,), distinct residue masses, float64

    Returns
    -------
    torch.Tensor of shape (batch, n_peaks, 4 * n_gaps + 2), float32
        For each gap: a peak at +gap, -gap, +gap/2, -gap/2; then the singly and doubly charged
        b/y complements. Values are the matched peak's :func:`peak_weight`.
    """
    weight = peak_weight(intensity)
    offsets = torch.cat([gaps, -gaps, gaps / 2, -gaps / 2])
    queries = mz.unsqueeze(-1) + offsets
    complement = torch.stack(
        [
            precursor_mass.unsqueeze(1) + 2 * PROTON - mz,
            (precursor_mass.unsqueeze(1) + 4 * PROTON) / 2 - mz,
        ],
        dim=-1,
    )
    found = lookup(mz, weight, torch.cat([queries, complement], dim=-1), tol_da)
    return (found * (mz < PAD_MZ).unsqueeze(-1)).float()


def draft_masses(path: torch.Tensor, class_masses: torch.Tensor) -> torch.Tensor:
    """Mass emitted at each slot of a CTC path (0 for blanks and repeats), float64.

    Parameters
    ----------
    path : torch.Tensor of shape (batch, n_slots), class indices
    class_masses : torch.Tensor of shape (n_classes,), 0 for the blank
    """
    emitted = class_masses[path]
    repeat = torch.zeros_like(path, dtype=torch.bool)
    repeat[:, 1:] = path[:, 1:] == path[:, :-1]
    return torch.where(repeat, torch.zeros_like(emitted), emitted)


def _ion_queries(inner: torch.Tensor, outer: torch.Tensor) -> torch.Tensor:
    """m/z of the b ion of residue mass ``inner`` and the y ion of ``outer``, at charges 1, 2."""
    return torch.stack(
        [inner + PROTON, (inner + 2 * PROTON) / 2, outer + H2O + PROTON,
         (outer + H2O + 2 * PROTON) / 2],
        dim=-1,
    )  # fmt: skip


# The layout of draft_features: per candidate class (blank excluded) CHECKS_PER_CLASS b/y
# checks, then OWN_CHECKS checks of the draft's own ladder and RESIDUAL_FEATURES on its mass.
CHECKS_PER_CLASS = 8  # b1, b2, y1, y2 from the N-terminal view, then from the C-terminal view
OWN_CHECKS = 8  # b/y of the draft's prefix (4) and suffix (4)
RESIDUAL_FEATURES = 4  # precursor-mass residual squashed at 1, 10, 100 Da; within 2 * tol


def n_draft_features(n_classes: int) -> int:
    """Width of :func:`draft_features` for a vocabulary of ``n_classes`` (blank included)."""
    return CHECKS_PER_CLASS * (n_classes - 1) + OWN_CHECKS + RESIDUAL_FEATURES


def draft_features(
    path: torch.Tensor,
    class_masses: torch.Tensor,
    mz: torch.Tensor,
    intensity: torch.Tensor,
    precursor_mass: torch.Tensor,
    tol_da: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """What the spectrum says about a draft, slot by slot.

    Each slot is checked from both ends: with ``P`` the draft's residue mass before the slot,
    ``S`` the mass after it and ``M`` the precursor's residue mass, a candidate residue ``r``
    placed at the slot predicts b ions at ``P + r`` and ``M - S - r`` and y ions at
    ``M - P - r`` and ``S + r``. An error early in the draft thus spoils only the N-terminal
    view of later slots, not the C-terminal one.

    Returns
    -------
    features : torch.Tensor of shape (batch, n_slots, n_draft_features(n_classes)), float32
        Per candidate class: b1, b2, y1, y2 from the N-terminal view, then from the C-terminal
        view; then the b/y ions of the draft's own prefix (4) and suffix (4); then the
        precursor-mass residual (draft minus precursor) squashed at 1, 10, 100 Da and whether
        it is within 2 * tol (4). Values are matched peaks' :func:`peak_weight`.
    prefix_mass : torch.Tensor of shape (batch, n_slots), float64
        Residue mass before each slot (for a mass encoding).
    """
    emitted = draft_masses(path, class_masses)
    running = emitted.cumsum(dim=1)
    prefix = running - emitted
    total = running[:, -1:]
    suffix = total - running
    residues = (precursor_mass - H2O).unsqueeze(1)  # (batch, 1)
    weight = peak_weight(intensity)
    cand = class_masses[1:]
    with_prefix = prefix.unsqueeze(-1) + cand  # (batch, slots, classes - 1)
    with_suffix = suffix.unsqueeze(-1) + cand
    queries = torch.cat(
        [_ion_queries(with_prefix, residues.unsqueeze(-1) - with_prefix),
         _ion_queries(residues.unsqueeze(-1) - with_suffix, with_suffix)],
        dim=-1,
    )  # fmt: skip
    cand_found = lookup(mz, weight, queries, tol_da).flatten(2)
    own = torch.cat(
        [_ion_queries(prefix, residues - prefix), _ion_queries(residues - suffix, suffix)],
        dim=-1,
    )
    own_found = lookup(mz, weight, own, tol_da)
    own_found = own_found * torch.cat(
        [(prefix > 0).unsqueeze(-1).expand(-1, -1, 4), (suffix > 0).unsqueeze(-1).expand(-1, -1, 4)],
        dim=-1,
    )
    residual = total - residues  # (batch, 1)
    res = torch.cat(
        [torch.tanh(residual / s) for s in (1.0, 10.0, 100.0)]
        + [(residual.abs() <= 2 * tol_da).double()],
        dim=-1,
    )
    res = res.unsqueeze(1).expand(-1, path.shape[1], -1)
    features = torch.cat([cand_found, own_found, res], dim=-1).float()
    return features, prefix


def physics_draft(
    mz: torch.Tensor,
    intensity: torch.Tensor,
    precursor_mass: torch.Tensor,
    class_masses: torch.Tensor,
    is_residue: torch.Tensor,
    n_slots: int,
    tol_da: float,
) -> torch.Tensor:
    """A first draft without learning: walk the fragment ladder from the N-terminus.

    At each step the residue whose b ion (charge 1 and 2) and complementary y ion are best
    supported by peaks is appended; when no single residue is supported (a missing fragment),
    the best-supported pair is appended instead; a residue that closes the precursor mass
    exactly is preferred. The walk stops when the precursor mass is reached, when nothing is
    supported, or when the slots run out. A blank separates repeated residues, as CTC needs.

    Returns
    -------
    torch.Tensor of shape (batch, n_slots), class indices (0 = blank)
    """
    b = mz.shape[0]
    device = mz.device
    weight = peak_weight(intensity)
    classes = torch.nonzero(is_residue).squeeze(1).to(device)  # residue classes only
    cand = class_masses[classes]  # (k,)
    residues = precursor_mass - H2O
    prefix = torch.zeros(b, dtype=torch.float64, device=device)
    path = torch.zeros((b, n_slots), dtype=torch.int64, device=device)
    slot = torch.zeros(b, dtype=torch.int64, device=device)
    last = torch.full((b,), -1, dtype=torch.int64, device=device)
    active = torch.ones(b, dtype=torch.bool, device=device)
    rows = torch.arange(b, device=device)
    pair_mass = (cand[:, None] + cand[None, :]).reshape(-1)  # (k * k,)

    def support(index: torch.Tensor, mass_after: torch.Tensor) -> torch.Tensor:
        rest = residues[index].unsqueeze(1) - mass_after
        queries = _ion_queries(mass_after, rest)
        found = lookup(mz[index], weight[index], queries, tol_da).sum(-1)
        closes = (rest.abs() <= tol_da).double() * 4.0  # the precursor confirms the last one
        return torch.where(rest >= -tol_da, found + closes, torch.full_like(found, -1.0))

    def emit(index: torch.Tensor, cls: torch.Tensor) -> None:
        gap = (cls == last[index]).long()  # CTC needs a blank between repeats
        where = (slot[index] + gap).clamp(max=n_slots - 1)
        path[index, where] = cls
        slot[index] = where + 1
        last[index] = cls

    for _ in range(n_slots):
        idx = rows[active]
        if len(idx) == 0:
            break
        best, pick = support(idx, prefix[idx].unsqueeze(1) + cand).max(dim=1)
        ok = best > 0
        single = idx[ok]
        emit(single, classes[pick[ok]])
        prefix[single] += cand[pick[ok]]
        stuck = idx[~ok]
        if len(stuck):
            pbest, ppick = support(stuck, prefix[stuck].unsqueeze(1) + pair_mass).max(dim=1)
            found = pbest > 0
            pair, ppick = stuck[found], ppick[found]
            first, second = ppick // len(cand), ppick % len(cand)
            emit(pair, classes[first])
            emit(pair, classes[second])
            prefix[pair] += cand[first] + cand[second]
            active[stuck[~found]] = False
        active &= (residues - prefix > tol_da) & (slot < n_slots - 1)
    return path
