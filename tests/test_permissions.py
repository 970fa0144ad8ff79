"""POSIX permissions (issue 15 item 13): the data dir is its user's alone — 0700 folders, 0600
files — after init, ordinary work and a backup; an older data dir is tightened when opened."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from desktop_app.services.app import open_services
from tests.helpers.cli import run_bbcs, subprocess_env

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")


def _loose(root: Path) -> list[str]:
    """Every path under ``root`` (itself included) that its group or others may use."""
    found = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            found.append(f"{path.relative_to(root.parent)} {oct(mode)}")
    return found


def test_a_data_dir_holds_nothing_its_group_or_others_can_read(tmp_path: Path) -> None:
    data_dir = tmp_path / "数据"
    env = subprocess_env(BBCS_ADMIN_PASSWORD="Admin12345")
    steps = [
        (
            "init",
            "--site-code",
            "410221",
            "--site-name",
            "杞县办不成事监督窗口",
            "--level",
            "county",
        ),
        ("demo", "--cases", "20"),
        ("backup",),
        ("check",),
    ]
    for step in steps:
        result = run_bbcs(*step, data_dir=data_dir, env=env)
        assert result.returncode == 0, (step, result.stderr)

    assert list((data_dir / "backups").iterdir())
    assert (data_dir / "logs" / "bbcs.log").is_file()
    assert _loose(data_dir) == []


def test_an_older_data_dir_is_tightened_when_opened(tmp_path: Path) -> None:
    data_dir = tmp_path / "旧数据"
    open_services(data_dir).close()
    for path in [data_dir, *data_dir.rglob("*")]:  # as an older release left it
        path.chmod(0o755 if path.is_dir() else 0o644)
    assert _loose(data_dir)

    open_services(data_dir).close()

    assert _loose(data_dir) == []
    assert os.access(data_dir / "bbcs.db", os.R_OK | os.W_OK)
