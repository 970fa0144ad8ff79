"""Durable file operations shared by storage, services and documents.

Nothing here knows about bbcs records: writing a whole file or none of it, making a rename
survive a power cut, and hashing a file without reading it into memory.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from contextlib import suppress
from pathlib import Path

_BLOCK = 1024 * 1024


def write_atomically(out: Path, data: bytes) -> None:
    """Write via a temp file in the same folder and ``os.replace``: never half a file."""
    handle, temp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        try:  # mkstemp makes the file private (0600); what is written here is not a secret
            mode = out.stat().st_mode & 0o777
        except OSError:
            mode = 0o644
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


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as reader:
        for block in iter(lambda: reader.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()
