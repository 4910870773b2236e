"""The ``trmseq`` command line: parse options, call the library, turn errors into exit codes.

Exit codes: 0 success, 1 a data, input or runtime error (one line on stderr), 2 a usage error.
Results go to stdout or files; logs and progress go to stderr.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from trmseq import __version__
from trmseq import config as config_mod
from trmseq.errors import TrmseqError

app = typer.Typer(
    name="trmseq",
    help="De novo peptide sequencing from MS/MS spectra with a Tiny Recursive Model.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)
err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML configuration (see `trmseq configure`)."),
]


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


def handle_errors(func: F) -> F:
    """Print a TrmseqError as one line on stderr and exit 1; Ctrl-C exits 130."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TrmseqError as e:
            err.print(f"error: {e}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(code=1) from None
        except KeyboardInterrupt:
            err.print("interrupted", markup=False)
            raise typer.Exit(code=130) from None

    return wrapper  # type: ignore[return-value]


def progress(quiet: bool = False) -> Progress:
    """A progress bar on stderr that stays silent when stderr is not a terminal."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=quiet or not err.is_terminal,
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


def main() -> None:
    """Console-script entry point."""
    app(prog_name="trmseq")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
