"""Trust between sites: this site's public identity written and read, other sites registered,
their keys replaced or revoked, this site's keys rotated (DESIGN.md §6)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop_app.domain.permissions import Permission
from desktop_app.domain.vocabulary import SiteLevel
from desktop_app.errors import EnvironmentProblem, NotFound, UserError, cannot_write
from desktop_app.files import write_atomically
from desktop_app.services import audit
from desktop_app.services.context import Actor, Clock
from desktop_app.services.exchange import bundle_file as bf
from desktop_app.services.exchange.sites import (
    REVOKED,
    TRUSTED,
    TrustedSite,
    fingerprint_of,
    local_site,
    site_json,
    site_summary,
)
from desktop_app.services.keys import PublicIdentity, SiteKeys
from desktop_app.storage.database import Database
from desktop_app.storage.models import AuditEntry, Bundle, Site


class Trust:
    def __init__(self, db: Database, clock: Clock, keys: SiteKeys) -> None:
        self._db = db
        self._clock = clock
        self._keys = keys

    def write_identity(self, path: Path) -> PublicIdentity:
        """Write this site's public identity (``bbcs keys export``) to ``path``, atomically."""
        info = site_summary(self._db)
        self._keys.ensure()
        identity = self._keys.identity(info.code, info.name, info.level)
        data = json.dumps(identity.to_json(), ensure_ascii=False, indent=2).encode("utf-8")
        if not path.parent.is_dir():
            raise UserError(f"文件夹不存在：{path.parent}")
        try:
            write_atomically(path, data)
        except OSError as exc:
            raise EnvironmentProblem(cannot_write(exc, path, "公开身份文件")) from exc
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
            local = local_site(session)
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
                        f"站点“{site.name}”（{site.code}）已登记，指纹 {fingerprint_of(site)}；"
                        f"新文件的指纹为 {fingerprint}。请先电话核对对方的新指纹，"
                        "确认对方已更换密钥后再选择“替换”（命令行加 --replace）。"
                    )
                if same and site.trust_state == REVOKED and not replace:
                    raise UserError(
                        f"站点“{site.name}”（{site.code}）的这把密钥已被吊销，不能直接恢复；"
                        "请让对方更换密钥，或确认后选择“替换”（命令行加 --replace）。"
                    )
                before = site_json(site)
                if not same:
                    retired: dict[str, Any] = {
                        "signing_public_key": site.signing_public_key,
                        "encryption_public_key": site.encryption_public_key,
                        "keys_created_at": site.keys_created_at,
                        "replaced_at": now.isoformat(timespec="seconds"),
                    }
                    if site.trust_state == REVOKED:
                        # Retired by revocation, not rotation: it stays untrusted for good.
                        retired |= _revocation(site.revoked_at, revocation_reason(session, site))
                    site.previous_keys = [*site.previous_keys, retired]
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
                after=site_json(site),
            )
            verb = "已更新" if action == "replace_site_keys" else "已登记"
            return f"{verb}{level.label}站点“{site.name}”（{site.code}），指纹 {fingerprint}。"

    def rotate_keys(self, actor: Actor) -> PublicIdentity:
        """Make new keys for this site (e.g. after a PC was lost); the old ones are retired, not
        deleted. Other sites must then register the new identity (``keys trust --replace``)."""
        actor.require(Permission.TRUST_SITES)
        info = site_summary(self._db)
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
            # The lost PC held the keys the site retired by rotation too (SiteKeys.rotate keeps
            # them): they are revoked with the current one, unless revoked already.
            site.previous_keys = [
                entry if entry.get("revoked") else entry | _revocation(now, reason)
                for entry in site.previous_keys
            ]
            audit.record(
                session,
                at=now,
                user_name=actor.username,
                action="revoke_site",
                entity="site",
                entity_uuid=site.code,
                after={"reason": reason, "fingerprint": fingerprint_of(site)},
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
                    fingerprint=fingerprint_of(s),
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


def revocation_reason(session: Session, site: Site) -> str:
    """The reason given when ``site`` was last revoked (kept on the audit log), or ""."""
    after = session.scalar(
        select(AuditEntry.after)
        .where(
            AuditEntry.entity == "site",
            AuditEntry.entity_uuid == site.code,
            AuditEntry.action == "revoke_site",
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    return str(after.get("reason", "")) if isinstance(after, dict) else ""


def _revocation(at: datetime | None, reason: str) -> dict[str, Any]:
    """What a retired key keeps of the revocation that retired it (in ``previous_keys``)."""
    return {
        "revoked": True,
        "revoked_at": at.isoformat(timespec="seconds") if at is not None else "",
        "revoke_reason": reason,
    }
