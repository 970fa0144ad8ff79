"""Where the exchange stands: what the 数据交换 screen and the dashboard reminder show, the
bundles sent and received, the inbox and what in a folder is still to import."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop_app.domain.settings import SYNC_INBOX, SYNC_PERIOD_DAYS
from desktop_app.domain.vocabulary import SiteLevel
from desktop_app.errors import EnvironmentProblem
from desktop_app.services import settings
from desktop_app.services.context import Actor, Changes, Clock
from desktop_app.services.exchange import bundle_file as bf
from desktop_app.services.exchange.folders import folder_problem
from desktop_app.services.exchange.records_tables import DATA_TABLES, owned_here
from desktop_app.services.exchange.sites import TrustedSite, local_site, trusted_city, trusted_site
from desktop_app.storage.database import Database
from desktop_app.storage.models import Bundle, Site, SyncConflict


@dataclass(frozen=True)
class BundleRecord:
    bundle_id: str
    direction: str
    kind: str
    peer_code: str
    peer_name: str
    created_at: datetime
    processed_at: datetime | None
    acked_at: datetime | None
    file_name: str
    location: str
    size: int
    counts: dict[str, Any]


@dataclass(frozen=True)
class SyncStatus:
    """What the 数据交换 screen and the dashboard reminder show."""

    level: SiteLevel
    city: TrustedSite | None
    last_export_at: datetime | None
    last_acked_at: datetime | None
    pending_records: int
    period_days: int
    overdue_days: int  # > 0 when the last acknowledged upload is older than the period
    open_conflicts: int
    inbox: str

    def reminder(self) -> str:
        """The dashboard's reminder, or "" when nothing is due."""
        if self.level is not SiteLevel.COUNTY:
            return f"有 {self.open_conflicts} 条数据冲突待处理" if self.open_conflicts else ""
        if self.city is None:
            return "尚未登记市级站点，数据无法上报（数据交换 → 登记站点…）"
        if self.last_acked_at is None:
            return "尚未向市级上报过数据，请在“数据交换”中导出数据包"
        if self.overdue_days > 0:
            days = self.period_days + self.overdue_days
            return f"距上次上报（市级已确认）已 {days} 天，超过 {self.period_days} 天，请导出数据包"
        return ""


