"""The training loop: data, deep-supervised updates, EMA, validation, checkpoints, resume.

Every optimizer step ``s`` uses the examples with global indices ``s * B * world + rank * B + j``;
synthetic spectrum ``g`` is a pure function of ``(seed, g)`` and real spectra are visited in a
seeded order per epoch, so the data position is the step number and ``--resume`` continues
exactly where a run stopped. Under ``torchrun`` the loss module is wrapped in
DistributedDataParallel (NCCL on GPUs, gloo on CPUs); only rank 0 validates and writes files.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import logging
import math
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from trmseq import checkpoint
from trmseq.config import Config, DecodeConfig
from trmseq.data import AnnotatedSet, Example, SpectrumBatch, SyntheticStream, collate
from trmseq.decode import greedy_decode, peptide_masses
from trmseq.errors import CheckpointError, ConfigError
from trmseq.evaluate import score_peptides
from trmseq.model.loss import DeepSupervision
from trmseq.model.trm import TRM, count_parameters
from trmseq.peptides import PeptideSampler
from trmseq.tokenizer import Tokenizer

logger = logging.getLogger(__name__)

TRAIN_DOMAIN, VALIDATION_DOMAIN = 0, 1  # keep synthetic training and validation spectra apart
CSV_FIELDS = [
    "step", "elapsed_s", "lr", "loss", "seq_loss", "token_acc", "exact", "halt_acc",
    "steps_run", "spectra_per_s", "presets", "max_length", "n_sup", "val_aa_precision",
    "val_aa_recall", "val_peptide_recall", "val_peptide_precision", "val_fits_precursor",
    "val_peptide_recall_step1", "val_peptide_recall_last_step",
]  # fmt: skip
Callback = Callable[[str, dict[str, Any]], None]


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
    return device


@dataclass
class Progress:
    """Where training stands; saved in every checkpoint."""

    step: int = 0
    elapsed_s: float = 0.0
    best: dict[str, float] = field(default_factory=dict)


class Schedule:
    """Learning rate, curriculum stage, peptide length and recursion depth over training."""

    def __init__(self, config: Config) -> None:
        self.train = config.train
        self.model = config.model

    def fraction(self, progress: Progress) -> float:
        """How far training has come, by steps or by wall time, whichever is further."""
        t = self.train
        by_steps = progress.step / t.max_steps
        by_time = progress.elapsed_s / (60 * t.max_minutes) if t.max_minutes else 0.0
        return min(1.0, max(by_steps, by_time))

    def lr(self, progress: Progress) -> float:
        """Linear warm-up, then cosine decay to 10% of the peak."""
        t = self.train
        if progress.step < t.warmup_steps:
            return t.lr * (progress.step + 1) / t.warmup_steps
        p = self.fraction(progress)
        return t.lr * (0.1 + 0.45 * (1 + math.cos(math.pi * p)))

    def presets(self, p: float) -> tuple[list[str], list[float]]:
        """Presets of the current stage: 3/4 the stage's own, 1/4 spread over earlier ones."""
        stage = sum(p >= u for u in self.train.curriculum_until)
        names = list(self.train.curriculum[: stage + 1])
        if stage == 0:
            return names, [1.0]
        return names, [0.25 / stage] * stage + [0.75]

    def max_length(self, p: float) -> int:
        """Longest synthetic peptide: grows from start_length until the curriculum ends."""
        t = self.train
        end = t.curriculum_until[-1] if t.curriculum_until else 0.0
        grow = 1.0 if end == 0 else min(1.0, p / end)
        return int(round(t.start_length + grow * (t.max_length - t.start_length)))

    def depth(self, p: float) -> tuple[int, int, int]:
        """(n_sup, h_cycles, l_cycles): shallow during the depth warm-up, then the config's."""
        if p < self.train.depth_warmup:
            return 1, 1, 1
        return self.model.n_sup, self.model.h_cycles, self.model.l_cycles


