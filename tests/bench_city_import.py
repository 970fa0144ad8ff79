"""A county's first upload into a full PostgreSQL city (issue 18: ≤ 10 s), timed again and again.

Not a test; prints JSON like tests/bench.py. Reads a city that is already built on PostgreSQL
(``--url``; ``--data-dir``, the city's keys) and already holds the county of ``--bundle``
(imported once, e.g. into an empty city before fourteen more counties were cloned from it in
SQL). Each run first takes that county out again — its rows in every synced table, its search
text and the city's record of its bundles, through the program's own triggers, then
``VACUUM ANALYZE`` as autovacuum would — so the city is one that has never seen it, then imports
the bundle as the 数据交换 screen does (``SyncService.import_file``, off the UI thread there) and
imports it again (≤ 2 s). Wall and CPU of this process; the server's share is the rest of the
wall. With ``--log-ms N`` on a local server started by ``.ci/postgres-setup.sh`` (run as root),
the statements over N ms are read back from the server's log, longest first.

With ``--week-county DIR`` (the data dir that exported the bundle), each run then also times a
week's upload of that county into the full city (``week_once``).

``python tasks.py bench --city`` (tests/bench_city.py) builds such a city and runs
``import_once`` and ``week_once`` on it; this script runs them again and again, on that city or
another.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from desktop_app.domain.vocabulary import Approach, Nature, Role  # noqa: E402
from desktop_app.services.app import AppServices, open_services  # noqa: E402
from desktop_app.services.cases import Triage  # noqa: E402
from desktop_app.services.context import Actor  # noqa: E402
from desktop_app.services.demo.forms import window_form  # noqa: E402

# A county's rows, children first (their foreign keys point at the later ones).
COUNTY_TABLES = (
    "slips",
    "case_events",
    "referrals",
    "meeting_items",
    "attachments",
    "assignments",
    "cases",
    "complainants",
    # Its units too: a county made again (the bench's is, when its seed or UUIDs change) sends
    # them under new UUIDs, and the city refused the bundle for the names it already held.
    "departments",
)
ACTOR = Actor(None, "bench", "基准", Role.ADMIN)
# References with no index of their own (the program never deletes a record): each row deleted
# had its referrers looked for by a scan of 1.5 million (the assignments' for an hour). Indexed
# for the take-out only, in its transaction.
UNINDEXED_REFERENCES = (
    ("assignments", "parent_id"),
    ("cases", "linked_case_id"),
    ("cases", "agent_id"),
)


def take_out(url: str, county: str) -> float:
    """The county's rows and bundles out of the city; seconds taken."""
    start = time.perf_counter()
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for number, (table, column) in enumerate(UNINDEXED_REFERENCES):
                connection.exec_driver_sql(
                    f"CREATE INDEX bbcs_bench_take_out_{number} ON {table} ({column})"
                )
            connection.execute(
                text(
                    "DELETE FROM case_search WHERE rowid IN "
                    "(SELECT id FROM cases WHERE origin_site = :county)"
                ),
                {"county": county},
            )
            for table in COUNTY_TABLES:
                connection.execute(
                    text(f'DELETE FROM "{table}" WHERE origin_site = :county'), {"county": county}
                )
            connection.execute(
                text("DELETE FROM bundles WHERE peer_code = :county"), {"county": county}
            )
            for number in range(len(UNINDEXED_REFERENCES)):
                connection.exec_driver_sql(f"DROP INDEX bbcs_bench_take_out_{number}")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    finally:
        engine.dispose()
    return time.perf_counter() - start


def _log_path() -> Path | None:
    found = sorted(glob.glob("/var/log/postgresql/postgresql-*-main.log"))
    return Path(found[-1]) if found else None


def _set_log_ms(url: str, value: int | None) -> None:
    """The bbcs role's log_min_duration_statement (as the postgres superuser, via runuser)."""
    role = make_url(url).username or "bbcs"
    setting = (
        f"SET log_min_duration_statement = {value}"
        if value is not None
        else "RESET log_min_duration_statement"
    )
    subprocess.run(
        ["runuser", "-u", "postgres", "--", "psql", "-qc", f"ALTER ROLE {role} {setting}"],
        check=True,
    )


