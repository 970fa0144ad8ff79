"""A sealer for tests that work on a bare database (no data dir, so no keys/data.key)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from desktop_app.services.data_key import DataKey
from desktop_app.services.sealing import Sealer


def throwaway_sealer() -> Sealer:
    """A sealer under a new key in a temporary folder: what it seals opens in this run only."""
    key = DataKey(Path(tempfile.mkdtemp(prefix="bbcs-test-key-")))
    key.create()
    return Sealer(key)
