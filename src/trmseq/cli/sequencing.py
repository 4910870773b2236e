"""Commands that use a model on spectra: ``predict``, ``evaluate``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from trmseq import config as config_mod
from trmseq.cli.app import app
from trmseq.cli.options import (
    DeviceOption,
    HaltingOption,
    LabelsOption,
    MaxExpectOption,
    MaxQOption,
    ModelOption,
    NSupOption,
    RerankOption,
    ToleranceOption,
    load_decode_config,
)
from trmseq.errors import ConfigError
from trmseq.terminal import ConfigOption, ThreadsOption, err, handle_errors, progress, secondary_process, use_threads


@app.command()
@handle_errors
def predict(
    spectra: Annotated[list[Path], typer.Argument(help="MGF, mzML or mzXML files or folders.")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Results: .mztab (mzTab 1.0) or .tsv.")
    ] = Path("trmseq.mztab"),
    model: ModelOption = None,
    batch_size: Annotated[int | None, typer.Option(min=1, help="Spectra per forward pass.")] = None,
    top_k: Annotated[int | None, typer.Option(min=1, max=20, help="Candidates per spectrum.")] = None,
    rerank: RerankOption = None,
    n_sup: NSupOption = None,
    halting: HaltingOption = None,
    tolerance: ToleranceOption = None,
    max_q: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Keep only PSMs with a q-value at most this (e.g. 0.01)."),
    ] = None,
    device: DeviceOption = "auto",
    threads: ThreadsOption = None,
    config: ConfigOption = None,
) -> None:
    """Sequence peptides de novo from spectrum files."""
    use_threads(threads)
    from trmseq.io import count_spectra, expand_paths
    from trmseq.predict import predict_files

    cfg_override = load_decode_config(config)
    files = expand_paths(spectra)
    start = time.perf_counter()
    with progress(quiet=secondary_process()) as bar:
        total = sum(count_spectra(f) for f in files) if not bar.disable else None
        task = bar.add_task("sequencing", total=total)
        summary = predict_files(
            files, output, model_path=model, config_override=cfg_override, device=device,
            decode_changes=dict(batch_size=batch_size, top_k=top_k, rerank=rerank, n_sup=n_sup,
                                halting=halting, precursor_tol_ppm=tolerance),
            on_spectra=lambda n: bar.advance(task, n), max_q=max_q,
        )  # fmt: skip
    elapsed = time.perf_counter() - start
    if secondary_process():  # under torchrun, rank 0 reports and writes
        return
    c = summary.counter
    err.print(f"read {c.read:,} spectra from {len(files)} file(s); sequenced {c.n_used:,} "
              f"({summary.n_fit:,} fit the precursor), skipped {c.n_skipped:,}; "
              f"{elapsed:.1f} s, {c.read / max(elapsed, 1e-9):.1f} spectra/s")  # fmt: skip
    for reason, n_skipped in c.counts.most_common():
        err.print(f"  skipped {n_skipped:,}: {reason}", markup=False)
    if summary.skipped_log is not None:
        err.print(f"skipped spectra listed in {summary.skipped_log}")
    if max_q is not None:
        err.print(f"left out {summary.n_above_q:,} PSMs with a q-value above {max_q:g}")
    err.print(f"wrote {summary.n_rows:,} PSMs to {output}")


@app.command()
@handle_errors
def evaluate(
    spectra: Annotated[list[Path], typer.Argument(help="Annotated (SEQ= or --labels) spectrum files or folders.")],
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
    rerank: RerankOption = None,
    tolerance: ToleranceOption = None,
    batch_size: Annotated[int | None, typer.Option(min=1, help="Spectra per forward pass.")] = None,
    device: DeviceOption = "auto",
    labels: LabelsOption = None,
    max_q: MaxQOption = 0.01,
    max_expect: MaxExpectOption = 0.01,
    threads: ThreadsOption = None,
    config: ConfigOption = None,
) -> None:
    """Measure accuracy on annotated spectra (SEQ= or --labels; Casanovo-compatible metrics)."""
    use_threads(threads)
    from trmseq import report
    from trmseq.errors import InputError
    from trmseq.io import count_spectra, expand_paths
    from trmseq.io.atomic import check_writable
    from trmseq.labels import read_labels

    if model is not None and predictions is not None:
        raise ConfigError("give --model or --predictions, not both")
    files = expand_paths(spectra)
    table = read_labels(labels, max_q, max_expect) if labels else None
    cfg = config_mod.load(config) if predictions is not None else load_decode_config(config)
    if plot_out is not None:
        if plot_out.suffix.lower() != ".png":
            raise ConfigError(f"{plot_out}: --plot writes a PNG; give a name ending in .png")
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise ConfigError('--plot needs matplotlib: pip install "trmseq[plot]"') from None
    for out in (json_out, plot_out):  # before the work, not after it
        if out is not None:
            check_writable(out)
    with progress() as bar:
        total = sum(count_spectra(f) for f in files) if not bar.disable else None
        task = bar.add_task("evaluating", total=total)
        try:
            if predictions is not None:
                ev = report.evaluate_predictions(files, predictions, cfg or config_mod.Config(),
                                                 labels=table)  # fmt: skip
            else:
                ev = report.evaluate_model(
                    files, model, cfg, device,
                    dict(n_sup=n_sup, halting=halting, rerank=rerank, batch_size=batch_size,
                         precursor_tol_ppm=tolerance),
                    on_spectra=lambda n: bar.advance(task, n), labels=table,
                )  # fmt: skip
        except InputError as e:  # e.g. nothing to evaluate: say what became of the labels
            if table is None:
                raise
            raise InputError(f"{e}; {table.brief()}") from None
    if table is not None:
        ev.extra["labels"] = table.summary()
    typer.echo(report.format_table(ev))
    for reason, n_skipped in ev.counter.counts.most_common():
        err.print(f"  skipped {n_skipped:,}: {reason}", markup=False)
    for line in table.summary_lines() if table is not None else []:
        err.print(line, markup=False, highlight=False)
    if json_out is not None:
        report.write_json(ev, json_out)
        err.print(f"wrote {json_out}")
    if plot_out is not None:
        report.plot(ev, plot_out)
        err.print(f"wrote {plot_out}")


@app.command()
@handle_errors
def show(
    spectra: Annotated[Path, typer.Argument(help="The MGF, mzML or mzXML file that holds the spectrum.")],
    index: Annotated[
        int | None, typer.Option(min=0, help="The spectrum's 0-based position among the file's MS2 spectra.")
    ] = None,
    scan: Annotated[str | None, typer.Option(help="Or its scan number (the first spectrum with it).")] = None,
    title: Annotated[str | None, typer.Option(help="Or its title (the first spectrum with it).")] = None,
    peptide: Annotated[
        str | None, typer.Option(help="The peptide to show, in any notation (default: the model's answer).")
    ] = None,
    compare: Annotated[str | None, typer.Option(help="A second peptide, mirrored below.")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Picture to write: .png or .svg.")] = Path(
        "spectrum.png"
    ),
    model: ModelOption = None,
    tolerance: Annotated[float, typer.Option(min=0.0, help="Fragment tolerance in Da.")] = 0.02,
    device: DeviceOption = "auto",
) -> None:
    """Draw one spectrum with a peptide's b/y ions marked: the evidence behind a call."""
    from trmseq.show import draw, explain, find_spectrum

    if output.suffix.lower() not in (".png", ".svg"):
        raise ConfigError(f"{output}: the picture must end in .png or .svg")
    if sum(x is not None for x in (index, scan, title)) != 1:
        raise ConfigError("name the spectrum with exactly one of --index, --scan, --title")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ConfigError('trmseq show needs matplotlib: pip install "trmseq[plot]"') from None
    spectrum = find_spectrum(spectra, index=index, scan=scan, title=title)
    vocab, tokens, other, note = explain(spectrum, model, device, peptide, compare)
    draw(spectrum, tokens, vocab, output, other, tolerance)
    err.print(f"wrote {output}: {vocab.proforma(tokens)} {note}", markup=False, highlight=False)
