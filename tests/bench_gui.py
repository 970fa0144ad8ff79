"""Child process of tests/bench.py: start the real window on a data dir and time it."""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from PySide6.QtCore import QCoreApplication  # noqa: E402

from desktop_app.services.app import open_services  # noqa: E402
from desktop_app.services.ledger import CaseFilter  # noqa: E402
from desktop_app.ui.app import make_application  # noqa: E402
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext  # noqa: E402
from desktop_app.ui.main_window import MainWindow  # noqa: E402


def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        QCoreApplication.processEvents()
        if time.perf_counter() > deadline:
            raise SystemExit("timed out")
        time.sleep(0.001)


def main() -> None:
    data_dir = Path(sys.argv[1])
    app = make_application()
    services = open_services(data_dir)
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

    table = window.ledger.table
    table.scrollToBottom()
    QCoreApplication.processEvents()
    scrolled = time.perf_counter()
    window.ledger.show_filter(CaseFilter(text="医保"))
    wait_for(lambda: not window.ledger.is_loading)
    QCoreApplication.processEvents()
    searched = time.perf_counter()
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "start_to_usable_ms": round((ready - STARTED) * 1000 - login_ms, 1),
                "login_ms": round(login_ms, 1),
                "rows": window.ledger.model.rowCount(),
                "scroll_to_end_ms": round((scrolled - ready) * 1000, 1),
                "search_in_window_ms": round((searched - scrolled) * 1000, 1),
                "cached_pages": window.ledger.model.cached_pages,
                "peak_memory_mb": round(rss_kb / 1024, 1),
            }
        )
    )
    window.close()
    services.close()
    app.quit()


if __name__ == "__main__":
    main()
