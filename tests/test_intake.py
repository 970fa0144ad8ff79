"""Intake (受理登记): what a clerk sees when saving the form, on a real SQLite database."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import event, select

from desktop_app.domain.vocabulary import (
    CaseStatus,
    ComplainantKind,
    Outcome,
    ReplyMethod,
    VisitGrade,
)
from desktop_app.errors import UserError, ValidationFailed
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from desktop_app.services.intake import BatchValidationFailed
from desktop_app.services.ledger import CaseFilter
from desktop_app.storage import search
from desktop_app.storage.models import Complainant
from tests.helpers.db import audit_count, audit_entries, count_rows
from tests.helpers.factories import VALID_CREDIT_CODE, VALID_ID, enterprise_form, person_form
from tests.helpers.ids import id_number, wrong_check
from tests.helpers.speed import fast_password_hashing  # noqa: F401

CJK = re.compile(r"[\u4e00-\u9fff]")
OTHER_ID = id_number("41022119850315123")


def snapshot(services: AppServices) -> tuple[int, int, int, int, int]:
    """Everything an intake writes: cases, complainants, events, audit entries, sequences."""
    return (
        services.ledger.count(),
        count_rows(services, "complainants"),
        count_rows(services, "case_events"),
        audit_count(services),
        count_rows(services, "number_sequences"),
    )


def conclude(services: AppServices, actor: Actor, case_id: int) -> None:
    services.cases.conclude(
        actor,
        case_id,
        outcome=Outcome.DONE,
        what_was_done="协调医保局当场补录参保信息",
        reply_method=ReplyMethod.PHONE,
        reply_text="已补录，可正常结算",
    )


# Saving ---------------------------------------------------------------------------------------


def test_person_and_enterprise_get_consecutive_numbers(services: AppServices, clerk: Actor) -> None:
    first = services.intake.register(clerk, person_form())
    second = services.intake.register(clerk, enterprise_form())

    assert (first.number, second.number) == ("杞县-2026-0001", "杞县-2026-0002")
    assert not first.repeat_visit and first.changes.cases
    person = services.cases.detail(first.case_id)
    assert person.status is CaseStatus.REGISTERED
    assert person.complainant_kind is ComplainantKind.PERSON
    assert person.complainant_name == "王芳"
    assert person.id_number_masked != VALID_ID and person.id_number_masked.endswith("002X")
    assert person.visits_count == 3
    assert person.received_at == datetime(2026, 11, 25, 9, 30)
    assert [e.label for e in person.timeline] == ["受理登记"]
    company = services.cases.detail(second.case_id)
    assert company.complainant_kind is ComplainantKind.ENTERPRISE
    assert company.credit_code == VALID_CREDIT_CODE
    assert company.contact_person == "李强"
    assert set(services.ledger.ids()) == {first.case_id, second.case_id}


def test_each_intake_is_audited(services: AppServices, clerk: Actor) -> None:
    result = services.intake.register(clerk, person_form())

    detail = services.cases.detail(result.case_id)
    entries = audit_entries(services, detail.uuid)
    assert [(e["action"], e["user_name"]) for e in entries] == [("register", "clerk1")]
    assert entries[0]["after"]["number"] == "杞县-2026-0001"
    assert entries[0]["after"]["title"] == "医保结算查不到参保信息"


def test_wrong_id_check_digit_is_refused_and_nothing_saved(
    services: AppServices, clerk: Actor
) -> None:
    before = snapshot(services)

    with pytest.raises(ValidationFailed) as caught:
        services.intake.register(clerk, person_form(id_number=wrong_check(VALID_ID)))

    assert set(caught.value.errors) == {"id_number"}
    assert "校验位" in caught.value.errors["id_number"]
    assert "确认理由" in caught.value.errors["id_number"]
    assert snapshot(services) == before


def test_wrong_id_with_a_reason_is_saved_and_the_reason_kept(
    services: AppServices, clerk: Actor
) -> None:
    reason = "老身份证 公安户籍系统中核实无误"

    result = services.intake.register(
        clerk, person_form(id_number=wrong_check(VALID_ID), id_override_reason=reason)
    )

    assert result.number == "杞县-2026-0001"
    assert services.cases.detail(result.case_id).id_override_reason == reason


# A real licence whose embedded organization code fails GB 11714 (its own check is right).
ORG_CHECK_FAILS = "91410221M000100Y5Y"


def test_wrong_credit_code_needs_a_reason(services: AppServices, clerk: Actor) -> None:
    bad = ORG_CHECK_FAILS
    with pytest.raises(ValidationFailed) as caught:
        services.intake.register(clerk, enterprise_form(credit_code=bad))
    assert set(caught.value.errors) == {"credit_code"}
    assert services.ledger.count() == 0

    result = services.intake.register(
        clerk, enterprise_form(credit_code=bad, id_override_reason="营业执照原件核对无误")
    )
    assert services.cases.detail(result.case_id).id_override_reason == "营业执照原件核对无误"


@pytest.mark.parametrize(
    ("id_number", "what"),
    [
        ("123456", "6位"),  # the "test" override that was saved (issue 12 item 10)
        ("41022119800230123X", "不存在"),  # 30 February
        ("4102211980010112AB", "非法字符"),
        ("991021198001011234", "省级"),
        ("41022130000101123X", "晚于今天"),
    ],
)
def test_a_reason_does_not_excuse_a_number_that_cannot_be_an_id(
    services: AppServices, clerk: Actor, id_number: str, what: str
) -> None:
    before = snapshot(services)

    with pytest.raises(ValidationFailed) as caught:
        services.intake.register(clerk, person_form(id_number=id_number, id_override_reason="test"))

    message = caught.value.errors["id_number"]
    assert what in message
    assert "不能凭确认理由保存" in message
    assert snapshot(services) == before


@pytest.mark.parametrize(
    ("credit_code", "what"),
    [
        (wrong_check(VALID_CREDIT_CODE), "校验位"),  # a typing error the check character caught
        ("94410221M000100Y4J", "机构类别代码"),  # 工商 registers no category 4
        ("9141A221M000100Y4P", "行政区划码"),
    ],
)
def test_a_reason_excuses_only_the_organization_codes_check_digit(
    services: AppServices, clerk: Actor, credit_code: str, what: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.intake.register(
            clerk, enterprise_form(credit_code=credit_code, id_override_reason="核对无误")
        )
    assert what in caught.value.errors["credit_code"]
    assert "不能凭确认理由保存" in caught.value.errors["credit_code"]
    assert services.ledger.count() == 0


def test_a_reason_does_not_excuse_a_credit_code_of_the_wrong_length(
    services: AppServices, clerk: Actor
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.intake.register(
            clerk, enterprise_form(credit_code="91350100M0001", id_override_reason="核对无误")
        )
    assert "18位" in caught.value.errors["credit_code"]
    assert "不能凭确认理由保存" in caught.value.errors["credit_code"]
    assert services.ledger.count() == 0


def test_batch_intake_applies_the_same_override_rule(services: AppServices, clerk: Actor) -> None:
    forms = [
        person_form(id_number=wrong_check(VALID_ID), id_override_reason="旧证，核对原件无误"),
        person_form(id_number="123456", id_override_reason="test", name="赵磊"),
    ]

    with pytest.raises(BatchValidationFailed) as caught:
        services.intake.register_many(clerk, forms)

    assert [(e.row, e.field) for e in caught.value.row_errors] == [(2, "id_number")]
    assert services.ledger.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("name", "", "name"),
        ("name", "   ", "name"),
        ("phone", "", "phone"),
        ("title", "", "title"),
        ("description", "  ", "description"),
        ("area", "", "area"),
        ("title", "长" * 201, "title"),
        ("visits_count", 0, "visits_count"),
    ],
)
def test_missing_or_bad_field_names_that_field_in_chinese(
    services: AppServices, clerk: Actor, field: str, value: object, key: str
) -> None:
    before = snapshot(services)

    with pytest.raises(ValidationFailed) as caught:
        services.intake.register(clerk, person_form(**{field: value}))

    assert list(caught.value.errors) == [key]
    assert CJK.search(caught.value.errors[key])
    assert CJK.search(caught.value.message)
    assert snapshot(services) == before


def test_all_problems_are_reported_at_once(services: AppServices, clerk: Actor) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.intake.register(clerk, person_form(name="", title="", phone="12345"))
    assert set(caught.value.errors) == {"name", "title", "phone"}


def test_enterprise_needs_a_contact_person(services: AppServices, clerk: Actor) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.intake.register(clerk, enterprise_form(contact_person=""))
    assert caught.value.errors == {"contact_person": "请填写企业联系人"}

    with pytest.raises(ValidationFailed) as caught:
        services.intake.register(clerk, enterprise_form(name=""))
    assert caught.value.errors == {"name": "请填写企业名称"}
    assert services.ledger.count() == 0


@pytest.mark.parametrize("phone", ["12345", "1381234567", "abc", "23812345678"])
def test_bad_phone_is_refused(services: AppServices, clerk: Actor, phone: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.intake.register(clerk, person_form(phone=phone))
    assert set(caught.value.errors) == {"phone"}
    assert CJK.search(caught.value.errors["phone"])
    assert services.ledger.count() == 0


def test_free_text_keeps_its_chinese_punctuation(services: AppServices, clerk: Actor) -> None:
    """What the clerk typed is what the slip prints: full-width ，（）：？ stay full-width."""
    title = "不动产登记（二手房过户）为何要求补交材料？"
    stuck_at = "县不动产登记中心：综合窗口"
    reason = "老身份证，公安户籍系统中核实无误"

    result = services.intake.register(
        clerk,
        person_form(
            title=title,
            stuck_at=stuck_at,
            id_number=wrong_check(VALID_ID),
            id_override_reason=reason,
        ),
    )

    detail = services.cases.detail(result.case_id)
    assert (detail.title, detail.stuck_at, detail.id_override_reason) == (title, stuck_at, reason)


def test_phone_typed_with_spaces_is_saved_tidied(services: AppServices, clerk: Actor) -> None:
    result = services.intake.register(clerk, person_form(phone="138 1234 5678"))
    # The screen shows it masked; the full number through the audited reveal.
    assert services.cases.detail(result.case_id).phone == "138****5678"
    assert services.cases.reveal_numbers(clerk, result.case_id).phone == "13812345678"


def test_received_at_cannot_be_in_the_future(services: AppServices, clerk: Actor) -> None:
    tomorrow = datetime(2026, 11, 26, 8, 0)
    with pytest.raises(ValidationFailed) as caught:
        services.intake.register(clerk, person_form(received_at=tomorrow))
    assert caught.value.errors == {"received_at": "反映时间不能晚于今天"}
    assert services.ledger.count() == 0

    earlier = datetime(2026, 11, 20, 15, 45)
    result = services.intake.register(clerk, person_form(received_at=earlier))
    assert services.cases.detail(result.case_id).received_at == earlier


def test_unknown_area_is_refused(services: AppServices, clerk: Actor) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.intake.register(clerk, person_form(area="星际旅行"))
    assert set(caught.value.errors) == {"area"}
    assert "星际旅行" in caught.value.errors["area"]
    assert services.ledger.count() == 0


def test_unknown_stuck_department_is_refused(services: AppServices, clerk: Actor) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.intake.register(clerk, person_form(stuck_department_id=9999))
    assert set(caught.value.errors) == {"stuck_department_id"}

    department = services.site.departments()[0]
    result = services.intake.register(clerk, person_form(stuck_department_id=department.id))
    assert services.cases.detail(result.case_id).stuck_department == department.name


def test_auditor_cannot_register(services: AppServices, auditor: Actor) -> None:
    from desktop_app.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.intake.register(auditor, person_form())
    assert services.ledger.count() == 0


# Materials ------------------------------------------------------------------------------------


def test_attachments_are_stored_once_by_sha256_and_listed(
    services: AppServices, clerk: Actor, tmp_path: Path
) -> None:
    content = "医保结算单扫描件 %PDF-1.4 …".encode() * 100
    scan = tmp_path / "结算单.pdf"
    copy = tmp_path / "结算单（复印件）.pdf"
    photo = tmp_path / "photo.jpg"
    scan.write_bytes(content)
    copy.write_bytes(content)
    photo.write_bytes(b"\xff\xd8\xff jpeg bytes")
    sha = hashlib.sha256(content).hexdigest()

    result = services.intake.register(clerk, person_form(attachments=(scan, copy, photo)))

    detail = services.cases.detail(result.case_id)
    assert [a.filename for a in detail.attachments] == [
        "结算单.pdf",
        "结算单（复印件）.pdf",
        "photo.jpg",
    ]
    assert detail.attachments[0].sha256 == detail.attachments[1].sha256 == sha
    assert detail.attachments[0].size == len(content)
    assert detail.attachments[0].path.read_bytes() == content
    assert detail.attachments[0].path.is_relative_to(services.layout.root)
    stored = [p for p in services.layout.attachments.rglob("*") if p.is_file()]
    assert sorted(p.name for p in stored) == sorted(
        [sha, hashlib.sha256(photo.read_bytes()).hexdigest()]
    )
    assert [e.label for e in detail.timeline].count("添加材料") == 3
    # The originals can go away (a USB stick pulled): the stored copies stay.
    scan.unlink()
    assert detail.attachments[0].path.read_bytes() == content
    assert services.maintenance.check().ok


def test_missing_attachment_file_is_an_error_and_nothing_saved(
    services: AppServices, clerk: Actor, tmp_path: Path
) -> None:
    before = snapshot(services)
    missing = tmp_path / "不存在的材料.pdf"

    with pytest.raises(ValidationFailed) as caught:
        services.intake.register(clerk, person_form(attachments=(missing,)))

    assert set(caught.value.errors) == {"attachments"}
    assert "不存在的材料.pdf" in caught.value.errors["attachments"]
    assert snapshot(services) == before
    assert not [p for p in services.layout.attachments.rglob("*") if p.is_file()]


# Related cases and repeat visits --------------------------------------------------------------


def test_related_cases_by_id_number_open_first(services: AppServices, clerk: Actor) -> None:
    older_open = services.intake.register(
        clerk, person_form(received_at=datetime(2026, 11, 2, 9, 0), title="医保卡挂失")
    )
    newer_closed = services.intake.register(
        clerk, person_form(received_at=datetime(2026, 11, 20, 9, 0), title="医保报销")
    )
    conclude(services, clerk, newer_closed.case_id)
    services.intake.register(clerk, person_form(id_number=OTHER_ID, phone="13900001111"))

    related = services.intake.related_cases(person_form(phone="13700000000"))

    assert [r.id for r in related] == [older_open.case_id, newer_closed.case_id]
    assert [r.is_open for r in related] == [True, False]
    assert related[0].number == older_open.number
    assert related[1].status is CaseStatus.CONCLUDED
    assert {r.matched_by for r in related} == {"身份证号"}


def test_related_cases_by_phone_and_by_credit_code(services: AppServices, clerk: Actor) -> None:
    person = services.intake.register(clerk, person_form())
    company = services.intake.register(clerk, enterprise_form())

    by_phone = services.intake.related_cases(person_form(id_number=OTHER_ID, name="王芳芳"))
    assert [(r.id, r.matched_by) for r in by_phone] == [(person.case_id, "联系电话")]

    by_code = services.intake.related_cases(enterprise_form(phone="13600000000"))
    assert [(r.id, r.matched_by) for r in by_code] == [(company.case_id, "统一社会信用代码")]

    stranger = person_form(id_number=OTHER_ID, phone="13600000000")
    assert services.intake.related_cases(stranger) == []


def test_repeat_visit_on_an_open_case_counts_up_without_a_new_number(
    services: AppServices, clerk: Actor
) -> None:
    first = services.intake.register(clerk, person_form(visits_count=2))
    sequences = count_rows(services, "number_sequences")

    again = services.intake.register(
        clerk, person_form(visits_count=1, title="又来问医保结算", repeat_of_case_id=first.case_id)
    )

    assert again.repeat_visit
    assert (again.case_id, again.number) == (first.case_id, "杞县-2026-0001")
    assert services.ledger.count() == 1
    assert count_rows(services, "number_sequences") == sequences
    detail = services.cases.detail(first.case_id)
    assert detail.visits_count == 3
    assert detail.status is CaseStatus.REGISTERED
    assert [e.label for e in detail.timeline] == ["受理登记", "再次来访"]
    assert "又来问医保结算" in detail.timeline[-1].summary
    actions = [e["action"] for e in audit_entries(services, detail.uuid)]
    assert actions == ["register", "repeat_visit"]
    # The next new matter still gets the next number.
    assert services.intake.register(clerk, enterprise_form()).number == "杞县-2026-0002"


@pytest.mark.parametrize("visited", [False, True])
def test_repeat_of_a_closed_case_is_a_new_linked_case(
    services: AppServices, clerk: Actor, visited: bool
) -> None:
    first = services.intake.register(clerk, person_form(visits_count=3))
    conclude(services, clerk, first.case_id)
    if visited:
        services.cases.record_visit(clerk, first.case_id, grade=VisitGrade.SATISFIED)

    again = services.intake.register(
        clerk, person_form(visits_count=1, repeat_of_case_id=first.case_id)
    )

    assert not again.repeat_visit
    assert again.number == "杞县-2026-0002"
    detail = services.cases.detail(again.case_id)
    assert detail.visits_count == 4
    assert detail.linked_case_number == "杞县-2026-0001"
    assert detail.status is CaseStatus.REGISTERED
    assert "杞县-2026-0001" in detail.timeline[0].summary
    earlier = services.cases.detail(first.case_id)
    assert earlier.status is (CaseStatus.VISITED if visited else CaseStatus.CONCLUDED)
    assert earlier.visits_count == 3


def test_repeat_of_a_missing_case_saves_nothing(services: AppServices, clerk: Actor) -> None:
    before = snapshot(services)
    with pytest.raises(UserError, match="原事项不存在"):
        services.intake.register(clerk, person_form(repeat_of_case_id=4242))
    assert snapshot(services) == before


def test_same_id_number_or_credit_code_reuses_the_complainant(
    services: AppServices, clerk: Actor
) -> None:
    services.intake.register(clerk, person_form())
    services.intake.register(clerk, person_form(title="另一件事", phone="13900001111"))
    services.intake.register(clerk, enterprise_form())
    services.intake.register(clerk, enterprise_form(title="又一件事"))

    assert count_rows(services, "complainants") == 2
    ids = services.ledger.ids(CaseFilter(text="王芳"))
    assert len(ids) == 2
    # The complainant's newest phone number is what the window calls back.
    assert {services.cases.reveal_numbers(clerk, i).phone for i in ids} == {"13900001111"}


def test_the_same_id_with_another_name_is_refused_not_a_silent_rename(
    services: AppServices, clerk: Actor
) -> None:
    """One of the two names is mistyped: the person's record changes only through 更正."""
    first = services.intake.register(clerk, person_form()).case_id
    before = snapshot(services)
    with pytest.raises(ValidationFailed) as refused:
        services.intake.register(
            clerk, person_form(name="王方", id_number=VALID_ID, title="另一件事")
        )
    assert "王芳" in refused.value.errors["name"] and "更正" in refused.value.errors["name"]
    assert "id_number" in refused.value.errors
    assert snapshot(services) == before
    assert services.cases.detail(first).complainant_name == "王芳"


