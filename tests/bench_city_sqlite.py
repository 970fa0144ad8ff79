"""``python tasks.py bench --city-sqlite``: a city of 15 counties (1.5 million cases) on SQLite.

Not a test; prints medians as JSON, like tests/bench_city.py (PostgreSQL), whose figures and
cloning idea it reuses. Built once under ``.bench/city-sqlite`` and kept:

1. ``template``: an empty city (410200, the keys of ``.bench/exchange/city``) into which the real
   bundle of 杞县 (410221, 100,000 cases, ``.bench/exchange/usb``) is imported — what any county
   looks like inside a city (kept: ``--postgres`` clones it too).
2. ``city14``: a fresh city with fourteen counties (4199 01–14) cloned from the template in SQL
   (``ATTACH``, ``INSERT … SELECT`` with new ids, UUIDs, case numbers and site codes: departments,
   complainants, cases, assignments, slips, case events and search text). Each county is trusted
   through the program (``SyncService.trust``, fresh keys of its own) and copied in one write
   that calls ``integrity.watch_new_rows`` first — the program's own path for bulk writes (the
   demo's, a bundle's merge) — so every cloned record is digested at commit under the city's
   key and ``bbcs check`` does not call it tampered. Sealed personal numbers are copied as they
   are (sealed under the same city key; their associated data is the column's name).
3. ``city``: a copy of ``city14`` into which the real 410221 bundle is imported (the 15th county:
   timed with its phases), then imported again (≤ 2 s); the 1.5-million city the figures are
   measured on.

Disk: ``city`` 10.9 GB, ``city14`` 10.2 GB, ``template`` 0.75 GB (~22 GB in all). A schema
newer than the kept databases' is upgraded by the bench without bbcs's backup copy (11 GB).

``--postgres`` (the same 14 counties by COPY into a PostgreSQL database, then the 15th county's
import into a copy) has not yet been run end to end: one county's COPY was tried (~1.2 GB of
database per county, so ~17 GB for fourteen — more than the shared machine had free).

Then the ledger, calendar, dashboard and a case's dialog (``bench_city.measure_ledger``) and the
ledger's search, each beside its raw-SQL floor (the statements bbcs sent, replayed straight
through sqlite3). No ANALYZE is run: the program never runs one, so neither does the bench.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import functools
import json
import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from desktop_app.domain.vocabulary import Role, SiteLevel  # noqa: E402
from desktop_app.services import integrity  # noqa: E402
from desktop_app.services.app import AppServices, open_services  # noqa: E402
from desktop_app.services.context import Actor  # noqa: E402
from desktop_app.services.exchange import merge_bulk, records_file  # noqa: E402
from desktop_app.services.ledger import CaseFilter  # noqa: E402
from desktop_app.storage import database  # noqa: E402
from desktop_app.storage.database import Database  # noqa: E402
from tests.bench_city import (  # noqa: E402
    CASES_PER_COUNTY,
    COUNTIES,
    ID_STRIDE,
    LEDGER_COUNT_CAP,
    LEDGER_WINDOW,
    PAGE,
    QUERIES,
    SEARCH_BUDGET_MS,
    Captured,
    ledger_verdicts,
    measure_ledger,
    median_ms,
    replay,
    server_url,
)

EXCHANGE = ROOT / ".bench" / "exchange"
CITY_KEYS = EXCHANGE / "city" / "keys"  # the bundle is sealed to this city's key
COUNTY_IDENTITY = EXCHANGE / "410221.json"
SOURCE_CODE = "410221"
SOURCE_PREFIX = "杞县-"
ADMIN_PASSWORD = "Admin12345"
IMPORT_BUDGET_S = 10
REIMPORT_BUDGET_S = 2
ACTOR = Actor(None, "admin", "管理员", Role.ADMIN)
CACHE_MIB = 0  # --cache-mib: the most page cache the merge's connection gets (bbcs: 24 MB)

# Per cloned table: the columns given new values (SQL over the template's row; {shift}, {code},
# {uuid} filled in per county). Every other column is copied as it is.
_SHIFTED = "{column} + {shift}"
CLONED: dict[str, dict[str, str]] = {
    "departments": {"id": _SHIFTED},
    "complainants": {"id": _SHIFTED},
    "cases": {
        "id": _SHIFTED,
        "number": "'{prefix}' || substr(number, instr(number, '-') + 1)",
        "complainant_id": _SHIFTED,
        "agent_id": _SHIFTED,
        "linked_case_id": _SHIFTED,
        "stuck_department_id": _SHIFTED,
    },
    "assignments": {
        "id": _SHIFTED,
        "case_id": _SHIFTED,
        "department_id": _SHIFTED,
        "parent_id": _SHIFTED,
    },
    "slips": {"id": _SHIFTED, "assignment_id": _SHIFTED},
    "case_events": {"id": _SHIFTED, "case_id": _SHIFTED},
}
# In every cloned table that has them.
_EVERY_TABLE = {
    "uuid": "'{uuid_mark}' || substr(uuid, 4)",  # 'k': no generated UUID has it
    "site_code": "CASE site_code WHEN '{source}' THEN '{code}' ELSE site_code END",
    "origin_site": "CASE origin_site WHEN '{source}' THEN '{code}' ELSE origin_site END",
}


def county_code(county: int) -> str:
    """As tests/bench_city.py names its clones: 4199 01 … 4199 14."""
    return f"4199{county:02d}"


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _raw_key(public: Any) -> str:
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_city(data_dir: Path, db_url: str | None = None) -> AppServices:
    """An empty city 410200 with the keys the 410221 bundle was sealed to."""
    shutil.rmtree(data_dir, ignore_errors=True)
    shutil.copytree(CITY_KEYS, data_dir / "keys")
    (data_dir / "keys" / integrity.ANCHOR_FILE).unlink(missing_ok=True)  # another database's
    city = open_services(data_dir, db_url=db_url)
    city.site.init_site(
        code="410200",
        name="开封市办不成事监督窗口",
        short_name="开封",
        level=SiteLevel.CITY,
        admin_password=ADMIN_PASSWORD,
    )
    # The data key came with the copied keys, so the open did not anchor the audit log as a
    # first open does: anchor the new city's chain as it stands (what a restore does).
    problems = integrity.reanchor(city.db, city.data_key, city.layout.keys)
    assert not problems, problems
    return city


def trust_county(city: AppServices) -> None:
    city.sync.trust(ACTOR, city.sync.read_identity(COUNTY_IDENTITY), replace=True)


def case_count(data_dir: Path) -> int:
    path = data_dir / "bbcs.db"
    if not path.exists():
        return 0
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(connection.execute("SELECT count(*) FROM cases").fetchone()[0])
    except sqlite3.Error:
        return 0
    finally:
        connection.close()


def _bundle_copy(folder: Path) -> Path:
    """The real 410221 bundle, copied so the acknowledgement lands beside the copy."""
    original = next((EXCHANGE / "usb").glob("*.bbcs"))
    usb = folder / "usb"
    usb.mkdir(parents=True, exist_ok=True)
    copy = usb / original.name
    if not copy.exists():
        shutil.copy2(original, copy)
    return copy


def build_template(folder: Path) -> Path:
    """A city holding the real 410221 county, imported: the rows every clone copies."""
    template = folder / "template"
    if case_count(template) == CASES_PER_COUNTY:
        return template
    _log("template: importing the real 410221 bundle into an empty city …")
    city = new_city(template)
    try:
        trust_county(city)
        city.sync.import_file(ACTOR, _bundle_copy(folder))
    finally:
        city.close()
    return template


@contextmanager
def attached(city: AppServices, template: Path) -> Iterator[None]:
    """Every connection of ``city`` sees the template as schema ``template`` (ATTACH cannot run
    inside the write's transaction, so it is done as each connection opens)."""

    def attach(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.execute("ATTACH DATABASE ? AS template", (str(template / "bbcs.db"),))

    engine = city.db.engine
    event.listen(engine, "connect", attach)
    engine.dispose()
    try:
        yield
    finally:
        event.remove(engine, "connect", attach)
        engine.dispose()


def _columns(connection: Any, table: str) -> list[str]:
    return [row[1] for row in connection.exec_driver_sql(f"PRAGMA main.table_info({table})")]


def _clone_values(county: int) -> dict[str, object]:
    return {
        "shift": county * ID_STRIDE,
        "code": county_code(county),
        "source": SOURCE_CODE,
        "prefix": f"县{county:02d}-",
        "uuid_mark": f"k{county:02d}",
    }


def _clone_expressions(table: str, columns: list[str], values: dict[str, object]) -> list[str]:
    """SQL (SQLite) for each of ``columns`` of a cloned row of ``table``."""
    replaced = CLONED[table]
    expressions = []
    for name in columns:
        template = replaced.get(name, _EVERY_TABLE.get(name))
        expressions.append(template.format(column=name, **values) if template else f'"{name}"')
    return expressions


def clone_county(city: AppServices, county: int) -> None:
    """County ``county`` (1–14) as a copy of the template's 410221, in one digested write."""
    values = _clone_values(county)
    with city.db.write() as session:
        integrity.watch_new_rows(session)  # every digested row added below: sealed at commit
        connection = session.connection()
        for table in CLONED:
            columns = _columns(connection, table)
            names = ", ".join(f'"{c}"' for c in columns)
            expressions = ", ".join(_clone_expressions(table, columns, values))
            connection.exec_driver_sql(
                f"INSERT INTO main.{table} ({names}) "
                f"SELECT {expressions} FROM template.{table} ORDER BY id"
            )
        connection.exec_driver_sql(
            f"INSERT INTO main.case_search (rowid, body) "
            f"SELECT rowid + {values['shift']}, body FROM template.case_search"
        )


def county_identity(city: AppServices, county: int) -> Any:
    """410221's identity under the clone's code and name, with fresh keys of its own."""
    source = city.sync.read_identity(COUNTY_IDENTITY)
    return dataclasses.replace(
        source,
        site_code=county_code(county),
        site_name=f"第{county:02d}县办不成事监督窗口",
        signing_public_key=_raw_key(Ed25519PrivateKey.generate().public_key()),
        encryption_public_key=_raw_key(X25519PrivateKey.generate().public_key()),
    )


def build_city14(folder: Path) -> dict[str, object]:
    """The city of fourteen cloned counties (1.4 million cases), unless already built."""
    city14 = folder / "city14"
    wanted = (COUNTIES - 1) * CASES_PER_COUNTY
    if case_count(city14) == wanted:
        return {}
    start, cpu = time.perf_counter(), time.process_time()
    template = build_template(folder)
    template_s = time.perf_counter() - start
    city = new_city(city14)
    try:
        with attached(city, template):
            for county in range(1, COUNTIES):
                city.sync.trust(ACTOR, county_identity(city, county))
                clone_county(city, county)
                _log(f"city14: county {county} of {COUNTIES - 1} cloned ({county_code(county)})")
    finally:
        city.close()
    assert case_count(city14) == wanted
    return {
        "template_import_s": round(template_s, 1),
        "city14_build_s": round(time.perf_counter() - start, 1),
        "city14_build_cpu_s": round(time.process_time() - cpu, 1),
    }


class Phases:
    """Wall seconds spent in the import's phases (as /tmp/phase_import.py measured them)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._undo: list[Callable[[], None]] = []

    def wrap(self, owner: Any, attribute: str, label: str) -> None:
        original = getattr(owner, attribute)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                names = (a if isinstance(a, str) else getattr(a, "name", None) for a in args)
                name = next((n for n in names if isinstance(n, str)), "")
                key = f"{label}({name})" if name else label
                self.seconds[key] = self.seconds.get(key, 0) + time.perf_counter() - start

        setattr(owner, attribute, timed)
        self._undo.append(lambda: setattr(owner, attribute, original))

    def __enter__(self) -> Phases:
        self.wrap(merge_bulk.BulkCopy, "copy_new_rows", "bulk_copy_new_rows")
        self.wrap(merge_bulk.BulkCopy, "copy_search_text", "bulk_copy_search_text")
        self.wrap(integrity, "_seal", "digest_seal")
        self.wrap(records_file.RecordsFile, "check_values", "records_check_values")
        return self

    def __exit__(self, *_exc: object) -> None:
        for undo in reversed(self._undo):
            undo()

    def report(self) -> dict[str, float]:
        ordered = sorted(self.seconds.items(), key=lambda kv: -kv[1])
        return {k: round(v, 2) for k, v in ordered if v >= 0.05}


def upgrade_without_backup(data_dir: Path) -> None:
    """A schema newer than the kept city's, upgraded without the copy bbcs makes of a database
    before upgrading it (11 GB here: twice it filled the disk of the shared machine)."""
    db = Database(f"sqlite:///{data_dir / 'bbcs.db'}")
    try:
        db.migrate()
    finally:
        db.dispose()


def import_15th(folder: Path) -> dict[str, object]:
    """A copy of city14, the real 410221 bundle imported into it (then again): the 1.5M city."""
    city_dir = folder / "city"
    shutil.rmtree(city_dir, ignore_errors=True)
    start = time.perf_counter()
    shutil.copytree(folder / "city14", city_dir)
    upgrade_without_backup(city_dir)
    os.sync()  # the copy's 10 GB written back before the import is timed, not during it
    results: dict[str, object] = {"copy_city14_s": round(time.perf_counter() - start, 1)}
    results.update(_import_twice(city_dir, None, "", _bundle_copy(folder)))
    return results


def _import_twice(
    data_dir: Path, db_url: str | None, prefix: str, bundle: Path
) -> dict[str, object]:
    """The real 410221 bundle imported into the city of ``data_dir``, then the same again."""
    results: dict[str, object] = {}
    city = open_services(data_dir, db_url=db_url)
    if CACHE_MIB and db_url is None:  # --cache-mib: the diagnosis of an import over budget
        # Database.attached gives the merge's connection min(this, 5/4 of the records file).
        database.BULK_CACHE_MAX_KIB = CACHE_MIB * 1024
        results[f"{prefix}bulk_cache_max_mib"] = CACHE_MIB
    try:
        trust_county(city)
        for label in (f"{prefix}import_15th", f"{prefix}reimport_same_bundle"):
            with Phases() as phases:
                wall, cpu = time.perf_counter(), time.process_time()
                report = city.sync.import_file(ACTOR, bundle)
                results[label] = {
                    "wall_s": round(time.perf_counter() - wall, 2),
                    "cpu_s": round(time.process_time() - cpu, 2),
                    "load_average": os.getloadavg(),
                    "added": dict(report.added),
                    "ignored": dict(report.ignored),
                    "refused": report.reason if report.refused else "",
                    "phases_wall_s": phases.report(),
                }
            _log(f"{label}: {results[label]}")
    finally:
        city.close()
    return results


def measure_search(services: AppServices, raw: Any) -> dict[str, object]:
    """The ledger's search (first 200, the page's first window of LEDGER_WINDOW ids, every id,
    the count) beside the raw-SQL floor: the window's statements replayed through sqlite3."""
    ledger = services.ledger
    results: dict[str, object] = {}

    def window(case_filter: CaseFilter, limit: int | None) -> Callable[[], int]:
        def run() -> int:
            ids = ledger.ids(case_filter, limit=limit)
            ledger.rows(ids[:PAGE])
            return len(ids)

        return run

    for label, query in QUERIES:
        found = CaseFilter(text=query)
        page = median_ms(window(found, PAGE))
        first = median_ms(window(found, LEDGER_WINDOW))
        every = median_ms(window(found, None), repeat=3)
        with Captured(services.db.engine) as captured:
            window(found, LEDGER_WINDOW)()
        floor = median_ms(lambda s=captured.statements: replay(raw, s))
        results[label] = {
            "query": query,
            "hits": ledger.count(found),
            "first_200_wall_ms": page[0],
            "first_200_cpu_ms": page[1],
            f"first_{LEDGER_WINDOW}_wall_ms": first[0],
            f"first_{LEDGER_WINDOW}_cpu_ms": first[1],
            f"raw_sql_first_{LEDGER_WINDOW}_ms": floor[0],
            "all_ids_wall_ms": every[0],
            "count_capped_100000_wall_ms": median_ms(
                lambda f=found: ledger.count(f, cap=LEDGER_COUNT_CAP), repeat=3
            )[0],
        }
    return results


def measure_city(city_dir: Path) -> dict[str, object]:
    upgrade_without_backup(city_dir)
    services = open_services(city_dir)
    try:
        raw = services.db.engine.raw_connection()
        try:
            _log("measuring the search …")
            search = measure_search(services, raw.driver_connection)
            _log("measuring the ledger, calendar, dashboard and case dialog …")
            ledger = measure_ledger(services, raw.driver_connection, LEDGER_WINDOW)
        finally:
            raw.close()
    finally:
        services.close()
    verdicts = {
        label: f"{'ok' if figure['first_200_wall_ms'] <= SEARCH_BUDGET_MS else 'OVER'} (budget "
        f"{SEARCH_BUDGET_MS} ms)"
        for label, figure in search.items()
        if isinstance(figure, dict)
    }
    return {
        **search,
        "ledger": ledger,
        "verdicts_first_200": verdicts,
        "verdicts_ledger": ledger_verdicts(ledger),
    }


# --postgres: the same 14-county city on the PostgreSQL server, for the 15th county's import.
PG_DATABASE = "bbcs_city_import_bench"  # the 14 counties, kept
PG_COPY = "bbcs_city_import_bench_15"  # a copy the 15th is imported into, dropped after


def _pg_admin(server: URL, statements: list[str]) -> None:
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
    finally:
        admin.dispose()


def _pg_case_count(url: URL) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(text("SELECT count(*) FROM cases")) or 0)
    except SQLAlchemyError:
        return 0
    finally:
        engine.dispose()


