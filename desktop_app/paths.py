"""Where things live: the data dir (database, attachments, backups, keys) and bundled resources."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

DATA_DIR_ENV = "BBCS_DATA_DIR"


def default_data_dir() -> Path:
    """The platform's per-user data folder (e.g. %LOCALAPPDATA%\\bbcs on Windows)."""
    return Path(platformdirs.user_data_dir("bbcs", appauthor=False, roaming=False))


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--data-dir`` wins, then ``BBCS_DATA_DIR``, then the platform default."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return default_data_dir()


def resources_dir() -> Path:
    """The ``resources/`` folder, both from a source checkout and from a PyInstaller build."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


class DataLayout:
    """The files inside one data dir."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def database(self) -> Path:
        return self.root / "bbcs.db"

    @property
    def lock_file(self) -> Path:
        return self.root / "bbcs.lock"

    @property
    def attachments(self) -> Path:
        return self.root / "attachments"

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def open_marker(self) -> Path:
        """Present while a writer has the database open; left behind by one that did not close
        cleanly (a crash, a power cut), which asks for a full integrity check at next start."""
        return self.root / "bbcs.running"

    def database_url(self) -> str:
        return f"sqlite:///{self.database.as_posix()}"
