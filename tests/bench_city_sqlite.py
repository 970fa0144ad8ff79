"""``python tasks.py bench --city-sqlite``: a city of 15 counties (1.5 million cases) on SQLite.

Not a test; prints medians as JSON, like tests/bench_city.py (PostgreSQL), whose figures and
cloning idea it reuses. Built once under ``.bench/city-sqlite`` and kept:

1. ``template``: an empty city (410200, the keys of ``.bench/exchange/city``) into which the real
   bundle of 杞县 (410221, 100,000 cases, ``.bench/exchange/usb``) is imported — what any county
   looks like inside a city.
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

Then the ledger, calendar, dashboard and a case's dialog (``bench_city.measure_ledger``) and the
ledger's search, each beside its raw-SQL floor (the statements bbcs sent, replayed straight
through sqlite3), and a year's bulletin for the whole city (tests/bench_city_bulletin.py, the
city opened read-only). No ANALYZE is run: the program never runs one, so neither does the
bench.
"""

from __future__ import annotations

import argparse
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

from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from desktop_app.services import integrity  # noqa: E402
from desktop_app.services.app import AppServices, open_services  # noqa: E402
from desktop_app.services.exchange import merge_bulk, records_file  # noqa: E402
from desktop_app.services.ledger import CaseFilter  # noqa: E402
from desktop_app.storage import database  # noqa: E402
from desktop_app.storage.database import Database  # noqa: E402
from tests import bench_city_bulletin  # noqa: E402
from tests.bench_city import (  # noqa: E402
    ACTOR,
    CASES_PER_COUNTY,
    CLONED,
    COUNTIES,
    LEDGER_COUNT_CAP,
    LEDGER_WINDOW,
    PAGE,
    QUERIES,
    SEARCH_BUDGET_MS,
    Captured,
    bundle_copy,
    clone_expressions,
    clone_values,
    county_code,
    county_identity,
    ledger_verdicts,
    measure_ledger,
    median_ms,
    new_city,
    progress,
    replay,
    trust_county,
)

CACHE_MIB = 0  # --cache-mib: the most page cache the merge's connection gets (bbcs: 24 MB)


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


def build_template(folder: Path) -> Path:
    """A city holding the real 410221 county, imported: the rows every clone copies."""
    template = folder / "template"
    if case_count(template) == CASES_PER_COUNTY:
        return template
    progress("template: importing the real 410221 bundle into an empty city …")
    city = new_city(template)
    try:
        trust_county(city)
        city.sync.import_file(ACTOR, bundle_copy(folder))
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


def clone_county(city: AppServices, county: int) -> None:
    """County ``county`` (1–14) as a copy of the template's 410221, in one digested write."""
    values = clone_values(county, position="instr")
    with city.db.write() as session:
        integrity.watch_new_rows(session)  # every digested row added below: sealed at commit
        connection = session.connection()
        for table in CLONED:
            columns = _columns(connection, table)
            names = ", ".join(f'"{c}"' for c in columns)
            expressions = ", ".join(clone_expressions(table, columns, values))
            connection.exec_driver_sql(
                f"INSERT INTO main.{table} ({names}) "
                f"SELECT {expressions} FROM template.{table} ORDER BY id"
            )
        connection.exec_driver_sql(
            f"INSERT INTO main.case_search (rowid, body) "
            f"SELECT rowid + {values['shift']}, body FROM template.case_search"
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
                progress(f"city14: county {county} of {COUNTIES - 1} ({county_code(county)})")
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
    results.update(_import_twice(city_dir, None, "", bundle_copy(folder)))
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
            progress(f"{label}: {results[label]}")
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
            progress("measuring the search …")
            search = measure_search(services, raw.driver_connection)
            progress("measuring the ledger, calendar, dashboard and case dialog …")
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folder", default=str(ROOT / ".bench" / "city-sqlite"))
    parser.add_argument(
        "--reimport",
        action="store_true",
        help="copy city14 and import the 15th county again even if the city is built",
    )
    parser.add_argument("--no-measure", action="store_true", help="build only")
    parser.add_argument("--year", type=int, default=2026, help="the bulletin's year")
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
    results.update(build_city14(folder))
    if args.reimport or case_count(folder / "city") != COUNTIES * CASES_PER_COUNTY:
        results.update(import_15th(folder))
    results["cases"] = case_count(folder / "city")
    results["city_db_mb"] = round((folder / "city" / "bbcs.db").stat().st_size / 1e6)
    results["city14_db_mb"] = round((folder / "city14" / "bbcs.db").stat().st_size / 1e6)
    if not args.no_measure:
        results.update(measure_city(folder / "city"))
        progress("the year's bulletin for the whole city, three times …")
        city_dir = folder / "city"
        results["bulletin"] = bench_city_bulletin.measure(
            f"sqlite:///{city_dir / 'bbcs.db'}", city_dir, args.year, 3
        )
    results["load_average_after"] = os.getloadavg()
    print(json.dumps(results, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
