"""Child process of tests/bench.py and tests/bench_city_import.py (a city on PostgreSQL: its URL
after the password): import one bundle into a city site through its main window's
数据交换 screen as a clerk does — the dry run, its preview confirmed, the import on the worker,
the screens' reload and the write-ahead log settled — and report the process's peak memory
before and during each step, with the import's wall and CPU time (every thread's)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from desktop_app.services.app import open_services
from desktop_app.ui.app import make_application
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.main_window import MainWindow
from tests.bench_gui import peak_rss_kb, rss_kb, wait_for


def main() -> None:
    data_dir, bundle, password = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    db_url = sys.argv[4] if len(sys.argv) > 4 else None  # a city on PostgreSQL
    app = make_application()

    def quiet_for(seconds: float) -> None:
        """Until the worker has had nothing to do for ``seconds`` (the reload, the settling)."""
        since = time.perf_counter()
        while time.perf_counter() - since < seconds:
            app.processEvents()
            if not runner.idle():
                since = time.perf_counter()
            time.sleep(0.01)

    services = open_services(data_dir, db_url=db_url)
    actor = services.auth.login("admin", password)
    runner = TaskRunner()
    window = MainWindow(UiContext(services, actor, ChangeHub(), runner))
    window.show()
    window.go_to("数据交换")
    page = window.exchange
    wait_for(lambda: not page.is_busy, 600.0)
    quiet_for(0.5)
    mb = {"before": peak_rss_kb()}
    idle_kb = rss_kb()

    page.receive.start_import([bundle])
    wait_for(lambda: page.receive.import_preview is not None, 600.0)
    mb["dry_run"] = peak_rss_kb()
    after_dry_run_kb = rss_kb()
    preview = page.receive.import_preview
    assert preview is not None and preview.confirm_button.isEnabled(), "nothing to import"

    wall, cpu = time.perf_counter(), time.process_time()
    preview.confirm_button.click()
    wait_for(lambda: not page.busy.active, 600.0)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    mb["import"] = peak_rss_kb()
    report = page.receive.results[0]
    if report.refused:
        raise SystemExit(report.reason)
    after_import_kb = rss_kb()
    quiet_for(1.0)
    mb["reload"] = peak_rss_kb()
    after_kb = rss_kb()
    print(
        json.dumps(
            {
                "import_s": round(wall, 2),
                "import_cpu_s": round(cpu, 2),
                "import_added": report.totals()["added"],
                "memory_mb": {
                    "idle": round(idle_kb / 1024, 1),
                    "after_dry_run": round(after_dry_run_kb / 1024, 1),
                    "after_import": round(after_import_kb / 1024, 1),
                    "after_reload": round(after_kb / 1024, 1),
                },
                "peak_memory_before_mb": round(mb["before"] / 1024, 1),
                "peak_memory_mb": round(mb["reload"] / 1024, 1),
                "peak_memory_by_step_mb": {k: round(v / 1024, 1) for k, v in mb.items()},
            }
        )
    )
    window.close()
    runner.wait()
    services.close()
    app.quit()


if __name__ == "__main__":
    main()
