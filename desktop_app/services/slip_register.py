"""The register of issued papers (交办单, 督办单, 催办通知, 依据告知单) for the 交办单 screen.

Like the ledger: :meth:`SlipRegister.ids` gives the ids of every matching paper in display order
(newest first), :meth:`SlipRegister.rows` the rows for the few ids a view is about to paint. No
caller loads every slip, and no query reads a slip's stored content (its JSON is most of the
table).

Search is a substring of the slip's number, its case's number or title, or its department's
name. Each is looked for in a narrow index (``ix_slips_register``, ``ix_cases_number_title``),
never in the wide tables, and numbers only when the text can be part of one (see
:meth:`SlipRegister._searched`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, case, func, or_, select, union_all
from sqlalchemy.orm import Session

from desktop_app.documents.slip_content import PaperKind
from desktop_app.storage.database import Database
from desktop_app.storage.models import Assignment, Case, Department, Slip

# What follows the prefix in a slip number (杞纪窗交〔2026〕12号, assignment_flow.slip_number)
# and in a case number (杞县-2026-0012).
_SLIP_NUMBER_TAIL = frozenset("0123456789〔〕号")
_CASE_NUMBER_TAIL = frozenset("0123456789-")


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
        self._lock = threading.Lock()
        self._slip_prefixes = _Prefixes(Slip.id, Slip.number, "〔")
        self._case_prefixes = _Prefixes(Case.id, Case.number, "-")

    def ids(self, slip_filter: SlipFilter = SlipFilter(), limit: int | None = None) -> list[int]:
        """Ids of the matching papers, newest first (the first ``limit`` if given)."""
        with self._db.read() as session:
            query = _filtered(select(Slip.id), slip_filter)
            text = " ".join(slip_filter.text.split())
            if text:
                query = self._searched(session, query, text)
            query = query.order_by(Slip.issued_at.desc(), Slip.id.desc())
            if limit is not None:
                query = query.limit(limit)
            # Straight from the DBAPI cursor, as the ledger does: cheaper at 100,000 ids.
            result = session.connection().execute(query)
            return [row[0] for row in result.cursor.fetchall()]

    def _searched(self, session: Session, query: Select[Any], text: str) -> Select[Any]:
        """Papers whose number, case number, case title or department holds ``text``.

        The cases and departments that match give their assignments (through indexes), and
        those the slips. Numbers are looked at only when ``text`` can be part of one: it has a
        character of a number's tail (杞纪窗交〔2026〕12号, 杞县-2026-0012) or lies inside a
        prefix in use. A search for 医保 so reads no slip number and no case number at all.
        """
        with self._lock:
            sqlite = self._db.is_sqlite
            slip_prefixes = set(self._slip_prefixes.current(session, sqlite=sqlite))
            case_prefixes = set(self._case_prefixes.current(session, sqlite=sqlite))
        case_match = Case.title.contains(text, autoescape=True)
        if _could_be_in_a_number(text, _CASE_NUMBER_TAIL, case_prefixes):
            case_match = or_(case_match, Case.number.contains(text, autoescape=True))
        cases = select(Case.id).where(case_match)
        departments = select(Department.id).where(Department.name.contains(text, autoescape=True))
        assignments = union_all(  # duplicates do no harm to IN
            select(Assignment.id).where(Assignment.case_id.in_(cases)),
            select(Assignment.id).where(Assignment.department_id.in_(departments)),
        )
        if _could_be_in_a_number(text, _SLIP_NUMBER_TAIL, slip_prefixes):
            return query.where(
                or_(
                    Slip.number.contains(text, autoescape=True),
                    Slip.assignment_id.in_(assignments),
                )
            )
        return query.where(Slip.assignment_id.in_(assignments))

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
    """Apply the state and kind filters (the text is :meth:`SlipRegister._searched`'s)."""
    if slip_filter.kind is not None:
        query = query.where(Slip.kind == slip_filter.kind.value)
    state = slip_filter.state
    if state is SlipState.VOIDED:
        query = query.where(Slip.voided.is_(True))
    elif state is SlipState.UNPRINTED:
        query = query.where(Slip.voided.is_(False), Slip.print_count == 0)
    elif state is SlipState.VALID:
        query = query.where(Slip.voided.is_(False), Slip.print_count > 0)
    return query


def _could_be_in_a_number(text: str, tail: frozenset[str], prefixes: set[str]) -> bool:
    """Whether ``text`` can be part of a number made of a prefix and a tail of ``tail``'s
    characters: it lies inside a prefix, or it is the end of a prefix (or nothing) followed by
    tail characters only. 医保 cannot be part of 杞纪窗交〔2026〕12号 and 〔2026〕12 cannot be
    part of 杞县-2026-0012, so neither search reads those numbers."""
    lowered = text.lower()  # LIKE ignores the case of ASCII letters
    if any(lowered in prefix for prefix in prefixes):
        return True
    for split in range(len(lowered)):
        head, rest = lowered[:split], lowered[split:]
        if all(c in tail for c in rest) and (
            not head or any(prefix.endswith(head) for prefix in prefixes)
        ):
            return True
    return False


def _prefix(number: str, separator: str) -> str:
    """The part of a number before its tail (the whole number if it has no tail)."""
    head, found, _tail = number.partition(separator)
    return (head if found else number).lower()


class _Prefixes:
    """The distinct prefixes of a number column, kept up to date from rows added since: numbers
    never change, so only rows with a larger id are read again."""

    def __init__(self, ids: Any, numbers: Any, separator: str) -> None:
        self._ids = ids
        self._numbers = numbers
        self._separator = separator
        self._last_id: int | None = None
        self._prefixes: set[str] = set()

    def current(self, session: Session, *, sqlite: bool) -> set[str]:
        if self._last_id is None:
            # The first time: the distinct prefixes, worked out by the database (a handful of
            # rows instead of 100,000 numbers; SQLite reads a narrow index holding the number).
            self._last_id = session.scalar(select(func.max(self._ids))) or 0
            for (prefix,) in session.execute(select(self._prefix_sql(sqlite)).distinct()):
                self._prefixes.add(prefix.lower())
            return self._prefixes
        # Later: a range of the primary key, only what was added since.
        query = select(self._ids, self._numbers).where(self._ids > self._last_id)
        for row_id, number in session.execute(query):
            self._prefixes.add(_prefix(number, self._separator))
            self._last_id = max(self._last_id, row_id)
        return self._prefixes

    def _prefix_sql(self, sqlite: bool) -> Any:
        """:func:`_prefix` in SQL (the whole number when it has no separator)."""
        if not sqlite:
            return func.split_part(self._numbers, self._separator, 1)
        at = func.instr(self._numbers, self._separator)
        return case((at > 0, func.substr(self._numbers, 1, at - 1)), else_=self._numbers)
