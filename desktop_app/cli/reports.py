"""``bbcs bulletin`` and ``bbcs scorecard``: analysis bulletins and department scorecards
(issue 17)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop_app.domain.permissions import Permission


def add_parsers(sub: Any) -> None:
    """Adds this module's commands to the ``bbcs`` parser."""


COMMANDS: dict[str, Callable[[argparse.Namespace, Path], int]] = {}
PERMISSIONS: dict[str, Permission] = {}
