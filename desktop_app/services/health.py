"""Is the database file sound? The start-up check, and what a damaged file means for the session.

SQLite's own checks, as its documentation advises: ``PRAGMA quick_check`` at every start of the
window (it reads every page: ~4 s for a cold 100,000-case database, so it runs on a worker after
the window is up), and the thorough ``PRAGMA integrity_check`` (indexes against their tables as
well) after a writer did not close cleanly and once a week. A damaged file is then only read:
every write is refused with a plain message until it is restored from a good backup.

A writer (the window, a writing command; whoever holds the data dir's lock) leaves
:attr:`DataLayout.open_marker` while it runs; one found at open means the last writer crashed or
lost power. The marker stays until a thorough check has passed, so a command that opened the
database after the crash does not hide it from the next window.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from desktop_app.domain.settings import LAST_INTEGRITY_CHECK
from desktop_app.errors import UserError
from desktop_app.paths import DataLayout
from desktop_app.services import settings
from desktop_app.services.context import Clock
from desktop_app.services.data_key import DataKey
from desktop_app.services.keys import SiteKeys
from desktop_app.storage.database import DAMAGED_READ_ONLY, Database

log = logging.getLogger(__name__)

# The thorough check at least this often, besides after an unclean shutdown.
THOROUGH_CHECK_EVERY = timedelta(days=7)
# SQLite stops after this many problems; enough to tell a person what is wrong.
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class HealthReport:
    """What one check of the database file found."""

    thorough: bool  # integrity_check (else quick_check)
    problems: tuple[str, ...]
    seconds: float
    checked: bool = True  # False where bbcs does not check the file (PostgreSQL: the server's)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def kind(self) -> str:
        return "全面检查" if self.thorough else "快速检查"

    def summary(self) -> str:
        """One line for the status bar or a command's output."""
        if not self.checked:
            return "数据库在服务器上，由服务器检查"
        if self.ok:
            return f"数据库{self.kind}正常（用时 {self.seconds:.1f} 秒）"
        found = f"{self.kind}发现 {len(self.problems)} 处问题"
        return f"数据库已损坏（{found}），现在只能查看，不能保存"


def check_file(path: Path, *, thorough: bool = True, at_rest: bool = False) -> HealthReport:
    """Check a database file that bbcs may not be able to open at all (``bbcs check`` on a file
    that is damaged or not a database): read-only, nothing written, not even a ``-wal``.
    ``at_rest``: a file nothing writes (a backup): opened immutable, so no ``-shm`` or ``-wal``
    is made beside it (a walk found them beside the backups after the search for a good one)."""
    started = time.perf_counter()
    problems: tuple[str, ...]
    options = "mode=ro&immutable=1" if at_rest else "mode=ro"
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?{options}", uri=True)
    except sqlite3.Error as exc:
        return HealthReport(thorough, (f"无法打开数据库文件：{exc}",), 0.0)
    try:
        problems = _run(connection, thorough)
    except sqlite3.DatabaseError as exc:
        problems = (_plain(exc),)
    finally:
        connection.close()
    return HealthReport(thorough, problems, time.perf_counter() - started)


