"""Record digest formats (issue 15, item 16): a database (or a restored backup) digested in an
older format is brought up to the current one when opened, row by row as each verifies, so a
record changed behind the program's back keeps failing and ``bbcs check`` still names it.
Format 3 covers columns added later (原编号) without changing older rows' digests."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import delete, select, true, update

from desktop_app.domain.settings import RECORD_DIGEST_FORMAT
from desktop_app.paths import DataLayout
from desktop_app.services import integrity, settings
from desktop_app.services.app import AppServices, open_services
from desktop_app.services.backup import restore
from desktop_app.services.context import Actor, FixedClock
from desktop_app.services.data_key import DataKey
from desktop_app.storage.database import Database
from desktop_app.storage.models import AuditEntry, Setting
from tests.helpers.db import raw_connect
from tests.helpers.factories import ADMIN_PASSWORD, USER_PASSWORD, person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401

TAMPERED = "杞县-2026-0002"


@pytest.fixture
def worked(services: AppServices, clerk: Actor) -> Iterator[AppServices]:
    """Three cases registered (with their complainants), the services still open."""
    for title in ("社保转移办不成", "营业执照办不成", "医保报销办不成"):
        services.intake.register(clerk, person_form(title=title))
    yield services


def _digest_key(data_dir: Path) -> bytes:
    return DataKey(data_dir / "keys").subkey(integrity.DIGEST_PURPOSE)


def _to_format_1(data_dir: Path) -> dict[str, list[str]]:
    """Digest every record in format 1 and forget the format, as the first release of issue 15
    left a database; the format-1 digests by table."""
    return _to_format(data_dir, 1)


def _to_format(data_dir: Path, fmt: int) -> dict[str, list[str]]:
    """Digest every record in format ``fmt`` (format 1: and forget the format, as the first
    release of issue 15 left a database; later ones: and store it); the digests by table."""
    digest = integrity.digester(_digest_key(data_dir), fmt)
    connection = raw_connect(data_dir)
    connection.create_function("digest_old", -1, digest)
    try:
        found: dict[str, list[str]] = {}
        # Those releases digested the first tables only (the anchor says so below).
        for name in integrity.DIGESTED_ADDED[2]:
            connection.execute(f"UPDATE {name} SET digest = NULL")
        for name in _FIRST_TABLES:
            signed = integrity._signed_names(integrity._table(name), fmt)
            names = ", ".join(f'"{c}"' for c in signed)
            connection.execute(f"UPDATE {name} SET digest = digest_old('{name}', {names})")
            found[name] = [d for (d,) in connection.execute(f"SELECT digest FROM {name}")]
        connection.execute("DELETE FROM settings WHERE key = ?", (RECORD_DIGEST_FORMAT.key,))
        if fmt > 1:
            connection.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?)",
                (RECORD_DIGEST_FORMAT.key, str(fmt)),
            )
    finally:
        connection.close()
    _anchor_first_tables(data_dir)
    return found


# The tables the releases before migration 0025 digested.
_FIRST_TABLES = [n for n in integrity.DIGESTED if n not in integrity.DIGESTED_ADDED[2]]


def _anchor_first_tables(data_dir: Path) -> None:
    """The anchor as those releases left it: of the first tables' digests."""
    _anchor_at(data_dir, 1)


def _anchor_at(data_dir: Path, tables: int) -> None:
    """The anchor as a release of ``DIGESTED`` version ``tables`` left it."""
    key = DataKey(data_dir / "keys").subkey(integrity.CHAIN_PURPOSE)
    path = data_dir / "keys" / integrity.ANCHOR_FILE
    anchor = integrity.read_anchor(path, key)
    assert anchor is not None
    integrity.write_anchor(path, key, dataclasses.replace(anchor, tables=tables))


def _reopened_check(
    data_dir: Path, clock: FixedClock, hasher: PasswordHasher
) -> tuple[list[str], list[dict[str, object]]]:
    """What check finds at the next open, and the audit log's one-time passes."""
    services = _reopen(data_dir, clock, hasher)
    try:
        problems = services.maintenance.check().problems
        with services.db.read() as session:
            passes = session.scalars(
                select(AuditEntry.after).where(
                    AuditEntry.action == integrity.TABLES_DIGESTED_ACTION
                )
            ).all()
    finally:
        services.close()
    return problems, list(passes)


