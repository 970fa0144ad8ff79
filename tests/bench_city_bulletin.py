"""A year's 分析通报 for a whole city (issue 18: ≤ 30 s): the statistics, then the bulletin's PDF.

Not a test; prints one JSON line per run and the medians, like tests/bench.py. Reads a city that
is already built — PostgreSQL (``--url``, e.g. the 1.5-million city of 15 counties whose clones
were given 杞县's assignments) or SQLite (``--url sqlite:///…``) — through ``open_services`` on
``--data-dir`` (the city's keys), as the bulletin dialog does off the UI thread:
``period_statistics`` for the year (the previous year beside it) and ``preview_pdf``, which
builds the statistics again and renders them. Times are wall and CPU of this process; on
PostgreSQL the server does the counting, so its CPU is read from /proc when the server is local
(the run's backends, named by ``application_name``, plus the postmaster's reaped children:
parallel workers, and any other session that ended meanwhile). ``--pdf`` keeps the last PDF
to look at (pdftoppm -png -r 60).

A SQLite city is opened read-only (``mode=ro``) on a copy of its keys, so the run changes
nothing; PostgreSQL is opened as is (``open_services`` upgrades an older schema first).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from desktop_app.domain.vocabulary import Role  # noqa: E402
from desktop_app.services.app import AppServices, open_services  # noqa: E402
from desktop_app.services.context import Actor  # noqa: E402
from desktop_app.services.statistics import Period  # noqa: E402

BUDGET_S = 30.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
APPLICATION = "bbcs-bulletin-bench"  # the backends whose CPU is counted


def server_cpu(services: AppServices) -> float | None:
    """CPU seconds used so far by this run's PostgreSQL backends (``APPLICATION``) and the
    postmaster's reaped children; None on SQLite or when /proc does not show the server."""
    if services.db.is_sqlite:
        return None
    with services.db.engine.connect() as connection:
        pids = connection.execute(
            text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
            {"name": APPLICATION},
        ).scalars()
        ticks = 0
        try:
            parent = 0
            for pid in pids:
                fields = _stat(int(pid))
                parent = int(fields[1])
                ticks += int(fields[11]) + int(fields[12])  # utime, stime
            postmaster = _stat(parent)
            ticks += int(postmaster[13]) + int(postmaster[14])  # cutime, cstime
        except (OSError, IndexError, ValueError):
            return None
    return ticks / CLOCK_TICKS


def _stat(pid: int) -> list[str]:
    """/proc/PID/stat's fields after the process name (from ``state``)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def measure(
    url: str, data_dir: Path, year: int, runs: int, pdf_path: Path | None = None
) -> dict[str, object]:
    """The year's statistics and PDF ``runs`` times (one JSON line each on stderr); the medians.
    A SQLite city is opened read-only on a copy of its keys."""
    scratch: Path | None = None
    if url.startswith("sqlite"):
        scratch = Path(tempfile.mkdtemp(prefix="bbcs-bulletin-"))
        shutil.copytree(data_dir / "keys", scratch / "keys")
        data_dir = scratch
        path = url.split("///", 1)[1].split("?", 1)[0]
        url = f"sqlite:///file:{path}?mode=ro&uri=true"
    else:
        named = make_url(url).update_query_dict({"application_name": APPLICATION})
        url = named.render_as_string(hide_password=False)
    services = open_services(data_dir, db_url=url)
    try:
        actor = Actor(None, "bench", "基准", Role.DUTY_LEADER)
        period = Period(date(year, 1, 1), date(year, 12, 31))
        statistics_times: list[float] = []
        pdf_times: list[float] = []
        pdf = b""
        received = 0
        for run in range(1, runs + 1):
            before = load()
            wall, cpu, server = time.perf_counter(), time.process_time(), server_cpu(services)
            stats = services.statistics.period_statistics(actor, period)
            wall1, cpu1, server1 = time.perf_counter(), time.process_time(), server_cpu(services)
            pdf = services.bulletins.preview_pdf(actor, period)
            wall2, cpu2, server2 = time.perf_counter(), time.process_time(), server_cpu(services)
            received = stats.totals.received
            result: dict[str, object] = {
                "run": run,
                "received": received,
                "rounds": stats.rounds,
                "statistics_s": round(wall1 - wall, 2),
                "statistics_cpu_s": round(cpu1 - cpu, 2),
                "pdf_s": round(wall2 - wall1, 2),
                "pdf_cpu_s": round(cpu2 - cpu1, 2),
                "pdf_kib": len(pdf) // 1024,
                "load_before": before,
                "load_after": load(),
            }
            if server is not None and server1 is not None and server2 is not None:
                result["statistics_server_cpu_s"] = round(server1 - server, 2)
                result["pdf_server_cpu_s"] = round(server2 - server1, 2)
            print(json.dumps(result, ensure_ascii=False), file=sys.stderr, flush=True)
            statistics_times.append(wall1 - wall)
            pdf_times.append(wall2 - wall1)
        if pdf_path is not None:
            pdf_path.write_bytes(pdf)
        pdf_median = statistics.median(pdf_times)
        return {
            "year": year,
            "received": received,
            "statistics_median_s": round(statistics.median(statistics_times), 2),
            "pdf_median_s": round(pdf_median, 2),
            "budget_s": BUDGET_S,
            "verdict": f"{'ok' if pdf_median <= BUDGET_S else 'OVER'} (budget {BUDGET_S:g} s)",
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        }
    finally:
        services.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the city's database URL")
    parser.add_argument("--data-dir", required=True, help="the city's data dir (its keys)")
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pdf", help="write the last run's PDF here")
    args = parser.parse_args()
    pdf = Path(args.pdf) if args.pdf else None
    summary = measure(args.url, Path(args.data_dir), args.year, args.runs, pdf)
    print(json.dumps(summary, ensure_ascii=False), flush=True)
    return 0 if summary["pdf_median_s"] <= BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
