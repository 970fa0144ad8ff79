"""Assignments (交办): drafting, signing, the department's steps, extension, 催办, 督办, voiding."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from desktop_app.documents.slip_content import PaperKind, SlipContent
from desktop_app.domain.assignment_flow import AssignmentKind, AssignmentState, ExtensionState
from desktop_app.domain.deadlines import RuleKey
from desktop_app.domain.settings import LAST_PRINTER, preference
from desktop_app.domain.vocabulary import Approach, CaseStatus, Cause, Nature, chinese_date
from desktop_app.domain.workdays import WorkdayCalendar
from desktop_app.errors import (
    EnvironmentProblem,
    InvalidTransition,
    PermissionDenied,
    UserError,
    ValidationFailed,
)
from desktop_app.services.app import AppServices
from desktop_app.services.cases import Triage
from desktop_app.services.context import Actor, FixedClock
from desktop_app.storage.models import Assignment, NumberSequence
from tests.helpers.db import audit_entries
from tests.helpers.factories import person_form
from tests.helpers.holidays import complete_year
from tests.helpers.speed import fast_password_hashing  # noqa: F401

CALENDAR = WorkdayCalendar()


def _triaged(services: AppServices, clerk: Actor, nature: Nature = Nature.HARD) -> int:
    case_id = services.intake.register(clerk, person_form()).case_id
    approach = Approach.PUSH if nature is not Nature.WONT else Approach.ORDER
    services.cases.triage(clerk, case_id, Triage(nature, approach, (Cause.PROCESS,), "医保社保"))
    return case_id


def _departments(services: AppServices) -> tuple[int, int]:
    departments = services.site.departments()
    return departments[0].id, departments[1].id


def _draft(services: AppServices, clerk: Actor, case_id: int, **changes: object) -> list[int]:
    lead, helper = _departments(services)
    values: dict[str, object] = {
        "department_id": lead,
        "assisting_ids": [helper],
        "requirements": "请核实参保信息迁移问题，依法办理并书面反馈。",
    }
    values.update(changes)
    ids, _changes = services.assignments.create(clerk, case_id, **values)  # type: ignore[arg-type]
    return ids


def test_a_clerk_drafts_and_only_a_duty_leader_signs(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id = _triaged(services, clerk)
    lead_id, _assist_id = _draft(services, clerk, case_id)
    draft = services.assignments.get(lead_id)
    assert draft.state is AssignmentState.DRAFT and draft.slip_numbers == ()
    assert draft.working_days == 10  # 很难办
    assert draft.due_date == CALENDAR.add(date(2026, 11, 25), 10).due

    with pytest.raises(PermissionDenied):
        services.assignments.issue(clerk, lead_id)
    number, _ = services.assignments.issue(leader, lead_id)
    assert number == "杞纪窗交〔2026〕1号"

    lead, assist = services.assignments.for_case(case_id)
    assert (lead.state, assist.state) == (AssignmentState.ISSUED, AssignmentState.ISSUED)
    assert assist.kind is AssignmentKind.ASSIST and assist.slip_numbers == (number,)
    assert lead.signer == "潘险峰"
    detail = services.cases.detail(case_id)
    assert detail.status is CaseStatus.IN_PROGRESS
    assert detail.due_date == lead.due_date
    assert "签发人 潘险峰" in detail.timeline[-1].summary
    assert "协办：杞县不动产登记中心" in detail.timeline[-1].summary
    assert services.maintenance.check().ok


def test_an_issued_slip_is_frozen_signed_and_verifiable(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id = _triaged(services, clerk)
    number, _ = services.assignments.issue(leader, _draft(services, clerk, case_id)[0])
    info, content = services.assignments.slip_content(number)
    assert info.kind is PaperKind.ASSIGN
    assert content.lead_department == "杞县医疗保障局"
    assert content.assisting_departments == ("杞县不动产登记中心",)
    assert (
        content.complainant_id_masked.startswith("110105") and "*" in content.complainant_id_masked
    )
    check = services.assignments.verify(content.qr_payload)
    assert check.valid, check.message
    forged = content.qr_payload.replace("交〔2026〕1号", "交〔2026〕2号")
    assert not services.assignments.verify(forged).valid
    # A changed stored content no longer matches what was signed.
    changed = SlipContent.from_json(content.to_json() | {"requirements": "改过的要求"})
    assert changed.content_hash() != content.content_hash()


def test_slip_numbers_are_gap_free_per_series_and_year(
    services: AppServices, clerk: Actor, leader: Actor, clock: FixedClock
) -> None:
    numbers = []
    for _ in range(3):
        case_id = _triaged(services, clerk)
        numbers.append(services.assignments.issue(leader, _draft(services, clerk, case_id)[0])[0])
    assert numbers == [f"杞纪窗交〔2026〕{n}号" for n in (1, 2, 3)]
    clock.at = datetime(2027, 1, 4, 9, 0)
    case_id = _triaged(services, clerk)
    assert services.assignments.issue(leader, _draft(services, clerk, case_id)[0])[0] == (
        "杞纪窗交〔2027〕1号"
    )
    with services.db.read() as session:
        sequence = session.get(NumberSequence, ("slip-交", 2026))
        assert sequence is not None and sequence.last_value == 3


def test_a_cant_case_gets_the_written_basis_paper(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id = _triaged(services, clerk, Nature.CANT)
    number, _ = services.assignments.issue(leader, _draft(services, clerk, case_id)[0])
    info, _content = services.assignments.slip_content(number)
    assert info.kind is PaperKind.BASIS_REQUEST


def test_drafting_needs_triage_requirements_and_a_reason_for_other_days(
    services: AppServices, clerk: Actor, auditor: Actor
) -> None:
    untriaged = services.intake.register(clerk, person_form()).case_id
    with pytest.raises(UserError, match="甄别分类"):
        _draft(services, clerk, untriaged)
    case_id = _triaged(services, clerk)
    with pytest.raises(ValidationFailed) as missing:
        _draft(services, clerk, case_id, requirements="  ")
    assert "requirements" in missing.value.errors
    with pytest.raises(ValidationFailed) as no_reason:
        _draft(services, clerk, case_id, working_days=3)
    assert "deadline_note" in no_reason.value.errors
    lead_id = _draft(
        services, clerk, case_id, working_days=3, deadline_note="当事人急需，领导要求从快"
    )[0]
    assert services.assignments.get(lead_id).working_days == 3
    with pytest.raises(ValidationFailed):
        lead, _helper = _departments(services)
        _draft(services, clerk, case_id, assisting_ids=[lead])
    with pytest.raises(PermissionDenied):
        _draft(services, auditor, case_id)
    assert len(services.assignments.for_case(case_id)) == 2  # only the one good draft (+assist)


def test_receive_respond_and_the_guards(services: AppServices, clerk: Actor, leader: Actor) -> None:
    case_id = _triaged(services, clerk)
    lead_id = _draft(services, clerk, case_id)[0]
    with pytest.raises(InvalidTransition):
        services.assignments.receive(
            clerk, lead_id, received_on=date(2026, 11, 25), received_by="张科长"
        )
    services.assignments.issue(leader, lead_id)
    with pytest.raises(ValidationFailed):
        services.assignments.receive(
            clerk, lead_id, received_on=date(2026, 11, 26), received_by="张科长"
        )
    services.assignments.receive(
        clerk, lead_id, received_on=date(2026, 11, 25), received_by="张科长"
    )
    services.assignments.respond(clerk, lead_id, "已恢复参保信息，结算完成")
    info = services.assignments.get(lead_id)
    assert info.state is AssignmentState.RESPONDED and info.response.startswith("已恢复")
    with pytest.raises(InvalidTransition):
        services.assignments.respond(clerk, lead_id, "again")
    labels = [e.label for e in services.cases.detail(case_id).timeline]
    assert labels[-2:] == ["签收", "办理反馈"]


def test_an_answer_that_came_on_its_due_date_and_was_recorded_later_is_not_late(
    services: AppServices, clerk: Actor, leader: Actor, clock: FixedClock
) -> None:
    case_id = _triaged(services, clerk, Nature.WONT)  # 5 working days: due 2026-12-02
    lead_id = _draft(services, clerk, case_id, assisting_ids=[])[0]
    services.assignments.issue(leader, lead_id)
    with pytest.raises(ValidationFailed, match="签收日期不能早于签发日期"):
        services.assignments.receive(
            clerk, lead_id, received_on=date(2026, 11, 24), received_by="张科长"
        )
    services.assignments.receive(
        clerk, lead_id, received_on=date(2026, 11, 25), received_by="张科长"
    )
    clock.at = datetime(2026, 12, 4, 10, 0)  # recorded two days after it came in
    for wrong, words in ((date(2026, 12, 5), "晚于今天"), (date(2026, 11, 24), "早于签收")):
        with pytest.raises(ValidationFailed) as refused:
            services.assignments.respond(clerk, lead_id, "已办结", responded_on=wrong)
        assert words in refused.value.errors["responded_on"]
    assert services.assignments.get(lead_id).state is AssignmentState.RECEIVED

    services.assignments.respond(
        clerk, lead_id, "已恢复参保信息，结算完成", responded_on=date(2026, 12, 2)
    )
    info = services.assignments.get(lead_id)
    assert info.state is AssignmentState.RESPONDED
    summary = services.cases.detail(case_id).timeline[-1].summary
    assert "于2026年12月2日反馈" in summary and "超期" not in summary
    # What the scorecards, the referral's evidence and the register count by: that day.
    with services.db.read() as session:
        responded = session.scalar(select(Assignment.responded_at).where(Assignment.id == lead_id))
    assert responded is not None and responded.date() == date(2026, 12, 2)


def test_extension_before_the_deadline_keeps_the_original_for_statistics(
    services: AppServices, clerk: Actor, leader: Actor, clock: FixedClock
) -> None:
    case_id = _triaged(services, clerk, Nature.WONT)  # 5 working days: due 2026-12-02
    lead_id = _draft(services, clerk, case_id)[0]
    services.assignments.issue(leader, lead_id)
    services.assignments.request_extension(clerk, lead_id, days=3, reason="需要调取系统日志")
    with pytest.raises(PermissionDenied):
        services.assignments.decide_extension(clerk, lead_id, approve=True)
    services.assignments.decide_extension(leader, lead_id, approve=True)
    info = services.assignments.get(lead_id)
    assert info.original_due_date == date(2026, 12, 2)
    assert info.due_date == date(2026, 12, 7)
    assert info.extension_state is ExtensionState.APPROVED
    assert services.cases.detail(case_id).due_date == date(2026, 12, 7)

    # After the deadline an extension is refused: it must be asked for in time.
    clock.at = datetime(2026, 12, 8, 9, 0)
    with pytest.raises(InvalidTransition, match="已过"):
        services.assignments.request_extension(clerk, lead_id, days=2, reason="还需时间")


def test_a_refused_extension_leaves_the_deadline(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id = _triaged(services, clerk, Nature.WONT)
    lead_id = _draft(services, clerk, case_id)[0]
    services.assignments.issue(leader, lead_id)
    services.assignments.request_extension(clerk, lead_id, days=3, reason="需要调取系统日志")
    services.assignments.decide_extension(leader, lead_id, approve=False)
    info = services.assignments.get(lead_id)
    assert info.extension_state is ExtensionState.REFUSED and info.due_date == date(2026, 12, 2)


def test_return_then_reassign_to_another_department(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id = _triaged(services, clerk)
    _lead, other = _departments(services)
    first = _draft(services, clerk, case_id, assisting_ids=[])[0]
    services.assignments.issue(leader, first)
    with pytest.raises(ValidationFailed):
        services.assignments.return_assignment(clerk, first, "")
    services.assignments.return_assignment(clerk, first, "不属于本单位职责，应由不动产登记中心办理")
    assert services.assignments.get(first).state is AssignmentState.RETURNED
    second = _draft(services, clerk, case_id, department_id=other, assisting_ids=[])[0]
    number, _ = services.assignments.issue(leader, second)
    assert number == "杞纪窗交〔2026〕2号"
    assert [a.state for a in services.assignments.for_case(case_id)] == [
        AssignmentState.RETURNED,
        AssignmentState.ISSUED,
    ]


def test_overdue_gets_an_urge_notice_then_a_supervision_slip(
    services: AppServices, clerk: Actor, leader: Actor, clock: FixedClock
) -> None:
    case_id = _triaged(services, clerk, Nature.WONT)
    lead_id = _draft(services, clerk, case_id, assisting_ids=[])[0]
    original, _ = services.assignments.issue(leader, lead_id)
    with pytest.raises(InvalidTransition, match="尚未超期"):
        services.assignments.urge(clerk, lead_id)
    clock.at = datetime(2026, 12, 3, 9, 0)  # the day after expiry
    urge_number, _ = services.assignments.urge(clerk, lead_id)
    assert urge_number == "杞纪窗催〔2026〕1号"
    _info, urge = services.assignments.slip_content(urge_number)
    assert urge.kind is PaperKind.URGE and original in urge.requirements
    supervise_ids, _ = services.assignments.escalate(
        clerk, lead_id, requirements="请主要负责人亲自督办，3个工作日内办结", working_days=3
    )
    supervise_number, _ = services.assignments.issue(leader, supervise_ids[0])
    assert supervise_number == "杞纪窗督〔2026〕1号"
    info, content = services.assignments.slip_content(supervise_number)
    assert info.kind is PaperKind.SUPERVISE and content.earlier_number == original
    assert services.assignments.get(supervise_ids[0]).kind is AssignmentKind.SUPERVISE
    labels = [e.label for e in services.cases.detail(case_id).timeline]
    assert "催办" in labels and labels[-1] == "交办"


def test_the_papers_call_each_earlier_paper_what_it_is(
    services: AppServices, clerk: Actor, leader: Actor, clock: FixedClock
) -> None:
    """A walk read 「…交〔2026〕1号、…催〔2026〕1号交办事项」 on a 督办单 (a 催办通知 is no
    交办事项), and 「…督〔2026〕1号交办事项」 on the 催办通知 of a 督办单."""
    from desktop_app.services.assignments import supervise_requirements

    case_id = _triaged(services, clerk, Nature.WONT)
    lead_id = _draft(services, clerk, case_id, assisting_ids=[])[0]
    original, _ = services.assignments.issue(leader, lead_id)
    clock.at = datetime(2026, 12, 3, 9, 0)  # the day after expiry
    urged, _ = services.assignments.urge(clerk, lead_id)
    text = supervise_requirements(services.assignments.get(lead_id).slip_numbers, 3)
    assert text.startswith(
        f"你单位承办的{original}交办事项已超过办理期限，经{urged}催办仍未办结，现予督办。"
        "请于3个工作日内办结"
    )
    supervise_ids, _ = services.assignments.escalate(
        clerk, lead_id, requirements=text, working_days=3
    )
    supervised, _ = services.assignments.issue(leader, supervise_ids[0])
    due = services.assignments.get(supervise_ids[0]).due_date
    clock.at = datetime.combine(due + timedelta(days=1), datetime.min.time()).replace(hour=9)
    urged_again, _ = services.assignments.urge(clerk, supervise_ids[0])
    _info, content = services.assignments.slip_content(urged_again)
    assert content.requirements.startswith(f"你单位承办的{supervised}督办事项已于")
    assert supervise_requirements([supervised], 2).startswith(
        f"你单位承办的{supervised}督办事项已超过办理期限，现予督办"
    )


def test_voided_numbers_stay_used(services: AppServices, clerk: Actor, leader: Actor) -> None:
    case_id = _triaged(services, clerk)
    lead_id = _draft(services, clerk, case_id, assisting_ids=[])[0]
    number, _ = services.assignments.issue(leader, lead_id)
    with pytest.raises(ValidationFailed):
        services.assignments.void(leader, lead_id, "")
    services.assignments.void(leader, lead_id, "承办单位选错")
    assert services.assignments.get(lead_id).state is AssignmentState.VOIDED
    # The auditor sees why, beside the state (the reason was only in the case's timeline).
    with services.db.read() as session:
        the_uuid = session.get_one(Assignment, lead_id).uuid
    entry = audit_entries(services, the_uuid)[-1]
    assert entry["action"] == "void" and entry["after"]["state"] == AssignmentState.VOIDED.value
    assert "承办单位选错" in entry["after"]["note"]
    slips = services.assignments.slips_for_case(case_id)
    assert [(s.number, s.voided) for s in slips] == [(number, True)]
    again = _draft(services, clerk, case_id, assisting_ids=[])[0]
    assert services.assignments.issue(leader, again)[0] == "杞纪窗交〔2026〕2号"
    with pytest.raises(UserError, match="作废"):
        services.assignments.slip_pdf(leader, number)


def test_the_calendar_moves_an_outstanding_assignment(
    services: AppServices, clerk: Actor, leader: Actor, admin: Actor
) -> None:
    case_id = _triaged(services, clerk, Nature.WONT)
    lead_id = _draft(services, clerk, case_id, assisting_ids=[])[0]
    services.assignments.issue(leader, lead_id)
    assert services.assignments.get(lead_id).due_date == date(2026, 12, 2)
    moved, _ = services.calendar.save_override(
        admin, date(2026, 11, 30), working=False, name="暴雨停工"
    )
    assert services.assignments.get(lead_id).due_date == date(2026, 12, 3)
    assert any(m.what == "交办期限" for m in moved)
    notes = [e.summary for e in services.cases.detail(case_id).timeline if e.label == "备注"]
    assert any("交办期限" in n and "2026年12月3日" in n for n in notes)


def test_the_ledger_json_lists_slip_numbers(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id = _triaged(services, clerk)
    number, _ = services.assignments.issue(leader, _draft(services, clerk, case_id)[0])
    record = next(r for r in services.ledger.export_records() if r["number"].endswith("0001"))
    assert record["slip_numbers"] == [number]


def test_keys_are_made_at_site_setup(services: AppServices) -> None:
    assert services.keys.exists()
    identity = services.keys.identity("410221", "杞县办不成事监督窗口", "county")
    assert len(identity.fingerprint()) >= 19


def test_every_step_is_audited(services: AppServices, clerk: Actor, leader: Actor) -> None:
    from desktop_app.storage.models import AuditEntry

    case_id = _triaged(services, clerk)
    lead_id = _draft(services, clerk, case_id, assisting_ids=[])[0]
    services.assignments.issue(leader, lead_id)
    services.assignments.receive(clerk, lead_id, received_on=date(2026, 11, 25), received_by="张")
    with services.db.read() as session:
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions[-3:] == ["draft_assignment", "issue_slip", "receive"]


def test_the_window_phone_is_printed_on_new_slips(
    services: AppServices, clerk: Actor, leader: Actor, admin: Actor
) -> None:
    services.site.set_window_phone(admin, "0378-2961234")
    case_id = _triaged(services, clerk)
    number, _ = services.assignments.issue(leader, _draft(services, clerk, case_id)[0])
    assert services.assignments.slip_content(number)[1].window_phone == "0378-2961234"
    with pytest.raises(PermissionDenied):
        services.site.set_window_phone(clerk, "110")


def test_the_slip_prints_the_seeds_facts_and_the_phone_the_department_must_call(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id = _triaged(services, clerk)  # 很难办, 推动办; 王芳 came three times
    number, _ = services.assignments.issue(leader, _draft(services, clerk, case_id)[0])
    content = services.assignments.slip_content(number)[1]
    assert (content.nature, content.approach, content.visits) == ("很难办", "推动办", 3)
    assert content.complainant_contact == "王芳 13812345678"  # in full: the department phones
    assert "*" in content.complainant_id_masked  # the ID stays masked
    assert not content.phone_masked and content.id_masked
    text = _text(services.assignments.slip_pdf(leader, number))
    for expected in ("问题性质", "很难办", "处置方式", "推动办", "往返次数：3次", "13812345678"):
        assert expected in text, expected


def test_paper_settings_reach_papers_issued_afterwards_only(
    services: AppServices, clerk: Actor, leader: Actor, admin: Actor
) -> None:
    from desktop_app.services.site import PaperSettings

    first, _ = services.assignments.issue(
        leader, _draft(services, clerk, _triaged(services, clerk))[0]
    )
    before = services.assignments.slip_content(first)[1]
    first_pdf = services.assignments.slip_pdf(leader, first)
    form = PaperSettings(
        issuing_body="杞县纪委监委",
        masthead="杞县纪委监委 杞县政务服务中心",
        number_prefix="杞纪监",
        requirements_wording="请{天数}个工作日内办结“{事项}”，书面反馈。",
        mask_phone={"assign": True},
        mask_id={"assign": False},
    )
    with pytest.raises(PermissionDenied):
        services.site.save_paper_settings(clerk, form)
    services.site.save_paper_settings(admin, form)
    assert services.site.paper_settings().requirements_wording == form.requirements_wording
    assert services.site.paper_settings().issuing_body == "杞县纪委监委"

    second, _ = services.assignments.issue(
        leader, _draft(services, clerk, _triaged(services, clerk))[0]
    )
    assert second == "杞纪监交〔2026〕2号"  # the series counts on under the new prefix
    after = services.assignments.slip_content(second)[1]
    assert after.issuer == "杞县纪委监委" and after.masthead == "杞县纪委监委 杞县政务服务中心"
    assert after.complainant_contact == "王芳 138****5678" and after.phone_masked
    assert "*" not in after.complainant_id_masked and not after.id_masked
    text = _text(services.assignments.slip_pdf(leader, second))
    assert "杞县纪委监委 杞县政务服务中心" in text and "杞纪监交〔2026〕2号" in text

    # The paper issued before is as it was: number, issuer, phone, and the very same bytes.
    assert services.assignments.slip_content(first)[1] == before
    assert first.startswith("杞纪窗交") and before.issuer != "杞县纪委监委"
    assert services.assignments.slip_pdf(leader, first) == first_pdf
    assert "set_paper_settings" in _actions(services)


def test_paper_settings_refuse_a_prefix_that_would_break_the_number(
    services: AppServices, admin: Actor
) -> None:
    from desktop_app.services.site import PaperSettings

    with pytest.raises(ValidationFailed) as refused:
        services.site.save_paper_settings(admin, PaperSettings(number_prefix="杞〔纪〕"))
    assert "paper.number_prefix" in refused.value.errors
    assert services.site.paper_settings().number_prefix == ""


def test_a_preference_survives_reopening_the_data_dir(services: AppServices) -> None:
    from desktop_app.services.app import open_services

    services.site.set_preference(LAST_PRINTER, "办公室激光打印机")
    again = open_services(services.layout.root)
    try:
        assert again.site.preference(LAST_PRINTER) == "办公室激光打印机"
        assert again.site.preference(preference("unknown")) == ""
    finally:
        again.close()


def test_recent_slips_lists_every_paper_newest_first_in_one_query(
    services: AppServices, clerk: Actor, leader: Actor, clock: FixedClock
) -> None:
    case_id = _triaged(services, clerk, Nature.WONT)
    lead_id = _draft(services, clerk, case_id, assisting_ids=[])[0]
    first, _ = services.assignments.issue(leader, lead_id)
    clock.at = datetime(2026, 12, 3, 9, 0)
    urge, _ = services.assignments.urge(clerk, lead_id)
    rows = services.assignments.recent_slips()
    assert [(slip.number, number) for slip, _id, number, _title in rows] == [
        (urge, "杞县-2026-0001"),
        (first, "杞县-2026-0001"),
    ]
    assert services.assignments.recent_slips(limit=1)[0][0].number == urge


# --- papers: a preview is not a print; a draft is seen before signing ------------------------


def _text(data: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _actions(services: AppServices) -> list[str]:
    from desktop_app.storage.models import AuditEntry

    with services.db.read() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_opening_a_slip_is_not_a_print_only_printing_or_saving_counts(
    services: AppServices, clerk: Actor, leader: Actor, tmp_path
) -> None:
    case_id = _triaged(services, clerk)
    number, _ = services.assignments.issue(leader, _draft(services, clerk, case_id)[0])
    before = _actions(services)
    for _ in range(3):  # opened, closed, opened again…
        preview = services.assignments.slip_pdf(clerk, number, case_id=case_id)
        assert "补打" not in _text(preview)
    assert services.assignments.slip_content(number)[0].print_count == 0
    assert _actions(services) == before  # looking is not audited as printing

    first = services.assignments.record_slip_output(clerk, number, case_id=case_id)
    assert "补打" not in _text(first)  # the department's first paper is the original
    assert services.assignments.slip_content(number)[0].print_count == 1
    assert _actions(services)[-1] == "print_slip"
    # From now on the preview shows what the next output will be: a 补打.
    assert "补打" in _text(services.assignments.slip_pdf(clerk, number))

    out = tmp_path / "交办单.pdf"
    second = services.assignments.record_slip_output(clerk, number, out=out)
    assert out.read_bytes() == second and "补打" in _text(second)
    assert services.assignments.slip_content(number)[0].print_count == 2
    assert _actions(services)[-1] == "reprint_slip"


def test_a_failed_save_counts_nothing(
    services: AppServices, clerk: Actor, leader: Actor, tmp_path
) -> None:
    case_id = _triaged(services, clerk)
    number, _ = services.assignments.issue(leader, _draft(services, clerk, case_id)[0])
    blocked = tmp_path / "a file, not a folder"
    blocked.write_text("")
    with pytest.raises(EnvironmentProblem, match="不是文件夹"):
        services.assignments.record_slip_output(clerk, number, out=blocked / "交办单.pdf")
    assert services.assignments.slip_content(number)[0].print_count == 0
    assert "print_slip" not in _actions(services)


def test_a_draft_is_previewed_as_signing_today_would_print_it_without_taking_a_number(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id = _triaged(services, clerk)
    lead_id, assist_id = _draft(services, clerk, case_id)
    before = _actions(services)
    assert services.assignments.next_slip_number(lead_id) == "杞纪窗交〔2026〕1号"
    assert services.assignments.next_slip_number(assist_id) == "杞纪窗交〔2026〕1号"  # its lead's
    text = _text(services.assignments.draft_slip_pdf(leader, lead_id))
    assert "草" in text and "签发前预览" in text
    assert "〔签发时编号〕" in text and "杞纪窗交" not in text
    assert "潘险峰" in text  # the leader looking at it is who will sign
    due = CALENDAR.add(date(2026, 11, 25), 10).due
    assert f"{due.year}年{due.month}月{due.day}日前（10个工作日）" in text
    assert "杞县不动产登记中心" in text  # the assisting department travels on the slip
    # A clerk may look too; the signer's line stays empty until a leader signs.
    assert "潘险峰" not in _text(services.assignments.draft_slip_pdf(clerk, assist_id))
    # Nothing was numbered, stored or audited.
    assert services.assignments.next_slip_number(lead_id) == "杞纪窗交〔2026〕1号"
    assert services.assignments.slips_for_case(case_id) == []
    assert _actions(services) == before

    number, _ = services.assignments.issue(leader, lead_id, expected_number="杞纪窗交〔2026〕1号")
    assert number == "杞纪窗交〔2026〕1号"
    with pytest.raises(UserError, match="不是草稿"):
        services.assignments.draft_slip_pdf(leader, lead_id)


def test_signing_refuses_a_number_another_signature_took_meanwhile(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    mine = _draft(services, clerk, _triaged(services, clerk), assisting_ids=[])[0]
    confirmed = services.assignments.next_slip_number(mine)
    other = _draft(services, clerk, _triaged(services, clerk), assisting_ids=[])[0]
    services.assignments.issue(leader, other)  # another leader signs first and takes it
    with pytest.raises(UserError, match="已被另一次签发占用") as refused:
        services.assignments.issue(leader, mine, expected_number=confirmed)
    assert "杞纪窗交〔2026〕2号" in refused.value.message
    assert services.assignments.get(mine).state is AssignmentState.DRAFT  # nothing signed
    with services.db.read() as session:
        sequence = session.get(NumberSequence, ("slip-交", 2026))
        assert sequence is not None and sequence.last_value == 1  # nor a number taken


def test_the_deadline_counts_from_the_day_of_signing(
    services: AppServices, clerk: Actor, leader: Actor, clock: FixedClock
) -> None:
    clock.at = datetime(2026, 11, 20, 9, 0)  # drafted on a Friday…
    lead_id = _draft(services, clerk, _triaged(services, clerk), assisting_ids=[])[0]
    assert services.assignments.get(lead_id).due_date == CALENDAR.add(date(2026, 11, 20), 10).due
    clock.at = datetime(2026, 11, 25, 9, 0)  # …signed the next Wednesday
    due = CALENDAR.add(date(2026, 11, 25), 10).due
    preview = _text(services.assignments.draft_slip_pdf(leader, lead_id))
    assert f"{due.year}年{due.month}月{due.day}日前" in preview
    services.assignments.issue(leader, lead_id)
    signed = services.assignments.get(lead_id)
    assert signed.due_date == signed.original_due_date == due  # the department's full 10 days


def test_a_failed_print_counts_nothing_and_the_next_output_is_still_the_original(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id = _triaged(services, clerk)
    number, _ = services.assignments.issue(leader, _draft(services, clerk, case_id)[0])
    sent: list[bytes] = []

    def jammed(data: bytes) -> None:
        sent.append(data)
        raise RuntimeError("打印机卡纸")

    with pytest.raises(RuntimeError, match="卡纸"):
        services.assignments.record_slip_output(clerk, number, case_id=case_id, deliver=jammed)
    assert len(sent) == 1 and "补打" not in _text(sent[0])  # it tried the original
    assert services.assignments.slip_content(number)[0].print_count == 0
    assert "print_slip" not in _actions(services)

    printed = services.assignments.record_slip_output(
        clerk, number, case_id=case_id, deliver=sent.append
    )
    assert sent[-1] == printed and "补打" not in _text(printed)  # still the original
    assert services.assignments.slip_content(number)[0].print_count == 1
    assert _actions(services)[-1] == "print_slip"


def test_an_auditor_may_look_at_a_slip_but_not_use_up_its_original(
    services: AppServices, clerk: Actor, leader: Actor, admin: Actor, auditor: Actor, tmp_path
) -> None:
    case_id = _triaged(services, clerk)
    number, _ = services.assignments.issue(leader, _draft(services, clerk, case_id)[0])
    assert "补打" not in _text(services.assignments.slip_pdf(auditor, number))  # looking is fine
    out = tmp_path / "交办单.pdf"
    with pytest.raises(PermissionDenied):
        services.assignments.record_slip_output(auditor, number, case_id=case_id, out=out)
    assert not out.exists()
    assert services.assignments.slip_content(number)[0].print_count == 0
    for actor in (clerk, leader, admin):  # the window's own roles do print
        services.assignments.record_slip_output(actor, number, case_id=case_id)
    assert services.assignments.slip_content(number)[0].print_count == 3


def test_the_signing_preview_names_the_deadline_signing_sets_and_says_when_it_is_provisional(
    services: AppServices, clerk: Actor, leader: Actor, admin: Actor
) -> None:
    case_id = _triaged(services, clerk)
    lead_id = _draft(
        services, clerk, case_id, assisting_ids=[], working_days=30, deadline_note="涉及多年材料"
    )[0]
    preview = services.assignments.signing_preview(leader, lead_id)
    expected = CALENDAR.add(date(2026, 11, 25), 30)
    assert expected.provisional  # into 2027, whose holidays are not known here
    assert preview.number == "杞纪窗交〔2026〕1号"
    assert (preview.due_date, preview.provisional) == (expected.due, True)
    assert not services.cases.detail(case_id).due_provisional  # the triage deadline is known

    number, _ = services.assignments.issue(
        leader, lead_id, expected_number=preview.number, expected_due=preview.due_date
    )
    assert number == preview.number
    assert services.assignments.get(lead_id).due_date == preview.due_date
    case = services.cases.detail(case_id)
    assert case.due_date == preview.due_date
    assert case.due_provisional  # the case's deadline is now the department's, and 暂定
    from desktop_app.storage.models import Case

    with services.db.read() as session:
        stored = session.get(Case, case_id)
        assert stored is not None
        assert stored.due_calendar_version == services.calendar.calendar().version


def test_signing_refuses_when_the_confirmed_deadline_moved_meanwhile(
    services: AppServices, clerk: Actor, leader: Actor, admin: Actor
) -> None:
    case_id = _triaged(services, clerk)
    lead_id = _draft(services, clerk, case_id, assisting_ids=[])[0]
    preview = services.assignments.signing_preview(leader, lead_id)
    # While the leader reads the confirmation, a local closure day is entered.
    services.calendar.save_override(admin, date(2026, 11, 27), working=False, name="停电闭馆")
    moved = services.calendar.calendar().add(date(2026, 11, 25), 10).due
    assert moved != preview.due_date
    with pytest.raises(UserError, match="办理时限已变为") as refused:
        services.assignments.issue(
            leader, lead_id, expected_number=preview.number, expected_due=preview.due_date
        )
    assert f"{moved.month}月{moved.day}日" in refused.value.message
    assert services.assignments.get(lead_id).state is AssignmentState.DRAFT  # nothing signed
    again = services.assignments.signing_preview(leader, lead_id)
    assert again.due_date == moved
    services.assignments.issue(
        leader, lead_id, expected_number=again.number, expected_due=again.due_date
    )
    assert services.assignments.get(lead_id).due_date == moved


def test_an_auditor_may_see_what_signing_would_do_but_not_sign(
    services: AppServices, clerk: Actor, auditor: Actor
) -> None:
    lead_id = _draft(services, clerk, _triaged(services, clerk), assisting_ids=[])[0]
    assert services.assignments.signing_preview(auditor, lead_id).number  # reading only
    with pytest.raises(PermissionDenied):
        services.assignments.issue(auditor, lead_id)


def _stored_deadline(services: AppServices, case_id: int) -> tuple[object, ...]:
    from desktop_app.storage.models import Case

    with services.db.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return (
            case.due_start,
            case.due_working_days,
            case.due_rule,
            case.due_date,
            case.due_calendar_version,
            case.due_provisional,
        )


def test_signing_records_the_rule_start_and_days_of_the_case_deadline(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id = _triaged(services, clerk)  # 很难办
    lead_id = _draft(
        services, clerk, case_id, assisting_ids=[], working_days=12, deadline_note="需现场核查"
    )[0]
    services.assignments.issue(leader, lead_id)
    due = CALENDAR.add(date(2026, 11, 25), 12)
    version = services.calendar.calendar().version
    assert _stored_deadline(services, case_id) == (
        date(2026, 11, 25),
        12,
        "hard",
        due.due,
        version,
        False,
    )
    # The proof shown for the case counts to the same day.
    assert services.cases.deadline_proof(case_id)[0].startswith("自 2026年11月25日 起算")
    assert services.cases.deadline_proof(case_id)[-1].startswith(due.due.isoformat())


def test_an_approved_extension_records_its_days_calendar_and_provisional_mark(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id = _triaged(services, clerk, Nature.WONT)  # 5 working days: due 2026-12-02
    lead_id = _draft(services, clerk, case_id, assisting_ids=[])[0]
    services.assignments.issue(leader, lead_id)
    services.assignments.request_extension(clerk, lead_id, days=30, reason="需要跨年调取材料")
    services.assignments.decide_extension(leader, lead_id, approve=True)
    extended = CALENDAR.add(date(2026, 12, 2), 30)
    assert extended.provisional  # into 2027, whose holidays are not known here
    assert services.assignments.get(lead_id).due_date == extended.due
    version = services.calendar.calendar().version
    assert _stored_deadline(services, case_id) == (
        date(2026, 11, 25),
        35,
        "wont",
        extended.due,
        version,
        True,
    )
    assert services.cases.detail(case_id).due_provisional


def test_a_character_no_font_can_print_is_refused_before_a_number_is_taken(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    """Issue 14 item 7: 𠀀 (U+20000) in a matter is found at 签发, naming the character and the
    field, and the number stays free for the next slip."""
    from desktop_app.documents.fonts import missing_glyphs, register_fonts

    fonts = register_fonts()
    if not missing_glyphs("\U00020000", fonts.chain(fonts.body)):
        pytest.skip("this machine has a font with U+20000")
    case_id = services.intake.register(
        clerk, person_form(title="张\U00020000的医保结算查不到参保信息")
    ).case_id
    services.cases.triage(
        clerk, case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
    )
    lead_id = _draft(services, clerk, case_id)[0]
    with pytest.raises(UserError) as raised:
        services.assignments.issue(leader, lead_id)
    message = raised.value.message
    assert "\U00020000" in message and "U+20000" in message and "反映事项" in message
    assert "未签发" in message
    assert services.assignments.get(lead_id).state is AssignmentState.DRAFT
    with services.db.read() as session:
        assert session.get(NumberSequence, ("slip-交", 2026)) is None  # no number used up
    other = _triaged(services, clerk)
    number, _ = services.assignments.issue(leader, _draft(services, clerk, other)[0])
    assert number == "杞纪窗交〔2026〕1号"


# --- issue 14: deadlines counted at signing, the basis rule, 暂定, 时限调整, 催办 --------------


def test_a_slip_drafted_on_monday_and_signed_on_thursday_counts_from_thursday(
    services: AppServices, clerk: Actor, leader: Actor, clock: FixedClock
) -> None:
    clock.at = datetime(2026, 11, 23, 9, 0)  # drafted on a Monday, 7 days by the leader's word
    case_id = _triaged(services, clerk)
    lead_id = _draft(services, clerk, case_id, working_days=7, deadline_note="领导要求从快")[0]
    clock.at = datetime(2026, 11, 26, 15, 0)  # signed on the Thursday
    number, _ = services.assignments.issue(leader, lead_id)
    due = CALENDAR.add(date(2026, 11, 26), 7).due
    lead, assist = services.assignments.for_case(case_id)
    assert (lead.working_days, lead.due_date, lead.original_due_date) == (7, due, due)
    assert assist.due_date == due  # the assisting department on the same slip: the same day
    _info, content = services.assignments.slip_content(number)
    assert (content.due_date, content.working_days) == (due, 7)
    assert content.issued_at.date() == date(2026, 11, 26) <= content.due_date
    printed = _text(services.assignments.slip_pdf(leader, number))
    assert f"{chinese_date(due)}前（7个工作日）" in printed
    assert "2026年11月26日" in printed  # 签发日期, printed before the deadline it starts
    version = services.calendar.calendar().version
    assert _stored_deadline(services, case_id) == (
        date(2026, 11, 26),
        7,
        "hard",
        due,
        version,
        False,
    )
    proof = services.cases.deadline_proof(case_id)
    assert proof[0].startswith("自 2026年11月26日 起算") and proof[-1].startswith(due.isoformat())


def test_the_basis_paper_defaults_to_the_written_basis_rule(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id = _triaged(services, clerk, Nature.CANT)
    assert services.assignments.default_days(case_id) == 3  # seed 002: 3 working days
    lead_id = _draft(services, clerk, case_id, assisting_ids=[])[0]  # no reason to type
    assert services.assignments.get(lead_id).working_days == 3
    number, _ = services.assignments.issue(leader, lead_id)
    info, content = services.assignments.slip_content(number)
    due = CALENDAR.add(date(2026, 11, 25), 3).due
    assert info.kind is PaperKind.BASIS_REQUEST and (content.due_date, content.working_days) == (
        due,
        3,
    )
    start, days, rule, stored_due, _version, _provisional = _stored_deadline(services, case_id)
    assert (start, days, rule, stored_due) == (date(2026, 11, 25), 3, "cant_basis", due)
    # The same-day answer stays the rule of the case itself, e.g. for a 马上办 matter.
    with pytest.raises(ValidationFailed) as other:
        _draft(services, clerk, case_id, assisting_ids=[], working_days=0)
    assert "3个工作日" in other.value.errors["deadline_note"]


def _provisional_issue(services: AppServices, clerk: Actor, leader: Actor) -> tuple[int, int, str]:
    case_id = _triaged(services, clerk)
    lead_id = _draft(
        services, clerk, case_id, assisting_ids=[], working_days=30, deadline_note="涉及多年材料"
    )[0]
    number, _ = services.assignments.issue(leader, lead_id)
    return case_id, lead_id, number


def test_a_provisional_deadline_is_marked_on_the_paper_and_the_assignment(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    _case_id, lead_id, number = _provisional_issue(services, clerk, leader)
    info = services.assignments.get(lead_id)
    assert info.due_provisional and info.paper_provisional
    assert info.paper_due_date == info.due_date
    _slip, content = services.assignments.slip_content(number)
    assert content.due_provisional
    assert "暂定" in _text(services.assignments.slip_pdf(leader, number))
    draft_case = _triaged(services, clerk)
    draft_id = _draft(
        services, clerk, draft_case, assisting_ids=[], working_days=30, deadline_note="跨年"
    )[0]
    assert "暂定" in _text(services.assignments.draft_slip_pdf(leader, draft_id))
    known = _triaged(services, clerk)
    plain, _ = services.assignments.issue(leader, _draft(services, clerk, known)[0])
    assert not services.assignments.slip_content(plain)[1].due_provisional
    assert "暂定" not in _text(services.assignments.slip_pdf(leader, plain))


def test_an_imported_schedule_leaves_the_paper_and_the_leader_issues_an_adjustment_notice(
    services: AppServices, clerk: Actor, leader: Actor, admin: Actor, clock: FixedClock
) -> None:
    case_id, lead_id, number = _provisional_issue(services, clerk, leader)
    before = services.assignments.get(lead_id).due_date
    with pytest.raises(UserError, match="一致"):
        services.assignments.adjust_deadline(leader, lead_id)  # nothing to adjust yet
    schedule = complete_year(2027, f"{before.isoformat()},否,元旦")
    services.calendar.import_csv(admin, schedule, complete_years=[2027])
    moved = services.assignments.get(lead_id)
    assert moved.due_date != before and not moved.due_provisional
    assert (moved.paper_due_date, moved.paper_provisional) == (before, True)
    _slip, frozen = services.assignments.slip_content(number)
    assert frozen.due_date == before and frozen.due_provisional  # the issued paper stays

    with pytest.raises(PermissionDenied):
        services.assignments.adjust_deadline(clerk, lead_id)
    clock.at = datetime(2026, 12, 1, 10, 0)
    notice, changes = services.assignments.adjust_deadline(leader, lead_id)
    assert notice == "杞纪窗调〔2026〕1号" and changes.case_ids == (case_id,)
    info, content = services.assignments.slip_content(notice)
    assert info.kind is PaperKind.ADJUST and content.kind.label == "时限调整通知"
    assert content.earlier_number == number and content.signer == "潘险峰"
    assert (content.due_date, content.due_provisional) == (moved.due_date, False)
    assert chinese_date(before) in content.requirements
    assert chinese_date(moved.due_date) in content.requirements
    assert services.assignments.verify(content.qr_payload).valid
    text = _text(services.assignments.slip_pdf(leader, notice))
    assert "时限调整通知" in text and number in text
    adjusted = services.assignments.get(lead_id)
    assert adjusted.paper_due_date == adjusted.due_date and not adjusted.paper_provisional
    assert adjusted.slip_numbers == (number, notice)
    assert "时限调整通知" in services.cases.detail(case_id).timeline[-1].summary
    assert "adjust_deadline" in _actions(services)
    with pytest.raises(UserError, match="一致"):
        services.assignments.adjust_deadline(leader, lead_id)


def test_an_urge_notice_asks_for_feedback_working_days_after_it_even_on_a_saturday(
    services: AppServices, clerk: Actor, leader: Actor, admin: Actor, clock: FixedClock
) -> None:
    case_id = _triaged(services, clerk, Nature.WONT)  # due Wednesday 2026-12-02
    lead_id = _draft(services, clerk, case_id, assisting_ids=[])[0]
    services.assignments.issue(leader, lead_id)
    clock.at = datetime(2026, 12, 5, 10, 0)  # a Saturday on duty
    number, _ = services.assignments.urge(clerk, lead_id)
    _info, urge = services.assignments.slip_content(number)
    assert urge.issued_at.date() == date(2026, 12, 5)
    assert (urge.due_date, urge.working_days) == (date(2026, 12, 7), 1)  # the Monday
    assert "2026年12月2日到期" in urge.requirements
    assert "2026年12月7日前" in urge.requirements and "今日内" not in urge.requirements
    printed = _text(services.assignments.slip_pdf(clerk, number)).replace(" ", "")
    assert "反馈时限2026年12月7日前（1个工作日）" in printed
    assert "2026年12月5日" in printed  # 签发日期: the Saturday it was made

    rules = services.calendar.rules()
    assert rules.working_days(RuleKey.URGE_FEEDBACK) == 1
    services.calendar.save_rules(admin, {RuleKey.URGE_FEEDBACK: 2}, rules.due_soon_days)
    clock.at = datetime(2026, 12, 7, 9, 0)  # Monday: two working days → Wednesday
    again, _ = services.assignments.urge(clerk, lead_id)
    assert services.assignments.slip_content(again)[1].due_date == date(2026, 12, 9)


# --- issue 14 review: item 7 on every numbered paper, 暂定 lifted, the notice's cause -------


def _no_font_for_u20000() -> None:
    from desktop_app.documents.fonts import missing_glyphs, register_fonts

    fonts = register_fonts()
    if not missing_glyphs("\U00020000", fonts.chain(fonts.body)):
        pytest.skip("this machine has a font with U+20000")


def test_an_urge_notice_naming_an_unprintable_character_takes_no_number(
    services: AppServices, clerk: Actor, leader: Actor, clock: FixedClock
) -> None:
    """Item 7 for the 催办通知: the clerk's name with 𠀀 (U+20000) is refused before numbering."""
    from dataclasses import replace

    _no_font_for_u20000()
    case_id = _triaged(services, clerk, Nature.WONT)
    lead_id = _draft(services, clerk, case_id, assisting_ids=[])[0]
    services.assignments.issue(leader, lead_id)
    clock.at = datetime(2026, 12, 3, 9, 0)  # the day after expiry
    rare = replace(clerk, display_name="张\U00020000")
    with pytest.raises(UserError) as raised:
        services.assignments.urge(rare, lead_id)
    message = raised.value.message
    assert "U+20000" in message and "签发人" in message and "催办通知" in message
    with services.db.read() as session:
        assert session.get(NumberSequence, ("slip-催", 2026)) is None  # no number used up
    number, _ = services.assignments.urge(clerk, lead_id)
    assert number == "杞纪窗催〔2026〕1号"


