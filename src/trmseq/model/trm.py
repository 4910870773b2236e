"""The Tiny Recursive Model for de novo sequencing.

A spectrum encoder turns peaks (m/z sinusoids, intensity, spectrum-graph edges) and the
precursor into a memory. One small shared network then refines two full-width states over
``n_slots`` output slots, as in Jolicoeur-Martineau (2025):

* a cycle is ``l_cycles`` latent updates ``z = net(z + y + x + feedback)`` and one answer update
  ``y = net(y + z)``; the logits are a linear read-out of ``y``;
* after each answer update the draft (argmax path) is checked against the spectrum without
  gradient (:func:`~trmseq.model.features.draft_features`), and the evidence enters the next
  latent updates;
* a supervision step runs ``h_cycles - 1`` cycles without gradient and one with; the carry is
  detached between supervision steps, so memory does not grow with depth;
* a halting head reads "the current answer is right" off ``y``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from trmseq.batch import SpectrumBatch
from trmseq.config import ModelConfig
from trmseq.model.features import (
    CHECKS_PER_CLASS,
    draft_features,
    mz_encoding,
    n_draft_features,
    peak_graph_features,
    physics_draft,
)
from trmseq.model.layers import CoreBlock, EncoderBlock, RMSNorm
from trmseq.tokenizer import Tokenizer

MAX_CHARGE_EMBEDDING = 8


@dataclass
class Memory:
    """What the recursion reads from the spectrum; computed once per batch."""

    kv: list[tuple[torch.Tensor, torch.Tensor]]  # per core layer: keys, values of the peaks
    mask: torch.Tensor  # (batch, 1 + n_peaks), True for the precursor token and real peaks
    x: torch.Tensor  # (batch, n_slots, d) slot inputs
    mz: torch.Tensor  # (batch, n_peaks) float64
    intensity: torch.Tensor  # (batch, n_peaks)
    precursor_mass: torch.Tensor  # (batch,) float64

    def select(self, index: torch.Tensor) -> Memory:
        """The memory of a subset of the batch (spectra still being refined)."""
        return Memory(
            [(k[index], v[index]) for k, v in self.kv], self.mask[index], self.x[index],
            self.mz[index], self.intensity[index], self.precursor_mass[index],
        )  # fmt: skip


@dataclass
class Carry:
    """The recurrent state handed from one supervision step to the next."""

    y: torch.Tensor  # (batch, n_slots, d) answer state
    z: torch.Tensor  # (batch, n_slots, d) latent state
    feedback: torch.Tensor  # (batch, n_slots, n_features) evidence for the current draft
    prefix: torch.Tensor  # (batch, n_slots) float64 draft mass before each slot
    path: torch.Tensor  # (batch, n_slots) the current draft's class at each slot

    def detach(self) -> Carry:
        """Return the carry cut from the autograd graph."""
        return Carry(self.y.detach(), self.z.detach(), self.feedback, self.prefix, self.path)

    def select(self, index: torch.Tensor) -> Carry:
        """The carry of a subset of the batch."""
        return Carry(self.y[index], self.z[index], self.feedback[index], self.prefix[index],
                     self.path[index])  # fmt: skip


@dataclass
class StepOutput:
    """The answer after one supervision step."""

    logits: torch.Tensor  # (batch, n_slots, n_classes)
    q: torch.Tensor  # (batch,) halting logit: > 0 means "this answer is right"


class TRM(nn.Module):
    """Spectrum encoder plus recursive core; see the module docstring."""

    def __init__(self, config: ModelConfig, tokenizer: Tokenizer) -> None:
        super().__init__()
        self.config = config
        d, c = config.d_model, tokenizer.n_classes
        self.register_buffer("class_masses", tokenizer.masses.clone(), persistent=False)
        residue_masses = tokenizer.masses[tokenizer.is_residue]
        self.register_buffer("gaps", _distinct(residue_masses), persistent=False)
        self.register_buffer("is_residue", tokenizer.is_residue.clone(), persistent=False)
        self.peak_mz = nn.Linear(d, d)
        self.peak_intensity = nn.Linear(1, d, bias=False)
        if config.graph_features:
            self.peak_graph = nn.Linear(4 * len(self.gaps) + 2, d, bias=False)
        self.precursor = nn.Linear(d, d)
        self.charge = nn.Embedding(MAX_CHARGE_EMBEDDING, d)
        self.encoder = nn.ModuleList(
            EncoderBlock(d, config.n_heads, config.mlp_expansion)
            for _ in range(config.n_encoder_layers)
        )
        self.encoder_norm = RMSNorm(d)
        self.slots = nn.Parameter(torch.randn(config.n_slots, d) * 0.02)
        self.slot_context = nn.Linear(d, d)
        self.core = nn.ModuleList(
            CoreBlock(d, config.n_heads, config.mlp_expansion) for _ in range(config.n_core_layers)
        )
        if config.draft_feedback:
            self.feedback = nn.Linear(n_draft_features(c), d, bias=False)
            self.feedback_mass = nn.Linear(d, d, bias=False)
            self.draft_tokens = nn.Embedding(c, d)  # what the draft says at each slot
        self.head = nn.Linear(d, c)
        if config.evidence_head:
            # One small function of a candidate's b/y checks, shared by every class: the
            # physics "this residue fits here" becomes a logit bonus the network can overrule.
            self.evidence = nn.Sequential(nn.Linear(CHECKS_PER_CLASS, 32), nn.SiLU(), nn.Linear(32, 1))
        if config.answer_feedback == "soft_embedding":
            self.answer_embedding = nn.Linear(c, d, bias=False)
        self.q_head = nn.Linear(d, 1)
        # Fixed starting states, as in TRM: the first cycle runs without gradient whenever
        # h_cycles > 1, so learned ones would not be trained.
        self.register_buffer("y_init", torch.randn(d) * 0.02)
        self.register_buffer("z_init", torch.randn(d) * 0.02)
        with torch.no_grad():
            self.q_head.weight.zero_()
            self.q_head.bias.fill_(-5.0)  # start by never halting (TRM)

    # -- encoder -----------------------------------------------------------------------------

    def encode(self, batch: SpectrumBatch) -> Memory:
        """Encode the peaks and precursor once; the recursion reuses the result."""
        cfg = self.config
        enc = mz_encoding(batch.mz, cfg.d_model, cfg.min_wavelength, cfg.max_wavelength)
        h = self.peak_mz(enc) + self.peak_intensity(batch.intensity.unsqueeze(-1))
        if cfg.graph_features:
            graph = peak_graph_features(
                batch.mz, batch.intensity, batch.precursor_mass, self.gaps, cfg.match_tol_da
            )
            h = h + self.peak_graph(graph)
        mass = mz_encoding(batch.precursor_mass, cfg.d_model, cfg.min_wavelength, cfg.max_wavelength)
        charge = batch.charge.clamp(0, MAX_CHARGE_EMBEDDING - 1)
        prec = self.precursor(mass) + self.charge(charge)
        memory = torch.cat([prec.unsqueeze(1), h], dim=1)
        mask = torch.cat([torch.ones_like(batch.mask[:, :1]), batch.mask], dim=1)
        for block in self.encoder:
            memory = block(memory, mask)
        memory = self.encoder_norm(memory)
        x = self.slots.unsqueeze(0) + self.slot_context(memory[:, :1])
        kv = [block.cross_attn.kv(memory) for block in self.core]
        return Memory(kv, mask, x, batch.mz, batch.intensity, batch.precursor_mass)

    # -- recursion ---------------------------------------------------------------------------

    def initial_carry(self, memory: Memory) -> Carry:
        """Fixed initial states and the evidence for the first draft (physics walk or blank)."""
        b, n, d = memory.x.shape
        if self.config.initial_draft == "physics" and self.config.draft_feedback:
            with torch.no_grad():
                path = physics_draft(memory.mz, memory.intensity, memory.precursor_mass,
                                     self.class_masses, self.is_residue, n, self.config.match_tol_da)  # fmt: skip
        else:
            path = torch.zeros((b, n), dtype=torch.int64, device=memory.x.device)
        feedback, prefix = self._check(path, memory)
        return Carry(
            self.y_init.expand(b, n, d), self.z_init.expand(b, n, d), feedback, prefix, path
        )

    def _net(self, h: torch.Tensor, memory: Memory) -> torch.Tensor:
        for block, kv in zip(self.core, memory.kv, strict=True):
            h = block(h, kv, memory.mask)
        return h

    def _check(self, path: torch.Tensor, memory: Memory) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            return draft_features(
                path, self.class_masses, memory.mz, memory.intensity, memory.precursor_mass,
                self.config.match_tol_da,
            )  # fmt: skip

    def cycle(
        self, carry: Carry, memory: Memory, l_cycles: int, check: bool = True
    ) -> tuple[Carry, torch.Tensor]:
        """``l_cycles`` latent updates, one answer update, then check the new draft.

        ``check=False`` skips the check (the carry keeps the old evidence): for a final step,
        whose carry nothing reads.
        """
        y, z = carry.y, carry.z
        inject = memory.x
        if self.config.draft_feedback:
            mass = mz_encoding(carry.prefix, self.config.d_model, self.config.min_wavelength,
                               self.config.max_wavelength)  # fmt: skip
            inject = (inject + self.feedback(carry.feedback) + self.feedback_mass(mass)
                      + self.draft_tokens(carry.path))  # fmt: skip
        for _ in range(l_cycles):
            z = self._net(z + y + inject, memory)
        y = self._net(y + z, memory)
        logits = self.head(y)
        if self.config.evidence_head:
            b, n, _ = carry.feedback.shape
            n_checks = CHECKS_PER_CLASS * (logits.shape[-1] - 1)
            per_class = carry.feedback[..., :n_checks].view(b, n, -1, CHECKS_PER_CLASS)
            bonus = self.evidence(per_class).squeeze(-1)  # (batch, slots, classes - 1)
            logits = logits + torch.nn.functional.pad(bonus, (1, 0))  # nothing for the blank
        if self.config.answer_feedback == "soft_embedding":
            y = self.answer_embedding(logits.float().softmax(-1).type_as(y))
        path = logits.detach().argmax(-1)
        feedback, prefix = self._check(path, memory) if check else (carry.feedback, carry.prefix)
        return Carry(y, z, feedback, prefix, path), logits

    def supervision_step(
        self,
        carry: Carry,
        memory: Memory,
        h_cycles: int | None = None,
        l_cycles: int | None = None,
        full_backprop: bool = False,
        check: bool = True,
    ) -> tuple[Carry, StepOutput]:
        """One refinement: ``h_cycles - 1`` cycles without gradient, then one with.

        With ``full_backprop`` every cycle keeps its graph (the seed's scheme, for ablation).
        ``check=False`` skips checking the final draft against the spectrum (a last step).
        """
        h_cycles = h_cycles or self.config.h_cycles
        l_cycles = l_cycles or self.config.l_cycles
        with torch.set_grad_enabled(full_backprop and torch.is_grad_enabled()):
            for _ in range(h_cycles - 1):
                carry, _ = self.cycle(carry, memory, l_cycles)
        carry, logits = self.cycle(carry, memory, l_cycles, check)
        q = self.q_head(carry.y.mean(dim=1)).squeeze(-1)
        return carry, StepOutput(logits, q)


def _distinct(masses: torch.Tensor, tol: float = 1e-3) -> torch.Tensor:
    """Sorted masses with near-duplicates (N+0.984 vs D) removed."""
    out: list[float] = []
    for m in sorted(masses.tolist()):
        if not out or m - out[-1] > tol:
            out.append(m)
    return torch.tensor(out, dtype=torch.float64)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
