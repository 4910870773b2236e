"""Building blocks: RMSNorm, SwiGLU, attention with reusable keys/values, and the two blocks."""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn


class RMSNorm(nn.Module):
    """Root-mean-square layer norm with a learned scale."""

    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise the last dimension."""
        scale = torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + self.eps)
        return (x.float() * scale).type_as(x) * self.weight


class SwiGLU(nn.Module):
    """Gated MLP: ``down(silu(gate(x)) * up(x))``."""

    def __init__(self, dim: int, expansion: float = 2.0) -> None:
        super().__init__()
        hidden = int(dim * expansion)
        self.gate_up = nn.Linear(dim, 2 * hidden, bias=False)
        self.down = nn.Linear(hidden, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the MLP to the last dimension."""
        gate, up = self.gate_up(x).chunk(2, dim=-1)
        return self.down(F.silu(gate) * up)


class Attention(nn.Module):
    """Multi-head attention whose key/value projection can be computed once and reused.

    The recursion attends to the same spectrum dozens of times per supervision step;
    :meth:`kv` lets the caller project the spectrum once.
    """

    def __init__(self, dim: int, n_heads: int) -> None:
        super().__init__()
        if dim % n_heads:
            raise ValueError(f"d_model {dim} is not divisible by n_heads {n_heads}")
        self.n_heads = n_heads
        self.q = nn.Linear(dim, dim, bias=False)
        self.kv_proj = nn.Linear(dim, 2 * dim, bias=False)
        self.out = nn.Linear(dim, dim, bias=False)

    def kv(self, memory: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Project ``memory`` (batch, n_keys, dim) to per-head keys and values."""
        k, v = self.kv_proj(memory).chunk(2, dim=-1)
        return self._heads(k), self._heads(v)

    def forward(
        self,
        x: torch.Tensor,
        kv: tuple[torch.Tensor, torch.Tensor],
        key_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Attend from ``x`` (batch, n_queries, dim) to precomputed keys/values.

        ``key_mask`` (batch, n_keys) is True where a key may be attended to.
        """
        mask = key_mask[:, None, None, :] if key_mask is not None else None
        out = F.scaled_dot_product_attention(self._heads(self.q(x)), *kv, attn_mask=mask)
        b, _, n, _ = out.shape
        return self.out(out.transpose(1, 2).reshape(b, n, -1))

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        return x.view(b, n, self.n_heads, d // self.n_heads).transpose(1, 2)


class EncoderBlock(nn.Module):
    """Pre-norm transformer layer over the peaks of a spectrum."""

    def __init__(self, dim: int, n_heads: int, expansion: float) -> None:
        super().__init__()
        self.norm1, self.norm2 = RMSNorm(dim), RMSNorm(dim)
        self.attn = Attention(dim, n_heads)
        self.mlp = SwiGLU(dim, expansion)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x: (batch, n_peaks, dim); mask: (batch, n_peaks), True for real peaks."""
        h = self.norm1(x)
        x = x + self.attn(h, self.attn.kv(h), mask)
        return x + self.mlp(self.norm2(x))


class CoreBlock(nn.Module):
    """One layer of the recursive network: self-attention over slots, cross-attention to the
    spectrum, MLP; post-norm as in TRM so the state keeps a fixed scale across recursions."""

    def __init__(self, dim: int, n_heads: int, expansion: float) -> None:
        super().__init__()
        self.self_attn = Attention(dim, n_heads)
        self.cross_attn = Attention(dim, n_heads)
        self.mlp = SwiGLU(dim, expansion)
        self.norm1, self.norm2, self.norm3 = RMSNorm(dim), RMSNorm(dim), RMSNorm(dim)

    def forward(
        self,
        h: torch.Tensor,
        memory_kv: tuple[torch.Tensor, torch.Tensor],
        memory_mask: torch.Tensor,
    ) -> torch.Tensor:
        """h: (batch, n_slots, dim)."""
        h = self.norm1(h + self.self_attn(h, self.self_attn.kv(h)))
        h = self.norm2(h + self.cross_attn(h, memory_kv, memory_mask))
        return self.norm3(h + self.mlp(h))