def test_an_adjustment_notice_naming_an_unprintable_character_takes_no_number(
    services: AppServices, clerk: Actor, leader: Actor, admin: Actor
) -> None:
    """Item 7 for the 时限调整通知: a signer whose name cannot print uses up no number."""
    from dataclasses import replace

    _no_font_for_u20000()
    _case_id, lead_id, _number = _provisional_issue(services, clerk, leader)
    before = services.assignments.get(lead_id).due_date
    schedule = complete_year(2027, f"{before.isoformat()},否,元旦")
    services.calendar.import_csv(admin, schedule, complete_years=[2027])
    with pytest.raises(UserError) as raised:
        services.assignments.adjust_deadline(replace(leader, display_name="潘\U00020000"), lead_id)
    assert "U+20000" in raised.value.message and "时限调整通知" in raised.value.message
    with services.db.read() as session:
        assert session.get(NumberSequence, ("slip-调", 2026)) is None
    notice, _ = services.assignments.adjust_deadline(leader, lead_id)
    assert notice == "杞纪窗调〔2026〕1号"


def test_a_schedule_that_confirms_the_date_lifts_the_mark_without_an_adjustment_notice(
    services: AppServices, clerk: Actor, leader: Actor, admin: Actor
) -> None:
    """Only 暂定 lifted, the date the same: the paper is still right, nothing to adjust."""
    _case_id, lead_id, _number = _provisional_issue(services, clerk, leader)
    before = services.assignments.get(lead_id).due_date
    assert before.year == 2027
    # The year as the law already counted it: 元旦 a holiday, nothing else before the deadline.
    services.calendar.import_csv(admin, complete_year(2027), complete_years=[2027])
    info = services.assignments.get(lead_id)
    assert info.due_date == before and not info.due_provisional and info.paper_provisional
    assert not info.paper_differs
    assert info.deadline_confirmed
    with pytest.raises(UserError, match="未变"):
        services.assignments.adjust_deadline(leader, lead_id)
    with services.db.read() as session:
        assert session.get(NumberSequence, ("slip-调", 2026)) is None


