"""Period statistics for the analysis bulletin (分析通报, issue 17), on the supervision layer.

Every case figure is a ledger filter (services/ledger.py ``conditions``) for the period's cases,
counted through ``count_many`` like the dashboard's tiles, so a bulletin's "received 120" is the
ledger's list for the same dates. The formulas (rates with denominators, the on-time rate with
overdue open matters, nearest-rank percentiles) are domain/statistics.py's, never a second copy.

The on-time rate is counted over the rounds departments were given (交办 assignments): a reopened
case gets a new assignment, so it counts once per round, each against its own deadline, and each
assignment keeps its original deadline beside the one in force (DESIGN.md §4).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, Date, Text, and_, case, cast, func, select, type_coerce
from sqlalchemy.orm import Session

from desktop_app.domain.assignment_flow import AssignmentKind, AssignmentState, ExtensionState
from desktop_app.domain.causes import cause_codes, cause_label
from desktop_app.domain.permissions import Permission
from desktop_app.domain.statistics import Rate, Round, on_time_rate, percentile, rate
from desktop_app.domain.vocabulary import (
    Approach,
    CaseStatus,
    Channel,
    Measure,
    Nature,
    Outcome,
    SiteLevel,
    VisitGrade,
)
from desktop_app.domain.workdays import DateOutOfRange, WorkdayCalendar
from desktop_app.services.calendar import CalendarService
from desktop_app.services.context import Actor, Clock
from desktop_app.services.ledger import CaseFilter, Worklist, conditions, count_many
from desktop_app.services.reference import cause_labels, department_labels
from desktop_app.storage.database import Database
from desktop_app.storage.models import (
    Assignment,
    Case,
    EarlyWarning,
    IssueClass,
    Referral,
    Site,
)

NOT_GIVEN = "未填写"  # the label of a breakdown row whose column is empty
# ... but for what triage sets, not yet triaged (未填写 read as a clerk's omission).
NOT_YET: Final = {"nature": "未甄别", "approach": "未甄别", "cause": "未甄别"}
# Rounds a department was given and owes an answer on: not drafts, not voided, not returned
# (退回: not theirs), and 协办 answers through its lead.
_ROUND_EXCLUDED = [
    AssignmentState.DRAFT.value,
    AssignmentState.VOIDED.value,
    AssignmentState.RETURNED.value,
]
_SATISFIED = (VisitGrade.VERY_SATISFIED, VisitGrade.SATISFIED, VisitGrade.BASICALLY_SATISFIED)


@dataclass(frozen=True)
class Period:
    """Inclusive dates the statistics cover (cases by their 受理日期)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("统计期的结束日期早于开始日期")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The comparison period: a whole month or year is compared with the one before it,
        any other span with the same number of days just before it."""
        if self.start.day == 1 and (self.end + timedelta(days=1)).day == 1:
            months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
            start = _add_months(self.start, -months)
            return Period(start, self.start - timedelta(days=1))
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def months(self) -> list[Period]:
        """Each calendar month the period touches, clipped to the period (the trend chart)."""
        result: list[Period] = []
        first = self.start.replace(day=1)
        while first <= self.end:
            following = _add_months(first, 1)
            result.append(
                Period(max(first, self.start), min(following - timedelta(days=1), self.end))
            )
            first = following
        return result

    def text(self) -> str:
        return (
            f"{self.start.year}年{self.start.month}月{self.start.day}日至"
            f"{self.end.year}年{self.end.month}月{self.end.day}日"
        )


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Breakdown:
    """Counts by one dimension, largest first (ties by label), and the cases they share out."""

    title: str
    rows: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        return sum(count for _, count in self.rows)

    def count(self, label: str) -> int:
        return dict(self.rows).get(label, 0)


@dataclass(frozen=True)
class Totals:
    received: int
    screened_out: int
    concluded: int  # 已办结 + 已回访 (办成 and 不能办 both)
    resolved: int  # 办成
    explained: int  # 不能办（已解释）
    visited: int  # 已回访 (of the concluded)
    withdrawn: int
    open: int  # 已登记 + 办理中
    overdue: int  # of the open: those on the dashboard's 已超期 (in the bulletin: 其中超期)


@dataclass(frozen=True)
class Handling:
    """What happened to the rounds given to departments."""

    extensions_requested: int
    extensions_approved: int
    returns: int  # 退回
    urged: int  # 催办
    supervised: int  # 督办 assignments


@dataclass(frozen=True)
class Supervision:
    referrals: int  # proposed in the period
    measures: Breakdown  # referrals decided in the period, by measure
    classes_opened: int
    classes_fixed: int
    warnings_raised: int


@dataclass(frozen=True)
class PeriodStatistics:
    period: Period
    today: date
    site_code: str | None
    totals: Totals
    breakdowns: dict[str, Breakdown]  # by key: nature, approach, cause, area, channel, …
    on_time: Rate  # assignment rounds against the deadline in force
    on_time_original: Rate  # … against the original deadlines
    case_on_time: Rate  # the window's own handling deadline (cases)
    working_days_median: float | None  # 受理 to 办结, working days
    working_days_p90: float | None
    rounds: int  # 交办 rounds counted
    handling: Handling
    visit_rate: Rate  # visited ÷ concluded
    satisfaction: Breakdown  # by visit grade
    satisfied_rate: Rate  # 满意 (非常满意、满意、基本满意) ÷ graded
    supervision: Supervision
    trend: tuple[tuple[str, int], ...]  # (2026-11, received) per month
    # The comparison period, brief: no breakdowns, no working days (see ``_build``).
    previous: PeriodStatistics | None = field(default=None, compare=False)


BREAKDOWN_TITLES = {
    "nature": "按问题性质",
    "approach": "按处置方式",
    "cause": "按问题成因",
    "area": "按领域",
    "channel": "按来源渠道",
    "department": "按受阻部门",  # the department the person was stuck at (the ledger's column)
    "campaign": "按专项行动",
    "county": "按县区",
}


class StatisticsService:
    """Builds :class:`PeriodStatistics`; read-only, so it needs only 查看事项."""

    def __init__(self, db: Database, clock: Clock, calendar: CalendarService) -> None:
        self.db = db
        self.clock = clock
        self.calendar = calendar

    def period_statistics(
        self,
        actor: Actor,
        period: Period,
        *,
        site_code: str | None = None,
        compare: bool = True,
        previous: Period | None = None,
    ) -> PeriodStatistics:
        """The period's figures and, with ``compare``, the previous period's beside them
        (``previous``: another comparison than ``Period.previous``)."""
        actor.require(Permission.VIEW_CASES)
        today = self.clock.now().date()
        stats = self._build(period, today, site_code)
        if compare:
            earlier = previous or period.previous()
            previous_stats = self._build(earlier, today, site_code, brief=True)
            stats = replace(stats, previous=previous_stats)
        return stats

    def period_filter(self, period: Period, site_code: str | None = None) -> CaseFilter:
        """The ledger filter that lists the period's cases (what every figure counts)."""
        return CaseFilter(received_from=period.start, received_to=period.end, site_code=site_code)

    # Building ------------------------------------------------------------------------------

    def _build(
        self, period: Period, today: date, site_code: str | None, *, brief: bool = False
    ) -> PeriodStatistics:
        """``brief``: the comparison period's figures only — totals, rates, handling — without
        the breakdowns and working days nobody compares (a year's bulletin stays under 3 s)."""
        base = self.period_filter(period, site_code)
        totals, trend = self._totals(base, period, today)
        where = conditions(base)
        with self.db.read() as session:
            breakdowns = {} if brief else self._breakdowns(session, where, site_code)
            rounds = self.rounds(session, where)
            handling = self._handling(session, where)
            days = [] if brief else self._working_days(session, where)
            concluded_on = self._day_of(Case.concluded_at)
            case_rounds = [
                Round(deadline=due, original_deadline=due, finished_on=finished, count=count)
                for due, finished, count in session.execute(
                    select(Case.due_date, concluded_on, func.count())
                    .where(
                        *where,
                        Case.due_date.is_not(None),
                        Case.status.not_in(
                            [CaseStatus.WITHDRAWN.value, CaseStatus.SCREENED_OUT.value]
                        ),
                    )
                    .group_by(Case.due_date, concluded_on)
                )
                if due is not None
            ]
            grades = _grouped(session, Case.visit_grade, where)
            satisfaction = Breakdown(
                "回访满意度",
                tuple((grade.label, grades.get(grade.value, 0)) for grade in VisitGrade),
            )
            graded = sum(grades.get(grade.value, 0) for grade in VisitGrade)
            satisfied = sum(grades.get(grade.value, 0) for grade in _SATISFIED)
            supervision = self._supervision(session, period, site_code)
        return PeriodStatistics(
            period=period,
            today=today,
            site_code=site_code,
            totals=totals,
            breakdowns=breakdowns,
            on_time=on_time_rate(rounds, today),
            on_time_original=on_time_rate(rounds, today, original=True),
            case_on_time=on_time_rate(case_rounds, today),
            working_days_median=percentile(days, 50),
            working_days_p90=percentile(days, 90),
            rounds=sum(r.count for r in rounds),
            visit_rate=rate(totals.visited, totals.concluded),
            satisfaction=satisfaction,
            satisfied_rate=rate(satisfied, graded),
            trend=trend,
            handling=handling,
            supervision=supervision,
        )

    def _totals(
        self, base: CaseFilter, period: Period, today: date
    ) -> tuple[Totals, tuple[tuple[str, int], ...]]:
        """Every total and the month trend, in one statement (``count_many``)."""
        filters = {
            "received": base,
            "screened_out": replace(base, statuses=(CaseStatus.SCREENED_OUT,)),
            "concluded": replace(base, statuses=(CaseStatus.CONCLUDED, CaseStatus.VISITED)),
            "visited": replace(base, statuses=(CaseStatus.VISITED,)),
            "withdrawn": replace(base, statuses=(CaseStatus.WITHDRAWN,)),
            "open": replace(base, statuses=(CaseStatus.REGISTERED, CaseStatus.IN_PROGRESS)),
            # Of the open ones: a concluded case whose return visit is late is on 已超期 too.
            "overdue": replace(
                base,
                statuses=(CaseStatus.REGISTERED, CaseStatus.IN_PROGRESS),
                worklist=Worklist.OVERDUE,
                today=today,
            ),
        }
        months = period.months()
        for month in months:
            filters[f"month:{month.start:%Y-%m}"] = replace(
                base, received_from=month.start, received_to=month.end
            )
        concluded = [CaseStatus.CONCLUDED.value, CaseStatus.VISITED.value]

        def outcome(value: Outcome) -> ColumnElement[Any]:
            return (
                select(func.count(Case.id))
                .where(*conditions(base), Case.status.in_(concluded), Case.outcome == value.value)
                .scalar_subquery()
            )

        extra = {"resolved": outcome(Outcome.DONE), "explained": outcome(Outcome.EXPLAINED)}
        counted = count_many(self.db, filters, extra)
        totals = Totals(**{key: counted[key] for key in counted if not key.startswith("month:")})
        trend = tuple((f"{m.start:%Y-%m}", counted[f"month:{m.start:%Y-%m}"]) for m in months)
        return totals, trend

    def _breakdowns(
        self, session: Session, where: list[ColumnElement[bool]], site_code: str | None = None
    ) -> dict[str, Breakdown]:
        result: dict[str, Breakdown] = {}
        natures = _grouped(session, Case.nature, where)
        result["nature"] = labelled("nature", natures, {n.value: n.label for n in Nature})
        approaches = _grouped(session, Case.approach, where)
        result["approach"] = labelled("approach", approaches, {a.value: a.label for a in Approach})
        labels = cause_labels(session)
        causes: Counter[str] = Counter()
        # Grouped by the stored list as text: a few dozen combinations, decoded once each.
        stored = cast(Case.causes, Text)
        for text, count in session.execute(
            select(stored, func.count()).where(*where).group_by(stored)
        ):
            # Old cases stored a Cause value, new ones a code: counted alike (domain/causes).
            for code in cause_codes(json.loads(text) if text else []):
                causes[cause_label(code, labels)] += count
        result["cause"] = labelled("cause", dict(causes), {})
        result["area"] = labelled("area", _grouped(session, Case.area, where), {})
        channels = _grouped(session, Case.channel, where)
        result["channel"] = labelled("channel", channels, {c.value: c.label for c in Channel})
        result["department"] = labelled(
            "department",
            _grouped(session, Case.stuck_department_id, where),
            department_labels(session),
        )
        result["campaign"] = labelled("campaign", _grouped(session, Case.campaign, where), {})
        sites = {key: value for key, value in session.execute(select(Site.code, Site.name))}
        local_level = session.scalar(select(Site.level).where(Site.is_local.is_(True)))
        if local_level == SiteLevel.CITY.value:  # its counties' cases are here too
            # Every county registered here, one that sent nothing with its 0 (it was left out);
            # a county's own figures list that county alone.
            counties: Iterable[str] = (
                ()
                if site_code
                else session.scalars(
                    select(Site.code).where(
                        Site.is_local.is_(False), Site.level == SiteLevel.COUNTY.value
                    )
                )
            )
            result["county"] = labelled(
                "county", _grouped(session, Case.site_code, where), sites, listed=counties
            )
        return result

    def rounds(self, session: Session, where: list[ColumnElement[bool]]) -> list[Round]:
        """The 交办 rounds on the period's cases (see the module docstring), grouped: each
        :class:`Round` stands for ``count`` rounds with the same dates."""
        # Grouped by the three dates: a year's 50,000 rounds come back as a few thousand rows.
        responded_on = self._day_of(Assignment.responded_at)
        columns = (Assignment.due_date, Assignment.original_due_date, responded_on)
        query = (
            select(*columns, func.count())
            .join(Case, Case.id == Assignment.case_id)
            .where(
                *where,
                Assignment.kind == AssignmentKind.ASSIGN.value,
                Assignment.state.not_in(_ROUND_EXCLUDED),
            )
            .group_by(*columns)
        )
        return [
            Round(deadline=due, original_deadline=original, finished_on=responded, count=count)
            for due, original, responded, count in session.execute(query)
        ]

    def _handling(self, session: Session, where: list[ColumnElement[bool]]) -> Handling:
        """Each count a SUM over one pass of the period's assignments (not a scan each)."""

        def count(*terms: ColumnElement[bool]) -> Any:
            return func.coalesce(func.sum(case((and_(*terms), 1), else_=0)), 0)

        requested = [
            ExtensionState.REQUESTED.value,
            ExtensionState.APPROVED.value,
            ExtensionState.REFUSED.value,
        ]
        row = session.execute(
            select(
                count(Assignment.extension_state.in_(requested)).label("extensions_requested"),
                count(Assignment.extension_state == ExtensionState.APPROVED.value).label(
                    "extensions_approved"
                ),
                count(Assignment.state == AssignmentState.RETURNED.value).label("returns"),
                count(Assignment.urged_at.is_not(None)).label("urged"),
                count(
                    Assignment.kind == AssignmentKind.SUPERVISE.value,
                    Assignment.state.not_in(
                        [AssignmentState.DRAFT.value, AssignmentState.VOIDED.value]
                    ),
                ).label("supervised"),
            )
            .join(Case, Case.id == Assignment.case_id)
            .where(*where)
        ).one()
        return Handling(**{key: int(value or 0) for key, value in row._mapping.items()})

    def _working_days(self, session: Session, where: list[ColumnElement[bool]]) -> list[float]:
        """Working days from 受理 to 办结 of each concluded case (办成 or 不能办)."""
        received_on, concluded_on = self._day_of(Case.received_at), self._day_of(Case.concluded_at)
        pairs = session.execute(
            select(received_on, concluded_on, func.count())
            .where(*where, Case.concluded_at.is_not(None))
            .group_by(received_on, concluded_on)
        )
        ordinals = _WorkingOrdinals(self.calendar.calendar())
        days: list[float] = []
        for received, concluded, count in pairs:
            if received is not None and concluded is not None:
                between = ordinals.between(received, concluded)
                if between >= 0:
                    days += [float(between)] * count
        return days

    def _day_of(self, column: Any) -> Any:
        """The date of a timestamp column in SQL, so rows group by day (SQLite keeps text)."""
        if self.db.is_sqlite:
            return type_coerce(func.date(column), Date)
        return cast(column, Date)

    def _supervision(self, session: Session, period: Period, site_code: str | None) -> Supervision:
        """Referrals, classes and warnings dated in the period (not cases: their own dates).

        For one county, referrals follow their case's site; classes and warnings belong to
        the site that keeps them and are counted whole."""
        start = datetime.combine(period.start, time.min)
        end = datetime.combine(period.end + timedelta(days=1), time.min)
        of_site = select(Case.id).where(Case.site_code == site_code)
        here = [Referral.case_id.in_(of_site)] if site_code else []

        referrals = int(
            session.scalar(
                select(func.count(Referral.id)).where(
                    Referral.proposed_at >= start,
                    Referral.proposed_at < end,
                    *here,
                )
            )
            or 0
        )
        measures = {
            measure: count
            for measure, count in session.execute(
                select(Referral.measure, func.count(Referral.id))
                .where(
                    Referral.decided_at >= start,
                    Referral.decided_at < end,
                    Referral.measure != "",
                    *here,
                )
                .group_by(Referral.measure)
            )
        }
        opened = session.scalar(
            select(func.count(IssueClass.id)).where(
                IssueClass.created_at >= start,
                IssueClass.created_at < end,
            )
        )
        fixed = session.scalar(
            select(func.count(IssueClass.id)).where(
                IssueClass.done_on >= period.start,
                IssueClass.done_on <= period.end,
            )
        )
        warnings = session.scalar(
            select(func.count(EarlyWarning.id)).where(
                EarlyWarning.raised_at >= start, EarlyWarning.raised_at < end
            )
        )
        return Supervision(
            referrals=referrals,
            measures=labelled("measure", measures, {m.value: m.label for m in Measure}),
            classes_opened=int(opened or 0),
            classes_fixed=int(fixed or 0),
            warnings_raised=int(warnings or 0),
        )


