"""The ``trmseq`` command line: parse options, call the library, turn errors into exit codes.

Exit codes: 0 success, 1 a data, input or runtime error (one line on stderr), 2 a usage error,
130 Ctrl-C, 143 SIGTERM, 129 SIGHUP. Results go to stdout or files; logs and progress go to stderr. Each
module registers its commands on :data:`trmseq.cli.app.app`.
"""

from __future__ import annotations

from trmseq.cli import data, sequencing, training  # noqa: F401 - they register the commands
from trmseq.cli.app import app
from trmseq.terminal import on_sigterm_unwind

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    on_sigterm_unwind()
    app(prog_name="trmseq")
