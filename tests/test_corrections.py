"""更正: a case's and a complainant's fields put right, with a reason, audited, on the timeline,
found by search under the new value, sent with the next upload; issued papers stay as issued."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from desktop_app.domain.vocabulary import Approach, CaseStatus, Cause, Channel, Nature
from desktop_app.errors import PermissionDenied, ValidationFailed
from desktop_app.services.app import AppServices
from desktop_app.services.cases import Triage
from desktop_app.services.context import Actor, FixedClock
from desktop_app.services.corrections import CorrectionForm
from desktop_app.services.ledger import CaseFilter
from desktop_app.storage.models import Case, Complainant, Slip
from tests.helpers.db import audit_count, audit_entries, count_rows
from tests.helpers.exchange import ADMIN, CITY, QIXIAN, open_site, trust_each_other
from tests.helpers.factories import VALID_ID, enterprise_form, person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401

TRIAGE = Triage(Nature.HARD, Approach.PUSH, (Cause.POLICY,), "医保社保")


def corrected(
    services: AppServices, case_id: int, reason: str = "登记时录错", **changes: Any
) -> CorrectionForm:
    """The case's current form with ``changes`` (case or complainant fields) and a reason."""
    form = services.corrections.current(case_id)
    case_keys = {k: v for k, v in changes.items() if hasattr(form.case, k)}
    person_keys = {k: v for k, v in changes.items() if k not in case_keys}
    return CorrectionForm(
        replace(form.case, **case_keys), replace(form.complainant, **person_keys), reason
    )


def found(services: AppServices, text: str) -> set[int]:
    return set(services.ledger.ids(CaseFilter(text=text)))


def snapshot(services: AppServices, case_id: int) -> tuple[object, ...]:
    detail = services.cases.detail(case_id)
    with services.db.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        versions = (case.version, case.complainant.version, case.updated_at)
    return (detail, versions, audit_count(services), count_rows(services, "case_events"))


def test_a_complainants_name_is_corrected_on_every_case_and_in_search(
    services: AppServices, clerk: Actor, clock: FixedClock
) -> None:
    first = services.intake.register(clerk, person_form(name="张三")).case_id
    second = services.intake.register(
        clerk, person_form(name="张三", title="社保卡补办要求回户籍地")
    ).case_id
    assert found(services, "张三") == {first, second}
    with services.db.read() as session:
        versions_before = {c.id: c.version for c in session.scalars(select(Case))}

    # The dialog lists the other case the correction reaches.
    assert [c.id for c in services.corrections.shared_cases(second)] == [first]
    result = services.corrections.correct(
        clerk, second, corrected(services, second, "身份证上是“珊”，登记时录错", name="张珊")
    )

    assert set(result.changes.case_ids) == {first, second}
    assert result.corrected == {"name": ("张三", "张珊")}
    for case_id in (first, second):
        detail = services.cases.detail(case_id)
        assert detail.complainant_name == "张珊"
        entry = detail.timeline[-1]
        assert entry.label == "更正" and entry.user_name == "张敏"
        assert "姓名：张三→张珊" in entry.summary and "登记时录错" in entry.summary
    assert (
        services.cases.detail(first)
        .timeline[-1]
        .summary.endswith(f"（在事项 {services.cases.detail(second).number} 中更正）")
    )
    # Search finds the new name, no longer the old one.
    assert found(services, "张珊") == {first, second}
    assert found(services, "张三") == set()
    # Audited with before and after, and the reason.
    person_uuid = _complainant_uuid(services, second)
    entry = audit_entries(services, person_uuid)[-1]
    assert entry["action"] == "correct" and entry["user_name"] == "clerk1"
    assert entry["before"] == {"name": "张三"}
    assert entry["after"]["name"] == "张珊" and "录错" in entry["after"]["reason"]
    # A change for the next upload: every touched row has a new version.
    with services.db.read() as session:
        for case in session.scalars(select(Case)):
            assert case.version == versions_before[case.id] + 1
            assert case.updated_at == clock.at
    assert not services.maintenance.check().problems


