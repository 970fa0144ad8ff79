"""A data dir written before sealing, upgraded (issue 15 item 11, "migrate existing databases"):
after its first open no file in it holds an ID or phone number in clear — not the audit log's
old entries, not the timeline's old lines, not the backups made before — while the audit chain
still checks and the old backup, now encrypted, restores a site that finds the case by its ID.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path

from desktop_app.domain.settings import AUDIT_HEAD, DATA_KEY_FINGERPRINT, SEALED_AT_REST
from desktop_app.paths import DataLayout
from desktop_app.services import audit
from desktop_app.services.app import open_services
from desktop_app.services.backup import list_backups, restore
from desktop_app.services.context import FixedClock
from desktop_app.services.ledger import CaseFilter
from tests.helpers.factories import ADMIN_PASSWORD, USER_PASSWORD, person_form
from tests.helpers.ids import id_number
from tests.helpers.site import CHEAP_HASHER, county_site

KNOWN_ID = id_number("41022119761203456")
KNOWN_PHONE = "13733445566"
OLD_PHONE = "15937112233"  # corrected away before the upgrade: only the history names it
OLD_BACKUP = "bbcs-daily-20261124-090000.db"


def spellings(number: str) -> list[bytes]:
    """Plain text, JSON-escaped text (the same bytes for digits) and UTF-16 either way."""
    escaped = json.dumps(number).strip('"')
    return [
        number.encode("utf-8"),
        escaped.encode("utf-8"),
        number.encode("utf-16-le"),
        number.encode("utf-16-be"),
        " ".join(number.lower()).encode("utf-8"),
    ]


def files_holding(root: Path, numbers: list[str]) -> list[str]:
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [
            f"{path.relative_to(root)}: {n}" for n in numbers for s in spellings(n) if s in data
        ]
    return found


def _clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 25, 9, 0))


def _as_before_sealing(data_dir: Path) -> None:
    """Take a data dir back to how a release before sealing left it, as migration 0010 finds
    it: numbers in clear in the complainants, the audit log (a plain SHA-256 chain) and the
    timeline, no data key, no anchor, no digests; and a plain backup of that in backups/.
    (Built at the head schema: 0010's downgrade cannot take a sealed site back to 0009.)"""
    layout = DataLayout(data_dir)
    db = sqlite3.connect(layout.database)
    try:
        db.execute(
            "UPDATE complainants SET id_number_sealed = ?, phone_sealed = ?, id_lookup = '', "
            "phone_lookup = ''",
            (KNOWN_ID, KNOWN_PHONE),
        )
        for table in ("sites", "users", "departments", "complainants", "cases", "assignments"):
            db.execute(f"UPDATE {table} SET digest = NULL")
        for setting in (SEALED_AT_REST, DATA_KEY_FINGERPRINT):  # neither existed before
            db.execute("DELETE FROM settings WHERE key = ?", (setting.key,))
        # What intake and 更正 wrote before sealing: the numbers as typed.
        db.execute(
            "UPDATE audit_log SET after = ? WHERE entity = 'complainant' AND action = 'create'",
            (json.dumps({"name": "钱伟", "id_number": KNOWN_ID, "phone": OLD_PHONE}),),
        )
        case_id, case_uuid = db.execute("SELECT id, uuid FROM cases").fetchone()
        db.execute(
            "INSERT INTO audit_log (at, user_name, action, entity, entity_uuid, before, after, "
            "prev_hash, hash) VALUES ('2026-11-24 10:00:00.000000', 'clerk1', 'correct', "
            "'complainant', ?, ?, ?, '', '')",
            (
                case_uuid,
                json.dumps({"phone": OLD_PHONE}),
                json.dumps({"phone": KNOWN_PHONE, "reason": f"原号码 {OLD_PHONE} 录错"}),
            ),
        )
        db.execute(
            "INSERT INTO case_events (case_id, at, kind, summary, data, user_name, uuid, "
            "version, origin_site, change_seq) SELECT ?, '2026-11-24 10:00:00.000000', "
            "'corrected', ?, ?, '钱伟', 'e0000000-0000-0000-0000-000000000001', 1, "
            "origin_site, change_seq FROM case_events WHERE case_id = ? LIMIT 1",
            (
                case_id,
                f"更正反映人信息：联系电话：{OLD_PHONE}→{KNOWN_PHONE}。原因：录错",
                json.dumps({"fields": ["phone"], "reason": f"应为 {KNOWN_PHONE}"}),
                case_id,
            ),
        )
        _chain_plain(db)
        db.commit()
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    for name in ("data.key", "audit.anchor"):
        (layout.keys / name).unlink()
    shutil.copyfile(layout.database, layout.backups / OLD_BACKUP)
    assert files_holding(data_dir, [KNOWN_ID, KNOWN_PHONE, OLD_PHONE])  # the test has teeth


def _chain_plain(db: sqlite3.Connection) -> None:
    """The whole chain as a release before the data key computed it (plain SHA-256)."""
    prev = audit.GENESIS
    rows = db.execute(
        "SELECT id, at, user_name, action, entity, entity_uuid, before, after FROM audit_log "
        "ORDER BY id"
    ).fetchall()
    for entry_id, at, user, action, entity, uuid, before, after in rows:
        digest = audit.entry_hash(
            prev,
            datetime.fromisoformat(at),
            user,
            action,
            entity,
            uuid,
            json.loads(before) if before is not None else None,
            json.loads(after) if after is not None else None,
        )
        db.execute(
            "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?", (prev, digest, entry_id)
        )
        prev = digest
    db.execute(
        "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)",
        (AUDIT_HEAD.key, f"{rows[-1][0]}:{prev}"),
    )


def test_an_upgraded_data_dir_keeps_no_number_in_clear_and_its_old_backup_restores(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "site"
    with county_site(data_dir, _clock()) as services:
        clerk = services.auth.login("clerk1", USER_PASSWORD)
        form = person_form(name="钱伟", id_number=KNOWN_ID, phone=KNOWN_PHONE)
        services.intake.register(clerk, form)
    _as_before_sealing(data_dir)

    services = open_services(data_dir, clock=_clock(), hasher=CHEAP_HASHER)
    try:
        admin = services.auth.login("admin", ADMIN_PASSWORD)
        assert services.maintenance.check().problems == []
        (found,) = services.ledger.ids(CaseFilter(text=KNOWN_ID))
        services.db.checkpoint()
    finally:
        services.close()

    numbers = [KNOWN_ID, KNOWN_PHONE, OLD_PHONE]
    assert files_holding(data_dir, numbers) == []
    layout = DataLayout(data_dir)
    backups = {b.path.name: b for b in list_backups(layout.backups)}
    old = backups[OLD_BACKUP.replace(".db", ".bbcsbak")]
    assert old.encrypted and OLD_BACKUP not in backups
    assert all(b.encrypted for b in backups.values())  # the migration's own backup too
    assert not list(layout.backups.glob("*.part"))

    restore(layout, old.path, actor=admin, clock=_clock())
    services = open_services(data_dir, clock=_clock(), hasher=CHEAP_HASHER)
    try:
        assert services.ledger.ids(CaseFilter(text=KNOWN_ID)) == [found]
        admin = services.auth.login("admin", ADMIN_PASSWORD)
        assert services.maintenance.check().problems == []
    finally:
        services.close()


def test_a_restored_backup_from_before_sealing_keeps_no_number_in_its_history(
    tmp_path: Path,
) -> None:
    """The restore anchors the old chain under the site's key, so the next open finds the
    chain keyed; the numbers the old audit log and timeline hold are masked all the same (the
    keyed chain recomputed and re-anchored), and check still passes."""
    data_dir = tmp_path / "site"
    with county_site(data_dir, _clock()) as services:
        clerk = services.auth.login("clerk1", USER_PASSWORD)
        services.intake.register(
            clerk, person_form(name="钱伟", id_number=KNOWN_ID, phone=KNOWN_PHONE)
        )
    _as_before_sealing(data_dir)
    services = open_services(data_dir, clock=_clock(), hasher=CHEAP_HASHER)
    try:
        admin = services.auth.login("admin", ADMIN_PASSWORD)
    finally:
        services.close()
    layout = DataLayout(data_dir)
    old = {b.path.name: b for b in list_backups(layout.backups)}[
        OLD_BACKUP.replace(".db", ".bbcsbak")
    ]

    restore(layout, old.path, actor=admin, clock=_clock())
    services = open_services(data_dir, clock=_clock(), hasher=CHEAP_HASHER)
    try:
        services.auth.login("admin", ADMIN_PASSWORD)
        assert services.maintenance.check().problems == []
        services.db.checkpoint()
    finally:
        services.close()

    assert files_holding(data_dir, [KNOWN_ID, KNOWN_PHONE, OLD_PHONE]) == []
    services = open_services(data_dir, clock=_clock(), hasher=CHEAP_HASHER)
    try:
        assert services.maintenance.check().problems == []
    finally:
        services.close()
