"""The training loop: data, deep-supervised updates, EMA, validation, checkpoints, resume.

Every optimizer step ``s`` uses the examples with global indices ``s * B * world + rank * B + j``;
synthetic spectrum ``g`` is a pure function of ``(seed, g)`` and real spectra are visited in a
seeded order per epoch, so the data position is the step number and ``--resume`` continues
exactly where a run stopped. Under ``torchrun`` the loss module is wrapped in
DistributedDataParallel (NCCL on GPUs, gloo on CPUs); only rank 0 validates and writes files.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from trmseq import checkpoint
from trmseq.batch import Example, SpectrumBatch
from trmseq.config import Config, DecodeConfig, TrainConfig
from trmseq.data import AnnotatedSet, SyntheticStream
from trmseq.decode import peptide_masses
from trmseq.device import join_torchrun, process_device, resolve_device
from trmseq.errors import CheckpointError, ConfigError
from trmseq.evaluate import score_peptides
from trmseq.inference import validation_runner
from trmseq.labels import Labels, read_labels
from trmseq.model.loss import DeepSupervision
from trmseq.model.trm import TRM, count_parameters
from trmseq.peptides import PeptideSampler
from trmseq.teacher import TeacherBank
from trmseq.tokenizer import Tokenizer
from trmseq.train.batches import TRAIN_DOMAIN, VALIDATION_DOMAIN, BatchMaker, Prefetch
from trmseq.train.log import CSV_FIELDS, CsvLog, mean_row
from trmseq.train.schedule import Progress, Schedule
from trmseq.vocab import Vocabulary

Callback = Callable[[str, dict[str, Any]], None]


def deep_supervision(model: TRM, t: TrainConfig, corrupt_drafts: bool = True) -> DeepSupervision:
    """The training loss for ``model`` as the train section configures it.

    ``corrupt_drafts=False`` starts every first step from the model's own draft (no corrupted
    true drafts), for a batch that must stay fixed.
    """
    return DeepSupervision(
        model, weighting=t.supervision_weighting, label_smoothing=t.label_smoothing,
        spectrum_loss_weight=t.spectrum_loss_weight, halting=t.halting,
        full_backprop=t.full_backprop, draft_teacher=t.draft_teacher if corrupt_drafts else 0.0,
        draft_noise=t.draft_noise, viterbi_weight=t.viterbi_weight,
    )  # fmt: skip


@functools.lru_cache(maxsize=1)
def _teacher_bank(path: str, vocab: Vocabulary) -> TeacherBank:
    """A run's teacher bank, read once for its training and its validation streams."""
    return TeacherBank.load(path, vocab)


