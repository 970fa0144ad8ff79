"""Child process of tests/bench.py: import one bundle into a city site with its main window
open, as the 数据交换 screen does, and report the process's peak memory before and during."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication

from desktop_app.services.app import open_services
from desktop_app.ui.app import make_application
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.main_window import MainWindow
from tests.bench_gui import peak_rss_kb


def main() -> None:
    data_dir, bundle, password = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    app = make_application()
    services = open_services(data_dir)
    actor = services.auth.login("admin", password)
    window = MainWindow(UiContext(services, actor, ChangeHub(), TaskRunner()))
    window.show()
    window.go_to("数据交换")
    QCoreApplication.processEvents()
    before_kb = peak_rss_kb()
    started = time.perf_counter()
    # The screen runs this on a worker thread; the memory is the process's either way.
    report = services.sync.import_file(actor, bundle)
    seconds = time.perf_counter() - started
    if report.refused:
        raise SystemExit(report.reason)
    print(
        json.dumps(
            {
                "import_s": round(seconds, 2),
                "peak_memory_before_mb": round(before_kb / 1024, 1),
                "peak_memory_mb": round(peak_rss_kb() / 1024, 1),
            }
        )
    )
    window.close()
    services.close()
    app.quit()


if __name__ == "__main__":
    main()
