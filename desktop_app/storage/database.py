"""The database: engine set-up, transactions, migrations and the one-writer lock.

SQLite is configured as its documentation advises for durability (WAL, ``synchronous=FULL``,
foreign keys on). Write transactions start with ``BEGIN IMMEDIATE`` so two writers queue on the
lock instead of failing half-way with "database is locked" at commit time.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import filelock
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from desktop_app.errors import AlreadyRunning, DatabaseTooNew, EnvironmentProblem
from desktop_app.paths import DataLayout

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# The newest migration. Start-up compares the database with this instead of loading Alembic
# and parsing every migration script (a tenth of a second); a test keeps it equal to the head
# of migrations/versions.
SCHEMA_HEAD = "0003"

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA cache_size=-8000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get("bbcs_write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 10},
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(connection: Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = _script_directory().get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's schema revision, read without loading Alembic."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        version = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        return str(version) if version is not None else None


class Database:
    """One database, with sessions for reading and for writing.

    Services open a session per user action (``with db.write() as session``); nothing else does.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(
            self.engine.execution_options(bbcs_write=True), expire_on_commit=False
        )

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        session = self._read()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A unit of work: committed if the block ends normally, rolled back otherwise."""
        session = self._write()
        try:
            yield session
            session.commit()
        except OperationalError as exc:
            session.rollback()
            raise _environment_problem(exc) from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def migrate(self, *, backup_dir: Path | None = None, now: datetime | None = None) -> bool:
        """Bring the schema to the newest revision; back up an existing database first.

        Returns True if anything was upgraded. Refuses a database made by a newer release.
        """
        current = current_revision(self.engine)
        if current == SCHEMA_HEAD:
            return False
        from alembic import command

        head = head_revision()
        known = {rev.revision for rev in _script_directory().walk_revisions()}
        if current is not None and current not in known:
            raise DatabaseTooNew(
                f"数据库版本（{current}）比本程序（支持到 {head}）更新，请安装新版 bbcs 后再打开。"
            )
        if current is not None and backup_dir is not None and self.is_sqlite:
            stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
            self.backup_to(backup_dir / f"bbcs-before-upgrade-{current}-{stamp}.db")
        with self.engine.connect() as connection:
            raw = connection.connection.driver_connection if self.is_sqlite else None
            if isinstance(raw, sqlite3.Connection):
                # SQLite changes a table by copying it; with foreign keys on, dropping the old
                # copy fails while other tables point at it. Off for the migration (it must be
                # set outside a transaction), checked before commit, back on afterwards.
                raw.execute("PRAGMA foreign_keys=OFF")
            try:
                with connection.begin():
                    command.upgrade(alembic_config(connection), "head")
                    if raw is not None:
                        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                        if broken:
                            raise RuntimeError(f"migration broke foreign keys: {broken[:5]}")
            finally:
                if isinstance(raw, sqlite3.Connection):
                    raw.execute("PRAGMA foreign_keys=ON")
        log.info("database migrated from %s to %s", current, head)
        return True

    def backup_to(self, target: Path) -> Path:
        """A consistent copy of a live SQLite database (the sqlite3 backup API)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(target.suffix + ".part")
        raw = self.engine.raw_connection()
        try:
            source = raw.driver_connection
            assert isinstance(source, sqlite3.Connection)
            destination = sqlite3.connect(partial)
            try:
                source.backup(destination)
            finally:
                destination.close()
        finally:
            raw.close()
        partial.replace(target)
        return target

    def dispose(self) -> None:
        self.engine.dispose()


def _script_directory() -> ScriptDirectory:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config)


def _environment_problem(exc: OperationalError) -> Exception:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    if "disk is full" in text or "database or disk is full" in text:
        return EnvironmentProblem("磁盘空间已满，本次操作未保存。请清理磁盘后重试。")
    if "readonly" in text or "read-only" in text:
        return EnvironmentProblem("数据目录是只读的，无法保存。请检查数据目录的权限。")
    if "locked" in text:
        return EnvironmentProblem("数据库正被另一个程序占用，请稍后重试。")
    return exc


class InstanceLock:
    """Only one bbcs process writes to a data dir; a second one is told so plainly."""

    def __init__(self, layout: DataLayout) -> None:
        self._lock = filelock.FileLock(str(layout.lock_file), timeout=0)

    def acquire(self) -> None:
        try:
            self._lock.acquire()
        except filelock.Timeout as exc:
            raise AlreadyRunning(
                "bbcs 已在使用这个数据目录（可能已在另一个窗口中打开）。"
                "请切换到已打开的窗口，或先关闭它再试。"
            ) from exc

    def release(self) -> None:
        self._lock.release(force=True)

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def copy_file_durably(source: Path, target: Path) -> None:
    """Copy, fsync and rename, so a crash leaves either no file or a whole one."""
    import os

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    with source.open("rb") as reader, partial.open("wb") as writer:
        shutil.copyfileobj(reader, writer, 1024 * 1024)
        writer.flush()
        os.fsync(writer.fileno())
    partial.replace(target)
