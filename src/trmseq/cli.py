"""The ``trmseq`` command line: parse options, call the library, turn errors into exit codes.

Exit codes: 0 success, 1 a data, input or runtime error (one line on stderr), 2 a usage error.
Results go to stdout or files; logs and progress go to stderr.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.logging import RichHandler

from trmseq import __version__
from trmseq import config as config_mod
from trmseq.errors import ConfigError
from trmseq.terminal import (
    ConfigOption,
    ThreadsOption,
    err,
    handle_errors,
    on_sigterm_unwind,
    progress,
    use_threads,
)

app = typer.Typer(
    name="trmseq",
    help="De novo peptide sequencing from MS/MS spectra with a Tiny Recursive Model.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)



def _version(value: bool) -> None:
    if value:
        typer.echo(f"trmseq {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log details.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False, show_time=False)],
        force=True,
    )


@app.command()
@handle_errors
def generate(
    output: Annotated[Path, typer.Option("--output", "-o", help="MGF file to write.")] = Path(
        "synthetic.mgf"
    ),
    n: Annotated[int, typer.Option("--n", "-n", min=1, help="Number of spectra.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same file.")] = 0,
    preset: Annotated[
        str, typer.Option(help="Forward model: clean, moderate, hard or realistic.")
    ] = "realistic",
    min_length: Annotated[int, typer.Option(min=1, help="Shortest peptide (residues).")] = 6,
    max_length: Annotated[int, typer.Option(min=1, help="Longest peptide (residues).")] = 30,
    min_charge: Annotated[int, typer.Option(min=1, help="Lowest precursor charge.")] = 1,
    max_charge: Annotated[int, typer.Option(min=1, help="Highest precursor charge.")] = 4,
    fasta: Annotated[
        Path | None, typer.Option(help="Draw tryptic peptides from this protein FASTA.")
    ] = None,
    missed_cleavages: Annotated[int, typer.Option(min=0, help="With --fasta.")] = 1,
    mod_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Chance a residue carries its variable mod.")
    ] = 0.15,
    nterm_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Chance of an N-terminal modification.")
    ] = 0.05,
    notation: Annotated[
        str, typer.Option(help="SEQ= notation: mass-offset (PEPTM+15.995) or proforma.")
    ] = "mass-offset",
    config: ConfigOption = None,
) -> None:
    """Write synthetic annotated spectra (MGF with SEQ=)."""
    from trmseq.synthetic import write_synthetic_mgf

    cfg = config_mod.load(config)
    start = time.perf_counter()
    with progress() as bar:
        task = bar.add_task("generating", total=n)
        count = write_synthetic_mgf(
            output, n=n, vocab=cfg.vocab.build(), seed=seed, preset=preset,
            lengths=(min_length, max_length), charges=(min_charge, max_charge), fasta=fasta,
            missed_cleavages=missed_cleavages, mod_rate=mod_rate, nterm_rate=nterm_rate,
            notation=notation, on_spectrum=lambda: bar.advance(task),
        )  # fmt: skip
    err.print(f"wrote {count:,} spectra to {output} in {time.perf_counter() - start:.1f} s")


@app.command()
@handle_errors
def configure(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Write the default configuration as commented YAML."""
    from trmseq.io.atomic import atomic_write

    text = config_mod.dump()
    if output is None:
        typer.echo(text, nl=False)
        return
    with atomic_write(output) as handle:
        handle.write(text)
    err.print(f"wrote {output}")


