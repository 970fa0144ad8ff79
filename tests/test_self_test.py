"""`bbcs self-test`: the check a packaged build runs, run here from source."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers.cli import REPO_ROOT


def test_self_test_passes_and_touches_no_real_data_dir(tmp_path: Path) -> None:
    untouched = tmp_path / "real data"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", BBCS_DATA_DIR=str(untouched))
    env["PYTHONPATH"] = str(REPO_ROOT)
    result = subprocess.run(
        [sys.executable, "-m", "desktop_app", "self-test"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for line in ("站点初始化", "交办单", "二维码核验", "主窗口", "QtPdf", "自检通过"):
        assert line in result.stdout
    assert not untouched.exists()
