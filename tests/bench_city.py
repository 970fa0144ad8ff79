"""``python tasks.py bench --city``: a city of fifteen counties (1.5 million cases) on PostgreSQL.

Not a test; prints medians as JSON, like tests/bench.py. The city is built once in the database
``bbcs_city_bench`` on the server of ``BBCS_TEST_PG_URL`` (or ``--server``) and kept: one county
of 100,000 demo cases is generated, then cloned in SQL under fourteen more site codes (new ids,
UUIDs, numbers and complainants; cases, complainants and search text only — enough for the
ledger and its search). Each search is timed through the ledger (wall and CPU time of this
process) beside its raw-SQL floor: the same query sent straight to the server. So are the
ledger's first page in each sort order and filter, the calendar's month, the dashboard's figures
and a case's dialog (``measure_ledger``, the floor replaying the statements bbcs sent);
``--sqlite DATA_DIR`` measures those on a SQLite data dir instead (the county at 100,000).

TODO(issue 18, import bench): build the city from fifteen real exported bundles instead of the
clone (``clone_counties``), and time the import of the 15th into a city of 1.4 million; that
bench belongs with the county import (tests/bench.py ``measure_exchange``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import URL, Connection, make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from desktop_app.domain.vocabulary import SiteLevel  # noqa: E402
from desktop_app.services.app import AppServices, open_services  # noqa: E402
from desktop_app.services.context import FixedClock  # noqa: E402
from desktop_app.services.demo import DemoService  # noqa: E402
from desktop_app.services.ledger import CaseFilter  # noqa: E402
from desktop_app.storage import search  # noqa: E402

DATABASE = "bbcs_city_bench"
COUNTIES = 15
CASES_PER_COUNTY = 100_000
ID_STRIDE = 1_000_000  # county k's ids are the first county's plus k × this
PAGE = 200  # rows the ledger shows first
SEARCH_BUDGET_MS = 50
QUERIES = [
    ("search_1_char_rare", "芳"),
    ("search_1_char_common", "的"),
    ("search_1_char_commonest", "县"),
    ("search_1_char_bureau", "局"),
    ("search_2_chars", "王芳"),
    ("search_2_chars_common_term", "医保"),
    ("search_4_chars", "参保信息"),
    ("search_case_number", "2025-0012"),
    ("search_phone_last4", "1111"),
]


def median_ms(work: Callable[[], object], repeat: int = 7, warmup: int = 1) -> tuple[float, float]:
    """Median wall and CPU (this process) milliseconds of ``work``."""
    for _ in range(warmup):
        work()
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return round(statistics.median(walls), 1), round(statistics.median(cpus), 1)


def server_url(given: str | None) -> URL:
    raw = given or os.environ.get("BBCS_TEST_PG_URL", "")
    if not raw:
        sys.exit("No PostgreSQL server: pass --server or set BBCS_TEST_PG_URL")
    url = make_url(raw)
    return url.set(drivername="postgresql+psycopg")


def ensure_database(server: URL) -> bool:
    """Create the bench database if missing; True when it was created."""
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": DATABASE}
            )
            if not exists:
                connection.exec_driver_sql(
                    f"CREATE DATABASE {DATABASE} ENCODING 'UTF8' TEMPLATE template0 "
                    "LC_COLLATE 'C' LC_CTYPE 'C'"
                )
            return not exists
    finally:
        admin.dispose()


def case_count(url: URL) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            tables = connection.scalar(text("SELECT to_regclass('cases') IS NOT NULL"))
            return int(connection.scalar(text("SELECT count(*) FROM cases")) or 0) if tables else 0
    finally:
        engine.dispose()


def generate_first_county(url: URL, data_dir: Path) -> float:
    clock = FixedClock(datetime(2026, 12, 6, 10, 0))
    services = open_services(data_dir, clock=clock, db_url=url.render_as_string(False))
    try:
        services.site.init_site(
            code="410221",
            name="杞县办不成事监督窗口",
            short_name="杞县",
            level=SiteLevel.COUNTY,
            admin_password="Admin12345",
            is_demo=True,
        )
        start = time.perf_counter()
        DemoService(services.db, clock, services.keys, sealer=services.sealer).generate(
            CASES_PER_COUNTY
        )
        return time.perf_counter() - start
    finally:
        services.close()


def _copy_rows(connection: Connection, table: str, replaced: dict[str, str], where: str) -> None:
    """INSERT … SELECT every column of ``table``, some replaced by SQL expressions."""
    columns = [
        row[0]
        for row in connection.execute(
            text(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = :table "
                "ORDER BY ordinal_position"
            ),
            {"table": table},
        )
    ]
    names = ", ".join(f'"{c}"' for c in columns)
    values = ", ".join(replaced.get(c, f'"{c}"') for c in columns)
    select = f"SELECT {values} FROM {table} {where}"
    connection.exec_driver_sql(f"INSERT INTO {table} ({names}) {select}")


def clone_counties(url: URL) -> float:
    """Counties 2–15 as copies of the first under new site codes, in SQL (minutes, not hours).

    TODO(issue 18, import bench): replace by importing fifteen real bundles.
    """
    engine = create_engine(url)
    start = time.perf_counter()
    try:
        for county in range(1, COUNTIES):
            shift = county * ID_STRIDE
            code = f"4199{county:02d}"
            prefix = f"县{county:02d}-"
            uuid = f"'k{county:02d}' || substr(uuid, 4)"  # 'k': no generated UUID has it
            with engine.begin() as connection:
                _copy_rows(
                    connection,
                    "complainants",
                    {"id": f"id + {shift}", "uuid": uuid, "origin_site": f"'{code}'"},
                    f"WHERE id < {ID_STRIDE}",
                )
                _copy_rows(
                    connection,
                    "cases",
                    {
                        "id": f"id + {shift}",
                        "uuid": uuid,
                        "site_code": f"'{code}'",
                        "origin_site": f"'{code}'",
                        "number": f"'{prefix}' || substr(number, strpos(number, '-') + 1)",
                        "complainant_id": f"complainant_id + {shift}",
                        "agent_id": f"agent_id + {shift}",
                        "linked_case_id": f"linked_case_id + {shift}",
                        # No assignments are cloned: none of these cases' departments answered.
                        "departments_answered": "false",
                    },
                    f"WHERE id < {ID_STRIDE}",
                )
                connection.exec_driver_sql(
                    f"INSERT INTO case_search (rowid, body) SELECT rowid + {shift}, body "
                    f"FROM case_search WHERE rowid < {ID_STRIDE}"
                )
            print(f"  county {county + 1} of {COUNTIES} cloned", file=sys.stderr)
        with engine.begin() as connection:
            for table in ("cases", "complainants"):
                connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    finally:
        engine.dispose()
    return time.perf_counter() - start


def raw_ids(
    connection: Any,
    query: str,
    limit: int | None,
    nulls_last: bool = True,
    statistics: search.GramStatistics = search.NO_STATISTICS,
    walk: bool = False,
) -> int:
    """The ledger's search query (default order: received, newest first) sent straight to the
    server through the DBAPI: the floor under the ledger's figure. Without ``nulls_last`` the
    order can walk ix_cases_received_at backwards (both columns are NOT NULL, so the rows come
    in the same order): what the ledger's first page would cost if it sorted that way. The
    index is asked for the grams ``statistics`` choose, as the ledger asks; with ``walk`` (a
    common term, as the ledger looks for it) each case's body is checked in the ledger's order
    by one statement with a LIMIT instead."""
    nulls = " NULLS LAST" if nulls_last else ""
    grams = search.query_grams(query)
    needle = search.body_needle(query)
    assert grams is not None
    if walk and limit:
        sql = (
            "SELECT cases.id FROM cases JOIN case_search ON case_search.rowid = cases.id "
            "WHERE strpos(' ' || body || ' ', %s) > 0 "
            f"ORDER BY cases.received_at DESC, cases.id DESC LIMIT {limit}"
        )
        parameters: tuple[Any, ...] = (needle,)
    else:
        sql = (
            "SELECT cases.id FROM cases WHERE cases.id IN (SELECT rowid FROM case_search "
            f"WHERE {search.GRAMS_FUNCTION}(body) @> %s::text[] "
            "AND strpos(' ' || body || ' ', %s) > 0) "
            f"ORDER BY cases.received_at DESC{nulls}, cases.id DESC{nulls}"
            + (f" LIMIT {limit}" if limit else "")
        )
        parameters = (statistics.selective(grams), needle)
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        return len(cursor.fetchall())


def measure(services: AppServices, raw: Any) -> dict[str, object]:
    ledger = services.ledger
    results: dict[str, object] = {}

    def first_page(case_filter: CaseFilter, limit: int | None = None) -> int:
        ids = ledger.ids(case_filter, limit=limit)
        ledger.rows(ids[:PAGE])
        return len(ids)

    # The first window the ledger page reads (every id before issue 18's windows: 1.6 s).
    wall, cpu = median_ms(lambda: first_page(CaseFilter(), LEDGER_WINDOW), repeat=3)
    results["ledger_first_page_ms"] = {"wall": wall, "cpu": cpu}
    # What the search cost before the index: every body read by strpos (once: seconds).
    with raw.cursor() as cursor:
        start = time.perf_counter()
        cursor.execute(
            "SELECT count(*) FROM case_search WHERE strpos(' ' || body || ' ', %s) > 0",
            (search.body_needle("王芳"),),
        )
        results["without_index_raw_sql_ms"] = round((time.perf_counter() - start) * 1000)
    with services.db.read() as session:
        statistics = search.postgres_gram_statistics(session)
    for label, query in QUERIES:
        found = CaseFilter(text=query)
        hits = ledger.count(found)
        all_ids = median_ms(lambda f=found: first_page(f), repeat=3)
        page = median_ms(lambda f=found: first_page(f, PAGE))
        # The ledger page's own first read was FIRST_ROWS + 1 = 1,001 ids before 2026-12-07.
        window = median_ms(lambda f=found: first_page(f, BIG_WINDOW))
        walks = {need: ledger.search_walks(found, need) for need in (PAGE, BIG_WINDOW)}
        floor = median_ms(lambda q=query: raw_ids(raw, q, None, statistics=statistics), repeat=3)
        floor_page = median_ms(
            lambda q=query, w=walks[PAGE]: raw_ids(raw, q, PAGE, statistics=statistics, walk=w)
        )
        floor_window = median_ms(
            lambda q=query, w=walks[BIG_WINDOW]: raw_ids(
                raw, q, BIG_WINDOW, statistics=statistics, walk=w
            )
        )
        capped = median_ms(lambda f=found: ledger.count(f, cap=LEDGER_COUNT_CAP), repeat=3)
        results[label] = {
            "query": query,
            "hits": hits,
            "walked": walks[PAGE],
            "all_ids_wall_ms": all_ids[0],
            "all_ids_cpu_ms": all_ids[1],
            "first_200_wall_ms": page[0],
            "first_200_cpu_ms": page[1],
            "first_1001_wall_ms": window[0],
            "first_1001_cpu_ms": window[1],
            "raw_sql_all_ids_ms": floor[0],
            "raw_sql_first_200_ms": floor_page[0],
            "raw_sql_first_1001_ms": floor_window[0],
            "count_wall_ms": median_ms(lambda f=found: ledger.count(f), repeat=3)[0],
            "count_capped_100000_wall_ms": capped[0],
        }
    return results


# The ledger page reads its first FIRST_ROWS ids (ui/ledger_page.py) and one more (is there more?),
# then counts on its worker up to COUNT_CAP. (1,001 before 2026-12-07.)
LEDGER_WINDOW = 201
BIG_WINDOW = 1_001  # a search's first thousand, as the page read them before
LEDGER_COUNT_CAP = 100_000
LEDGER_BUDGET_MS = 50  # DESIGN §9: first page (as the county bench's ledger_first_page_ms)
DASHBOARD_BUDGET_MS = 100  # the dashboard's numbers, the calendar's month


class Captured:
    """The statements a piece of work sends, kept so the raw-SQL floor can replay them."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.statements: list[tuple[str, Any]] = []

    def __enter__(self) -> Captured:
        event.listen(self.engine, "before_cursor_execute", self._keep)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._keep)

    def _keep(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_a: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "SET", "SAVEPOINT", "RELEASE")):
            self.statements.append((statement, parameters))