def complainant_uuid(services: AppServices, id_number: str) -> str:
    with services.db.read() as session:
        wanted = services.sealer.lookup("id", id_number)
        uuid = session.scalar(select(Complainant.uuid).where(Complainant.id_lookup == wanted))
    assert uuid is not None
    return uuid


def test_the_form_finds_the_known_name_before_saving(services: AppServices, clerk: Actor) -> None:
    """Issue 14 item 13: the form shows the existing record and asks before anything is saved."""
    services.intake.register(clerk, person_form(phone="13700001111", address="杞县城关镇"))
    form = person_form(name="王方", id_number=VALID_ID, title="另一件事")

    conflict = services.intake.name_conflict(form)

    assert conflict is not None
    assert (conflict.name, conflict.typed_name, conflict.matched_by) == ("王芳", "王方", "身份证号")
    assert (conflict.phone, conflict.address, conflict.case_count) == (
        "137****1111",  # masked: typing someone's ID must not show their number
        "杞县城关镇",
        1,
    )
    assert services.intake.name_conflict(person_form(title="另一件事")) is None
    assert services.intake.name_conflict(person_form(name="赵磊")) is None
    _clean, errors = services.intake.check(form)
    assert "王芳" in errors["name"] and "更名" in errors["name"]


def test_the_same_person_renamed_with_a_reason_is_renamed_on_every_case_and_audited(
    services: AppServices, clerk: Actor
) -> None:
    first = services.intake.register(clerk, person_form()).case_id
    reason = "本人已于2026年3月经公安机关核准更名，核对户口簿"

    second = services.intake.register(
        clerk,
        person_form(name="王方", id_number=VALID_ID, title="另一件事", confirm_name_change=reason),
    ).case_id

    assert count_rows(services, "complainants") == 1
    assert services.cases.detail(first).complainant_name == "王方"
    assert services.cases.detail(second).complainant_name == "王方"
    renames = [
        e
        for e in audit_entries(services, complainant_uuid(services, VALID_ID))
        if e["action"] == "rename"
    ]
    assert len(renames) == 1
    assert renames[0]["before"] == {"name": "王芳"}
    assert renames[0]["after"]["name"] == "王方" and renames[0]["after"]["reason"] == reason
    timeline = services.cases.detail(first).timeline
    assert timeline[-1].label == "更正" and reason in timeline[-1].summary
    assert set(services.ledger.ids(CaseFilter(text="王方"))) == {first, second}