def pg_clone_county(city: AppServices, source: sqlite3.Connection, county: int) -> None:
    """County ``county`` from the SQLite template, by COPY, in one write. Not digested: sealing
    ~400,000 rows per county through ``integrity.seal_added`` took ~5 minutes a county on the
    busy machine (an UPDATE of every row under the tables' many indexes); the import of the
    15th county neither reads nor checks the other counties' digests, so the PostgreSQL city
    is an import bench only (``bbcs check`` would call its clones tampered)."""
    values = _clone_values(county)
    with city.db.write() as session:
        connection = session.connection()
        raw = connection.connection.driver_connection
        assert raw is not None
        for table in [*CLONED, "case_search"]:
            if table == "case_search":
                names, select_sql = "rowid, body", "SELECT rowid + {shift}, body".format(**values)
            else:
                columns = [
                    row[0]
                    for row in connection.execute(
                        text(
                            "SELECT column_name FROM information_schema.columns WHERE "
                            "table_schema = current_schema() AND table_name = :t "
                            "ORDER BY ordinal_position"
                        ),
                        {"t": table},
                    )
                ]
                names = ", ".join(f'"{c}"' for c in columns)
                select_sql = "SELECT " + ", ".join(_clone_expressions(table, columns, values))
            start = time.perf_counter()
            rows = source.execute(f"{select_sql} FROM {table} ORDER BY rowid")
            with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            _log(f"  {table}: {time.perf_counter() - start:.1f} s")