@app.command()
@handle_errors
def inspect(
    spectra: Annotated[list[Path], typer.Argument(help="MGF, mzML or mzXML files or folders.")],
    annotated: Annotated[
        bool, typer.Option(help="Also check each SEQ= annotation against the vocabulary.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Report what trmseq can use in spectrum files."""
    from trmseq.io import expand_paths
    from trmseq.reading import usable_spectra
    from trmseq.spectrum import SkipCounter

    cfg = config_mod.load(config)
    vocab = cfg.vocab.build() if annotated else None
    out = Console()
    for path in expand_paths(spectra):
        counter = SkipCounter()
        charges: dict[int, int] = {}
        for spectrum, _ in usable_spectra([path], cfg.data, counter, vocab):
            charges[spectrum.charge or 0] = charges.get(spectrum.charge or 0, 0) + 1
        by_charge = ", ".join(f"{z}+: {n:,}" for z, n in sorted(charges.items()))
        out.print(f"{path}", markup=False, highlight=False)
        out.print(f"  spectra read  {counter.read:>8,}", highlight=False)
        out.print(f"  usable        {counter.n_used:>8,}   ({by_charge or 'none'})", highlight=False)
        out.print(f"  skipped       {counter.n_skipped:>8,}", highlight=False)
        for reason, count in counter.counts.most_common():
            out.print(f"    {count:>8,}  {reason}", markup=False, highlight=False)


def _apply(cfg: config_mod.Config, section: str, **changes: Any) -> config_mod.Config:
    """Return ``cfg`` with the given (non-None) fields of one section changed."""
    import dataclasses

    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        return cfg
    try:
        new = dataclasses.replace(getattr(cfg, section), **changes)
        return dataclasses.replace(cfg, **{section: new})
    except TypeError as e:  # pragma: no cover - options and fields are kept in step
        raise ConfigError(str(e)) from None


@app.command()
@handle_errors
def train(
    train_files: Annotated[
        list[Path] | None,
        typer.Option("--train", metavar="FILE", help="Annotated MGF/mzML/mzXML file or folder (repeatable)."),
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
    device: Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:N or mps.")] = "auto",
    threads: ThreadsOption = None,
    config: ConfigOption = None,
) -> None:
    """Train a model (synthetic spectra by default; real ones with --train)."""
    use_threads(threads)
    from trmseq.io import expand_paths
    from trmseq.paths import new_run_dir
    from trmseq.train import Trainer

    cfg = config_mod.load(config)
    cfg = _apply(cfg, "train", batch_size=batch_size, lr=lr, synthetic_fraction=synthetic_fraction,
                 workers=workers)
    if resume and output_dir is None:
        raise ConfigError("--resume needs --output-dir: the run folder to continue")
    if resume and (config or train_files or val_files or model or batch_size or lr):
        raise ConfigError("--resume continues with the run's own configuration and files; "
                          "only --max-steps, --max-time and --device may be given")  # fmt: skip
    out = output_dir or new_run_dir()
    trainer = Trainer(
        cfg, out, expand_paths(train_files or []), expand_paths(val_files or []), model,
        resume=resume, seed=seed, device=device, max_steps=max_steps, max_minutes=max_time,
    )  # fmt: skip
    if resume:
        err.print(f"resuming {out} at step {trainer.progress.step:,}")
    if trainer.real is not None:
        c = trainer.real.counter
        err.print(f"training spectra: {len(trainer.real):,} usable of {c.read:,} read")
        for reason, n_skipped in c.counts.most_common():
            err.print(f"  skipped {n_skipped:,}: {reason}", markup=False)
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
    device: Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:N or mps.")] = "auto",
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


NSupOption = Annotated[
    int | None, typer.Option(min=1, help="Recursion depth (default: the model's).")
]
HaltingOption = Annotated[
    bool | None,
    typer.Option("--halting/--no-halting", help="Stop refining once the model is confident."),
]
ModelOption = Annotated[
    Path | None,
    typer.Option("--model", "-m", help="Checkpoint (default: $TRMSEQ_MODEL, else the bundled model)."),
]


@app.command()
@handle_errors
def predict(
    spectra: Annotated[list[Path], typer.Argument(help="MGF, mzML or mzXML files or folders.")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Results: .mztab (mzTab 1.0) or .tsv.")
    ] = Path("trmseq.mztab"),
    model: ModelOption = None,
    batch_size: Annotated[int | None, typer.Option(min=1, help="Spectra per forward pass.")] = None,
    top_k: Annotated[int | None, typer.Option(min=1, help="Candidates per spectrum.")] = None,
    n_sup: NSupOption = None,
    halting: HaltingOption = None,
    tolerance: Annotated[
        float | None, typer.Option(min=0.0, help="Precursor tolerance in ppm (default 50).")
    ] = None,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:N or mps.")] = "auto",
    threads: ThreadsOption = None,
    config: ConfigOption = None,
) -> None:
    """Sequence peptides de novo from spectrum files."""
    use_threads(threads)
    from trmseq.io import count_spectra, expand_paths
    from trmseq.predict import predict_files

    cfg_override = config_mod.load(config) if config else None
    files = expand_paths(spectra)
    start = time.perf_counter()
    with progress() as bar:
        total = sum(count_spectra(f) for f in files) if not bar.disable else None
        task = bar.add_task("sequencing", total=total)
        summary = predict_files(
            files, output, model_path=model, config_override=cfg_override, device=device,
            decode_changes=dict(batch_size=batch_size, top_k=top_k, n_sup=n_sup, halting=halting,
                                precursor_tol_ppm=tolerance),
            on_spectra=lambda n: bar.advance(task, n),
        )  # fmt: skip
    elapsed = time.perf_counter() - start
    c = summary.counter
    err.print(f"read {c.read:,} spectra from {len(files)} file(s); sequenced {c.n_used:,} "
              f"({summary.n_fit:,} fit the precursor), skipped {c.n_skipped:,}; "
              f"{elapsed:.1f} s, {c.read / max(elapsed, 1e-9):.1f} spectra/s")  # fmt: skip
    for reason, n_skipped in c.counts.most_common():
        err.print(f"  skipped {n_skipped:,}: {reason}", markup=False)
    if summary.skipped_log is not None:
        err.print(f"skipped spectra listed in {summary.skipped_log}")
    err.print(f"wrote {summary.n_rows:,} PSMs to {output}")


@app.command()
@handle_errors
def evaluate(
    spectra: Annotated[list[Path], typer.Argument(help="Annotated (SEQ=) spectrum files or folders.")],
    model: ModelOption = None,
    predictions: Annotated[
        Path | None,
        typer.Option("--predictions", "-p", help="Score this .mztab/.tsv instead of running a model."),
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the full report as JSON.")] = None,
    plot_out: Annotated[
        Path | None, typer.Option("--plot", help="Write precision-coverage and per-step plots (PNG).")
    ] = None,
    n_sup: NSupOption = None,
    halting: HaltingOption = None,
    batch_size: Annotated[int | None, typer.Option(min=1, help="Spectra per forward pass.")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:N or mps.")] = "auto",
    threads: ThreadsOption = None,
    config: ConfigOption = None,
) -> None:
    """Measure accuracy on annotated spectra (Casanovo-compatible metrics)."""
    use_threads(threads)
    from trmseq import report
    from trmseq.io import count_spectra, expand_paths

    if model is not None and predictions is not None:
        raise ConfigError("give --model or --predictions, not both")
    files = expand_paths(spectra)
    cfg = config_mod.load(config) if config else None
    if plot_out is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise ConfigError('--plot needs matplotlib: pip install "trmseq[plot]"') from None
    with progress() as bar:
        total = sum(count_spectra(f) for f in files) if not bar.disable else None
        task = bar.add_task("evaluating", total=total)
        if predictions is not None:
            ev = report.evaluate_predictions(files, predictions, cfg or config_mod.Config())
        else:
            ev = report.evaluate_model(
                files, model, cfg, device,
                dict(n_sup=n_sup, halting=halting, batch_size=batch_size),
                on_spectra=lambda n: bar.advance(task, n),
            )  # fmt: skip
    typer.echo(report.format_table(ev))
    for reason, n_skipped in ev.counter.counts.most_common():
        err.print(f"  skipped {n_skipped:,}: {reason}", markup=False)
    if json_out is not None:
        report.write_json(ev, json_out)
        err.print(f"wrote {json_out}")
    if plot_out is not None:
        report.plot(ev, plot_out)
        err.print(f"wrote {plot_out}")


def main() -> None:
    """Console-script entry point."""
    on_sigterm_unwind()
    app(prog_name="trmseq")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