class ExchangeStatus:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def status(self, *, count_pending: bool = True) -> SyncStatus:
        """Where the exchange stands. ``count_pending=False`` skips counting the records not yet
        acknowledged (a scan at a large site that has never uploaded) for the dashboard."""
        with self._db.read() as session:
            local = local_site(session)
            level = SiteLevel(local.level)
            city = trusted_city(session)
            acked = acked_generation(session, city.code) if city is not None else 0
            pending = 0
            if level is SiteLevel.COUNTY and count_pending:
                for spec in DATA_TABLES:
                    t = spec.table
                    pending += (
                        session.scalar(
                            select(func.count())
                            .select_from(t)
                            .where(t.c.change_seq.is_(None) | (t.c.change_seq > acked))
                            .where(owned_here(spec))
                        )
                        or 0
                    )
            last_export = session.scalar(
                select(func.max(Bundle.created_at)).where(
                    Bundle.direction == "out", Bundle.kind.in_(("data", "reference"))
                )
            )
            last_acked = session.scalar(
                select(func.max(Bundle.acked_at)).where(Bundle.direction == "out")
            )
            period = settings.read(session, SYNC_PERIOD_DAYS)
            overdue = 0
            if last_acked is not None:
                age = (self._clock.now() - last_acked).days
                overdue = max(0, age - period)
            conflicts = session.scalar(
                select(func.count()).where(SyncConflict.resolved_at.is_(None))
            )
            inbox = settings.read(session, SYNC_INBOX)
            return SyncStatus(
                level=level,
                city=trusted_site(session, city) if city is not None else None,
                last_export_at=last_export,
                last_acked_at=last_acked,
                pending_records=pending,
                period_days=period,
                overdue_days=overdue,
                open_conflicts=int(conflicts or 0),
                inbox=inbox,
            )

    def set_period_days(self, actor: Actor, days: int) -> Changes:
        settings.require(actor, SYNC_PERIOD_DAYS)
        with self._db.write() as session:
            settings.write(session, actor, SYNC_PERIOD_DAYS, days)
        return Changes(settings=True)

    def set_inbox(self, actor: Actor, folder: str) -> Changes:
        settings.require(actor, SYNC_INBOX)
        with self._db.write() as session:
            settings.write(session, actor, SYNC_INBOX, folder.strip())
        return Changes(settings=True)

    def history(self, limit: int = 200) -> list[BundleRecord]:
        with self._db.read() as session:
            names = dict(session.execute(select(Site.code, Site.name)).all())
            rows = session.scalars(
                select(Bundle).order_by(Bundle.created_at.desc(), Bundle.id.desc()).limit(limit)
            )
            return [
                BundleRecord(
                    bundle_id=b.bundle_id,
                    direction=b.direction,
                    kind=b.kind,
                    peer_code=b.peer_code,
                    peer_name=names.get(b.peer_code, "全部县区" if b.peer_code == "*" else ""),
                    created_at=b.created_at,
                    processed_at=b.processed_at,
                    acked_at=b.acked_at,
                    file_name=b.file_name,
                    location=b.location,
                    size=b.size,
                    counts=dict(b.counts),
                )
                for b in rows
            ]

    def pending_in_folder(self, folder: Path) -> list[Path]:
        """Bundles and acknowledgements in ``folder`` (e.g. the inbox) meant for this site and
        not imported yet. This site's own bundles and acknowledgements addressed elsewhere (a
        shared stick carries both directions) are left alone."""
        try:
            candidates = sorted(
                p
                for p in folder.iterdir()
                if p.is_file() and p.suffix in (bf.BUNDLE_SUFFIX, bf.ACK_SUFFIX)
            )
        except OSError as exc:
            raise EnvironmentProblem(folder_problem(exc, folder)) from exc
        with self._db.read() as session:
            local = local_site(session).code
            done = set(session.scalars(select(Bundle.bundle_id).where(Bundle.direction == "in")))
            sent = session.execute(
                select(
                    Bundle.bundle_id, Bundle.peer_code, Bundle.generation, Bundle.acked_at
                ).where(Bundle.direction == "out")
            ).all()
        newest: dict[str, int] = {}
        for _id, peer, generation, acked_at in sent:
            if acked_at is not None:
                newest[peer] = max(newest.get(peer, 0), generation)
        # Acknowledged, or older than one that was (its acknowledgement changes nothing).
        acked = {
            bundle_id
            for bundle_id, peer, generation, acked_at in sent
            if acked_at is not None or generation < newest.get(peer, 0)
        }
        pending = []
        for path in candidates:
            bundle_id, from_site, to_site = _peek(path)
            if from_site == local or (to_site not in ("", "*", local)):
                continue
            if bundle_id in done or (path.suffix == bf.ACK_SUFFIX and bundle_id in acked):
                continue
            pending.append(path)
        return pending


def acked_generation(session: Session, city_code: str) -> int:
    """The newest export generation this city acknowledged: the next bundle starts after it.
    Per city, so a county that changes its city sends the new one everything."""
    value = session.scalar(
        select(func.max(Bundle.generation)).where(
            Bundle.direction == "out",
            Bundle.kind == "data",
            Bundle.peer_code == city_code,
            Bundle.acked_at.is_not(None),
        )
    )
    return int(value or 0)


def _peek(path: Path) -> tuple[str, str, str]:
    """(bundle id, from, to) of a bundle or acknowledgement, or blanks if it can't be read."""
    try:
        if path.suffix == bf.ACK_SUFFIX:
            if path.stat().st_size > bf.MAX_ACK_BYTES:
                return "", "", ""
            data = bf.loads(path.read_bytes())
            if not isinstance(data, dict):
                return "", "", ""
            return (
                str(data.get("bundle_id", "")),
                str(data.get("from_site", "")),
                str(data.get("to_site", "")),
            )
        header = bf.read_header(path)
        return header.bundle_id, header.from_site, header.to_site
    except Exception:  # anything unreadable is simply not listed; importing it says why
        return "", "", ""
