"""Write output files so that a failure never leaves a partial file behind."""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, TextIO

from trmseq.errors import OutputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove_orphans(path: Path) -> None:
    """Remove temporary files of ``path`` left by runs that were killed (kill -9, power loss).

    Each temporary file carries its writer's process id; one whose process is gone is an
    orphan. A live writer's file is left alone.
    """
    if os.name != "posix":  # os.kill(pid, 0) probes a process only on POSIX
        return
    prefix = f".{path.name}."
    with contextlib.suppress(OSError):
        for tmp in path.parent.iterdir():
            name = tmp.name
            if not (name.startswith(prefix) and name.endswith(".tmp")):
                continue
            pid = name[len(prefix) :].split(".", 1)[0]
            if pid.isdigit() and not _alive(int(pid)):
                with contextlib.suppress(OSError):
                    tmp.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; rename it onto ``path`` only if the block succeeds.

    On any exception the temporary file is removed and ``path`` is left as it was. The file
    gets the usual permissions (0666 minus the umask), not the temporary file's private 0600.

    Raises
    ------
    OutputError
        If the folder does not exist, ``path`` is a folder or a write-protected file, or the
        file cannot be written.
    """
    path = Path(path)
    if path.is_symlink():  # replace what the link points to, and keep the link
        path = Path(os.path.realpath(path))
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name")
    # The mode bits too: os.access says yes to root, and a file made read-only means "keep".
    if path.exists() and (not os.access(path, os.W_OK) or not path.stat().st_mode & 0o222):
        raise OutputError(f"{path}: is write-protected; not replacing it")
    _remove_orphans(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise OutputError(f"{path}: cannot write here ({e.strerror})") from None
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, mode, newline="" if "b" not in mode else None) as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError) and not isinstance(e, OutputError):
            raise OutputError(f"{path}: cannot write ({e.strerror or e})") from None
        raise


@contextlib.contextmanager
def atomic_write_text(path: str | Path) -> Iterator[TextIO]:
    """:func:`atomic_write` for text, gzip-compressed when the name ends in ``.gz``.

    The compressed file records no name or time, so the same text gives the same bytes.
    """
    if Path(path).suffix.lower() != ".gz":
        with atomic_write(path) as handle:
            yield handle
        return
    with (
        atomic_write(path, "wb") as raw,
        gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as packed,
        io.TextIOWrapper(packed, encoding="utf-8", newline="") as handle,
    ):
        yield handle


class _ProbeError(Exception):
    """Raised inside :func:`atomic_write` to leave without writing."""


def check_writable(path: str | Path) -> None:
    """Fail now, before the work, if :func:`atomic_write` could not write ``path``.

    Leaves ``path`` as it was.

    Raises
    ------
    OutputError
        As :func:`atomic_write` would.
    """
    with contextlib.suppress(_ProbeError), atomic_write(path):
        raise _ProbeError