def _slow_statements(log: Path, start: int) -> list[tuple[float, str]]:
    """(ms, the statement's first words) logged after byte ``start``, longest first."""
    with log.open("rb") as file:
        file.seek(start)
        lines = file.read().decode("utf-8", "replace").splitlines()
    found = []
    for line in lines:
        match = re.search(r"duration: ([0-9.]+) ms +(?:statement|execute [^:]*): (.*)", line)
        if match:
            found.append((float(match[1]), match[2][:100]))
    return sorted(found, reverse=True)


def import_once(
    url: str,
    data_dir: Path,
    bundle: Path,
    county: str,
    log: Path | None,
    *,
    window_password: str | None = None,
) -> dict[str, object]:
    """Take ``county`` out of the city, import its ``bundle`` (the first upload), then again.

    With ``window_password`` (the city administrator's) the first import goes through the
    city's main window in a process of its own, as a clerk does it (its preview first:
    tests/bench_import.py), and that process's memory is reported too."""
    taken_out = take_out(url, county)
    mark = log.stat().st_size if log is not None else 0
    load = Path("/proc/loadavg").read_text().split()[:3]
    result: dict[str, object] = {"take_out_s": round(taken_out, 1)}
    if window_password is not None:
        result |= import_in_window(url, data_dir, bundle, window_password)
    services = open_services(data_dir, db_url=url)
    try:
        if window_password is None:
            wall, cpu = time.perf_counter(), time.process_time()
            report = services.sync.import_file(ACTOR, bundle)
            result["import_s"] = round(time.perf_counter() - wall, 2)
            result["import_cpu_s"] = round(time.process_time() - cpu, 2)
            result["refused"] = report.reason if report.refused else ""
            result["added"] = dict(report.added)
        wall = time.perf_counter()
        again = services.sync.import_file(ACTOR, bundle)
        result["reimport_s"] = round(time.perf_counter() - wall, 2)
    finally:
        services.close()
    result["reimport_added"] = again.totals()["added"]
    result["load_before"] = " ".join(load)
    if log is not None:
        result["slow_statements_ms"] = [
            [round(ms), words] for ms, words in _slow_statements(log, mark)[:15]
        ]
    return result


# A week of a busy county's window after its first upload: new matters registered, classified,
# assigned and signed, and answers from departments to matters of earlier weeks.
WEEK_NEW_MATTERS = 100
WEEK_ANSWERS = 150
DEMO_PASSWORD = "Demo12345"  # the demo county's staff (services/demo)


def import_in_window(url: str, data_dir: Path, bundle: Path, password: str) -> dict[str, object]:
    """The first upload through the city's window (tests/bench_import.py): its time (every
    thread's CPU) and the window process's memory at each step."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    child = ROOT / "tests" / "bench_import.py"
    done = subprocess.run(
        [sys.executable, str(child), str(data_dir), str(bundle), password, url],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:  # refused (its reason), or a failure (its traceback)
        raise SystemExit(f"the import in the window failed: {done.stderr.strip()[-2000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "import_s": report["import_s"],
        "import_cpu_s": report["import_cpu_s"],
        "refused": "",
        "added_total": report["import_added"],
        "window_memory_mb": report["memory_mb"],
        "window_peak_memory_mb": report["peak_memory_by_step_mb"],
    }


def week_once(
    url: str, data_dir: Path, county: Path, bundle: Path, folder: Path
) -> dict[str, object]:
    """The weekly upload the city takes every week: a copy of ``county`` (the data dir that
    exported ``bundle``, which the city has just imported) reads the city's acknowledgement,
    does a week's work through the services, and exports; the city imports that, then again."""
    work = folder / "week"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(county, work / "county")
    usb = work / "usb"
    usb.mkdir()
    site = open_services(work / "county")
    try:
        ack = site.sync.import_file(ACTOR, bundle.with_suffix(".bbcsack"))
        if ack.refused:
            raise SystemExit(f"the county could not read the city's acknowledgement: {ack.reason}")
        a_week_of_work(site)
        sent = site.sync.export(ACTOR, usb)
    finally:
        site.close()
    city = open_services(data_dir, db_url=url)
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        report = city.sync.import_file(ACTOR, sent.path)
        first = (time.perf_counter() - wall, time.process_time() - cpu)
        wall = time.perf_counter()
        again = city.sync.import_file(ACTOR, sent.path)
        second = time.perf_counter() - wall
    finally:
        city.close()
    return {
        "week_bundle_records": {name: n for name, n in sent.counts.items() if n},
        "week_import_s": round(first[0], 2),
        "week_import_cpu_s": round(first[1], 2),
        "week_reimport_s": round(second, 2),
        "week_refused": report.reason if report.refused else "",
        "week_added": report.totals()["added"],
        "week_updated": report.totals()["updated"],
        "week_reimport_changed": again.totals()["added"] + again.totals()["updated"],
    }


