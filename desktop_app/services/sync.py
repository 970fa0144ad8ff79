"""County ⇄ city exchange (DESIGN.md §6): trust, export, import, acknowledgement, reference data.

- A county exports a *data bundle* for the city it trusts: every record stamped since the export
  generation the city last acknowledged (see ``storage.models.Exported``), the attachments those
  records name, the head of the county's audit chain, signed and encrypted (``bundle_file``).
- The city imports it all-or-nothing (the record-level merge is ``services.sync_records``): rows
  are matched by UUID and version, references mapped to local ids, a record that changed on both
  sides goes to the conflict queue, and a signed acknowledgement is written beside the bundle.
  Importing the same bundle again changes nothing.
- The county imports the acknowledgement; from then on its bundles start after that generation.
- A city exports a *reference bundle* (its departments, areas, holiday changes and deadline
  rules) that every county it trusts can import.

Records owned by a county are read-only at the city (``services.ownership``).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import re
import uuid as uuid_module
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import (
    func,
    select,
    update,
)
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from desktop_app import __version__
from desktop_app.domain.deadlines import RuleKey, validate_rule_days
from desktop_app.domain.permissions import Permission
from desktop_app.domain.vocabulary import SiteLevel
from desktop_app.errors import EnvironmentProblem, NotFound, UserError
from desktop_app.files import (
    forget_cached,
    fsync_dir,
    scratch_folder,
    sha256_file,
    write_atomically,
)
from desktop_app.services import audit
from desktop_app.services import bundle_file as bf
from desktop_app.services.attachments import AttachmentStore
from desktop_app.services.bundle_file import BundleRefused
from desktop_app.services.calendar import (
    DUE_SOON_KEY,
    RULE_PREFIX,
    bump_revision,
    calendar_in,
    recompute_open_deadlines,
)
from desktop_app.services.context import Actor, Changes, Clock
from desktop_app.services.keys import PublicIdentity, SiteKeys
from desktop_app.services.sync_records import (
    ATTACHED,
    DATA_TABLES,
    SPECS,
    TABLE_LABELS,
    ImportReport,
    RecordMerger,
    RecordsFile,
    incompatible,
    owned_here,
    stored_form,
    write_records,
)
from desktop_app.storage import search
from desktop_app.storage.database import Database
from desktop_app.storage.models import (
    EXPORT_GENERATION_KEY,
    Area,
    Attachment,
    Base,
    Bundle,
    CalendarYear,
    HolidayOverride,
    Setting,
    Site,
    SyncConflict,
)

log = logging.getLogger(__name__)

GENERATION_KEY: Final = EXPORT_GENERATION_KEY
PERIOD_KEY: Final = "sync_period_days"
INBOX_KEY: Final = "sync_inbox"
DEFAULT_PERIOD_DAYS: Final = 7
TRUSTED: Final = "trusted"
REVOKED: Final = "revoked"

# Results ------------------------------------------------------------------------------------


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
        return f"已写出数据包 {self.path.name}（{_size_text(self.size)}）：{what}"


@dataclass(frozen=True)
class TrustedSite:
    code: str
    name: str
    level: SiteLevel
    fingerprint: str
    state: str
    trusted_at: datetime | None
    revoked_at: datetime | None
    last_bundle_at: datetime | None


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


# The service --------------------------------------------------------------------------------


class SyncService:
    def __init__(
        self, db: Database, clock: Clock, keys: SiteKeys, attachments: AttachmentStore
    ) -> None:
        self._db = db
        self._clock = clock
        self._keys = keys
        self._attachments = attachments

    # Trust ----------------------------------------------------------------------------------

    def write_identity(self, path: Path) -> PublicIdentity:
        """Write this site's public identity (``bbcs keys export``) to ``path``, atomically."""
        info = self._site_summary()
        self._keys.ensure()
        identity = self._keys.identity(info.code, info.name, info.level)
        data = json.dumps(identity.to_json(), ensure_ascii=False, indent=2).encode("utf-8")
        if not path.parent.is_dir():
            raise UserError(f"文件夹不存在：{path.parent}")
        try:
            write_atomically(path, data)
        except OSError as exc:
            raise EnvironmentProblem(_folder_problem(exc, path.parent)) from exc
        return identity

    def read_identity(self, path: Path) -> PublicIdentity:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise UserError(f"无法读取身份文件 {path}：{exc.strerror or exc}") from exc
        if len(raw) > 64 * 1024:
            raise UserError(f"“{path.name}”不是站点身份文件（文件过大）。")
        try:
            data = bf.loads(raw)
        except ValueError:
            raise UserError(f"“{path.name}”不是站点身份文件（不是 JSON）。") from None
        return PublicIdentity.from_json(data)

    def trust(self, actor: Actor, identity: PublicIdentity, *, replace: bool = False) -> str:
        """Register another site's public identity; returns a sentence saying what happened."""
        actor.require(Permission.TRUST_SITES)
        now = self._clock.now()
        with self._db.write() as session:
            local = _local_site(session)
            if identity.site_code == local.code:
                raise UserError("这是本站点自己的身份文件，不需要登记。")
            level = SiteLevel(identity.level)
            if local.level == SiteLevel.COUNTY.value and level is not SiteLevel.CITY:
                raise UserError("县区站点只需登记所属市级站点的身份文件。")
            if local.level == SiteLevel.CITY.value and level is not SiteLevel.COUNTY:
                raise UserError("市级站点登记的是各县区站点的身份文件。")
            site = session.scalar(select(Site).where(Site.code == identity.site_code))
            if level is SiteLevel.CITY:
                other = session.scalar(
                    select(Site).where(
                        Site.is_local.is_(False),
                        Site.level == SiteLevel.CITY.value,
                        Site.trust_state == TRUSTED,
                        Site.code != identity.site_code,
                    )
                )
                if other is not None:
                    raise UserError(
                        f"已登记市级站点“{other.name}”（{other.code}）。"
                        "如上级站点变更，请先吊销原站点。"
                    )
            fingerprint = identity.fingerprint()
            if site is not None and site.signing_public_key:
                same = (
                    site.signing_public_key == identity.signing_public_key
                    and site.encryption_public_key == identity.encryption_public_key
                )
                if same and site.trust_state == TRUSTED:
                    return f"“{site.name}”（{site.code}）已登记，公钥相同，无需更改。"
                if not same and not replace:
                    raise UserError(
                        f"站点“{site.name}”（{site.code}）已登记，指纹 {_fingerprint_of(site)}；"
                        f"新文件的指纹为 {fingerprint}。请先电话核对对方的新指纹，"
                        "确认对方已更换密钥后再选择“替换”（命令行加 --replace）。"
                    )
                if same and site.trust_state == REVOKED and not replace:
                    raise UserError(
                        f"站点“{site.name}”（{site.code}）的这把密钥已被吊销，不能直接恢复；"
                        "请让对方更换密钥，或确认后选择“替换”（命令行加 --replace）。"
                    )
                before = _site_json(site)
                if not same:
                    site.previous_keys = [
                        *site.previous_keys,
                        {
                            "signing_public_key": site.signing_public_key,
                            "encryption_public_key": site.encryption_public_key,
                            "keys_created_at": site.keys_created_at,
                            "replaced_at": now.isoformat(timespec="seconds"),
                        },
                    ]
                action = "replace_site_keys"
            else:
                before = None
                if site is None:
                    site = Site(
                        code=identity.site_code,
                        name=identity.site_name,
                        short_name=identity.site_name[:20],
                        level=level.value,
                        is_local=False,
                        created_at=now,
                    )
                    session.add(site)
                action = "trust_site"
            site.name = identity.site_name
            site.level = level.value
            site.signing_public_key = identity.signing_public_key
            site.encryption_public_key = identity.encryption_public_key
            site.keys_created_at = identity.created_at
            site.trust_state = TRUSTED
            site.trusted_at = now
            site.revoked_at = None
            session.flush()
            audit.record(
                session,
                at=now,
                user_name=actor.username,
                action=action,
                entity="site",
                entity_uuid=site.code,
                before=before,
                after=_site_json(site),
            )
            verb = "已更新" if action == "replace_site_keys" else "已登记"
            return f"{verb}{level.label}站点“{site.name}”（{site.code}），指纹 {fingerprint}。"

    def rotate_keys(self, actor: Actor) -> PublicIdentity:
        """Make new keys for this site (e.g. after a PC was lost); the old ones are retired, not
        deleted. Other sites must then register the new identity (``keys trust --replace``)."""
        actor.require(Permission.TRUST_SITES)
        info = self._site_summary()
        old = self._keys.identity(info.code, info.name, info.level).fingerprint()
        self._keys.rotate()
        identity = self._keys.identity(info.code, info.name, info.level)
        with self._db.write() as session:
            audit.record(
                session,
                at=self._clock.now(),
                user_name=actor.username,
                action="rotate_keys",
                entity="site",
                entity_uuid=info.code,
                before={"fingerprint": old},
                after={"fingerprint": identity.fingerprint()},
            )
        return identity

    def revoke(self, actor: Actor, site_code: str, reason: str = "") -> str:
        actor.require(Permission.TRUST_SITES)
        now = self._clock.now()
        with self._db.write() as session:
            site = session.scalar(
                select(Site).where(Site.code == site_code, Site.is_local.is_(False))
            )
            if site is None or not site.signing_public_key:
                raise NotFound(f"没有登记过站点 {site_code}。")
            if site.trust_state == REVOKED:
                return f"站点“{site.name}”（{site.code}）已于 {site.revoked_at} 吊销。"
            site.trust_state = REVOKED
            site.revoked_at = now
            audit.record(
                session,
                at=now,
                user_name=actor.username,
                action="revoke_site",
                entity="site",
                entity_uuid=site.code,
                after={"reason": reason, "fingerprint": _fingerprint_of(site)},
            )
            return f"已吊销站点“{site.name}”（{site.code}）：此后不再接受它的数据包。"

    def trusted_sites(self) -> list[TrustedSite]:
        with self._db.read() as session:
            last = dict(
                session.execute(
                    select(Bundle.peer_code, func.max(Bundle.created_at)).group_by(Bundle.peer_code)
                ).all()
            )
            return [
                TrustedSite(
                    code=s.code,
                    name=s.name,
                    level=SiteLevel(s.level),
                    fingerprint=_fingerprint_of(s),
                    state=s.trust_state,
                    trusted_at=s.trusted_at,
                    revoked_at=s.revoked_at,
                    last_bundle_at=last.get(s.code),
                )
                for s in session.scalars(
                    select(Site)
                    .where(Site.is_local.is_(False), Site.signing_public_key != "")
                    .order_by(Site.code)
                )
            ]

    # Status ---------------------------------------------------------------------------------

    def status(self, *, count_pending: bool = True) -> SyncStatus:
        """Where the exchange stands. ``count_pending=False`` skips counting the records not yet
        acknowledged (a scan at a large site that has never uploaded) for the dashboard."""
        with self._db.read() as session:
            local = _local_site(session)
            level = SiteLevel(local.level)
            city = _trusted_city(session)
            acked = _acked_generation(session, city.code) if city is not None else 0
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
            period = _int_setting(session, PERIOD_KEY, DEFAULT_PERIOD_DAYS)
            overdue = 0
            if last_acked is not None:
                age = (self._clock.now() - last_acked).days
                overdue = max(0, age - period)
            conflicts = session.scalar(
                select(func.count()).where(SyncConflict.resolved_at.is_(None))
            )
            inbox = session.scalar(select(Setting.value).where(Setting.key == INBOX_KEY)) or ""
            return SyncStatus(
                level=level,
                city=_trusted_site(session, city) if city is not None else None,
                last_export_at=last_export,
                last_acked_at=last_acked,
                pending_records=pending,
                period_days=period,
                overdue_days=overdue,
                open_conflicts=int(conflicts or 0),
                inbox=inbox,
            )

    def set_period_days(self, actor: Actor, days: int) -> Changes:
        actor.require(Permission.MANAGE_REFERENCE)
        if not 1 <= days <= 90:
            raise UserError("上报周期应为 1 到 90 天")
        with self._db.write() as session:
            session.merge(Setting(key=PERIOD_KEY, value=str(days)))
        return Changes(settings=True)

    def set_inbox(self, actor: Actor, folder: str) -> Changes:
        actor.require(Permission.EXCHANGE_DATA)
        with self._db.write() as session:
            session.merge(Setting(key=INBOX_KEY, value=folder.strip()))
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
            raise EnvironmentProblem(_folder_problem(exc, folder)) from exc
        with self._db.read() as session:
            local = _local_site(session).code
            done = set(session.scalars(select(Bundle.bundle_id).where(Bundle.direction == "in")))
            acked = set(
                session.scalars(
                    select(Bundle.bundle_id).where(
                        Bundle.direction == "out", Bundle.acked_at.is_not(None)
                    )
                )
            )
        pending = []
        for path in candidates:
            bundle_id, from_site, to_site = _peek(path)
            if from_site == local or (to_site not in ("", "*", local)):
                continue
            if bundle_id in done or (path.suffix == bf.ACK_SUFFIX and bundle_id in acked):
                continue
            pending.append(path)
        return pending

    # Export ---------------------------------------------------------------------------------

    def export(
        self,
        actor: Actor,
        target_dir: Path,
        *,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> ExportResult:
        """Write a bundle to ``target_dir``: data for the city (county) or reference data (city)."""
        actor.require(Permission.EXCHANGE_DATA)
        info = self._site_summary()
        if info.level == SiteLevel.CITY.value:
            return self._export_reference(actor, target_dir, progress)
        return self._export_data(actor, target_dir, progress)

    def _export_data(
        self,
        actor: Actor,
        target_dir: Path,
        progress: Callable[[str, int, int], None] | None,
    ) -> ExportResult:
        report = progress or (lambda _what, _done, _total: None)
        _check_target(target_dir)
        bundle_id = str(uuid_module.uuid4())
        now = self._clock.now()
        writer = bf.PayloadWriter()
        try:
            with self._db.write() as session:
                local = _local_site(session)
                city_site = _trusted_city(session)
                if city_site is None:
                    raise UserError(
                        "尚未登记市级站点：请先导入市级站点的身份文件"
                        "（数据交换 → 登记站点…，或 bbcs keys trust 文件）。"
                    )
                city = _trusted_site(session, city_site)
                recipient_key = bf.b64decode(city_site.encryption_public_key)
                if recipient_key is None or len(recipient_key) != 32:
                    raise UserError(
                        f"登记的市级站点“{city.name}”公钥无效，请重新登记它的身份文件。"
                    )
                base = _acked_generation(session, city.code)
                generation = _int_setting(session, GENERATION_KEY, 0) + 1
                session.merge(Setting(key=GENERATION_KEY, value=str(generation)))
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
            with self._new_records_file() as (session, records_path, attached):
                counts = write_records(
                    session,
                    records_path,
                    tables,
                    local_code,
                    attached=attached,
                    search_bodies=True,
                )
                shas = sorted(
                    set(
                        session.scalars(
                            select(Attachment.sha256).where(Attachment.change_seq > base)
                        )
                    )
                )
                head = session.scalar(select(Setting.value).where(Setting.key == audit.HEAD_KEY))
                first = _bundle_time_range(session, base)
                session.commit()  # the records file is complete before it is packed
                report("压缩", 1, 4)
                writer.add_packed_file(bf.RECORDS_MEMBER, records_path)
            manifest = _manifest(
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
                audit_chain_head=_audit_head(head),
                algorithms={
                    "signature": bf.SIGNATURE_ALGORITHM,
                    "encryption": bf.ENCRYPTION_ALGORITHM,
                    "hash": bf.HASH_ALGORITHM,
                },
            )
            # Materials are copied in after the transaction: the clerk can go on saving while
            # scans go into the bundle (files are immutable, named by their hash).
            report("材料", 2, 4)
            manifest["missing_attachments"] = self._write_attachment_files(writer, shas)
            payload = writer.finish(manifest, self._keys.sign)
            # The file is written outside any transaction so a slow stick does not hold up the
            # window. A failed write only leaves rows stamped with a generation nobody
            # acknowledged: the next bundle carries them again.
            header = _header(manifest)
            name = f"bbcs-{local_code}-{now:%Y%m%d-%H%M%S}-{generation:05d}{bf.BUNDLE_SUFFIX}"
            report("写入", 3, 4)
            path, size, sha = _write_bundle_file(
                target_dir, name, header, payload, bf.Recipient(city.code, recipient_key)
            )
        except OSError as exc:
            raise EnvironmentProblem(_temp_problem(exc)) from exc
        finally:
            writer.close()
        self._record_export(
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

    def _record_export(self, actor: Actor, record: Bundle) -> None:
        with self._db.write() as session:
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

    @contextlib.contextmanager
    def _open_records(self, payload: bf.Payload, bundle_name: str) -> Iterator[RecordsFile]:
        """Unpack a bundle's records file into a scratch folder (checked against the signed
        manifest) and open it; the file is gone afterwards."""
        with (
            scratch_folder(payload.unpacked_size(bf.RECORDS_MEMBER) or 0) as folder,
            self._unpacked_records(payload, folder, bundle_name) as records,
        ):
            yield records

    @contextlib.contextmanager
    def _unpacked_records(
        self, payload: bf.Payload, folder: Path, bundle_name: str
    ) -> Iterator[RecordsFile]:
        target = folder / "records.sqlite"
        try:
            payload.unpack_member(bf.RECORDS_MEMBER, target)
        except OSError as exc:
            full = exc.errno == errno.ENOSPC
            raise EnvironmentProblem(
                (
                    "本机临时文件夹所在磁盘已满，无法解开数据包。请清理磁盘后重试。"
                    if full
                    else f"解开数据包时本机临时文件出错（{exc.strerror or exc}）。"
                )
                + "本次导入未做任何更改。"
            ) from exc
        records = RecordsFile(target, bundle_name)
        try:
            yield records
        finally:
            records.close()

    @contextlib.contextmanager
    def _new_records_file(self) -> Iterator[tuple[Session, Path, bool]]:
        """A records file to write in a scratch folder, and a session that sees it (see
        ``_records_session``); the file is gone afterwards."""
        with scratch_folder(self._db.file_size()) as folder:  # at most the whole database
            path = folder / "records.sqlite"
            with self._records_session(path, write=False) as (session, attached):
                yield session, path, attached

    @contextlib.contextmanager
    def _records_session(
        self, records_path: Path, *, write: bool
    ) -> Iterator[tuple[Session, bool]]:
        """A session that sees a bundle's records file: attached to it on SQLite (the rows then
        never pass through Python), a plain session elsewhere. Yields (session, attached)."""
        if self._db.is_sqlite:
            with self._db.attached(records_path, ATTACHED, write=write) as session:
                yield session, True
        else:
            with self._db.write() if write else self._db.read() as session:
                yield session, False

    def _write_attachment_files(self, writer: bf.PayloadWriter, shas: list[str]) -> list[str]:
        """Add the stored files; returns the hashes of those missing from the store."""
        missing = []
        for sha in shas:
            path = self._attachments.path_for(sha)
            if path.is_file():
                writer.add_file(f"attachments/{sha}", path)
            else:
                missing.append(sha)
        return missing

    def _export_reference(
        self,
        actor: Actor,
        target_dir: Path,
        progress: Callable[[str, int, int], None] | None,
    ) -> ExportResult:
        _check_target(target_dir)
        bundle_id = str(uuid_module.uuid4())
        now = self._clock.now()
        writer = bf.PayloadWriter()
        try:
            with self._new_records_file() as (session, records_path, attached):
                local_code = _local_site(session).code
                counts = write_records(
                    session,
                    records_path,
                    [(SPECS["departments"], None)],
                    local_code,
                    attached=attached,
                )
                session.commit()
                writer.add_packed_file(bf.RECORDS_MEMBER, records_path)
            with self._db.write() as session:  # committed, not rolled back: ``local`` stays loaded
                local = _local_site(session)
                areas = [
                    [a.name, a.position, a.active]
                    for a in session.scalars(select(Area).order_by(Area.position, Area.id))
                ]
                writer.add_bytes(
                    "records/areas.jsonl", _jsonl("areas", ["name", "position", "active"], areas)
                )
                counts["areas"] = len(areas)
                holidays = [
                    [h.uuid, h.version, h.day.isoformat(), h.working, h.name]
                    for h in session.scalars(select(HolidayOverride).order_by(HolidayOverride.day))
                ]
                writer.add_bytes(
                    "records/holiday_overrides.jsonl",
                    _jsonl(
                        "holiday_overrides", ["uuid", "version", "day", "working", "name"], holidays
                    ),
                )
                counts["holiday_overrides"] = len(holidays)
                years = [[y.year, y.source] for y in session.scalars(select(CalendarYear))]
                writer.add_bytes(
                    "records/calendar_years.jsonl",
                    _jsonl("calendar_years", ["year", "source"], years),
                )
                rules = [
                    [s.key, s.value]
                    for s in session.scalars(
                        select(Setting).where(
                            Setting.key.startswith(RULE_PREFIX) | (Setting.key == DUE_SOON_KEY)
                        )
                    )
                ]
                writer.add_bytes("records/rules.jsonl", _jsonl("rules", ["key", "value"], rules))
                counts["rules"] = len(rules)
                manifest = _manifest(
                    "reference",
                    bundle_id,
                    now,
                    {"code": local.code, "name": local.name, "level": local.level},
                    {"code": "*", "name": "所辖各县区"},
                    counts=counts,
                    algorithms={"signature": bf.SIGNATURE_ALGORITHM, "hash": bf.HASH_ALGORITHM},
                )
                payload = writer.finish(manifest, self._keys.sign)
            header = _header(manifest)
            name = f"bbcs-{local.code}-ref-{now:%Y%m%d-%H%M%S}{bf.BUNDLE_SUFFIX}"
            if progress:
                progress("写入", 1, 1)
            path, size, sha = _write_bundle_file(target_dir, name, header, payload, None)
        finally:
            writer.close()
        self._record_export(
            actor,
            Bundle(
                bundle_id=bundle_id,
                direction="out",
                kind="reference",
                peer_code="*",
                created_at=now,
                file_name=path.name,
                location=str(target_dir),
                size=size,
                sha256=sha,
                counts=counts,
                user_name=actor.username,
            ),
        )
        return ExportResult(path, bundle_id, "reference", counts, size, 0, 0)

    # Import ---------------------------------------------------------------------------------

    def import_path(
        self,
        actor: Actor,
        path: Path,
        *,
        dry_run: bool = False,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> list[ImportReport]:
        """Import a bundle, an acknowledgement, or every one of them in a folder (by name)."""
        actor.require(Permission.EXCHANGE_DATA)
        if path.is_dir():
            files = self.pending_in_folder(path)
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
        progress: Callable[[str, int, int], None] | None = None,
    ) -> ImportReport:
        """One bundle or acknowledgement; a refusal is reported, not raised."""
        actor.require(Permission.EXCHANGE_DATA)
        report = ImportReport(path=str(path), dry_run=dry_run)
        try:
            if path.suffix == bf.ACK_SUFFIX:
                self._import_ack(actor, path, report, dry_run)
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

    def _import_bundle(
        self,
        actor: Actor,
        path: Path,
        report: ImportReport,
        dry_run: bool,
        progress: Callable[[str, int, int], None] | None,
    ) -> None:
        header = bf.read_header(path)
        report.kind = header.kind
        report.bundle_id = header.bundle_id
        report.from_site = header.from_site
        report.created_at = str(header.data.get("created_at", ""))
        with self._db.read() as session:
            local = _SiteView.of(_local_site(session))
            peer = session.scalar(
                select(Site).where(Site.code == header.from_site, Site.is_local.is_(False))
            )
            sender = _SiteView.of(peer) if peer is not None else None
            done = session.execute(
                select(Bundle.processed_at, Bundle.counts).where(
                    Bundle.direction == "in", Bundle.bundle_id == header.bundle_id
                )
            ).first()
        if header.kind == "data":
            if local.level != SiteLevel.CITY.value:
                raise BundleRefused(
                    "wrong_kind", "这是县区上报的数据包，应在市级站点导入；本站点是县区级。"
                )
            if header.to_site != local.code:
                raise BundleRefused(
                    "not_addressed",
                    f"数据包是发给站点 {header.to_site} 的，不是本站点（{local.code}），拒绝导入。",
                )
        else:
            if local.level != SiteLevel.COUNTY.value:
                raise BundleRefused("wrong_kind", "这是市级下发的基础数据包，应在县区站点导入。")
            if header.to_site != "*":
                raise BundleRefused("tampered", f"数据包“{path.name}”的文件头已损坏。")
        if sender is None or not sender.signing_public_key:
            raise BundleRefused(
                "unknown_site",
                f"数据包来自未登记的站点 {header.from_site}：请先登记该站点的身份文件"
                "（bbcs keys trust），并电话核对指纹。",
            )
        report.from_name = sender.name
        if sender.trust_state != TRUSTED:
            raise BundleRefused(
                "revoked_site",
                f"站点“{sender.name}”（{sender.code}）的密钥已被吊销，拒绝导入它的数据包。",
            )
        if header.kind == "data" and sender.level != SiteLevel.COUNTY.value:
            raise BundleRefused("wrong_kind", "只接收县区站点上报的数据包。")
        if header.kind == "reference" and sender.level != SiteLevel.CITY.value:
            raise BundleRefused("wrong_kind", "只接收市级站点下发的基础数据包。")
        if header.kind == "data" and header.encryption.get("algorithm") != bf.ENCRYPTION_ALGORITHM:
            raise BundleRefused("tampered", f"数据包“{path.name}”未加密，拒绝导入。")
        signing_key = bf.b64decode(sender.signing_public_key)
        if signing_key is None:
            raise BundleRefused(
                "unknown_site", f"站点 {sender.code} 登记的公钥无效，请重新登记该站点。"
            )
        with bf.open_payload(path, header, self._keys.decryption_keys()) as plain:
            payload = bf.Payload(plain, path.name)
            try:
                manifest = payload.verify(signing_key)
                _check_manifest(manifest, header, path.name)
                if done is not None:  # checked after the signature: a forged copy is refused
                    self._already_imported(path, done, report, dry_run)
                elif header.kind == "data":
                    self._apply_data(
                        actor, path, header, payload, manifest, sender, report, dry_run, progress
                    )
                else:
                    self._apply_reference(
                        actor, path, header, payload, manifest, sender, report, dry_run
                    )
            finally:
                payload.close()

    def _store_attachments(self, payload: bf.Payload, members: list[str]) -> None:
        """Materials go into the store before the commit: if the import then fails they stay as
        unreferenced files named by their hash (harmless, reused by a later import)."""
        for member in members:
            target = self._attachments.path_for(member.split("/", 1)[1])
            if not target.is_file():
                try:
                    payload.copy_member(member, target)
                except OSError as exc:
                    raise EnvironmentProblem(
                        f"保存材料时出错：{exc.strerror or exc}。本次导入未做任何更改。"
                    ) from exc

    def settle_imports(self) -> None:
        """Copy what imports left in SQLite's write-ahead log into the database file (a first
        upload leaves hundreds of MB there; the import itself is already durable). Run it after
        a batch of imports, off the UI thread; otherwise the next save would pay for it."""
        self._db.checkpoint()

    def _already_imported(self, path: Path, done: Any, report: ImportReport, dry_run: bool) -> None:
        """Importing a bundle again changes nothing; its acknowledgement is written again."""
        processed_at, counts = done
        report.reasons[f"此数据包已于 {processed_at:%Y-%m-%d %H:%M} 导入过"] += 1
        for name, n in (counts or {}).items():
            if isinstance(n, int):
                report.ignored[name] += n
        report.notes.append("重复导入：未做任何更改。")
        ack = (counts or {}).get("ack")
        if not dry_run and isinstance(ack, dict):
            report.ack_path = self._write_ack_file(path.parent, path, ack)

    def _apply_data(
        self,
        actor: Actor,
        path: Path,
        header: bf.Header,
        payload: bf.Payload,
        manifest: dict[str, Any],
        sender: _SiteView,
        report: ImportReport,
        dry_run: bool,
        progress: Callable[[str, int, int], None] | None,
    ) -> None:
        tell = progress or (lambda _what, _done, _total: None)
        now = self._clock.now()
        members = set(payload.member_names())
        attachment_members = [m for m in members if m.startswith("attachments/")]
        for member in sorted(members - {bf.RECORDS_MEMBER, *attachment_members}):
            raise BundleRefused(
                "unexpected_member", f"数据包“{path.name}”中有不应有的文件“{member}”，拒绝导入。"
            )
        tell("解开记录", 0, 4)
        with self._open_records(payload, path.name) as records:
            columns = records.known_columns()
            tell("检查记录", 1, 4)
            with (
                ThreadPoolExecutor(1, thread_name_prefix="bbcs-check") as checker,
                self._records_session(records.path, write=True) as (session, attached),
            ):
                # Every value is checked on a second thread while the rows are copied.
                checking = checker.submit(records.check_values, columns)
                local_code = _local_site(session).code
                importer = RecordMerger(
                    session,
                    sender.code,
                    header.bundle_id,
                    now,
                    report,
                    local_code=local_code,
                    attached=attached,
                )
                try:
                    tell("合并记录", 2, 4)
                    importer.merge_file(records, columns, checking.result)
                    if dry_run:
                        checking.result()  # a dry run reports only on checked values
                        session.rollback()
                        return
                    tell("更新检索", 3, 4)
                    self._store_attachments(payload, attachment_members)
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
                    created_at=_parse_time(manifest.get("created_at")) or processed,
                    file_name=path.name,
                    location=str(path.parent),
                    size=_size_of(path),
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
                ack = self._ack_document(record, report)
                record.counts = dict(record.counts, ack=ack)
        report.ack_path = self._write_ack_file(path.parent, path, ack)

    def _apply_reference(
        self,
        actor: Actor,
        path: Path,
        header: bf.Header,
        payload: bf.Payload,
        manifest: dict[str, Any],
        sender: _SiteView,
        report: ImportReport,
        dry_run: bool,
    ) -> None:
        now = self._clock.now()
        members = set(payload.member_names())

        def rows_of(name: str, columns: Sequence[str]) -> list[dict[str, Any]]:
            member = f"records/{name}.jsonl"
            if member not in members:
                return []
            lines = list(bf.read_lines(payload.read_member(member), member))
            if (
                not lines
                or not isinstance(lines[0], dict)
                or lines[0].get("table") != name
                or lines[0].get("columns") != list(columns)
            ):
                raise BundleRefused("bad_content", f"数据包中“{member}”的格式不正确。")
            out = []
            for line in lines[1:]:
                if not isinstance(line, list) or len(line) != len(columns):
                    raise BundleRefused("bad_content", f"数据包中“{member}”的格式不正确。")
                out.append(dict(zip(columns, line, strict=True)))
            return out

        areas = rows_of("areas", ["name", "position", "active"])
        holidays = rows_of("holiday_overrides", ["uuid", "version", "day", "working", "name"])
        years = rows_of("calendar_years", ["year", "source"])
        rules = rows_of("rules", ["key", "value"])
        departments = SPECS["departments"]
        with (
            self._open_records(payload, path.name) as records,
            self._records_session(records.path, write=True) as (session, attached),
        ):
            if any(spec is not departments for spec in records.tables()):
                raise BundleRefused("bad_content", "基础数据包中只应有部门等基础数据，拒绝导入。")
            importer = RecordMerger(
                session,
                sender.code,
                header.bundle_id,
                now,
                report,
                local_code=_local_site(session).code,
                attached=attached,
            )
            try:
                columns = records.known_columns()
                records.check_values(columns)  # a few hundred departments: before any copy
                importer.merge_file(records, columns, lambda: None)
            except (IntegrityError, DataError) as exc:
                raise incompatible(exc) from exc
            existing_areas = set(session.scalars(select(Area.name)))
            position = session.scalar(select(func.max(Area.position))) or 0
            for row in areas:
                name = row["name"]
                if not isinstance(name, str) or not name.strip() or len(name) > 40:
                    raise BundleRefused("bad_content", "数据包中的领域名称不正确。")
                if name in existing_areas:
                    report.ignored["areas"] += 1
                    report.reasons["领域已存在"] += 1
                else:
                    position += 1
                    session.add(Area(name=name, position=position, active=True))
                    existing_areas.add(name)
                    report.added["areas"] += 1
            calendar_changed = False
            for row in holidays:
                try:
                    day = date.fromisoformat(row["day"])
                    working = bool(row["working"])
                    version = int(row["version"])
                    name = str(row["name"])[:40]
                    the_uuid = str(row["uuid"])
                except (TypeError, ValueError, KeyError):
                    raise BundleRefused("bad_content", "数据包中的节假日安排格式不正确。") from None
                local_row = session.scalar(
                    select(HolidayOverride).where(HolidayOverride.day == day)
                )
                if local_row is None:
                    session.add(
                        HolidayOverride(
                            uuid=the_uuid,
                            version=version,
                            day=day,
                            working=working,
                            name=name,
                            created_at=now,
                            created_by=sender.name[:40],
                        )
                    )
                    report.added["holiday_overrides"] += 1
                    calendar_changed = True
                elif local_row.uuid != the_uuid:
                    report.ignored["holiday_overrides"] += 1
                    report.reasons["本站点已有该日的安排"] += 1
                elif local_row.version < version:
                    local_row.working = working
                    local_row.name = name
                    local_row.version = version
                    report.updated["holiday_overrides"] += 1
                    calendar_changed = True
                else:
                    report.ignored["holiday_overrides"] += 1
                    report.reasons["已是最新"] += 1
            for row in years:
                year = row.get("year")
                if not isinstance(year, int) or not 2000 <= year <= 2100:
                    raise BundleRefused("bad_content", "数据包中的年份不正确。")
                if session.get(CalendarYear, year) is None:
                    session.add(
                        CalendarYear(year=year, source=f"{sender.name}下发", imported_at=now)
                    )
                    calendar_changed = True
            # Rules carry no version: an older reference bundle (a stale stick) must not undo
            # newer ones, so they are applied only from a bundle newer than the last applied.
            newest_key = f"sync_reference_from_{sender.code}"
            created = str(manifest.get("created_at", ""))
            newest = session.scalar(select(Setting.value).where(Setting.key == newest_key))
            if rules and newest and created <= newest:
                report.ignored["rules"] += len(rules)
                report.reasons["比已导入的基础数据包更早"] += len(rules)
                rules = []
            elif created:
                session.merge(Setting(key=newest_key, value=created))
            if rules:
                stored = {
                    s.key: s.value
                    for s in session.scalars(
                        select(Setting).where(
                            Setting.key.startswith(RULE_PREFIX) | (Setting.key == DUE_SOON_KEY)
                        )
                    )
                }
                incoming = {}
                for row in rules:
                    key, value = row["key"], row["value"]
                    if (
                        not isinstance(key, str)
                        or not isinstance(value, str)
                        or not re.fullmatch(r"[0-9]{1,4}", value)
                    ):
                        raise BundleRefused("bad_content", "数据包中的期限规则不正确。")
                    incoming[key] = value
                days = {
                    k: int(incoming[RULE_PREFIX + k.value])
                    for k in RuleKey
                    if RULE_PREFIX + k.value in incoming
                }
                due_soon = int(incoming.get(DUE_SOON_KEY, "3"))
                if validate_rule_days(days, due_soon):
                    raise BundleRefused("bad_content", "数据包中的期限规则超出允许范围。")
                for key, value in incoming.items():
                    if key != DUE_SOON_KEY and not key.startswith(RULE_PREFIX):
                        continue
                    if stored.get(key) == value:
                        report.ignored["rules"] += 1
                        report.reasons["已是最新"] += 1
                    else:
                        session.merge(Setting(key=key, value=value))
                        report.updated["rules"] += 1
            if dry_run:
                session.rollback()
                return
            if calendar_changed:
                bump_revision(session)
                moved = recompute_open_deadlines(
                    session, calendar_in(session), actor.display_name, now
                )
                if moved:
                    report.notes.append(f"节假日调整后 {len(moved)} 个未到期期限已重新计算。")
            session.add(
                Bundle(
                    bundle_id=header.bundle_id,
                    direction="in",
                    kind="reference",
                    peer_code=sender.code,
                    created_at=_parse_time(manifest.get("created_at")) or now,
                    file_name=path.name,
                    location=str(path.parent),
                    size=_size_of(path),
                    counts=report.totals(),
                    processed_at=now,
                    user_name=actor.username,
                )
            )
            audit.record(
                session,
                at=now,
                user_name=actor.username,
                action="import_reference",
                entity="bundle",
                entity_uuid=header.bundle_id,
                after={"file": path.name, "from": sender.code, **report.totals()},
            )

    # Acknowledgements -----------------------------------------------------------------------

    def _ack_document(self, record: Bundle, report: ImportReport) -> dict[str, Any]:
        local_code = self._site_summary().code
        body = {
            "format": bf.FORMAT,
            "kind": "ack",
            "bundle_id": record.bundle_id,
            "bundle_file": record.file_name,
            "from_site": local_code,
            "to_site": record.peer_code,
            "generation": record.generation,
            "imported_at": (record.processed_at or self._clock.now()).isoformat(timespec="seconds"),
            "result": report.totals(),
        }
        signature = self._keys.sign(bf.canonical_json(body))
        return body | {"signature": bf.b64encode(signature)}

    def _write_ack_file(self, folder: Path, bundle_path: Path, ack: dict[str, Any]) -> str:
        """Beside the bundle if the medium allows; otherwise in the data dir's outbox."""
        data = json.dumps(ack, ensure_ascii=False, indent=1).encode("utf-8")
        name = bundle_path.stem + bf.ACK_SUFFIX
        for place in (folder, self._attachments.root.parent / "outbox"):
            try:
                place.mkdir(parents=True, exist_ok=True)
                write_atomically(place / name, data)
                return str(place / name)
            except OSError as exc:
                log.warning("could not write acknowledgement to %s: %s", place, exc)
        return ""

    def _import_ack(self, actor: Actor, path: Path, report: ImportReport, dry_run: bool) -> None:
        report.kind = "ack"
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise BundleRefused("unreadable", f"无法读取“{path}”：{exc.strerror or exc}") from exc
        if len(raw) > bf.MAX_ACK_BYTES:
            raise BundleRefused("too_large", f"“{path.name}”不是回执文件（过大）。")
        try:
            ack = bf.loads(raw)
        except ValueError:
            raise BundleRefused("not_a_bundle", f"“{path.name}”不是 bbcs 回执文件。") from None
        if not isinstance(ack, dict) or ack.get("kind") != "ack":
            raise BundleRefused("not_a_bundle", f"“{path.name}”不是 bbcs 回执文件。")
        version = ack.get("format")
        if isinstance(version, int) and version > bf.FORMAT:
            raise BundleRefused("too_new", f"回执“{path.name}”的格式较新，请先升级本软件。")
        signature = bf.b64decode(ack.get("signature"))
        body = {k: v for k, v in ack.items() if k != "signature"}
        report.bundle_id = str(ack.get("bundle_id", ""))
        report.from_site = str(ack.get("from_site", ""))
        with self._db.write() as session:
            local = _local_site(session)
            if ack.get("to_site") != local.code:
                raise BundleRefused(
                    "not_addressed", f"回执是发给站点 {ack.get('to_site')} 的，不是本站点。"
                )
            sender = session.scalar(
                select(Site).where(Site.code == report.from_site, Site.is_local.is_(False))
            )
            if sender is None or not sender.signing_public_key:
                raise BundleRefused("unknown_site", f"回执来自未登记的站点 {report.from_site}。")
            if sender.trust_state != TRUSTED:
                raise BundleRefused("revoked_site", f"站点“{sender.name}”的密钥已被吊销。")
            report.from_name = sender.name
            key = bf.b64decode(sender.signing_public_key)
            try:
                if signature is None or key is None:
                    raise InvalidSignature
                Ed25519PublicKey.from_public_bytes(key).verify(signature, bf.canonical_json(body))
            except (InvalidSignature, ValueError):
                raise BundleRefused(
                    "bad_signature", f"回执“{path.name}”的签名不符，可能被改动，拒绝导入。"
                ) from None
            sent = session.scalar(
                select(Bundle).where(
                    Bundle.direction == "out", Bundle.bundle_id == report.bundle_id
                )
            )
            if sent is None:
                raise BundleRefused(
                    "bad_content", f"回执对应的数据包（{report.bundle_id}）不是本站点导出的。"
                )
            if sent.acked_at is not None:
                report.ignored["ack"] += 1
                report.reasons["回执已导入过"] += 1
                return
            report.updated["ack"] += 1
            if dry_run:
                return
            now = self._clock.now()
            sent.acked_at = _parse_time(ack.get("imported_at")) or now
            sent.counts = dict(sent.counts, ack_result=ack.get("result"))
            audit.record(
                session,
                at=now,
                user_name=actor.username,
                action="import_ack",
                entity="bundle",
                entity_uuid=sent.bundle_id,
                after={"file": path.name, "generation": sent.generation},
            )

    # Conflicts ------------------------------------------------------------------------------

    def conflicts(self, *, include_resolved: bool = False) -> list[ConflictInfo]:
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

    def resolve_conflict(self, actor: Actor, conflict_id: int, *, take_incoming: bool) -> Changes:
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
                    session, conflict.site_code, conflict.bundle_id, now, ImportReport(path="")
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

    # Helpers --------------------------------------------------------------------------------

    def _site_summary(self) -> _SiteView:
        with self._db.read() as session:
            return _SiteView.of(_local_site(session))


@dataclass(frozen=True)
class _SiteView:
    """A site's row read in one session and used after it closed."""

    code: str
    name: str
    level: str
    trust_state: str
    signing_public_key: str

    @classmethod
    def of(cls, site: Site) -> _SiteView:
        return cls(site.code, site.name, site.level, site.trust_state, site.signing_public_key)


# Module helpers -----------------------------------------------------------------------------


def _local_site(session: Session) -> Site:
    site = session.scalar(select(Site).where(Site.is_local.is_(True)))
    if site is None:
        raise UserError("站点尚未初始化，请先运行 bbcs init。")
    return site


def _trusted_city(session: Session) -> Site | None:
    return session.scalar(
        select(Site).where(
            Site.is_local.is_(False),
            Site.level == SiteLevel.CITY.value,
            Site.trust_state == TRUSTED,
        )
    )


def _trusted_site(session: Session, site: Site) -> TrustedSite:
    last = session.scalar(select(func.max(Bundle.created_at)).where(Bundle.peer_code == site.code))
    return TrustedSite(
        site.code,
        site.name,
        SiteLevel(site.level),
        _fingerprint_of(site),
        site.trust_state,
        site.trusted_at,
        site.revoked_at,
        last,
    )


def _fingerprint_of(site: Site) -> str:
    if not site.signing_public_key:
        return ""
    return PublicIdentity(
        site.code,
        site.name,
        site.level,
        site.signing_public_key,
        site.encryption_public_key,
        site.keys_created_at or "2000-01-01T00:00:00",
    ).fingerprint()


def _site_json(site: Site) -> dict[str, Any]:
    return {
        "code": site.code,
        "name": site.name,
        "level": site.level,
        "fingerprint": _fingerprint_of(site),
        "state": site.trust_state,
    }


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


def _audit_head(value: str | None) -> dict[str, Any] | None:
    """The audit chain's newest entry (``id:hash``), so the city can see the chain only grows."""
    if not value or ":" not in value:
        return None
    entry_id, entry_hash = value.split(":", 1)
    return {"id": int(entry_id) if entry_id.isdigit() else entry_id, "hash": entry_hash}


def _int_setting(session: Session, key: str, default: int) -> int:
    value = session.scalar(select(Setting.value).where(Setting.key == key))
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _bundle_time_range(session: Session, base: int) -> dict[str, str | None]:
    t = Base.metadata.tables["cases"]
    low, high = session.execute(
        select(func.min(t.c.updated_at), func.max(t.c.updated_at)).where(t.c.change_seq > base)
    ).one()
    return {
        "from": low.isoformat(timespec="seconds") if low else None,
        "to": high.isoformat(timespec="seconds") if high else None,
    }


def _manifest(
    kind: str,
    bundle_id: str,
    now: datetime,
    from_site: dict[str, Any],
    to_site: dict[str, Any],
    **fields: Any,
) -> dict[str, Any]:
    """A bundle's manifest (signed): what every kind starts with, then ``fields``."""
    return {
        "format": bf.FORMAT,
        "kind": kind,
        "bundle_id": bundle_id,
        "app_version": __version__,
        "created_at": now.isoformat(timespec="seconds"),
        "from_site": from_site,
        "to_site": to_site,
        **fields,
    }


def _header(manifest: dict[str, Any]) -> dict[str, Any]:
    """The bundle's clear header, made from its manifest: the importer refuses a header that
    does not match the manifest (``_check_manifest``)."""
    return {
        "kind": manifest["kind"],
        "bundle_id": manifest["bundle_id"],
        "from_site": manifest["from_site"]["code"],
        "to_site": manifest["to_site"]["code"],
        "created_at": manifest["created_at"],
    }


def _check_manifest(manifest: dict[str, Any], header: bf.Header, name: str) -> None:
    site = manifest.get("from_site")
    to = manifest.get("to_site")
    if (
        manifest.get("bundle_id") != header.bundle_id
        or manifest.get("kind") != header.kind
        or not isinstance(site, dict)
        or site.get("code") != header.from_site
        or not isinstance(to, dict)
        or to.get("code") != header.to_site
    ):
        raise BundleRefused("tampered", f"数据包“{name}”的文件头与签名的清单不一致，拒绝导入。")
    version = manifest.get("format")
    if isinstance(version, int) and version > bf.FORMAT:
        raise BundleRefused("too_new", f"数据包“{name}”的格式较新，请先升级本软件。")


def _jsonl(table: str, columns: list[str], rows: Iterable[list[Any]]) -> bytes:
    """A reference member, headed like the records members (``{"table", "columns"}``)."""
    lines = [json.dumps({"table": table, "columns": columns}, ensure_ascii=False)]
    lines += [json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    return f"{max(1, size // 1024)} KB"


def _size_of(path: Path) -> int:
    """A bundle's size for the record; 0 if the stick went away after it was read."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _acked_generation(session: Session, city_code: str) -> int:
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


def _temp_problem(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "本机临时文件夹所在磁盘已满，无法生成数据包。请清理磁盘后重试。"
    return f"生成数据包时本机临时文件出错（{exc.strerror or exc}）。"


def _check_target(folder: Path) -> None:
    if not str(folder).strip():
        raise UserError("请选择数据包的保存位置（U盘、共享文件夹或本地文件夹）。")
    if not folder.exists():
        raise EnvironmentProblem(
            f"找不到目标位置 {folder}：U盘可能已拔出，或共享文件夹无法访问。请检查后重试。"
        )
    if not folder.is_dir():
        raise UserError(f"{folder} 不是文件夹。")
    probe = folder / f".bbcs-probe-{os.getpid()}.tmp"
    try:  # a write-protected stick or a read-only share is found before any work is done
        probe.write_bytes(b"bbcs")
        probe.unlink()
    except OSError as exc:
        with contextlib.suppress(OSError):
            probe.unlink()
        raise EnvironmentProblem(_folder_problem(exc, folder)) from exc


def _folder_problem(exc: OSError, folder: Path) -> str:
    if exc.errno == errno.EFBIG:
        return (
            f"{folder} 不能存放这么大的文件（U盘为 FAT32 格式时单个文件不能超过 4 GB）。"
            "请换用 NTFS/exFAT 格式的U盘或共享文件夹。"
        )
    if exc.errno == errno.ENOSPC:
        return (
            f"{folder} 空间已满，数据包未写出（未留下不完整的文件）。请换一个U盘或清理空间后重试。"
        )
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"{folder} 是只读的或没有写入权限，数据包未写出。请检查U盘的写保护开关或共享权限。"
    if exc.errno in (errno.ENOENT, errno.ENODEV, errno.EIO, errno.ENXIO):
        return (
            f"写入 {folder} 时出错：U盘可能已被拔出或共享已断开，数据包未写出。请重新连接后重试。"
        )
    return f"写入 {folder} 时出错（{exc.strerror or exc}），数据包未写出。"


def _write_bundle_file(
    folder: Path,
    name: str,
    header: dict[str, Any],
    payload: Any,
    recipient: bf.Recipient | None,
) -> tuple[Path, int, str]:
    """Temp name, fsync, rename, read back: a pulled stick leaves nothing named ``*.bbcs``."""
    target = folder / name
    partial = folder / f".{name}.part"
    renamed = False
    try:
        digest = hashlib.sha256()
        with partial.open("wb") as raw:
            bf.write_container(_HashingWriter(raw, digest), header, payload, recipient)
            raw.flush()
            os.fsync(raw.fileno())
            forget_cached(raw)  # the read-back below then reads the stick, not memory
        size = partial.stat().st_size
        os.replace(partial, target)
        renamed = True
        fsync_dir(folder)
        if target.stat().st_size != size or sha256_file(target) != digest.hexdigest():
            raise OSError(errno.EIO, "read-back mismatch")
        bf.read_header(target)
    except BaseException as exc:
        # Whatever went wrong, nothing that looks like a bundle stays behind.
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        if renamed:
            with contextlib.suppress(OSError):
                target.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise EnvironmentProblem(_folder_problem(exc, folder)) from exc
        if isinstance(exc, BundleRefused):
            raise EnvironmentProblem(
                f"写入 {folder} 后读回校验不一致：U盘可能有坏块或已被拔出。请换一个U盘重试。"
            ) from exc
        raise
    return target, size, digest.hexdigest()


class _HashingWriter:
    def __init__(self, raw: Any, digest: Any) -> None:
        self._raw = raw
        self._digest = digest

    def write(self, data: bytes) -> int:
        self._digest.update(data)
        return int(self._raw.write(data))