def replay(raw: Any, statements: list[tuple[str, Any]]) -> None:
    """Send ``statements`` straight through the DBAPI and read every row: the floor."""
    cursor = raw.cursor()
    try:
        for statement, parameters in statements:
            cursor.execute(statement, parameters)
            if cursor.description is not None:
                cursor.fetchall()
    finally:
        cursor.close()


def with_floor(
    services: AppServices, raw: Any, work: Callable[[], object], repeat: int = 5
) -> dict[str, float]:
    """Wall and CPU of ``work`` through bbcs, and its raw-SQL floor (same statements, direct)."""
    with Captured(services.db.engine) as captured:
        work()
    wall, cpu = median_ms(work, repeat=repeat)
    floor, _cpu = median_ms(lambda: replay(raw, captured.statements), repeat=repeat)
    return {"wall_ms": wall, "cpu_ms": cpu, "raw_sql_ms": floor}


def measure_ledger(
    services: AppServices, raw: Any, limit: int | None, page: int = PAGE
) -> dict[str, object]:
    """Issue 18's third bullet: the ledger's first page for each sort column (both ways) and
    each filter, the calendar's month, the dashboard's figures and a case's dialog — each with
    the raw-SQL floor beside it. ``raw`` is a DBAPI connection to the same database."""
    from desktop_app.domain.vocabulary import CaseStatus, Channel
    from desktop_app.services.ledger import SortKey, Worklist
    from desktop_app.storage.models import Case, Department, User

    ledger = services.ledger
    today = services.clock.now().date()
    results: dict[str, object] = {}

    def first_page(
        case_filter: CaseFilter, sort: SortKey, descending: bool = True
    ) -> Callable[[], int]:
        def run() -> int:
            ids = ledger.ids(case_filter, sort, descending, limit=limit)
            ledger.rows(ids[:page])
            return len(ids)

        return run

    for sort in SortKey:
        for descending in (True, False):
            label = f"ledger_sort_{sort.value}_{'desc' if descending else 'asc'}"
            results[label] = with_floor(services, raw, first_page(CaseFilter(), sort, descending))
    with services.db.read() as session:
        site = session.scalar(select(Case.site_code).order_by(Case.id.desc()).limit(1))
        area = session.scalar(select(Case.area).limit(1))
        department = session.scalar(select(Department.id).order_by(Department.id).limit(1))
        user = session.scalar(select(User.id).order_by(User.id).limit(1))
    filters = {
        "county": CaseFilter(site_code=site),
        "status_registered": CaseFilter(statuses=(CaseStatus.REGISTERED,)),
        "status_open": CaseFilter(statuses=(CaseStatus.REGISTERED, CaseStatus.IN_PROGRESS)),
        "status_visited": CaseFilter(statuses=(CaseStatus.VISITED,)),
        "awaiting_triage": CaseFilter(awaiting_triage=True),
        "awaiting_signature": CaseFilter(awaiting_signature=True),
        "visit_retry": CaseFilter(visit_retry_due=True, today=today),
        "area": CaseFilter(area=area),
        "department": CaseFilter(department_id=department),
        "channel": CaseFilter(channel=Channel.PHONE),
        "received_month": CaseFilter(received_from=today.replace(day=1), received_to=today),
        "county_and_month": CaseFilter(site_code=site, received_from=today.replace(day=1)),
        **{
            f"worklist_{worklist.value}": CaseFilter(worklist=worklist, today=today, user_id=user)
            for worklist in Worklist
        },
    }
    for label, case_filter in filters.items():
        results[f"ledger_filter_{label}"] = {
            **with_floor(services, raw, first_page(case_filter, SortKey.RECEIVED)),
            "count": ledger.count(case_filter),
        }
    results["ledger_count_all"] = with_floor(services, raw, lambda: ledger.count(), repeat=3)
    results["calendar_month"] = with_floor(
        services, raw, lambda: services.deadlines.month(today.year, today.month, today)
    )
    results["calendar_today_counts"] = with_floor(
        services, raw, lambda: services.deadlines.today(today)
    )
    results["dashboard_15_figures"] = with_floor(
        services, raw, lambda: services.supervision.counts(_viewer(services, user))
    )
    with services.db.read() as session:
        newest = session.scalar(select(Case.id).order_by(Case.id.desc()).limit(1))
        oldest = session.scalar(select(Case.id).order_by(Case.id).limit(1))
    for label, case_id in (("newest", newest), ("first_county", oldest)):
        results[f"case_dialog_{label}"] = with_floor(
            services, raw, lambda c=case_id: services.cases.detail(c)
        )
    return results