class _WorkingOrdinals:
    """Working days between two dates by a running count per day, each day looked up once:
    a year's 100,000 cases would otherwise walk the calendar day by day for each."""

    def __init__(self, calendar: WorkdayCalendar) -> None:
        self._calendar = calendar
        self._ordinal: dict[date, int] = {}
        self._first: date | None = None

    def between(self, start: date, end: date) -> int:
        """Working days in (start, end], as ``WorkdayCalendar.between``; -1 when a date is
        outside the calendar's years (left out of the figures rather than guessed)."""
        if end < start:
            return -1
        try:
            self._cover(start, end)
        except DateOutOfRange:
            return -1
        return self._ordinal[end] - self._ordinal[start]

    def _cover(self, low: date, high: date) -> None:
        if self._first is None:
            self._first = low
            self._ordinal[low] = 0
        if low < self._first:
            # Re-base on the earlier day: rebuilt from there (rare: the query is unordered).
            days, self._ordinal, self._first = self._ordinal, {low: 0}, low
            self._extend_to(max(days))
        self._extend_to(high)

    def _extend_to(self, high: date) -> None:
        last = max(self._ordinal)
        running = self._ordinal[last]
        day = last
        while day < high:
            day += timedelta(days=1)
            running += self._calendar.day_info(day).working
            self._ordinal[day] = running


