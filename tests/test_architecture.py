"""The boundaries of DESIGN.md §7 at run time: the core and a command run without loading Qt.

Which package may import which (only desktop_app.ui imports Qt; ui and cli over services over
documents over storage over domain; ui reaches the database only through services) is checked by
import-linter's contracts in pyproject.toml, run by `python tasks.py lint` and so by CI.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers.cli import REPO_ROOT, subprocess_env

QT_MODULES = ("PySide6", "shiboken6", "PyQt5", "PyQt6", "PySide2")


def test_the_core_and_a_command_run_without_loading_qt(tmp_path: Path) -> None:
    script = (
        "import json, sys\n"
        "import desktop_app.services.app, desktop_app.cli\n"
        "import desktop_app.services.intake_import, desktop_app.services.ledger\n"
        "import desktop_app.domain.workdays, desktop_app.storage.search\n"
        "def qt():\n"
        f"    return sorted(m for m in sys.modules if m.split('.')[0] in {list(QT_MODULES)!r})\n"
        "after_import = qt()\n"
        "init = ['init', '--site-code', '410221', '--site-name', '杞县', '--level', 'county']\n"
        "assert desktop_app.cli.main(['--data-dir', sys.argv[1], *init]) == 0\n"
        "code = desktop_app.cli.main(['--data-dir', sys.argv[1], 'check', '--json'])\n"
        "outcome = {'after_import': after_import, 'code': code, 'after_command': qt()}\n"
        "print(json.dumps(outcome), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "data")],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=subprocess_env(BBCS_ADMIN_PASSWORD="Admin12345"),
        cwd=REPO_ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stderr.strip().splitlines()[-1])
    assert outcome == {"after_import": [], "code": 0, "after_command": []}
