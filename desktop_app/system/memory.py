"""Giving memory back to the operating system after a burst (a first import at the city).

SQLite frees its page cache into the C heap when the cache shrinks, but the C library keeps most
of those small blocks for reuse, so the process would stay hundreds of MB larger than it needs
to be. Best effort: glibc's ``malloc_trim`` on Linux, the UCRT's ``_heapmin`` on Windows.
"""

from __future__ import annotations

import logging
import sys

log = logging.getLogger(__name__)


def give_back_freed_memory() -> None:
    import ctypes  # here, not at start-up: only a big import needs it
    import ctypes.util

    try:
        if sys.platform == "win32":
            ctypes.CDLL("ucrtbase")._heapmin()
            return
        name = ctypes.util.find_library("c")
        if name is None:
            return
        libc = ctypes.CDLL(name)
        trim = getattr(libc, "malloc_trim", None)  # glibc only (not musl, not macOS)
        if trim is not None:
            trim(0)
    except Exception as exc:  # no such library or function here: nothing to give back this way
        log.debug("could not return freed memory: %s", exc)
