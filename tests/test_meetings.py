"""联席会议 (issue 16): recording a meeting, its numbered minutes, the 联席会议 event on each case,
follow-up assignments signed like any slip, edits kept in the audit log, bad input refused."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from desktop_app.domain.assignment_flow import AssignmentState
from desktop_app.domain.case_flow import EventKind
from desktop_app.domain.vocabulary import Approach, CaseStatus, Cause, Nature
from desktop_app.errors import PermissionDenied, UserError, ValidationFailed
from desktop_app.services import assignments, meetings
from desktop_app.services.app import AppServices
from desktop_app.services.cases import Triage
from desktop_app.services.context import Actor, FixedClock
from desktop_app.services.meetings import ItemForm, MeetingForm
from desktop_app.storage.models import Assignment, AuditEntry, Case, Meeting, MeetingItem
from tests.helpers.factories import person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401

HELD = datetime(2026, 11, 24, 9, 30)


def _triaged(services: AppServices, clerk: Actor, name: str, title: str) -> int:
    case_id = services.intake.register(clerk, person_form(name=name, title=title)).case_id
    services.cases.triage(
        clerk, case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
    )
    return case_id


def _departments(services: AppServices) -> tuple[int, int]:
    first, second = services.site.departments()[:2]
    return first.id, second.id


def _form(services: AppServices, first: int, second: int, **changes: object) -> MeetingForm:
    medical, _estate = _departments(services)
    form = MeetingForm(
        held_at=HELD,
        place="县纪委监委三楼会议室",
        chair="潘险峰",
        attendees=("杞县医疗保障局", "杞县不动产登记中心"),
        topic="医保结算查不到参保信息问题会商",
        summary="窗口通报了近期医保结算类“办不成事”的受理情况。",
        recorder="张敏",
        items=(
            ItemForm(
                case_id=first,
                discussion="医保局说明参保信息迁移未完成。",
                decision="由县医疗保障局5个工作日内完成信息迁移并当面答复群众。",
                department_id=medical,
                working_days=5,
            ),
            ItemForm(
                case_id=second,
                discussion="同类问题，已在办理。",
                decision="并入第一项一并处理，窗口跟踪。",
            ),
        ),
    )
    return replace(form, **changes)  # type: ignore[arg-type]


@pytest.fixture
def two_cases(services: AppServices, clerk: Actor) -> tuple[int, int]:
    return (
        _triaged(services, clerk, "王芳", "医保结算查不到参保信息"),
        _triaged(services, clerk, "李娜", "异地就医备案办不下来"),
    )


def _counts(services: AppServices) -> tuple[int, int, int, int]:
    with services.db.read() as session:
        return (
            session.scalar(select(func.count()).select_from(Meeting)) or 0,
            session.scalar(select(func.count()).select_from(MeetingItem)) or 0,
            session.scalar(select(func.count()).select_from(Assignment)) or 0,
            session.scalar(select(func.count()).select_from(AuditEntry)) or 0,
        )


def test_a_meeting_with_two_cases_and_a_follow_up_signed_like_any_slip(
    services: AppServices, clerk: Actor, leader: Actor, two_cases: tuple[int, int]
) -> None:
    first, second = two_cases
    meeting_id, changes = services.meetings.record(clerk, _form(services, first, second))
    assert changes.meetings and changes.cases and set(changes.case_ids) == {first, second}
    assert any("签发" in message for message in changes.messages)

    detail = services.meetings.get(clerk, meeting_id)
    assert detail.number == "杞纪窗纪〔2026〕1号"
    assert detail.attendees == ("杞县医疗保障局", "杞县不动产登记中心")
    follow, plain = detail.items
    assert plain.assignment_id is None and plain.department == ""
    assert follow.department == "杞县医疗保障局" and follow.working_days == 5
    # A draft, not signed: the duty leader signs it like any other.
    assert follow.assignment_state == AssignmentState.DRAFT.value and follow.slip_number == ""
    draft = services.assignments.get(follow.assignment_id or 0)
    assert draft.case_id == first and draft.working_days == 5
    assert "杞纪窗纪〔2026〕1号" in draft.requirements
    assert services.cases.detail(first).status is CaseStatus.REGISTERED

    number, _ = services.assignments.issue(leader, draft.id)
    assert number == "杞纪窗交〔2026〕1号"
    signed = services.meetings.get(clerk, meeting_id).items[0]
    assert signed.slip_number == number
    assert signed.assignment_state == AssignmentState.ISSUED.value
    assert services.cases.detail(first).status is CaseStatus.IN_PROGRESS

    for case_id in (first, second):
        events = [e for e in services.cases.detail(case_id).timeline if e.kind == EventKind.MEETING]
        assert len(events) == 1 and "杞纪窗纪〔2026〕1号" in events[0].summary
    assert [row.id for row in services.meetings.for_case(clerk, second)] == [meeting_id]
    assert services.maintenance.check().ok


def test_minutes_are_numbered_gap_free_per_year(
    services: AppServices, clerk: Actor, two_cases: tuple[int, int], clock: FixedClock
) -> None:
    first, second = two_cases
    plain = (ItemForm(case_id=first, decision="继续跟踪"),)
    numbers = []
    for _ in range(2):
        meeting_id, _ = services.meetings.record(clerk, _form(services, first, second, items=plain))
        numbers.append(services.meetings.get(clerk, meeting_id).number)
    with pytest.raises(ValidationFailed):  # a refused meeting takes no number
        services.meetings.record(clerk, _form(services, first, second, chair=""))
    clock.at = datetime(2027, 1, 4, 9, 0)
    meeting_id, _ = services.meetings.record(clerk, _form(services, first, second, items=plain))
    numbers.append(services.meetings.get(clerk, meeting_id).number)
    assert numbers == ["杞纪窗纪〔2026〕1号", "杞纪窗纪〔2026〕2号", "杞纪窗纪〔2027〕1号"]
    assert services.meetings.register(clerk)[0].number == "杞纪窗纪〔2027〕1号"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"chair": "  "}, "chair", "请填写会议主持人"),
        ({"topic": ""}, "topic", "请填写会议议题"),
        ({"attendees": ()}, "attendees", "请选择参会单位"),
        ({"items": ()}, "items", "请至少列入一项"),
        ({"held_at": datetime(2026, 12, 1, 9, 0)}, "held_at", "不能晚于现在"),
    ],
)
def test_bad_input_is_refused_in_chinese_and_nothing_is_saved(
    services: AppServices,
    clerk: Actor,
    two_cases: tuple[int, int],
    changes: dict[str, Any],
    field: str,
    message: str,
) -> None:
    before = _counts(services)
    with pytest.raises(ValidationFailed) as refused:
        services.meetings.record(clerk, _form(services, *two_cases, **changes))
    assert message in refused.value.errors[field]
    assert _counts(services) == before


def test_a_follow_up_needs_a_department_and_a_case(
    services: AppServices, clerk: Actor, two_cases: tuple[int, int]
) -> None:
    first, second = two_cases
    before = _counts(services)
    no_department = (ItemForm(case_id=first, decision="限期办结", working_days=5),)
    with pytest.raises(ValidationFailed) as refused:
        services.meetings.record(clerk, _form(services, first, second, items=no_department))
    assert refused.value.errors["items"] == "第1项：会后交办请选择承办单位"
    no_decision = (ItemForm(case_id=first, decision=" "),)
    with pytest.raises(ValidationFailed, match="请填写会议决定"):
        services.meetings.record(clerk, _form(services, first, second, items=no_decision))
    twice = (ItemForm(case_id=first, decision="甲"), ItemForm(case_id=first, decision="乙"))
    with pytest.raises(ValidationFailed, match="只列一次"):
        services.meetings.record(clerk, _form(services, first, second, items=twice))
    assert _counts(services) == before


def test_a_follow_up_on_an_untriaged_case_is_refused_before_anything_is_written(
    services: AppServices, clerk: Actor, two_cases: tuple[int, int]
) -> None:
    untriaged = services.intake.register(clerk, person_form(name="赵强")).case_id
    medical, _ = _departments(services)
    before = _counts(services)
    items = (ItemForm(case_id=untriaged, decision="限期办结", department_id=medical),)
    with pytest.raises(ValidationFailed, match="尚未甄别分类"):
        services.meetings.record(clerk, _form(services, *two_cases, items=items))
    assert _counts(services) == before


def _failing_second_draft(monkeypatch: pytest.MonkeyPatch, failure: Exception) -> list[int]:
    """Every follow-up draft goes through ``assignments.draft_in``; the second one fails with
    ``failure`` after the first was made (its rows flushed). Returns the calls' case ids."""
    made = assignments.draft_in
    calls: list[int] = []

    def draft(session: Session, actor: Actor, case: Any, **arguments: Any) -> list[int]:
        calls.append(case.id)
        if len(calls) == 2:
            raise failure
        return made(session, actor, case, **arguments)

    monkeypatch.setattr(assignments, "draft_in", draft)
    monkeypatch.setattr(meetings, "draft_in", draft, raising=False)
    return calls