def _stored_format(data_dir: Path) -> str | None:
    connection = raw_connect(data_dir)
    try:
        row = connection.execute(
            "SELECT value FROM settings WHERE key = ?", (RECORD_DIGEST_FORMAT.key,)
        ).fetchone()
    finally:
        connection.close()
    return None if row is None else str(row[0])


def _digests(data_dir: Path) -> dict[str, list[str]]:
    connection = raw_connect(data_dir)
    try:
        return {
            name: [d for (d,) in connection.execute(f"SELECT digest FROM {name}")]
            for name in _FIRST_TABLES
        }
    finally:
        connection.close()


def _checked_read_only(data_dir: Path) -> tuple[integrity.SiteIntegrity, list[str]]:
    """The site's digests as an open that may not write finds them, and what they show."""
    db = Database(DataLayout(data_dir).database_url())
    try:
        db.refuse_writes("只读")
        integrity.open_site(db, DataKey(data_dir / "keys"), data_dir / "keys")
        site = integrity.site_of(db.engine)
        assert site is not None
        with db.read() as session:
            return site, integrity.verify_records(session, site)
    finally:
        db.dispose()


def _reopen(data_dir: Path, clock: FixedClock, hasher: PasswordHasher) -> AppServices:
    return open_services(data_dir, clock=clock, hasher=hasher)


CURRENT = str(integrity.DIGEST_FORMAT)


def test_a_new_site_digests_in_the_current_format(worked: AppServices) -> None:
    assert _stored_format(worked.layout.root) == CURRENT == "3"
    site = integrity.site_of(worked.db.engine)
    assert site is not None and site.digest_format == integrity.DIGEST_FORMAT == 3
    assert worked.maintenance.check().ok


def test_a_format_1_database_is_upgraded_when_opened(
    worked: AppServices, clock: FixedClock, password_hasher: PasswordHasher
) -> None:
    data_dir = worked.layout.root
    worked.close()
    old = _to_format_1(data_dir)

    services = _reopen(data_dir, clock, password_hasher)
    try:
        report = services.maintenance.check()
        new = _digests(data_dir)
        assert report.ok, report.problems
        assert _stored_format(data_dir) == CURRENT
        for name, digests in old.items():
            assert len(new[name]) == len(digests)
            assert all(a != b for a, b in zip(digests, new[name], strict=True)), name
        # Later writes are digested in the current format and verify.
        admin = services.auth.login("admin", ADMIN_PASSWORD)
        services.intake.register(admin, person_form(title="升级后登记的事项"))
        assert services.maintenance.check().ok
    finally:
        services.close()


def test_a_row_tampered_before_the_upgrade_stays_named(
    worked: AppServices, clock: FixedClock, password_hasher: PasswordHasher
) -> None:
    data_dir = worked.layout.root
    worked.close()
    _to_format_1(data_dir)
    connection = raw_connect(data_dir)
    connection.execute(f"UPDATE cases SET title = '改过的标题' WHERE number = '{TAMPERED}'")
    connection.close()

    services = _reopen(data_dir, clock, password_hasher)
    try:
        report = services.maintenance.check()
    finally:
        services.close()

    assert not report.ok
    assert _stored_format(data_dir) == CURRENT
    named = [
        p for p in report.problems if p.startswith(f"事项 {TAMPERED} 的记录被绕过程序直接改动")
    ]
    assert len(named) == 1 and "title" in named[0], report.problems
    assert len(report.problems) == 1, report.problems  # the others were upgraded and verify


def _open_as_the_first_release(db: Database, site: integrity.SiteIntegrity) -> None:
    """What the release before format 2 did at open: digest in the database's format."""
    with db.read() as session:
        site.digest_format = settings.read(session, RECORD_DIGEST_FORMAT)


