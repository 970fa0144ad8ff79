"""desktop_app.files: scratch space for a bundle's records file, and durable writes."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from desktop_app import files

LINUX_WITH_MEMORY_FOLDER = sys.platform.startswith("linux") and os.access(
    files.MEMORY_FOLDER, os.W_OK | os.X_OK
)


@pytest.mark.skipif(not LINUX_WITH_MEMORY_FOLDER, reason="a Linux memory file system")
def test_scratch_space_is_in_memory_when_there_is_room_and_gone_afterwards() -> None:
    with files.scratch_folder(1024 * 1024) as folder:
        assert folder.parent == files.MEMORY_FOLDER
        (folder / "records.sqlite").write_bytes(b"x" * 1024)
    assert not folder.exists()


def test_scratch_space_falls_back_to_the_temporary_folder_when_memory_is_short(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(files, "_available_memory", lambda: 100 * 1024 * 1024)
    with files.scratch_folder(60 * 1024 * 1024) as folder:  # needs twice its size: 120 MB
        assert folder.parent == Path(tempfile.gettempdir())
    assert not folder.exists()
    with files.scratch_folder(40 * 1024 * 1024) as folder:
        expected = files.MEMORY_FOLDER if LINUX_WITH_MEMORY_FOLDER else Path(tempfile.gettempdir())
        assert folder.parent == expected


def test_scratch_space_of_an_unknown_size_is_the_temporary_folder() -> None:
    with files.scratch_folder(0) as folder:
        assert folder.parent == Path(tempfile.gettempdir())


def test_scratch_space_elsewhere_than_linux_is_the_temporary_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(files.sys, "platform", "win32")
    with files.scratch_folder(1) as folder:
        assert folder.parent == Path(tempfile.gettempdir())


def test_a_scratch_file_is_new_and_private(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite"
    with files.create_scratch_file(path) as writer:
        writer.write(b"SQLite format 3\x00")
    assert path.read_bytes() == b"SQLite format 3\x00"
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        files.create_scratch_file(path)
    assert path.read_bytes() == b"SQLite format 3\x00"  # never overwritten


@pytest.mark.skipif(
    not (sys.platform.startswith("linux") and shutil.which("fincore")),
    reason="Linux, and util-linux's fincore to see the cache",
)
def test_a_written_file_is_read_back_from_the_medium_not_the_cache(tmp_path: Path) -> None:
    def cached_bytes(path: Path) -> int:
        shown = subprocess.run(
            ["fincore", "--bytes", "--noheadings", "--output", "RES", str(path)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return int(shown.strip())

    kind = subprocess.run(["stat", "-f", "-c", "%T", str(tmp_path)], capture_output=True, text=True)
    if kind.stdout.strip() == "tmpfs":
        pytest.skip("a file system in memory has no medium to read back from")
    path = tmp_path / "bundle.bbcs"
    data = os.urandom(4 * 1024 * 1024)
    with path.open("wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())
        assert cached_bytes(path) >= len(data)
        files.forget_cached(stream)
    assert cached_bytes(path) < len(data) // 4
    assert path.read_bytes() == data


@pytest.mark.skipif(not LINUX_WITH_MEMORY_FOLDER, reason="a Linux memory file system")
def test_scratch_folders_a_crashed_run_left_in_memory_are_removed() -> None:
    left = Path(tempfile.mkdtemp(prefix="bbcs-", dir=files.MEMORY_FOLDER))
    (left / "records.sqlite").write_bytes(b"x" * 1024)
    long_ago = time.time() - files.LEFT_BEHIND_AFTER_S - 60
    os.utime(left, (long_ago, long_ago))
    running = Path(tempfile.mkdtemp(prefix="bbcs-", dir=files.MEMORY_FOLDER))  # another run's
    try:
        with files.scratch_folder(1024) as folder:
            assert folder.parent == files.MEMORY_FOLDER
        assert not left.exists()
        assert running.is_dir()
    finally:
        shutil.rmtree(left, ignore_errors=True)
        shutil.rmtree(running, ignore_errors=True)
