"""The records file in a data bundle (records/data.sqlite.zst, bundle format 2): what the city
accepts, what it refuses, and what importing it leaves behind.

Real sites exchange real bundles (tests/helpers/exchange.py). A bad records file is made from a
county's real export, read back and changed in one place, then packed, signed by the county and
encrypted to the city exactly like a real one: each check is reached for real. Every refusal
leaves the city's tables exactly as they were, on a dry run and on a real import.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import pytest
import zstandard
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from desktop_app.domain.vocabulary import Approach, Cause, Conduct, Nature
from desktop_app.services.cases import Triage
from desktop_app.services.classes import ClassForm
from desktop_app.services.context import FixedClock
from desktop_app.services.exchange import bundle_file as bf
from desktop_app.services.exchange import merge_bulk
from desktop_app.services.exchange.import_report import ImportReport
from desktop_app.services.exchange.records_file import RecordsFile
from desktop_app.services.exchange.records_tables import ATTACHED, SPECS, TABLE_LABELS
from desktop_app.services.ledger import CaseFilter
from desktop_app.services.meetings import ItemForm, MeetingForm
from desktop_app.services.referrals import Proposal
from desktop_app.storage import search
from desktop_app.storage.database import RECORDS_PAGE_SIZE, Database
from desktop_app.storage.models import Case, Complainant
from tests.conftest import NOW
from tests.helpers.exchange import (
    ADMIN,
    CITY,
    LEADER,
    QIXIAN,
    TONGXU,
    Records,
    Site,
    craft_bundle,
    open_site,
    pack,
    read_records,
    rewrite_header,
    table_counts,
    trust_each_other,
)
from tests.helpers.factories import enterprise_form, person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401

TRIAGE = Triage(nature=Nature.HARD, approach=Approach.PUSH, causes=(Cause.POLICY,), area="医保社保")
NAME = "王芳"  # every county case here is this complainant's


def register(site: Site, count: int, name: str = NAME) -> list[int]:
    return [
        site.services.intake.register(ADMIN, person_form(name=name)).case_id for _ in range(count)
    ]


def populate(site: Site, count: int, folder: Path) -> list[int]:
    """``count`` cases of one complainant, the first with a scan, triaged and assigned with a
    slip: every synced table has rows."""
    scan = folder / "身份证 复印件.png"
    scan.write_bytes(b"\x89PNG fake scan " * 200)
    case_ids = [
        site.services.intake.register(ADMIN, person_form(name=NAME, attachments=(scan,))).case_id,
        *register(site, count - 1),
    ]
    with_assignment(site, case_ids[0])
    with_supervision(site, case_ids[0])
    return case_ids


def with_assignment(site: Site, case_id: int) -> None:
    """Triage a case and issue an assignment with its slip."""
    site.services.cases.triage(ADMIN, case_id, TRIAGE)
    department = site.services.site.departments()[0]
    ids, _ = site.services.assignments.create(
        ADMIN, case_id, department_id=department.id, requirements="请于规定时限内办理并反馈。"
    )
    site.services.assignments.issue(LEADER, ids[0])


def with_supervision(site: Site, case_id: int) -> None:
    """A class, a referral and a joint meeting about the case (issue 16): their tables travel
    too."""
    services = site.services
    services.classes.create(ADMIN, ClassForm(title="参保信息迁移遗漏"), case_ids=[case_id])
    services.referrals.propose(
        ADMIN,
        Proposal(case_id=case_id, person_name="张某", conduct=(Conduct.SHIRK,), facts="推诿。"),
    )
    department = services.site.departments()[0]
    services.meetings.record(
        ADMIN,
        MeetingForm(
            held_at=NOW,
            chair="潘险峰",
            topic="医保结算协调会",
            attendees=(department.name,),
            items=(ItemForm(case_id=case_id, decision="由医保局补录参保信息。"),),
        ),
    )


def refused(city: Site, path: Path, code: str, words: str) -> None:
    """Refused on a dry run and for real, with this code and reason, and nothing changed."""
    before = table_counts(city)
    for dry_run in (True, False):
        report = city.sync.import_file(ADMIN, path, dry_run=dry_run)
        assert report.refused, f"{path.name} was not refused: {report.summary()}"
        assert report.code == code, (report.code, report.reason)
        assert words in report.reason, report.reason
        assert report.totals() == {"added": 0, "updated": 0, "ignored": 0, "conflicts": 0}
    assert table_counts(city) == before
    assert not list(path.parent.glob("*.bbcsack"))


# One county bundle, never imported: every refusal below is a change to it -------------------


@dataclass
class Shared:
    city: Site
    county: Site
    bundle: Path  # the county's real bundle: three cases, every synced table with rows
    records: Records  # what it carries

    def craft(self, folder: Path, member: tuple[bytes, dict[str, Any]], **options: Any) -> Path:
        """A bundle from the county to the city carrying ``member`` as its records file (and
        the real bundle's attachment files)."""
        path = folder / f"crafted-{uuid.uuid4().hex[:8]}.bbcs"
        members = [(bf.RECORDS_MEMBER, *member), *self.records.files]
        return craft_bundle(path, self.county, self.city, members, **options)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    root = tmp_path_factory.mktemp("records")
    clock = FixedClock(NOW)
    with open_site(root, CITY, clock) as city, open_site(root, QIXIAN, clock) as county:
        trust_each_other(county, city, root / "ids")
        populate(county, 3, root)
        usb = root / "usb"
        usb.mkdir()
        bundle = county.sync.export(ADMIN, usb).path
        yield Shared(city, county, bundle, read_records(bundle, city))


def test_a_crafted_copy_of_a_real_records_file_is_accepted(shared: Shared, tmp_path: Path) -> None:
    """The baseline every refusal below changes one thing of: rebuilt by the test helper, the
    county's records import as the real bundle does."""
    assert all(shared.records.tables[t][1] for t in SPECS)  # every table has rows
    assert len(shared.records.files) == 1  # the scan
    before = table_counts(shared.city)
    real = shared.city.sync.import_file(ADMIN, shared.bundle, dry_run=True)
    crafted = shared.city.sync.import_file(
        ADMIN, shared.craft(tmp_path, shared.records.member()), dry_run=True
    )
    assert not real.refused and not crafted.refused, (real.reason, crafted.reason)
    assert crafted.added == real.added and real.added["cases"] == 3
    assert table_counts(shared.city) == before


def test_the_records_file_is_written_with_the_largest_pages(shared: Shared) -> None:
    """Read through once from start to end, it is smaller and quicker so (509 vs 548 MB at
    100,000 cases)."""
    assert shared.records.page_size == RECORDS_PAGE_SIZE == 65536


def test_values_at_their_limits_are_accepted(shared: Shared, tmp_path: Path) -> None:
    """The checks below are not stricter than the columns: a title of exactly 200 characters, a
    time without microseconds and NULL in a column that allows it all pass."""
    member = shared.records.member(
        extra_sql=[
            f"UPDATE cases SET title = '{'长' * 200}', received_at = '2026-11-25 09:30:00', "
            "triaged_at = NULL WHERE rowid = 1",
        ]
    )
    report = shared.city.sync.import_file(ADMIN, shared.craft(tmp_path, member), dry_run=True)
    assert not report.refused, report.reason
    assert report.added["cases"] == 3


# a) values of the wrong type or form --------------------------------------------------------

BAD_VALUES = [
    pytest.param("case_events", "at", "'2026-02-30 09:30:00.000000'", id="february-30th"),
    pytest.param("case_events", "at", "'2026-11-25T09:30:00.000000'", id="iso-t-datetime"),
    pytest.param("cases", "received_at", "'2026-11-25T09:30:00'", id="iso-t-no-fraction"),
    pytest.param("cases", "updated_at", "'2026-11-25 09:30:00.5'", id="short-fraction"),
    pytest.param("cases", "due_date", "'2026-13-01'", id="month-13-date"),
    pytest.param("cases", "version", "0", id="version-0"),
    pytest.param("cases", "version", "'2'", id="version-as-text"),
    pytest.param("case_events", "version", "1.0", id="version-as-real"),
    pytest.param("cases", "title", f"'{'长' * 201}'", id="title-over-200"),
    pytest.param("departments", "site_code", "'4102210'", id="site-code-over-6"),
    pytest.param("case_events", "data", "'{\"步骤\": '", id="invalid-json"),
    pytest.param("cases", "visits_count", "'三次'", id="text-for-integer"),
    pytest.param("cases", "visits_count", "'3'", id="digits-as-text"),
    pytest.param("cases", "title", "x'e78e8b'", id="blob-for-text"),
    pytest.param("departments", "active", "2", id="boolean-2"),
    pytest.param("case_events", "uuid", "'0b1c2d3e-4f50-4612'", id="short-uuid"),
    pytest.param("slips", "uuid", "'0b1c2d3e-4f50-4612-8a7b-8c9d0e1f2a3b0'", id="long-uuid"),
    pytest.param("case_events", "summary", "NULL", id="null-in-not-null"),
    pytest.param("cases", "title", "NULL", id="null-title"),
    pytest.param(
        "case_events", "uuid", "'0B1C2D3E-4F50-4612-8A7B-8C9D0E1F2A3B'", id="uuid-in-capitals"
    ),
]


# With the search text a real bundle ships (made as this release makes it), the city copies
# rows and builds its search index before the value check is awaited; without, it builds the
# search text itself and awaits the check first. Refusals must not depend on which.
SEARCH_TEXT = [
    pytest.param({"search_index": search.INDEX_VERSION}, id="search-text-shipped"),
    pytest.param({}, id="search-text-built-here"),
]


@pytest.mark.parametrize("manifest", SEARCH_TEXT)
@pytest.mark.parametrize(("table", "column", "value"), BAD_VALUES)
def test_a_value_of_the_wrong_type_or_form_refuses_the_bundle(
    shared: Shared, tmp_path: Path, table: str, column: str, value: str, manifest: dict[str, Any]
) -> None:
    member = shared.records.member(
        extra_sql=[
            f'UPDATE "{table}" SET "{column}" = {value} '
            f'WHERE rowid = (SELECT max(rowid) FROM "{table}")'
        ]
    )
    label = TABLE_LABELS[table]
    refused(
        shared.city,
        shared.craft(tmp_path, member, manifest=manifest),
        "bad_content",
        f"“{label}”的“{column}”格式不正确",
    )


def test_a_check_that_ends_late_still_refuses_and_keeps_nothing(
    shared: Shared, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy and the search index run ahead of the value check. A case whose search text
    is missing is indexed from its rows here: those are read only once the check has passed,
    however late it ends (here: only once the import waits for it, with a title that is not
    text)."""
    real = RecordsFile.check_values
    real_result = Future.result
    waiting = threading.Event()  # the import has gone as far as it can without the check

    def result(future: Future[Any], timeout: float | None = None) -> Any:
        waiting.set()
        return real_result(future, timeout)

    def late(records: RecordsFile, columns: dict[str, list[str]]) -> None:
        waiting.wait(timeout=30)
        real(records, columns)

    monkeypatch.setattr(Future, "result", result)
    monkeypatch.setattr(RecordsFile, "check_values", late)
    assert shared.records.search
    case_uuid = shared.records.search[0][0]
    member = shared.records.member(
        extra_sql=[
            f"UPDATE cases SET title = x'e78e8b' WHERE uuid = '{case_uuid}'",
            f"DELETE FROM case_search WHERE uuid = '{case_uuid}'",
        ]
    )
    path = shared.craft(tmp_path, member, manifest={"search_index": search.INDEX_VERSION})
    refused(shared.city, path, "bad_content", "“事项”的“title”格式不正确")


BAD_REFERENCES = [
    pytest.param(
        "cases",
        "complainant_id",
        "'0b1c2d3e-4f50-4612-8a7b-8c9d0e1f2a3\\'",
        "引用反映人的标识格式不正确",
        id="not-hex",
    ),
    pytest.param("slips", "assignment_id", "'第一次交办'", "引用交办的标识格式不正确", id="words"),
    pytest.param("case_events", "case_id", "7", "“办理记录”的“case_id”格式不正确", id="integer"),
    pytest.param(
        "assignments",
        "case_id",
        "'0b1c2d3e-4f50-4612-8a7b-8c9d0e1f2a3b'",
        "引用了不存在的事项（0b1c2d3e-4f50-4612-8a7b-8c9d0e1f2a3b）",
        id="points-at-nothing",
    ),
]


@pytest.mark.parametrize(("table", "column", "value", "words"), BAD_REFERENCES)
def test_a_reference_that_is_not_a_uuid_here_refuses_the_bundle(
    shared: Shared, tmp_path: Path, table: str, column: str, value: str, words: str
) -> None:
    """References are checked only for their type before the copy; the lookup that finds
    nothing refuses the rest, saying whether the value was a UUID at all."""
    member = shared.records.member(
        extra_sql=[
            f'UPDATE "{table}" SET "{column}" = {value} '
            f'WHERE rowid = (SELECT max(rowid) FROM "{table}")'
        ]
    )
    refused(shared.city, shared.craft(tmp_path, member), "bad_content", words)


@pytest.mark.parametrize("manifest", SEARCH_TEXT)
def test_search_text_of_the_wrong_form_refuses_the_bundle(
    shared: Shared, tmp_path: Path, manifest: dict[str, Any]
) -> None:
    assert shared.records.search
    uuid_of_a_case = shared.records.search[0][0]
    member = shared.records.member(
        extra_sql=[f"INSERT INTO case_search VALUES ('{uuid_of_a_case}', 'z z')"]  # twice
    )
    path = shared.craft(tmp_path, member, manifest=manifest)
    refused(shared.city, path, "bad_content", "检索内容格式不正确")


# b) anything but the expected plain tables --------------------------------------------------

CASE_EVENTS = ", ".join(f'"{c}"' for c in SPECS["case_events"].columns())

EXTRA_OBJECTS = [
    pytest.param(["CREATE VIEW open_cases AS SELECT * FROM cases"], id="view"),
    pytest.param(
        [
            "CREATE TRIGGER bump AFTER UPDATE ON cases "
            "BEGIN UPDATE cases SET version = version + 1 WHERE rowid = new.rowid; END"
        ],
        id="trigger",
    ),
    pytest.param(["CREATE INDEX by_uuid ON cases (uuid)"], id="index"),
    pytest.param(["CREATE UNIQUE INDEX by_number ON cases (number)"], id="unique-index"),
    pytest.param(["CREATE TABLE users (username, password_hash)"], id="unknown-table"),
    pytest.param(
        ["DROP TABLE case_search", "CREATE VIRTUAL TABLE case_search USING fts5(uuid, body)"],
        id="virtual-table",
    ),
    pytest.param(
        [
            "ALTER TABLE case_events RENAME TO old_events",
            f"CREATE TABLE case_events ({CASE_EVENTS}, PRIMARY KEY (uuid)) WITHOUT ROWID",
            "INSERT INTO case_events SELECT * FROM old_events",
            "DROP TABLE old_events",
        ],
        id="without-rowid-table",
    ),
]


@pytest.mark.parametrize("extra_sql", EXTRA_OBJECTS)
def test_a_records_file_with_anything_but_plain_tables_is_refused(
    shared: Shared, tmp_path: Path, extra_sql: list[str]
) -> None:
    member = shared.records.member(extra_sql=extra_sql)
    path = shared.craft(tmp_path, member)
    refused(shared.city, path, "bad_content", "中有不应有的内容")


def test_a_records_file_without_uuid_or_version_columns_is_refused(
    shared: Shared, tmp_path: Path
) -> None:
    member = shared.records.member(extra_sql=["ALTER TABLE case_events DROP COLUMN version"])
    refused(shared.city, shared.craft(tmp_path, member), "bad_content", "缺少必需的列")


def test_a_file_that_is_not_sqlite_is_refused(shared: Shared, tmp_path: Path) -> None:
    refused(
        shared.city,
        shared.craft(tmp_path, pack("不是数据库".encode() * 1000)),
        "bad_content",
        "无法读取",
    )


def test_a_records_file_with_a_damaged_page_is_refused(shared: Shared, tmp_path: Path) -> None:
    """A sender's disk may damage the file before it is packed and signed: refused, not an
    error."""
    raw = _records_bytes(shared.records)
    with contextlib.closing(sqlite3.connect(":memory:")) as db:
        db.deserialize(raw)
        (root,) = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'cases'").fetchone()
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
    damaged = bytearray(raw)
    at = (root - 1) * page_size
    damaged[at : at + 8] = b"\xff" * 8  # the b-tree page header of the cases table
    refused(shared.city, shared.craft(tmp_path, pack(bytes(damaged))), "bad_content", "无法读取")


def _records_bytes(records: Records) -> bytes:
    packed, _fields = records.member()
    return zstandard.ZstdDecompressor().decompressobj().decompress(packed)


# c) the packed member itself ----------------------------------------------------------------


def _zeros_packed(megabytes: int) -> bytes:
    compressor = zstandard.ZstdCompressor().compressobj()
    block = b"\0" * (1024 * 1024)
    return b"".join(compressor.compress(block) for _ in range(megabytes)) + compressor.flush()


def test_a_member_that_unpacks_to_more_than_declared_is_refused(
    shared: Shared, tmp_path: Path
) -> None:
    packed, fields = shared.records.member()
    one_more = shared.craft(
        tmp_path, (packed, fields | {"unpacked_size": fields["unpacked_size"] - 1})
    )
    refused(shared.city, one_more, "size_mismatch", "解压后超出声明的大小")
    # 256 MB of zeros pack to a few KB: declared as 4 KB, unpacking stops right there.
    bomb = _zeros_packed(256)
    assert len(bomb) < 64 * 1024
    path = shared.craft(tmp_path, (bomb, {"unpacked_size": 4096, "packing": "zstd"}))
    refused(shared.city, path, "size_mismatch", "解压后超出声明的大小")


def test_a_member_that_unpacks_to_less_than_declared_is_refused(
    shared: Shared, tmp_path: Path
) -> None:
    packed, fields = shared.records.member()
    path = shared.craft(tmp_path, (packed, fields | {"unpacked_size": fields["unpacked_size"] + 1}))
    refused(shared.city, path, "tampered", "与清单不符")


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        pytest.param(lambda packed: b"PK not zstd at all " * 50, "已损坏", id="not-zstd"),
        pytest.param(lambda packed: packed[:-20], "与清单不符", id="truncated-frame"),
        pytest.param(lambda packed: packed + b"\0" * 10, "已损坏", id="bytes-after-frame"),
    ],
)
def test_corrupt_packed_bytes_with_a_matching_hash_are_refused(
    shared: Shared, tmp_path: Path, damage: Any, words: str
) -> None:
    """The manifest pins the packed bytes as they are (the hash matches): the damage is only
    found while unpacking."""
    packed, fields = shared.records.member()
    refused(shared.city, shared.craft(tmp_path, (damage(packed), fields)), "tampered", words)


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({}, id="neither"),
        pytest.param({"unpacked_size": 1024}, id="no-packing"),
        pytest.param({"packing": "zstd"}, id="no-unpacked-size"),
        pytest.param({"packing": "gzip", "unpacked_size": 1024}, id="other-packing"),
        pytest.param({"packing": "zstd", "unpacked_size": "1024"}, id="size-as-text"),
        pytest.param({"packing": "zstd", "unpacked_size": True}, id="size-as-boolean"),
        pytest.param({"packing": "zstd", "unpacked_size": -1}, id="negative-size"),
        pytest.param(
            {"packing": "zstd", "unpacked_size": bf.MAX_UNPACKED_BYTES + 1}, id="over-the-cap"
        ),
    ],
)
def test_a_records_member_without_its_packing_is_refused(
    shared: Shared, tmp_path: Path, fields: dict[str, Any]
) -> None:
    packed, _fields = shared.records.member()
    refused(shared.city, shared.craft(tmp_path, (packed, fields)), "bad_content", "说明不正确")


# d) older formats ---------------------------------------------------------------------------


def test_a_format_1_bundle_is_refused_as_too_old(shared: Shared, tmp_path: Path) -> None:
    old = shutil.copy(shared.bundle, tmp_path / shared.bundle.name)
    rewrite_header(Path(old), format=1)
    refused(shared.city, Path(old), "too_old", "试用版")


def test_json_lines_records_without_the_records_file_are_refused(
    shared: Shared, tmp_path: Path
) -> None:
    """What a format 1 sender put in a bundle, under a format 2 header: refused for the member
    that does not belong in a data bundle."""
    columns, rows = shared.records.tables["cases"]
    lines = [{"table": "cases", "columns": columns, "refs": {}}, *rows]
    member = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()
    path = craft_bundle(
        tmp_path / "jsonl.bbcs", shared.county, shared.city, [("records/cases.jsonl", member)]
    )
    refused(shared.city, path, "unexpected_member", "records/cases.jsonl")


# Fuzzing the records file itself ------------------------------------------------------------

page_damage = st.lists(
    st.tuples(st.integers(0, 10**6), st.integers(0, 15), st.integers(1, 255)),
    min_size=1,
    max_size=3,
)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same examples every run
    database=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(damage=page_damage)
def test_damaged_records_files_are_only_ever_refused(
    shared: Shared, tmp_path: Path, damage: list[tuple[int, int, int]]
) -> None:
    """Signed and packed properly, a records file damaged in its page headers (where SQLite
    finds its b-trees) is refused as bad content or, if the damage is harmless, imported; no
    other error escapes and a dry run changes nothing."""
    raw = bytearray(_records_bytes(shared.records))
    page_size = int.from_bytes(raw[16:18], "big")
    pages = len(raw) // page_size
    for page, offset, flip in damage:
        at = (page % pages) * page_size + offset + (100 if page % pages == 0 else 0)
        raw[at] ^= flip
    before = table_counts(shared.city)
    report = shared.city.sync.import_file(
        ADMIN, shared.craft(tmp_path, pack(bytes(raw))), dry_run=True
    )
    assert not report.refused or report.code == "bad_content", (report.code, report.reason)
    assert table_counts(shared.city) == before


# Imports that change the city: a county and a city of their own per test --------------------


@dataclass
class Pair:
    city: Site
    county: Site
    usb: Path
    root: Path
    clock: FixedClock


@pytest.fixture
def pair(tmp_path: Path, clock: FixedClock) -> Iterator[Pair]:
    with open_site(tmp_path, CITY, clock) as city, open_site(tmp_path, QIXIAN, clock) as county:
        trust_each_other(county, city, tmp_path / "ids")
        usb = tmp_path / "usb"
        usb.mkdir()
        yield Pair(city, county, usb, tmp_path, clock)


def _city_ids(city: Site, county_code: str) -> set[int]:
    with city.services.db.read() as session:
        return set(session.scalars(select(Case.id).where(Case.site_code == county_code)))


def _complainant(site: Site, the_uuid: str) -> tuple[str, int, str]:
    with site.services.db.read() as session:
        row = session.execute(
            select(Complainant.name, Complainant.version, Complainant.origin_site).where(
                Complainant.uuid == the_uuid
            )
        ).one()
        return row[0], row[1], row[2]


# e) a record belongs to the site it came from -----------------------------------------------


def test_a_newer_version_with_a_reference_that_is_not_a_uuid_is_refused_not_queued(
    pair: Pair,
) -> None:
    """Rows the city already has go through the row-by-row merge: a reference there that is
    not a UUID refuses the bundle before anything is compared or queued."""
    city, county = pair.city, pair.county
    register(county, 1)
    sent = county.sync.export(ADMIN, pair.usb)
    assert not city.sync.import_file(ADMIN, sent.path).refused
    records = read_records(sent.path, city)
    columns, rows = records.tables["case_events"]
    rows[-1][columns.index("version")] += 1
    rows[-1][columns.index("case_id")] = "第一件事" * 40
    before = table_counts(city)
    path = craft_bundle(
        pair.usb / "bad-reference.bbcs",
        county,
        city,
        [(bf.RECORDS_MEMBER, *records.member())],
        bundle_id=str(uuid.uuid4()),
    )
    report = city.sync.import_file(ADMIN, path)
    assert report.refused and report.code == "bad_content"
    assert "引用事项的标识格式不正确（'第一件事第一件事" in report.reason
    assert len(report.reason) < 120  # the value is cut short
    assert table_counts(city) == before


def test_only_the_site_a_record_came_from_may_send_it_again(pair: Pair) -> None:
    city, qixian = pair.city, pair.county
    register(qixian, 1)
    sent = qixian.sync.export(ADMIN, pair.usb)
    assert not city.sync.import_file(ADMIN, sent.path).refused
    (theirs,) = read_records(sent.path, city).rows("complainants")
    assert _complainant(city, theirs["uuid"]) == (NAME, theirs["version"], qixian.code)

    with open_site(pair.root / "tx", TONGXU, pair.clock) as tongxu:
        trust_each_other(tongxu, city, pair.root / "ids-tx")
        register(tongxu, 1, name="赵六")
        own = read_records(tongxu.sync.export(ADMIN, pair.usb).path, city)

        # (1) 通许 sends 杞县's complainant as a newer version of its own: held, not applied.
        columns = list(theirs)
        newer = theirs | {"name": "王芳（已改）", "version": theirs["version"] + 1}
        taken = Records(own.manifest, {"complainants": (columns, [[newer[c] for c in columns]])})
        before = table_counts(city)
        path = craft_bundle(
            pair.usb / "same-uuid.bbcs",
            tongxu,
            city,
            [(bf.RECORDS_MEMBER, *taken.member())],
            bundle_id=str(uuid.uuid4()),
        )
        report = city.sync.import_file(ADMIN, path)
        assert not report.refused, report.reason
        assert report.conflicts["complainants"] == 1 and report.totals()["updated"] == 0
        (conflict,) = [c for c in city.sync.conflicts() if c.entity_uuid == theirs["uuid"]]
        assert conflict.entity == "complainants" and conflict.site_code == tongxu.code
        assert "记录标识相同" in conflict.reason
        assert _complainant(city, theirs["uuid"]) == (NAME, theirs["version"], qixian.code)
        after = table_counts(city)
        assert after["complainants"] == before["complainants"]
        assert after["sync_conflicts"] == before["sync_conflicts"] + 1

        # (2) A new case of 通许 pointing at 杞县's complainant: the whole bundle is refused.
        cases_columns, case_rows = own.tables["cases"]
        at = cases_columns.index("complainant_id")
        case_rows[0][at] = theirs["uuid"]
        elsewhere = pair.root / "另一个U盘"
        elsewhere.mkdir()
        path = craft_bundle(
            elsewhere / "foreign-complainant.bbcs",
            tongxu,
            city,
            [(bf.RECORDS_MEMBER, *own.member())],
            bundle_id=str(uuid.uuid4()),
        )
        refused(city, path, "bad_content", "其他站点的事项")
    assert _city_ids(city, TONGXU[0]) == set()


# f) search after import ---------------------------------------------------------------------


def test_the_city_finds_a_countys_cases_by_name_after_import(pair: Pair) -> None:
    register(pair.county, 3)
    pair.county.services.intake.register(ADMIN, enterprise_form())  # 杞县丰源农业科技有限公司
    report = pair.city.sync.import_file(ADMIN, pair.county.sync.export(ADMIN, pair.usb).path)
    assert not report.refused and report.added["cases"] == 4
    found = set(pair.city.services.ledger.ids(CaseFilter(text=NAME)))
    assert len(found) == 3 and found <= _city_ids(pair.city, pair.county.code)
    assert len(pair.city.services.ledger.ids(CaseFilter(text="丰源"))) == 1
    assert pair.city.services.ledger.ids(CaseFilter(text="张三")) == []


@pytest.mark.parametrize(
    ("search_index", "found"),
    [
        pytest.param(999, 3, id="made-another-way-is-rebuilt"),
        pytest.param(None, 3, id="no-version-is-rebuilt"),
        # The control: text declared as made the same way is taken as it came.
        pytest.param(search.INDEX_VERSION, 0, id="same-version-is-used-as-sent"),
    ],
)
def test_search_text_made_another_way_is_rebuilt_by_the_city(
    pair: Pair, search_index: int | None, found: int
) -> None:
    register(pair.county, 3)
    records = read_records(pair.county.sync.export(ADMIN, pair.usb).path, pair.city)
    assert records.manifest["search_index"] == search.INDEX_VERSION and records.search
    records.search = [(the_uuid, "x zz y") for the_uuid, _body in records.search]
    path = craft_bundle(
        pair.usb / "other-index.bbcs",
        pair.county,
        pair.city,
        [(bf.RECORDS_MEMBER, *records.member())],
        manifest={"search_index": search_index},
    )
    report = pair.city.sync.import_file(ADMIN, path)
    assert not report.refused and report.added["cases"] == 3, report.reason
    assert len(pair.city.services.ledger.ids(CaseFilter(text=NAME))) == found


# g) the bulk path: indexes dropped and rebuilt ----------------------------------------------


def _indexes(db: Database) -> list[tuple[str, str, str | None]]:
    with db.engine.connect() as connection:
        return [
            (row[0], row[1], row[2])
            for row in connection.exec_driver_sql(
                "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
            )
        ]


def _healthy(db: Database) -> None:
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []


def test_a_bulk_import_rebuilds_the_indexes_it_dropped(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(merge_bulk, "BULK_ROWS", 1)
    dropped: list[str] = []
    drop = merge_bulk.BulkCopy._drop_indexes

    def noting_drop(copier: merge_bulk.BulkCopy, table: str) -> list[str]:
        made_again = drop(copier, table)  # the real thing, noted
        dropped.extend(made_again)
        return made_again

    monkeypatch.setattr(merge_bulk.BulkCopy, "_drop_indexes", noting_drop)
    fresh = Database(f"sqlite:///{pair.root / 'fresh.db'}")
    try:
        fresh.migrate()
        expected = _indexes(fresh)
    finally:
        fresh.dispose()
    secondary = {sql for _name, table, sql in expected if table in SPECS and sql}
    city, county = pair.city, pair.county
    case_ids = populate(county, 4, pair.root)
    first = city.sync.import_file(ADMIN, county.sync.export(ADMIN, pair.usb).path)
    assert not first.refused, first.reason
    assert all(first.added[t] >= 1 for t in SPECS), first.added
    assert set(dropped) == secondary  # every synced table went the bulk way
    assert _indexes(city.services.db) == expected
    _healthy(city.services.db)
    with city.services.db.read() as session:  # the search index is set as FTS5 sets it again
        settings = dict(session.execute(text("SELECT k, v FROM case_search_config")).all())
    assert {k: settings[k] for k in merge_bulk.FTS_DEFAULTS} == merge_bulk.FTS_DEFAULTS
    assert len(city.services.ledger.ids(CaseFilter(text=NAME))) == 4

    # The county takes the acknowledgement; its next bundle carries only what changed.
    assert not county.sync.import_file(ADMIN, Path(first.ack_path)).refused
    county.services.cases.triage(ADMIN, case_ids[1], TRIAGE)
    dropped.clear()
    second = city.sync.import_file(ADMIN, county.sync.export(ADMIN, pair.usb).path)
    assert not second.refused, second.reason
    assert second.updated["cases"] == 1 and second.added["case_events"] >= 1
    assert second.added["cases"] == 0
    assert dropped == []  # a few new rows among many: the indexes are updated in place
    assert _indexes(city.services.db) == expected
    _healthy(city.services.db)
    number = county.services.cases.detail(case_ids[1]).number
    with city.services.db.read() as session:
        area = session.scalar(select(Case.area).where(Case.number == number))
    assert area == TRIAGE.area


# h) the connection is given back as it was --------------------------------------------------


def _pooled_settings(db: Database) -> list[tuple[int, int, int, list[str]]]:
    """cache_size, wal_autocheckpoint, foreign_keys and attached schemas of every idle pooled
    connection."""
    idle = max(1, db.engine.pool.checkedin())  # type: ignore[attr-defined]  # QueuePool
    with contextlib.ExitStack() as stack:
        connections = [stack.enter_context(db.engine.connect()) for _ in range(idle)]
        return [
            (
                c.exec_driver_sql("PRAGMA cache_size").scalar(),
                c.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar(),
                c.exec_driver_sql("PRAGMA foreign_keys").scalar(),
                [row[1] for row in c.exec_driver_sql("PRAGMA database_list")],
            )
            for c in connections
        ]


def test_an_import_gives_the_connection_back_as_it_was(pair: Pair) -> None:
    city, county = pair.city, pair.county
    register(county, 3)
    bundle = county.sync.export(ADMIN, pair.usb).path
    db = city.services.db
    for dry_run in (True, False):
        report = city.sync.import_file(ADMIN, bundle, dry_run=dry_run)
        assert not report.refused, report.reason
        for cache_size, autocheckpoint, foreign_keys, schemas in _pooled_settings(db):
            assert cache_size == -8000
            assert autocheckpoint == 1000
            assert foreign_keys == 1
            assert ATTACHED not in schemas
    # A refused import gives it back too.
    records = read_records(bundle, city)
    bad = records.member(extra_sql=["UPDATE cases SET version = 0"])
    path = craft_bundle(pair.usb / "bad.bbcs", county, city, [(bf.RECORDS_MEMBER, *bad)])
    assert city.sync.import_file(ADMIN, path).code == "bad_content"
    assert all(s[:3] == (-8000, 1000, 1) for s in _pooled_settings(db))

    db.checkpoint()
    with db.engine.connect() as connection:
        busy, wal_frames, copied = connection.exec_driver_sql("PRAGMA wal_checkpoint").one()
    assert busy == 0 and wal_frames == copied  # nothing left in the log to copy
    _healthy(db)


# i) a dry run ------------------------------------------------------------------------------


def test_a_dry_run_changes_nothing_and_reports_what_the_import_does(pair: Pair) -> None:
    county = pair.county
    case_ids = populate(county, 3, pair.root)
    first = _dry_then_real(pair)
    assert first.added["cases"] == 3 and first.added["slips"] == 1
    assert first.added["attachments"] == 1
    # The county takes the acknowledgement and changes a case: the next bundle updates it.
    ack = Path(first.ack_path)
    assert not county.sync.import_file(ADMIN, ack).refused
    ack.unlink()
    county.services.cases.triage(ADMIN, case_ids[1], TRIAGE)
    second = _dry_then_real(pair)
    assert second.updated["cases"] == 1 and second.added["cases"] == 0


def _dry_then_real(pair: Pair) -> ImportReport:
    """Import the county's next bundle twice, dry then real; the reports must agree."""
    bundle = pair.county.sync.export(ADMIN, pair.usb).path
    before = table_counts(pair.city)
    dry = pair.city.sync.import_file(ADMIN, bundle, dry_run=True)
    assert not dry.refused and dry.dry_run, dry.reason
    assert table_counts(pair.city) == before
    assert not list(pair.usb.glob("*.bbcsack"))
    real = pair.city.sync.import_file(ADMIN, bundle)
    assert not real.refused, real.reason
    assert (dry.added, dry.updated, dry.ignored, dry.conflicts, dry.reasons) == (
        real.added,
        real.updated,
        real.ignored,
        real.conflicts,
        real.reasons,
    )
    assert table_counts(pair.city) != before
    return real


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        (PureWindowsPath(r"C:\Users\张三\AppData\Local\Temp\bbcs-1\records.sqlite"), None),
        (PureWindowsPath(r"\\server\share\临时 文件\records.sqlite"), "file:////server/share/"),
        (PurePosixPath("/tmp/数据 #1?/records.sqlite"), "file:/tmp/"),
    ],
)
def test_the_records_file_is_opened_by_a_uri_sqlite_accepts(path: Any, uri: str | None) -> None:
    """A drive path, a UNC temp folder (four slashes: SQLite refuses a URI authority) and
    characters that mean something in a URI."""
    from desktop_app.services.exchange.records_file import _file_uri

    class Fixed(type(path)):  # type: ignore[misc]
        def absolute(self) -> Any:
            return self

    made = _file_uri(Fixed(path))
    assert "?" not in made and "#" not in made and " " not in made
    if uri is None:
        assert made.startswith("file:/C:/Users/")
    else:
        assert made.startswith(uri)


def test_too_little_temporary_space_is_told_plainly_and_changes_nothing(
    shared: Shared, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The records are unpacked to the temporary folder: with less free space than they need,
    the clerk is told before a byte is written."""
    from desktop_app.errors import EnvironmentProblem
    from desktop_app.services.exchange.bundle_file import payload_reader

    real = shutil.disk_usage

    def nearly_full(path: Any) -> Any:
        usage = real(path)
        return usage._replace(free=1024)

    monkeypatch.setattr(payload_reader.shutil, "disk_usage", nearly_full)
    before = table_counts(shared.city)
    with pytest.raises(EnvironmentProblem, match=r"磁盘已满.*本次导入未做任何更改"):
        shared.city.sync.import_file(ADMIN, shared.bundle)
    assert table_counts(shared.city) == before