def _case_versions(services: AppServices, case_ids: tuple[int, ...]) -> dict[int, int]:
    with services.db.read() as session:
        return {case_id: session.get_one(Case, case_id).version for case_id in case_ids}


def _full_disk() -> OperationalError:
    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorcode = sqlite3.SQLITE_FULL  # type: ignore[attr-defined]
    return OperationalError("INSERT INTO assignments", {}, full)


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (_full_disk(), "磁盘空间已满，本次操作未保存"),
        (
            UserError("所选部门不存在或已停用"),
            "的会后交办不能生成（所选部门不存在或已停用），会议未保存",
        ),
    ],
    ids=["disk-full", "draft-refused"],
)
def test_a_failed_follow_up_leaves_no_meeting_and_no_draft(
    services: AppServices,
    clerk: Actor,
    two_cases: tuple[int, int],
    monkeypatch: pytest.MonkeyPatch,
    failure: Exception,
    message: str,
) -> None:
    """Saving a meeting and drafting its follow-ups are one unit of work: a failure in the
    second draft leaves neither the meeting nor the first draft, and says why in Chinese."""
    first, second = two_cases
    _medical, estate = _departments(services)
    form = _form(services, first, second)
    both = (form.items[0], replace(form.items[1], department_id=estate, working_days=10))
    versions = _case_versions(services, two_cases)
    before = _counts(services)
    calls = _failing_second_draft(monkeypatch, failure)

    with pytest.raises(UserError) as refused:
        services.meetings.record(clerk, replace(form, items=both))

    assert calls == [first, second]  # the first draft was made, then the second failed
    assert message in refused.value.message
    assert _counts(services) == before  # no meeting, no item, no draft, no audit entry
    assert _case_versions(services, two_cases) == versions
    for case_id in two_cases:
        timeline = services.cases.detail(case_id).timeline
        assert not [e for e in timeline if e.kind == EventKind.MEETING]
    monkeypatch.undo()
    # The minutes' number was not used up: the next meeting is still 1号, with both drafts.
    meeting_id, changes = services.meetings.record(clerk, replace(form, items=both))
    detail = services.meetings.get(clerk, meeting_id)
    assert detail.number.endswith("〔2026〕1号")
    assert all(item.assignment_id is not None for item in detail.items)
    assert changes.messages == ("已按会议决定生成交办草稿，请值班领导在事项的“交办”页中签发",)


