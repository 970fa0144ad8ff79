"""Importing at the receiving site: a bundle, an acknowledgement, or a folder of them. A data
bundle is merged all or nothing (``merge.RecordMerger``) and acknowledged; importing the same
bundle again changes nothing. A refusal is reported, never half applied."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError

from desktop_app.domain.permissions import Permission
from desktop_app.errors import UserError
from desktop_app.services import audit
from desktop_app.services.attachments import AttachmentStore
from desktop_app.services.context import Actor, Clock
from desktop_app.services.exchange import bundle_file as bf
from desktop_app.services.exchange.acks import Acknowledgements
from desktop_app.services.exchange.admission import (
    Fate,
    LocalState,
    PreviousImport,
    admit,
)
from desktop_app.services.exchange.export import Progress
from desktop_app.services.exchange.folders import size_of
from desktop_app.services.exchange.import_report import ImportReport
from desktop_app.services.exchange.manifest import check_manifest, parse_time
from desktop_app.services.exchange.merge import RecordMerger, incompatible
from desktop_app.services.exchange.records_tables import DATA_TABLES, TABLE_LABELS, TableSpec
from desktop_app.services.exchange.reference import ReferenceData
from desktop_app.services.exchange.refusals import BundleRefused, RefusalCode
from desktop_app.services.exchange.scratch import open_records, records_session
from desktop_app.services.exchange.sites import SiteView, local_site
from desktop_app.services.exchange.status import ExchangeStatus
from desktop_app.services.keys import SiteKeys
from desktop_app.services.sealing import Sealer
from desktop_app.storage import search
from desktop_app.storage.database import Database
from desktop_app.storage.models import Bundle, Site

log = logging.getLogger(__name__)


class Importer:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        keys: SiteKeys,
        attachments: AttachmentStore,
        *,
        status: ExchangeStatus,
        acks: Acknowledgements,
        reference: ReferenceData,
        sealer: Sealer,
    ) -> None:
        self._db = db
        self._clock = clock
        self._keys = keys
        self._attachments = attachments
        self._status = status
        self._acks = acks
        self._reference = reference
        self._sealer = sealer

    def import_path(
        self,
        actor: Actor,
        path: Path,
        *,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> list[ImportReport]:
        """Import a bundle, an acknowledgement, or every one of them in a folder (by name)."""
        actor.require(Permission.EXCHANGE_DATA)
        if path.is_dir():
            files = self._status.pending_in_folder(path)
            if not files:
                return []
            return [self.import_file(actor, f, dry_run=dry_run, progress=progress) for f in files]
        if not path.exists():
            raise UserError(f"找不到文件或文件夹：{path}")
        return [self.import_file(actor, path, dry_run=dry_run, progress=progress)]

    def import_file(
        self,
        actor: Actor,
        path: Path,
        *,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> ImportReport:
        """One bundle or acknowledgement; a refusal is reported, not raised."""
        actor.require(Permission.EXCHANGE_DATA)
        report = ImportReport(path=str(path), dry_run=dry_run)
        try:
            if path.suffix == bf.ACK_SUFFIX:
                self._acks.import_ack(actor, path, report, dry_run)
            else:
                self._import_bundle(actor, path, report, dry_run, progress)
        except BundleRefused as exc:
            report.refused = True
            report.code = exc.code
            report.reason = exc.message
            report.added.clear()
            report.updated.clear()
            report.ignored.clear()
            report.conflicts.clear()
            report.reasons.clear()
            log.warning("bundle %s refused: %s", path, exc.message)
        return report

    def settle(self) -> None:
        """Copy what imports left in SQLite's write-ahead log into the database file (a first
        upload leaves hundreds of MB there; the import itself is already durable). Run it after
        a batch of imports, off the UI thread; otherwise the next save would pay for it."""
        self._db.checkpoint()

    def _import_bundle(
        self,
        actor: Actor,
        path: Path,
        report: ImportReport,
        dry_run: bool,
        progress: Progress | None,
    ) -> None:
        header = bf.read_header(path)
        report.kind = header.kind
        report.bundle_id = header.bundle_id
        report.from_site = header.from_site
        report.created_at = str(header.data.get("created_at", ""))
        with self._db.read() as session:
            here = local_site(session)
            peer = session.scalar(
                select(Site).where(Site.code == header.from_site, Site.is_local.is_(False))
            )
            sender = SiteView.of(peer) if peer is not None else None
            done = session.execute(
                select(Bundle.processed_at, Bundle.counts).where(
                    Bundle.direction == "in", Bundle.bundle_id == header.bundle_id
                )
            ).first()
            previous = PreviousImport(done[0], dict(done[1] or {})) if done is not None else None
            local = LocalState(here.code, here.level, previous)
        admission = admit(header, local, sender, file_name=path.name)
        report.from_name = admission.from_name
        if admission.fate is Fate.REFUSE or sender is None:
            raise admission.refusal()
        keys = self._keys.decryption_keys()
        with bf.open_payload(path, header, admission.signing_key, keys) as plain:
            payload = bf.Payload(plain, path.name)
            try:
                manifest = payload.verify(admission.signing_key)
                check_manifest(manifest, header, path.name)
                if admission.previous is not None:  # after the signature: a forged copy is refused
                    self._already_imported(path, admission.previous, report, dry_run)
                elif header.kind == "data":
                    self._apply_data(
                        actor, path, header, payload, manifest, sender, report, dry_run, progress
                    )
                else:
                    self._reference.apply(
                        actor, path, header, payload, manifest, sender, report, dry_run
                    )
            finally:
                payload.close()

    def _already_imported(
        self, path: Path, previous: PreviousImport, report: ImportReport, dry_run: bool
    ) -> None:
        """Importing a bundle again changes nothing; its acknowledgement is written again."""
        records = 0
        for name, n in previous.counts.items():
            if isinstance(n, int):
                report.ignored[name] += n
                records += n
        # Counted in records, as every reason is (the window said "导入过 1 条" of 2,872).
        report.reasons[f"此数据包已于 {previous.processed_at:%Y-%m-%d %H:%M} 导入过"] += records
        report.notes.append("重复导入：未做任何更改。")
        ack = previous.counts.get("ack")
        if not dry_run and isinstance(ack, dict):
            report.ack_path = self._acks.write_file(path.parent, path, ack)

    def _apply_data(
        self,
        actor: Actor,
        path: Path,
        header: bf.Header,
        payload: bf.Payload,
        manifest: dict[str, Any],
        sender: SiteView,
        report: ImportReport,
        dry_run: bool,
        progress: Progress | None,
    ) -> None:
        tell = progress or (lambda _what, _done, _total: None)
        # The steps shown: unpacking, the check, each table merged (a county's first upload
        # spends most of its time there: a minute at a city on PostgreSQL), the search text,
        # and the commit, which writes the records' digests on SQLite.
        steps = len(DATA_TABLES) + 4
        place = {spec.name: n for n, spec in enumerate(DATA_TABLES, 2)}

        def merging(spec: TableSpec) -> None:
            tell(f"合并{TABLE_LABELS[spec.name]}", place[spec.name], steps)

        now = self._clock.now()
        members = set(payload.member_names())
        attachment_members = [m for m in members if m.startswith("attachments/")]
        for member in sorted(members - {bf.RECORDS_MEMBER, *attachment_members}):
            raise BundleRefused(
                RefusalCode.UNEXPECTED_MEMBER,
                f"数据包“{path.name}”中有不应有的文件“{member}”，拒绝导入。",
            )
        tell("解开记录", 0, steps)
        with open_records(payload, path.name) as records:
            columns = records.known_columns()
            tell("检查记录", 1, steps)
            with (
                ThreadPoolExecutor(1, thread_name_prefix="bbcs-check") as checker,
                records_session(self._db, records.path, write=True) as (session, attached),
            ):
                # Every value is checked on a second thread while the rows are copied.
                checking = checker.submit(records.check_values, columns)
                local_code = local_site(session).code
                importer = RecordMerger(
                    session,
                    sender.code,
                    header.bundle_id,
                    now,
                    report,
                    local_code=local_code,
                    attached=attached,
                    sealer=self._sealer,
                    dry_run=dry_run,
                )
                try:
                    importer.merge_file(records, columns, checking.result, merging)
                    if dry_run:
                        checking.result()  # a dry run reports only on checked values
                        session.rollback()
                        return
                    tell("更新检索", steps - 2, steps)
                    self._attachments.receive(session, attachment_members, payload.copy_member)
                    importer.reindex(
                        shipped_search=records.has_search_text()
                        and manifest.get("search_index") == search.INDEX_VERSION,
                        checked=checking.result,
                    )
                    # The copy runs ahead of the check (no value it copies is read into Python
                    # meanwhile); nothing is committed before every value has passed.
                    checking.result()
                except (IntegrityError, DataError) as exc:
                    checking.result()  # a value of the wrong form explains it better
                    raise incompatible(exc) from exc
                except BaseException:
                    records.interrupt()  # no need to finish checking a refused bundle
                    raise
                processed = self._clock.now()
                counts = {spec.name: records.count(spec) for spec in DATA_TABLES}
                record = Bundle(
                    bundle_id=header.bundle_id,
                    direction="in",
                    kind="data",
                    peer_code=sender.code,
                    generation=int(manifest.get("generation", 0) or 0),
                    base_generation=int(manifest.get("base_generation", 0) or 0),
                    created_at=parse_time(manifest.get("created_at")) or processed,
                    file_name=path.name,
                    location=str(path.parent),
                    size=size_of(path),
                    sha256="",
                    counts=counts | {"audit_chain_head": manifest.get("audit_chain_head")},
                    processed_at=processed,
                    user_name=actor.username,
                )
                session.add(record)
                audit.record(
                    session,
                    at=processed,
                    user_name=actor.username,
                    action="import_bundle",
                    entity="bundle",
                    entity_uuid=header.bundle_id,
                    after={"file": path.name, "from": sender.code, **report.totals()},
                )
                session.flush()
                ack = self._acks.document(record, report, local_code)
                record.counts = dict(record.counts, ack=ack)
                tell("保存", steps - 1, steps)
        report.ack_path = self._acks.write_file(path.parent, path, ack)
