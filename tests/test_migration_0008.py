"""Migration 0008 gives every existing user a count of failed log-ins and a lock-out time
(issue 15 item 9): a database at 0007 with users is upgraded to head, each user starts with no
failures and unlocked, and still logs in. On SQLite and, with ``BBCS_TEST_PG_URL``, PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from alembic import command
from sqlalchemy import text

from desktop_app.paths import DataLayout
from desktop_app.services.app import open_services
from desktop_app.services.context import FixedClock
from desktop_app.storage.database import alembic_config, make_engine
from tests.helpers.speed import CHEAP_HASHER

CREATED = datetime(2026, 11, 2, 9, 0)


def test_users_at_0007_start_unlocked_with_no_failures(data_dir: Path, db_url: str | None) -> None:
    engine = make_engine(db_url or DataLayout(data_dir).database_url())
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0007")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO sites (code, name, short_name, level, is_local, is_demo,"
                    " slip_prefix, created_at) VALUES ('410221', '杞县办不成事监督窗口', '杞县',"
                    " 'county', :yes, :no, '', :at)"
                ),
                {"yes": True, "no": False, "at": CREATED},
            )
            for number, (username, role) in enumerate(
                [("admin", "admin"), ("clerk1", "clerk")], start=1
            ):
                connection.execute(
                    text(
                        "INSERT INTO users (username, display_name, role, password_hash, active,"
                        " phone, created_at, uuid, version) VALUES (:username, :username,"
                        " :role, :hash, :yes, '', :at, :uuid, 1)"
                    ),
                    {
                        "username": username,
                        "role": role,
                        "hash": CHEAP_HASHER.hash("Before0008"),
                        "yes": True,
                        "at": CREATED,
                        "uuid": f"b0000000-0000-0000-0000-00000000000{number}",
                    },
                )

        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")

        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT username, failed_logins, locked_until FROM users ORDER BY id")
            ).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in rows] == [("admin", 0, None), ("clerk1", 0, None)]

    services = open_services(
        data_dir, clock=FixedClock(CREATED), db_url=db_url, hasher=CHEAP_HASHER
    )
    try:
        assert services.auth.login("clerk1", "Before0008").username == "clerk1"
    finally:
        services.close()
