"""Durable file operations shared by storage, services and documents.

Nothing here knows about bbcs records: writing a whole file or none of it, making a rename
survive a power cut, reading a written file back from the medium rather than the cache, hashing
a file without reading it into memory (or as it is written), scratch space for a big file that
is thrown away, a file's size as a person reads it, and files kept to their owner (POSIX).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import stat
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO, Protocol

_BLOCK = 1024 * 1024
# Linux: the file system in memory that every distribution mounts, and the age at which a
# scratch folder there is taken as left behind by a run that crashed.
MEMORY_FOLDER = Path("/dev/shm")
LEFT_BEHIND_AFTER_S = 12 * 3600
# POSIX: the records are confidential, so what bbcs creates is its user's alone (0700 folders,
# 0600 files). Windows keeps the data dir private by the user profile's ACL.
PRIVATE_UMASK = 0o077
_GROUP_AND_OTHERS = 0o077

log = logging.getLogger(__name__)
# The mode write_atomically gives a new file: a plain file's, under the umask bbcs set.
_new_file_mode = 0o644


def create_private_files() -> None:
    """From now on every file and folder this process creates is its owner's alone (POSIX).

    Set once, early, by whatever opens a data dir: SQLite's files (the database, its ``-wal``
    and ``-shm``), backups, logs, keys, attachments and papers all follow the umask.
    """
    global _new_file_mode
    if os.name != "posix":
        return
    os.umask(PRIVATE_UMASK)
    _new_file_mode = 0o600


def make_private(root: Path, *, deep: Iterable[Path] = ()) -> None:
    """Take the group's and others' permissions off ``root``, off what lies directly in it and
    off everything under each of ``deep`` (POSIX; a data dir made by an older release, or
    copied in). Tightened, never loosened; what cannot be changed (another user's file) is
    logged and left."""
    if os.name != "posix":
        return
    _tighten(root)
    with suppress(OSError):
        for entry in os.scandir(root):
            _tighten(Path(entry.path))
    for folder in deep:
        for parent, folders, files in os.walk(folder):
            for name in folders + files:
                _tighten(Path(parent, name))


def _tighten(path: Path) -> None:
    try:
        found = path.lstat()
        if stat.S_ISLNK(found.st_mode) or not found.st_mode & _GROUP_AND_OTHERS:
            return
        path.chmod(stat.S_IMODE(found.st_mode) & ~_GROUP_AND_OTHERS)
    except OSError as exc:
        log.warning("cannot make %s private to its owner: %s", path, exc)


def write_atomically(out: Path, data: bytes) -> None:
    """Write via a temp file in the same folder and ``os.replace``: never half a file."""
    handle, temp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        try:  # mkstemp makes the file 0600; an existing file keeps its mode, a new one
            mode = out.stat().st_mode & 0o777  # gets a plain file's (0600 under bbcs's umask)
        except OSError:
            mode = _new_file_mode
        os.chmod(temp_name, mode)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, out)
    except BaseException:
        with suppress(OSError):
            os.unlink(temp_name)
        raise


@contextmanager
def written_beside(out: Path) -> Iterator[Path]:
    """A temporary path beside ``out`` for a writer that needs a file name (xlsxwriter, a CSV
    writer); moved onto ``out`` when the block ends, removed if it raises — never half a file
    at ``out``. A removal that fails too (a read-only or vanished place) is not raised over the
    block's own error."""
    temporary = out.with_name(f".{out.stem}.{uuid.uuid4().hex[:8]}.part{out.suffix}")
    try:
        yield temporary
        os.replace(temporary, out)
    except BaseException:
        with suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise


def fsync_dir(path: Path) -> None:
    """Make renames in ``path`` durable (POSIX; Windows cannot open a folder this way)."""
    if os.name != "posix":
        return
    with suppress(OSError):
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def forget_cached(stream: BinaryIO) -> None:
    """Ask the system to drop a written and fsynced file's pages from its cache, so that
    reading it back reads the medium (a USB stick that loses writes is found out) rather than
    memory. Linux only; elsewhere, or if refused, the read-back reads the cache."""
    advise = getattr(os, "posix_fadvise", None)
    if advise is not None and sys.platform.startswith("linux"):
        with suppress(OSError):
            advise(stream.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as reader:
        for block in iter(lambda: reader.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


class _Writable(Protocol):
    def write(self, data: bytes, /) -> int: ...


class HashingWriter:
    """Passes what is written on to ``out`` and keeps its SHA-256 and size, so a file written
    once (a bundle, a packed member) has its hash without being read again."""

    def __init__(self, out: _Writable) -> None:
        self._out = out
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return int(self._out.write(data))


def size_text(size: int) -> str:
    """A size in bytes as the screens and messages show it: ``512 B``, ``38 KB``, ``1.4 MB``."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    if size < 1024**3:
        return f"{size / 1024 / 1024:.1f} MB"
    return f"{size / 1024**3:.1f} GB"


@contextmanager
def scratch_folder(needed: int) -> Iterator[Path]:
    """A temporary folder, gone afterwards, for a scratch file of about ``needed`` bytes (0:
    not known) that is written once, read through and thrown away (a bundle's records file).

    On Linux it is in memory (``/dev/shm``) when that and the free memory have room for it
    twice over: half a GB written to a busy disk and read back cost up to a second more. It is
    left behind rather than failing a finished job when something (a virus scanner on Windows)
    still holds a file in it.
    """
    with tempfile.TemporaryDirectory(
        prefix="bbcs-", dir=_memory_folder(needed), ignore_cleanup_errors=True
    ) as folder:
        yield Path(folder)


def create_scratch_file(path: Path) -> BinaryIO:
    """A new file for ``scratch_folder``: on Windows marked temporary, which keeps it in the
    cache instead of writing it to disk while memory lasts."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    flags |= getattr(os, "O_BINARY", 0) | getattr(os, "O_SHORT_LIVED", 0)  # Windows only
    return os.fdopen(os.open(path, flags, 0o600), "wb")


def _memory_folder(needed: int) -> str | None:
    if needed <= 0 or not sys.platform.startswith("linux"):
        return None  # an unknown size (e.g. an export from PostgreSQL) goes to disk
    if not os.access(MEMORY_FOLDER, os.W_OK | os.X_OK):
        return None
    _sweep(MEMORY_FOLDER)
    try:
        room = min(shutil.disk_usage(MEMORY_FOLDER).free, _available_memory())
    except (OSError, ValueError):
        return None
    return str(MEMORY_FOLDER) if room >= 2 * needed else None


def _sweep(folder: Path) -> None:
    """Remove this user's scratch folders that a crashed run left (memory until a reboot)."""
    too_old = time.time() - LEFT_BEHIND_AFTER_S
    with suppress(OSError):
        for entry in folder.glob("bbcs-*"):
            with suppress(OSError):
                found = entry.lstat()
                if found.st_uid == os.getuid() and found.st_mtime < too_old and entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)


def _available_memory() -> int:
    """What Linux could give without swapping (``MemAvailable``), in bytes."""
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0
