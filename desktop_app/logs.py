"""Where the program writes its log: ``logs/bbcs.log`` in the data dir, rotated, for the window and
the command alike (set up below both, so neither imports the other for it)."""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import sys
from pathlib import Path

from desktop_app.files import create_private_files, make_private
from desktop_app.paths import DataLayout


def setup_logging(data_dir: Path | None) -> None:
    """Log to the data dir's ``logs/bbcs.log`` (2 MB, three old files kept); to stderr when the
    folder cannot be written, or with no data dir (a command that needs no site must not create
    one just to log). Once per process, first thing: it also makes what the process creates
    from now on private to its user (POSIX), the log itself included."""
    create_private_files()
    root = logging.getLogger()
    if any(getattr(h, "_bbcs", False) for h in root.handlers):
        return
    handler: logging.Handler = logging.StreamHandler(sys.stderr)
    if data_dir is not None:
        logs = DataLayout(data_dir).logs
        with contextlib.suppress(OSError):
            logs.mkdir(parents=True, exist_ok=True)
            make_private(logs)  # an older release's logs were readable by everyone
            handler = logging.handlers.RotatingFileHandler(
                logs / "bbcs.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8"
            )
    handler._bbcs = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
