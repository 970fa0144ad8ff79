"""The conflict queue: a record that changed at the county and at the city alike waits here
until someone keeps the local version or takes the incoming one (both stay on record)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from desktop_app.domain.permissions import Permission
from desktop_app.errors import NotFound, UserError
from desktop_app.services import audit
from desktop_app.services.context import Actor, Changes, Clock
from desktop_app.services.exchange.import_report import ImportReport
from desktop_app.services.exchange.merge import RecordMerger
from desktop_app.services.exchange.records_tables import SPECS, stored_form
from desktop_app.services.sealing import Sealer
from desktop_app.storage.database import Database
from desktop_app.storage.models import SyncConflict


@dataclass(frozen=True)
class ConflictInfo:
    id: int
    created_at: datetime
    site_code: str
    entity: str
    entity_uuid: str
    local_version: int
    incoming_version: int
    reason: str
    title: str


class Conflicts:
    def __init__(self, db: Database, clock: Clock, sealer: Sealer) -> None:
        self._db = db
        self._clock = clock
        self._sealer = sealer

    def listed(self, *, include_resolved: bool = False) -> list[ConflictInfo]:
        with self._db.read() as session:
            query = select(SyncConflict).order_by(SyncConflict.id.desc())
            if not include_resolved:
                query = query.where(SyncConflict.resolved_at.is_(None))
            out = []
            for c in session.scalars(query.limit(1000)):
                data = c.incoming if isinstance(c.incoming, dict) else {}
                title = str(data.get("number") or data.get("title") or data.get("name") or "")
                out.append(
                    ConflictInfo(
                        c.id,
                        c.created_at,
                        c.site_code,
                        c.entity,
                        c.entity_uuid,
                        c.local_version,
                        c.incoming_version,
                        c.reason,
                        title,
                    )
                )
            return out

    def resolve(self, actor: Actor, conflict_id: int, *, take_incoming: bool) -> Changes:
        """Keep the local record, or overwrite it with the incoming one (the queue keeps both)."""
        actor.require(Permission.EXCHANGE_DATA)
        now = self._clock.now()
        with self._db.write() as session:
            conflict = session.get(SyncConflict, conflict_id)
            if conflict is None:
                raise NotFound("找不到这条冲突记录。")
            if conflict.resolved_at is not None:
                raise UserError("这条冲突已处理过。")
            spec = SPECS.get(conflict.entity)
            if spec is None:
                raise UserError("无法识别冲突记录的类型。")
            t = spec.table
            current = session.scalar(select(t.c.version).where(t.c.uuid == conflict.entity_uuid))
            if take_incoming and current != conflict.local_version:
                raise UserError(
                    "本地记录在冲突发生后又有变化，不能直接采用这一版本；"
                    "请先处理同一记录较新的冲突。"
                )
            # The local record as it was, into the audit log: with the incoming one kept in the
            # queue, both versions stay on record whichever is chosen.
            local_row = session.execute(select(t).where(t.c.uuid == conflict.entity_uuid)).first()
            before = (
                {
                    column: stored_form(t.c[column].type)(value)
                    for column, value in local_row._mapping.items()
                }
                if local_row is not None
                else None
            )
            if take_incoming:
                importer = RecordMerger(
                    session,
                    conflict.site_code,
                    conflict.bundle_id,
                    now,
                    ImportReport(path=""),
                    sealer=self._sealer,
                )
                importer.overwrite(spec, conflict.entity_uuid, dict(conflict.incoming))
                importer.reindex()
            conflict.resolved_at = now
            conflict.resolved_by = actor.display_name
            conflict.resolution = "incoming" if take_incoming else "local"
            audit.record(
                session,
                at=now,
                user_name=actor.username,
                action="resolve_conflict",
                entity=conflict.entity,
                entity_uuid=conflict.entity_uuid,
                before=before,
                after={"resolution": conflict.resolution, "incoming": conflict.incoming},
            )
        return Changes(cases=True)