def test_the_adjustment_notice_words_its_cause_generally(
    services: AppServices, clerk: Actor, leader: Actor, admin: Actor
) -> None:
    """A single day an administrator sets moves the date as an imported schedule does: the
    notice says 节假日安排调整, not that a schedule was published."""
    _case_id, lead_id, _number = _provisional_issue(services, clerk, leader)
    before = services.assignments.get(lead_id).due_date
    services.calendar.save_override(admin, before, working=False, name="县里停电")
    moved = services.assignments.get(lead_id)
    assert moved.due_date != before and moved.paper_differs
    notice, _ = services.assignments.adjust_deadline(leader, lead_id)
    requirements = services.assignments.slip_content(notice)[1].requirements
    assert requirements.startswith("因节假日安排调整，") and "公布" not in requirements


def test_an_unprintable_letterhead_is_refused_when_saved(
    services: AppServices, admin: Actor
) -> None:
    """公文设置 with 𠀀 would make every later 签发 fail: refused at save, beside the field."""
    from desktop_app.domain.settings import ISSUING_BODY, MASTHEAD
    from desktop_app.services.site import PaperSettings

    _no_font_for_u20000()
    form = PaperSettings(issuing_body="杞县\U00020000纪委", masthead="\U00020000政务服务中心")
    with pytest.raises(ValidationFailed) as raised:
        services.site.save_paper_settings(admin, form)
    errors = raised.value.errors
    assert "U+20000" in errors[ISSUING_BODY.key] and "U+20000" in errors[MASTHEAD.key]
    assert "同音字" not in errors[MASTHEAD.key]
    assert services.site.paper_settings().issuing_body == ""


def test_an_unprintable_letterhead_saved_earlier_is_named_at_signing(
    services: AppServices, clerk: Actor, leader: Actor, admin: Actor
) -> None:
    """One stored before the check (or by an older version) names 版头 and where to change it."""
    from desktop_app.domain.settings import MASTHEAD
    from desktop_app.services import settings

    _no_font_for_u20000()
    with services.db.write() as session:
        settings.write(session, admin, MASTHEAD, "\U00020000政务服务中心")
    lead_id = _draft(services, clerk, _triaged(services, clerk))[0]
    with pytest.raises(UserError) as raised:
        services.assignments.issue(leader, lead_id)
    message = raised.value.message
    assert "版头中的" in message and "其他内容" not in message
    assert "公文设置" in message and "同音字" not in message
