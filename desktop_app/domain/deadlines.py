"""Deadline rules (DESIGN.md §4) and how a deadline looks today: normal, due soon, overdue.

Pure: the calendar comes in as a :class:`WorkdayCalendar`, "today" as a date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from desktop_app.domain.vocabulary import Approach, LabelledEnum, Nature
from desktop_app.domain.workdays import WorkdayCalendar


class RuleKey(LabelledEnum):
    IMMEDIATE = "immediate", "马上办/当场办结"
    CANT_ANSWER = "cant_answer", "办不了：当日答复"
    CANT_BASIS = "cant_basis", "办不了：书面依据"
    WONT = "wont", "不给办"
    HARD = "hard", "很难办"
    VISIT = "visit", "办结后回访"


DEFAULT_RULE_DAYS: dict[RuleKey, int] = {
    RuleKey.IMMEDIATE: 0,
    RuleKey.CANT_ANSWER: 0,
    RuleKey.CANT_BASIS: 3,
    RuleKey.WONT: 5,
    RuleKey.HARD: 10,
    RuleKey.VISIT: 5,
}
DEFAULT_DUE_SOON_DAYS = 2
MAX_RULE_DAYS = 60


class DeadlineKind(LabelledEnum):
    CASE = "case", "办理时限"
    BASIS = "basis", "不能办依据"
    VISIT = "visit", "回访"


class DeadlineState(StrEnum):
    NORMAL = "normal"
    DUE_SOON = "due_soon"  # yellow: within N working days
    DUE_TODAY = "due_today"  # yellow too, but "today" is what the clerk chases first
    OVERDUE = "overdue"  # red

    @property
    def label(self) -> str:
        return {
            DeadlineState.NORMAL: "未到期",
            DeadlineState.DUE_SOON: "即将到期",
            DeadlineState.DUE_TODAY: "今日到期",
            DeadlineState.OVERDUE: "已超期",
        }[self]


@dataclass(frozen=True)
class DeadlineRules:
    days: dict[RuleKey, int] = field(default_factory=lambda: dict(DEFAULT_RULE_DAYS))
    due_soon_days: int = DEFAULT_DUE_SOON_DAYS

    def working_days(self, key: RuleKey) -> int:
        return self.days.get(key, DEFAULT_RULE_DAYS[key])


def case_rule(nature: Nature, approach: Approach) -> RuleKey:
    """Which rule gives a triaged case its deadline.

    马上办 is due the same day whatever the nature; 办不了 is answered the same day (its written
    basis has a deadline of its own); 不给办 and 很难办 have their own periods.
    """
    if approach is Approach.IMMEDIATE:
        return RuleKey.IMMEDIATE
    return {
        Nature.CANT: RuleKey.CANT_ANSWER,
        Nature.WONT: RuleKey.WONT,
        Nature.HARD: RuleKey.HARD,
    }[nature]


def soon_limit(calendar: WorkdayCalendar, today: date, due_soon_days: int) -> date:
    """The last day that still counts as "due soon" (N working days after today)."""
    return calendar.add(today, due_soon_days).due if due_soon_days > 0 else today


def state_of(due: date, today: date, soon_until: date) -> DeadlineState:
    if due < today:
        return DeadlineState.OVERDUE
    if due == today:
        return DeadlineState.DUE_TODAY
    if due <= soon_until:
        return DeadlineState.DUE_SOON
    return DeadlineState.NORMAL


def validate_rule_days(values: dict[RuleKey, int], due_soon_days: int) -> dict[str, str]:
    errors: dict[str, str] = {}
    for key, days in values.items():
        if not 0 <= days <= MAX_RULE_DAYS:
            errors[key.value] = f"{key.label}的期限应在0到{MAX_RULE_DAYS}个工作日之间"
    if not 0 <= due_soon_days <= 10:
        errors["due_soon_days"] = "“即将到期”提醒应在0到10个工作日之间"
    return errors


@dataclass(frozen=True)
class DayCell:
    """One day of a month sheet: calendar facts, what falls due, who is on duty."""

    day: date
    in_month: bool
    working: bool
    reason: str  # 工作日 / 周末 / 国庆节 / 调休上班（国庆节） / a local closure
    known: bool
    counts: dict[DeadlineKind, int]
    state: DeadlineState
    leader: str = ""
    window: str = ""

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def is_makeup_day(self) -> bool:
        return self.working and self.day.weekday() >= 5


@dataclass(frozen=True)
class MonthView:
    year: int
    month: int
    today: date
    weeks: tuple[tuple[DayCell, ...], ...]  # Monday-first rows
    overdue_before: int  # overdue items due before this month's first shown day
    warnings: tuple[str, ...] = ()

    def cell(self, day: date) -> DayCell | None:
        for week in self.weeks:
            for cell in week:
                if cell.day == day:
                    return cell
        return None