def test_case_fields_are_corrected_and_audited(services: AppServices, clerk: Actor) -> None:
    case_id = services.intake.register(clerk, person_form()).case_id
    department = services.site.departments()[1]
    before = services.cases.detail(case_id)

    services.corrections.correct(
        clerk,
        case_id,
        corrected(
            services,
            case_id,
            "当事人补充说明，受阻在不动产登记中心",
            title="不动产登记证补办被要求回原籍",
            area="不动产登记",
            channel=Channel.PHONE,
            stuck_department_id=department.id,
            stuck_at="不动产登记中心二楼窗口",
        ),
    )

    detail = services.cases.detail(case_id)
    assert detail.title == "不动产登记证补办被要求回原籍"
    assert detail.area == "不动产登记" and detail.channel is Channel.PHONE
    assert detail.stuck_department == department.name
    assert detail.status is before.status and detail.complainant_name == before.complainant_name
    summary = detail.timeline[-1].summary
    assert summary.startswith("更正事项信息：")
    assert "来源渠道：窗口来访→电话" in summary and f"受阻部门：（空）→{department.name}" in summary
    assert found(services, "回原籍") == {case_id}
    assert found(services, "结算窗口") == set()  # the old 受阻环节
    entry = audit_entries(services, detail.uuid)[-1]
    assert entry["action"] == "correct"
    assert entry["before"]["title"] == before.title and entry["before"]["channel"] == "window"
    assert entry["after"]["channel"] == "phone"
    assert entry["after"]["stuck_department_id"] == department.id


def test_a_bad_id_or_a_missing_reason_changes_nothing(services: AppServices, clerk: Actor) -> None:
    case_id = services.intake.register(clerk, person_form()).case_id
    before = snapshot(services, case_id)

    with pytest.raises(ValidationFailed) as refused:
        services.corrections.correct(
            clerk, case_id, corrected(services, case_id, id_number="110105194912310021")
        )
    assert "校验" in refused.value.errors["id_number"]
    with pytest.raises(ValidationFailed) as refused:
        services.corrections.correct(
            clerk, case_id, corrected(services, case_id, reason=" ", name="王方")
        )
    assert refused.value.errors == {"reason": "请填写更正原因（如：登记时姓名录错）"}
    with pytest.raises(ValidationFailed) as refused:
        services.corrections.correct(clerk, case_id, corrected(services, case_id, phone="12345"))
    assert "phone" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        services.corrections.correct(clerk, case_id, corrected(services, case_id, area=""))
    assert refused.value.errors["area"] == "请选择领域"
    with pytest.raises(ValidationFailed) as refused:
        services.corrections.correct(clerk, case_id, corrected(services, case_id))
    assert "没有改动" in refused.value.errors["form"]

    assert snapshot(services, case_id) == before


def test_a_wrong_check_digit_needs_a_reason_as_at_intake(
    services: AppServices, clerk: Actor
) -> None:
    case_id = services.intake.register(clerk, person_form(id_number="")).case_id
    old_card = "110105194912310021"  # right length and date, wrong check digit
    with pytest.raises(ValidationFailed):
        services.corrections.correct(
            clerk, case_id, corrected(services, case_id, id_number=old_card)
        )

    services.corrections.correct(
        clerk,
        case_id,
        corrected(services, case_id, id_number=old_card, id_override_reason="旧版证件，已核对原件"),
    )
    detail = services.cases.detail(case_id)
    assert detail.id_number_masked == "110105********0021"
    assert detail.id_override_reason == "旧版证件，已核对原件"
    # The timeline shows the number masked, as everywhere else.
    assert old_card not in detail.timeline[-1].summary


def test_an_id_of_another_complainant_is_refused(services: AppServices, clerk: Actor) -> None:
    services.intake.register(clerk, person_form(name="李四", id_number=VALID_ID))
    case_id = services.intake.register(
        clerk, person_form(name="王芳", id_number="", phone="13912345678")
    ).case_id
    with pytest.raises(ValidationFailed) as refused:
        services.corrections.correct(
            clerk, case_id, corrected(services, case_id, id_number=VALID_ID)
        )
    assert "李四" in refused.value.errors["id_number"]


def test_an_enterprises_contact_and_credit_code_follow_intakes_rules(
    services: AppServices, clerk: Actor
) -> None:
    case_id = services.intake.register(clerk, enterprise_form()).case_id
    with pytest.raises(ValidationFailed) as refused:
        services.corrections.correct(
            clerk, case_id, corrected(services, case_id, contact_person="")
        )
    assert refused.value.errors == {"contact_person": "请填写企业联系人"}
    services.corrections.correct(
        clerk, case_id, corrected(services, case_id, contact_person="李刚")
    )
    assert services.cases.detail(case_id).contact_person == "李刚"


