"""What the command line needs from the terminal: stderr, progress bars, exit codes, signals.

Kept apart from :mod:`trmseq.cli` so that the commands read as options -> library call.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from trmseq.errors import TrmseqError

# One line per message, whatever the width; no markup or emoji codes, since messages carry user
# paths and titles, and "run [final]/a:x:.tsv" must print as it is.
err = Console(stderr=True, soft_wrap=True, markup=False, emoji=False)
F = TypeVar("F", bound=Callable[..., Any])

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML configuration (see `trmseq configure`)."),
]
ThreadsOption = Annotated[
    int | None,
    typer.Option(min=1, help="CPU threads for the network (default: torch's choice, or $OMP_NUM_THREADS)."),
]


def use_threads(n_threads: int | None) -> None:
    """Limit torch's intra-op threads; on a busy shared machine fewer threads run faster."""
    if n_threads is not None:
        import torch

        torch.set_num_threads(n_threads)


class Terminated(KeyboardInterrupt):
    """SIGTERM (what a batch scheduler sends) or SIGHUP (a closed terminal or ssh session),
    raised so that it unwinds like Ctrl-C."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(signum)
        self.signum = signum


def _terminate(signum: int, frame: object) -> None:
    raise Terminated(signum)


def on_sigterm_unwind() -> None:
    """Turn SIGTERM and SIGHUP into :class:`Terminated`, so that they unwind like Ctrl-C."""
    signal.signal(signal.SIGTERM, _terminate)
    # Not on Windows, and not under nohup, which set SIGHUP to be ignored so the run outlives
    # its terminal.
    if hasattr(signal, "SIGHUP") and signal.getsignal(signal.SIGHUP) is signal.SIG_DFL:
        signal.signal(signal.SIGHUP, _terminate)


def handle_errors(func: F) -> F:
    """Print a TrmseqError as one line on stderr and exit 1; Ctrl-C exits 130, SIGTERM 143, SIGHUP 129.

    Interruptions unwind through the writers, which remove their temporary files.
    """

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TrmseqError as e:
            err.print(f"error: {e}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(code=1) from None
        except Terminated as e:
            err.print(f"terminated ({signal.Signals(e.signum).name})")
            raise typer.Exit(code=128 + e.signum) from None
        except KeyboardInterrupt:
            err.print("interrupted", markup=False)
            raise typer.Exit(code=130) from None

    return wrapper  # type: ignore[return-value]


def secondary_process() -> bool:
    """Whether this is a torchrun process other than rank 0 (which alone reports)."""
    return int(os.environ.get("RANK", "0")) > 0


def progress(quiet: bool = False) -> Progress:
    """A progress bar on stderr that stays silent when stderr is not a terminal.

    Every column copes with a task whose total is still unknown (``total=None``).
    """
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=quiet or not err.is_terminal,
    )
