"""The case's closed loop as a state machine (DESIGN.md §3).

The status is the result of the case's events; services move it only through :func:`advance`,
which refuses steps the current state does not allow (you cannot visit a case never concluded).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from desktop_app.domain.vocabulary import CaseStatus, VisitGrade
from desktop_app.errors import InvalidTransition


class EventKind(StrEnum):
    REGISTERED = "registered"
    REPEAT_VISIT = "repeat_visit"
    TRIAGED = "triaged"
    ATTACHMENT_ADDED = "attachment_added"
    NOTE = "note"
    ASSIGNED = "assigned"
    RECEIVED = "received"
    RESPONDED = "responded"
    EXTENSION = "extension"
    RETURNED = "returned"
    URGED = "urged"
    CONCLUDED = "concluded"
    VISITED = "visited"
    REOPENED = "reopened"
    WITHDRAWN = "withdrawn"
    # A typo put right (title, area, the complainant's name …): the status stays as it is.
    CORRECTED = "corrected"
    # Issue 16: the supervision half.
    SCREENED_OUT = "screened_out"  # 不予受理 / 转办 at screening, with a printed notice
    ONSITE_SUPERVISED = "onsite_supervised"  # 现场督办: the duty leader at the department
    BASIS_RECEIVED = "basis_received"  # 办不了: the signed written basis arrived
    BASIS_WAIVED = "basis_waived"  # … or a leader waived it, with a reason
    REPLIED = "replied"  # the reply to the complainant: date, method, text
    VISIT_ATTEMPT = "visit_attempt"  # a return-visit call that did not reach the person
    REFERRAL = "referral"  # 问责: proposed, sent, decided
    CLASSED = "classed"  # joined to a class of matters (一类事)
    MEETING = "meeting"  # taken up at a joint meeting (联席会议)


EVENT_LABELS: dict[EventKind, str] = {
    EventKind.REGISTERED: "受理登记",
    EventKind.REPEAT_VISIT: "再次来访",
    EventKind.TRIAGED: "甄别分类",
    EventKind.ATTACHMENT_ADDED: "添加材料",
    EventKind.NOTE: "备注",
    EventKind.ASSIGNED: "交办",
    EventKind.RECEIVED: "签收",
    EventKind.RESPONDED: "办理反馈",
    EventKind.EXTENSION: "延期",
    EventKind.RETURNED: "退回",
    EventKind.URGED: "催办",
    EventKind.CONCLUDED: "办结",
    EventKind.VISITED: "回访核查",
    EventKind.REOPENED: "重办",
    EventKind.WITHDRAWN: "撤回",
    EventKind.CORRECTED: "更正",
    EventKind.SCREENED_OUT: "不予受理/转办",
    EventKind.ONSITE_SUPERVISED: "现场督办",
    EventKind.BASIS_RECEIVED: "书面依据收到",
    EventKind.BASIS_WAIVED: "免除书面依据",
    EventKind.REPLIED: "答复反映人",
    EventKind.VISIT_ATTEMPT: "回访未联系上",
    EventKind.REFERRAL: "问责移交",
    EventKind.CLASSED: "归入一类事",
    EventKind.MEETING: "联席会议",
}

# Events that leave the status as it is, and the states they may happen in.
_NEUTRAL: dict[EventKind, frozenset[CaseStatus]] = {
    EventKind.REPEAT_VISIT: frozenset({CaseStatus.REGISTERED, CaseStatus.IN_PROGRESS}),
    EventKind.TRIAGED: frozenset({CaseStatus.REGISTERED, CaseStatus.IN_PROGRESS}),
    EventKind.ATTACHMENT_ADDED: frozenset(CaseStatus),
    EventKind.NOTE: frozenset(CaseStatus),
    # The record of a closed case is corrected too: what was written wrong stays wrong otherwise.
    EventKind.CORRECTED: frozenset(CaseStatus),
    # Steps of an assignment happen while the case waits for its departments.
    EventKind.RECEIVED: frozenset({CaseStatus.IN_PROGRESS}),
    EventKind.RESPONDED: frozenset({CaseStatus.IN_PROGRESS}),
    EventKind.EXTENSION: frozenset({CaseStatus.IN_PROGRESS}),
    EventKind.RETURNED: frozenset({CaseStatus.IN_PROGRESS}),
    EventKind.URGED: frozenset({CaseStatus.IN_PROGRESS}),
    EventKind.ONSITE_SUPERVISED: frozenset({CaseStatus.REGISTERED, CaseStatus.IN_PROGRESS}),
    # A missing basis stays due after the case is concluded, until it arrives or is waived.
    EventKind.BASIS_RECEIVED: frozenset(
        {CaseStatus.IN_PROGRESS, CaseStatus.CONCLUDED, CaseStatus.VISITED}
    ),
    EventKind.BASIS_WAIVED: frozenset(
        {CaseStatus.IN_PROGRESS, CaseStatus.CONCLUDED, CaseStatus.VISITED}
    ),
    EventKind.REPLIED: frozenset(
        {CaseStatus.IN_PROGRESS, CaseStatus.CONCLUDED, CaseStatus.VISITED}
    ),
    EventKind.VISIT_ATTEMPT: frozenset({CaseStatus.CONCLUDED}),
    EventKind.REFERRAL: frozenset(CaseStatus),
    EventKind.CLASSED: frozenset(CaseStatus),
    EventKind.MEETING: frozenset(CaseStatus),
}

_MOVES: dict[EventKind, tuple[frozenset[CaseStatus], CaseStatus]] = {
    EventKind.ASSIGNED: (
        frozenset({CaseStatus.REGISTERED, CaseStatus.IN_PROGRESS}),
        CaseStatus.IN_PROGRESS,
    ),
    EventKind.CONCLUDED: (
        frozenset({CaseStatus.REGISTERED, CaseStatus.IN_PROGRESS}),
        CaseStatus.CONCLUDED,
    ),
    EventKind.VISITED: (frozenset({CaseStatus.CONCLUDED}), CaseStatus.VISITED),
    EventKind.REOPENED: (
        frozenset({CaseStatus.CONCLUDED, CaseStatus.VISITED}),
        CaseStatus.IN_PROGRESS,
    ),
    EventKind.WITHDRAWN: (
        frozenset({CaseStatus.REGISTERED, CaseStatus.IN_PROGRESS}),
        CaseStatus.WITHDRAWN,
    ),
    # Only before anything was assigned: a matter sent to a department is in scope.
    EventKind.SCREENED_OUT: (frozenset({CaseStatus.REGISTERED}), CaseStatus.SCREENED_OUT),
}

_REFUSALS: dict[EventKind, str] = {
    EventKind.VISITED: "只有已办结的事项才能回访",
    EventKind.CONCLUDED: "只有已登记或办理中的事项才能办结",
    EventKind.WITHDRAWN: "已办结或已回访的事项不能撤回",
    EventKind.REOPENED: "只有已办结或已回访的事项才能重办",
    EventKind.TRIAGED: "已办结的事项不能再甄别分类",
    EventKind.REPEAT_VISIT: "事项已办结，再次来访请登记为新事项并关联原事项",
    EventKind.ASSIGNED: "已办结的事项不能交办",
    EventKind.SCREENED_OUT: "只有尚未交办的新登记事项才能不予受理或转办",
    EventKind.VISIT_ATTEMPT: "只有已办结、待回访的事项才能登记回访",
    EventKind.ONSITE_SUPERVISED: "只有尚未办结的事项才能现场督办",
    EventKind.BASIS_RECEIVED: "只有已交办的事项才有书面依据",
    EventKind.BASIS_WAIVED: "只有已交办的事项才有书面依据",
    EventKind.REPLIED: "只有已交办或已办结的事项才能答复",
}


def advance(current: CaseStatus | None, kind: EventKind) -> CaseStatus:
    """The status after ``kind`` happens to a case in ``current`` (None: not yet registered)."""
    if kind is EventKind.REGISTERED:
        if current is not None:
            raise InvalidTransition("事项已经登记过")
        return CaseStatus.REGISTERED
    if current is None:
        raise InvalidTransition("事项尚未登记")
    if kind in _NEUTRAL:
        if current not in _NEUTRAL[kind]:
            raise InvalidTransition(_refusal(kind, current))
        return current
    sources, target = _MOVES[kind]
    if current not in sources:
        raise InvalidTransition(_refusal(kind, current))
    return target


def _refusal(kind: EventKind, current: CaseStatus) -> str:
    reason = _REFUSALS.get(kind, "当前状态不允许此操作")
    return f"{reason}（当前状态：{current.label}）"


def derive_status(kinds: Iterable[EventKind]) -> CaseStatus:
    """Replay a timeline; raises InvalidTransition if the events are not a possible history."""
    status: CaseStatus | None = None
    for kind in kinds:
        status = advance(status, kind)
    if status is None:
        raise InvalidTransition("事项没有任何记录")
    return status


# A return visit is tried this many times in all (calls that reach nobody: 无人接听, 空号); the
# last unanswered call ends it without a grade, as a refusal does, so that a wrong number does
# not stay on 待重拨 for ever. Three calls on three working days is what the window does by hand.
MAX_VISIT_CALLS = 3


def visit_ends(unanswered_before: int, *, refused: bool) -> bool:
    """Whether this unreached call ends the return visit: a refusal does, and so does the last
    of :data:`MAX_VISIT_CALLS` unanswered calls of the round."""
    return refused or unanswered_before + 1 >= MAX_VISIT_CALLS


def visit_outcome(grade: VisitGrade) -> EventKind | None:
    """A return visit graded 不满意 or worse reopens the case."""
    return EventKind.REOPENED if grade.reopens else None