def _viewer(services: AppServices, user_id: int | None) -> Any:
    """Whose dashboard: a user of the site (the figures only read the id)."""
    from desktop_app.domain.vocabulary import Role
    from desktop_app.services.context import Actor

    return Actor(user_id, "bench", "bench", Role.ADMIN)


def sizes(url: URL) -> dict[str, object]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                text(
                    "SELECT pg_database_size(current_database()), "
                    "pg_relation_size('ix_case_search_grams'), "
                    "pg_total_relation_size('case_search'), (SELECT count(*) FROM cases)"
                )
            ).one()
    finally:
        engine.dispose()
    return {
        "cases": row[3],
        "database_mb": round(row[0] / 1e6),
        "search_index_mb": round(row[1] / 1e6),
        "case_search_with_indexes_mb": round(row[2] / 1e6),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", help="PostgreSQL URL (default: BBCS_TEST_PG_URL)")
    parser.add_argument("--folder", default=str(ROOT / ".bench" / "city"))
    parser.add_argument(
        "--sqlite",
        metavar="DATA_DIR",
        help="instead: the ledger, calendar, dashboard and dialog figures of a SQLite data dir "
        "(e.g. a copy of .bench/100000/data; opening migrates it)",
    )
    args = parser.parse_args()
    if args.sqlite:
        return measure_sqlite(Path(args.sqlite))
    server = server_url(args.server)
    url = server.set(database=DATABASE)
    data_dir = Path(args.folder) / "data"
    results: dict[str, object] = {"machine": "2 cores shared with other work: wall times vary"}
    ensure_database(server)
    if case_count(url) < COUNTIES * CASES_PER_COUNTY:
        if case_count(url) == 0:
            print(f"Generating county 1 ({CASES_PER_COUNTY:,} cases) …", file=sys.stderr)
            results["demo_generate_s"] = round(generate_first_county(url, data_dir), 1)
        print(f"Cloning counties 2–{COUNTIES} …", file=sys.stderr)
        results["clone_s"] = round(clone_counties(url), 1)
    start = time.perf_counter()
    services = open_services(data_dir, db_url=url.render_as_string(False))  # migrates
    results["open_and_migrate_s"] = round(time.perf_counter() - start, 1)
    import psycopg  # the driver bbcs ships for PostgreSQL

    # The same session settings as bbcs's own connections (storage/database.py make_engine).
    raw = psycopg.connect(
        url.set(drivername="postgresql").render_as_string(False),
        options="-c work_mem=64MB -c jit=off",
    )
    try:
        print("Measuring the ledger's search …", file=sys.stderr)
        results.update(measure(services, raw))
        print("Measuring the ledger, calendar, dashboard and case dialog …", file=sys.stderr)
        results["ledger"] = measure_ledger(services, raw, LEDGER_WINDOW)
    finally:
        raw.close()
        services.close()
    results.update(sizes(url))
    verdicts = {}
    for label, _query in QUERIES:
        figure = results[label]
        assert isinstance(figure, dict)
        wall = figure["first_200_wall_ms"]
        verdicts[label] = f"{'ok' if wall <= SEARCH_BUDGET_MS else 'OVER'} (budget 50 ms)"
    results["verdicts_first_200"] = verdicts
    ledger = results["ledger"]
    assert isinstance(ledger, dict)
    results["verdicts_ledger"] = ledger_verdicts(ledger)
    print(json.dumps(results, ensure_ascii=False, indent=2))
    return 0


def ledger_verdicts(figures: dict[str, Any]) -> dict[str, str]:
    """Each figure of ``measure_ledger`` against its county budget (DESIGN.md §9)."""
    verdicts = {}
    for label, figure in figures.items():
        if label == "ledger_count_all":
            continue  # the label's count runs after the first page, on the worker
        budget = LEDGER_BUDGET_MS if label.startswith("ledger_") else DASHBOARD_BUDGET_MS
        wall = figure["wall_ms"]
        verdicts[label] = f"{'ok' if wall <= budget else 'OVER'} (budget {budget} ms)"
    return verdicts


def measure_sqlite(data_dir: Path) -> int:
    """``--sqlite``: ``measure_ledger`` on a SQLite data dir, the floor through sqlite3."""
    services = open_services(data_dir)  # migrates
    try:
        raw = services.db.engine.raw_connection()
        try:
            figures = measure_ledger(services, raw.driver_connection, LEDGER_WINDOW)
        finally:
            raw.close()
    finally:
        services.close()
    print(
        json.dumps(
            {"ledger": figures, "verdicts": ledger_verdicts(figures)}, ensure_ascii=False, indent=2
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
