"""Commands that make or fit models: ``train``, ``overfit``, ``calibrate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from trmseq import config as config_mod
from trmseq.cli.app import app
from trmseq.cli.options import (
    DeviceOption,
    LabelsOption,
    MaxExpectOption,
    MaxQOption,
    ModelOption,
    apply_changes,
)
from trmseq.errors import ConfigError
from trmseq.terminal import ConfigOption, ThreadsOption, err, handle_errors, progress, use_threads


@app.command()
@handle_errors
def train(
    train_files: Annotated[
        list[Path] | None,
        typer.Option("--train", metavar="FILE", help="Annotated (SEQ= or --labels) file or folder (repeatable)."),
    ] = None,
    val_files: Annotated[
        list[Path] | None,
        typer.Option("--val", metavar="FILE", help="Annotated files to validate on (repeatable); default synthetic."),
    ] = None,
    model: Annotated[
        Path | None, typer.Option("--model", help="Fine-tune from this checkpoint.")
    ] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option("--output-dir", "-o",
                     help="Run folder (default: a new one under $TRMSEQ_DATA_DIR/runs)."),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the run in --output-dir from last.ckpt.")
    ] = False,
    max_steps: Annotated[int | None, typer.Option(min=1, help="Optimizer steps.")] = None,
    max_time: Annotated[
        float | None, typer.Option(min=0.0, help="Wall-clock budget in minutes.")
    ] = None,
    batch_size: Annotated[int | None, typer.Option(min=1, help="Spectra per step.")] = None,
    lr: Annotated[float | None, typer.Option(min=0.0, help="Peak learning rate.")] = None,
    synthetic_fraction: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="With --train: share of synthetic spectra."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=0, help="Processes preparing batches ahead (helps a GPU).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for initialisation and data.")] = 0,
    device: DeviceOption = "auto",
    labels: LabelsOption = None,
    max_q: MaxQOption = 0.01,
    max_expect: MaxExpectOption = 0.01,
    threads: ThreadsOption = None,
    config: ConfigOption = None,
) -> None:
    """Train a model (synthetic spectra by default; real ones with --train)."""
    use_threads(threads)
    from trmseq.io import expand_paths
    from trmseq.labels import read_labels
    from trmseq.paths import new_run_dir
    from trmseq.train import Trainer

    cfg = config_mod.load(config)
    cfg = apply_changes(cfg, "train", batch_size=batch_size, lr=lr, synthetic_fraction=synthetic_fraction,
                 workers=workers)
    if resume and output_dir is None:
        raise ConfigError("--resume needs --output-dir: the run folder to continue")
    if resume and (config or train_files or val_files or model or batch_size or lr or labels):
        raise ConfigError("--resume continues with the run's own configuration and files; "
                          "only --max-steps, --max-time and --device may be given")  # fmt: skip
    if labels and not (train_files or val_files):
        raise ConfigError("--labels labels the --train and --val files; give at least one")
    if not resume and output_dir is not None and (output_dir / "last.ckpt").exists():
        raise ConfigError(f"{output_dir}: holds a run already (last.ckpt); continue it with --resume, "
                          "or give a new --output-dir")  # fmt: skip
    table = read_labels(labels, max_q, max_expect) if labels else None
    out = output_dir or new_run_dir()
    trainer = Trainer(
        cfg, out, expand_paths(train_files or []), expand_paths(val_files or []), model,
        resume=resume, seed=seed, device=device, max_steps=max_steps, max_minutes=max_time,
        labels=table,
    )  # fmt: skip
    if resume:
        err.print(f"resuming {out} at step {trainer.progress.step:,}")
    if trainer.real is not None:
        c = trainer.real.counter
        err.print(f"training spectra: {len(trainer.real):,} usable of {c.read:,} read")
        for reason, n_skipped in c.counts.most_common():
            err.print(f"  skipped {n_skipped:,}: {reason}", markup=False)
    for line in trainer.labels.summary_lines() if trainer.labels is not None else []:
        err.print(line, markup=False, highlight=False)
    with progress() as bar:
        task = bar.add_task("training", total=trainer.config.train.max_steps,
                            completed=trainer.progress.step)  # fmt: skip

        def show(event: str, info: dict[str, Any]) -> None:
            if event == "start":
                err.print(f"model: {info['parameters']:,} parameters on {info['device']}"
                          f" x {info['world']}; run folder {info['output_dir']}")  # fmt: skip
            elif event == "step":
                bar.update(task, completed=info["step"], description=(
                    f"step {info['step']:,}  loss {info['loss']:.3f}  "
                    f"{info['spectra_per_s']:.0f} spectra/s"))  # fmt: skip
            elif event == "validate":
                err.print(f"step {info['step']:,}: validation peptide recall "
                          f"{info['peptide_recall']:.3f}, AA precision {info['aa_precision']:.3f}")

        result = trainer.run(show)
    best = result["best"]
    err.print(f"stopped at step {result['step']:,} after {result['elapsed_s'] / 60:.1f} min; "
              f"best peptide recall {best.get('peptide_recall', 0):.3f} at step "
              f"{best.get('step', 0):,}; checkpoints in {out}")  # fmt: skip


@app.command()
@handle_errors
def overfit(
    n: Annotated[int, typer.Option("--n", "-n", min=1, help="Spectra in the fixed batch.")] = 32,
    preset: Annotated[str, typer.Option(help="Synthetic preset of the batch.")] = "clean",
    max_steps: Annotated[
        int, typer.Option(min=1, help="Step budget: fail if not learned within it.")
    ] = 300,
    max_time: Annotated[
        float, typer.Option(min=0.0, help="Stop waiting after this many minutes (no verdict).")
    ] = 15.0,
    seed: Annotated[int, typer.Option(help="Seed for the batch and initialisation.")] = 0,
    device: DeviceOption = "auto",
    threads: ThreadsOption = None,
    config: ConfigOption = None,
) -> None:
    """Sanity check: learn one fixed batch (loss < 0.1, token accuracy > 95%) within a step budget."""
    use_threads(threads)
    from trmseq.synthetic import PRESETS
    from trmseq.train import overfit as run_overfit

    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
    cfg = config_mod.load(config)

    def show(event: str, info: dict[str, Any]) -> None:
        if event == "start":
            err.print(f"overfitting {info['n']} spectra: {info['parameters']:,} parameters "
                      f"on {info['device']}")  # fmt: skip
        else:
            typer.echo(f"step {info['step']:5d}  {info['elapsed_s']:6.1f} s  loss "
                       f"{info['loss']:.4f}  token accuracy {info['token_acc']:.3f}  "
                       f"exact {info['exact']:.3f}")  # fmt: skip

    result = run_overfit(cfg, n, preset, max_steps, 60 * max_time, seed=seed, device=device,
                         callback=show)  # fmt: skip
    reached = (f"loss {result.loss:.4f} (target < 0.1), token accuracy {result.token_acc:.3f} "
               f"(target > 0.95) after {result.step} steps, {result.elapsed_s:.1f} s")  # fmt: skip
    if result.stopped_by == "target":
        err.print(f"passed: {reached}")
        return
    if result.stopped_by == "steps":
        err.print(f"FAILED: not learned within the step budget ({max_steps} steps): {reached}")
    else:
        err.print(f"no verdict: the time limit ({max_time:g} min) ran out at step {result.step} "
                  f"of {max_steps}, before the step budget; the machine is busy or slow. Rerun "
                  f"with a larger --max-time (or --threads 1 on a shared machine)")  # fmt: skip
    raise typer.Exit(code=1)


@app.command()
@handle_errors
def calibrate(
    spectra: Annotated[
        list[Path] | None,
        typer.Argument(help="Annotated (SEQ= or --labels) spectrum files or folders the model never trained on."),
    ] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="The calibrated checkpoint to write.")] = Path(
        "calibrated.ckpt"
    ),
    model: ModelOption = None,
    synthetic: Annotated[
        int, typer.Option(min=0, help="Also fit on this many synthetic spectra.")
    ] = 0,
    preset: Annotated[str, typer.Option(help="Forward model of the synthetic spectra.")] = "realistic",
    seed: Annotated[int, typer.Option(help="Seed of the synthetic spectra.")] = 0,
    labels: LabelsOption = None,
    max_q: MaxQOption = 0.01,
    max_expect: MaxExpectOption = 0.01,
    device: DeviceOption = "auto",
    threads: ThreadsOption = None,
) -> None:
    """Fit the model's probabilities (and q-values) on annotated spectra; write a calibrated copy."""
    use_threads(threads)
    from trmseq.calibrate import calibrate_model
    from trmseq.errors import InputError
    from trmseq.io import count_spectra, expand_paths
    from trmseq.labels import read_labels
    from trmseq.presets import PRESETS

    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
    if output.suffix.lower() != ".ckpt":
        raise ConfigError(f"{output}: the calibrated model is a checkpoint; give a name ending in .ckpt")
    files = expand_paths(spectra or [])
    if not files and not synthetic:
        raise ConfigError("give annotated spectrum files, --synthetic N, or both")
    table = read_labels(labels, max_q, max_expect) if labels else None
    with progress() as bar:
        # two passes: the second refits on the answers the first calibration re-ranks
        total = 2 * (sum(count_spectra(f) for f in files) + synthetic) if not bar.disable else None
        task = bar.add_task("calibrating", total=total)
        try:
            result = calibrate_model(files, output, model, synthetic, preset, seed, device,
                                     on_spectra=lambda n: bar.advance(task, n), labels=table)  # fmt: skip
        except InputError as e:  # e.g. nothing to fit on: say what became of the labels
            if table is None:
                raise
            raise InputError(f"{e}; {table.brief()}") from None
    c = result.counter
    err.print(f"fitted on {result.n_real:,} annotated spectra (of {c.read:,} read) and "
              f"{result.n_synthetic:,} synthetic; {result.share_right:.1%} of their answers right; "
              f"calibration error on them {result.ece_fit:.4f}")  # fmt: skip
    for reason, n_skipped in c.counts.most_common():
        err.print(f"  skipped {n_skipped:,}: {reason}", markup=False)
    for line in table.summary_lines() if table is not None else []:
        err.print(line, highlight=False)
    err.print(f"wrote {output}")
