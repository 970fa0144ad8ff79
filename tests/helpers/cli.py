"""Running ``python -m desktop_app`` (the ``bbcs`` command) in a subprocess, as a script would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers.factories import ADMIN_PASSWORD

REPO_ROOT = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD_ENV = "BBCS_ADMIN_PASSWORD"
# The command line logs in (issue 15 item 8): tests' sites are set up by `init` with the
# administrator "admin" and ADMIN_PASSWORD (tests.helpers.factories), who runs commands unless a
# test says otherwise (``subprocess_env(BBCS_USER=..., BBCS_PASSWORD=...)``, or ``as_user``).
TEST_USER = "admin"
_STRIPPED = ("BBCS_DATA_DIR", ADMIN_PASSWORD_ENV, "BBCS_USER", "BBCS_PASSWORD")


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for a child python: the source tree importable, no stray data dir, and
    the test sites' administrator as the user who logs in."""
    env = {k: v for k, v in os.environ.items() if k not in _STRIPPED}
    env["BBCS_USER"] = TEST_USER
    env["BBCS_PASSWORD"] = ADMIN_PASSWORD
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONUTF8"] = "1"
    env.update(extra)
    return env


def as_user(username: str, password: str, **extra: str) -> dict[str, str]:
    """The environment for a child python that logs in as ``username``."""
    return subprocess_env(BBCS_USER=username, BBCS_PASSWORD=password, **extra)


def anonymous(**extra: str) -> dict[str, str]:
    """The environment for a child python with no user at all (nobody logs in)."""
    env = subprocess_env(**extra)
    for key in ("BBCS_USER", "BBCS_PASSWORD"):
        if key not in extra:
            env.pop(key)
    return env


def run_bbcs(
    *args: str,
    data_dir: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """``bbcs [--data-dir DIR] ARGS…``; output captured as text, never raises on exit code."""
    command = [sys.executable, "-m", "desktop_app"]
    if data_dir is not None:
        command += ["--data-dir", str(data_dir)]
    command += list(args)
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env if env is not None else subprocess_env(),
        cwd=REPO_ROOT,
        timeout=timeout,
        check=False,
    )