def synthetic_stream(config: Config, tokenizer: Tokenizer, seed: int, domain: int,
                     max_length: int | None = None) -> SyntheticStream:  # fmt: skip
    """The synthetic spectra of the train section's peptide distribution (``domain``: see batches)."""
    t = config.train
    sampler = PeptideSampler(tokenizer.vocab, t.min_length, max_length or t.max_length,
                             t.mod_rate, t.nterm_rate)  # fmt: skip
    charges = tuple(range(config.data.min_charge, config.data.max_charge + 1))
    teacher = None
    if t.teacher_bank is not None:
        validation = domain == VALIDATION_DOMAIN
        teacher = _teacher_bank(t.teacher_bank, tokenizer.vocab).split(validation)
        # Training's length curriculum starts at start_length; validation draws up to max_length.
        shortest = sampler.max_length if validation else min(t.start_length, sampler.max_length)
        if not len(teacher.eligible(shortest, charges)):
            raise ConfigError(f"{t.teacher_bank}: no peptide of the teacher bank has at most {shortest} residues "
                              f"and a charge within data.min_charge..data.max_charge "
                              f"({charges[0]}..{charges[-1]}), or too few entries to split off validation")  # fmt: skip
    return SyntheticStream(sampler, config.data, seed, domain=domain, charges=charges, teacher=teacher)


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
    labels
        Labels for the train and validation files from identification files, instead of their
        ``SEQ=`` annotations; a resumed run reads the same files with the same thresholds.
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
        labels: Labels | None = None,
    ) -> None:
        self.output_dir = Path(output_dir)
        self.rank, self.world = join_torchrun()
        self.device = process_device(resolve_device(device), self.rank, self.world)
        self.progress = Progress()
        state: dict[str, Any] | None = None
        if resume:
            payload = checkpoint.load(self.output_dir / "last.ckpt")
            if "train_state" not in payload:
                raise CheckpointError(f"{self.output_dir / 'last.ckpt'}: holds no training state")
            config, state = payload["config"], payload["train_state"]
            seed = int(state["seed"])
            train_files, val_files = state["train_files"], state["val_files"]
            labels = _labels_of(state.get("labels"))
        budget = {k: v for k, v in (("max_steps", max_steps), ("max_minutes", max_minutes)) if v is not None}
        if budget:  # the one thing a resumed run may change: how long it goes on
            config = dataclasses.replace(config, train=dataclasses.replace(config.train, **budget))
        if state is not None:
            _check_budget_left(self.output_dir, config.train, state["step"], state["elapsed_s"])
        self.config, self.seed = config, seed
        self.train_files = [str(p) for p in train_files]
        self.val_files = [str(p) for p in val_files]
        self.labels = labels
        self.schedule = Schedule(config)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.model, self.tokenizer = checkpoint.build_model(config)
        if init_checkpoint is not None and state is None:
            self._init_from(init_checkpoint)
        self.model.to(self.device)
        self.ema = copy.deepcopy(self.model).requires_grad_(False)
        t = config.train
        self.loss = deep_supervision(self.model, t)
        self.loss.generator.manual_seed(seed + 1_000_003 * self.rank)
        self.step_module: torch.nn.Module = self.loss
        if self.world > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.step_module = DistributedDataParallel(self.loss, device_ids=ids)
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=t.lr, weight_decay=t.weight_decay, betas=(0.9, 0.95)
        )
        self.synthetic = synthetic_stream(config, self.tokenizer, seed, TRAIN_DOMAIN)
        self.real = (
            AnnotatedSet(self.train_files, config.data, self.tokenizer, config.model.max_tokens,
                         labels)
            if self.train_files else None
        )  # fmt: skip
        self.maker = BatchMaker(synthetic=self.synthetic, real=self.real, tokenizer=self.tokenizer,
                                seed=seed, batch_size=t.batch_size,
                                synthetic_fraction=t.synthetic_fraction,
                                real_variants=t.real_variants, rank=self.rank,
                                world=self.world)  # fmt: skip
        self._prefetch: Prefetch | None = None
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
                self.val_files, self.config.data, self.tokenizer, self.config.model.max_tokens,
                self.labels,
            ).examples
        t = self.config.train
        stream = synthetic_stream(self.config, self.tokenizer, self.seed, VALIDATION_DOMAIN)
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
            "labels": None if self.labels is None else {
                "files": self.labels.paths, "max_q": self.labels.max_q,
                "max_expect": self.labels.max_expect},
        }  # fmt: skip
        checkpoint.save(self.output_dir / name, self.config, self.ema.state_dict(),
                        self.progress.step, metrics, state)  # fmt: skip

    # -- the loop ----------------------------------------------------------------------------

    def run(self, callback: Callback | None = None) -> dict[str, Any]:
        """Train until ``max_steps`` or ``max_minutes``; return the final summary."""
        emit = callback or (lambda event, info: None)
        t = self.config.train
        if self.rank == 0:
            self.output_dir.mkdir(parents=True, exist_ok=True)
        writer = CsvLog(self.output_dir / "metrics.csv", enabled=self.rank == 0,
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
            self._prefetch = Prefetch(self.maker, t.workers)
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
                    row = mean_row(window) | {"step": step, "elapsed_s": self.progress.elapsed_s,
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

    def _validate_and_save(self, writer: CsvLog, emit: Callback) -> dict[str, float]:
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


def _labels_of(saved: dict[str, Any] | None) -> Labels | None:
    """The labels a run was started with, read again from their files."""
    if not saved:
        return None
    return read_labels(saved["files"], max_q=saved["max_q"], max_expect=saved["max_expect"])


def validate(
    model: TRM, tokenizer: Tokenizer, examples: Sequence[Example], device: torch.device,
    decode: DecodeConfig | None = None, batch_size: int = 128,
) -> dict[str, float]:
    """Score the model as ``predict`` would use it, plus greedy accuracy after every step.

    Keys: the :class:`~trmseq.evaluate.Metrics` fields and ``fits_precursor`` for the
    mass-constrained answer after the last step; ``peptide_recall_step{k}`` and
    ``aa_precision_step{k}`` for the greedy answer after step ``k``.
    """
    runner = validation_runner(model, tokenizer, decode, device)
    vocab = tokenizer.vocab
    truth = [vocab.residue_masses(p).tolist() for _, p in examples]  # type: ignore[arg-type]
    per_step: list[list[list[float] | None]] = [[] for _ in range(runner.n_sup)]
    decoded: list[list[float] | None] = []
    n_fit = 0
    for i in range(0, len(examples), batch_size):
        for answer in runner.answer([s for s, _ in examples[i : i + batch_size]], by_step=True):
            assert answer.greedy_by_step is not None
            for k, peptide in enumerate(answer.greedy_by_step):
                per_step[k].append(peptide_masses(peptide, vocab))
            best = answer.candidates[0] if answer.candidates else None
            decoded.append(peptide_masses(best.peptide, vocab) if best else None)
            n_fit += bool(best and best.fits)
    result: dict[str, float] = {}
    for k, preds in enumerate(per_step, start=1):
        metrics, _ = score_peptides(truth, preds)
        result[f"peptide_recall_step{k}"] = metrics.peptide_recall
        result[f"aa_precision_step{k}"] = metrics.aa_precision
    metrics, _ = score_peptides(truth, decoded)
    result.update(dataclasses.asdict(metrics))
    result["fits_precursor"] = n_fit / max(1, len(examples))
    return result


def _check_budget_left(run: Path, t: TrainConfig, step: int, elapsed_s: float) -> None:
    """Refuse to resume a run that has used its budget: it would stop at once, doing nothing."""
    spent, options = [], []
    if step >= t.max_steps:
        spent.append(f"{step:,} of {t.max_steps:,} steps")
        options.append("--max-steps")
    if t.max_minutes and elapsed_s >= 60 * t.max_minutes:
        spent.append(f"{elapsed_s / 60:.1f} of {t.max_minutes:g} minutes")
        options.append("--max-time")
    if spent:
        raise ConfigError(f"{run}: the run has used its budget ({' and '.join(spent)}); to extend it, "
                          f"give a larger {' and '.join(options)}")  # fmt: skip
