"""Writing finished documents to disk."""

from __future__ import annotations

import os
import tempfile
from contextlib import suppress
from pathlib import Path


def write_atomically(out: Path, data: bytes) -> None:
    """Write via a temp file in the same folder and ``os.replace``: never half a file."""
    handle, temp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        try:  # mkstemp makes the file private (0600); a printed paper is not a secret
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