def test_a_restored_format_1_backup_is_upgraded(
    worked: AppServices,
    clock: FixedClock,
    password_hasher: PasswordHasher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data_dir = worked.layout.root
    worked.close()
    _to_format_1(data_dir)
    with monkeypatch.context() as patched:
        patched.setattr(integrity, "_upgrade_digests", _open_as_the_first_release)
        old = _reopen(data_dir, clock, password_hasher)
        try:
            admin = old.auth.login("admin", ADMIN_PASSWORD)
            backup = old.backups.backup(admin).backup.path
        finally:
            old.close()
    assert _stored_format(data_dir) is None
    upgraded = _reopen(data_dir, clock, password_hasher)  # the site itself upgrades…
    upgraded.close()
    assert _stored_format(data_dir) == CURRENT

    restore(upgraded.layout, backup, actor=admin, clock=clock)  # …then restores the old backup

    assert _stored_format(data_dir) == CURRENT
    services = _reopen(data_dir, clock, password_hasher)
    try:
        report = services.maintenance.check()
    finally:
        services.close()
    assert report.ok, report.problems


def test_a_read_only_database_keeps_its_format_1_digests(
    worked: AppServices, clock: FixedClock, password_hasher: PasswordHasher
) -> None:
    """Opened where nothing may be written, the digests are checked in the format they are in."""
    data_dir = worked.layout.root
    worked.close()
    old = _to_format_1(data_dir)
    site, problems = _checked_read_only(data_dir)
    assert site.digest_format == 1 and problems == []
    assert _digests(data_dir) == old
    assert _stored_format(data_dir) is None


def test_the_format_2_digest_does_not_depend_on_shared_objects() -> None:
    """The driver may hand over equal values as one object or as two: the bytes hashed are the
    same either way (pickle's memo is off)."""
    digest = integrity.digester(b"k" * 32, 2)
    one = "".join(["ab-", "c"])
    other = "".join(["ab", "-c"])
    assert one == other and one is not other
    assert digest("cases", one, one, 1, None) == digest("cases", one, other, 1, None)
    assert digest("cases", "1") != digest("cases", 1) != digest("cases", None)
    assert digest("cases", "None") != digest("cases", None)


def test_the_format_2_digest_is_stable() -> None:
    """Pinned: a Python whose pickle wrote other bytes would fail every stored digest."""
    digest = integrity.digester(bytes(range(32)), 2)
    value = digest("cases", 1, "社保 \udc80", 2.5, None, b"\x00\xff", -7)
    assert value == PINNED
    assert len(value) == 64


PINNED = "4f4c9c87f17635eadf753f5af09930daa8760eb58518cf5f0864df9675d76b66"


def test_an_unknown_format_edited_into_the_settings_does_not_stop_the_open(
    worked: AppServices, clock: FixedClock, password_hasher: PasswordHasher
) -> None:
    data_dir = worked.layout.root
    worked.close()
    connection = raw_connect(data_dir)
    connection.execute("UPDATE settings SET value = '9' WHERE key = ?", (RECORD_DIGEST_FORMAT.key,))
    connection.close()

    services = _reopen(data_dir, clock, password_hasher)
    try:
        report = services.maintenance.check()
    finally:
        services.close()

    # The open goes on; the setting, digested like every setting, is named as edited.
    assert report.problems == [
        f"设置项“记录校验值格式”（{RECORD_DIGEST_FORMAT.key}） "
        "的记录被绕过程序直接改动（校验值不符）"
    ], report.problems


def test_the_table_name_counts_as_plain_text() -> None:
    """The PostgreSQL path digests with a Table's name (SQLAlchemy's ``quoted_name``), a check
    with the plain name: the two must agree."""
    digest = integrity.digester(b"k" * 32, 2)
    name = integrity._table("sites").name
    assert type(name) is not str
    assert digest(name, "410221", None) == digest("sites", "410221", None)


def test_the_upgrade_on_each_engine_keeps_a_tampered_row_named(
    site_on_engine: AppServices,
) -> None:
    """The same upgrade on PostgreSQL (digests computed in Python there) as on SQLite."""
    services = site_on_engine
    clerk = services.auth.login("clerk1", USER_PASSWORD)
    for title in ("社保转移办不成", "营业执照办不成"):
        services.intake.register(clerk, person_form(title=title))
    site = integrity.site_of(services.db.engine)
    assert site is not None
    digest_1 = integrity.digester(site.digest_key, 1)
    with services.db.write() as session:
        connection = session.connection()  # Core on the connection: no digest at commit
        for name in _FIRST_TABLES:
            t = integrity._table(name)
            for row in integrity._raw_rows(session, t, true(), after=0, limit=10_000, fmt=1):
                connection.execute(
                    update(t).where(t.c.id == row[0]).values(digest=digest_1(name, *row[1:-1]))
                )
        cases = integrity._table("cases")
        connection.execute(
            update(cases).where(cases.c.number == TAMPERED).values(title="改过的标题")
        )
        connection.execute(delete(Setting).where(Setting.key == RECORD_DIGEST_FORMAT.key))

    integrity._upgrade_digests(services.db, site)  # as the next open does

    assert site.digest_format == integrity.DIGEST_FORMAT
    with services.db.read() as session:
        assert settings.read(session, RECORD_DIGEST_FORMAT) == integrity.DIGEST_FORMAT
    report = services.maintenance.check()
    assert len(report.problems) == 1, report.problems
    assert report.problems[0].startswith(f"事项 {TAMPERED} 的记录被绕过程序直接改动")


# Format 3: columns added later ------------------------------------------------------------------

# The columns each digested table had in the release that first digested records (schema 0011,
# read from a database it made; tables added since: their columns when format 3 was set), signed
# in sorted order. Every column added since must be in ``integrity.LATE_COLUMNS`` (signed after
# them, in its order), or every row sealed before it would fail ``bbcs check`` after the upgrade
# — as every case of such a site did once migration 0012 added the issue-16 columns.
FORMAT_3_COLUMNS = Path(__file__).parent / "helpers" / "digest_columns.json"


def test_a_column_added_later_is_signed_after_the_others() -> None:
    frozen: dict[str, list[str]] = json.loads(FORMAT_3_COLUMNS.read_text(encoding="utf-8"))
    for name in integrity.DIGESTED:
        t = integrity._table(name)
        late = list(integrity.LATE_COLUMNS.get(name, ()))
        added = sorted(set(integrity._signed_names(t)) - set(frozen.get(name, [])) - set(late))
        assert not added, (
            f"{name}: new columns {added} must be appended to integrity.LATE_COLUMNS[{name!r}]"
        )
        assert integrity._signed_names(t) == frozen[name] + late


def test_an_empty_late_column_leaves_the_digest_as_it_was() -> None:
    digest = integrity.digester(b"k" * 32, 3)
    assert digest("cases", 1, "社保", None, "") == digest("cases", 1, "社保")
    assert digest("cases", 1, "社保", "QX2023-001") != digest("cases", 1, "社保")
    assert digest("cases", 1, "社保", None, 2) != digest("cases", 1, "社保", 2)


def test_a_format_2_database_is_upgraded_and_then_covers_the_original_number(
    worked: AppServices, clock: FixedClock, password_hasher: PasswordHasher
) -> None:
    """As migration 0014 left a database: 原编号 filled, digests in format 2 (which did not
    cover it). Upgraded at open, every row verifies; 原编号 changed behind the program's
    back is then named."""
    data_dir = worked.layout.root
    worked.close()
    connection = raw_connect(data_dir)
    connection.execute(
        f"UPDATE cases SET original_number = 'QX2023-001' WHERE number = '{TAMPERED}'"
    )
    connection.close()
    _to_format(data_dir, 2)

    services = _reopen(data_dir, clock, password_hasher)
    try:
        report = services.maintenance.check()
    finally:
        services.close()
    assert report.ok, report.problems
    assert _stored_format(data_dir) == CURRENT

    connection = raw_connect(data_dir)
    connection.execute(
        f"UPDATE cases SET original_number = 'QX2023-999' WHERE number = '{TAMPERED}'"
    )
    connection.close()
    services = _reopen(data_dir, clock, password_hasher)
    try:
        report = services.maintenance.check()
    finally:
        services.close()
    named = [p for p in report.problems if p.startswith(f"事项 {TAMPERED} 的记录被绕过程序")]
    assert len(named) == 1 and len(report.problems) == 1, report.problems


def test_format_2_covers_what_the_release_before_format_3_digested() -> None:
    """Format 2 was written (schemas 0012–0014) over every column but the digest, the export
    stamp and 原编号, sorted — spelled out here, apart from the code under test, so that an
    upgraded format-2 database verifies (a review found it did not)."""
    for name in integrity.DIGESTED:
        t = integrity._table(name)
        # Added since: by 0020 and 0024 (unsigned anyway), and 0027's hash of the timeline.
        later = ("departments_answered", "name_key", "events_hash")
        written = sorted(
            c.name for c in t.c if c.name not in ("digest", "change_seq", "original_number", *later)
        )
        assert integrity._signed_names(t, 2) == written, name


# Tables digested since (DIGESTED_ADDED) -------------------------------------------------------


def _as_before_0025(data_dir: Path, admin: Actor, services: AppServices) -> None:
    """A site as the releases before migration 0025 left it: a holiday and a duty leader kept,
    their rows and the settings without digests, the anchor of the first tables."""
    from datetime import date

    from desktop_app.services.roster import DutyRole

    services.calendar.save_override(admin, date(2026, 12, 30), working=False, name="县城停电")
    leader, _ = services.roster.save_staff(admin, name="韩国栋", duty_role=DutyRole.LEADER)
    services.roster.set_shift(admin, date(2026, 12, 1), DutyRole.LEADER, leader.id)
    services.close()
    connection = raw_connect(data_dir)
    try:
        for name in integrity.DIGESTED_ADDED[2]:
            connection.execute(f"UPDATE {name} SET digest = NULL")
    finally:
        connection.close()
    _anchor_first_tables(data_dir)


def _anchor_tables(data_dir: Path) -> int:
    key = DataKey(data_dir / "keys").subkey(integrity.CHAIN_PURPOSE)
    anchor = integrity.read_anchor(data_dir / "keys" / integrity.ANCHOR_FILE, key)
    assert anchor is not None
    return anchor.tables


def test_the_tables_digested_since_get_digests_once_at_the_first_writing_open(
    worked: AppServices, admin: Actor, clock: FixedClock, password_hasher: PasswordHasher
) -> None:
    """Migration 0025's tables: digested at the first open that may write, the anchor then
    records it, and a digest wiped after that is named, never made again by the next open."""
    data_dir = worked.layout.root
    _as_before_0025(data_dir, admin, worked)

    # Read-only first (a check before the window opened): nothing named, nothing written.
    site, problems = _checked_read_only(data_dir)
    assert site.tables == 1 and problems == []
    assert _anchor_tables(data_dir) == 1

    services = _reopen(data_dir, clock, password_hasher)
    try:
        assert services.maintenance.check().ok
        assert _anchor_tables(data_dir) == integrity.DIGESTED_VERSION == 4
        connection = raw_connect(data_dir)
        try:
            for name in integrity.DIGESTED_ADDED[2]:
                missing = connection.execute(
                    f"SELECT count(*) FROM {name} WHERE digest IS NULL"
                ).fetchone()
                assert missing == (0,), name
            # Someone then makes the holiday longer and wipes its digest.
            connection.execute(
                "UPDATE holiday_overrides SET name = '县城停电两天', digest = NULL "
                "WHERE day = '2026-12-30'"
            )
        finally:
            connection.close()
    finally:
        services.close()

    # Another seat of a shared database keeps an anchor of its own, still of the first
    # tables: its first open finds the pass in the audit log and digests nothing again.
    _anchor_first_tables(data_dir)
    problems, passes = _reopened_check(data_dir, clock, password_hasher)
    assert problems == [
        "节假日设置 2026-12-30（放假日，县城停电两天） 没有校验值：可能是绕过程序直接写入数据库的"
    ]
    assert len(passes) == 1 and passes[0]["tables"] == list(integrity.DIGESTED_ADDED[2])
    assert _anchor_tables(data_dir) == integrity.DIGESTED_VERSION

    # A seat joining the database takes nothing on trust either (a restore does).
    db = Database(DataLayout(data_dir).database_url())
    try:
        assert (
            integrity.reanchor(db, DataKey(data_dir / "keys"), data_dir / "keys", restored=False)
            == []
        )
        site = integrity.site_of(db.engine)
        assert site is not None and site.tables == integrity.DIGESTED_VERSION
        with db.read() as session:
            assert len(integrity.verify_records(session, site)) == 1
    finally:
        db.dispose()


def test_a_site_of_the_previous_version_has_its_small_tables_sealed_once(
    worked: AppServices, admin: Actor, clock: FixedClock, password_hasher: PasswordHasher
) -> None:
    """Migration 0026: a site whose calendar, roster and settings carry digests (version 2)
    has them sealed as wholes at its first open that may write, an entry of the audit log;
    a holiday deleted by SQL after that is named, and no later open seals it over."""
    from datetime import date

    data_dir = worked.layout.root
    worked.calendar.save_override(admin, date(2026, 12, 30), working=False, name="县城停电")
    worked.close()
    connection = raw_connect(data_dir)
    try:
        connection.execute("DELETE FROM table_seals")
    finally:
        connection.close()
    _anchor_at(data_dir, 2)

    site, _problems = _checked_read_only(data_dir)
    assert site.tables == 2  # nothing sealed, nothing reported before the writing open

    services = _reopen(data_dir, clock, password_hasher)
    try:
        assert services.maintenance.check().ok
        assert _anchor_tables(data_dir) == integrity.DIGESTED_VERSION
        connection = raw_connect(data_dir)
        try:
            sealed = [n for (n,) in connection.execute("SELECT name FROM table_seals")]
            connection.execute("DELETE FROM holiday_overrides WHERE day = '2026-12-30'")
        finally:
            connection.close()
        assert sorted(sealed) == sorted(integrity.SEALED_SETS)
    finally:
        services.close()
    problems, passes = _reopened_check(data_dir, clock, password_hasher)
    assert [p["version"] for p in passes] == [integrity.DIGESTED_VERSION]
    assert any("2026-12-30 的节假日设置" in p for p in problems), problems


def test_the_cases_of_an_earlier_version_get_their_timelines_hashed_once(
    worked: AppServices, clock: FixedClock, password_hasher: PasswordHasher
) -> None:
    """Migration 0027: a site's cases as version 3 left them (no hash of their 办理记录, sealed
    so) get it at the first open that may write, an entry of the audit log; a line deleted by
    SQL after that is named."""
    data_dir = worked.layout.root
    worked.close()
    connection = raw_connect(data_dir)
    try:
        connection.execute("UPDATE cases SET events_hash = NULL")
    finally:
        connection.close()
    db = Database(DataLayout(data_dir).database_url())
    try:
        integrity.open_site(db, DataKey(data_dir / "keys"), data_dir / "keys")
        site = integrity.site_of(db.engine)
        assert site is not None
        with db.write() as session:
            integrity._seal(session, site, integrity._table("cases"), true())
    finally:
        db.dispose()
    _anchor_at(data_dir, 3)

    services = _reopen(data_dir, clock, password_hasher)
    try:
        assert services.maintenance.check().ok
        assert _anchor_tables(data_dir) == integrity.DIGESTED_VERSION
    finally:
        services.close()
    connection = raw_connect(data_dir)
    try:
        assert connection.execute(
            "SELECT count(*) FROM cases WHERE events_hash IS NULL"
        ).fetchone() == (0,)
        connection.execute("DELETE FROM case_events WHERE id = (SELECT max(id) FROM case_events)")
    finally:
        connection.close()
    again = _reopen(data_dir, clock, password_hasher)
    try:
        problems = again.maintenance.check().problems
    finally:
        again.close()
    assert (
        "事项 杞县-2026-0003 的办理记录与校验值不符：有办理记录被绕过程序删除、增加或改动"
        in problems
    )
