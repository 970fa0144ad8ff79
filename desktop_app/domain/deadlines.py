"""Deadline rules (DESIGN.md §4) and how a deadline looks today: normal, due soon, overdue.

Pure: the calendar comes in as a :class:`WorkdayCalendar`, "today" as a date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Protocol

from desktop_app.domain.vocabulary import Approach, LabelledEnum, Nature
from desktop_app.domain.workdays import Deadline, WorkdayCalendar


class RuleKey(LabelledEnum):
    IMMEDIATE = "immediate", "马上办/当场办结"
    CANT_ANSWER = "cant_answer", "办不了：当日答复"
    CANT_BASIS = "cant_basis", "办不了：书面依据"
    WONT = "wont", "不给办"
    HARD = "hard", "很难办"
    VISIT = "visit", "办结后回访"
    URGE_FEEDBACK = "urge_feedback", "催办通知：反馈时限"


DEFAULT_RULE_DAYS: dict[RuleKey, int] = {
    RuleKey.IMMEDIATE: 0,
    RuleKey.CANT_ANSWER: 0,
    RuleKey.CANT_BASIS: 3,
    RuleKey.WONT: 5,
    RuleKey.HARD: 10,
    RuleKey.VISIT: 5,
    # A 催办 notice asks for feedback within this many working days of the notice (the deadline
    # it chases has passed already). Issue 14: one working day unless the office decides other.
    RuleKey.URGE_FEEDBACK: 1,
}
DEFAULT_DUE_SOON_DAYS = 2
MAX_RULE_DAYS = 60
MAX_DUE_SOON_DAYS = 10

EXTENSION_REQUEST_DAYS = 5
"""The 延期 a department asks for, as the request form starts (the clerk changes it to what the
department wrote). No published rule gives a number (DESIGN.md §4 says only that an extension is
asked before the deadline and approved); 5 is the form's starting value since the first release,
the default 不给办 period."""

SUPERVISE_DAYS = 3
"""The working days a 督办 (escalation of an overdue assignment) gives, as the form starts. No
published rule gives a number (DESIGN.md §3-4: after the 催办, a 督办 slip); 3 is the form's
starting value since the first release, the shortest period the seed reports name (开封: the
办不了 written basis within 3 working days)."""

PROOF_EXAMPLE_DAYS = DEFAULT_RULE_DAYS[RuleKey.WONT]
"""Where the 期限计算 calculator (explaining to a complainant how a deadline is counted) starts:
the default 不给办 period, 5 working days (DESIGN.md §4)."""


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


def assignment_rule(nature: Nature, approach: Approach) -> RuleKey:
    """The rule whose period a triaged case's 交办 slip asks for (and a reopened case's 督办:
    重办 starts a new period under the same rule, as CaseService.record_visit does).

    The case's own rule (:func:`case_rule`), except that a 办不了 case's paper is the
    不能办事项书面依据告知单 whatever the approach: it asks for the written basis, so it gets the
    basis period (seed 002: 3 working days), not the same-day answer.
    """
    if nature is Nature.CANT:
        return RuleKey.CANT_BASIS
    return case_rule(nature, approach)


class CaseDeadline(Protocol):
    """The deadline fields a case stores (storage.models.Case): how its due date was computed."""

    due_date: date | None
    due_start: date | None
    due_working_days: int | None
    due_rule: str | None
    due_calendar_version: str | None
    due_provisional: bool


def apply_deadline(case: CaseDeadline, deadline: Deadline, rule: RuleKey | None) -> None:
    """Give ``case`` the deadline ``deadline``, computed under ``rule``.

    Every way a case's deadline is set (triage, 重办, signing a slip, an approved extension, a
    calendar change) goes through here, so the due date never travels without its start, number
    of working days, rule, calendar version and 暂定 flag: the proof and the recompute read
    them. ``rule`` None: the deadline follows no rule (a case never triaged).
    """
    case.due_start = deadline.start
    case.due_working_days = deadline.working_days
    case.due_rule = rule.value if rule is not None else None
    case.due_date = deadline.due
    case.due_calendar_version = deadline.calendar_version
    case.due_provisional = deadline.provisional


def deadline_fields(deadline: Deadline, rule: RuleKey | None) -> dict[str, object]:
    """The same fields as :func:`apply_deadline` sets, as column values for a bulk update (the
    demo fills 100,000 cases at once)."""
    return {
        "due_start": deadline.start,
        "due_working_days": deadline.working_days,
        "due_rule": rule.value if rule is not None else None,
        "due_date": deadline.due,
        "due_calendar_version": deadline.calendar_version,
        "due_provisional": deadline.provisional,
    }


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
    if not 0 <= due_soon_days <= MAX_DUE_SOON_DAYS:
        errors["due_soon_days"] = f"“即将到期”提醒应在0到{MAX_DUE_SOON_DAYS}个工作日之间"
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
