"""A county's bundle merged into a PostgreSQL city by the bulk copy (COPY into staging tables,
``INSERT … SELECT``; services/exchange/merge_copy.py) stores exactly what the row-by-row merge
stores.

Two cities on two PostgreSQL databases share one set of keys (so lookups and record digests
come out the same, but for sealed rows' digests: a seal has a fresh nonce), one importing with
the bulk copy, the other with ``postgres_bulk`` off; every synced table, the search rows and the
indexes are then compared row by row, sealed values opened.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from desktop_app.domain.assignment_flow import AssignmentState
from desktop_app.services import integrity
from desktop_app.services.context import FixedClock
from desktop_app.services.exchange import bundle_file as bf
from desktop_app.services.exchange import merge_copy
from desktop_app.services.exchange.merge import RecordMerger
from desktop_app.services.exchange.merge_copy import CopyBulk
from desktop_app.services.exchange.records_tables import DATA_TABLES
from desktop_app.services.sealing import ID_COLUMN, PHONE_COLUMN, SEALED_TABLES
from desktop_app.storage.models import Case
from tests.helpers import pg
from tests.helpers.exchange import (
    ADMIN,
    CITY,
    QIXIAN,
    Site,
    craft_bundle,
    identity_file,
    open_site,
    read_records,
    table_counts,
    trust_each_other,
)
from tests.helpers.factories import enterprise_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401
from tests.helpers.spies import record_calls
from tests.helpers.supervision_cases import Office
from tests.test_records_file import TRIAGE, populate, refused, register

pytestmark = pytest.mark.postgresql


@dataclass
class Cities:
    county: Site
    bulk: Site  # imports with the bulk copy
    rows: Site  # the same keys, imports row by row
    usb: Path


@pytest.fixture
def cities(tmp_path: Path, clock: FixedClock) -> Iterator[Cities]:
    pg.require_server()
    with (
        open_site(tmp_path, QIXIAN, clock) as county,
        open_site(tmp_path, CITY, clock, db_url=pg.fresh_pg_url(), folder="bulk") as bulk,
    ):
        # The second city gets the first one's keys (not its audit anchor): the same site
        # keys and data key, on a database of its own.
        keys = tmp_path / "rows" / "keys"
        shutil.copytree(bulk.data_dir / "keys", keys, ignore=shutil.ignore_patterns("audit.anchor"))
        with open_site(tmp_path, CITY, clock, db_url=pg.fresh_pg_url(), folder="rows") as rows:
            trust_each_other(county, bulk, tmp_path / "ids")
            rows.sync.trust(ADMIN, rows.sync.read_identity(identity_file(county, tmp_path)))
            usb = tmp_path / "usb"
            usb.mkdir()
            yield Cities(county, bulk, rows, usb)


def import_both(cities: Cities, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Import ``path`` into both cities, each its own way; both add the same."""
    copied: list[int] = []
    real = CopyBulk.merge_file

    def spy(self: CopyBulk, *args: Any) -> None:
        copied.append(1)
        real(self, *args)

    with monkeypatch.context() as patch:
        patch.setattr(CopyBulk, "merge_file", spy)
        # As for a county's first upload: the tables' indexes dropped and built again.
        patch.setattr(merge_copy, "BULK_ROWS", 1)
        bulk = cities.bulk.sync.import_file(ADMIN, path)
    assert copied, "the bulk city did not take the bulk copy"
    with monkeypatch.context() as patch:
        patch.setattr(RecordMerger, "postgres_bulk", False)
        patch.setattr(CopyBulk, "merge_file", spy)
        copied.clear()
        rows = cities.rows.sync.import_file(ADMIN, path)
    assert not copied, "the row city took the bulk copy"
    assert not bulk.refused and not rows.refused, (bulk.reason, rows.reason)
    assert bulk.totals() == rows.totals()
    assert dict(bulk.added) == dict(rows.added)
    assert dict(bulk.updated) == dict(rows.updated)
    assert dict(bulk.ignored) == dict(rows.ignored)


