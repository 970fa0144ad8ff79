"""Who may change a record: a case belongs to the site that registered it (DESIGN.md §6).

At the city, the counties' cases arrive in bundles and are shown in the same ledger and
calendar, but only the county that registered a case may change it; the city reads it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from desktop_app.errors import NotFound, PermissionDenied
from desktop_app.storage.models import Case, Exported, Site


def made_here(model: type[Exported]) -> ColumnElement[bool]:
    """Rows this site created, as opposed to copies received in a bundle (those carry the
    code of the site that sent them)."""
    column: Any = model.origin_site  # a mapped column on every concrete Exported model
    return column == ""  # type: ignore[no-any-return]


def owned_elsewhere(case_site_code: str, local_code: str) -> bool:
    """A case registered at another site (a county's case seen at the city) is read-only here."""
    return bool(case_site_code) and case_site_code != local_code


def local_site_code(session: Session) -> str:
    return session.scalar(select(Site.code).where(Site.is_local.is_(True))) or ""


def read_only_reason(session: Session, case: Case) -> str:
    """Why this site may not change ``case`` ("" when it may)."""
    if not owned_elsewhere(case.site_code, local_site_code(session)):
        return ""
    owner = session.scalar(select(Site.name).where(Site.code == case.site_code))
    return f"本事项由{owner or case.site_code}登记办理，本站点只能查看，不能修改。"


def editable_case(session: Session, case_id: int) -> Case:
    """The case, for a change; refuses a case owned by another site."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("事项不存在")
    reason = read_only_reason(session, case)
    if reason:
        raise PermissionDenied(reason)
    return case


def require_made_here(session: Session, row: Exported, what: str) -> None:
    """Refuse to change ``row`` (a referral, class or meeting, ``what`` names it) when another
    site sent it here: only its own site changes it, or the sender's later versions would be
    ignored as older than the copy changed here (issue 16)."""
    if row.origin_site:
        owner = session.scalar(select(Site.name).where(Site.code == row.origin_site))
        raise PermissionDenied(
            f"本{what}由{owner or row.origin_site}登记，本站点只能查看，不能修改。"
        )
