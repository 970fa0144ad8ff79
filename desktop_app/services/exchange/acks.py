"""Acknowledgements: the city signs one for every data bundle it imports and writes it beside
the bundle; the county imports it, and its next bundle starts after that generation.

An acknowledgement is one line of canonical JSON (sorted keys, no spaces), its ``signature`` the
sender's Ed25519 signature of the same JSON without it. A reader refuses a file that is not
exactly the canonical form of what it holds, so every byte is covered: a changed value breaks the
signature, and a changed space, escape or key order breaks the form."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop_app.files import write_atomically
from desktop_app.services import audit
from desktop_app.services.context import Actor, Clock
from desktop_app.services.exchange import bundle_file as bf
from desktop_app.services.exchange.import_report import ImportReport
from desktop_app.services.exchange.manifest import parse_time
from desktop_app.services.exchange.refusals import BundleRefused, RefusalCode
from desktop_app.services.exchange.sites import TRUSTED, local_site
from desktop_app.services.keys import SiteKeys
from desktop_app.storage.database import Database
from desktop_app.storage.models import Bundle, Site

log = logging.getLogger(__name__)


class Acknowledgements:
    def __init__(self, db: Database, clock: Clock, keys: SiteKeys, outbox: Path) -> None:
        self._db = db
        self._clock = clock
        self._keys = keys
        self._outbox = outbox

    def document(self, record: Bundle, report: ImportReport, local_code: str) -> dict[str, Any]:
        """The signed acknowledgement of an imported bundle."""
        processed: datetime = record.processed_at or self._clock.now()
        body: dict[str, Any] = {
            "format": bf.ACK_FORMAT,
            "kind": "ack",
            "bundle_id": record.bundle_id,
            "bundle_file": record.file_name,
            "from_site": local_code,
            "to_site": record.peer_code,
            "generation": record.generation,
            "imported_at": processed.isoformat(timespec="seconds"),
            "result": report.totals(),
        }
        signature = self._keys.sign(bf.canonical_json(body))
        return body | {"signature": bf.b64encode(signature)}

    def write_file(self, folder: Path, bundle_path: Path, ack: dict[str, Any]) -> str:
        """Beside the bundle if the medium allows; otherwise in the data dir's outbox."""
        data = bf.canonical_json(ack)
        name = bundle_path.stem + bf.ACK_SUFFIX
        for place in (folder, self._outbox):
            try:
                place.mkdir(parents=True, exist_ok=True)
                write_atomically(place / name, data)
                return str(place / name)
            except OSError as exc:
                log.warning("could not write acknowledgement to %s: %s", place, exc)
        return ""

    def import_ack(self, actor: Actor, path: Path, report: ImportReport, dry_run: bool) -> None:
        """The city's acknowledgement of one of this site's bundles."""
        report.kind = "ack"
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise BundleRefused(
                RefusalCode.UNREADABLE, f"无法读取“{path}”：{exc.strerror or exc}"
            ) from exc
        if len(raw) > bf.MAX_ACK_BYTES:
            raise BundleRefused(RefusalCode.TOO_LARGE, f"“{path.name}”不是回执文件（过大）。")
        try:
            ack = bf.loads(raw)
        except ValueError:
            raise BundleRefused(
                RefusalCode.NOT_A_BUNDLE, f"“{path.name}”不是 bbcs 回执文件。"
            ) from None
        if not isinstance(ack, dict) or ack.get("kind") != "ack":
            raise BundleRefused(RefusalCode.NOT_A_BUNDLE, f"“{path.name}”不是 bbcs 回执文件。")
        version = ack.get("format")
        if isinstance(version, int) and version > bf.ACK_FORMAT:
            raise BundleRefused(
                RefusalCode.TOO_NEW, f"回执“{path.name}”的格式较新，请先升级本软件。"
            )
        if isinstance(version, int) and version < bf.OLDEST_FORMAT:
            raise BundleRefused(
                RefusalCode.TOO_OLD,
                f"回执“{path.name}”是旧格式（格式版本 {version}，由试用版软件生成），"
                "本软件不再接收：请市级站点升级到本版本后重新导入数据包，生成新的回执。",
            )
        signature = bf.b64decode(ack.get("signature"))
        if (
            raw != bf.canonical_json(ack)
            or signature is None
            or bf.b64encode(signature) != ack.get("signature")
        ):
            raise BundleRefused(
                RefusalCode.TAMPERED, f"回执“{path.name}”已被改动（格式不符），拒绝导入。"
            )
        body = {k: v for k, v in ack.items() if k != "signature"}
        report.bundle_id = str(ack.get("bundle_id", ""))
        report.from_site = str(ack.get("from_site", ""))
        with self._db.write() as session:
            local = local_site(session)
            if ack.get("to_site") != local.code:
                raise BundleRefused(
                    RefusalCode.NOT_ADDRESSED,
                    f"回执是发给站点 {ack.get('to_site')} 的，不是本站点。",
                )
            sender = session.scalar(
                select(Site).where(Site.code == report.from_site, Site.is_local.is_(False))
            )
            if sender is None or not sender.signing_public_key:
                raise BundleRefused(
                    RefusalCode.UNKNOWN_SITE, f"回执来自未登记的站点 {report.from_site}。"
                )
            if sender.trust_state != TRUSTED:
                raise BundleRefused(
                    RefusalCode.REVOKED_SITE, f"站点“{sender.name}”的密钥已被吊销。"
                )
            report.from_name = sender.name
            key = bf.b64decode(sender.signing_public_key)
            try:
                if signature is None or key is None:
                    raise InvalidSignature
                Ed25519PublicKey.from_public_bytes(key).verify(signature, bf.canonical_json(body))
            except (InvalidSignature, ValueError):
                raise BundleRefused(
                    RefusalCode.BAD_SIGNATURE,
                    f"回执“{path.name}”的签名不符，可能被改动，拒绝导入。",
                ) from None
            sent = session.scalar(
                select(Bundle).where(
                    Bundle.direction == "out", Bundle.bundle_id == report.bundle_id
                )
            )
            if sent is None:
                raise BundleRefused(
                    RefusalCode.BAD_CONTENT,
                    f"回执对应的数据包（{report.bundle_id}）不是本站点导出的。",
                )
            if sent.acked_at is not None:
                report.ignored["ack"] += 1
                report.reasons["回执已导入过"] += 1
                return
            newer = _newest_acked(session, sent)
            if newer is not None and newer > sent.generation:
                # Bundle ``newer`` carried everything of this one: nothing is left to settle.
                report.ignored["ack"] += 1
                report.reasons[
                    f"已导入较新的第 {newer} 批回执，此回执（第 {sent.generation} 批）"
                    "不改变任何内容"
                ] += 1
                report.notes.append("较旧的回执：未做任何更改。")
                return
            report.updated["ack"] += 1
            if dry_run:
                return
            now = self._clock.now()
            sent.acked_at = parse_time(ack.get("imported_at")) or now
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


def _newest_acked(session: Session, sent: Bundle) -> int | None:
    """The newest generation the same site acknowledged for this site's bundles, if any."""
    value = session.scalar(
        select(func.max(Bundle.generation)).where(
            Bundle.direction == "out",
            Bundle.kind == sent.kind,
            Bundle.peer_code == sent.peer_code,
            Bundle.acked_at.is_not(None),
        )
    )
    return int(value) if value is not None else None