def test_only_case_workers_record_meetings(
    services: AppServices, auditor: Actor, two_cases: tuple[int, int]
) -> None:
    with pytest.raises(PermissionDenied):
        services.meetings.record(auditor, _form(services, *two_cases))
    assert services.meetings.register(auditor) == []


def test_an_edit_keeps_the_history_and_the_follow_up(
    services: AppServices, clerk: Actor, two_cases: tuple[int, int], clock: FixedClock
) -> None:
    first, second = two_cases
    meeting_id, _ = services.meetings.record(clerk, _form(services, first, second))
    detail = services.meetings.get(clerk, meeting_id)
    form = detail.form()
    edited = replace(
        form,
        place="县政务服务中心二楼会议室",
        items=(form.items[0], replace(form.items[1], decision="由窗口电话回访确认。")),
    )
    clock.at = datetime(2026, 11, 25, 15, 0)
    changes = services.meetings.update(clerk, meeting_id, edited)
    assert changes.meetings
    again = services.meetings.get(clerk, meeting_id)
    assert again.number == detail.number and again.place == "县政务服务中心二楼会议室"
    assert again.items[0].assignment_id == detail.items[0].assignment_id  # no second draft
    assert again.items[1].decision == "由窗口电话回访确认。"
    with services.db.read() as session:
        before, after = session.execute(
            select(AuditEntry.before, AuditEntry.after).where(AuditEntry.action == "update_meeting")
        ).one()
    assert before["place"] == "县纪委监委三楼会议室"
    assert after["place"] == "县政务服务中心二楼会议室"

    # The item that made an assignment is not dropped, nor its department changed.
    with pytest.raises(UserError, match="不能从纪要中删除"):
        services.meetings.update(clerk, meeting_id, replace(edited, items=edited.items[1:]))
    _medical, estate = _departments(services)
    moved = replace(edited.items[0], department_id=estate)
    with pytest.raises(UserError, match="不能再改"):
        services.meetings.update(
            clerk, meeting_id, replace(edited, items=(moved, *edited.items[1:]))
        )
    assert services.meetings.get(clerk, meeting_id) == again


