"""The deadline board behind 期限日历 and the dashboard: what falls due when (SQL aggregates)."""

from __future__ import annotations

import calendar as month_calendar
import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Select,
    and_,
    any_,
    func,
    literal,
    or_,
    select,
    union,
)
from sqlalchemy.orm import Session, aliased

from desktop_app.domain.assignment_flow import AssignmentKind, AssignmentState
from desktop_app.domain.deadlines import (
    DayCell,
    DeadlineKind,
    DeadlineState,
    MonthView,
    soon_limit,
    state_of,
)
from desktop_app.domain.vocabulary import CaseStatus
from desktop_app.domain.workdays import provisional_warning
from desktop_app.services.calendar import OPEN_CODES, CalendarService, basis_outstanding
from desktop_app.services.roster import DutyRole, shifts_in
from desktop_app.storage.database import Database
from desktop_app.storage.models import Assignment, Case, Complainant, Department


@dataclass(frozen=True)
class BoardFilter:
    department_id: int | None = None
    kinds: tuple[DeadlineKind, ...] = ()  # empty: all kinds
    created_by_id: int | None = None  # "mine": cases this user registered
    site_code: str | None = None  # at the city: one county's deadlines


@dataclass(frozen=True)
class DeadlineItem:
    case_id: int
    number: str
    title: str
    complainant: str
    department: str
    kind: DeadlineKind
    due: date
    state: DeadlineState
    provisional: bool


@dataclass(frozen=True)
class TodayCounts:
    today: date
    due_today: int
    overdue: int
    due_soon: int  # after today, up to soon_until
    soon_until: date


def _column(kind: DeadlineKind) -> Any:
    return {
        DeadlineKind.CASE: Case.due_date,
        DeadlineKind.BASIS: Case.basis_due_date,
        DeadlineKind.VISIT: Case.visit_due_date,
    }[kind]


def _pending(kind: DeadlineKind) -> ColumnElement[bool]:
    """A deadline is still to be met only while its step is not done."""
    if kind is DeadlineKind.VISIT:
        return Case.status == CaseStatus.CONCLUDED.value
    if kind is DeadlineKind.BASIS:
        # A missing written basis stays due after the case is concluded (and visited), until
        # it arrives or a leader waives it (issue 16).
        return basis_outstanding()
    return Case.status.in_(OPEN_CODES)


# The department a case's deadlines are chased with: the one its signed 交办 or 督办 is with now
# (issued or signed for: the 承办单位), or, when none is, the one the person was stuck at. The
# calendar showed and filtered by the stuck department only: an assigned case read 未指定部门,
# and a filter by the department that had it to do listed nothing. Once the department has
# answered, what is left to chase is the window's own (the reply, the visit): the case goes back
# under the stuck department. (Keeping it under the department that answered means reading every
# round ever signed: a filtered month 55 → 320 ms at 100,000 cases.) Once the department has
# answered, what is left to chase is the window's own (the reply, the visit): the case goes back
# under the stuck department. (Keeping it under the department that answered means reading every
# round ever signed: a filtered month 55 → 320 ms at 100,000 cases.)
_LEAD_KINDS = (AssignmentKind.ASSIGN.value, AssignmentKind.SUPERVISE.value)
_WITH_DEPARTMENT = (AssignmentState.ISSUED.value, AssignmentState.RECEIVED.value)
_Stuck = aliased(Department)


def _lead_now() -> Select[Any]:
    return select(Assignment.case_id).where(
        Assignment.kind.in_(_LEAD_KINDS), Assignment.state.in_(_WITH_DEPARTMENT)
    )


def _out_now_touching(department_id: int, *, sqlite: bool) -> Select[int, int]:
    """(case, department it is out to) of each signed 交办/督办 out now that is with
    ``department_id`` or whose case was stuck there: a few hundred rows. SQLite reads them in
    one statement, by the open assignments' state (a county's few thousand; each half by its
    own index took a filtered month from 53 to 82 ms); PostgreSQL, given the OR across the two
    tables, joins every open assignment of a city (36,000: 0.27 s a filtered month), so there
    each half is read by its own index and the two put together (52 ms)."""
    lead_now = (Assignment.state.in_(_WITH_DEPARTMENT), Assignment.kind.in_(_LEAD_KINDS))
    both = select(Assignment.case_id, Assignment.department_id).join(
        Case, Case.id == Assignment.case_id
    )
    if sqlite:
        return both.where(
            *lead_now,
            or_(
                Assignment.department_id == department_id,
                Case.stuck_department_id == department_id,
            ),
        )
    out_to_it = select(Assignment.case_id, Assignment.department_id).where(
        *lead_now, Assignment.department_id == department_id
    )
    stuck_there = both.where(*lead_now, Case.stuck_department_id == department_id)
    return union(out_to_it, stuck_there)  # type: ignore[return-value]


