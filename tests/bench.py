"""``python tasks.py bench``: DESIGN.md §9 budgets measured on a 100,000-case database.

Not a test (timings on shared 2-core machines are noisy); prints medians as JSON. The database is
built once under .bench/ with the demo generator and reused while the case count matches.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Timed starts (the window, a cold slip, an import's memory) run as a user's installation does,
# from compiled bytecode, even where the machine says never to cache it (these do: a start then
# compiled every module from source, 200–250 ms of the window's). This process writes the cache
# as it imports; its children inherit the setting.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False

from desktop_app.domain.vocabulary import SiteLevel  # noqa: E402
from desktop_app.services.app import AppServices, open_services  # noqa: E402
from desktop_app.services.context import FixedClock  # noqa: E402
from desktop_app.services.demo import DemoService  # noqa: E402
from desktop_app.services.ledger import CaseFilter, SortKey  # noqa: E402
from desktop_app.storage.database import PAGE_SIZE  # noqa: E402
from tests.helpers.factories import person_form  # noqa: E402

BUDGETS_MS = {
    "gui_start_to_usable_window_ms": 1000,
    "ledger_first_page_ms": 50,
    "search_2_chars_ms": 50,
    "search_4_chars_ms": 50,
    "intake_save_ms": 15,
    "calendar_month_view_ms": 100,
    "calendar_pdf_warm_ms": 500,  # was asserted in tests/test_calendar_pdf.py (~30 ms)
    "workdays_add_10000_ms": 1000,  # was asserted in tests/test_workdays.py (target ~200 ms)
    "gui_calendar_month_ms": 100,
    "slip_pdf_warm_ms": 50,
    "slip_pdf_cold_ms": 300,
    "slips_first_page_ms": 50,
    "slips_search_2_chars_ms": 50,
    "slips_search_number_ms": 50,
}
BUDGET_MEMORY_MB = 250
CITY_PASSWORD = "Admin12345"  # the throw-away city site's administrator
BUDGETS_S = {"export_all_s": 5, "import_all_s": 10, "reimport_s": 2}


def median_ms(work: Callable[[], object], repeat: int = 15, warmup: int = 2) -> float:
    for _ in range(warmup):
        work()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        samples.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(samples), 2)


def build_database(folder: Path, cases: int) -> tuple[Path, float | None]:
    # A new database of this release (its page size, its records' UUIDs) for every release
    # that changes it.
    marker = folder / f"cases-{cases}-page-{PAGE_SIZE}-uuid7.ok"
    if marker.exists():
        return folder / "data", None
    shutil.rmtree(folder, ignore_errors=True)
    data_dir = folder / "data"
    clock = FixedClock(datetime.now().replace(microsecond=0))
    services = open_services(data_dir, clock=clock)
    services.site.init_site(
        code="410221",
        name="杞县办不成事监督窗口",
        short_name="杞县",
        level=SiteLevel.COUNTY,
        admin_password="Admin12345",
        is_demo=True,
    )
    start = time.perf_counter()
    DemoService(services.db, clock, services.keys, sealer=services.sealer).generate(cases)
    seconds = time.perf_counter() - start
    services.close()
    marker.write_text("ok")
    return data_dir, seconds


def measure_services(services: AppServices) -> dict[str, object]:
    ledger = services.ledger
    results: dict[str, object] = {}

    def first_page(case_filter: CaseFilter, sort: SortKey = SortKey.RECEIVED) -> int:
        ids = ledger.ids(case_filter, sort)
        ledger.rows(ids[:200])
        return len(ids)

    results["ledger_first_page_ms"] = median_ms(lambda: first_page(CaseFilter()))
    results["ledger_last_page_ms"] = median_ms(lambda: ledger.rows(ledger.ids()[-200:]), repeat=5)
    results["ledger_sort_by_complainant_ms"] = median_ms(
        lambda: first_page(CaseFilter(), SortKey.COMPLAINANT), repeat=5
    )
    for label, text in [
        ("search_2_chars", "王芳"),
        ("search_2_chars_common_term", "医保"),
        ("search_4_chars", "参保信息"),
        ("search_1_char", "芳"),
        ("search_case_number", "2025-0012"),
        # Sealed numbers (issue 15 item 11): whole ones by keyed hash, a phone's last four.
        *_sealed_number_queries(services),
    ]:
        hits = first_page(CaseFilter(text=text))
        results[f"{label}_ms"] = median_ms(lambda t=text: first_page(CaseFilter(text=t)))
        results[f"{label}_hits"] = hits
    today = services.clock.now().date()
    results["calendar_month_view_ms"] = median_ms(
        lambda: services.deadlines.month(today.year, today.month, today), repeat=9
    )
    results["calendar_today_counts_ms"] = median_ms(
        lambda: services.deadlines.today(today), repeat=9
    )
    results.update(measure_calendar(services))
    results["dashboard_counts_ms"] = median_ms(
        lambda: ledger.dashboard(services.clock.now().date()), repeat=5
    )

    results.update(measure_slips(services))
    results.update(measure_register(services))

    actor = services.auth.login("clerk1", "Demo12345")
    counter = iter(range(10_000))

    def save() -> None:
        n = next(counter)
        services.intake.register(actor, replace(person_form(), phone=f"137{n:08d}"))

    results["intake_save_ms"] = median_ms(save, repeat=30, warmup=3)

    from desktop_app.documents.slip_content import SlipContent
    from desktop_app.documents.slip_pdf import render_slip
    from desktop_app.storage.models import Slip

    with services.db.read() as session:
        stored = session.scalar(select(Slip.content).order_by(Slip.id.desc()).limit(1))
    if stored is not None:
        content = SlipContent.from_json(services.sealer.open_content(stored))
        results["slip_pdf_warm_ms"] = median_ms(lambda: render_slip(content), repeat=15)
        results["slip_pdf_kb"] = round(len(render_slip(content)) / 1024, 1)
    return results


def _sealed_number_queries(services: AppServices) -> list[tuple[str, str]]:
    from desktop_app.storage.models import Complainant

    with services.db.read() as session:
        person = session.scalars(
            select(Complainant).where(Complainant.id_number_sealed != "").limit(1)
        ).first()
        if person is None:
            return []
        phone = services.sealer.phone(person)
        return [
            ("search_id_exact", services.sealer.id_number(person)),
            ("search_phone_exact", phone),
            ("search_phone_last4", phone[-4:]),
        ]


def measure_calendar(services: AppServices) -> dict[str, object]:
    """The deadline arithmetic and the month's PDF (timings once asserted in tests/test_workdays.py
    and tests/test_calendar_pdf.py; a test only checks what they compute)."""
    from desktop_app.documents.calendar_pdf import render_month_pdf
    from desktop_app.domain.workdays import WorkdayCalendar

    workdays = WorkdayCalendar()
    first = datetime(2024, 1, 1).date()
    starts = [first + timedelta(days=i % 1000) for i in range(10_000)]
    workdays.add(first, 1)

    def add_all() -> None:
        for start in starts:
            workdays.add(start, 10)

    today = services.clock.now().date()
    view = services.deadlines.month(today.year, today.month, today)
    generated = services.clock.now()
    return {
        "workdays_add_10000_ms": median_ms(add_all, repeat=5, warmup=1),
        "calendar_pdf_warm_ms": median_ms(
            lambda: render_month_pdf(view, site_name="测试", generated_at=generated), repeat=9
        ),
    }


def measure_register(services: AppServices) -> dict[str, object]:
    """The 台账 of every case (issue 17: xlsx ≤ 15 s), once each: wall and CPU seconds."""
    import tempfile

    from desktop_app.domain.vocabulary import Role
    from desktop_app.services.context import Actor
    from desktop_app.services.register_export import RegisterExportService

    actor = Actor(None, "admin", "管理员", Role.ADMIN)
    exporter = RegisterExportService(services.db, services.clock, services.sealer, services.ledger)
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as folder:
        for suffix in ("xlsx", "csv"):
            wall, cpu = time.perf_counter(), time.process_time()
            exporter.export(actor, Path(folder) / f"ledger.{suffix}", CaseFilter(), masked=True)
            results[f"register_{suffix}_s"] = round(time.perf_counter() - wall, 2)
            results[f"register_{suffix}_cpu_s"] = round(time.process_time() - cpu, 2)
    return results


def measure_slips(services: AppServices) -> dict[str, object]:
    """The 交办单 screen's query: every slip's id newest first plus the first 200 rows, alone
    and with a search (what the screen runs on its worker for each 刷新 or search)."""
    from desktop_app.services.slip_register import SlipFilter

    register = services.slips
    results: dict[str, object] = {}

    def first_page(slip_filter: SlipFilter) -> int:
        ids = register.ids(slip_filter)
        register.rows(ids[:200])
        return len(ids)

    for label, text in [
        ("slips_first_page", ""),
        ("slips_search_2_chars", "医保"),  # in case titles and a department's name
        ("slips_search_department", "不动产"),
        ("slips_search_number", "〔2026〕12"),  # a slip-number fragment
        ("slips_search_case_number", "2025-0012"),
    ]:
        hits = first_page(SlipFilter(text=text))
        results[f"{label}_ms"] = median_ms(lambda t=text: first_page(SlipFilter(text=t)))
        results[f"{label}_hits"] = hits
    return results


def measure_exchange(data_dir: Path, folder: Path, runs: int = 3) -> dict[str, object]:
    """Export every case for the city, import it into an empty city site, import it again.

    Each run starts from the same county copy and a new city; the medians are reported (disk
    writes dominate and vary from run to run on a shared machine), with every run's figure.
    """
    from desktop_app.domain.vocabulary import Role
    from desktop_app.services.context import Actor

    actor = Actor(None, "admin", "管理员", Role.ADMIN)
    exports: list[float] = []
    imports: list[float] = []
    reimports: list[float] = []
    checkpoints: list[float] = []
    result: dict[str, object] = {}
    for run in range(runs):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        shutil.copytree(data_dir, folder / "county")
        os.sync()  # the copy's writes must not land in the middle of the import
        county = open_services(folder / "county")
        city = open_services(folder / "city")
        try:
            city.site.init_site(
                code="410200",
                name="开封市办不成事监督窗口",
                short_name="开封",
                level=SiteLevel.CITY,
                admin_password=CITY_PASSWORD,
            )
            for site, other in ((county, city), (city, county)):
                path = folder / f"{site.site.info().code}.json"
                site.sync.write_identity(path)
                other.sync.trust(actor, other.sync.read_identity(path), replace=True)
            stick = folder / "usb"
            stick.mkdir()
            start = time.perf_counter()
            sent = county.sync.export(actor, stick)
            exports.append(time.perf_counter() - start)
            if run == 0:  # the same import again later, in a process of its own
                shutil.rmtree(folder.parent / "city-empty", ignore_errors=True)
                shutil.copytree(folder / "city", folder.parent / "city-empty")
                shutil.copy2(sent.path, folder.parent / "city-empty.bbcs")
            start = time.perf_counter()
            report = city.sync.import_file(actor, sent.path)
            imports.append(time.perf_counter() - start)
            assert not report.refused, report.reason
            # What the import left in SQLite's write-ahead log, copied into the database file
            # afterwards in the background (the exchange screen does it after the reload).
            start = time.perf_counter()
            city.sync.settle_imports()
            checkpoints.append(time.perf_counter() - start)
            start = time.perf_counter()
            again = city.sync.import_file(actor, sent.path)
            reimports.append(time.perf_counter() - start)
            assert again.totals()["added"] == 0
            print(
                f"  exchange run {run + 1}: export {exports[-1]:.2f} s, import {imports[-1]:.2f} s",
                file=sys.stderr,
            )
            result = {
                "export_bundle_mb": round(sent.size / 1e6, 1),
                "export_records": sum(sent.counts.values()),
                "import_added": report.totals()["added"],
            }
        finally:
            county.close()
            city.close()

    county_identity = next(p for p in folder.glob("*.json") if p.stem != "410200")
    city_empty = folder.parent / "city-empty"
    result.update(measure_postgres_import(city_empty, Path(f"{city_empty}.bbcs"), county_identity))
    # Last: it removes the empty city and its bundle.
    result.update(measure_import_memory(city_empty))

    def summary(values: list[float]) -> float:
        return round(statistics.median(values), 2)

    return {
        "export_all_s": summary(exports),
        "export_all_runs_s": [round(v, 2) for v in exports],
        **result,
        "import_all_s": summary(imports),
        "import_all_runs_s": [round(v, 2) for v in imports],
        "import_checkpoint_after_s": summary(checkpoints),
        "reimport_s": summary(reimports),
    }


def measure_postgres_import(city: Path, bundle: Path, county: Path) -> dict[str, object]:
    """The same first upload into an empty city on PostgreSQL (the bulk copy, COPY into
    staging tables), wall and CPU seconds, and the same bundle again; on a scratch database of
    the server ``BBCS_TEST_PG_URL`` names, dropped afterwards. Nothing without a server."""
    import secrets

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from desktop_app.domain.vocabulary import Role
    from desktop_app.services.context import Actor

    raw = os.environ.get("BBCS_TEST_PG_URL", "").strip()
    if not raw:
        return {}
    server = make_url(raw).set(drivername="postgresql+psycopg")
    name = f"bbcs_bench_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(
            f"CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'"
        )
    data_dir = city.parent / "city-postgresql"
    shutil.rmtree(data_dir, ignore_errors=True)
    # The SQLite city's keys (the bundle is encrypted to them), not its audit anchor.
    shutil.copytree(city / "keys", data_dir / "keys", ignore=shutil.ignore_patterns("*.anchor"))
    actor = Actor(None, "admin", "管理员", Role.ADMIN)
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        services = open_services(data_dir, db_url=url)
        try:
            services.site.init_site(
                code="410200",
                name="开封市办不成事监督窗口",
                short_name="开封",
                level=SiteLevel.CITY,
                admin_password=CITY_PASSWORD,
            )
            services.sync.trust(actor, services.sync.read_identity(county), replace=True)
            wall, cpu = time.perf_counter(), time.process_time()
            report = services.sync.import_file(actor, bundle)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            assert not report.refused, report.reason
            again = time.perf_counter()
            assert services.sync.import_file(actor, bundle).totals()["added"] == 0
            again = time.perf_counter() - again
        finally:
            services.close()
    finally:
        with admin.connect() as connection:
            # Not WITH (FORCE): that may not end the autovacuum worker a big import wakes,
            # which a plain DROP waits for.
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()
        shutil.rmtree(data_dir, ignore_errors=True)
    return {
        "import_all_postgresql_s": round(wall, 2),
        "import_all_postgresql_cpu_s": round(cpu, 2),
        "reimport_postgresql_s": round(again, 2),
    }


def measure_import_memory(city: Path) -> dict[str, object]:
    """The first import of every case again, in a fresh process with the city's main window
    open on the 数据交换 screen: its peak memory before and during the import."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    bundle = city.with_name(city.name + ".bbcs")
    script = str(ROOT / "tests" / "bench_import.py")
    try:
        output = subprocess.run(
            [sys.executable, script, str(city), str(bundle), CITY_PASSWORD],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        shutil.rmtree(city, ignore_errors=True)
        bundle.unlink(missing_ok=True)
    report = json.loads(output.strip().splitlines()[-1])
    return {
        "gui_import_peak_memory_mb": report["peak_memory_mb"],
        "gui_import_memory_before_mb": report["peak_memory_before_mb"],
    }


def measure_cold_slip(data_dir: Path) -> float:
    """A slip rendered by a fresh process: imports, fonts and the first render."""
    code = (
        "import time, sys; t = time.perf_counter();"
        "from pathlib import Path;"
        "from desktop_app.services.app import open_services;"
        "from desktop_app.services.context import Actor;"
        "from desktop_app.domain.vocabulary import Role;"
        "s = open_services(Path(sys.argv[1]));"
        "from sqlalchemy import select; from desktop_app.storage.models import Slip;"
        "n = s.db.read().__enter__().scalar(select(Slip.number).limit(1));"
        "admin = Actor(None, 'admin', '管理员', Role.ADMIN);"
        "t0 = time.perf_counter(); s.assignments.slip_pdf(admin, n);"
        "print(round((time.perf_counter() - t0) * 1000, 1))"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code, str(data_dir)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        for _ in range(3)
    ]
    return round(statistics.median(runs), 1)


def measure_gui(data_dir: Path) -> dict[str, object]:
    """Start the real window in a fresh process; it reports its own timings and memory."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    samples = []
    report: dict[str, object] = {}
    for run in range(4):  # the first compiles what the parent has not imported (the window's)
        started = time.perf_counter()
        output = subprocess.run(
            [sys.executable, str(ROOT / "tests" / "bench_gui.py"), str(data_dir)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        wall_ms = (time.perf_counter() - started) * 1000
        report = json.loads(output.strip().splitlines()[-1])
        if run:
            samples.append(report["start_to_usable_ms"])
        report["process_wall_ms"] = round(wall_ms, 1)
    report["gui_start_samples_ms"] = samples
    report["gui_start_to_usable_window_ms"] = round(statistics.median(samples), 1)
    return report


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--folder", default=str(ROOT / ".bench"))
    args = parser.parse_args()
    folder = Path(args.folder) / str(args.cases)
    print(f"Preparing a {args.cases:,}-case database in {folder} …", file=sys.stderr)
    data_dir, build_seconds = build_database(folder, args.cases)
    work_dir = Path(args.folder) / "work"
    shutil.rmtree(work_dir, ignore_errors=True)
    shutil.copytree(data_dir, work_dir)  # saves during the bench must not grow the cached copy

    results: dict[str, object] = {"cases": args.cases}
    if build_seconds is not None:
        results["demo_generate_s"] = round(build_seconds, 1)
    results["database_mb"] = round((work_dir / "bbcs.db").stat().st_size / 1e6, 1)
    print("Measuring services …", file=sys.stderr)
    services = open_services(work_dir)
    results.update(measure_services(services))
    services.close()
    results["slip_pdf_cold_ms"] = measure_cold_slip(work_dir)
    print("Measuring export / import of every case …", file=sys.stderr)
    # From the database as generated, without the saves timed above: its bundle is also the
    # city bench's 杞县, whose newest cases would otherwise be thirty 王芳 of the same day.
    results.update(measure_exchange(data_dir, Path(args.folder) / "exchange"))
    print("Measuring the GUI (a first start, then 3 cold starts) …", file=sys.stderr)
    gui = measure_gui(work_dir)
    results.update({f"gui_{k}" if not k.startswith("gui_") else k: v for k, v in gui.items()})
    verdicts = {}
    for key, budget in BUDGETS_MS.items():
        value = results.get(key)
        if isinstance(value, int | float):
            verdicts[key] = f"{'ok' if value <= budget else 'OVER'} (budget {budget} ms)"
    for key, budget_s in BUDGETS_S.items():
        value = results.get(key)
        if isinstance(value, int | float):
            verdicts[key] = f"{'ok' if value <= budget_s else 'OVER'} (budget {budget_s} s)"
    for key in ("gui_peak_memory_mb", "gui_import_peak_memory_mb"):
        memory = results.get(key)
        if isinstance(memory, int | float):
            verdicts[key] = (
                f"{'ok' if memory <= BUDGET_MEMORY_MB else 'OVER'} (budget {BUDGET_MEMORY_MB} MB)"
            )
    results["verdicts"] = verdicts
    print(json.dumps(results, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