def _distributed() -> tuple[int, int]:
    """Join the torchrun process group if there is one; return (rank, world size)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), world


class Trainer:
    """Owns the model, its EMA, the optimizer and the data; :meth:`run` trains.

    Parameters
    ----------
    config
        The full configuration; a resumed run uses the checkpoint's instead.
    output_dir
        Where ``last.ckpt``, ``best.ckpt`` and ``metrics.csv`` go.
    train_files, val_files
        Annotated spectrum files; without train files, training is synthetic only.
    init_checkpoint
        Fine-tune from these weights (the model and vocabulary sections must match).
    resume
        Continue the run in ``output_dir`` from its ``last.ckpt``, with the checkpoint's
        configuration, seed and files.
    max_steps, max_minutes
        Override the training budget (also of a resumed run, e.g. to extend it).
    """

    def __init__(
        self,
        config: Config,
        output_dir: str | Path,
        train_files: Sequence[str | Path] = (),
        val_files: Sequence[str | Path] = (),
        init_checkpoint: str | Path | None = None,
        resume: bool = False,
        seed: int = 0,
        device: str = "auto",
        max_steps: int | None = None,
        max_minutes: float | None = None,
    ) -> None:
        self.output_dir = Path(output_dir)
        self.rank, self.world = _distributed()
        self.device = resolve_device(device)
        if self.device.type == "cuda" and self.world > 1:
            self.device = torch.device("cuda", self.rank % torch.cuda.device_count())
        self.progress = Progress()
        state: dict[str, Any] | None = None
        if resume:
            payload = checkpoint.load(self.output_dir / "last.ckpt")
            if "train_state" not in payload:
                raise CheckpointError(f"{self.output_dir / 'last.ckpt'}: holds no training state")
            config, state = payload["config"], payload["train_state"]
            seed = int(state["seed"])
            train_files, val_files = state["train_files"], state["val_files"]
        budget = {k: v for k, v in (("max_steps", max_steps), ("max_minutes", max_minutes)) if v is not None}
        if budget:  # the one thing a resumed run may change: how long it goes on
            config = dataclasses.replace(config, train=dataclasses.replace(config.train, **budget))
        self.config, self.seed = config, seed
        self.train_files = [str(p) for p in train_files]
        self.val_files = [str(p) for p in val_files]
        self.schedule = Schedule(config)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.model, self.tokenizer = checkpoint.build_model(config)
        if init_checkpoint is not None and state is None:
            self._init_from(init_checkpoint)
        self.model.to(self.device)
        self.ema = copy.deepcopy(self.model).requires_grad_(False)
        t = config.train
        self.loss = DeepSupervision(
            self.model, t.supervision_weighting, t.label_smoothing, t.spectrum_loss_weight,
            t.halting, t.full_backprop, t.draft_teacher, t.draft_noise, t.viterbi_weight,
        )  # fmt: skip
        self.loss.generator.manual_seed(seed + 1_000_003 * self.rank)
        self.step_module: torch.nn.Module = self.loss
        if self.world > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.step_module = DistributedDataParallel(self.loss, device_ids=ids)
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=t.lr, weight_decay=t.weight_decay, betas=(0.9, 0.95)
        )
        self.synthetic = SyntheticStream(
            PeptideSampler(self.tokenizer.vocab, t.min_length, t.max_length, t.mod_rate,
                           t.nterm_rate),
            config.data, seed, domain=TRAIN_DOMAIN,
            charges=tuple(range(config.data.min_charge, config.data.max_charge + 1)),
        )  # fmt: skip
        self.real = (
            AnnotatedSet(self.train_files, config.data, self.tokenizer, config.model.max_length)
            if self.train_files else None
        )  # fmt: skip
        self.maker = BatchMaker(self.synthetic, self.real, self.tokenizer, seed, t.batch_size,
                                t.synthetic_fraction, self.rank, self.world)  # fmt: skip
        self._prefetch: _Prefetch | None = None
        self.validation = self._validation_set() if self.rank == 0 else []
        if state is not None:
            self._restore(state)

    # -- setup -------------------------------------------------------------------------------

    def _init_from(self, path: str | Path) -> None:
        payload = checkpoint.load(path)
        theirs: Config = payload["config"]
        if theirs.model != self.config.model or theirs.vocab != self.config.vocab:
            raise ConfigError(
                f"{path}: its model/vocab configuration differs from this run's; fine-tuning "
                "keeps the checkpoint's model and vocab sections (drop them from --config)"
            )
        self.model.load_state_dict(payload["weights"])

    def _validation_set(self) -> list[Example]:
        if self.val_files:
            return AnnotatedSet(
                self.val_files, self.config.data, self.tokenizer, self.config.model.max_length
            ).examples
        t = self.config.train
        stream = SyntheticStream(
            PeptideSampler(self.tokenizer.vocab, t.min_length, t.max_length, t.mod_rate,
                           t.nterm_rate),
            self.config.data, self.seed, domain=VALIDATION_DOMAIN,
            charges=tuple(range(self.config.data.min_charge, self.config.data.max_charge + 1)),
        )  # fmt: skip
        return [stream.example(i, [t.val_preset], [1.0]) for i in range(t.val_size)]

    def _restore(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.ema.load_state_dict(state["ema"])
        self.optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["torch_rng"])
        self.loss.generator.set_state(state["loss_rng"])
        self.progress = Progress(state["step"], state["elapsed_s"], dict(state["best"]))

    # -- one step ----------------------------------------------------------------------------

    def batch(self, step: int) -> SpectrumBatch:
        """The examples of optimizer step ``step`` for this process, on the training device."""
        if self._prefetch is None:
            return self.maker(step, *self._schedule_of(step)).to(self.device)
        return self._prefetch.get(step, self._schedule_of).to(self.device)

    def _schedule_of(self, step: int) -> tuple[list[str], list[float], int]:
        """Presets, their weights and the longest peptide for a step (timed runs: as of now)."""
        p = self.schedule.fraction(Progress(step, self.progress.elapsed_s))
        presets, weights = self.schedule.presets(p)
        return presets, weights, self.schedule.max_length(p)

    def _update(self, batch: SpectrumBatch, depth: tuple[int, int, int], lr: float) -> dict:
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.model.train()
        amp = self.device.type == "cuda"
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
            loss, stats = self.step_module(batch, *depth)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.train.grad_clip)
        self.optimizer.step()
        decay = min(self.config.train.ema_decay, (1 + self.progress.step) / (10 + self.progress.step))
        with torch.no_grad():
            for e, m in zip(self.ema.parameters(), self.model.parameters(), strict=True):
                e.lerp_(m, 1 - decay)
        return {"loss": float(loss.detach()), **{k: float(v) for k, v in stats.items()}}

    # -- validation and files ----------------------------------------------------------------

    def validate(self) -> dict[str, float]:
        """Greedy-decode the validation set with the EMA weights; metrics per recursion step."""
        return validate(self.ema, self.tokenizer, self.validation, self.device, self.config.decode)

    def _save(self, name: str, metrics: dict[str, float]) -> None:
        state = {
            "model": self.model.state_dict(),
            "ema": self.ema.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "loss_rng": self.loss.generator.get_state(),
            "step": self.progress.step,
            "elapsed_s": self.progress.elapsed_s,
            "best": self.progress.best,
            "seed": self.seed,
            "train_files": self.train_files,
            "val_files": self.val_files,
        }
        checkpoint.save(self.output_dir / name, self.config, self.ema.state_dict(),
                        self.progress.step, metrics, state)  # fmt: skip

    # -- the loop ----------------------------------------------------------------------------

    def run(self, callback: Callback | None = None) -> dict[str, Any]:
        """Train until ``max_steps`` or ``max_minutes``; return the final summary."""
        emit = callback or (lambda event, info: None)
        t = self.config.train
        if self.rank == 0:
            self.output_dir.mkdir(parents=True, exist_ok=True)
        writer = _CsvLog(self.output_dir / "metrics.csv", enabled=self.rank == 0,
                         append=self.progress.step > 0)  # fmt: skip
        emit("start", {"parameters": count_parameters(self.model), "device": str(self.device),
                       "output_dir": str(self.output_dir), "world": self.world,
                       "step": self.progress.step, "max_steps": t.max_steps})  # fmt: skip
        window: list[dict] = []
        if t.val_every_minutes > 0:
            period = 60 * t.val_every_minutes
            self._next_validation_s = (self.progress.elapsed_s // period + 1) * period
        start = time.perf_counter() - self.progress.elapsed_s
        tick, tick_step = time.perf_counter(), self.progress.step
        val: dict[str, float] = {}
        if t.workers > 0:
            self._prefetch = _Prefetch(self.maker, t.workers)
        try:
            done = self._done()
            while not done:
                p = self.schedule.fraction(self.progress)
                depth = self.schedule.depth(p)
                lr = self.schedule.lr(self.progress)
                stats = self._update(self.batch(self.progress.step), depth, lr)
                self.progress.step += 1
                self.progress.elapsed_s = time.perf_counter() - start
                window.append(stats)
                step = self.progress.step
                done = self._done()  # a collective under torchrun: every rank calls it once
                if step % t.log_every == 0 or done:
                    rate = (step - tick_step) * t.batch_size * self.world / (time.perf_counter() - tick)
                    tick, tick_step = time.perf_counter(), step
                    row = _mean(window) | {"step": step, "elapsed_s": self.progress.elapsed_s,
                                           "lr": lr, "spectra_per_s": rate, "n_sup": depth[0],
                                           "presets": "+".join(self.schedule.presets(p)[0]),
                                           "max_length": self.schedule.max_length(p)}  # fmt: skip
                    window = []
                    writer.write(row)
                    emit("step", row)
                paused = time.perf_counter()
                if self.rank == 0 and (self._validation_due(step) or done):
                    val = self._validate_and_save(writer, emit)
                elif self.rank == 0 and step % t.checkpoint_every == 0:
                    self._save("last.ckpt", val)
                if self.world > 1:
                    dist.barrier()
                start += time.perf_counter() - paused  # validation does not use the budget
                tick += time.perf_counter() - paused
        except KeyboardInterrupt:
            if self.rank == 0:
                self._save("last.ckpt", val)
            raise
        finally:
            if self._prefetch is not None:
                self._prefetch.close()
                self._prefetch = None
        return {"step": self.progress.step, "elapsed_s": self.progress.elapsed_s,
                "best": self.progress.best, "last": val,
                "output_dir": str(self.output_dir)}  # fmt: skip

    def _validation_due(self, step: int) -> bool:
        t = self.config.train
        if t.val_every_minutes > 0:
            period = 60 * t.val_every_minutes
            due = self.progress.elapsed_s >= self._next_validation_s
            if due:
                self._next_validation_s = (self.progress.elapsed_s // period + 1) * period
            return due
        return step % t.val_every == 0

    def _done(self) -> bool:
        t = self.config.train
        if self.progress.step >= t.max_steps:
            return True
        over = bool(t.max_minutes) and self.progress.elapsed_s >= 60 * t.max_minutes
        if self.world > 1:  # every rank must stop at the same step
            flag = torch.tensor([float(over)], device=self.device)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            over = bool(flag.item())
        return over

    def _validate_and_save(self, writer: _CsvLog, emit: Callback) -> dict[str, float]:
        val = self.validate()
        row = {"step": self.progress.step, "elapsed_s": self.progress.elapsed_s} | {
            f"val_{k}": v for k, v in val.items() if f"val_{k}" in CSV_FIELDS
        }
        row["val_peptide_recall_last_step"] = val.get(f"peptide_recall_step{self.config.model.n_sup}")
        writer.write(row)
        emit("validate", {"step": self.progress.step, **val})
        key = (val["peptide_recall"], val["aa_precision"])
        best = self.progress.best
        if not best or key > (best["peptide_recall"], best["aa_precision"]):
            self.progress.best = {"step": self.progress.step, **val}
            self._save("best.ckpt", val)
        self._save("last.ckpt", val)
        return val


@dataclass
class BatchMaker:
    """Builds the batch of one optimizer step: a pure function of the step, so resumable.

    Global example ``g = (step * world + rank) * batch_size + j`` is real with a seeded chance
    of ``1 - synthetic_fraction`` (when real spectra are given) and synthetic otherwise.
    """

    synthetic: SyntheticStream
    real: AnnotatedSet | None
    tokenizer: Tokenizer
    seed: int
    batch_size: int
    synthetic_fraction: float
    rank: int = 0
    world: int = 1

    def __call__(self, step: int, presets: list[str], weights: list[float], max_length: int) -> SpectrumBatch:
        self.synthetic.sampler = dataclasses.replace(self.synthetic.sampler, max_length=max_length)
        examples = []
        first = (step * self.world + self.rank) * self.batch_size
        for g in range(first, first + self.batch_size):
            use_real = (
                self.real is not None
                and np.random.default_rng([self.seed, g]).random() >= self.synthetic_fraction
            )
            if use_real:
                examples.append(self.real.example(g, self.seed))  # type: ignore[union-attr]
            else:
                examples.append(self.synthetic.example(g, presets, weights))
        return collate(examples, self.tokenizer)


_worker_maker: BatchMaker | None = None


def _worker_init(maker: BatchMaker) -> None:
    global _worker_maker
    torch.set_num_threads(1)  # the parallelism is across workers
    _worker_maker = maker


def _worker_batch(step: int, args: tuple) -> dict[str, np.ndarray | None]:
    assert _worker_maker is not None
    batch = _worker_maker(step, *args)
    # numpy arrays travel through plain pickling; tensors would go through shared-memory handles
    return {f: None if (t := getattr(batch, f)) is None else t.numpy() for f in batch.__dataclass_fields__}


class _Prefetch:
    """Batches of the next steps built by worker processes while the device trains.

    Batches are requested up to ``2 * workers`` steps ahead with the schedule of their own
    step, so a run bounded by steps gets the same batches as without workers; a timed run's
    schedule lags by those few steps.
    """

    def __init__(self, maker: BatchMaker, workers: int) -> None:
        context = multiprocessing.get_context("spawn")  # no fork after CUDA initialisation
        self.pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init,
                                        initargs=(maker,))  # fmt: skip
        self.ahead = 2 * workers
        self.pending: dict[int, Future] = {}

    def get(self, step: int, schedule_of: Callable[[int], tuple]) -> SpectrumBatch:
        for s in range(step, step + self.ahead):
            if s not in self.pending:
                self.pending[s] = self.pool.submit(_worker_batch, s, schedule_of(s))
        for s in [s for s in self.pending if s < step]:  # a resumed or restarted sequence
            self.pending.pop(s).cancel()
        arrays = self.pending.pop(step).result()
        return SpectrumBatch(**{k: None if v is None else torch.from_numpy(v) for k, v in arrays.items()})

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def validate(
    model: TRM, tokenizer: Tokenizer, examples: Sequence[Example], device: torch.device,
    decode: DecodeConfig | None = None, batch_size: int = 128,
) -> dict[str, float]:
    """Score the model as ``predict`` would use it, plus greedy accuracy after every step.

    Keys: the :class:`~trmseq.evaluate.Metrics` fields and ``fits_precursor`` for the
    mass-constrained answer after the last step; ``peptide_recall_step{k}`` and
    ``aa_precision_step{k}`` for the greedy answer after step ``k``.
    """
    from trmseq.predict import decode_spectrum, infer

    decode = dataclasses.replace(decode or DecodeConfig(), top_k=1)
    model.eval()
    vocab = tokenizer.vocab
    n_sup = model.config.n_sup
    truth = [vocab.residue_masses(p).tolist() for _, p in examples]  # type: ignore[arg-type]
    per_step: list[list[list[float] | None]] = [[] for _ in range(n_sup)]
    decoded: list[list[float] | None] = []
    n_fit = 0
    for i in range(0, len(examples), batch_size):
        chunk = examples[i : i + batch_size]
        out = infer(model, collate(chunk).to(device), n_sup, halting=False, keep_steps=True)
        assert out.per_step is not None
        for k, log_probs in enumerate(out.per_step):
            per_step[k].extend(peptide_masses(p, vocab) for p in greedy_decode(log_probs, tokenizer))
        for log_probs, (spectrum, _) in zip(out.log_probs.cpu().numpy(), chunk, strict=True):
            found = decode_spectrum(log_probs, spectrum, tokenizer, decode)
            decoded.append(peptide_masses(found[0].peptide, vocab) if found else None)
            n_fit += bool(found and found[0].fits)
    result: dict[str, float] = {}
    for k, preds in enumerate(per_step, start=1):
        metrics, _ = score_peptides(truth, preds)
        result[f"peptide_recall_step{k}"] = metrics.peptide_recall
        result[f"aa_precision_step{k}"] = metrics.aa_precision
    metrics, _ = score_peptides(truth, decoded)
    result.update(dataclasses.asdict(metrics))
    result["fits_precursor"] = n_fit / max(1, len(examples))
    return result


def _mean(rows: list[dict]) -> dict[str, float]:
    keys = rows[0].keys() if rows else []
    return {k: float(np.mean([r[k] for r in rows])) for k in keys}


class _CsvLog:
    """Append metric rows to a CSV (and to TensorBoard when it is installed)."""

    def __init__(self, path: Path, enabled: bool, append: bool) -> None:
        self.enabled = enabled
        self.path = path
        self.tb = None
        if not enabled:
            return
        if not append or not path.exists():
            with open(path, "w", newline="") as f:
                csv.DictWriter(f, CSV_FIELDS).writeheader()
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(str(path.parent / "tensorboard"))
        except ImportError:
            pass

    def write(self, row: dict[str, Any]) -> None:
        if not self.enabled:
            return
        with open(self.path, "a", newline="") as f:
            csv.DictWriter(f, CSV_FIELDS, extrasaction="ignore").writerow(
                {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()}
            )
        if self.tb is not None:
            for k, v in row.items():
                if isinstance(v, (int, float)) and k != "step":
                    self.tb.add_scalar(k, v, int(row["step"]))


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
    stream = SyntheticStream(
        PeptideSampler(tokenizer.vocab, t.min_length, t.start_length, t.mod_rate, t.nterm_rate),
        config.data, seed, domain=TRAIN_DOMAIN,
        charges=tuple(range(config.data.min_charge, config.data.max_charge + 1)),
    )  # fmt: skip
    batch = collate([stream.example(i, [preset], [1.0]) for i in range(n_spectra)], tokenizer)
    batch = batch.to(dev)
    # No corrupted drafts here: they would change the "fixed" batch at every step.
    loss_module = DeepSupervision(model, t.supervision_weighting, t.label_smoothing,
                                  t.spectrum_loss_weight, t.halting, t.full_backprop,
                                  viterbi_weight=t.viterbi_weight)  # fmt: skip
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