def test_a_returning_complainants_new_phone_finds_all_their_cases_by_its_last_four(
    services: AppServices, clerk: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The search text of every case of theirs is rebuilt, a chunk of cases per statement
    (two cases here, so that five take three): the old last four find none of them
    afterwards, the new ones every one. A new number with the same last four rebuilds none."""
    monkeypatch.setattr(search, "REINDEX_CHUNK", 2)
    earlier = [
        services.intake.register(clerk, person_form(title=f"第{n}件事")).case_id for n in range(5)
    ]
    other = services.intake.register(clerk, person_form(name="赵磊", phone="13900005678")).case_id
    assert set(services.ledger.ids(CaseFilter(text="5678"))) == {*earlier, other}
    deletes: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.startswith("DELETE FROM case_search"):
            deletes.append(statement)

    event.listen(services.db.engine, "before_cursor_execute", seen)
    try:
        latest = services.intake.register(clerk, person_form(phone="13700004321")).case_id
        rebuilt = len(deletes)
        again = services.intake.register(clerk, person_form(phone="13655554321")).case_id
    finally:
        event.remove(services.db.engine, "before_cursor_execute", seen)

    assert rebuilt == 3 + 1  # the five earlier cases two at a time, then the new case's own
    assert len(deletes) == rebuilt + 1  # the same last four: the new case's own row alone
    assert set(services.ledger.ids(CaseFilter(text="4321"))) == {*earlier, latest, again}
    assert set(services.ledger.ids(CaseFilter(text="5678"))) == {other}
    assert set(services.ledger.ids(CaseFilter(text="王芳"))) == {*earlier, latest, again}


def test_a_batch_row_with_a_known_id_and_another_name_is_refused_by_row(
    services: AppServices, clerk: Actor
) -> None:
    """Issue 14 item 13: a batch row never renames the complainant of earlier cases."""
    first = services.intake.register(clerk, person_form()).case_id
    before = snapshot(services)
    forms = [
        person_form(name="赵磊", title="另一件事"),
        person_form(name="王方", id_number=VALID_ID, title="又一件事"),
    ]

    with pytest.raises(BatchValidationFailed) as caught:
        services.intake.register_many(clerk, forms)

    assert [(e.row, e.field) for e in caught.value.row_errors] == [(2, "name")]
    message = caught.value.row_errors[0].message
    assert "王芳" in message and "confirm_name_change" in message
    assert snapshot(services) == before
    assert services.cases.detail(first).complainant_name == "王芳"

    forms[1] = replace(forms[1], confirm_name_change="经核对户口簿，系同一人更名")
    services.intake.register_many(clerk, forms)
    assert services.cases.detail(first).complainant_name == "王方"


def test_two_rows_of_one_batch_with_one_id_and_two_names_are_refused(
    services: AppServices, clerk: Actor
) -> None:
    forms = [person_form(), person_form(name="王方", id_number=VALID_ID, title="又一件事")]
    with pytest.raises(BatchValidationFailed) as caught:
        services.intake.register_many(clerk, forms)
    assert [(e.row, e.field) for e in caught.value.row_errors] == [(2, "name")]
    assert "第1行" in caught.value.row_errors[0].message
    assert services.ledger.count() == 0


def test_a_batch_row_is_told_to_give_id_override_reason(
    services: AppServices, clerk: Actor
) -> None:
    """Issue 14 item 15: the message names what a batch row can give, not the form's field."""
    with pytest.raises(BatchValidationFailed) as caught:
        services.intake.register_many(clerk, [person_form(id_number=wrong_check(VALID_ID))])
    assert "id_override_reason" in caught.value.row_errors[0].message


def test_a_reason_typed_for_a_number_since_put_right_is_not_kept(
    services: AppServices, clerk: Actor
) -> None:
    case_id = services.intake.register(clerk, person_form(id_override_reason="旧证")).case_id
    assert services.cases.detail(case_id).id_override_reason == ""


def test_different_people_are_different_complainants(services: AppServices, clerk: Actor) -> None:
    services.intake.register(clerk, person_form())
    services.intake.register(clerk, person_form(id_number=OTHER_ID, name="赵磊"))
    assert count_rows(services, "complainants") == 2


# Batch intake ---------------------------------------------------------------------------------


def test_register_many_saves_every_row_in_order(services: AppServices, clerk: Actor) -> None:
    forms = [
        person_form(),
        enterprise_form(),
        person_form(id_number=OTHER_ID, name="赵磊", phone="13900001111"),
    ]

    results = services.intake.register_many(clerk, forms)

    assert [r.number for r in results] == [f"杞县-2026-000{i}" for i in (1, 2, 3)]
    assert services.ledger.count() == 3


def test_register_many_is_all_or_nothing_and_names_the_row(
    services: AppServices, clerk: Actor
) -> None:
    before = snapshot(services)
    forms = [
        person_form(),
        person_form(id_number=wrong_check(VALID_ID), name="赵磊"),
        enterprise_form(),
        enterprise_form(contact_person="", phone=""),
    ]

    with pytest.raises(BatchValidationFailed) as caught:
        services.intake.register_many(clerk, forms)

    errors = caught.value.row_errors
    assert [(e.row, e.field) for e in errors] == [
        (2, "id_number"),
        (4, "contact_person"),
        (4, "phone"),
    ]
    assert "第2行 身份证号：" in caught.value.message
    assert "第4行 联系人：" in caught.value.message
    assert "未导入任何记录" in caught.value.message
    assert snapshot(services) == before
    # The good rows save with the first numbers once the bad ones are fixed.
    forms[1] = person_form(id_number=OTHER_ID, name="赵磊")
    forms[3] = enterprise_form(credit_code="", name="杞县兴农合作社")
    results = services.intake.register_many(clerk, forms)
    assert [r.number for r in results] == [f"杞县-2026-000{i}" for i in (1, 2, 3, 4)]


def test_register_many_with_no_rows_is_an_error(services: AppServices, clerk: Actor) -> None:
    with pytest.raises(UserError, match="没有可导入的记录"):
        services.intake.register_many(clerk, [])
