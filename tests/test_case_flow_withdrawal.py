"""A withdrawal's closed assignments read 随撤回关闭, not 随办结关闭 (issue 16): on the timeline,
in the case's closures, on the audit log (code and Chinese label), in the evidence a 问责
referral assembles, and the scorecard does not count them against the department."""

from __future__ import annotations

from datetime import timedelta

from desktop_app.domain.assignment_flow import AssignmentState, ClosedWith, state_label
from desktop_app.domain.vocabulary import VisitGrade
from desktop_app.services.app import AppServices
from desktop_app.services.audit_log import action_label
from desktop_app.services.context import Actor, FixedClock
from tests.helpers.db import audit_entries
from tests.helpers.speed import fast_password_hashing  # noqa: F401
from tests.test_case_path import assigned, conclude


def closures(services: AppServices, case_id: int) -> dict[int, ClosedWith]:
    return dict(services.cases.detail(case_id).closed_with)


def assignment_uuid(services: AppServices, assignment_id: int) -> str:
    from desktop_app.storage.models import Assignment

    with services.db.read() as session:
        row = session.get(Assignment, assignment_id)
        assert row is not None
        return row.uuid


def test_a_withdrawn_cases_assignment_reads_closed_with_the_withdrawal(
    services: AppServices, clerk: Actor, leader: Actor, clock: FixedClock
) -> None:
    case_id, assignment_id = assigned(services, clerk, leader)

    services.cases.withdraw(clerk, case_id, "当事人已自行办妥")

    assert services.assignments.get(assignment_id).state is AssignmentState.CLOSED
    summary = services.cases.detail(case_id).timeline[-1].summary
    assert "（交办，已签收）随撤回关闭" in summary and "随办结" not in summary
    assert closures(services, case_id) == {assignment_id: ClosedWith.WITHDRAWN}
    assert state_label(AssignmentState.CLOSED, ClosedWith.WITHDRAWN) == "随撤回关闭"
    entry = audit_entries(services, assignment_uuid(services, assignment_id))[-1]
    assert entry["action"] == "close_assignment_withdrawn"
    assert entry["after"]["closed_with"] == "withdrawn"
    assert action_label(entry["action"]) == "交办随撤回关闭"
    # The evidence a 问责 referral assembles from the record says it as the timeline does.
    from desktop_app.services.referrals import assemble_evidence
    from desktop_app.storage.models import Case

    with services.db.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        texts = [item["text"] for item in assemble_evidence(session, case, clock.today())]
    assert any("随撤回关闭" in text for text in texts)
    assert not any("随办结关闭" in text for text in texts)
    assert services.maintenance.check().ok


def test_a_reasoned_conclusion_still_reads_closed_with_the_conclusion(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id, assignment_id = assigned(services, clerk, leader)

    conclude(services, clerk, case_id, close_reason="当事人已在外地办成")

    assert closures(services, case_id) == {assignment_id: ClosedWith.CONCLUDED}
    entry = audit_entries(services, assignment_uuid(services, assignment_id))[-1]
    assert entry["action"] == "close_assignment"
    assert entry["after"]["closed_with"] == "concluded"
    assert action_label(entry["action"]) == "交办随办结关闭"


def test_each_closed_assignment_keeps_how_its_own_round_ended(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    """Concluded over an open assignment, reopened by a 不满意 visit (a new draft), then
    withdrawn: the first reads 随办结关闭, the draft 随撤回关闭."""
    case_id, first = assigned(services, clerk, leader)
    conclude(services, clerk, case_id, close_reason="当事人已在外地办成")
    services.cases.record_visit(clerk, case_id, grade=VisitGrade.DISSATISFIED, note="仍未到账")
    draft = services.assignments.for_case(case_id)[-1]
    assert draft.state is AssignmentState.DRAFT

    services.cases.withdraw(clerk, case_id, "当事人撤回")

    assert closures(services, case_id) == {
        first: ClosedWith.CONCLUDED,
        draft.id: ClosedWith.WITHDRAWN,
    }


def test_a_withdrawn_cases_closed_assignment_does_not_count_against_the_department(
    services: AppServices, clerk: Actor, leader: Actor, clock: FixedClock
) -> None:
    case_id, assignment_id = assigned(services, clerk, leader)
    due = services.assignments.get(assignment_id).due_date
    services.cases.withdraw(clerk, case_id, "当事人已自行办妥")
    clock.at = clock.at + timedelta(days=60)  # long past the assignment's deadline

    card = services.scorecards.scorecard(leader, due - timedelta(days=30), clock.now().date())

    (row,) = card.rows
    assert (row.received, row.responded, row.returned, row.late) == (1, 0, 0, 0)
    assert row.on_time.denominator == 0  # not judged: it was taken out of its hands
