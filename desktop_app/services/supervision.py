"""The one query layer for supervision's numbers (issue 16): the dashboard's counts and the
lists behind them; the reports (issue 17) extend it, so dashboard, scorecards and bulletins
agree.

Each case figure IS a ledger filter (services/ledger.py ``CaseFilter``): the dashboard counts it
and a click lists it, through the same WHERE terms, so the number on a tile and the rows the
ledger then shows cannot drift apart. Referrals and warnings are not cases: their figures open
their own pages. Every figure is counted in one statement (``LedgerService.count_many``).
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlalchemy import func, select

from desktop_app.domain.permissions import Permission
from desktop_app.domain.statistics import Rate, Round, on_time_rate
from desktop_app.domain.vocabulary import Approach, CaseStatus, LabelledEnum, Nature
from desktop_app.services.calendar import CalendarService
from desktop_app.services.context import Actor, Clock
from desktop_app.services.ledger import CaseFilter, Worklist, conditions, count_many
from desktop_app.services.referrals import PENDING_STATES
from desktop_app.services.statistics import Breakdown, Period, StatisticsService, labelled
from desktop_app.storage.database import Database
from desktop_app.storage.models import Case, EarlyWarning, Referral

WARNING_OPEN = "open"  # EarlyWarning.state of a warning nobody has decided about yet


class Figure(LabelledEnum):
    """A number on the 工作台, in the order the tiles show them."""

    DUE_TODAY = "due_today", "今日到期"
    OVERDUE = "overdue", "已超期"
    AWAITING_TRIAGE = "awaiting_triage", "待甄别分类"
    AWAITING_SIGNATURE = "awaiting_signature", "待签发"
    MINE = "mine", "我登记的未办结"
    BASIS_MISSING = "basis_missing", "书面依据未到"
    AWAITING_REPLY = "awaiting_reply", "待答复"
    AWAITING_VISIT = "awaiting_visit", "待回访"
    VISIT_RETRY = "visit_retry", "待重拨"
    REFERRALS_PENDING = "referrals_pending", "问责线索待处理"
    WARNINGS_OPEN = "warnings_open", "预警待研判"
    REGISTERED_TODAY = "registered_today", "今日受理"
    OPEN_CASES = "open_cases", "未办结"
    THIS_MONTH = "this_month", "本月受理"
    TOTAL = "total", "累计受理"


# Not cases: counted from their own tables, listed on their own pages.
NOT_CASES = frozenset({Figure.REFERRALS_PENDING, Figure.WARNINGS_OPEN})


@dataclass(frozen=True)
class SupervisionCounts:
    today: date
    values: dict[Figure, int]
    filters: dict[Figure, CaseFilter]  # the ledger filter behind each case figure

    def __getitem__(self, figure: Figure) -> int:
        return self.values[figure]


TREND_MONTHS = 12  # the dashboard's month trend: this month and the eleven before it
# 已办结 as the bulletin counts it (services/statistics.py ``Totals.concluded``).
CONCLUDED_STATUSES = (CaseStatus.CONCLUDED, CaseStatus.VISITED)


@dataclass(frozen=True)
class MonthFigures:
    """One month of the dashboard's trend: the cases received in it and those of them
    concluded by now — a month's bulletin's 受理 and 办结 — each with the ledger filter that
    lists them."""

    period: Period
    received: int
    concluded: int
    received_filter: CaseFilter
    concluded_filter: CaseFilter


@dataclass(frozen=True)
class PeriodFigures:
    """A period's charts on the dashboard: its bulletin's breakdowns by nature and approach
    and its on-time rate (against the deadline in force)."""

    period: Period
    nature: Breakdown
    approach: Breakdown
    on_time: Rate


class SupervisionQueries:
    def __init__(self, db: Database, clock: Clock, calendar: CalendarService) -> None:
        self.db = db
        self.clock = clock
        self.calendar = calendar

    def case_filters(self, today: date, user_id: int | None) -> dict[Figure, CaseFilter]:
        """The ledger filter that lists each case figure's cases as of ``today``.

        待回访 is every case concluded here (each is visited, DESIGN §3; not one brought in
        from an old 台账); 待重拨 those whose person was not reached and whose retry day has
        come. 未办结 is 已登记 + 办理中.
        """
        open_statuses = (CaseStatus.REGISTERED, CaseStatus.IN_PROGRESS)
        return {
            Figure.DUE_TODAY: CaseFilter(worklist=Worklist.DUE_TODAY, today=today),
            Figure.OVERDUE: CaseFilter(worklist=Worklist.OVERDUE, today=today),
            Figure.AWAITING_TRIAGE: CaseFilter(awaiting_triage=True),
            Figure.AWAITING_SIGNATURE: CaseFilter(awaiting_signature=True),
            Figure.MINE: CaseFilter(worklist=Worklist.MINE, today=today, user_id=user_id),
            Figure.BASIS_MISSING: CaseFilter(worklist=Worklist.BASIS_MISSING, today=today),
            Figure.AWAITING_REPLY: CaseFilter(worklist=Worklist.AWAITING_REPLY, today=today),
            Figure.AWAITING_VISIT: CaseFilter(awaiting_visit=True),
            Figure.VISIT_RETRY: CaseFilter(visit_retry_due=True, today=today),
            Figure.REGISTERED_TODAY: CaseFilter(received_from=today, received_to=today),
            Figure.OPEN_CASES: CaseFilter(statuses=open_statuses),
            Figure.THIS_MONTH: CaseFilter(received_from=today.replace(day=1)),
            Figure.TOTAL: CaseFilter(),
        }

    def counts(self, actor: Actor) -> SupervisionCounts:
        """Every figure for ``actor`` as of the clock's today, in one statement."""
        today = self.clock.now().date()
        filters = self.case_filters(today, actor.user_id)
        pending = [s.value for s in PENDING_STATES]
        extra = {
            Figure.REFERRALS_PENDING.value: select(func.count(Referral.id))
            .where(Referral.state.in_(pending))
            .scalar_subquery(),
            Figure.WARNINGS_OPEN.value: select(func.count(EarlyWarning.id))
            .where(EarlyWarning.state == WARNING_OPEN)
            .scalar_subquery(),
        }
        counted = count_many(
            self.db, {figure.value: case_filter for figure, case_filter in filters.items()}, extra
        )
        return SupervisionCounts(
            today=today,
            values={Figure(key): value for key, value in counted.items()},
            filters=filters,
        )

    # The dashboard's charts (issue 17): a bulletin's numbers for a month or year, cheaply. -----

    def this_month(self) -> Period:
        """The calendar month of the clock's today, whole (what a month's bulletin covers)."""
        first = self.clock.now().date().replace(day=1)
        return Period(first, _month_after(first) - timedelta(days=1))

    def this_year(self) -> Period:
        today = self.clock.now().date()
        return Period(date(today.year, 1, 1), date(today.year, 12, 31))

    def trend(self, actor: Actor, months: int = TREND_MONTHS) -> tuple[MonthFigures, ...]:
        """Received and concluded for each of the last ``months`` months, in one statement.

        Each month's numbers are its bulletin's (``StatisticsService.period_statistics``
        ``totals.received`` and ``totals.concluded``): the same ledger filters, counted alike."""
        actor.require(Permission.VIEW_CASES)
        latest = self.this_month()
        spans = Period(_month_after(latest.start, 1 - months), latest.end).months()
        statistics = StatisticsService(self.db, self.clock, self.calendar)
        filters: dict[str, CaseFilter] = {}
        for span in spans:
            received = statistics.period_filter(span)
            filters[f"received:{span.start}"] = received
            filters[f"concluded:{span.start}"] = replace(received, statuses=CONCLUDED_STATUSES)
        counted = count_many(self.db, filters)
        return tuple(
            MonthFigures(
                period=span,
                received=counted[f"received:{span.start}"],
                concluded=counted[f"concluded:{span.start}"],
                received_filter=filters[f"received:{span.start}"],
                concluded_filter=filters[f"concluded:{span.start}"],
            )
            for span in spans
        )

    def period_figures(self, actor: Actor, period: Period) -> PeriodFigures:
        """The period's bulletin breakdowns by nature and approach and its on-time rate, without
        the rest of the bulletin (a year's bulletin takes seconds; this a fraction of one).

        Nature and approach come from one grouped pass over the period's cases, labelled as
        the bulletin labels them; the rounds and the rate are the bulletin's own functions."""
        actor.require(Permission.VIEW_CASES)
        statistics = StatisticsService(self.db, self.clock, self.calendar)
        where = conditions(statistics.period_filter(period))
        natures: Counter[str | None] = Counter()
        approaches: Counter[str | None] = Counter()

        def read_rounds() -> list[Round]:
            with self.db.read() as session:
                return statistics.rounds(session, where)

        # The two reads side by side on their own connections (the database works without
        # holding Python's lock): a year's is the sum of both, ~125 ms at 100,000 cases, else.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="figures-read") as pool:
            pending = pool.submit(read_rounds)
            with self.db.read() as session:
                for nature, approach, count in session.execute(
                    select(Case.nature, Case.approach, func.count(Case.id))
                    .where(*where)
                    .group_by(Case.nature, Case.approach)
                ):
                    natures[nature] += count
                    approaches[approach] += count
            rounds = pending.result()
        return PeriodFigures(
            period=period,
            nature=labelled("nature", natures, {n.value: n.label for n in Nature}),
            approach=labelled("approach", approaches, {a.value: a.label for a in Approach}),
            on_time=on_time_rate(rounds, self.clock.now().date()),
        )


def _month_after(first: date, months: int = 1) -> date:
    """The first day of the month ``months`` after (or before, negative) ``first``'s."""
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