def a_week_of_work(site: AppServices) -> None:
    """WEEK_NEW_MATTERS matters taken in and signed out, WEEK_ANSWERS earlier ones answered."""
    clerk = site.auth.login("clerk1", DEMO_PASSWORD)
    leader = site.auth.login("leader1", DEMO_PASSWORD)
    departments = site.site.departments()
    with site.db.read() as session:  # the oldest still awaiting an answer
        waiting = list(
            session.scalars(
                text("SELECT id FROM assignments WHERE state = 'received' ORDER BY id LIMIT :n"),
                {"n": WEEK_ANSWERS},
            )
        )
    for n in range(WEEK_NEW_MATTERS):
        department = departments[n % len(departments)]
        form = window_form(
            name=f"周{'一二三四五六七'[n % 7]}{'甲乙丙丁戊己庚辛'[n // 7 % 8]}",
            first17=f"4102211990{n % 12 + 1:02d}{n % 28 + 1:02d}{n:03d}",
            phone=f"139{n:08d}",
            title="营业执照变更登记被退回",
            description=f"申请人反映办理营业执照变更登记时被要求补充材料，来回跑了{n % 5 + 2}次。",
            area="市场准入许可",
            department=department,
            visits_count=2,
        )
        case_id = site.intake.register(clerk, form).case_id
        site.cases.triage(
            clerk, case_id, Triage(Nature.HARD, Approach.PUSH, ("C01",), "市场准入许可")
        )
        ids, _changes = site.assignments.create(
            clerk,
            case_id,
            department_id=department.id,
            requirements="请依法依规办理，按期书面反馈。",
        )
        site.assignments.issue(leader, ids[0])
        site.assignments.receive(
            clerk, ids[0], received_on=site.clock.now().date(), received_by="窗口负责人"
        )
    for assignment_id in waiting:
        site.assignments.respond(clerk, assignment_id, "已按要求办结，书面反馈见附件。")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="the city's PostgreSQL URL")
    parser.add_argument("--data-dir", required=True, type=Path, help="the city's data dir (keys)")
    parser.add_argument("--bundle", required=True, type=Path, help="the county's data bundle")
    parser.add_argument("--county", default="410221", help="the bundle's site code")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--log-ms", type=int, help="log and list statements over this (root)")
    parser.add_argument(
        "--window-password",
        help="import through the city's window in a process of its own (its admin's password)",
    )
    parser.add_argument(
        "--week-county",
        type=Path,
        help="after each first upload, a week's upload of this county (the bundle's exporter)",
    )
    args = parser.parse_args()
    log = _log_path() if args.log_ms is not None else None
    if args.log_ms is not None:
        _set_log_ms(args.url, args.log_ms)
    try:
        for run in range(1, args.runs + 1):
            result = import_once(
                args.url,
                args.data_dir,
                args.bundle,
                args.county,
                log,
                window_password=args.window_password,
            )
            if args.week_county is not None:
                result |= week_once(
                    args.url, args.data_dir, args.week_county, args.bundle, args.bundle.parent
                )
            print(json.dumps({"run": run, **result}, ensure_ascii=False), flush=True)
    finally:
        if args.log_ms is not None:
            _set_log_ms(args.url, None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
