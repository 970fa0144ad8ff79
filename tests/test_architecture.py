"""The boundaries of DESIGN.md §7: only desktop_app/ui may use Qt; the core runs without it."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from tests.helpers.cli import REPO_ROOT, subprocess_env

PACKAGE = REPO_ROOT / "desktop_app"
UI = PACKAGE / "ui"
QT_MODULES = ("PySide6", "shiboken6", "PyQt5", "PyQt6", "PySide2")


def _is_qt(module: str) -> bool:
    return module.split(".")[0] in QT_MODULES


def qt_imports(path: Path) -> list[str]:
    """Every import of a Qt binding in one file, static or by name, as "line: module"."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module]
        elif isinstance(node, ast.Call):
            # importlib.import_module("PySide6…") / __import__("PySide6…")
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name in ("import_module", "__import__") and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    modules = [first.value]
        found.extend(f"{node.lineno}: {m}" for m in modules if _is_qt(m))
    return found


def core_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if not p.is_relative_to(UI))


def test_the_checker_sees_qt_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os\n"
        "import PySide6\n"
        "from PySide6.QtWidgets import QWidget\n"
        "def f():\n"
        "    from shiboken6 import isValid\n"
        "    return importlib.import_module('PySide6.QtCore')\n",
        encoding="utf-8",
    )
    assert qt_imports(sample) == [
        "2: PySide6",
        "3: PySide6.QtWidgets",
        "5: shiboken6",
        "6: PySide6.QtCore",
    ]


def test_nothing_outside_ui_imports_qt() -> None:
    files = core_files()
    assert PACKAGE / "cli.py" in files
    assert PACKAGE / "services" / "intake.py" in files
    offenders = {
        str(path.relative_to(REPO_ROOT)): found for path in files if (found := qt_imports(path))
    }
    assert offenders == {}


def test_the_core_and_a_command_run_without_loading_qt(tmp_path: Path) -> None:
    script = (
        "import json, sys\n"
        "import desktop_app.services.app, desktop_app.cli\n"
        "import desktop_app.services.intake_import, desktop_app.services.ledger\n"
        "import desktop_app.domain.workdays, desktop_app.storage.search\n"
        "def qt():\n"
        f"    return sorted(m for m in sys.modules if m.split('.')[0] in {list(QT_MODULES)!r})\n"
        "after_import = qt()\n"
        "code = desktop_app.cli.main(['--data-dir', sys.argv[1], 'check', '--json'])\n"
        "outcome = {'after_import': after_import, 'code': code, 'after_command': qt()}\n"
        "print(json.dumps(outcome), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "data")],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=subprocess_env(),
        cwd=REPO_ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stderr.strip().splitlines()[-1])
    assert outcome == {"after_import": [], "code": 0, "after_command": []}