def test_a_class_is_taken_up_but_a_follow_up_goes_to_a_case(
    services: AppServices, clerk: Actor, two_cases: tuple[int, int]
) -> None:
    from desktop_app.storage.models import IssueClass

    with services.db.write() as session:
        issue_class = IssueClass(
            title="医保参保信息迁移不同步",
            created_at=HELD,
            created_by="张敏",
            updated_at=HELD,
        )
        session.add(issue_class)
        session.flush()
        class_id = issue_class.id
    assert [c.title for c in services.meetings.classes(clerk)] == ["医保参保信息迁移不同步"]
    medical, _ = _departments(services)
    refused = (ItemForm(issue_class_id=class_id, decision="修订流程", department_id=medical),)
    with pytest.raises(ValidationFailed, match="只能针对具体事项"):
        services.meetings.record(clerk, _form(services, *two_cases, items=refused))
    items = (ItemForm(issue_class_id=class_id, decision="医保局牵头修订参保迁移流程。"),)
    meeting_id, changes = services.meetings.record(clerk, _form(services, *two_cases, items=items))
    assert not changes.cases
    assert (
        services.meetings.get(clerk, meeting_id).items[0].matter == "一类事：医保参保信息迁移不同步"
    )


def test_find_cases_by_number_or_title(
    services: AppServices, clerk: Actor, two_cases: tuple[int, int]
) -> None:
    first, _second = two_cases
    number = services.cases.detail(first).number
    assert [c.id for c in services.meetings.find_cases(clerk, number)] == [first]
    assert [c.id for c in services.meetings.find_cases(clerk, "异地就医")] == [two_cases[1]]
    assert services.meetings.find_cases(clerk, "  ") == []


def test_the_minutes_read_back_as_text(
    services: AppServices, clerk: Actor, leader: Actor, two_cases: tuple[int, int], tmp_path: Path
) -> None:
    meeting_id, _ = services.meetings.record(clerk, _form(services, *two_cases))
    follow = services.meetings.get(clerk, meeting_id).items[0]
    services.assignments.issue(leader, follow.assignment_id or 0)
    out = tmp_path / "纪要.pdf"
    data = services.meetings.minutes_pdf(clerk, meeting_id, out=out)
    assert data.startswith(b"%PDF") and out.read_bytes() == data
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = "".join(text.split())
    for expected in (
        "联席会议纪要",
        "杞纪窗纪〔2026〕1号",
        "医保结算查不到参保信息问题会商",
        "2026年11月24日9时30分",
        "县纪委监委三楼会议室",
        "会议由潘险峰主持",
        "一、",
        "二、",
        "会议决定：由县医疗保障局5个工作日内完成信息迁移",
        "交杞县医疗保障局5个工作日内办理，交办单杞纪窗交〔2026〕1号",
        "出席：杞县医疗保障局、杞县不动产登记中心",
        "记录：张敏",
        "印发",
    ):
        assert expected in flat, expected


def test_the_command_line_lists_meetings_and_saves_the_minutes(
    services: AppServices,
    clerk: Actor,
    two_cases: tuple[int, int],
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    from desktop_app.cli import main
    from tests.helpers.factories import USER_PASSWORD

    services.meetings.record(clerk, _form(services, *two_cases))
    monkeypatch.setenv("BBCS_USER", "clerk1")
    monkeypatch.setenv("BBCS_PASSWORD", USER_PASSWORD)
    assert main(["--data-dir", str(data_dir), "meetings"]) == 0
    listed = capsys.readouterr()
    assert "杞纪窗纪〔2026〕1号\t2026-11-24 09:30\t潘险峰" in listed.out
    assert "共 1 次会议" in listed.err
    assert main(["--data-dir", str(data_dir), "meetings", "--json"]) == 0
    (meeting,) = json.loads(capsys.readouterr().out)
    assert meeting["number"] == "杞纪窗纪〔2026〕1号"
    assert meeting["items"][0]["department"] == "杞县医疗保障局"
    assert meeting["items"][0]["assignment_state"] == "draft"
    out = tmp_path / "纪要.pdf"
    assert (
        main(
            [
                "--data-dir",
                str(data_dir),
                "meetings",
                "--minutes",
                "杞纪窗纪〔2026〕1号",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert out.read_bytes().startswith(b"%PDF")


def test_the_demo_has_a_meeting_with_a_signed_follow_up_and_one_waiting(
    services: AppServices, clerk: Actor, leader: Actor, two_cases: tuple[int, int]
) -> None:
    from desktop_app.services.demo.meetings import add_demo_meetings

    _triaged(services, clerk, "赵强", "公积金提取要求重复提交材料")
    ids = add_demo_meetings(services, clerk, leader)
    assert len(ids) == 2
    signed, waiting = (services.meetings.get(clerk, i) for i in ids)
    assert signed.items[0].slip_number.startswith("杞纪窗交〔2026〕")
    assert waiting.items[0].assignment_state == AssignmentState.DRAFT.value
    assert services.maintenance.check().ok
