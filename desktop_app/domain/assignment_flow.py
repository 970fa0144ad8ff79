"""The life of an assignment (DESIGN.md §3.3), as pure rules.

draft → issued (签发, by a duty leader) → received (签收) → responded (办理反馈); or returned as
not theirs (退回); an extension (延期) is asked for before the deadline and approved or refused;
an overdue assignment gets a 催办 notice and can be escalated with a 督办 assignment.
"""

from __future__ import annotations

import re
from datetime import date

from desktop_app.domain.vocabulary import LabelledEnum
from desktop_app.domain.workdays import WorkdayCalendar
from desktop_app.errors import InvalidTransition


class AssignmentKind(LabelledEnum):
    ASSIGN = "assign", "交办"
    ASSIST = "assist", "协办"
    SUPERVISE = "supervise", "督办"


class AssignmentState(LabelledEnum):
    DRAFT = "draft", "待签发"
    ISSUED = "issued", "已签发"
    RECEIVED = "received", "已签收"
    RESPONDED = "responded", "已反馈"
    RETURNED = "returned", "已退回"
    VOIDED = "voided", "已作废"
    # The case ended while this assignment was still open (issue 16): concluded with a reason,
    # or withdrawn. ClosedWith says which; where that is not at hand the label names neither.
    CLOSED = "closed", "随事项关闭"


class ExtensionState(LabelledEnum):
    NONE = "", "—"
    REQUESTED = "requested", "申请延期"
    APPROVED = "approved", "已批准延期"
    REFUSED = "refused", "延期未批准"


class Step(LabelledEnum):
    ISSUE = "issue", "签发"
    RECEIVE = "receive", "签收"
    RESPOND = "respond", "办理反馈"
    RETURN = "return", "退回"
    REQUEST_EXTENSION = "request_extension", "申请延期"
    DECIDE_EXTENSION = "decide_extension", "审批延期"
    URGE = "urge", "催办"
    ESCALATE = "escalate", "督办"
    VOID = "void", "作废"
    CLOSE = "close", "随事项关闭"


class ClosedWith(LabelledEnum):
    """How the case ended that closed an open assignment: the stable code on the close's audit
    entry and on the ending's timeline event (``closed_with``), and the words for it."""

    CONCLUDED = "concluded", "随办结关闭"
    WITHDRAWN = "withdrawn", "随撤回关闭"


OUTSTANDING = frozenset({AssignmentState.ISSUED, AssignmentState.RECEIVED})
# Not finished with: a case concludes over one of these only with a reason (issue 16); a draft
# counts, or it would wait for a signature the concluded case can no longer take.
OPEN = OUTSTANDING | {AssignmentState.DRAFT}

_ALLOWED: dict[Step, frozenset[AssignmentState]] = {
    Step.ISSUE: frozenset({AssignmentState.DRAFT}),
    Step.RECEIVE: frozenset({AssignmentState.ISSUED}),
    Step.RESPOND: OUTSTANDING,
    Step.RETURN: OUTSTANDING,
    Step.REQUEST_EXTENSION: OUTSTANDING,
    Step.DECIDE_EXTENSION: OUTSTANDING,
    Step.URGE: OUTSTANDING,
    Step.ESCALATE: OUTSTANDING,
    Step.VOID: frozenset({AssignmentState.DRAFT, AssignmentState.ISSUED}),
    Step.CLOSE: OPEN,
}

_TARGET: dict[Step, AssignmentState] = {
    Step.ISSUE: AssignmentState.ISSUED,
    Step.RECEIVE: AssignmentState.RECEIVED,
    Step.RESPOND: AssignmentState.RESPONDED,
    Step.RETURN: AssignmentState.RETURNED,
    Step.VOID: AssignmentState.VOIDED,
    Step.CLOSE: AssignmentState.CLOSED,
}


def state_label(state: AssignmentState, closed_with: ClosedWith | None = None) -> str:
    """已签收, or for a closed one how its case ended: 随办结关闭 / 随撤回关闭."""
    if state is AssignmentState.CLOSED and closed_with is not None:
        return closed_with.label
    return state.label


def check_step(
    step: Step,
    state: AssignmentState,
    *,
    today: date | None = None,
    due: date | None = None,
    extension: ExtensionState = ExtensionState.NONE,
) -> AssignmentState:
    """The state after ``step``, or InvalidTransition with a Chinese reason."""
    if state not in _ALLOWED[step]:
        raise InvalidTransition(f"{state.label}的交办不能{step.label}")
    if step is Step.REQUEST_EXTENSION:
        if extension is ExtensionState.REQUESTED:
            raise InvalidTransition("已有延期申请等待审批")
        if today is not None and due is not None and today > due:
            raise InvalidTransition(
                f"办理期限（{due:%Y-%m-%d}）已过，不能再申请延期；请按超期处理（催办、督办）"
            )
    if step is Step.DECIDE_EXTENSION and extension is not ExtensionState.REQUESTED:
        raise InvalidTransition("没有等待审批的延期申请")
    if (
        step in (Step.URGE, Step.ESCALATE)
        and today is not None
        and due is not None
        and today <= due
    ):
        raise InvalidTransition(f"尚未超期（期限 {due:%Y-%m-%d}），不需要{step.label}")
    return _TARGET.get(step, state)


def slip_series(kind: AssignmentKind) -> str:
    """The character in the slip number: 杞纪窗交〔2026〕12号, 杞纪窗督〔2026〕3号."""
    return "督" if kind is AssignmentKind.SUPERVISE else "交"


URGE_SERIES = "催"  # 杞纪窗催〔2026〕3号: a 催办通知
ADJUST_SERIES = "调"  # 杞纪窗调〔2026〕1号: a 时限调整通知
_SERIES_OF_NUMBER = re.compile(r"(.)〔\d{4}〕")


def slip_number(prefix: str, series: str, year: int, seq: int) -> str:
    return f"{prefix}{series}〔{year}〕{seq}号"


def series_of(number: str) -> str:
    """The series character of a paper's number (``slip_number``'s): 交, 督, 催, 调; "" if none."""
    found = _SERIES_OF_NUMBER.search(number)
    return found.group(1) if found else ""


def default_slip_prefix(short_name: str) -> str:
    """杞县 → 杞纪窗 (the county's first character + 纪委监委窗口)."""
    return f"{short_name[:1]}纪窗" if short_name else "纪窗"


def extended_due(calendar: WorkdayCalendar, due: date, days: int) -> date:
    """The deadline an approved extension of ``days`` working days gives: counted on from the
    deadline in force (the request dialog shows it, the approval asks with it, the service
    sets it)."""
    return calendar.add(due, days).due