def stored(site: Site) -> dict[str, list[dict[str, Any]]]:
    """Every row of every synced table and of the search index, sealed values opened."""
    sealer = site.services.sealer
    out: dict[str, list[dict[str, Any]]] = {}
    with site.services.db.read() as session:
        for spec in DATA_TABLES:
            t = spec.table
            rows = [dict(r) for r in session.execute(select(t).order_by(t.c.id)).mappings()]
            for row in rows:
                if spec.name in SEALED_TABLES:  # sealed with a fresh nonce: differs each time
                    del row["digest"]  # (bbcs check verifies it)
                if spec.name == "complainants":
                    row["id_number_sealed"] = sealer.open(row["id_number_sealed"], ID_COLUMN)
                    row["phone_sealed"] = sealer.open(row["phone_sealed"], PHONE_COLUMN)
                elif spec.name == "slips":
                    row["content"] = sealer.open_content(row["content"])
            out[spec.name] = rows
        out["case_search"] = [
            dict(r)
            for r in session.execute(
                text("SELECT rowid, body FROM case_search ORDER BY rowid")
            ).mappings()
        ]
    return out


def indexes(site: Site) -> list[tuple[str, str]]:
    """Every index of the database, as made (the bulk copy drops and rebuilds some)."""
    with site.services.db.read() as session:
        return [
            (str(name), str(made_as))
            for name, made_as in session.execute(
                text(
                    "SELECT indexname, indexdef FROM pg_indexes "
                    "WHERE schemaname = current_schema() ORDER BY indexname"
                )
            )
        ]


def storage_options(site: Site) -> list[tuple[str, list[str] | None]]:
    """Every table's and index's own storage options (a bulk copy changes some for a while)."""
    with site.services.db.read() as session:
        return [
            (str(name), options)
            for name, options in session.execute(
                text(
                    "SELECT relname, reloptions FROM pg_class "
                    "WHERE relnamespace = to_regnamespace(current_schema()) "
                    "AND relkind IN ('r', 'i') ORDER BY relname"
                )
            )
        ]


def answered(site: Site) -> set[str]:
    with site.services.db.read() as session:
        return set(session.scalars(select(Case.uuid).where(Case.departments_answered)))


def uuid_of(site: Site, case_id: int) -> str:
    with site.services.db.read() as session:
        return session.scalars(select(Case.uuid).where(Case.id == case_id)).one()


def assert_same(cities: Cities) -> None:
    """Both cities hold the same rows, their digests verify, and the bulk one passes
    ``bbcs check``."""
    bulk, rows = stored(cities.bulk), stored(cities.rows)
    for table in rows:
        assert len(bulk[table]) == len(rows[table]), table
        for mine, theirs in zip(bulk[table], rows[table], strict=True):
            assert mine == theirs, table
    assert table_counts(cities.bulk) == table_counts(cities.rows)
    assert indexes(cities.bulk) == indexes(cities.rows)
    assert storage_options(cities.bulk) == storage_options(cities.rows)
    for site in (cities.bulk, cities.rows):
        with site.services.db.read() as session:
            found = integrity.site_of(site.services.db.engine)
            assert found is not None
            assert integrity.verify_records(session, found) == []
    # The whole check on the city under test (the other's audit anchor was left behind with
    # the first one's keys).
    assert cities.bulk.services.maintenance.check().problems == []


