"""Reference lists the forms choose from (issue 16): today the cause codes.

The cause list is reference data the city sends down (DESIGN.md §6; table ``cause_codes``): a
site offers its active codes in their order, and keeps reading retired ones on old cases.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop_app.domain.causes import cause_label
from desktop_app.storage.database import Database
from desktop_app.storage.models import CauseCode, Department, Site


@dataclass(frozen=True)
class CauseOption:
    """One cause a triage may choose: its stable code and its Chinese label."""

    code: str
    label: str


def active_causes(session: Session) -> list[CauseOption]:
    """The active causes in the list's order (in the caller's session)."""
    rows = session.scalars(
        select(CauseCode)
        .where(CauseCode.active.is_(True))
        .order_by(CauseCode.position, CauseCode.code)
    )
    return [CauseOption(row.code, row.label) for row in rows]


def cause_labels(session: Session) -> dict[str, str]:
    """Every code's label, retired ones too, so an old case still reads in words."""
    return {row.code: row.label for row in session.scalars(select(CauseCode))}


def department_labels(session: Session) -> dict[int, str]:
    """Each department's name as figures show it (statistics, scorecards): its name, and where
    several departments share one (a city holds every county's, a county the ones its city
    sent), the short name of the site it came from after the name of each not this site's own,
    so that their figures are neither added together nor shown as two rows alike."""
    rows = session.execute(select(Department.id, Department.name, Department.site_code)).all()
    named = Counter(name for _id, name, _site in rows)
    short = dict(session.execute(select(Site.code, Site.short_name)).all())
    return {
        department_id: (
            name
            if named[name] == 1 or not site_code
            else f"{name}（{short.get(site_code) or site_code}）"
        )
        for department_id, name, site_code in rows
    }


class ReferenceService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def causes(self) -> list[CauseOption]:
        """The causes a triage offers, in order."""
        with self._db.read() as session:
            return active_causes(session)

    def cause_labels(self) -> dict[str, str]:
        with self._db.read() as session:
            return cause_labels(session)

    def label(self, code: str) -> str:
        """A stored cause (an old one included) in words."""
        return cause_label(code, self.cause_labels())
