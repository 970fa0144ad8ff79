"""A 不满意 visit reopens the case and drafts a new assignment to the same department in ONE
transaction (issue 16): a failure in the draft leaves the case as it was before the visit; what
keeps a draft from being made (the department stopped, the case never triaged) is said on the
timeline for a clerk to assign by hand."""

from __future__ import annotations

from typing import Any

import pytest

from desktop_app.domain.assignment_flow import AssignmentKind, AssignmentState
from desktop_app.domain.vocabulary import CaseStatus, Outcome, ReplyMethod, VisitGrade
from desktop_app.errors import UserError
from desktop_app.services import audit
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from tests.helpers.db import audit_count, count_rows
from tests.helpers.factories import person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401
from tests.test_case_path import assigned, conclude, last_actions


def visited_unhappy(services: AppServices, actor: Actor, case_id: int) -> None:
    services.cases.record_visit(actor, case_id, grade=VisitGrade.DISSATISFIED, note="待遇仍未到账")


def concluded_after_response(services: AppServices, clerk: Actor, leader: Actor) -> int:
    case_id, assignment_id = assigned(services, clerk, leader)
    services.assignments.respond(clerk, assignment_id, "已办结")
    conclude(services, clerk, case_id)
    return case_id


def before_the_visit(services: AppServices, case_id: int) -> tuple[object, ...]:
    return (
        services.cases.detail(case_id),
        services.assignments.for_case(case_id),
        audit_count(services),
        count_rows(services, "case_events"),
    )


def test_the_visit_the_reopening_and_the_draft_each_have_one_audit_entry(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id = concluded_after_response(services, clerk, leader)
    entries = audit_count(services)

    visited_unhappy(services, clerk, case_id)

    assert audit_count(services) == entries + 3
    assert sorted(last_actions(services, 3)) == ["draft_assignment", "reopen", "visit"]
    detail = services.cases.detail(case_id)
    assert detail.status is CaseStatus.IN_PROGRESS
    draft = services.assignments.for_case(case_id)[-1]
    assert (draft.state, draft.kind) == (AssignmentState.DRAFT, AssignmentKind.ASSIGN)
    assert "待遇仍未到账" in draft.requirements
    assert f"已拟办交办{draft.department}，待带班领导签发" in detail.timeline[-1].summary
    assert services.maintenance.check().ok


@pytest.mark.parametrize(
    "failure",
    [RuntimeError("断电"), UserError("交办单编号被占用，请重试")],
    ids=["crash", "refusal"],
)
def test_a_failure_in_the_draft_leaves_the_case_as_before_the_visit(
    services: AppServices,
    clerk: Actor,
    leader: Actor,
    monkeypatch: pytest.MonkeyPatch,
    failure: Exception,
) -> None:
    case_id = concluded_after_response(services, clerk, leader)
    before = before_the_visit(services, case_id)
    real_record = audit.record

    def fail_on_draft(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("action") == "draft_assignment":
            raise failure
        return real_record(*args, **kwargs)

    monkeypatch.setattr(audit, "record", fail_on_draft)
    with pytest.raises(type(failure)) as raised:
        visited_unhappy(services, clerk, case_id)
    monkeypatch.undo()

    assert str(raised.value) == str(failure)  # the person at the window is told why
    assert before_the_visit(services, case_id) == before
    detail = services.cases.detail(case_id)
    assert (detail.status, detail.visit_grade) == (CaseStatus.CONCLUDED, None)


def test_a_stopped_department_gets_no_draft_and_the_timeline_says_so(
    services: AppServices, clerk: Actor, leader: Actor, admin: Actor
) -> None:
    case_id = concluded_after_response(services, clerk, leader)
    department = services.site.departments()[0]
    services.site.save_department(
        admin, name=department.name, department_id=department.id, active=False
    )
    drafts = len(services.assignments.for_case(case_id))

    visited_unhappy(services, clerk, case_id)

    detail = services.cases.detail(case_id)
    assert detail.status is CaseStatus.IN_PROGRESS and detail.visit_grade is VisitGrade.DISSATISFIED
    assert len(services.assignments.for_case(case_id)) == drafts
    assert f"原承办部门{department.name}已停用，未自动拟办交办，请另行交办" in (
        detail.timeline[-1].summary
    )


def test_a_case_concluded_on_the_spot_without_triage_is_reopened_for_triage(
    services: AppServices, clerk: Actor
) -> None:
    department = services.site.departments()[0]
    case_id = services.intake.register(
        clerk, person_form(stuck_department_id=department.id)
    ).case_id
    services.cases.conclude(
        clerk,
        case_id,
        outcome=Outcome.DONE,
        what_was_done="当场联系医保局补录",
        reply_method=ReplyMethod.IN_PERSON,
        reply_text="已补录",
    )

    visited_unhappy(services, clerk, case_id)

    detail = services.cases.detail(case_id)
    assert detail.status is CaseStatus.IN_PROGRESS
    assert services.assignments.for_case(case_id) == []
    assert "事项未经甄别分类，未自动拟办交办，请甄别分类后交办" in detail.timeline[-1].summary
