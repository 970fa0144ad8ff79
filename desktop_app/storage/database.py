"""The database: engine set-up, transactions, migrations and the one-writer lock.

SQLite is configured as its documentation advises for durability (WAL, ``synchronous=FULL``,
foreign keys on). Write transactions start with ``BEGIN IMMEDIATE`` so two writers queue on the
lock instead of failing half-way with "database is locked" at commit time.

A city, or a hall with several seats (services/seats.py), may run on PostgreSQL instead
(``postgresql+psycopg://…``). There each write transaction — one user action — first takes one
transaction-scoped advisory lock, so writers of every seat queue exactly as they do on SQLite
and every service's "check, then change" stays correct under READ COMMITTED without retry loops;
readers never wait (MVCC). A schema upgrade also runs alone among the seats
(``SEATS_LOCK_KEY``). Backups there are the server's business (``pg_dump``).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import sqlite3
import sys
import weakref
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import filelock
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from desktop_app.errors import (
    AlreadyRunning,
    DatabaseTooNew,
    DataDirUnwritable,
    EnvironmentProblem,
    unwritable_data_dir,
)
from desktop_app.paths import DataLayout
from desktop_app.system.memory import give_back_freed_memory

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# The newest migration. Start-up compares the database with this instead of loading Alembic
# and parsing every migration script (a tenth of a second); a test keeps it equal to the head
# of migrations/versions.
SCHEMA_HEAD = "0027"

# SQLite: the page cache per connection (negative: KiB), its ceiling while a bundle's records
# are merged, the write-ahead log's checkpoint interval (SQLite's default) and the size the log
# is cut back to after a checkpoint (a first import at the city leaves hundreds of MB in it).
CACHE_KIB = -8000
BULK_CACHE_MAX_KIB = 24 * 1024
WAL_AUTOCHECKPOINT_PAGES = 1000
WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024
# The page size of a new database (an existing one keeps its own): fewer, larger pages make a
# first import at the city a fifth faster (fewer B-tree pages and log frames to write) and
# cost nothing measurable in the ledger, search or a save. A bundle's records file, only ever
# read through from start to end, uses SQLite's largest.
PAGE_SIZE = 16384
RECORDS_PAGE_SIZE = 65536

# PostgreSQL: the advisory lock every write transaction takes (any fixed number; "bbcs" in ASCII),
# and how long a writer waits for it, or for a row lock, before giving up with a plain message
# (SQLite's busy_timeout plays this part there).
WRITER_LOCK_KEY = 0x62626373
LOCK_TIMEOUT_SECONDS = 10
# PostgreSQL, several seats on one database (services/seats.py): every open seat holds this lock
# shared on a connection of its own for as long as it is open; a schema upgrade takes it
# exclusively without waiting, so it runs alone or not at all (an older bbcs still open on
# another PC would fail at its next save under a new schema).
SEATS_LOCK_KEY = 0x62626374

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA page_size={PAGE_SIZE}")  # before the first write only
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute(f"PRAGMA cache_size={CACHE_KIB}")
        cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get("bbcs_write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get("bbcs_write"):
            _take_writer_lock(connection)


def _take_writer_lock(connection: Connection) -> None:
    """One writer at a time on PostgreSQL, released by commit or rollback."""
    connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_SECONDS}s'")
    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITER_LOCK_KEY})")


def parse_url(url: str) -> URL:
    """The SQLAlchemy URL; a bare ``postgresql://`` means psycopg 3, the driver bbcs ships."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        # Not echoed back: it may hold a password.
        raise EnvironmentProblem(
            "数据库地址无效，应形如 postgresql+psycopg://用户:密码@主机:5432/库名"
        ) from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise EnvironmentProblem(
            f"不支持的数据库：{parsed.get_backend_name()}。bbcs 支持 SQLite 和 PostgreSQL。"
        )
    return parsed


