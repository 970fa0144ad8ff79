"""Work on a case after intake: triage, conclusion, return visit, withdrawal, roles, timeline."""

from __future__ import annotations

from typing import Any

import pytest

from desktop_app.domain.case_flow import EventKind, advance, derive_status, visit_outcome
from desktop_app.domain.vocabulary import (
    Approach,
    CaseStatus,
    Cause,
    Nature,
    Outcome,
    ReplyMethod,
    Role,
    VisitGrade,
)
from desktop_app.errors import (
    ChangedElsewhere,
    InvalidTransition,
    PermissionDenied,
    ValidationFailed,
)
from desktop_app.services import audit
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from tests.conftest import NOW
from tests.helpers.db import audit_count, audit_entries, count_rows
from tests.helpers.factories import USER_PASSWORD, person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401

TRIAGE_HARD = {
    "nature": Nature.HARD,
    "approach": Approach.PUSH,
    "causes": (Cause.POLICY, Cause.MATERIALS),
    "area": "医保社保",
}


def register(services: AppServices, actor: Actor) -> int:
    return services.intake.register(actor, person_form()).case_id


def triage(services: AppServices, actor: Actor, case_id: int, **changes: Any) -> None:
    from desktop_app.services.cases import Triage

    services.cases.triage(actor, case_id, Triage(**(TRIAGE_HARD | changes)))


def conclude(services: AppServices, actor: Actor, case_id: int) -> None:
    services.cases.conclude(
        actor,
        case_id,
        outcome=Outcome.DONE,
        what_was_done="医保局当场补录参保信息",
        reply_method=ReplyMethod.PHONE,
        reply_text="已补录，可以结算",
    )


def labels(services: AppServices, case_id: int) -> list[str]:
    return [entry.label for entry in services.cases.detail(case_id).timeline]


def last_audit(services: AppServices, case_id: int) -> dict[str, Any]:
    return audit_entries(services, services.cases.detail(case_id).uuid)[-1]


# Triage ---------------------------------------------------------------------------------------


def test_triage_sets_the_classification_and_joins_the_timeline(
    services: AppServices, clerk: Actor
) -> None:
    case_id = register(services, clerk)

    triage(services, clerk, case_id, area="不动产登记", note="涉及两个部门")

    detail = services.cases.detail(case_id)
    assert detail.nature is Nature.HARD
    assert detail.approach is Approach.PUSH
    assert detail.causes == ("C02", "C05")  # 政策 and 材料, stored as their cause codes
    assert detail.area == "不动产登记"
    assert detail.status is CaseStatus.REGISTERED
    assert labels(services, case_id) == ["受理登记", "甄别分类"]
    summary = detail.timeline[-1].summary
    assert "很难办" in summary and "推动办" in summary and "政策不明、材料繁杂" in summary
    assert "涉及两个部门" in summary
    assert detail.timeline[-1].user_name == "张敏"
    entry = last_audit(services, case_id)
    assert entry["action"] == "triage"
    assert entry["before"] == {
        "nature": None,
        "approach": None,
        "causes": [],
        "area": "医保社保",
    }
    assert entry["after"] == {
        "nature": "hard",
        "approach": "push",
        "causes": ["C02", "C05"],
        "area": "不动产登记",
    }


def test_triage_can_be_revised_while_open(services: AppServices, clerk: Actor) -> None:
    case_id = register(services, clerk)
    triage(services, clerk, case_id)
    triage(
        services,
        clerk,
        case_id,
        nature=Nature.WONT,
        approach=Approach.ORDER,
        causes=(Cause.SHIRKING,),
    )

    detail = services.cases.detail(case_id)
    assert (detail.nature, detail.approach, detail.causes) == (
        Nature.WONT,
        Approach.ORDER,
        ("C08",),  # 推诿扯皮
    )
    # 不给办 proposes an accountability referral (issue 16), on the timeline.
    assert labels(services, case_id) == ["受理登记", "甄别分类", "甄别分类", "问责移交"]


def test_the_same_classification_saved_again_records_nothing(
    services: AppServices, clerk: Actor
) -> None:
    """A double click on 保存甄别分类 wrote it twice into 办理记录 (a walk)."""
    case_id = register(services, clerk)
    triage(services, clerk, case_id)
    entries = audit_count(services)
    triage(services, clerk, case_id)
    assert labels(services, case_id) == ["受理登记", "甄别分类"]
    assert audit_count(services) == entries


