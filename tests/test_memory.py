"""What the window keeps in memory that it does not need (issue 15: ≤ 250 MB while importing a
county; issue 18: the city window). Figures come from tests/bench_import.py; these tests check
the mechanisms, not a number of MB that would depend on the machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str) -> object:
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    output = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    result: object = json.loads(output.strip().splitlines()[-1])
    return result


def test_starting_the_window_does_not_keep_sqlalchemys_source_in_memory() -> None:
    # PySide6 reads the source of every module imported after it, and linecache keeps it:
    # SQLAlchemy's alone is 200,000 lines. The window imports the services before PySide6.
    kept = run_python(
        "import json, linecache\n"
        "import desktop_app.ui.app, desktop_app.ui.main_window\n"
        "print(json.dumps(sorted(n for n, e in linecache.cache.items() if len(e) > 2"
        " and n.endswith('.py') and 'sqlalchemy' in n and not n.endswith('__init__.py'))))"
    )
    assert kept == []  # it was every module of SQLAlchemy's: compiler.py, session.py …
