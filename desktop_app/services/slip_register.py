"""The register of issued papers (交办单, 督办单, 催办通知, 依据告知单) for the 交办单 screen.

Like the ledger: :meth:`SlipRegister.ids` gives the ids of every matching paper in display order
(newest first), :meth:`SlipRegister.rows` the rows for the few ids a view is about to paint. No
caller loads every slip, and no query reads a slip's stored content (its JSON is most of the
table).

Search is a substring of the slip's number, its case's number or title, or its department's
name. Each is looked for in a narrow index (``ix_slips_register``, ``ix_cases_number_title``),
never in the wide tables, so a search reads a few megabytes at 100,000 slips.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, or_, select, union

from desktop_app.documents.slip_content import PaperKind
from desktop_app.storage.database import Database
from desktop_app.storage.models import Assignment, Case, Department, Slip


class SlipState(StrEnum):
    """What the list shows in its 状态 column; each paper is in exactly one state."""

    UNPRINTED = "unprinted"  # issued, not yet printed
    VALID = "valid"  # issued and printed
    VOIDED = "voided"  # 已作废

    @property
    def label(self) -> str:
        return {
            SlipState.UNPRINTED: "未打印",
            SlipState.VALID: "有效",
            SlipState.VOIDED: "已作废",
        }[self]


@dataclass(frozen=True)
class SlipFilter:
    text: str = ""
    state: SlipState | None = None
    kind: PaperKind | None = None


@dataclass(frozen=True)
class SlipRow:
    id: int
    number: str
    kind: PaperKind
    case_id: int
    case_number: str
    case_title: str
    department: str
    issued_at: datetime
    print_count: int
    voided: bool
    site_code: str  # "" for this site's own papers

    @property
    def state(self) -> SlipState:
        if self.voided:
            return SlipState.VOIDED
        return SlipState.UNPRINTED if self.print_count == 0 else SlipState.VALID


class SlipRegister:
    def __init__(self, db: Database) -> None:
        self._db = db

    def ids(self, slip_filter: SlipFilter = SlipFilter(), limit: int | None = None) -> list[int]:
        """Ids of the matching papers, newest first (the first ``limit`` if given)."""
        with self._db.read() as session:
            query = _filtered(select(Slip.id), slip_filter).order_by(
                Slip.issued_at.desc(), Slip.id.desc()
            )
            if limit is not None:
                query = query.limit(limit)
            # Straight from the DBAPI cursor, as the ledger does: cheaper at 100,000 ids.
            result = session.connection().execute(query)
            return [row[0] for row in result.cursor.fetchall()]

    def count(self, slip_filter: SlipFilter = SlipFilter()) -> int:
        return len(self.ids(slip_filter))

    def rows(self, ids: Sequence[int]) -> list[SlipRow]:
        """The rows for ``ids``, in the same order (ids no longer present are left out)."""
        if not ids:
            return []
        with self._db.read() as session:
            result = session.execute(
                select(
                    Slip.id,
                    Slip.number,
                    Slip.kind,
                    Case.id,
                    Case.number,
                    Case.title,
                    Department.name,
                    Slip.issued_at,
                    Slip.print_count,
                    Slip.voided,
                    Slip.site_code,
                )
                .join(Assignment, Slip.assignment_id == Assignment.id)
                .join(Case, Assignment.case_id == Case.id)
                .join(Department, Assignment.department_id == Department.id)
                .where(Slip.id.in_(list(ids)))
            ).all()
        by_id = {
            r[0]: SlipRow(
                id=r[0],
                number=r[1],
                kind=PaperKind(r[2]),
                case_id=r[3],
                case_number=r[4],
                case_title=r[5],
                department=r[6],
                issued_at=r[7],
                print_count=r[8],
                voided=bool(r[9]),
                site_code=r[10] or "",
            )
            for r in result
        }
        return [by_id[i] for i in ids if i in by_id]


def _filtered(query: Select[Any], slip_filter: SlipFilter) -> Select[Any]:
    """Apply the filter."""
    if slip_filter.kind is not None:
        query = query.where(Slip.kind == slip_filter.kind.value)
    state = slip_filter.state
    if state is SlipState.VOIDED:
        query = query.where(Slip.voided.is_(True))
    elif state is SlipState.UNPRINTED:
        query = query.where(Slip.voided.is_(False), Slip.print_count == 0)
    elif state is SlipState.VALID:
        query = query.where(Slip.voided.is_(False), Slip.print_count > 0)
    text = " ".join(slip_filter.text.split())
    if not text:
        return query
    # The cases and departments that match, then their assignments (both through indexes),
    # and the slips either of those or whose own number matches.
    cases = select(Case.id).where(
        or_(
            Case.number.contains(text, autoescape=True),
            Case.title.contains(text, autoescape=True),
        )
    )
    departments = select(Department.id).where(Department.name.contains(text, autoescape=True))
    assignments = union(
        select(Assignment.id).where(Assignment.case_id.in_(cases)),
        select(Assignment.id).where(Assignment.department_id.in_(departments)),
    )
    return query.where(
        or_(
            Slip.number.contains(text, autoescape=True),
            Slip.assignment_id.in_(assignments),
        )
    )
