"""Reference lists the forms choose from (issue 16): today the cause codes.

The cause list is reference data the city sends down (DESIGN.md §6; table ``cause_codes``): a
site offers its active codes in their order, and keeps reading retired ones on old cases.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop_app.domain.causes import cause_label
from desktop_app.storage.database import Database
from desktop_app.storage.models import CauseCode


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