def _grouped(session: Session, column: Any, where: list[ColumnElement[bool]]) -> dict[Any, int]:
    query = select(column, func.count(Case.id)).where(*where).group_by(column)
    return {value: count for value, count in session.execute(query)}


def labelled(
    key: str, counts: Mapping[Any, int], labels: Mapping[Any, str], listed: Iterable[Any] = ()
) -> Breakdown:
    """Rows labelled in Chinese, largest first; an empty column is 未填写 (未甄别 for what
    triage sets). ``listed``: values shown even with no case (a county that sent nothing)."""
    empty = NOT_YET.get(key, NOT_GIVEN)
    merged: Counter[str] = Counter({labels.get(value, str(value)): 0 for value in listed})
    for value, count in counts.items():
        if not count:
            continue
        label = empty if value in (None, "") else labels.get(value, str(value))
        merged[label] += count
    rows = sorted(merged.items(), key=lambda item: (-item[1], item[0]))
    return Breakdown(BREAKDOWN_TITLES.get(key, key), tuple(rows))


def format_change(current: int, previous: int) -> str:
    """ "增长12.0%" / "下降5.0%" / "持平" against the previous period ("—" with nothing to
    compare). Words, not arrows: the official fonts have no arrow glyphs."""
    if previous == 0:
        return "—" if current == 0 else f"新增{current}"
    change = 100 * (current - previous) / previous
    if not change:
        return "持平"
    return f"{'增长' if change > 0 else '下降'}{abs(change):.1f}%"
