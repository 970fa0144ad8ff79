"""``bbcs referrals [--json]``: the accountability referral register (issue 16)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop_app.domain.permissions import Permission


def add_parsers(sub: Any) -> None:
    """Adds ``referrals`` to the ``bbcs`` parser (filled in by the referrals work)."""


COMMANDS: dict[str, Callable[[argparse.Namespace, Path], int]] = {}
PERMISSIONS: dict[str, Permission] = {}
