"""A county's data bundle for its city: every record stamped since the generation the city last
acknowledged, the attachments those records name and the head of the audit chain, signed and
encrypted to the city (DESIGN.md §6)."""

from __future__ import annotations

import uuid as uuid_module
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from desktop_app.domain.settings import AUDIT_HEAD, EXPORT_GENERATION
from desktop_app.errors import EnvironmentProblem, UserError
from desktop_app.files import size_text
from desktop_app.services import audit, settings
from desktop_app.services.attachments import AttachmentStore
from desktop_app.services.context import Actor, Clock
from desktop_app.services.exchange import bundle_file as bf
from desktop_app.services.exchange.folders import check_target, temp_problem, write_bundle_file
from desktop_app.services.exchange.manifest import audit_head, header, manifest
from desktop_app.services.exchange.records_tables import DATA_TABLES, TABLE_LABELS
from desktop_app.services.exchange.records_write import open_sealed_numbers, write_records
from desktop_app.services.exchange.scratch import new_records_file
from desktop_app.services.exchange.sites import local_site, trusted_city, trusted_site
from desktop_app.services.exchange.status import acked_generation
from desktop_app.services.keys import SiteKeys
from desktop_app.services.sealing import Sealer
from desktop_app.storage import search
from desktop_app.storage.database import Database
from desktop_app.storage.models import Attachment, Base, Bundle

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ExportResult:
    path: Path
    bundle_id: str
    kind: str
    counts: dict[str, int]
    size: int
    generation: int
    base_generation: int

    def summary(self) -> str:
        parts = [f"{TABLE_LABELS.get(k, k)} {n}" for k, n in self.counts.items() if n]
        what = "、".join(parts) if parts else "没有新的变化"
        return f"已写出数据包 {self.path.name}（{size_text(self.size)}）：{what}"