def pg_build_city14(server: URL, folder: Path) -> dict[str, object]:
    """The 14 cloned counties on PostgreSQL (database ``PG_DATABASE``), unless already built."""
    url = server.set(database=PG_DATABASE)
    wanted = (COUNTIES - 1) * CASES_PER_COUNTY
    if _pg_case_count(url) == wanted:
        return {}
    start, cpu = time.perf_counter(), time.process_time()
    _pg_admin(
        server,
        [
            f"DROP DATABASE IF EXISTS {PG_DATABASE}",
            f"CREATE DATABASE {PG_DATABASE} ENCODING 'UTF8' TEMPLATE template0 "
            "LC_COLLATE 'C' LC_CTYPE 'C'",
        ],
    )
    template = build_template(folder)
    source = sqlite3.connect(f"file:{template / 'bbcs.db'}?mode=ro", uri=True)
    city = new_city(folder / "pg" / "data", url.render_as_string(False))
    try:
        for county in range(1, COUNTIES):
            city.sync.trust(ACTOR, county_identity(city, county))
            pg_clone_county(city, source, county)
            _log(f"pg city14: county {county} of {COUNTIES - 1} cloned")
        with city.db.write() as session:
            for table in CLONED:
                session.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    finally:
        city.close()
        source.close()
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")  # as autovacuum would have by then
    finally:
        engine.dispose()
    assert _pg_case_count(url) == wanted
    return {
        "pg_city14_build_s": round(time.perf_counter() - start, 1),
        "pg_city14_build_cpu_s": round(time.process_time() - cpu, 1),
    }


