"""Migration 0007 backfills ``slips.voided_at`` from the audit log's 作废 (issue 14 review item 3).

A database at 0006 holding voided slips is upgraded to head: a slip voided by this site gets the
time of its assignment's latest ``void`` audit entry; a voided slip with no such entry (e.g. one
received from another site) keeps NULL (shown as 日期未记录); a live slip stays NULL. On SQLite
and, with ``BBCS_TEST_PG_URL``, on PostgreSQL.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import Connection, DateTime, Integer, text

from desktop_app.paths import DataLayout
from desktop_app.storage.database import alembic_config, make_engine

CREATED = datetime(2026, 11, 2, 9, 0)
VOIDED_FIRST = datetime(2026, 11, 3, 10, 15)
VOIDED_AGAIN = datetime(2026, 11, 4, 16, 40)  # the latest 作废 entry is the one kept


def _insert(connection: Connection, table: str, **values: Any) -> int:
    columns = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    return int(
        connection.execute(
            text(f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING id"), values
        ).scalar_one()
    )


def _assignment(connection: Connection, case_id: int, department_id: int, uuid: str) -> int:
    return _insert(
        connection,
        "assignments",
        case_id=case_id,
        department_id=department_id,
        kind="assign",
        state="voided",
        requirements="请依法办理",
        due_start=date(2026, 11, 2),
        working_days=5,
        due_date=date(2026, 11, 9),
        original_due_date=date(2026, 11, 9),
        deadline_note="",
        created_at=CREATED,
        created_by="张敏",
        signer_name="潘险峰",
        received_by="",
        response="",
        extension_state="",
        extension_reason="",
        returned_reason="",
        uuid=uuid,
        version=1,
    )


def _slip(connection: Connection, assignment_id: int, seq: int, *, voided: bool) -> int:
    return _insert(
        connection,
        "slips",
        assignment_id=assignment_id,
        kind="assign",
        number=f"杞办交〔2026〕{seq}号",
        year=2026,
        seq=seq,
        content="{}",
        content_hash="0" * 64,
        qr_payload="",
        issued_at=CREATED,
        print_count=1,
        voided=voided,
        void_reason="交办单位写错" if voided else "",
        uuid=f"00000000-0000-0000-0000-00000000000{seq}",
        version=1,
    )


def _audit(connection: Connection, action: str, uuid: str, at: datetime) -> None:
    _insert(
        connection,
        "audit_log",
        at=at,
        user_name="leader1",
        action=action,
        entity="assignment",
        entity_uuid=uuid,
        prev_hash="0" * 64,
        hash=f"{at.isoformat()}{action}{uuid}"[:64],
    )


def test_voided_slips_get_the_time_of_their_void_entry(data_dir: Path, db_url: str | None) -> None:
    engine = make_engine(db_url or DataLayout(data_dir).database_url())
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0006")
        with engine.begin() as connection:
            _insert(
                connection,
                "sites",
                code="410221",
                name="杞县办不成事监督窗口",
                short_name="杞县",
                level="county",
                is_local=True,
                is_demo=False,
                slip_prefix="",
                created_at=CREATED,
            )
            department = _insert(
                connection,
                "departments",
                name="杞县医疗保障局",
                principal_leader="王主任",
                contact_person="",
                contact_phone="",
                active=True,
                uuid="d0000000-0000-0000-0000-000000000001",
                version=1,
            )
            person = _insert(
                connection,
                "complainants",
                kind="person",
                name="王芳",
                id_number="",
                credit_code="",
                contact_person="",
                phone="13800001234",
                address="",
                id_override_reason="",
                uuid="c0000000-0000-0000-0000-000000000001",
                version=1,
            )
            case = _insert(
                connection,
                "cases",
                site_code="410221",
                year=2026,
                seq=1,
                number="杞县-2026-0001",
                complainant_id=person,
                title="医保报销材料反复退回",
                description="",
                area="医保社保",
                channel="窗口",
                stuck_at="",
                visits_count=1,
                received_at=CREATED,
                status="in_progress",
                causes="[]",
                updated_at=CREATED,
                uuid="e0000000-0000-0000-0000-000000000001",
                version=1,
            )
            voided_uuid = "a0000000-0000-0000-0000-000000000001"
            unrecorded_uuid = "a0000000-0000-0000-0000-000000000002"
            live_uuid = "a0000000-0000-0000-0000-000000000003"
            voided = _slip(
                connection, _assignment(connection, case, department, voided_uuid), 1, voided=True
            )
            unrecorded = _slip(
                connection,
                _assignment(connection, case, department, unrecorded_uuid),
                2,
                voided=True,
            )
            live = _slip(
                connection, _assignment(connection, case, department, live_uuid), 3, voided=False
            )
            _audit(connection, "sign", voided_uuid, CREATED)
            _audit(connection, "void", voided_uuid, VOIDED_FIRST)
            _audit(connection, "void", voided_uuid, VOIDED_AGAIN)
            _audit(connection, "sign", unrecorded_uuid, VOIDED_AGAIN)  # not a 作废
            _audit(connection, "void", live_uuid, VOIDED_FIRST)  # its slip is not voided

        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                # As Database.migrate upgrades: a later migration copies a table others point at.
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
            with connection.begin():
                command.upgrade(alembic_config(connection), "head")

        with engine.connect() as connection:
            voided_at = dict(
                (row.id, row.voided_at)
                for row in connection.execute(
                    text("SELECT id, voided_at FROM slips").columns(id=Integer, voided_at=DateTime)
                )
            )
    finally:
        engine.dispose()
    assert voided_at == {voided: VOIDED_AGAIN, unrecorded: None, live: None}
