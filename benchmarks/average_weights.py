"""Average the weights of checkpoints from fine-tunings of one model (a "model soup").

Runs that start from the same weights stay in one basin of the loss, so the uniform mean of
their snapshots is itself a good model, usually better than any one of them: it averages out
the noise of each run's last steps. This is how the bundled model's stage 7 was made
(docs/benchmarks.md). The checkpoints must share one configuration and carry no calibration
that would survive (the average is a new model: calibrate it again with `trmseq calibrate`).

    python benchmarks/average_weights.py runs/soup.ckpt runs/v40/snap_*.ckpt runs/p40/snap_*.ckpt
    python benchmarks/average_weights.py runs/soup.ckpt runs/*/snap_*.ckpt --min-minutes 30
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trmseq import checkpoint
from trmseq.config import to_dict
from trmseq.errors import TrmseqError


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("checkpoints", type=Path, nargs="+")
    parser.add_argument("--min-minutes", type=float, default=0.0,
                        help="leave out snapshots taken earlier in their run than this")  # fmt: skip
    args = parser.parse_args()
    try:
        payloads = [(p, checkpoint.load(p)) for p in args.checkpoints]
    except TrmseqError as e:
        sys.exit(f"error: {e}")
    chosen = [(p, c) for p, c in payloads if _minutes(c) >= args.min_minutes]
    if not chosen:
        sys.exit(f"error: no checkpoint taken at {args.min_minutes} minutes or later")
    first_path, first = chosen[0]
    for path, payload in chosen[1:]:
        if to_dict(payload["config"])["model"] != to_dict(first["config"])["model"] or (
            payload["weights"].keys() != first["weights"].keys()
        ):
            sys.exit(f"error: {path}: another model than {first_path}; only fine-tunings of one model average")
    weights = {
        name: (sum(c["weights"][name].double() for _, c in chosen) / len(chosen)).to(tensor.dtype)
        for name, tensor in first["weights"].items()
    }
    # No training state (a soup cannot resume a run) and no calibration (it was for other weights).
    try:
        checkpoint.save(args.output, first["config"], weights, max(c["step"] for _, c in chosen))
    except TrmseqError as e:
        sys.exit(f"error: {e}")
    for path, payload in chosen:
        print(f"{path}\t{_minutes(payload):.0f} min")
    print(f"averaged {len(chosen)} of {len(payloads)} checkpoints into {args.output}")


def _minutes(payload: dict) -> float:
    """Minutes into its run (0 for an exported checkpoint without training state)."""
    return float((payload.get("train_state") or {}).get("elapsed_s", 0.0)) / 60.0


if __name__ == "__main__":
    main()
