"""Database errors a person can act on are told in plain Chinese, sorted by SQLite's result code
(never by the English message); every other error stays a bug with its traceback. Real SQLite
files, really full, read-only, damaged or not a database at all."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from desktop_app.errors import EnvironmentProblem
from desktop_app.services.app import open_services
from desktop_app.services.context import FixedClock
from desktop_app.storage.database import Database

PAGE = 4096


def make_file(path: Path, rows: int = 2000) -> None:
    """A plain SQLite file with one table of ``rows`` rows spread over many pages."""
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA page_size={PAGE}")
    connection.execute("PRAGMA journal_mode=DELETE")
    connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT UNIQUE)")
    connection.executemany(
        "INSERT INTO notes (body) VALUES (?)", [(f"第{i}条 " + "办" * 40,) for i in range(rows)]
    )
    connection.commit()
    connection.close()


def database(path: Path) -> Database:
    return Database(f"sqlite:///{path}")


def test_a_full_disk_is_told_and_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / "full.db"
    make_file(path, rows=10)
    db = database(path)
    with db.read() as session:
        pages = int(session.scalar(text("PRAGMA page_count")) or 0)

    def fill() -> None:
        with db.write() as session:
            # Room for no more pages: what a full disk looks like to SQLite (SQLITE_FULL).
            session.execute(text(f"PRAGMA max_page_count={pages}"))
            for i in range(500):
                session.execute(text("INSERT INTO notes (body) VALUES (:b)"), {"b": f"{i}" * 900})

    with pytest.raises(EnvironmentProblem, match="磁盘空间已满"):
        fill()
    with db.read() as session:
        assert session.scalar(text("SELECT count(*) FROM notes")) == 10
    db.engine.dispose()


def test_a_read_only_database_is_told(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    make_file(path, rows=10)
    db = database(path)
    with pytest.raises(EnvironmentProblem, match="只读"):  # noqa: SIM117
        with db.write() as session:
            session.execute(text("PRAGMA query_only=ON"))
            session.execute(text("INSERT INTO notes (body) VALUES ('x')"))
    db.engine.dispose()


def test_a_damaged_file_is_told_not_shown_as_a_bug(tmp_path: Path) -> None:
    path = tmp_path / "damaged.db"
    make_file(path)
    data = bytearray(path.read_bytes())
    for page in range(2, len(data) // PAGE):  # every page but the schema's: garbage
        start = page * PAGE
        data[start : start + 64] = b"\xa5" * 64
    path.write_bytes(bytes(data))
    db = database(path)
    with pytest.raises(EnvironmentProblem, match="已损坏") as raised:  # noqa: SIM117
        with db.read() as session:
            session.execute(text("SELECT count(*), max(body) FROM notes")).all()
    assert isinstance(raised.value.__cause__.orig, sqlite3.DatabaseError)  # type: ignore[union-attr]
    db.engine.dispose()


def test_a_file_that_is_not_a_database_is_told_at_start(tmp_path: Path, clock: FixedClock) -> None:
    data_dir = tmp_path / "数据"
    data_dir.mkdir()
    (data_dir / "bbcs.db").write_bytes("这不是数据库，是一份被改名的文档。".encode() * 200)
    with pytest.raises(EnvironmentProblem, match="不是有效的数据库文件"):
        open_services(data_dir, clock=clock)


def test_a_bug_stays_a_bug(tmp_path: Path) -> None:
    path = tmp_path / "bug.db"
    make_file(path, rows=10)
    db = database(path)
    with pytest.raises(IntegrityError):  # noqa: SIM117
        with db.write() as session:
            session.execute(
                text("INSERT INTO notes (body) VALUES (:b)"), {"b": "第1条 " + "办" * 40}
            )
    db.engine.dispose()