class DataExport:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        keys: SiteKeys,
        attachments: AttachmentStore,
        sealer: Sealer,
    ) -> None:
        self._db = db
        self._clock = clock
        self._keys = keys
        self._attachments = attachments
        self._sealer = sealer

    def export(self, actor: Actor, target_dir: Path, progress: Progress | None) -> ExportResult:
        report = progress or (lambda _what, _done, _total: None)
        check_target(target_dir)
        bundle_id = str(uuid_module.uuid4())
        now = self._clock.now()
        writer = bf.PayloadWriter()
        try:
            with self._db.write() as session:
                local = local_site(session)
                city_site = trusted_city(session)
                if city_site is None:
                    raise UserError(
                        "尚未登记市级站点：请先导入市级站点的身份文件"
                        "（数据交换 → 登记站点…，或 bbcs keys trust 文件）。"
                    )
                city = trusted_site(session, city_site)
                recipient_key = bf.b64decode(city_site.encryption_public_key)
                if recipient_key is None or len(recipient_key) != 32:
                    raise UserError(
                        f"登记的市级站点“{city.name}”公钥无效，请重新登记它的身份文件。"
                    )
                base = acked_generation(session, city.code)
                generation = settings.read(session, EXPORT_GENERATION) + 1
                settings.store(session, EXPORT_GENERATION, generation)
                for spec in DATA_TABLES:
                    t = spec.table
                    session.execute(
                        update(t).where(t.c.change_seq.is_(None)).values(change_seq=generation)
                    )
                local_code = local.code
                from_site = {"code": local.code, "name": local.name, "level": local.level}
            # The stamping is committed: what changes from now on carries the next generation.
            # The records are read in a transaction of their own (the clerk can go on saving).
            # Everything after the acknowledged generation, including what was saved since the
            # stamping (it travels again in the next bundle; importing is idempotent): a case
            # saved in between must not leave its events behind without it.
            report("记录", 0, 4)
            tables = [(spec, spec.table.c.change_seq > base) for spec in DATA_TABLES]
            with new_records_file(self._db) as (session, records_path, attached):
                counts = write_records(
                    session,
                    records_path,
                    tables,
                    local_code,
                    attached=attached,
                    search_bodies=True,
                )
                # The bundle is encrypted to the city, which seals them under its own key.
                open_sealed_numbers(session, records_path, self._sealer, attached=attached)
                shas = sorted(
                    set(
                        session.scalars(
                            select(Attachment.sha256).where(Attachment.change_seq > base)
                        )
                    )
                )
                head = settings.read(session, AUDIT_HEAD) or None
                first = _bundle_time_range(session, base)
                session.commit()  # the records file is complete before it is packed
                report("压缩", 1, 4)
                writer.add_packed_file(bf.RECORDS_MEMBER, records_path)
            signed = manifest(
                "data",
                bundle_id,
                now,
                from_site,
                {"code": city.code, "name": city.name},
                generation=generation,
                base_generation=base,
                time_range=first,
                counts=counts,
                search_index=search.INDEX_VERSION if attached else None,
                audit_chain_head=audit_head(head),
                algorithms={
                    "signature": bf.SIGNATURE_ALGORITHM,
                    "encryption": bf.ENCRYPTION_ALGORITHM,
                    "hash": bf.HASH_ALGORITHM,
                },
            )
            # Materials are copied in after the transaction: the clerk can go on saving while
            # scans go into the bundle (files are immutable, named by their hash).
            report("材料", 2, 4)
            signed["missing_attachments"] = self._write_attachment_files(writer, shas)
            payload = writer.finish(signed, self._keys.sign)
            # The file is written outside any transaction so a slow stick does not hold up the
            # window. A failed write only leaves rows stamped with a generation nobody
            # acknowledged: the next bundle carries them again.
            name = f"bbcs-{local_code}-{now:%Y%m%d-%H%M%S}-{generation:05d}{bf.BUNDLE_SUFFIX}"
            report("写入", 3, 4)
            sealed = bf.seal_payload(
                header(signed), payload, bf.Recipient(city.code, recipient_key), self._keys
            )
            try:
                path, size, sha = write_bundle_file(target_dir, name, sealed)
            finally:
                sealed.close()
        except OSError as exc:
            raise EnvironmentProblem(temp_problem(exc)) from exc
        finally:
            writer.close()
        record_export(
            self._db,
            actor,
            Bundle(
                bundle_id=bundle_id,
                direction="out",
                kind="data",
                peer_code=city.code,
                generation=generation,
                base_generation=base,
                created_at=now,
                file_name=path.name,
                location=str(target_dir),
                size=size,
                sha256=sha,
                counts=counts,
                user_name=actor.username,
            ),
        )
        return ExportResult(path, bundle_id, "data", counts, size, generation, base)

    def _write_attachment_files(self, writer: bf.PayloadWriter, shas: list[str]) -> list[str]:
        """Add the stored files; returns the hashes of those missing from the store."""
        missing = []
        for sha in shas:
            path = self._attachments.cached(sha)
            if path.is_file():
                writer.add_file(f"attachments/{sha}", path)
            else:
                missing.append(sha)
        return missing


def record_export(db: Database, actor: Actor, record: Bundle) -> None:
    """The bundle just written, into the history and the audit log."""
    with db.write() as session:
        session.add(record)
        audit.record(
            session,
            at=record.created_at,
            user_name=actor.username,
            action=f"export_{record.kind}_bundle",
            entity="bundle",
            entity_uuid=record.bundle_id,
            after={"file": record.file_name, "to": record.peer_code, "counts": record.counts},
        )


def _bundle_time_range(session: Session, base: int) -> dict[str, str | None]:
    t = Base.metadata.tables["cases"]
    low, high = session.execute(
        select(func.min(t.c.updated_at), func.max(t.c.updated_at)).where(t.c.change_seq > base)
    ).one()
    return {
        "from": low.isoformat(timespec="seconds") if low else None,
        "to": high.isoformat(timespec="seconds") if high else None,
    }
