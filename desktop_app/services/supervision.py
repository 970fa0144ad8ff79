"""The one query layer for supervision's numbers (issue 16): the dashboard's counts and the
lists behind them; the reports (issue 17) extend it, so dashboard, scorecards and bulletins
agree.

Each case figure IS a ledger filter (services/ledger.py ``CaseFilter``): the dashboard counts it
and a click lists it, through the same WHERE terms, so the number on a tile and the rows the
ledger then shows cannot drift apart. Referrals and warnings are not cases: their figures open
their own pages. Every figure is counted in one statement (``LedgerService.count_many``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from desktop_app.domain.vocabulary import CaseStatus, LabelledEnum
from desktop_app.services.calendar import CalendarService
from desktop_app.services.context import Actor, Clock
from desktop_app.services.ledger import CaseFilter, Worklist, count_many
from desktop_app.services.referrals import PENDING_STATES
from desktop_app.storage.database import Database
from desktop_app.storage.models import EarlyWarning, Referral

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


class SupervisionQueries:
    def __init__(self, db: Database, clock: Clock, calendar: CalendarService) -> None:
        self.db = db
        self.clock = clock
        self.calendar = calendar

    def case_filters(self, today: date, user_id: int | None) -> dict[Figure, CaseFilter]:
        """The ledger filter that lists each case figure's cases as of ``today``.

        待回访 is every concluded case (each is visited, DESIGN §3); 待重拨 those of them whose
        person was not reached and whose retry day has come. 未办结 is 已登记 + 办理中.
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
            Figure.AWAITING_VISIT: CaseFilter(statuses=(CaseStatus.CONCLUDED,)),
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
