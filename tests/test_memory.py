"""What the window keeps in memory that it does not need (issue 15: ≤ 250 MB while importing a
county; issue 18: the city window). Figures come from tests/bench_import.py; these tests check
the mechanisms, not a number of MB that would depend on the machine."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

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


# Frees a 16 MB block (glibc then maps only blocks of 16 MB and more by themselves, and trims a
# heap only when 32 MB are free at its top), then 30 MB in blocks of 200 KB: how many MB the
# process holds afterwards beyond what it held before.
KEPT_AFTER_FREEING = """
import json, sys
from pathlib import Path
def rss_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
SETUP
block = bytearray(16 << 20)
del block
before = rss_mb()
blocks = [bytearray(200_000) for _ in range(150)]
del blocks
print(json.dumps(rss_mb() - before))
"""


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="glibc's malloc",
)
def test_the_window_gives_back_what_a_big_job_freed() -> None:
    setup = "from desktop_app.ui.app import make_application; make_application()"
    kept = run_python(KEPT_AFTER_FREEING.replace("SETUP", setup))
    assert isinstance(kept, float) and kept < 8, kept
    # Without it glibc keeps the 30 MB (the check that the test can tell the two apart).
    unfixed = run_python(KEPT_AFTER_FREEING.replace("SETUP", "import desktop_app.ui.app"))
    assert isinstance(unfixed, float) and unfixed > 20, unfixed