@pytest.mark.parametrize(
    ("changes", "key"),
    [({"causes": ()}, "causes"), ({"area": "星际旅行"}, "area")],
)
def test_triage_without_causes_or_area_changes_nothing(
    services: AppServices, clerk: Actor, changes: dict[str, Any], key: str
) -> None:
    case_id = register(services, clerk)
    audits = audit_count(services)

    with pytest.raises(ValidationFailed) as caught:
        triage(services, clerk, case_id, **changes)

    assert set(caught.value.errors) == {key}
    detail = services.cases.detail(case_id)
    assert detail.nature is None and detail.causes == ()
    assert labels(services, case_id) == ["受理登记"]
    assert audit_count(services) == audits


def test_triage_of_a_concluded_case_is_refused(services: AppServices, clerk: Actor) -> None:
    case_id = register(services, clerk)
    conclude(services, clerk, case_id)

    with pytest.raises(InvalidTransition, match="已办结的事项不能再甄别分类"):
        triage(services, clerk, case_id)
    assert services.cases.detail(case_id).nature is None


# Conclusion and return visit ------------------------------------------------------------------


def test_conclude_records_the_outcome_and_reply(services: AppServices, clerk: Actor) -> None:
    case_id = register(services, clerk)

    changes = services.cases.conclude(
        clerk,
        case_id,
        outcome=Outcome.EXPLAINED,
        what_was_done="政策规定不能跨省结算，已解释",
        reply_method=ReplyMethod.IN_PERSON,
        reply_text="当面解释政策依据",
    )

    assert changes.cases and changes.case_ids == (case_id,)
    detail = services.cases.detail(case_id)
    assert detail.status is CaseStatus.CONCLUDED
    assert detail.outcome is Outcome.EXPLAINED
    assert labels(services, case_id) == ["受理登记", "办结"]
    assert "当面解释政策依据" in detail.timeline[-1].summary
    entry = last_audit(services, case_id)
    assert entry["action"] == "conclude"
    # The reply given at conclusion is the case's reply (issue 16: 答复 is a record).
    assert entry["before"] == {
        "status": "registered",
        "outcome": None,
        "replied_at": None,
        "reply_method": "",
    }
    assert entry["after"] == {
        "status": "concluded",
        "outcome": "explained",
        "replied_at": NOW.isoformat(),
        "reply_method": "in_person",
    }


def test_conclude_needs_what_was_done_and_the_reply(services: AppServices, clerk: Actor) -> None:
    case_id = register(services, clerk)
    with pytest.raises(ValidationFailed) as caught:
        services.cases.conclude(
            clerk,
            case_id,
            outcome=Outcome.DONE,
            what_was_done=" ",
            reply_method=ReplyMethod.PHONE,
            reply_text="",
        )
    assert set(caught.value.errors) == {"what_was_done", "reply_text"}
    assert services.cases.detail(case_id).status is CaseStatus.REGISTERED


def test_concluding_twice_is_refused(services: AppServices, clerk: Actor) -> None:
    case_id = register(services, clerk)
    conclude(services, clerk, case_id)
    with pytest.raises(InvalidTransition, match="只有已登记或办理中的事项才能办结"):
        conclude(services, clerk, case_id)
    assert labels(services, case_id) == ["受理登记", "办结"]


def test_visit_before_conclusion_is_refused_in_chinese(services: AppServices, clerk: Actor) -> None:
    case_id = register(services, clerk)
    audits = audit_count(services)

    with pytest.raises(InvalidTransition) as caught:
        services.cases.record_visit(clerk, case_id, grade=VisitGrade.SATISFIED)

    assert caught.value.message == "只有已办结的事项才能回访（当前状态：已登记）"
    detail = services.cases.detail(case_id)
    assert detail.status is CaseStatus.REGISTERED and detail.visit_grade is None
    assert labels(services, case_id) == ["受理登记"]
    assert audit_count(services) == audits


@pytest.mark.parametrize(
    "grade", [VisitGrade.VERY_SATISFIED, VisitGrade.SATISFIED, VisitGrade.BASICALLY_SATISFIED]
)
def test_satisfied_visit_closes_the_case(
    services: AppServices, clerk: Actor, grade: VisitGrade
) -> None:
    case_id = register(services, clerk)
    conclude(services, clerk, case_id)

    services.cases.record_visit(clerk, case_id, grade=grade)

    detail = services.cases.detail(case_id)
    assert detail.status is CaseStatus.VISITED
    assert detail.visit_grade is grade
    assert detail.outcome is Outcome.DONE
    assert labels(services, case_id) == ["受理登记", "办结", "回访核查"]
    assert grade.label in detail.timeline[-1].summary
    entry = last_audit(services, case_id)
    assert entry["action"] == "visit"
    # Each visit that reached the person is an attempt too (issue 16: attempts are counted).
    assert entry["before"] == {"status": "concluded", "visit_grade": None, "visit_attempts": 0}
    assert entry["after"] == {"status": "visited", "visit_grade": grade.value, "visit_attempts": 1}


