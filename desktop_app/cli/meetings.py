"""``bbcs meetings [--json]``: joint meetings and their minutes (issue 16)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop_app.domain.permissions import Permission


def add_parsers(sub: Any) -> None:
    """Adds ``meetings`` to the ``bbcs`` parser (filled in by the meetings work)."""


COMMANDS: dict[str, Callable[[argparse.Namespace, Path], int]] = {}
PERMISSIONS: dict[str, Permission] = {}