def test_a_closed_case_can_be_corrected_and_its_status_stays(
    services: AppServices, clerk: Actor
) -> None:
    case_id = services.intake.register(clerk, person_form()).case_id
    services.cases.withdraw(clerk, case_id, "当事人已自行办结")
    services.corrections.correct(clerk, case_id, corrected(services, case_id, phone="13987654321"))
    detail = services.cases.detail(case_id)
    assert detail.status is CaseStatus.WITHDRAWN and detail.phone == "139****4321"
    assert services.cases.reveal_numbers(clerk, case_id).phone == "13987654321"
    assert not services.maintenance.check().problems


def test_only_those_who_register_may_correct(
    services: AppServices, clerk: Actor, auditor: Actor
) -> None:
    case_id = services.intake.register(clerk, person_form()).case_id
    with pytest.raises(PermissionDenied):
        services.corrections.correct(auditor, case_id, corrected(services, case_id, name="王方"))
    assert services.cases.detail(case_id).complainant_name == "王芳"


def test_an_issued_slip_stays_as_issued_and_the_case_says_what_changed(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id = services.intake.register(clerk, person_form(name="张三")).case_id
    services.cases.triage(clerk, case_id, TRIAGE)
    department = services.site.departments()[0]
    ids, _ = services.assignments.create(
        clerk, case_id, department_id=department.id, requirements="请于规定时限内办理并反馈。"
    )
    number, _ = services.assignments.issue(leader, ids[0])
    assert services.corrections.printed_differences(case_id) == []
    with services.db.read() as session:
        content = dict(session.scalars(select(Slip.content)).one())

    services.corrections.correct(
        clerk, case_id, corrected(services, case_id, name="张珊", title="医保结算查不到参保记录")
    )

    assert services.corrections.printed_differences(case_id) == [
        f"交办单 {number} 签发后，反映人姓名已更正（张三→张珊），"
        # The department phones the complainant: the 交办单 prints the number in full (item 9).
        "联系人及电话已更正（张三 13812345678→张珊 13812345678），"
        "反映事项已更正（医保结算查不到参保信息→医保结算查不到参保记录）；"
        "纸面内容不变，如需可由带班领导作废后重新交办。"
    ]
    with services.db.read() as session:
        assert session.scalars(select(Slip.content)).one() == content  # the paper is as issued
    services.assignments.void(leader, ids[0], "反映人姓名更正，重新交办")
    assert services.corrections.printed_differences(case_id) == []


@pytest.mark.usefixtures("fast_password_hashing")
def test_search_finds_the_corrected_name_on_each_engine(
    site_on_engine: AppServices,
) -> None:
    services = site_on_engine
    case_id = services.intake.register(ADMIN, person_form(name="赵敏")).case_id
    services.corrections.correct(ADMIN, case_id, corrected(services, case_id, name="赵明"))
    assert found(services, "赵明") == {case_id}
    assert found(services, "赵敏") == set()


def test_a_correction_travels_to_the_city_and_the_city_cannot_make_one(
    tmp_path: Path, clock: FixedClock, db_url: str | None
) -> None:
    with (
        open_site(tmp_path, CITY, clock, db_url=db_url) as city,
        open_site(tmp_path, QIXIAN, clock) as qixian,
    ):
        trust_each_other(qixian, city, tmp_path / "ids")
        usb = tmp_path / "U盘"
        usb.mkdir()
        case_id = qixian.services.intake.register(ADMIN, person_form(name="钱多")).case_id
        city.sync.import_file(ADMIN, qixian.sync.export(ADMIN, usb).path)

        qixian.services.corrections.correct(
            ADMIN, case_id, corrected(qixian.services, case_id, name="钱朵", title="医保结算卡住")
        )
        sent = qixian.sync.export(ADMIN, usb)
        report = city.sync.import_file(ADMIN, sent.path)
        assert not report.refused, report.reason
        assert report.updated["cases"] == 1 and report.updated["complainants"] == 1
        assert report.added["case_events"] == 1

        city_case = next(iter(found(city.services, "钱朵")))
        assert found(city.services, "钱多") == set()
        detail = city.services.cases.detail(city_case)
        assert detail.title == "医保结算卡住" and detail.timeline[-1].label == "更正"
        with pytest.raises(PermissionDenied):
            city.services.corrections.correct(
                ADMIN, city_case, corrected(city.services, city_case, name="钱朵朵")
            )


def _complainant_uuid(services: AppServices, case_id: int) -> str:
    with services.db.read() as session:
        uuid = session.scalar(
            select(Complainant.uuid)
            .join(Case, Case.complainant_id == Complainant.id)
            .where(Case.id == case_id)
        )
    assert uuid is not None
    return uuid
