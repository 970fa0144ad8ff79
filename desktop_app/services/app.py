"""Opening a data dir: the services a window or a command works with.

Not a global: the CLI and the GUI each build one and pass it to what needs it.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_app.errors import AlreadyRunning, EnvironmentProblem, unwritable_data_dir
from desktop_app.files import create_private_files, make_private
from desktop_app.paths import DataLayout
from desktop_app.services import integrity, seats
from desktop_app.services.assignments import AssignmentService
from desktop_app.services.attachments import AttachmentStore, SharedMaterials
from desktop_app.services.audit_log import AuditLogService
from desktop_app.services.auth import AuthService, production_hasher
from desktop_app.services.calendar import CalendarService
from desktop_app.services.cases import CaseService
from desktop_app.services.context import Clock, SystemClock
from desktop_app.services.corrections import CorrectionService
from desktop_app.services.data_key import DataKey
from desktop_app.services.deadlines import DeadlineBoard
from desktop_app.services.health import DatabaseHealth
from desktop_app.services.intake import IntakeService
from desktop_app.services.keys import SiteKeys
from desktop_app.services.ledger import LedgerService
from desktop_app.services.maintenance import MaintenanceService
from desktop_app.services.roster import RosterService
from desktop_app.services.sealing import Sealer, open_sealer
from desktop_app.services.site import SiteService
from desktop_app.services.slip_register import SlipRegister
from desktop_app.storage.database import Database, InstanceLock

if TYPE_CHECKING:
    from argon2 import PasswordHasher

    from desktop_app.services.backup import BackupService
    from desktop_app.services.bulletins import BulletinService
    from desktop_app.services.classes import ClassService
    from desktop_app.services.exchange import ExchangeService
    from desktop_app.services.meetings import MeetingService
    from desktop_app.services.reference import ReferenceService
    from desktop_app.services.referrals import ReferralService
    from desktop_app.services.scorecards import ScorecardService
    from desktop_app.services.screening import ScreeningService
    from desktop_app.services.statistics import StatisticsService
    from desktop_app.services.supervision import SupervisionQueries

log = logging.getLogger(__name__)


@dataclass
class AppServices:
    layout: DataLayout
    db: Database
    clock: Clock
    attachments: AttachmentStore
    keys: SiteKeys
    data_key: DataKey
    sealer: Sealer
    calendar: CalendarService
    deadlines: DeadlineBoard
    roster: RosterService
    site: SiteService
    auth: AuthService
    intake: IntakeService
    cases: CaseService
    corrections: CorrectionService
    ledger: LedgerService
    assignments: AssignmentService
    maintenance: MaintenanceService
    slips: SlipRegister
    health: DatabaseHealth
    audit_log: AuditLogService

    @functools.cached_property
    def sync(self) -> ExchangeService:
        """Built on first use: the exchange code is not needed to open the window."""
        from desktop_app.services.exchange import ExchangeService

        return ExchangeService(self.db, self.clock, self.keys, self.attachments, self.sealer)

    # Supervision (issue 16) ----------------------------------------------------------------

    @functools.cached_property
    def referrals(self) -> ReferralService:
        """问责: referrals, their letters and decisions."""
        from desktop_app.services.referrals import ReferralService

        return ReferralService(self.db, self.clock, self.sealer)

    @functools.cached_property
    def screening(self) -> ScreeningService:
        """甄别不予受理/转办 and its notice."""
        from desktop_app.services.screening import ScreeningService

        return ScreeningService(self.db, self.clock, self.sealer)

    @functools.cached_property
    def reference(self) -> ReferenceService:
        """The reference lists the forms choose from (cause codes)."""
        from desktop_app.services.reference import ReferenceService

        return ReferenceService(self.db)

    @functools.cached_property
    def classes(self) -> ClassService:
        """一类事 and early warnings."""
        from desktop_app.services.classes import ClassService

        return ClassService(self.db, self.clock)

    @functools.cached_property
    def meetings(self) -> MeetingService:
        """联席会议, their minutes and follow-up assignments."""
        from desktop_app.services.meetings import MeetingService

        return MeetingService(self.db, self.clock)

    @functools.cached_property
    def supervision(self) -> SupervisionQueries:
        """The counts and lists the dashboard, scorecards and bulletins share."""
        from desktop_app.services.supervision import SupervisionQueries

        return SupervisionQueries(self.db, self.clock, self.calendar)

    @functools.cached_property
    def scorecards(self) -> ScorecardService:
        """Department scorecards and the 量化管理评分表 (issue 17)."""
        from desktop_app.services.scorecards import ScorecardService

        return ScorecardService(self.db, self.clock, self.calendar)

    @functools.cached_property
    def statistics(self) -> StatisticsService:
        """Period statistics for the bulletins (issue 17), on the supervision layer."""
        from desktop_app.services.statistics import StatisticsService

        return StatisticsService(self.db, self.clock, self.calendar)

    @functools.cached_property
    def bulletins(self) -> BulletinService:
        """分析通报: numbered bulletins from the period statistics (issue 17)."""
        from desktop_app.services.bulletins import BulletinService

        return BulletinService(self.db, self.clock, self.statistics)

    @functools.cached_property
    def backups(self) -> BackupService:
        """Backups, their retention and the recovery key (issue 15, A1)."""
        from desktop_app.services.backup import BackupService

        return BackupService(self.db, self.clock, self.layout, self.keys, self.data_key)

    def change_watcher(self) -> seats.ChangeWatcher:
        """What other seats of this database change from now on (several seats on one server)."""
        return seats.ChangeWatcher(self.db)

    def close(self) -> None:
        self.db.dispose()
        self.health.mark_closed()


def instance_lock(data_dir: Path) -> InstanceLock:
    """The lock that keeps a second bbcs (window or command) off this data dir while one works
    in it; ``acquire()`` refuses with a plain message."""
    return InstanceLock(DataLayout(data_dir))


def open_services(
    data_dir: Path,
    *,
    clock: Clock | None = None,
    db_url: str | None = None,
    hasher: PasswordHasher | None = None,
) -> AppServices:
    """Create the data dir if needed, migrate the database (backing it up first), wire services.

    The schema is upgraded only under the data dir's writer lock (see :func:`_migrate`). What is
    created is private to the user (POSIX: 0700 folders, 0600 files), and an existing data dir
    is made so. ``hasher`` hashes passwords (default: argon2id at the production cost); tests
    pass a cheap one.
    """
    layout = DataLayout(data_dir)
    create_private_files()
    try:
        for folder in (layout.root, layout.attachments, layout.backups, layout.logs):
            folder.mkdir(parents=True, exist_ok=True)
        _keep_private(layout)
        # A data dir on a read-only medium cannot be used even to read (SQLite's -shm file):
        # found here, it is told as such, not as a missing or damaged database.
        with tempfile.TemporaryFile(dir=layout.root):
            pass
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise EnvironmentProblem(f"磁盘空间已满，无法创建数据目录 {data_dir}") from exc
        raise unwritable_data_dir(exc, data_dir) from exc
    the_clock = clock or SystemClock()
    db = Database(db_url or layout.database_url())
    health = DatabaseHealth(db, layout, the_clock)
    if db.is_sqlite and InstanceLock.held_by_this_process(layout):
        health.mark_open()  # the writer: a crash from here on asks for a full check next start
    try:
        _migrate(db, layout, the_clock.now())
    except BaseException:
        db.dispose()  # a refused database leaves no pooled connection (a server's) open
        health.mark_closed()
        raise
    db.hold_seat()  # PostgreSQL: one of the site's open seats (a schema upgrade waits for none)
    data_key = DataKey(layout.keys)
    # Materials are kept in the database (every backup holds them; on PostgreSQL every seat
    # reads them); the folder caches.
    shared = SharedMaterials(db, data_key)
    attachments = AttachmentStore(layout.attachments, shared)
    if data_key.exists():
        # Before anything writes: audit entries are chained and records digested with it.
        integrity.open_site(db, data_key, layout.keys)
    calendar = CalendarService(db, the_clock)
    try:
        # Deadlines computed under an older calendar (an upgrade that changed how days count)
        # are recomputed before anything reads them — the window and every command alike.
        moved = calendar.bring_deadlines_up_to_date()
    except BaseException:
        db.dispose()
        health.mark_closed()
        raise
    if moved:
        log.info("recomputed %d deadlines under the current calendar", len(moved))
    keys = SiteKeys(layout.keys, clock=the_clock)
    try:
        # A missing key beside sealed data is refused, never replaced; old numbers sealed once.
        sealer = open_sealer(
            db,
            data_key,
            after_sealing=functools.partial(_encrypt_old_backups, layout, keys, data_key),
        )
        if integrity.site_of(db.engine) is None:  # the key was made just now
            integrity.open_site(db, data_key, layout.keys, first_time=True)
        # PostgreSQL: the signing keys are the site's, kept in the database for every seat.
        seats.share_site_keys(db, data_key, keys)
        # What only this data dir's folder had (SQLite's materials before they were kept in
        # the database; a seat's): by the process that may write.
        may_write = db.writes_refused is None and (
            not db.is_sqlite or InstanceLock.held_by_this_process(layout)
        )
        if may_write and attachments.share_local_copies():
            log.info("materials from this data dir's folder sealed into the database")
    except BaseException:
        db.dispose()
        raise
    roster = RosterService(db, the_clock, calendar)
    passwords = hasher if hasher is not None else production_hasher()
    assignments = AssignmentService(db, the_clock, calendar, roster, keys, sealer)
    return AppServices(
        layout=layout,
        db=db,
        clock=the_clock,
        attachments=attachments,
        keys=keys,
        data_key=data_key,
        sealer=sealer,
        calendar=calendar,
        deadlines=DeadlineBoard(db, calendar),
        roster=roster,
        site=SiteService(db, the_clock, keys, passwords),
        auth=AuthService(db, the_clock, passwords),
        intake=IntakeService(db, the_clock, attachments, sealer),
        cases=CaseService(db, the_clock, attachments, calendar, sealer),
        corrections=CorrectionService(db, the_clock, sealer),
        ledger=LedgerService(db, sealer),
        assignments=assignments,
        maintenance=MaintenanceService(db, the_clock, attachments),
        slips=SlipRegister(db),
        health=health,
        audit_log=AuditLogService(db, the_clock),
    )


def _migrate(db: Database, layout: DataLayout, now: datetime) -> None:
    """Upgrade the schema only under the writer lock: a newer bbcs must never change the schema
    under an older one still running (its next save would fail). A command that reads only
    takes the lock for the upgrade and lets go; if another process holds it, nothing changes.
    PostgreSQL serialises the upgrade with its advisory lock instead (Database.migrate)."""
    if not db.needs_upgrade():
        return
    if not db.is_sqlite or InstanceLock.held_by_this_process(layout):
        db.migrate(backup_dir=layout.backups, now=now)
        return
    lock = InstanceLock(layout)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        raise AlreadyRunning(
            f"数据目录 {layout.root} 中的数据库需要升级到本版本的格式才能使用，"
            "但另一个 bbcs（可能是旧版本的窗口或命令）正在使用这个数据目录，"
            "此时升级会让它无法保存。请先关闭那个 bbcs，再重新运行。数据库未作任何改动。"
        ) from exc
    try:
        db.migrate(backup_dir=layout.backups, now=now)
    finally:
        lock.release()


def _encrypt_old_backups(layout: DataLayout, keys: SiteKeys, data_key: DataKey) -> bool:
    """Backups made before the numbers were sealed hold them in clear: encrypted to the site's
    own key once they are (issue 15 item 11), and given their MAC at this trusted moment."""
    from desktop_app.services.backup import encrypt_plain_backups

    return encrypt_plain_backups(layout.backups, keys, data_key)


def _keep_private(layout: DataLayout) -> None:
    """The data dir, and what is in it, readable by its user only (POSIX). The attachments are
    walked only while the folder is still as an older release left it: thousands of files."""
    deep = [layout.backups, layout.logs, layout.keys]
    if os.name == "posix" and any(
        folder.stat().st_mode & 0o077 for folder in (layout.root, layout.attachments)
    ):
        deep.append(layout.attachments)
    make_private(layout.root, deep=deep)