class DatabaseHealth:
    """The start-up check of one data dir's database, and its open marker."""

    def __init__(self, db: Database, layout: DataLayout, clock: Clock) -> None:
        self._db = db
        self._layout = layout
        self._clock = clock
        self._marked = False
        self.unclean_shutdown = False
        self._thorough_passed = False

    # The open marker ---------------------------------------------------------------------------

    def mark_open(self) -> None:
        """Called by the writer (the lock's holder) when it opens the database."""
        marker = self._layout.open_marker
        self.unclean_shutdown = marker.exists()
        if self.unclean_shutdown:
            log.warning("the last writer did not close cleanly: a full integrity check is due")
        try:
            marker.write_text(f"{self._clock.now().isoformat()}\n", encoding="ascii")
        except OSError as exc:  # a read-only data dir is told by the first save
            log.warning("cannot write %s: %s", marker, exc)
            return
        self._marked = True

    def mark_closed(self) -> None:
        """A clean close: the marker goes, unless a crash before this session still awaits its
        thorough check (a command that only opened the database did not run it)."""
        if not self._marked or (self.unclean_shutdown and not self._thorough_passed):
            return
        with contextlib.suppress(OSError):
            self._layout.open_marker.unlink()
        self._marked = False

    # The check ---------------------------------------------------------------------------------

    def thorough_check_due(self) -> bool:
        """After an unclean shutdown, when no thorough check is on record, or a week after it."""
        if self.unclean_shutdown:
            return True
        try:
            with self._db.read() as session:
                last = settings.read(session, LAST_INTEGRITY_CHECK)
        except UserError:
            return True  # the file cannot be read: the check will say why
        try:
            when = datetime.fromisoformat(last)
        except ValueError:
            return True
        return self._clock.now() - when >= THOROUGH_CHECK_EVERY

    def startup_check(self) -> HealthReport:
        """The check a window runs after it opens (on a worker): thorough when due, else quick."""
        return self.check(thorough=self.thorough_check_due())

    def check(self, *, thorough: bool) -> HealthReport:
        """Check the database; a damaged one is read-only from now on (:meth:`Database.write`
        refuses). A passed thorough check is remembered for the weekly rule."""
        if not self._db.is_sqlite:
            return HealthReport(thorough, (), 0.0, checked=False)
        started = time.perf_counter()
        try:
            with self._db.engine.connect() as connection:
                raw = connection.connection.driver_connection
                assert isinstance(raw, sqlite3.Connection)
                problems = _run(raw, thorough)
        except DBAPIError as exc:
            if not isinstance(exc.orig, sqlite3.DatabaseError):
                raise
            problems = (_plain(exc.orig),)
        except sqlite3.DatabaseError as exc:
            problems = (_plain(exc),)
        report = HealthReport(thorough, problems, time.perf_counter() - started)
        log.info("database %s: %s", "integrity_check" if thorough else "quick_check", problems)
        if not report.ok:
            self._db.refuse_writes(DAMAGED_READ_ONLY)
            return report
        if thorough:
            self._thorough_passed = True
            self._remember_thorough_check()
        return report

    def _remember_thorough_check(self) -> None:
        if self._db.writes_refused is not None:
            return
        try:
            with self._db.write() as session:
                settings.store(session, LAST_INTEGRITY_CHECK, self._clock.now().isoformat())
        except UserError as exc:  # e.g. a full disk: the next start checks thoroughly again
            log.warning("cannot remember the integrity check: %s", exc.message)

    def explanation(self, report: HealthReport) -> str:
        """What a person is told about a damaged database, and what to do."""
        # SQLite's own words ("On tree page 137 cell 28: Rowid 7655 out of order") help the one
        # who mends it, not the clerk: they go to the log file.
        log.warning("database damaged: %s", "; ".join(report.problems[:20]))
        return (
            f"启动时的数据库{report.kind}发现数据库文件已损坏"
            "（详细情况已写入日志 logs/bbcs.log）。\n\n"
            "为免损坏扩大，本次只能查看，不能保存或修改。请不要继续登记，"
            "由管理员登录后在“系统设置 → 备份与恢复”中用最近的完好备份恢复"
            "（恢复前的数据库会先另存一份）。\n\n"
            f"备份文件夹：{self._layout.backups}"
        )

    @property
    def backups_folder(self) -> Path:
        return self._layout.backups

    def newest_good_backup(self) -> Path | None:
        return newest_good_backup(self._layout)


def newest_good_backup(layout: DataLayout) -> Path | None:
    """The newest backup in the data dir's ``backups`` that restore would accept: this site's
    MAC verified and ``quick_check`` passed, newest first by the time in its name. An encrypted
    one (``.bbcsbak``: every backup made before the upgrade to sealing is one) is decrypted with
    the site's private keys into a temporary copy for both checks. Seconds for a large one, so
    on a worker. None when there is none."""
    from desktop_app.services.backup import list_backups, open_copy, scratch_file

    data_key = DataKey(layout.keys)
    if not data_key.exists():
        return None
    try:
        identities = list(SiteKeys(layout.keys).decryption_keys().values())
    except (UserError, OSError) as exc:
        log.warning("encrypted backups not checked, the site's keys cannot be read: %s", exc)
        identities = []
    for backup in list_backups(layout.backups):
        if not backup.encrypted:
            if _good(backup.path, backup.path, data_key):
                return backup.path
            continue
        if not identities:
            continue
        try:
            temp = scratch_file(layout.backups)
        except OSError:
            return None
        try:
            try:
                open_copy(backup.path, temp, identities)
            except (UserError, OSError) as exc:
                log.warning("backup %s cannot be decrypted: %s", backup.path, exc)
                continue
            if _good(backup.path, temp, data_key):
                return backup.path
        finally:
            with contextlib.suppress(OSError):
                temp.unlink()
    return None


def _good(backup: Path, database: Path, data_key: DataKey) -> bool:
    from desktop_app.services.backup import mac_verified

    return (
        mac_verified(backup, database, data_key)
        and check_file(database, thorough=False, at_rest=True).ok
    )


def _run(connection: sqlite3.Connection, thorough: bool) -> tuple[str, ...]:
    pragma = "integrity_check" if thorough else "quick_check"
    rows = [str(row[0]) for row in connection.execute(f"PRAGMA {pragma}({MAX_PROBLEMS})")]
    return () if rows == ["ok"] else tuple(rows)


def _plain(exc: sqlite3.DatabaseError) -> str:
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if code == sqlite3.SQLITE_NOTADB:
        return "这不是有效的数据库文件（可能被其他程序覆盖或损坏）"
    if code == sqlite3.SQLITE_CORRUPT:
        return f"数据库文件已损坏（{exc}）"
    return f"无法读取数据库文件（{exc}）"
