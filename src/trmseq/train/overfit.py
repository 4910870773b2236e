"""``trmseq overfit``: learn one fixed batch by heart, a sanity check of the whole stack."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

from trmseq import checkpoint
from trmseq.batch import collate
from trmseq.config import Config
from trmseq.device import resolve_device
from trmseq.model.trm import count_parameters
from trmseq.train.batches import TRAIN_DOMAIN
from trmseq.train.loop import Callback, deep_supervision, synthetic_stream


@dataclass
class OverfitResult:
    """How far ``overfit`` got."""

    step: int
    elapsed_s: float
    loss: float  # sequence loss of the last supervision step
    token_acc: float
    passed: bool
    stopped_by: str  # "target" (learned), "steps" (step budget spent) or "time" (time limit)


def overfit(
    config: Config,
    n_spectra: int = 32,
    preset: str = "clean",
    max_steps: int = 300,
    max_seconds: float = 900.0,
    target_loss: float = 0.1,
    target_acc: float = 0.95,
    seed: int = 0,
    device: str = "auto",
    callback: Callback | None = None,
    report_every: int = 25,
) -> OverfitResult:
    """Train on one fixed batch until loss < ``target_loss`` and token accuracy > ``target_acc``.

    A sanity check of the whole stack (features, recursion, loss, optimizer): a model that can
    learn anything can learn one batch by heart. The verdict rests on the step budget, so it
    does not depend on how busy the machine is; ``max_seconds`` only bounds the wait, and a run
    it stops says so (``stopped_by="time"``) rather than failing.
    """
    emit = callback or (lambda event, info: None)
    dev = resolve_device(device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model, tokenizer = checkpoint.build_model(config)
    model.to(dev).train()
    t = config.train
    stream = synthetic_stream(config, tokenizer, seed, TRAIN_DOMAIN, max_length=t.start_length)
    batch = collate([stream.example(i, [preset], [1.0]) for i in range(n_spectra)], tokenizer)
    batch = batch.to(dev)
    # No corrupted drafts here: they would change the "fixed" batch at every step.
    loss_module = deep_supervision(model, t, corrupt_drafts=False)  # the batch stays fixed
    optimizer = torch.optim.AdamW(model.parameters(), lr=t.lr, weight_decay=0.0)
    emit("start", {"parameters": count_parameters(model), "device": str(dev), "n": n_spectra})
    start = time.perf_counter()
    cfg = config.model
    stats: dict[str, torch.Tensor] = {}
    step = 0
    while step < max_steps and time.perf_counter() - start < max_seconds:
        for group in optimizer.param_groups:
            group["lr"] = t.lr * min(1.0, (step + 1) / 20)
        loss, stats = loss_module(batch, cfg.n_sup, cfg.h_cycles, cfg.l_cycles)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), t.grad_clip)
        optimizer.step()
        step += 1
        seq, acc = float(stats["seq_loss"]), float(stats["token_acc"])
        if step % report_every == 0 or (seq < target_loss and acc > target_acc):
            emit("step", {"step": step, "elapsed_s": time.perf_counter() - start,
                          "loss": seq, "token_acc": acc, "exact": float(stats["exact"])})  # fmt: skip
        if seq < target_loss and acc > target_acc:
            break
    seq, acc = float(stats.get("seq_loss", math.nan)), float(stats.get("token_acc", 0.0))
    passed = seq < target_loss and acc > target_acc
    stopped_by = "target" if passed else "steps" if step >= max_steps else "time"
    return OverfitResult(step, time.perf_counter() - start, seq, acc, passed, stopped_by)
