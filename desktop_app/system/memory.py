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


# glibc's mallopt parameter, and the size from which malloc maps a block of its own (its default).
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_BYTES = 128 * 1024


def return_large_blocks_when_freed() -> None:
    """glibc (Linux): keep the size from which malloc maps a block of its own at its default.

    Left to itself glibc raises it to the largest block freed so far (up to 32 MB: a first
    import frees SQLite's index sorter and FTS5's term buffer), and with it the size below which
    a thread's heap is never trimmed; so the blocks of 128 KB–32 MB a later import or report
    frees stay with the window: 40–55 MB after one import of 100,000 cases at the city, which
    ``malloc_trim`` cannot give back (it leaves a thread heap's top alone). Fixing the value
    turns that adjustment off (glibc's ``mallopt(3)``). Best effort; nothing elsewhere.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes  # ~3 ms; the process's own symbols include the C library's, no lookup

    try:
        mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
        if mallopt is not None:
            mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)
    except Exception as exc:  # not glibc (musl has no such setting): nothing to do this way
        log.debug("could not fix malloc's mmap threshold: %s", exc)
