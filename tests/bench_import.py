"""Child process of tests/bench.py: import one bundle into a site and report the process's
peak memory, as the window would see it while it imports (the window runs the same service)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from desktop_app.services.app import open_services
from desktop_app.services.context import Actor
from tests.bench_gui import peak_rss_kb


def main() -> None:
    data_dir, bundle = Path(sys.argv[1]), Path(sys.argv[2])
    services = open_services(data_dir)
    try:
        before_kb = peak_rss_kb()
        started = time.perf_counter()
        report = services.sync.import_file(Actor.command_line(), bundle)
        seconds = time.perf_counter() - started
        if report.refused:
            raise SystemExit(report.reason)
    finally:
        services.close()
    print(
        json.dumps(
            {
                "import_s": round(seconds, 2),
                "peak_memory_before_mb": round(before_kb / 1024, 1),
                "peak_memory_mb": round(peak_rss_kb() / 1024, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