@pytest.mark.parametrize("grade", [VisitGrade.DISSATISFIED, VisitGrade.VERY_DISSATISFIED])
def test_dissatisfied_visit_needs_a_note(
    services: AppServices, clerk: Actor, grade: VisitGrade
) -> None:
    case_id = register(services, clerk)
    conclude(services, clerk, case_id)

    with pytest.raises(ValidationFailed) as caught:
        services.cases.record_visit(clerk, case_id, grade=grade, note="  ")

    assert set(caught.value.errors) == {"note"}
    assert services.cases.detail(case_id).status is CaseStatus.CONCLUDED
    assert labels(services, case_id) == ["受理登记", "办结"]


@pytest.mark.parametrize("grade", [VisitGrade.DISSATISFIED, VisitGrade.VERY_DISSATISFIED])
def test_dissatisfied_visit_reopens_and_keeps_the_history(
    services: AppServices, clerk: Actor, grade: VisitGrade
) -> None:
    case_id = register(services, clerk)
    conclude(services, clerk, case_id)

    services.cases.record_visit(clerk, case_id, grade=grade, note="结算仍然失败")

    detail = services.cases.detail(case_id)
    assert detail.status is CaseStatus.IN_PROGRESS
    assert detail.outcome is None
    assert detail.visit_grade is grade
    assert labels(services, case_id) == ["受理登记", "办结", "回访核查", "重办"]
    concluded = detail.timeline[1]
    assert "医保局当场补录参保信息" in concluded.summary
    assert "结算仍然失败" in detail.timeline[2].summary
    actions = [e["action"] for e in audit_entries(services, detail.uuid)]
    assert actions == ["register", "conclude", "visit", "reopen"]
    # A reopened case goes round the loop again.
    conclude(services, clerk, case_id)
    services.cases.record_visit(clerk, case_id, grade=VisitGrade.SATISFIED)
    assert services.cases.detail(case_id).status is CaseStatus.VISITED
    assert labels(services, case_id) == [
        "受理登记",
        "办结",
        "回访核查",
        "重办",
        "办结",
        "回访核查",
    ]
    assert services.maintenance.check().ok


