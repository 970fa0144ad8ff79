"""Screening out (甄别不予受理/转办, issue 16) and the front door's new fields: the agent, who is
complained about, the campaign, the cause codes — on a real SQLite database."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from desktop_app.domain.assignment_flow import AssignmentKind
from desktop_app.domain.vocabulary import (
    Approach,
    CaseStatus,
    Cause,
    Conduct,
    Nature,
    ProperChannel,
    ScreeningDecision,
)
from desktop_app.errors import PermissionDenied, UserError, ValidationFailed
from desktop_app.services.app import AppServices
from desktop_app.services.cases import Triage
from desktop_app.services.context import Actor
from desktop_app.services.intake import BatchValidationFailed
from desktop_app.services.intake_import import forms_from_records, read_records
from desktop_app.services.ledger import CaseFilter
from desktop_app.storage.models import Case, Complainant
from tests.helpers.db import audit_count, audit_entries, count_rows
from tests.helpers.factories import id_for, person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401

AGENT_ID = id_for("王建国")
REASON = "所反映的是与邻居的宅基地权属纠纷，属于民事争议，不是办事中遇到的问题"


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def nothing_written(services: AppServices) -> tuple[int, ...]:
    return (
        services.ledger.count(),
        count_rows(services, "complainants"),
        count_rows(services, "case_events"),
        audit_count(services),
        count_rows(services, "number_sequences"),
    )


# Who came and for whom -----------------------------------------------------------------------


def test_agent_is_kept_apart_from_the_person_concerned(services: AppServices, clerk: Actor) -> None:
    form = person_form(
        agent_name="王建国",
        agent_phone="13900001111",
        agent_id_number=AGENT_ID,
        agent_relation="舅舅",
    )
    result = services.intake.register(clerk, form)

    detail = services.cases.detail(result.case_id)
    assert detail.complainant_name == "王芳"  # the person concerned, whose case it is
    rows = dict(detail.front_door)
    assert rows["代办人"].startswith("王建国（与反映人关系：舅舅，电话 139****1111")
    assert AGENT_ID not in rows["代办人"] and "13900001111" not in rows["代办人"]
    with services.db.read() as session:
        case = session.get(Case, result.case_id)
        assert case is not None and case.agent is not None
        assert case.agent.name == "王建国" and case.agent_relation == "舅舅"
        assert case.agent.id != case.complainant_id
        # Sealed like the person's: nothing in clear in the row.
        assert case.agent.id_number_sealed and AGENT_ID not in str(case.agent.id_number_sealed)
        assert services.sealer.id_number(case.agent) == AGENT_ID
        assert services.sealer.phone(case.agent) == "13900001111"
    assert "代办人：王建国（舅舅）" in detail.timeline[0].summary

    # Duplicate checks go to the person concerned, not to whoever came for them.
    assert services.intake.related_cases(person_form(phone="13900001111", id_number="")) == []
    assert [r.id for r in services.intake.related_cases(person_form())] == [result.case_id]


def test_the_same_agent_twice_is_one_record(services: AppServices, clerk: Actor) -> None:
    agent = {"agent_name": "王建国", "agent_id_number": AGENT_ID, "agent_relation": "舅舅"}
    services.intake.register(clerk, person_form(**agent))
    services.intake.register(clerk, person_form(name="李娜", title="另一件事", **agent))
    with services.db.read() as session:
        names = session.scalars(select(Complainant.name)).all()
    assert sorted(names) == sorted(["王芳", "李娜", "王建国"])


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"agent_relation": "舅舅"}, "agent_name", "填写了代办人信息，请同时填写代办人姓名"),
        ({"agent_name": "王建国", "agent_phone": "1390000"}, "agent_phone", "电话"),
        ({"agent_name": "王建国", "agent_id_number": "410221198501011234"}, "agent_id_number", ""),
        ({"respondent_conduct": ("bribes",)}, "respondent_conduct", "不是有效的问题类型"),
        ({"respondent_unit": "局" * 101}, "respondent_unit", "单位最多100字"),
        ({"campaign": "活" * 41}, "campaign", "专项活动名称最多40字"),
    ],
)
def test_bad_agent_or_respondent_is_told_and_nothing_saved(
    services: AppServices,
    clerk: Actor,
    changes: dict[str, object],
    field: str,
    message: str,
) -> None:
    before = nothing_written(services)
    with pytest.raises(ValidationFailed) as caught:
        services.intake.register(clerk, person_form(**changes))
    assert field in caught.value.errors
    assert message in caught.value.errors[field]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.errors[field])
    assert nothing_written(services) == before


# Who is complained about, the campaign ---------------------------------------------------------


def test_respondent_and_campaign_are_fields_of_the_case(
    services: AppServices, clerk: Actor
) -> None:
    result = services.intake.register(
        clerk,
        person_form(
            respondent_name="李某",
            respondent_post="医保结算窗口工作人员",
            respondent_unit="县人民医院",
            respondent_conduct=(Conduct.INDIFFERENT.value, Conduct.SHIRK.value),
            campaign="我为群众办实事",
        ),
    )
    rows = dict(services.cases.detail(result.case_id).front_door)
    assert rows["被反映对象"] == "李某 · 医保结算窗口工作人员 · 县人民医院；态度冷漠、推诿扯皮"
    assert rows["专项活动"] == "我为群众办实事"
    with services.db.read() as session:
        case = session.get(Case, result.case_id)
        assert case is not None
        assert case.respondent_conduct == ["indifferent", "shirk"]
        assert case.campaign == "我为群众办实事"
        uuid = case.uuid
    after = audit_entries(services, uuid)[-1]["after"]
    assert after["respondent_name"] == "李某" and after["campaign"] == "我为群众办实事"


# Batch intake ----------------------------------------------------------------------------------


def test_batch_intake_takes_agent_and_respondent_columns(
    services: AppServices, clerk: Actor, tmp_path: Path
) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(
        "name,id_number,phone,title,description,area,agent_name,agent_phone,agent_id_number,"
        "agent_relation,respondent_name,respondent_unit,respondent_conduct,campaign\n"
        f"王芳,{person_form().id_number},13812345678,医保结算查不到参保信息,跑了三次,医保社保,"
        f"王建国,13900001111,{AGENT_ID},舅舅,李某,县人民医院,态度冷漠、shirk,入企访廉\n",
        encoding="utf-8",
    )
    forms, errors = forms_from_records(read_records(path), {})
    assert errors == []
    [result] = services.intake.register_many(clerk, forms)
    with services.db.read() as session:
        case = session.get(Case, result.case_id)
        assert case is not None and case.agent is not None
        assert (case.agent.name, case.agent_relation) == ("王建国", "舅舅")
        assert case.respondent_conduct == ["indifferent", "shirk"]
        assert (case.respondent_name, case.respondent_unit) == ("李某", "县人民医院")
        assert case.campaign == "入企访廉"


def test_batch_row_with_a_bad_agent_is_refused_by_its_row(
    services: AppServices, clerk: Actor, tmp_path: Path
) -> None:
    path = tmp_path / "rows.json"
    good = {
        "name": "王芳",
        "id_number": person_form().id_number,
        "phone": "13812345678",
        "title": "医保结算",
        "description": "跑了三次",
        "area": "医保社保",
    }
    rows = [good, good | {"agent_relation": "舅舅", "respondent_conduct": "收红包"}]
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    forms, parse_errors = forms_from_records(read_records(path), {})
    assert [str(e) for e in parse_errors] == [
        "第2行 被反映问题：“收红包”不是有效的问题类型（不给办、冷硬推、推诿扯皮、吃拿卡要、"
        "态度冷漠、一次性告知不到位、不作为、慢作为、乱作为、不担当）"
    ]
    before = nothing_written(services)
    with pytest.raises(BatchValidationFailed) as caught:
        services.intake.register_many(clerk, forms)
    assert "第2行 代办人姓名：填写了代办人信息，请同时填写代办人姓名" in str(caught.value)
    assert nothing_written(services) == before


# Cause codes -----------------------------------------------------------------------------------


def test_triage_offers_and_stores_the_cause_codes(services: AppServices, clerk: Actor) -> None:
    options = services.reference.causes()
    assert [(o.code, o.label) for o in options[:4]] == [
        ("C01", "作风不实"),
        ("C02", "政策不明"),
        ("C03", "职责不清"),
        ("C04", "流程不优"),
    ]
    case_id = services.intake.register(clerk, person_form()).case_id
    services.cases.triage(
        clerk, case_id, Triage(Nature.HARD, Approach.PUSH, ("C01", Cause.PROCESS), "医保社保")
    )
    detail = services.cases.detail(case_id)
    assert detail.causes == ("C01", "C04")  # an old cause is taken as its code
    assert "受阻原因：作风不实、流程不优" in detail.timeline[-1].summary
    with services.db.read() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.causes == ["C01", "C04"]


def test_a_cause_not_on_the_list_is_refused(services: AppServices, clerk: Actor) -> None:
    case_id = services.intake.register(clerk, person_form()).case_id
    before = nothing_written(services)
    with pytest.raises(ValidationFailed) as caught:
        services.cases.triage(
            clerk, case_id, Triage(Nature.HARD, Approach.PUSH, ("X99",), "医保社保")
        )
    assert caught.value.errors["causes"] == "受阻原因“X99”不在本站点的原因列表中"
    assert nothing_written(services) == before


def test_old_stored_causes_read_as_codes(services: AppServices, clerk: Actor) -> None:
    case_id = services.intake.register(clerk, person_form()).case_id
    with services.db.write() as session:
        case = session.get(Case, case_id)
        assert case is not None
        case.causes = ["policy", "shirking"]  # as the first release stored them
    assert services.cases.detail(case_id).causes == ("C02", "C08")
    assert services.reference.label("shirking") == "推诿扯皮"


# Screening out ---------------------------------------------------------------------------------


def test_screen_out_ends_the_case_with_a_numbered_notice(
    services: AppServices, clerk: Actor
) -> None:
    case_id = services.intake.register(clerk, person_form()).case_id

    result = services.screening.screen_out(
        clerk, case_id, ScreeningDecision.NOT_ACCEPTED, ProperChannel.LITIGATION, REASON
    )

    assert result.changes.cases and result.changes.case_ids == (case_id,)
    assert result.notice.number == "杞纪窗告〔2026〕1号"
    detail = services.cases.detail(case_id)
    assert detail.status is CaseStatus.SCREENED_OUT
    assert detail.timeline[-1].label == "不予受理/转办"
    assert "告知书 杞纪窗告〔2026〕1号" in detail.timeline[-1].summary
    assert dict(detail.front_door)["甄别结论"] == f"不予受理（应循诉讼渠道）：{REASON}"
    with services.db.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        assert (case.screening_decision, case.screening_channel) == ("not_accepted", "litigation")
        assert case.screening_reason == REASON and case.screened_at is not None
        uuid = case.uuid
    entry = audit_entries(services, uuid)[-1]
    assert entry["action"] == "screen_out"
    assert entry["after"]["status"] == "screened_out"
    assert entry["after"]["notice"] == "杞纪窗告〔2026〕1号"

    text = pdf_text(services.screening.notice_pdf(case_id)).replace("\n", "")
    for expected in ("不予受理告知书", "杞纪窗告〔2026〕1号", "王芳：", "医保结算查不到参保信息"):
        assert expected in text
    assert "诉讼" in text and "人民法院" in text
    assert "138****5678" in text and "13812345678" not in text
    assert person_form().id_number not in text

    # Never counted as concluded, and listed by its own status.
    assert services.ledger.ids(CaseFilter(statuses=(CaseStatus.CONCLUDED,))) == []
    assert services.ledger.ids(CaseFilter(statuses=(CaseStatus.SCREENED_OUT,))) == [case_id]


def test_the_notice_reprints_as_issued(services: AppServices, clerk: Actor) -> None:
    case_id = services.intake.register(clerk, person_form()).case_id
    services.screening.screen_out(
        clerk, case_id, ScreeningDecision.TRANSFERRED, ProperChannel.HOTLINE, "属12345热线受理"
    )
    assert services.screening.notice_pdf(case_id) == services.screening.notice_pdf(case_id)
    notice = services.screening.notice(case_id)
    assert notice.title == "转办告知书"
    assert "已转12345热线渠道办理" in notice.paragraphs()[0]


def test_each_printed_notice_is_audited_and_later_copies_are_marked(
    services: AppServices, clerk: Actor, tmp_path: Path
) -> None:
    """The first copy is 打印告知书; every later one 补打告知书 with a red 补打 on the paper; a
    write that fails records nothing."""
    case_id = services.intake.register(clerk, person_form()).case_id
    services.screening.screen_out(
        clerk, case_id, ScreeningDecision.NOT_ACCEPTED, ProperChannel.LITIGATION, "属诉讼程序"
    )
    uuid = services.cases.detail(case_id).uuid
    printed: list[bytes] = []

    first = services.screening.record_notice_output(clerk, case_id, deliver=printed.append)
    second = services.screening.record_notice_output(clerk, case_id, out=tmp_path / "告知书.pdf")

    assert printed == [first]
    assert (tmp_path / "告知书.pdf").read_bytes() == second
    assert "补" not in pdf_text(first) and "补　打" in pdf_text(second)

    def copies() -> list[str]:
        return [e["action"] for e in audit_entries(services, uuid) if "notice" in e["action"]]

    assert copies() == ["print_notice", "reprint_notice"]
    with pytest.raises(UserError, match="无法保存"):
        services.screening.record_notice_output(clerk, case_id, out=tmp_path / "无此目录" / "x.pdf")
    assert copies() == ["print_notice", "reprint_notice"]


def test_a_notice_is_printed_only_by_whoever_prints_papers(
    services: AppServices, clerk: Actor, auditor: Actor
) -> None:
    case_id = services.intake.register(clerk, person_form()).case_id
    services.screening.screen_out(
        clerk, case_id, ScreeningDecision.NOT_ACCEPTED, ProperChannel.LITIGATION, "属诉讼程序"
    )
    entries = audit_count(services)
    with pytest.raises(PermissionDenied):
        services.screening.record_notice_output(auditor, case_id, deliver=lambda _data: None)
    assert audit_count(services) == entries


def test_numbers_are_gap_free_across_notices(services: AppServices, clerk: Actor) -> None:
    numbers = []
    for name in ("王芳", "李娜"):
        case_id = services.intake.register(clerk, person_form(name=name)).case_id
        numbers.append(
            services.screening.screen_out(
                clerk, case_id, ScreeningDecision.NOT_ACCEPTED, ProperChannel.PETITION, REASON
            ).notice.number
        )
    assert numbers == ["杞纪窗告〔2026〕1号", "杞纪窗告〔2026〕2号"]


def test_screen_out_without_reason_changes_nothing(services: AppServices, clerk: Actor) -> None:
    case_id = services.intake.register(clerk, person_form()).case_id
    before = nothing_written(services)
    with pytest.raises(ValidationFailed) as caught:
        services.screening.screen_out(
            clerk, case_id, ScreeningDecision.NOT_ACCEPTED, ProperChannel.PETITION, "  "
        )
    assert caught.value.errors == {"reason": "请写明不属于受理范围的理由，告知书上会印出"}
    assert nothing_written(services) == before
    assert services.cases.detail(case_id).status is CaseStatus.REGISTERED


def test_an_assigned_case_cannot_be_screened_out(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id = services.intake.register(clerk, person_form()).case_id
    services.cases.triage(clerk, case_id, Triage(Nature.HARD, Approach.PUSH, ("C04",), "医保社保"))
    department = services.site.departments()[0].id
    services.assignments.create(
        clerk,
        case_id,
        department_id=department,
        requirements="请核实办理",
        kind=AssignmentKind.ASSIGN,
    )
    before = nothing_written(services)
    with pytest.raises(UserError, match="已有交办单"):
        services.screening.screen_out(
            clerk, case_id, ScreeningDecision.NOT_ACCEPTED, ProperChannel.PETITION, REASON
        )
    assert nothing_written(services) == before


def test_only_triage_staff_may_screen_out(
    services: AppServices, clerk: Actor, auditor: Actor
) -> None:
    case_id = services.intake.register(clerk, person_form()).case_id
    with pytest.raises(PermissionDenied):
        services.screening.screen_out(
            auditor, case_id, ScreeningDecision.NOT_ACCEPTED, ProperChannel.PETITION, REASON
        )


def test_demo_front_door_has_an_agent_a_respondent_and_both_screenings(
    services: AppServices, clerk: Actor
) -> None:
    from desktop_app.services.demo.front_door import add_demo_front_door

    niece, complained, refused, transferred = add_demo_front_door(services, clerk)
    assert "代办人" in dict(services.cases.detail(niece).front_door)
    assert dict(services.cases.detail(complained).front_door)["被反映对象"].startswith("赵某")
    assert services.screening.notice(refused).title == "不予受理告知书"
    assert services.screening.notice(transferred).title == "转办告知书"
    statuses = {services.cases.detail(i).status for i in (refused, transferred)}
    assert statuses == {CaseStatus.SCREENED_OUT}


def test_cli_lists_cases_screened_out(services: AppServices, clerk: Actor, data_dir: Path) -> None:
    from tests.helpers.cli import run_bbcs

    kept = services.intake.register(clerk, person_form()).case_id
    ended = services.intake.register(clerk, person_form(name="李娜", title="宅基地纠纷")).case_id
    services.screening.screen_out(
        clerk, ended, ScreeningDecision.NOT_ACCEPTED, ProperChannel.LITIGATION, REASON
    )
    services.close()
    result = run_bbcs("cases", "--status", "screened_out", "--json", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert [r["title"] for r in listed] == ["宅基地纠纷"]
    assert listed[0]["status"] == "screened_out"
    assert kept != ended