def pg_import_15th(server: URL, folder: Path) -> dict[str, object]:
    """A copy of the PostgreSQL city14 (CREATE DATABASE … TEMPLATE), the real 410221 bundle
    imported into it and again; the copy is dropped after."""
    start = time.perf_counter()
    _pg_admin(
        server,
        [f"DROP DATABASE IF EXISTS {PG_COPY}", f"CREATE DATABASE {PG_COPY} TEMPLATE {PG_DATABASE}"],
    )
    data_dir = folder / "pg" / "data-15"
    shutil.rmtree(data_dir, ignore_errors=True)
    shutil.copytree(folder / "pg" / "data", data_dir)  # the keys: the anchor moves on import
    results: dict[str, object] = {"pg_copy_city14_s": round(time.perf_counter() - start, 1)}
    try:
        results.update(
            _import_twice(
                data_dir,
                server.set(database=PG_COPY).render_as_string(False),
                "pg_",
                _bundle_copy(folder),
            )
        )
    finally:
        _pg_admin(server, [f"DROP DATABASE IF EXISTS {PG_COPY}"])
        shutil.rmtree(data_dir, ignore_errors=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folder", default=str(ROOT / ".bench" / "city-sqlite"))
    parser.add_argument(
        "--reimport",
        action="store_true",
        help="copy city14 and import the 15th county again even if the city is built",
    )
    parser.add_argument("--no-measure", action="store_true", help="build only")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="instead: the 14 counties on the PostgreSQL server of BBCS_TEST_PG_URL (database "
        f"{PG_DATABASE}, kept) and the 15th county's import into a copy of it",
    )
    parser.add_argument("--server", help="PostgreSQL URL (default: BBCS_TEST_PG_URL)")
    parser.add_argument(
        "--cache-mib",
        type=int,
        default=0,
        help="with --reimport: the merge's SQLite page cache capped at this instead of 24 MB",
    )
    args = parser.parse_args()
    global CACHE_MIB
    CACHE_MIB = args.cache_mib
    folder = Path(args.folder)
    started = datetime.now().isoformat(timespec="seconds")
    results: dict[str, object] = {
        "machine": "2 cores shared with other work: wall times vary, CPU is this process's",
        "started": started,
        "load_average": os.getloadavg(),
    }
    if args.postgres:
        server = server_url(args.server)
        results.update(pg_build_city14(server, folder))
        results.update(pg_import_15th(server, folder))
        results["load_average_after"] = os.getloadavg()
        print(json.dumps(results, ensure_ascii=False, indent=2))
        return 0
    results.update(build_city14(folder))
    if args.reimport or case_count(folder / "city") != COUNTIES * CASES_PER_COUNTY:
        results.update(import_15th(folder))
    results["cases"] = case_count(folder / "city")
    results["city_db_mb"] = round((folder / "city" / "bbcs.db").stat().st_size / 1e6)
    results["city14_db_mb"] = round((folder / "city14" / "bbcs.db").stat().st_size / 1e6)
    if not args.no_measure:
        results.update(measure_city(folder / "city"))
    results["load_average_after"] = os.getloadavg()
    print(json.dumps(results, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