def _one_of(ids: list[int], sqlite: bool) -> ColumnElement[bool]:
    """``Case.id`` is one of ``ids``, as one parameter (a department's thousands of cases)."""
    if sqlite:
        each = func.json_each(json.dumps(ids)).table_valued("value")
        return Case.id.in_(select(each.c.value))
    return Case.id == any_(literal(ids, ARRAY(Integer)))


def _chased_by_name() -> ColumnElement[str]:
    """The name of the department the case is chased with (for a listed row: one look-up)."""
    assigned = (
        select(Department.name)
        .join(Assignment, Assignment.department_id == Department.id)
        .where(
            Assignment.case_id == Case.id,
            Assignment.kind.in_(_LEAD_KINDS),
            Assignment.state.in_(_WITH_DEPARTMENT),
        )
        .order_by(Assignment.id.desc())
        .limit(1)
        .correlate(Case)
        .scalar_subquery()
    )
    return func.coalesce(assigned, _Stuck.name)


class DeadlineBoard:
    def __init__(self, db: Database, calendar: CalendarService) -> None:
        self._db = db
        self._calendar = calendar

    def _kinds(self, board_filter: BoardFilter) -> tuple[DeadlineKind, ...]:
        return board_filter.kinds or tuple(DeadlineKind)

    def _chased(self, session: Session, board_filter: BoardFilter) -> ColumnElement[bool] | None:
        """The department filter as a condition: stuck there and not out to another
        department, or out to it now. The two exceptions are read first, a few hundred ids
        each, and go to each statement as one value; the rest is the stuck department's index,
        as before (at 100,000 cases the department's whole set of ids, 12,000 of them, took a
        filtered month from 50 to 140 ms)."""
        department = board_filter.department_id
        if department is None:
            return None
        out_to_it: list[int] = []
        elsewhere: list[int] = []
        sqlite = self._db.is_sqlite
        touching = _out_now_touching(department, sqlite=sqlite)
        for case_id, out_to in session.execute(touching):
            (out_to_it if out_to == department else elsewhere).append(case_id)
        return or_(
            and_(Case.stuck_department_id == department, ~_one_of(elsewhere, sqlite)),
            _one_of(out_to_it, sqlite),
        )

    def _where(
        self,
        query: Select[Any],
        kind: DeadlineKind,
        board_filter: BoardFilter,
        chased: ColumnElement[bool] | None,
    ) -> Select[Any]:
        query = query.where(_pending(kind), _column(kind).is_not(None))
        if chased is not None:
            query = query.where(chased)
        if board_filter.created_by_id is not None:
            query = query.where(Case.created_by_id == board_filter.created_by_id)
        if board_filter.site_code:
            query = query.where(Case.site_code == board_filter.site_code)
        return query

    def counts_by_day(
        self, start: date, end: date, board_filter: BoardFilter = BoardFilter()
    ) -> dict[date, dict[DeadlineKind, int]]:
        result: dict[date, dict[DeadlineKind, int]] = {}
        with self._db.read() as session:
            chased = self._chased(session, board_filter)
            for kind in self._kinds(board_filter):
                column = _column(kind)
                # count(*): with the status beside the deadline (ix_ledger_status_due, 0017)
                # the count reads the index alone, not each open case's row.
                query = (
                    self._where(select(column, func.count()), kind, board_filter, chased)
                    .where(column >= start, column <= end)
                    .group_by(column)
                )
                for day, count in session.execute(query):
                    result.setdefault(day, {})[kind] = int(count)
        return result

    def count_before(self, day: date, board_filter: BoardFilter = BoardFilter()) -> int:
        """Pending deadlines due before ``day`` (i.e. overdue when ``day`` is today)."""
        total = 0
        with self._db.read() as session:
            chased = self._chased(session, board_filter)
            for kind in self._kinds(board_filter):
                query = self._where(
                    select(func.count()).select_from(Case), kind, board_filter, chased
                ).where(_column(kind) < day)
                total += int(session.scalar(query) or 0)
        return total

    def today(self, today: date, board_filter: BoardFilter = BoardFilter()) -> TodayCounts:
        calendar = self._calendar.calendar()
        until = soon_limit(calendar, today, self._calendar.rules().due_soon_days)
        by_day = self.counts_by_day(today, until, board_filter)
        due_today = sum(by_day.get(today, {}).values())
        soon = sum(sum(c.values()) for d, c in by_day.items() if d > today)
        return TodayCounts(today, due_today, self.count_before(today, board_filter), soon, until)

    def items(
        self,
        start: date | None,
        end: date | None,
        today: date,
        board_filter: BoardFilter = BoardFilter(),
        limit: int = 500,
    ) -> list[DeadlineItem]:
        """Pending deadlines due in [start, end] (None: open-ended), soonest first."""
        calendar = self._calendar.calendar()
        until = soon_limit(calendar, today, self._calendar.rules().due_soon_days)
        items: list[DeadlineItem] = []
        with self._db.read() as session:
            chased = self._chased(session, board_filter)
            for kind in self._kinds(board_filter):
                items.extend(
                    self._items_of(
                        session, kind, start, end, today, until, board_filter, chased, limit
                    )
                )
        items.sort(key=lambda i: (i.due, i.number))
        return items[:limit]

    def _items_of(
        self,
        session: Session,
        kind: DeadlineKind,
        start: date | None,
        end: date | None,
        today: date,
        until: date,
        board_filter: BoardFilter,
        chased: ColumnElement[bool] | None,
        limit: int,
    ) -> list[DeadlineItem]:
        column = _column(kind)
        query = self._where(
            select(
                Case.id,
                Case.number,
                Case.title,
                Complainant.name,
                _chased_by_name(),
                column,
                Case.due_provisional,
            )
            .join(Complainant, Case.complainant_id == Complainant.id)
            .outerjoin(_Stuck, Case.stuck_department_id == _Stuck.id),
            kind,
            board_filter,
            chased,
        )
        if start is not None:
            query = query.where(column >= start)
        if end is not None:
            query = query.where(column <= end)
        query = query.order_by(column, Case.id).limit(limit)
        return [
            DeadlineItem(
                case_id=row[0],
                number=row[1],
                title=row[2],
                complainant=row[3],
                department=row[4] or "",
                kind=kind,
                due=row[5],
                state=state_of(row[5], today, until),
                provisional=bool(row[6]) and kind is DeadlineKind.CASE,
            )
            for row in session.execute(query)
        ]

    def month(
        self,
        year: int,
        month: int,
        today: date,
        board_filter: BoardFilter = BoardFilter(),
    ) -> MonthView:
        """A Monday-first month grid with counts, holidays and the duty roster."""
        calendar = self._calendar.calendar()
        until = soon_limit(calendar, today, self._calendar.rules().due_soon_days)
        first = date(year, month, 1)
        grid_start = first - timedelta(days=first.weekday())
        last = date(year, month, month_calendar.monthrange(year, month)[1])
        grid_end = last + timedelta(days=6 - last.weekday())
        counts = self.counts_by_day(grid_start, grid_end, board_filter)
        with self._db.read() as session:
            shifts = shifts_in(session, grid_start, grid_end)
        leaders: dict[date, list[str]] = {}
        windows: dict[date, list[str]] = {}
        for shift in shifts:
            names = leaders if shift.duty_role is DutyRole.LEADER else windows
            label = shift.staff_name
            if shift.period.value != "day":
                label += f"（{shift.period.label}）"
            names.setdefault(shift.day, []).append(label)
        weeks: list[tuple[DayCell, ...]] = []
        warnings: list[str] = []
        day = grid_start
        while day <= grid_end:
            week = []
            for _ in range(7):
                info = calendar.day_info(day)
                day_counts = counts.get(day, {})
                if not info.known:
                    note = provisional_warning(day.year)
                    if note not in warnings:
                        warnings.append(note)
                week.append(
                    DayCell(
                        day=day,
                        in_month=day.month == month,
                        working=info.working,
                        reason=info.reason,
                        known=info.known,
                        counts=day_counts,
                        state=state_of(day, today, until),
                        leader="、".join(leaders.get(day, [])),
                        window="、".join(windows.get(day, [])),
                    )
                )
                day += timedelta(days=1)
            weeks.append(tuple(week))
        return MonthView(
            year,
            month,
            today,
            tuple(weeks),
            self.count_before(min(grid_start, today), board_filter),
            tuple(warnings),
        )
