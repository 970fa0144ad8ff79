"""The case path after assignment, without holes (issue 16): on-site supervision, the written
basis, no conclusion over an open assignment without a reason, the reply and each visit call."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop_app.domain.assignment_flow import AssignmentKind, AssignmentState
from desktop_app.domain.deadlines import DeadlineKind
from desktop_app.domain.vocabulary import (
    Approach,
    CaseStatus,
    Cause,
    Nature,
    Outcome,
    ReplyMethod,
    VisitContact,
    VisitGrade,
    VisitReason,
)
from desktop_app.errors import InvalidTransition, PermissionDenied, UserError, ValidationFailed
from desktop_app.services.app import AppServices
from desktop_app.services.cases import OnsiteVisit, Triage
from desktop_app.services.context import Actor, FixedClock
from desktop_app.services.deadlines import BoardFilter
from desktop_app.services.ledger import CaseFilter
from desktop_app.storage.models import Assignment, AuditEntry
from tests.conftest import NOW
from tests.helpers.db import audit_count
from tests.helpers.factories import person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401

TODAY = NOW.date()  # Wednesday 2026-11-25


def triaged(services: AppServices, clerk: Actor, nature: Nature = Nature.HARD) -> int:
    case_id = services.intake.register(clerk, person_form()).case_id
    approach = Approach.ORDER if nature is Nature.WONT else Approach.PUSH
    services.cases.triage(clerk, case_id, Triage(nature, approach, (Cause.PROCESS,), "医保社保"))
    return case_id


def assigned(
    services: AppServices, clerk: Actor, leader: Actor, nature: Nature = Nature.HARD
) -> tuple[int, int]:
    """A triaged case with its lead assignment signed and received; (case id, assignment id)."""
    case_id = triaged(services, clerk, nature)
    department = services.site.departments()[0].id
    ids, _ = services.assignments.create(
        clerk, case_id, department_id=department, requirements="请核实并依法办理，书面反馈。"
    )
    services.assignments.issue(leader, ids[0])
    services.assignments.receive(clerk, ids[0], received_on=TODAY, received_by="王科长")
    return case_id, ids[0]


def conclude(services: AppServices, actor: Actor, case_id: int, close_reason: str = "") -> None:
    services.cases.conclude(
        actor,
        case_id,
        outcome=Outcome.DONE,
        what_was_done="部门已办理完毕",
        reply_method=ReplyMethod.PHONE,
        reply_text="电话告知办理结果",
        close_reason=close_reason,
    )


def last_actions(services: AppServices, count: int) -> list[str]:
    with services.db.read() as session:
        actions = session.scalars(
            select(AuditEntry.action).order_by(AuditEntry.id.desc()).limit(count)
        ).all()
    return list(reversed(actions))


def labels(services: AppServices, case_id: int) -> list[str]:
    return [entry.label for entry in services.cases.detail(case_id).timeline]


# On-site supervision -----------------------------------------------------------------------


def test_the_conclusion_reads_as_one_sentence_on_the_timeline(
    services: AppServices, clerk: Actor
) -> None:
    case_id = services.intake.register(clerk, person_form()).case_id
    with pytest.raises(ValidationFailed) as missing:  # nothing chosen or written: all named
        services.cases.conclude(
            clerk, case_id, outcome=None, what_was_done="", reply_method=None, reply_text=" "
        )
    assert set(missing.value.errors) == {"outcome", "what_was_done", "reply_method", "reply_text"}
    services.cases.conclude(
        clerk,
        case_id,
        outcome=Outcome.DONE,
        what_was_done="当场补录参保信息。",
        reply_method=ReplyMethod.PHONE,
        reply_text="已电话告知",
    )
    summary = services.cases.detail(case_id).timeline[-1].summary
    assert summary == "办结（办成）：当场补录参保信息；电话答复：已电话告知"


def test_onsite_supervision_is_a_step_with_who_when_where_and_result(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id, _ = assigned(services, clerk, leader)
    department = services.site.departments()[0]
    audits = audit_count(services)

    services.cases.record_onsite(
        clerk,
        case_id,
        OnsiteVisit(
            leader="潘险峰",
            at=datetime(2026, 11, 25, 8, 40),
            department_id=department.id,
            place="政务服务中心二楼医保窗口",
            result="当场协调，下午办结",
        ),
    )

    detail = services.cases.detail(case_id)
    assert detail.status is CaseStatus.IN_PROGRESS
    entry = detail.timeline[-1]
    assert entry.label == "现场督办"
    assert "潘险峰" in entry.summary and department.name in entry.summary
    assert "2026年11月25日8时40分" in entry.summary and "当场协调，下午办结" in entry.summary
    assert audit_count(services) == audits + 1
    assert last_actions(services, 1) == ["onsite"]


def test_onsite_supervision_needs_its_facts(services: AppServices, clerk: Actor) -> None:
    case_id = triaged(services, clerk)
    audits = audit_count(services)
    with pytest.raises(ValidationFailed) as caught:
        services.cases.record_onsite(
            clerk,
            case_id,
            OnsiteVisit(
                " ", datetime(2026, 11, 26, 9, 0), services.site.departments()[0].id, "", ""
            ),
        )
    assert set(caught.value.errors) == {"leader", "place", "result", "at"}
    assert labels(services, case_id) == ["受理登记", "甄别分类"]
    assert audit_count(services) == audits


# The written basis --------------------------------------------------------------------------


def basis_items(services: AppServices) -> list[int]:
    return [
        item.case_id
        for item in services.deadlines.items(
            None, None, TODAY, BoardFilter(kinds=(DeadlineKind.BASIS,))
        )
    ]


def test_a_missing_basis_stays_due_after_conclusion_until_it_arrives(
    services: AppServices, clerk: Actor, leader: Actor, tmp_path: Path
) -> None:
    case_id, _ = assigned(services, clerk, leader, Nature.CANT)
    services.assignments.respond(clerk, services.assignments.for_case(case_id)[0].id, "确不能办")
    conclude(services, clerk, case_id)
    detail = services.cases.detail(case_id)
    assert detail.status is CaseStatus.CONCLUDED and detail.basis_missing
    assert basis_items(services) == [case_id]

    scan = tmp_path / "依据.pdf"
    scan.write_bytes(b"%PDF-1.4 signed basis")
    services.cases.record_basis(clerk, case_id, received_on=TODAY, signed_by="李局长", scan=scan)

    detail = services.cases.detail(case_id)
    assert not detail.basis_missing
    assert (detail.basis_received_on, detail.basis_signed_by) == (TODAY, "李局长")
    assert [a.filename for a in detail.attachments] == ["依据.pdf"]
    assert detail.timeline[-1].label == "书面依据收到"
    assert "李局长" in detail.timeline[-1].summary
    assert basis_items(services) == []
    with pytest.raises(UserError, match="已于2026年11月25日收到"):
        services.cases.record_basis(clerk, case_id, received_on=TODAY, signed_by="李局长")


def test_only_a_leader_waives_the_basis_and_with_a_reason(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id, _ = assigned(services, clerk, leader, Nature.CANT)
    with pytest.raises(PermissionDenied):
        services.cases.waive_basis(clerk, case_id, "政策已公开")
    with pytest.raises(ValidationFailed):
        services.cases.waive_basis(leader, case_id, "  ")
    assert basis_items(services) == [case_id]

    services.cases.waive_basis(leader, case_id, "省厅文件已公开，无需另出依据")

    detail = services.cases.detail(case_id)
    assert not detail.basis_missing and detail.basis_waived_by == "潘险峰"
    assert detail.timeline[-1].label == "免除书面依据"
    assert basis_items(services) == []


def test_a_case_without_a_basis_due_refuses_one(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id, _ = assigned(services, clerk, leader, Nature.HARD)
    with pytest.raises(UserError, match="不需要书面依据"):
        services.cases.record_basis(clerk, case_id, received_on=TODAY, signed_by="李局长")


def test_a_refused_basis_leaves_no_scan_behind_but_keeps_one_stored_before(
    services: AppServices, clerk: Actor, leader: Actor, tmp_path: Path
) -> None:
    """The scan is stored before the case is changed; a refusal takes a file it added away
    again (nothing refers to it), and leaves a file that was already there."""
    case_id, _ = assigned(services, clerk, leader, Nature.HARD)
    stray, kept = tmp_path / "依据.pdf", tmp_path / "材料.pdf"
    stray.write_bytes(b"%PDF-1.4 a basis nobody asked for")
    kept.write_bytes(b"%PDF-1.4 a material already on the case")
    services.cases.add_attachments(clerk, case_id, [kept])
    files_before = sorted(p.name for p in services.attachments.root.rglob("*") if p.is_file())

    for scan in (stray, kept):
        with pytest.raises(UserError, match="不需要书面依据"):
            services.cases.record_basis(
                clerk, case_id, received_on=TODAY, signed_by="李局长", scan=scan
            )

    files = sorted(p.name for p in services.attachments.root.rglob("*") if p.is_file())
    assert files == files_before and len(files) == 1


# No conclusion over an open assignment ------------------------------------------------------


def test_conclusion_over_an_open_assignment_is_refused_naming_it(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id, assignment_id = assigned(services, clerk, leader)
    department = services.site.departments()[0].name
    audits = audit_count(services)

    with pytest.raises(ValidationFailed) as caught:
        conclude(services, clerk, case_id)

    assert f"{department}（交办，已签收）尚未办结" in caught.value.errors["close_reason"]
    assert services.cases.detail(case_id).status is CaseStatus.IN_PROGRESS
    assert services.assignments.get(assignment_id).state is AssignmentState.RECEIVED
    assert audit_count(services) == audits


def test_with_a_reason_the_open_assignments_close_and_the_reason_is_on_the_timeline(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id, assignment_id = assigned(services, clerk, leader)

    conclude(services, clerk, case_id, close_reason="当事人已在外地办成，部门无需再办")

    assert services.cases.detail(case_id).status is CaseStatus.CONCLUDED
    assert services.assignments.get(assignment_id).state is AssignmentState.CLOSED
    summary = services.cases.detail(case_id).timeline[-1].summary
    assert "随办结关闭" in summary and "当事人已在外地办成" in summary
    assert last_actions(services, 2) == ["close_assignment", "conclude"]


def test_a_responded_assignment_does_not_stop_conclusion(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id, assignment_id = assigned(services, clerk, leader)
    services.assignments.respond(clerk, assignment_id, "已办结")
    conclude(services, clerk, case_id)
    assert services.assignments.get(assignment_id).state is AssignmentState.RESPONDED


# The reply and the visit calls --------------------------------------------------------------


def test_the_reply_is_a_record_before_and_after_conclusion(
    services: AppServices, clerk: Actor, leader: Actor, clock: FixedClock
) -> None:
    case_id, assignment_id = assigned(services, clerk, leader)
    clock.at = datetime(2026, 11, 26, 10, 0)
    services.cases.record_reply(
        clerk,
        case_id,
        method=ReplyMethod.SMS,
        text="已交办医保局，五个工作日内答复",
        replied_at=datetime(2026, 11, 26, 9, 0),
    )
    detail = services.cases.detail(case_id)
    assert detail.replied_at == datetime(2026, 11, 26, 9, 0)
    assert detail.reply_method is ReplyMethod.SMS
    assert detail.timeline[-1].label == "答复反映人"

    services.assignments.respond(clerk, assignment_id, "已办结")
    conclude(services, clerk, case_id)
    services.cases.record_reply(clerk, case_id, method=ReplyMethod.WRITTEN, text="书面答复")
    assert services.cases.detail(case_id).reply_method is ReplyMethod.WRITTEN
    with pytest.raises(ValidationFailed):
        services.cases.record_reply(clerk, case_id, method=ReplyMethod.PHONE, text=" ")


def test_an_unreached_visit_goes_on_the_retry_list_for_the_next_working_day(
    services: AppServices, clerk: Actor, clock: FixedClock
) -> None:
    case_id = triaged(services, clerk)
    conclude(services, clerk, case_id)
    clock.at = datetime(2026, 11, 27, 16, 0)  # a Friday: retried on Monday

    services.cases.record_visit_attempt(clerk, case_id, contact=VisitContact.NO_ANSWER)

    detail = services.cases.detail(case_id)
    assert (detail.visit_attempts, detail.visit_retry_on) == (1, date(2026, 11, 30))
    assert detail.status is CaseStatus.CONCLUDED
    assert detail.timeline[-1].label == "回访未联系上"
    assert "无人接听" in detail.timeline[-1].summary
    assert services.ledger.ids(CaseFilter(visit_retry_due=True)) == [case_id]

    services.cases.record_visit(
        clerk, case_id, grade=VisitGrade.SATISFIED, reasons=(VisitReason.SOLVED, VisitReason.FAST)
    )
    detail = services.cases.detail(case_id)
    assert detail.visit_attempts == 2 and detail.visit_retry_on is None
    assert detail.visit_reasons == (VisitReason.SOLVED, VisitReason.FAST)
    assert "问题已解决、办理及时" in detail.timeline[-1].summary
    assert services.ledger.ids(CaseFilter(visit_retry_due=True)) == []


def test_the_last_unanswered_call_of_a_round_ends_the_visit_without_a_grade(
    services: AppServices, clerk: Actor, clock: FixedClock
) -> None:
    """A wrong number is not called for ever: the third unanswered call of a round ends the
    visit like a refusal (已回访, no grade, off 待重拨); a reopened case's new round starts
    counting again."""
    case_id = triaged(services, clerk)
    conclude(services, clerk, case_id)
    services.cases.record_visit_attempt(clerk, case_id, contact=VisitContact.NO_ANSWER)
    services.cases.record_visit_attempt(clerk, case_id, contact=VisitContact.UNREACHABLE)
    assert services.cases.detail(case_id).status is CaseStatus.CONCLUDED

    services.cases.record_visit_attempt(clerk, case_id, contact=VisitContact.NO_ANSWER)

    detail = services.cases.detail(case_id)
    assert detail.status is CaseStatus.VISITED
    assert (detail.visit_attempts, detail.visit_retry_on, detail.visit_grade) == (3, None, None)
    assert "本轮已联系3次未果，回访结束" in detail.timeline[-1].summary
    assert services.ledger.ids(CaseFilter(visit_retry_due=True)) == []
    assert last_actions(services, 1) == ["visit_unreached"]


def test_a_reopened_case_is_called_afresh(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id = triaged(services, clerk)
    conclude(services, clerk, case_id)
    services.cases.record_visit_attempt(clerk, case_id, contact=VisitContact.NO_ANSWER)
    services.cases.record_visit_attempt(clerk, case_id, contact=VisitContact.NO_ANSWER)
    services.cases.record_visit(clerk, case_id, grade=VisitGrade.DISSATISFIED, note="问题仍未解决")
    assert services.cases.detail(case_id).status is CaseStatus.IN_PROGRESS
    conclude(services, clerk, case_id)

    services.cases.record_visit_attempt(clerk, case_id, contact=VisitContact.NO_ANSWER)

    detail = services.cases.detail(case_id)
    assert detail.status is CaseStatus.CONCLUDED  # the first call of the new round
    assert detail.visit_retry_on is not None
    for _ in range(2):
        services.cases.record_visit_attempt(clerk, case_id, contact=VisitContact.NO_ANSWER)
    detail = services.cases.detail(case_id)
    assert detail.status is CaseStatus.VISITED
    assert "本轮已联系3次未果" in detail.timeline[-1].summary  # not the 6 calls of both rounds


def test_a_visit_attempt_needs_a_concluded_case(services: AppServices, clerk: Actor) -> None:
    case_id = triaged(services, clerk)
    with pytest.raises(InvalidTransition):
        services.cases.record_visit_attempt(clerk, case_id, contact=VisitContact.NO_ANSWER)
    assert services.cases.detail(case_id).visit_attempts == 0


def test_dissatisfied_reopens_and_proposes_an_assignment_to_the_same_department(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id, assignment_id = assigned(services, clerk, leader)
    services.assignments.respond(clerk, assignment_id, "已办结")
    conclude(services, clerk, case_id)
    department = services.assignments.get(assignment_id).department

    services.cases.record_visit(
        clerk,
        case_id,
        grade=VisitGrade.DISSATISFIED,
        note="待遇仍未到账",
        reasons=(VisitReason.NOT_SOLVED,),
    )

    assert services.cases.detail(case_id).status is CaseStatus.IN_PROGRESS
    proposed = services.assignments.for_case(case_id)[-1]
    assert proposed.id != assignment_id
    assert proposed.state is AssignmentState.DRAFT  # the leader still signs
    assert proposed.kind is AssignmentKind.ASSIGN and proposed.department == department
    assert "待遇仍未到账" in proposed.requirements
    with services.db.read() as session:
        drafts = session.scalars(
            select(Assignment).where(
                Assignment.case_id == case_id,
                Assignment.state == AssignmentState.DRAFT.value,
            )
        ).all()
    assert len(drafts) == 1
    assert case_id in services.ledger.ids(CaseFilter(awaiting_signature=True))


def test_the_demo_has_a_case_at_every_step_of_the_path(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    from desktop_app.services.demo.case_path import add_demo_case_path

    onsite, received, waived, missing, closed, unreached, reopened = add_demo_case_path(
        services, clerk, leader
    )

    detail = services.cases.detail
    assert detail(onsite).timeline[-2].label == "办理反馈"
    assert "现场督办" in [e.label for e in detail(onsite).timeline]
    assert detail(received).basis_received_on is not None and detail(received).attachments
    assert detail(waived).basis_waived_reason
    assert detail(missing).status is CaseStatus.CONCLUDED and detail(missing).basis_missing
    assert basis_items(services) == [missing]
    assert services.assignments.for_case(closed)[0].state is AssignmentState.CLOSED
    assert detail(unreached).replied_at is not None
    assert services.ledger.ids(CaseFilter(visit_retry_due=True)) == [unreached]
    assert detail(reopened).status is CaseStatus.IN_PROGRESS
    assert services.assignments.for_case(reopened)[-1].state is AssignmentState.DRAFT
