"""Child process of tests/bench.py: start the real window on a data dir and time it."""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from desktop_app.services.app import open_services  # noqa: E402
from desktop_app.services.ledger import CaseFilter  # noqa: E402
from desktop_app.ui.app import make_application  # noqa: E402
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext  # noqa: E402
from desktop_app.ui.main_window import MainWindow  # noqa: E402


def wait_for(condition, timeout: float = 30.0) -> None:
    from PySide6.QtCore import QCoreApplication

    deadline = time.perf_counter() + timeout
    while not condition():
        QCoreApplication.processEvents()
        if time.perf_counter() > deadline:
            raise SystemExit("timed out")
        time.sleep(0.001)


def peak_rss_kb() -> int:
    """This process's peak RSS. On Linux ru_maxrss survives exec, so a child started by a big
    parent would report the parent's peak; VmHWM belongs to this process image alone."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def rss_kb() -> int:
    """This process's memory now (its peak may be a moment's: the log-in's password hash takes
    64 MB while it runs)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    # PySide6 only after the services, as the window's own start-up has it (see
    # desktop_app/ui/__init__.py): imported first, it would keep their source in memory.
    from PySide6.QtCore import QCoreApplication

    data_dir = Path(sys.argv[1])
    db_url = sys.argv[2] if len(sys.argv) > 2 else None  # a PostgreSQL city, for instance
    app = make_application()
    services = open_services(data_dir, db_url=db_url)
    before_login = time.perf_counter()
    actor = services.auth.login("clerk1", "Demo12345")
    login_ms = (time.perf_counter() - before_login) * 1000
    window = MainWindow(UiContext(services, actor, ChangeHub(), TaskRunner()))
    window.show()
    wait_for(
        lambda: (
            window.ledger.model.rowCount() > 0
            and window.dashboard.data is not None
            and not window.ledger.is_loading
        )
    )
    # Paint the ledger once: that fetches its first page.
    window.go_to("事项台账")
    QCoreApplication.processEvents()
    ready = time.perf_counter()
    memory = {"ledger": rss_kb()}

    table = window.ledger.table
    table.scrollToBottom()
    QCoreApplication.processEvents()
    scrolled = time.perf_counter()
    memory["scrolled_to_end"] = rss_kb()
    window.ledger.show_filter(CaseFilter(text="医保"))
    wait_for(lambda: not window.ledger.is_loading)
    QCoreApplication.processEvents()
    searched = time.perf_counter()
    memory["searched"] = rss_kb()
    # The calendar page: load and paint a month (query on the worker + the grid).
    window.go_to("期限日历")
    board = window.calendar.board
    wait_for(lambda: not window.calendar.is_loading and board.view is not None)
    timings = []
    for step in (1, -1, 1, -1, 1):
        began = time.perf_counter()
        if step > 0:
            board.go_next()
        else:
            board.go_previous()
        wait_for(lambda: not window.calendar.is_loading)
        window.calendar.repaint()
        QCoreApplication.processEvents()
        timings.append((time.perf_counter() - began) * 1000)
    memory["calendar"] = rss_kb()
    window.go_to("工作台")  # its figures and charts are read again on the worker when shown
    wait_for(window.context.runner.idle)
    QCoreApplication.processEvents()
    memory["dashboard"] = rss_kb()
    peak_kb = peak_rss_kb()
    print(
        json.dumps(
            {
                "start_to_usable_ms": round((ready - STARTED) * 1000 - login_ms, 1),
                "login_ms": round(login_ms, 1),
                "rows": window.ledger.model.rowCount(),
                "scroll_to_end_ms": round((scrolled - ready) * 1000, 1),
                "search_in_window_ms": round((searched - scrolled) * 1000, 1),
                "calendar_month_ms": round(sorted(timings)[len(timings) // 2], 1),
                "cached_pages": window.ledger.model.cached_pages,
                "peak_memory_mb": round(peak_kb / 1024, 1),
                "memory_after_mb": {k: round(v / 1024, 1) for k, v in memory.items()},
                # Each keeps its own SQLite page cache (up to 8 MB; storage/database.py).
                "pooled_connections": services.db.engine.pool.checkedin(),
            }
        )
    )
    window.close()
    services.close()
    app.quit()


if __name__ == "__main__":
    main()
