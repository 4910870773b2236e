"""Which torch device a command runs on, and which process of a ``torchrun`` group it is."""

from __future__ import annotations

import os

import torch
import torch.distributed as dist

from trmseq.errors import ConfigError


def resolve_device(name: str = "auto") -> torch.device:
    """Return the device to use: ``auto`` picks CUDA, then MPS, then the CPU."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"unknown device {name!r}; use auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA device is available")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ConfigError("--device mps: no Apple GPU (MPS) is available")
    return device


def join_torchrun(backend: str | None = None) -> tuple[int, int]:
    """Join the torchrun process group if there is one; return (rank, world size).

    ``backend`` defaults to NCCL where CUDA is available, else gloo.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    if not dist.is_initialized():
        dist.init_process_group(backend or ("nccl" if torch.cuda.is_available() else "gloo"))
    return dist.get_rank(), world


def process_device(device: torch.device, rank: int, world: int) -> torch.device:
    """Under torchrun, each process's own GPU (by rank) when ``device`` is CUDA."""
    if device.type == "cuda" and world > 1:
        return torch.device("cuda", rank % torch.cuda.device_count())
    return device
