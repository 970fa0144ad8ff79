"""Start-up of the *built* program: process start to a usable main window (budget 1.5 s).

    python tasks.py bench --frozen            (or: .venv/bin/python tests/bench_frozen.py)

The frozen program cannot be scripted from outside to log in, so this builds the same program
from build.spec around this file as entry point (into build/bench-dist, never dist/): the same
bootloader, libraries, PYZ archive and Qt plugins as dist/bbcs. The frozen child opens the
bench data dir, logs in (timed separately, as tests/bench_gui.py does: a person types the
password), shows the main window and waits until the dashboard and the ledger's first page are
loaded, then prints the wall-clock time. The parent measures from just before it starts the
process, so the bootloader, unpacking nothing (one folder) and Python's start-up are included.

Data: the 100,000-case database of `python tasks.py bench` (.bench/work) when present, else a
small demo site made with the built `bbcs` in build/bench-data.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(data_dir: Path) -> None:
    """Runs inside the frozen bench program."""
    from PySide6.QtCore import QCoreApplication

    from desktop_app.services.app import open_services
    from desktop_app.ui.app import make_application
    from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
    from desktop_app.ui.main_window import MainWindow

    app = make_application()
    services = open_services(data_dir)
    before_login = time.perf_counter()
    actor = services.auth.login("clerk1", "Demo12345")
    login_seconds = time.perf_counter() - before_login
    window = MainWindow(UiContext(services, actor, ChangeHub(), TaskRunner()))
    window.show()
    deadline = time.perf_counter() + 60
    while not (
        window.ledger.model.rowCount() > 0
        and window.dashboard.data is not None
        and not window.ledger.is_loading
    ):
        QCoreApplication.processEvents()
        if time.perf_counter() > deadline:
            raise SystemExit("timed out")
        time.sleep(0.001)
    window.go_to("事项台账")
    QCoreApplication.processEvents()
    ready = time.time()
    print(json.dumps({"ready": ready, "login_seconds": login_seconds}), flush=True)
    window.close()
    services.close()
    app.quit()


def build(python: str) -> Path:
    work, dist = ROOT / "build" / "bench-work", ROOT / "build" / "bench-dist"
    env = dict(os.environ, BBCS_BENCH_ENTRY=str(Path(__file__).resolve()))
    subprocess.run(
        [
            python,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "ERROR",
            "--distpath",
            str(dist),
            "--workpath",
            str(work),
            str(ROOT / "build.spec"),
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )
    exe = "bbcs-cli.exe" if os.name == "nt" else "bbcs"
    return dist / "bbcs" / exe


def demo_data(program: Path) -> Path:
    """A demo county site made with the real built program (dist/bbcs)."""
    data_dir = ROOT / "build" / "bench-data"
    if (data_dir / "bbcs.db").exists():
        return data_dir
    env = dict(
        os.environ,
        BBCS_ADMIN_PASSWORD="Admin12345",
        BBCS_USER="admin",  # `demo` runs as the administrator `init` made
        BBCS_PASSWORD="Admin12345",
        QT_QPA_PLATFORM="offscreen",
    )
    site = ["--site-code", "410221", "--site-name", "杞县办不成事监督窗口", "--short-name", "杞县"]
    for args in (["init", *site, "--level", "county"], ["demo", "--cases", "3000"]):
        subprocess.run([str(program), "--data-dir", str(data_dir), *args], env=env, check=True)
    return data_dir


def measure(bench: Path, data_dir: Path) -> float:
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    started = time.time()
    result = subprocess.run(
        [str(bench), str(data_dir)], capture_output=True, text=True, env=env, check=True
    )
    line = next(x for x in result.stdout.splitlines() if x.startswith("{"))
    report = json.loads(line)
    return float(report["ready"] - started - report["login_seconds"])


def main() -> int:
    runs = int(os.environ.get("BBCS_BENCH_RUNS", "7"))
    bench = build(sys.executable)
    big = ROOT / ".bench" / "work"
    product = ROOT / "dist" / "bbcs" / ("bbcs-cli.exe" if os.name == "nt" else "bbcs")
    if (big / "bbcs.db").exists():
        data_dir = big
    elif product.exists():
        data_dir = demo_data(product)
    else:
        print("No data: run `python tasks.py bench` or `python tasks.py package` first.")
        return 1
    first = measure(bench, data_dir)
    timings = [measure(bench, data_dir) for _ in range(runs)]
    print(
        json.dumps(
            {
                "frozen_start_to_usable_ms": round(statistics.median(timings) * 1000, 1),
                "first_run_ms": round(first * 1000, 1),
                "runs_ms": [round(t * 1000, 1) for t in timings],
                "data_dir": str(data_dir),
                "budget_ms": 1500,
            },
            ensure_ascii=False,
        )
    )
    return 0


if __name__ == "__main__":
    if getattr(sys, "frozen", False):
        child(Path(sys.argv[1]))
    else:
        sys.exit(main())
