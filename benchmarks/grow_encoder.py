"""Add encoder layers to a trained checkpoint without changing what it predicts.

The new layers go after the existing ones, with their residual outputs (attention ``out`` and
MLP ``down``) set to zero: each is then the identity, so the grown model predicts exactly as
the old one, and fine-tuning starts from the old model's accuracy rather than from scratch.
(The encoder's blocks are pre-norm residual blocks, which is what makes this exact; the core's
post-norm blocks would not be.) The script checks the equality on synthetic spectra before it
writes anything.

    python benchmarks/grow_encoder.py runs/s34/t_plain.ckpt runs/s38/grown.ckpt --layers 4
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import torch

from trmseq import checkpoint
from trmseq.errors import TrmseqError


def grow(payload: dict, n_layers: int, seed: int = 0) -> tuple[object, dict[str, torch.Tensor]]:
    """Return (config, weights) with the encoder grown to ``n_layers`` identity-initialised layers."""
    config = payload["config"]
    old = config.model.n_encoder_layers
    if n_layers <= old:
        raise ValueError(f"the checkpoint already has {old} encoder layers")
    grown = dataclasses.replace(config, model=dataclasses.replace(config.model, n_encoder_layers=n_layers))
    torch.manual_seed(seed)
    model, _ = checkpoint.build_model(grown)
    weights = model.state_dict()
    for name, tensor in payload["weights"].items():
        weights[name] = tensor.clone()  # every old name keeps its place: new layers come last
    for i in range(old, n_layers):
        weights[f"encoder.{i}.attn.out.weight"].zero_()
        weights[f"encoder.{i}.mlp.down.weight"].zero_()
    return grown, weights


def _max_difference(old: dict, grown_config: object, grown_weights: dict) -> float:
    """Largest difference between the two encoders' outputs on random spectra."""
    from trmseq.batch import SpectrumBatch  # noqa: PLC0415 (only for the check)

    a, _ = checkpoint.build_model(old["config"])
    a.load_state_dict(old["weights"])
    b, _ = checkpoint.build_model(grown_config)
    b.load_state_dict(grown_weights)
    a.eval(), b.eval()
    g = torch.Generator().manual_seed(1)
    n, peaks = 8, 100
    mz, _ = torch.sort(torch.rand(n, peaks, generator=g, dtype=torch.float64) * 1500 + 100)
    batch = SpectrumBatch(
        mz=mz,
        intensity=torch.rand(n, peaks, generator=g),
        mask=torch.ones(n, peaks, dtype=torch.bool),
        precursor_mass=torch.rand(n, generator=g, dtype=torch.float64) * 1500 + 700,
        charge=torch.randint(2, 4, (n,), generator=g),
    )
    with torch.no_grad():
        ma, mb = a.encode(batch), b.encode(batch)
    return max(float((ma.x - mb.x).abs().max()),
               *(float((ka - kb).abs().max()) for (ka, _), (kb, _) in zip(ma.kv, mb.kv, strict=True)))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--layers", type=int, required=True, help="encoder layers after growing")
    parser.add_argument("--seed", type=int, default=0, help="seed for the new layers' other weights")
    args = parser.parse_args()
    try:
        payload = checkpoint.load(args.checkpoint)
    except TrmseqError as e:
        sys.exit(f"error: {e}")  # names the file
    try:
        config, weights = grow(payload, args.layers, args.seed)
    except ValueError as e:
        sys.exit(f"error: {args.checkpoint}: {e}")
    diff = _max_difference(payload, config, weights)
    if diff > 1e-5:
        sys.exit(f"error: the grown model differs from the old one by {diff:.3g}; not written")
    try:
        checkpoint.save(args.output, config, weights, payload["step"])
    except TrmseqError as e:
        sys.exit(f"error: {e}")
    print(f"{args.checkpoint} -> {args.output}: {payload['config'].model.n_encoder_layers} -> "
          f"{args.layers} encoder layers; max difference {diff:.2g}")  # fmt: skip


if __name__ == "__main__":
    main()
