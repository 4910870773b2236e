"""The Typer application that every command module registers on, and its global options."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from trmseq import __version__
from trmseq.terminal import err

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
        level=logging.INFO if verbose else logging.WARNING, handlers=[_OneLine()], force=True
    )


class _OneLine(logging.Handler):
    """Each log record as one line on stderr (``warning: ...``), through the console that draws
    the progress bar, so that the two do not garble each other."""

    def emit(self, record: logging.LogRecord) -> None:
        err.print(f"{record.levelname.lower()}: {record.getMessage()}", highlight=False)
