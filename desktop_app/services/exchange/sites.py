"""The sites an exchange involves, as the database holds them: this site, the trusted city, a
registered site's fingerprint, and a site's row carried past the session that read it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop_app.domain.vocabulary import SiteLevel
from desktop_app.errors import UserError
from desktop_app.services.keys import PublicIdentity
from desktop_app.storage.database import Database
from desktop_app.storage.models import Bundle, Site

TRUSTED: Final = "trusted"
REVOKED: Final = "revoked"


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
class SiteView:
    """A site's row read in one session and used after it closed."""

    code: str
    name: str
    level: str
    trust_state: str
    signing_public_key: str

    @classmethod
    def of(cls, site: Site) -> SiteView:
        return cls(site.code, site.name, site.level, site.trust_state, site.signing_public_key)


def site_summary(db: Database) -> SiteView:
    """This site, read in a session of its own."""
    with db.read() as session:
        return SiteView.of(local_site(session))


def local_site(session: Session) -> Site:
    site = session.scalar(select(Site).where(Site.is_local.is_(True)))
    if site is None:
        raise UserError("站点尚未初始化，请先运行 bbcs init。")
    return site


def trusted_city(session: Session) -> Site | None:
    return session.scalar(
        select(Site).where(
            Site.is_local.is_(False),
            Site.level == SiteLevel.CITY.value,
            Site.trust_state == TRUSTED,
        )
    )


def trusted_site(session: Session, site: Site) -> TrustedSite:
    last = session.scalar(select(func.max(Bundle.created_at)).where(Bundle.peer_code == site.code))
    return TrustedSite(
        site.code,
        site.name,
        SiteLevel(site.level),
        fingerprint_of(site),
        site.trust_state,
        site.trusted_at,
        site.revoked_at,
        last,
    )


def fingerprint_of(site: Site) -> str:
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


def site_json(site: Site) -> dict[str, Any]:
    return {
        "code": site.code,
        "name": site.name,
        "level": site.level,
        "fingerprint": fingerprint_of(site),
        "state": site.trust_state,
    }
