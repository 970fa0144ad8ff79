"""Looking at the database behind the services' back: row counts, audit entries, raw SQLite.

Tests use these to check what was (or was not) written, never to set up what a service can do.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from desktop_app.services.app import AppServices
from desktop_app.storage.models import AuditEntry


def count_rows(services: AppServices, table: str) -> int:
    """Rows in ``table`` (a fixed name from the test, not user input)."""
    with services.db.read() as session:
        return int(session.scalar(text(f"SELECT count(*) FROM {table}")) or 0)


def audit_entries(services: AppServices, entity_uuid: str) -> list[dict[str, Any]]:
    """The audit log entries about one record, oldest first, as plain dicts."""
    with services.db.read() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.entity_uuid == entity_uuid).order_by(AuditEntry.id)
        ).all()
        return [
            {
                "id": e.id,
                "action": e.action,
                "entity": e.entity,
                "user_name": e.user_name,
                "before": e.before,
                "after": e.after,
            }
            for e in entries
        ]


def audit_count(services: AppServices) -> int:
    with services.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def raw_connect(data_dir: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection to the data dir's database (autocommit)."""
    return sqlite3.connect(data_dir / "bbcs.db", isolation_level=None, timeout=10)


def case_seqs(data_dir: Path, year: int) -> list[int]:
    """The sequence numbers of the cases of ``year``, ascending."""
    connection = raw_connect(data_dir)
    try:
        rows = connection.execute(
            "SELECT seq FROM cases WHERE year = ? ORDER BY seq", (year,)
        ).fetchall()
    finally:
        connection.close()
    return [r[0] for r in rows]