def make_engine(url: str) -> Engine:
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            parsed,
            connect_args={"check_same_thread": False, "timeout": 10},
            hide_parameters=True,  # a logged error never carries a search or a form's values
        )
        _configure_sqlite(engine)
        return engine
    try:
        # Text is Unicode end to end, whatever the server or the machine defaults to.
        engine = create_engine(
            parsed,
            pool_pre_ping=True,
            # work_mem: the search index's bitmap of a common word's cases stays exact (a lossy
            # page would recompute every body's grams, storage/search.py); no JIT compiling
            # (~50 ms) for the ledger's short queries.
            connect_args={"client_encoding": "utf8", "options": "-c work_mem=64MB -c jit=off"},
            hide_parameters=True,
        )
    except ImportError as exc:  # e.g. postgresql+psycopg2://, a driver bbcs does not ship
        raise EnvironmentProblem(
            f"没有数据库驱动 {parsed.get_driver_name()}：请用 postgresql+psycopg:// 开头的地址。"
        ) from exc
    _configure_postgresql(engine)
    return engine


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
        self._writes_refused: str | None = None
        self._seat: Connection | None = None
        self._seat_left: weakref.finalize[Any, Any] | None = None

    def hold_seat(self) -> None:
        """PostgreSQL: count this process among the database's open seats until
        :meth:`dispose` (a schema upgrade waits for none and refuses while any is open)."""
        if self.is_sqlite or self._seat is not None:
            return
        connection = self.engine.connect()
        try:
            connection.exec_driver_sql(f"SELECT pg_advisory_lock_shared({SEATS_LOCK_KEY})")
            connection.commit()  # the lock is the session's: it outlives the transaction
        except DBAPIError as exc:
            connection.close()
            problem = self._told(exc)
            if problem is None:
                raise
            raise problem from exc
        self._seat = connection
        # A Database dropped without dispose() (a start-up that failed part way) still closes
        # its seat's connection, the lock with it, when it is collected.
        self._seat_left = weakref.finalize(
            self, _close_seat, connection.connection.dbapi_connection
        )

    def _let_go_of_seat(self) -> None:
        connection, self._seat = self._seat, None
        if connection is None:
            return
        if self._seat_left is not None:
            self._seat_left.detach()
        try:
            connection.exec_driver_sql(f"SELECT pg_advisory_unlock_shared({SEATS_LOCK_KEY})")
            connection.commit()
            connection.close()
        except DBAPIError:
            connection.invalidate()  # never handed on with the lock still held

    def refuse_writes(self, reason: str) -> None:
        """From now on every write is refused with ``reason``: a damaged file is read, never
        written, so that saving does not spread the damage before it is restored."""
        if self._writes_refused is None:
            log.error("database %s is read-only from now on: %s", self.display_url, reason)
        self._writes_refused = reason

    @property
    def writes_refused(self) -> str | None:
        """Why this database is read-only for this process, or None."""
        return self._writes_refused

    def _may_write(self) -> None:
        if self._writes_refused is not None:
            raise EnvironmentProblem(self._writes_refused)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def file_size(self) -> int:
        """Bytes the SQLite database holds on disk, its write-ahead log included (0 on
        PostgreSQL or in memory)."""
        name = self.engine.url.database
        if not self.is_sqlite or not name or name == ":memory:":
            return 0
        total = 0
        for path in (Path(name), Path(f"{name}-wal")):
            with contextlib.suppress(OSError):
                total += path.stat().st_size
        return total

    @property
    def display_url(self) -> str:
        """The URL to show a person: the password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextlib.contextmanager
    def read(self, *, snapshot: bool = False) -> Iterator[Session]:
        """A session that only reads. ``snapshot``: every statement sees the database as at the
        first (PostgreSQL's REPEATABLE READ; a SQLite read transaction does anyway): a check or
        an export that reads the cases, then their timelines, would otherwise take a save
        another seat committed in between for a mismatch, or send a line without its case."""
        session = self._read()
        if snapshot and not self.is_sqlite:
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        try:
            yield session
        except DBAPIError as exc:  # e.g. the PostgreSQL server went away, a damaged file
            problem = self._told(exc)
            if problem is None:
                raise
            raise problem from exc
        finally:
            session.rollback()
            session.close()

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A unit of work: committed if the block ends normally, rolled back otherwise.

        Refused (EnvironmentProblem) once the database is known to be damaged.
        """
        self._may_write()
        with self._unit_of_work(self._write()) as session:
            yield session

    @contextlib.contextmanager
    def _unit_of_work(self, session: Session) -> Iterator[Session]:
        try:
            yield session
            session.commit()
        except DBAPIError as exc:
            session.rollback()
            problem = self._told(exc)
            if problem is None:
                raise
            raise problem from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def _told(self, exc: DBAPIError) -> EnvironmentProblem | None:
        """The plain message for ``exc`` when the user can act on it (a damaged file also stops
        every later write); None for a bug."""
        problem = environment_problem(exc, self.display_url)
        if problem is not None and is_damage(exc):
            self.refuse_writes(DAMAGED_READ_ONLY)
        return problem

    @contextlib.contextmanager
    def attached(self, path: Path, schema: str, *, write: bool) -> Iterator[Session]:
        """A unit of work on SQLite whose connection also sees the database file ``path`` as
        ``schema`` (a bundle's records). ATTACH cannot run inside a transaction, so the session
        gets a connection of its own, attached before it begins and detached after it ends.

        ``write``: take the write lock at the start (an import); otherwise only the attached
        file is written and the clerk can go on saving meanwhile (an export). A write leaves the
        pages it wrote in the write-ahead log, durable: copying them into the database file
        (hundreds of MB after a first import) is left to :meth:`checkpoint`, which the caller
        runs afterwards, in the background, or the next commit.
        """
        if not self.is_sqlite:
            raise RuntimeError("attached() is for SQLite")
        if write:
            self._may_write()
        with self.engine.connect() as connection:
            raw = connection.connection.driver_connection
            assert raw is not None
            size = path.stat().st_size if path.exists() else 0
            cache_kib = min(BULK_CACHE_MAX_KIB, max(-CACHE_KIB, size * 5 // 4 // 1024))
            try:
                raw.execute(f"ATTACH DATABASE ? AS {schema}", (str(path),))
                raw.execute(f"PRAGMA {schema}.page_size={RECORDS_PAGE_SIZE}")  # a new file
                raw.execute(f"PRAGMA {schema}.journal_mode=OFF")  # scratch, checked by hash
                raw.execute(f"PRAGMA {schema}.synchronous=OFF")
                # A larger page cache while a bundle's records are merged, given back after.
                # No more than 24 MB: SQLite sizes the sorter that rebuilds the indexes after
                # the copy from the same setting, so the merge takes up to twice it (and FTS5's
                # 16 MB term buffer beside). With 48 MB the window peaked at 250–260 MB during a
                # first import of 100,000 cases, with 24 MB at 235 MB; the import's CPU time
                # was the same (median 28.6 s of 9 runs against 28.1 s of 7, on a loaded
                # machine), as the secondary indexes are rebuilt after the copy.
                raw.execute(f"PRAGMA main.cache_size={-cache_kib}")
                if write:
                    raw.execute("PRAGMA wal_autocheckpoint=0")
                session = Session(
                    bind=connection.execution_options(bbcs_write=write), expire_on_commit=False
                )
                with self._unit_of_work(session):
                    yield session
            finally:
                self._detach(connection, raw, schema, cache_kib > -CACHE_KIB)

    def _detach(
        self, connection: Connection, raw: sqlite3.Connection, schema: str, shrink: bool
    ) -> None:
        """Give the connection back as it was. Nothing here may turn a committed import into a
        failure: a step that fails is logged, and a connection that cannot be detached is
        dropped from the pool instead of being handed to the next user with the file on it."""
        steps = [
            f"PRAGMA main.cache_size={CACHE_KIB}",
            f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}",
            f"DETACH DATABASE {schema}",
        ]
        try:
            if raw.in_transaction:
                raw.rollback()
            for step in steps:
                raw.execute(step)
        except sqlite3.Error as exc:
            log.warning("could not give the connection back as it was (%s): dropped", exc)
            connection.invalidate()
            return
        if shrink:
            raw.execute("PRAGMA shrink_memory")
            give_back_freed_memory()

    def checkpoint(self) -> None:
        """Copy what the write-ahead log holds into the database file (SQLite; PostgreSQL
        needs nothing). Readers and writers carry on meanwhile."""
        if not self.is_sqlite:
            return
        with self.engine.connect() as connection:
            raw = connection.connection.driver_connection
            assert raw is not None
            raw.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def needs_upgrade(self) -> bool:
        """Whether :meth:`migrate` would change the schema (a new database included), read
        without changing anything; refuses a database made by a newer release."""
        return self._revision_to_upgrade() != SCHEMA_HEAD

    def _revision_to_upgrade(self) -> str | None:
        """The database's revision, SCHEMA_HEAD when it is up to date; refuses a newer one."""
        try:
            current = current_revision(self.engine)
            if not self.is_sqlite:
                self._check_server()
        except DBAPIError as exc:
            problem = self._told(exc)
            if problem is None:
                raise
            raise problem from exc
        if current == SCHEMA_HEAD:
            return current
        known = {rev.revision for rev in _script_directory().walk_revisions()}
        if current is not None and current not in known:
            raise DatabaseTooNew(
                f"数据库版本（{current}）比本程序（支持到 {head_revision()}）更新，"
                "请安装新版 bbcs 后再打开。"
            )
        return current

    def migrate(self, *, backup_dir: Path | None = None, now: datetime | None = None) -> bool:
        """Bring the schema to the newest revision; back up an existing database first.

        Returns True if anything was upgraded. Refuses a database made by a newer release. The
        caller holds the data dir's writer lock (services.app), so that no older bbcs is
        writing to the database while its schema changes.
        """
        current = self._revision_to_upgrade()
        if current == SCHEMA_HEAD:
            return False
        from alembic import command

        head = head_revision()
        if current is not None and not self.is_sqlite:
            # One transaction on PostgreSQL (its DDL is transactional): a failed upgrade leaves
            # the old schema. A copy is still the server's job.
            log.warning("upgrading PostgreSQL schema %s without a backup (use pg_dump)", current)
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
                    if not self.is_sqlite:
                        # Two processes starting at once: the second waits, then finds the
                        # schema already upgraded (Alembic reads the version after the lock).
                        _take_writer_lock(connection)
                        _refuse_upgrade_beside_open_seats(connection)
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

    def _check_server(self) -> None:
        """PostgreSQL must store text as UTF-8: other encodings mangle or refuse Chinese."""
        with self.engine.connect() as connection:
            encoding = connection.exec_driver_sql("SHOW server_encoding").scalar()
        if str(encoding).upper() not in ("UTF8", "UTF-8"):
            name = self.engine.url.database or "bbcs"
            raise EnvironmentProblem(
                f"PostgreSQL 数据库 {name} 的编码是 {encoding}，bbcs 需要 UTF8。请新建一个 UTF8 "
                f"数据库再连接，例如：CREATE DATABASE {name} ENCODING 'UTF8' "
                "TEMPLATE template0;"
            )

    def backup_to(self, target: Path) -> Path:
        """A consistent copy of a live SQLite database (the sqlite3 backup API)."""
        if not self.is_sqlite:
            name = self.engine.url.database or "数据库名"
            raise EnvironmentProblem(
                "数据库在 PostgreSQL 服务器上，bbcs 只能备份本机的 SQLite 数据库文件。"
                f"请在服务器上用 pg_dump 备份，例如：pg_dump -Fc -f bbcs.dump {name}"
                "（恢复用 pg_restore）。材料、密钥仍在数据目录中，请一并备份数据目录。"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(target.suffix + ".part")
        try:
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
            # Never over an older copy of the same name (two upgrades in one second); the
            # writer lock is held, so nobody takes the name in between.
            final = _unused_name(target)
            os.replace(partial, final)
        finally:
            with contextlib.suppress(OSError):
                partial.unlink()  # a failed copy leaves nothing behind
        return final

    def dispose(self) -> None:
        self._let_go_of_seat()
        self.engine.dispose()


def _close_seat(connection: Any) -> None:
    """Close a seat's driver connection left behind (``hold_seat``); the server frees its
    lock."""
    with contextlib.suppress(Exception):
        connection.close()


def _refuse_upgrade_beside_open_seats(connection: Connection) -> None:
    """A schema upgrade on PostgreSQL runs alone: refused while another seat has the database
    open (its next save would fail under the new schema); released with the transaction."""
    if inspect(connection).has_table("alembic_version"):
        version = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        if version == SCHEMA_HEAD:
            return  # another seat upgraded it while this one waited for the lock
    alone = connection.exec_driver_sql(f"SELECT pg_try_advisory_xact_lock({SEATS_LOCK_KEY})")
    if not alone.scalar():
        raise AlreadyRunning(
            "数据库需要升级到本版本的格式，但其他电脑（席位）上的 bbcs 正在使用这个数据库，"
            "此时升级会让它们无法保存。请先关闭其他电脑上的 bbcs，再在本机重新打开。"
            "数据库未作任何改动。"
        )


def _unused_name(target: Path) -> Path:
    """``target``, or ``name-2.db``, ``name-3.db``… if it is taken."""
    candidate, number = target, 1
    while candidate.exists():
        number += 1
        candidate = target.with_name(f"{target.stem}-{number}{target.suffix}")
    return candidate


def _script_directory() -> ScriptDirectory:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config)


# SQLite's primary result codes (the low byte of ``sqlite_errorcode``) that a person can act on,
# with what to tell them. Anything else is a bug and keeps its traceback.
_SQLITE_PROBLEMS: dict[int, str] = {
    sqlite3.SQLITE_FULL: "磁盘空间已满，本次操作未保存。请清理磁盘后重试。",
    sqlite3.SQLITE_READONLY: "数据目录是只读的，无法保存。请检查数据目录的权限。",
    sqlite3.SQLITE_PERM: "没有权限读写数据库文件，无法保存。请检查数据目录的权限。",
    sqlite3.SQLITE_BUSY: "数据库正被另一个程序占用，请稍后重试。",
    sqlite3.SQLITE_LOCKED: "数据库正被另一个程序占用，请稍后重试。",
    sqlite3.SQLITE_IOERR: (
        "读写数据库文件时出错（磁盘故障，或数据目录所在的U盘、网络盘断开），本次操作未完成。"
        "请检查磁盘后重试；数据目录应在本机硬盘上。"
    ),
    sqlite3.SQLITE_CANTOPEN: "无法打开数据库文件：数据目录可能已被移走、改名或没有访问权限。",
    sqlite3.SQLITE_CORRUPT: (
        "数据库文件已损坏，本次操作未完成。请不要继续登记，立即联系维护人员："
        "用数据目录下 backups 文件夹中最近的备份恢复，并用 bbcs check 检查。"
    ),
    sqlite3.SQLITE_NOTADB: (
        "数据目录中的 bbcs.db 不是有效的数据库文件（可能被其他程序覆盖或损坏）。"
        "请联系维护人员用 backups 文件夹中最近的备份恢复。"
    ),
}


# Told when a damaged file was found: this process goes on reading, never writing.
DAMAGED_READ_ONLY = (
    "数据库文件已损坏，为免损坏扩大，现在只能查看，不能保存或修改。"
    "请管理员在“系统设置 → 备份与恢复”中用最近的完好备份恢复"
    "（或关闭程序后运行 bbcs --user 管理员用户名 restore 备份文件），恢复后再继续登记。"
)


def is_damage(exc: DBAPIError) -> bool:
    """A damaged SQLite file (a corrupt page, or not a database at all), not a passing trouble."""
    code = getattr(exc.orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def environment_problem(exc: DBAPIError, display_url: str = "") -> EnvironmentProblem | None:
    """The plain Chinese message for a database error the user can act on (disk full, read-only,
    locked, damaged …), sorted by SQLite's result code or PostgreSQL's SQLSTATE — never by the
    English text of the message. None for an error that is a bug."""
    original = exc.orig
    if original is not None and not isinstance(original, sqlite3.Error):
        text = str(original)
        return _server_problem(exc, text, display_url)
    code = getattr(original, "sqlite_errorcode", None)
    if code is None:
        return None
    primary = code & 0xFF
    if primary in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN) and _no_space_left(display_url):
        # A full disk reaches SQLite as a failed write of its shared-memory or journal file.
        primary = sqlite3.SQLITE_FULL
    message = _SQLITE_PROBLEMS.get(primary)
    if message and primary in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY):
        return DataDirUnwritable(message)  # the file is sound: nothing to check it for
    return EnvironmentProblem(message) if message else None


# Less free than this beside the database, and a failed read or write is taken as a full disk.
_NEARLY_FULL = 64 * 1024


def _no_space_left(display_url: str) -> bool:
    """Whether the SQLite file's folder has (almost) no free space left."""
    try:
        url = make_url(display_url)
    except ArgumentError:
        return False
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return False
    try:
        return shutil.disk_usage(Path(url.database).parent).free < _NEARLY_FULL
    except OSError:
        return False


def _server_problem(exc: DBAPIError, text: str, display_url: str) -> EnvironmentProblem | None:
    """PostgreSQL errors a person can act on, by SQLSTATE; anything else stays a bug."""
    state = getattr(exc.orig, "sqlstate", None) or ""
    reason = text.strip().splitlines()[0] if text.strip() else type(exc.orig).__name__
    if state == "55P03":  # lock_not_available: lock_timeout ran out
        return EnvironmentProblem("数据库正被另一个程序占用，请稍后重试。")
    if state == "53100":  # disk_full
        return EnvironmentProblem("数据库服务器磁盘空间已满，本次操作未保存。请联系管理员清理。")
    if state == "25006":  # read_only_sql_transaction (a standby server)
        return EnvironmentProblem("数据库服务器当前是只读的，无法保存。请连接主服务器。")
    if not state or state.startswith(("08", "28", "57P", "3D")):
        return EnvironmentProblem(
            f"无法连接数据库服务器 {display_url}：{reason}。"
            "请确认 PostgreSQL 服务器正在运行，数据库地址、用户名和密码正确。"
        )
    return None


class InstanceLock:
    """Only one bbcs process writes to a data dir; a second one is told so plainly.

    Two locks, both taken without waiting and both gone with the process that held them: the OS
    lock on ``bbcs.lock`` (filelock), and on POSIX a ``flock`` on the data dir itself. A lock file
    can be deleted under a running writer, and a newcomer would then create and lock a fresh
    ``bbcs.lock``; the folder cannot be swapped out from under the writer without taking the
    database with it. Not the database file: it does not exist before ``init`` and a restore
    replaces it; and ``flock`` rather than ``fcntl`` record locks, which SQLite uses and which a
    process loses whenever any of its descriptors of the file closes. On Windows the held lock
    file is open without delete sharing, so it cannot be deleted while a writer runs.
    """

    # The data dirs whose lock this process holds (open_services migrates only under it).
    _held_here: ClassVar[set[Path]] = set()

    def __init__(self, layout: DataLayout) -> None:
        self._root = layout.root
        self._lock = filelock.FileLock(str(layout.lock_file), timeout=0)
        self._folder_fd: int | None = None

    @classmethod
    def held_by_this_process(cls, layout: DataLayout) -> bool:
        """Whether this process holds ``layout``'s writer lock (a window, a writing command)."""
        return _key(layout.root) in cls._held_here

    def acquire(self) -> None:
        self._hold_folder()
        try:
            self._lock.acquire()
        except filelock.Timeout as exc:
            self._let_go_of_folder()
            raise _already_running() from exc
        except OSError as exc:  # a read-only medium, no permission: not a bug, told plainly
            self._let_go_of_folder()
            raise unwritable_data_dir(exc, self._root) from exc
        except BaseException:
            self._let_go_of_folder()
            raise
        InstanceLock._held_here.add(_key(self._root))

    def release(self) -> None:
        if self._lock.is_locked:
            InstanceLock._held_here.discard(_key(self._root))
        self._lock.release(force=True)
        self._let_go_of_folder()

    def _hold_folder(self) -> None:
        if sys.platform == "win32":
            return
        import fcntl

        try:
            fd = os.open(self._root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError as exc:
            log.warning(
                "cannot open data dir %s to lock it, relying on bbcs.lock: %s", self._root, exc
            )
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                raise _already_running() from exc
            # A file system without flock (some network shares): bbcs.lock still guards.
            log.warning("cannot lock data dir %s, relying on bbcs.lock: %s", self._root, exc)
            return
        self._folder_fd = fd

    def _let_go_of_folder(self) -> None:
        fd, self._folder_fd = self._folder_fd, None
        if fd is not None:
            os.close(fd)  # closing the only descriptor drops its flock

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _key(root: Path) -> Path:
    return Path(os.path.abspath(root))


def _already_running() -> AlreadyRunning:
    return AlreadyRunning(
        "bbcs 已在使用这个数据目录（可能已在另一个窗口中打开）。"
        "请切换到已打开的窗口，或先关闭它再试。"
    )
