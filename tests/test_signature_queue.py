"""待签发 (issue 12 item 5): drafts waiting for the duty leader, counted for the 工作台 and
offered as a ledger filter; the query lives in services/ledger.py."""

from __future__ import annotations

from datetime import date

from desktop_app.domain.assignment_flow import AssignmentKind
from desktop_app.domain.vocabulary import Approach, Cause, Nature
from desktop_app.services.app import AppServices
from desktop_app.services.cases import Triage
from desktop_app.services.context import Actor
from desktop_app.services.ledger import CaseFilter
from tests.helpers.factories import person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401

TODAY = date(2026, 11, 25)


def triaged_case(services: AppServices, clerk: Actor, phone: str = "13912345678") -> int:
    case_id = services.intake.register(clerk, person_form(phone=phone)).case_id
    services.cases.triage(
        clerk, case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
    )
    return case_id


def draft(services: AppServices, clerk: Actor, case_id: int, *, assisted: bool = False) -> int:
    lead, helper = (d.id for d in services.site.departments())
    ids, _changes = services.assignments.create(
        clerk,
        case_id,
        department_id=lead,
        assisting_ids=[helper] if assisted else [],
        requirements="请核实并办理，书面反馈监督窗口。",
    )
    return ids[0]


def test_drafts_waiting_for_a_signature_are_counted_and_filtered(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    ledger = services.ledger
    waiting = triaged_case(services, clerk, "13900000001")
    draft(services, clerk, waiting, assisted=True)  # a lead and a 协办 draft: one case
    signed = triaged_case(services, clerk, "13900000002")
    services.assignments.issue(leader, draft(services, clerk, signed))
    voided = triaged_case(services, clerk, "13900000003")
    services.assignments.void(leader, draft(services, clerk, voided), "交办对象选错")
    triaged_case(services, clerk, "13900000004")  # triaged, nothing drafted
    services.intake.register(clerk, person_form(phone="13900000005"))  # not triaged

    queue = CaseFilter(awaiting_signature=True)
    assert ledger.ids(queue) == [waiting]
    assert ledger.count(queue) == 1
    assert ledger.dashboard(TODAY).awaiting_signature == 1

    # Two drafts on one case still count one case; signing the last one empties the queue.
    second = draft(services, clerk, waiting)
    assert ledger.count(queue) == 1
    for assignment in services.assignments.for_case(waiting):
        if assignment.id != second and assignment.kind is AssignmentKind.ASSIGN:
            services.assignments.issue(leader, assignment.id)
    assert ledger.count(queue) == 1
    services.assignments.issue(leader, second)
    assert ledger.ids(queue) == []
    assert ledger.dashboard(TODAY).awaiting_signature == 0


def test_the_queue_combines_with_the_other_filters(services: AppServices, clerk: Actor) -> None:
    case_id = triaged_case(services, clerk)
    draft(services, clerk, case_id)
    ledger = services.ledger
    assert ledger.ids(CaseFilter(awaiting_signature=True, text="医保")) == [case_id]
    assert ledger.ids(CaseFilter(awaiting_signature=True, text="不动产")) == []
    assert ledger.ids(CaseFilter(awaiting_signature=True, area="医保社保")) == [case_id]


def test_a_draft_left_on_a_withdrawn_case_waits_for_nobody(
    services: AppServices, clerk: Actor
) -> None:
    """The leader could not sign it (the case is closed): it is not in the queue."""
    case_id = triaged_case(services, clerk)
    draft(services, clerk, case_id)
    ledger = services.ledger
    assert ledger.count(CaseFilter(awaiting_signature=True)) == 1
    services.cases.withdraw(clerk, case_id, "当事人已自行办结")
    assert ledger.ids(CaseFilter(awaiting_signature=True)) == []
    assert ledger.dashboard(TODAY).awaiting_signature == 0
