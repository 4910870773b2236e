"""atomic_write: all or nothing."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from trmseq.errors import OutputError
from trmseq.io.atomic import atomic_write


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_success_writes_the_file_and_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    with atomic_write(target) as handle:
        handle.write("hello\n")
        assert not target.exists()  # not visible until the block succeeds
    assert target.read_text() == "hello\n"
    assert listing(tmp_path) == ["out.txt"]


def test_binary_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    with atomic_write(target, "wb") as handle:
        handle.write(b"\x00\x01\r\n")
    assert target.read_bytes() == b"\x00\x01\r\n"


def test_text_mode_keeps_newlines(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    with atomic_write(target) as handle:
        handle.write("a\nb\n")
    assert target.read_bytes() == b"a\nb\n"


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_failure_leaves_no_file_and_no_temp(tmp_path: Path, error: type[BaseException]) -> None:
    target = tmp_path / "out.txt"
    with pytest.raises(error):
        with atomic_write(target) as handle:
            handle.write("partial")
            raise error("boom")
    assert listing(tmp_path) == []


def test_failure_leaves_existing_target_untouched(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("original")
    with pytest.raises(ValueError):
        with atomic_write(target) as handle:
            handle.write("new content")
            raise ValueError("boom")
    assert target.read_text() == "original"
    assert listing(tmp_path) == ["out.txt"]


def test_success_replaces_existing_target(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("original")
    with atomic_write(target) as handle:
        handle.write("new")
    assert target.read_text() == "new"
    assert listing(tmp_path) == ["out.txt"]


def test_folder_target_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "adir"
    target.mkdir()
    (target / "keep").write_text("x")
    with pytest.raises(OutputError, match="is a folder"):
        with atomic_write(target) as handle:
            handle.write("data")
    assert listing(tmp_path) == ["adir"]
    assert listing(target) == ["keep"]


def test_rename_failure_removes_the_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.txt"
    target.write_text("original")

    def refuse(src: str, dst: str) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("os.replace", refuse)
    with pytest.raises(OutputError, match="out.txt: cannot write"):
        with atomic_write(target) as handle:
            handle.write("data")
    assert listing(tmp_path) == ["out.txt"]
    assert target.read_text() == "original"


def test_relative_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with atomic_write("rel.txt") as handle:
        handle.write("x")
    assert listing(tmp_path) == ["rel.txt"]


def test_new_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    # A file written atomically should look like one written with open(): mode 0o666 & ~umask,
    # not the 0o600 of the private temporary file.
    mask = os.umask(0o022)
    try:
        plain = tmp_path / "plain.txt"
        plain.write_text("x")
        target = tmp_path / "atomic.txt"
        with atomic_write(target) as handle:
            handle.write("x")
        assert stat.S_IMODE(target.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode) == 0o644
    finally:
        os.umask(mask)