def test_dissatisfied_visit_and_reopening_are_one_unit(
    services: AppServices, clerk: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A power cut between the visit and the reopening must not leave a closed, unhappy case."""
    case_id = register(services, clerk)
    conclude(services, clerk, case_id)
    real_record = audit.record

    def fail_on_reopen(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("action") == "reopen":
            raise RuntimeError("断电")
        return real_record(*args, **kwargs)

    monkeypatch.setattr(audit, "record", fail_on_reopen)
    with pytest.raises(RuntimeError):
        services.cases.record_visit(
            clerk, case_id, grade=VisitGrade.DISSATISFIED, note="结算仍然失败"
        )
    monkeypatch.undo()

    detail = services.cases.detail(case_id)
    assert (detail.status, detail.visit_grade) == (CaseStatus.CONCLUDED, None)
    assert labels(services, case_id) == ["受理登记", "办结"]


# Withdrawal -----------------------------------------------------------------------------------


@pytest.mark.parametrize("first_triage", [False, True])
def test_withdraw_an_open_case(services: AppServices, clerk: Actor, first_triage: bool) -> None:
    case_id = register(services, clerk)
    if first_triage:
        triage(services, clerk, case_id)

    services.cases.withdraw(clerk, case_id, "当事人已自行办妥")

    detail = services.cases.detail(case_id)
    assert detail.status is CaseStatus.WITHDRAWN
    assert detail.outcome is Outcome.WITHDRAWN
    assert labels(services, case_id)[-1] == "撤回"
    assert "当事人已自行办妥" in detail.timeline[-1].summary
    entry = last_audit(services, case_id)
    assert entry["action"] == "withdraw"
    assert entry["after"]["status"] == "withdrawn"


def test_withdraw_needs_a_reason(services: AppServices, clerk: Actor) -> None:
    case_id = register(services, clerk)
    with pytest.raises(ValidationFailed) as caught:
        services.cases.withdraw(clerk, case_id, "  ")
    assert set(caught.value.errors) == {"reason"}
    assert services.cases.detail(case_id).status is CaseStatus.REGISTERED


@pytest.mark.parametrize("visited", [False, True])
def test_withdraw_of_a_concluded_or_visited_case_is_refused(
    services: AppServices, clerk: Actor, visited: bool
) -> None:
    case_id = register(services, clerk)
    conclude(services, clerk, case_id)
    if visited:
        services.cases.record_visit(clerk, case_id, grade=VisitGrade.SATISFIED)
    audits = audit_count(services)

    with pytest.raises(InvalidTransition, match="不能撤回"):
        services.cases.withdraw(clerk, case_id, "不想办了")

    expected = CaseStatus.VISITED if visited else CaseStatus.CONCLUDED
    assert services.cases.detail(case_id).status is expected
    assert audit_count(services) == audits


def test_a_withdrawn_case_cannot_be_concluded_or_visited(
    services: AppServices, clerk: Actor
) -> None:
    case_id = register(services, clerk)
    services.cases.withdraw(clerk, case_id, "当事人撤回")
    with pytest.raises(InvalidTransition):
        conclude(services, clerk, case_id)
    with pytest.raises(InvalidTransition):
        services.cases.record_visit(clerk, case_id, grade=VisitGrade.SATISFIED)
    assert services.cases.detail(case_id).status is CaseStatus.WITHDRAWN


# Audit of the whole loop ----------------------------------------------------------------------


def test_every_step_is_audited_with_before_and_after(services: AppServices, clerk: Actor) -> None:
    case_id = register(services, clerk)
    triage(services, clerk, case_id)
    conclude(services, clerk, case_id)
    services.cases.record_visit(clerk, case_id, grade=VisitGrade.SATISFIED)

    entries = audit_entries(services, services.cases.detail(case_id).uuid)

    assert [e["action"] for e in entries] == ["register", "triage", "conclude", "visit"]
    assert {e["user_name"] for e in entries} == {"clerk1"}
    for entry in entries[1:]:
        assert entry["before"] and entry["after"]
        assert entry["before"].keys() == entry["after"].keys()
        assert all(entry["before"][k] != entry["after"][k] for k in entry["after"])
    with services.db.read() as session:
        assert audit.verify_chain(session) == []


def test_missing_case_is_not_found(services: AppServices, clerk: Actor) -> None:
    from desktop_app.errors import NotFound

    with pytest.raises(NotFound):
        conclude(services, clerk, 4242)
    with pytest.raises(NotFound):
        services.cases.detail(4242)
    with pytest.raises(NotFound, match="杞县-2026-0099"):
        services.cases.find_by_number("杞县-2026-0099")


def test_find_by_number(services: AppServices, clerk: Actor) -> None:
    case_id = register(services, clerk)
    assert services.cases.find_by_number(" 杞县-2026-0001 ") == case_id


# Roles ----------------------------------------------------------------------------------------


def test_auditor_can_read_but_not_register_or_triage(
    services: AppServices, clerk: Actor, auditor: Actor
) -> None:
    case_id = register(services, clerk)
    before = (services.ledger.count(), audit_count(services))

    with pytest.raises(PermissionDenied) as caught:
        services.intake.register(auditor, person_form())
    assert "纪检审计" in caught.value.message and "受理登记" in caught.value.message
    with pytest.raises(PermissionDenied, match="甄别分类"):
        triage(services, auditor, case_id)
    with pytest.raises(PermissionDenied):
        conclude(services, auditor, case_id)
    with pytest.raises(PermissionDenied):
        services.cases.withdraw(auditor, case_id, "撤回")

    assert (services.ledger.count(), audit_count(services)) == before
    assert services.cases.detail(case_id).nature is None
    assert services.ledger.ids() == [case_id]


def test_clerk_cannot_create_users_or_departments(services: AppServices, clerk: Actor) -> None:
    users = len(services.auth.users())
    with pytest.raises(PermissionDenied, match="管理用户"):
        services.auth.create_user(
            clerk, username="clerk2", display_name="李娜", role=Role.CLERK, password=USER_PASSWORD
        )
    with pytest.raises(PermissionDenied):
        services.site.save_department(clerk, name="杞县人社局")
    assert len(services.auth.users()) == users
    assert count_rows(services, "departments") == 2


def test_admin_creates_users(services: AppServices, admin: Actor) -> None:
    info, changes = services.auth.create_user(
        admin, username="clerk2", display_name="李娜", role=Role.CLERK, password=USER_PASSWORD
    )
    assert changes.users and info.role is Role.CLERK
    assert services.auth.login("clerk2", USER_PASSWORD).display_name == "李娜"


def test_duty_leader_does_the_whole_loop(services: AppServices, leader: Actor) -> None:
    case_id = register(services, leader)
    triage(services, leader, case_id)
    conclude(services, leader, case_id)
    services.cases.record_visit(leader, case_id, grade=VisitGrade.SATISFIED)

    assert services.cases.detail(case_id).status is CaseStatus.VISITED
    assert {e.user_name for e in services.cases.detail(case_id).timeline} == {"潘险峰"}
    with pytest.raises(PermissionDenied):
        services.auth.create_user(
            leader, username="x1", display_name="某某", role=Role.CLERK, password=USER_PASSWORD
        )


# The state machine itself (pure) --------------------------------------------------------------

R, T, C, V, RE, W = (
    EventKind.REGISTERED,
    EventKind.TRIAGED,
    EventKind.CONCLUDED,
    EventKind.VISITED,
    EventKind.REOPENED,
    EventKind.WITHDRAWN,
)


@pytest.mark.parametrize(
    ("history", "status"),
    [
        ([R], CaseStatus.REGISTERED),
        ([R, T, EventKind.NOTE], CaseStatus.REGISTERED),
        ([R, EventKind.ASSIGNED], CaseStatus.IN_PROGRESS),
        ([R, T, C], CaseStatus.CONCLUDED),
        ([R, C, V], CaseStatus.VISITED),
        ([R, C, V, RE], CaseStatus.IN_PROGRESS),
        ([R, C, V, RE, C, V], CaseStatus.VISITED),
        ([R, C, RE], CaseStatus.IN_PROGRESS),
        ([R, EventKind.REPEAT_VISIT, W], CaseStatus.WITHDRAWN),
        ([R, C, V, EventKind.ATTACHMENT_ADDED], CaseStatus.VISITED),
    ],
)
def test_derive_status_replays_a_history(history: list[EventKind], status: CaseStatus) -> None:
    assert derive_status(history) is status


@pytest.mark.parametrize(
    "history",
    [
        [],
        [T],
        [R, R],
        [R, V],
        [R, C, C],
        [R, C, W],
        [R, C, V, W],
        [R, W, C],
        [R, RE],
        [R, C, T],
        [R, C, EventKind.REPEAT_VISIT],
        [R, W, EventKind.ASSIGNED],
    ],
)
def test_derive_status_refuses_impossible_histories(history: list[EventKind]) -> None:
    with pytest.raises(InvalidTransition):
        derive_status(history)


def test_advance_explains_a_refusal_with_the_current_state() -> None:
    with pytest.raises(InvalidTransition) as caught:
        advance(CaseStatus.VISITED, EventKind.WITHDRAWN)
    assert caught.value.message == "已办结或已回访的事项不能撤回（当前状态：已回访）"
    with pytest.raises(InvalidTransition, match="尚未登记"):
        advance(None, EventKind.CONCLUDED)


@pytest.mark.parametrize("grade", list(VisitGrade))
def test_only_dissatisfied_grades_reopen(grade: VisitGrade) -> None:
    reopens = grade in (VisitGrade.DISSATISFIED, VisitGrade.VERY_DISSATISFIED)
    assert (visit_outcome(grade) is EventKind.REOPENED) is reopens


def test_a_step_on_a_case_read_before_another_change_is_refused(
    services: AppServices, clerk: Actor
) -> None:
    """``seen_version``: the case as the saving window read it. Changed since (another seat
    triaged it), the step is refused and nothing is written; with the version
    read now it goes through."""
    case_id = services.intake.register(clerk, person_form()).case_id
    seen = services.cases.detail(case_id).version
    triage(services, clerk, case_id)  # another seat
    before = (audit_count(services), count_rows(services, "case_events"))
    steps = {
        "conclude": lambda version: services.cases.conclude(
            clerk,
            case_id,
            outcome=Outcome.DONE,
            what_was_done="当场补录",
            reply_method=ReplyMethod.PHONE,
            reply_text="已告知",
            seen_version=version,
        ),
        "withdraw": lambda version: services.cases.withdraw(
            clerk, case_id, "当事人撤回", seen_version=version
        ),
    }
    for step in steps.values():
        with pytest.raises(ChangedElsewhere, match="已被修改"):
            step(seen)
    assert (audit_count(services), count_rows(services, "case_events")) == before
    assert services.cases.detail(case_id).status is CaseStatus.REGISTERED
    steps["withdraw"](services.cases.detail(case_id).version)
    assert services.cases.detail(case_id).status is CaseStatus.WITHDRAWN