def test_the_bulk_copy_stores_what_the_row_merge_stores(
    cities: Cities, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    county = cities.county
    case_ids = populate(county, 5, tmp_path)
    firm = county.services.intake.register(ADMIN, enterprise_form()).case_id
    # Departments that answered (待答复's stored flag, written with a new case by the copy).
    office = Office(county.services, ADMIN, ADMIN)
    office.ids = {"answered": case_ids[2], "answered later": case_ids[3]}
    office.assignment("answered", AssignmentState.RESPONDED)
    exported = county.sync.export(ADMIN, cities.usb).path
    # References to rows of the same table and to an agent, which the county's own screens
    # make only over weeks: set in a copy of its records file, signed by it.
    records = read_records(exported, cities.bulk)
    uuids = {r["uuid"]: r for r in records.rows("cases")}
    first, *_rest, last = list(uuids)
    person = records.rows("complainants")[0]["uuid"]
    member = records.member(
        extra_sql=[
            f"UPDATE cases SET linked_case_id = '{first}', agent_id = '{person}' "
            f"WHERE uuid = '{last}'",
            f"UPDATE cases SET linked_case_id = '{last}' WHERE uuid = '{first}'",
        ]
    )
    first_bundle = craft_bundle(
        cities.usb / "first.bbcs",
        county,
        cities.bulk,
        [(bf.RECORDS_MEMBER, *member), *records.files],
    )
    import_both(cities, first_bundle, monkeypatch)
    assert table_counts(cities.bulk)["cases"] == 6
    assert_same(cities)
    assert answered(cities.bulk) == {uuid_of(county, case_ids[2])}

    # A week later: two cases changed at the county, three new: the changed ones go through
    # the row-by-row merge on both, the new ones through the bulk copy on one.
    county.services.cases.triage(ADMIN, case_ids[1], TRIAGE)
    county.services.cases.triage(ADMIN, firm, TRIAGE)
    register(county, 3)
    office.assignment("answered later", AssignmentState.RESPONDED)  # a known case's new one
    second = county.sync.export(ADMIN, cities.usb).path
    import_both(cities, second, monkeypatch)
    assert table_counts(cities.bulk)["cases"] == 9
    assert_same(cities)
    assert answered(cities.bulk) == {uuid_of(county, i) for i in case_ids[2:4]}

    # The same bundle again changes nothing.
    before = stored(cities.bulk)
    again = cities.bulk.sync.import_file(ADMIN, second)
    assert not again.refused and again.totals()["added"] == 0
    assert stored(cities.bulk) == before


def test_a_preview_reports_what_the_import_does_and_makes_no_digests(
    cities: Cities, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A preview is rolled back: the bulk copy makes no record digests for it (a quarter of a
    county's first upload at the city, and row versions that slow the import after it)."""
    populate(cities.county, 3, tmp_path)
    exported = cities.county.sync.export(ADMIN, cities.usb).path
    digested = record_calls(monkeypatch, integrity, "seal_added")
    before = table_counts(cities.bulk)

    preview = cities.bulk.sync.import_file(ADMIN, exported, dry_run=True)

    assert not preview.refused, preview.reason
    assert digested == []
    assert table_counts(cities.bulk) == before
    report = cities.bulk.sync.import_file(ADMIN, exported)
    assert not report.refused, report.reason
    tables = {table for _session, table in digested}
    assert {"cases", "complainants", "assignments", "slips"} <= tables
    assert dict(report.added) == dict(preview.added) and report.added["cases"] == 3
    assert cities.bulk.services.maintenance.check().problems == []  # every digest holds


@pytest.mark.parametrize(
    ("change", "words"),
    [
        # NOT NULL: the INSERT itself fails.
        ("UPDATE cases SET complainant_id = '{missing}' WHERE rowid = 2", "不存在的反映人"),
        # Nullable: fewer references found than were sent.
        ("UPDATE cases SET agent_id = '{missing}' WHERE rowid = 2", "不存在的反映人"),
        ("UPDATE assignments SET department_id = '{missing}' WHERE rowid = 1", "不存在的部门"),
        # Values of the wrong form, sent to COPY while the check still runs: the check says.
        ("UPDATE cases SET received_at = '2026-02-30 09:30:00' WHERE rowid = 2", "格式不正确"),
        ("UPDATE cases SET visits_count = 'many' WHERE rowid = 3", "格式不正确"),
    ],
)
def test_a_bad_reference_or_value_is_refused_and_nothing_changes(
    cities: Cities, tmp_path: Path, change: str, words: str
) -> None:
    populate(cities.county, 3, tmp_path)
    records = read_records(cities.county.sync.export(ADMIN, cities.usb).path, cities.bulk)
    member = records.member(extra_sql=[change.format(missing=uuid.uuid4())])
    path = craft_bundle(
        cities.usb / "bad.bbcs", cities.county, cities.bulk, [(bf.RECORDS_MEMBER, *member)]
    )
    refused(cities.bulk, path, "bad_content", words)
