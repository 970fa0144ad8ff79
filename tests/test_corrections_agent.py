"""更正 of who came for the person (代办人): linked as intake links one (the same record when
ID and name match, else a new one), numbers sealed and never in clear on the timeline or the
audit log, removable, and refused for a role that may not correct (issue 16)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from desktop_app.errors import PermissionDenied, ValidationFailed
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor, FixedClock
from desktop_app.services.corrections import CorrectionForm
from desktop_app.storage.models import AuditEntry, Case, CaseEvent, Complainant
from tests.helpers.db import audit_count, audit_entries, count_rows
from tests.helpers.exchange import ADMIN, CITY, QIXIAN, open_site, trust_each_other
from tests.helpers.factories import id_for, person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401

AGENT_ID = id_for("王建国")
AGENT_PHONE = "13900001111"
NEW_PHONE = "13900002222"


def corrected(
    services: AppServices, case_id: int, reason: str = "来访时代办人登记有误", **changes: Any
) -> CorrectionForm:
    form = services.corrections.current(case_id)
    return CorrectionForm(replace(form.case, **changes), form.complainant, reason)


def agent_of(services: AppServices, case_id: int) -> tuple[int | None, str]:
    with services.db.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.agent_id, case.agent_relation


def stored_text(services: AppServices) -> str:
    """Everything the audit log and the timelines hold, as one text to search for numbers."""
    with services.db.read() as session:
        audited = [
            json.dumps([e.before, e.after], ensure_ascii=False, default=str)
            for e in session.scalars(select(AuditEntry))
        ]
        events = [
            e.summary + json.dumps(e.data, ensure_ascii=False, default=str)
            for e in session.scalars(select(CaseEvent))
        ]
    return "\n".join(audited + events)


def test_an_agent_learnt_after_intake_is_added_sealed_and_masked(
    services: AppServices, clerk: Actor
) -> None:
    case_id = services.intake.register(clerk, person_form()).case_id
    assert services.corrections.current(case_id).case.agent_name == ""

    result = services.corrections.correct(
        clerk,
        case_id,
        corrected(
            services,
            case_id,
            agent_name="王建国",
            agent_phone=AGENT_PHONE,
            agent_id_number=AGENT_ID,
            agent_relation="舅舅",
        ),
    )

    assert result.corrected["agent_name"] == ("", "王建国")
    assert result.corrected["agent_phone"] == ("", "139****1111")
    detail = services.cases.detail(case_id)
    rows = dict(detail.front_door)
    assert rows["代办人"].startswith("王建国（与反映人关系：舅舅，电话 139****1111")
    summary = detail.timeline[-1].summary
    assert detail.timeline[-1].label == "更正"
    assert "代办人姓名：（空）→王建国" in summary and "代办人电话：（空）→139****1111" in summary
    with services.db.read() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.agent is not None
        assert case.agent.id != case.complainant_id
        assert AGENT_ID not in str(case.agent.id_number_sealed)  # sealed as intake seals
        assert services.sealer.id_number(case.agent) == AGENT_ID
        assert services.sealer.phone(case.agent) == AGENT_PHONE
        agent_uuid = case.agent.uuid
    audited = audit_entries(services, detail.uuid)[-1]
    assert audited["action"] == "correct" and audited["user_name"] == "clerk1"
    assert audited["before"] == {
        "agent_name": "",
        "agent_phone": "",
        "agent_id_number": "",
        "agent_relation": "",
        "agent": None,
    }
    assert audited["after"]["agent"] == agent_uuid
    assert audited["after"]["agent_phone"] == "139****1111"
    # The new record's creation is audited as intake audits it (role agent, numbers masked).
    assert audit_entries(services, agent_uuid)[0]["after"]["role"] == "agent"
    assert AGENT_ID not in stored_text(services) and AGENT_PHONE not in stored_text(services)
    # The one correcting sees the numbers in full.
    assert services.corrections.current(case_id).case.agent_id_number == AGENT_ID
    assert not services.maintenance.check().problems


def test_the_same_agent_known_by_id_and_name_is_the_same_record(
    services: AppServices, clerk: Actor
) -> None:
    agent = {"agent_name": "王建国", "agent_id_number": AGENT_ID, "agent_phone": AGENT_PHONE}
    first = services.intake.register(clerk, person_form(**agent)).case_id
    second = services.intake.register(clerk, person_form(name="李娜", title="另一件事")).case_id
    records = count_rows(services, "complainants")

    services.corrections.correct(
        clerk, second, corrected(services, second, agent_relation="邻居", **agent)
    )

    assert agent_of(services, second) == (agent_of(services, first)[0], "邻居")
    assert count_rows(services, "complainants") == records  # no second 王建国


def test_a_corrected_agent_phone_is_written_on_their_record_masked(
    services: AppServices, clerk: Actor
) -> None:
    form = person_form(agent_name="王建国", agent_id_number=AGENT_ID, agent_phone=AGENT_PHONE)
    case_id = services.intake.register(clerk, form).case_id
    (agent_id, _) = agent_of(services, case_id)

    services.corrections.correct(
        clerk, case_id, corrected(services, case_id, "电话录错", agent_phone=NEW_PHONE)
    )

    assert agent_of(services, case_id)[0] == agent_id  # the same person, the same record
    assert services.corrections.current(case_id).case.agent_phone == NEW_PHONE
    assert (
        "代办人电话：139****1111→139****2222" in services.cases.detail(case_id).timeline[-1].summary
    )
    with services.db.read() as session:
        record = session.get(Complainant, agent_id)
        assert record is not None
        entry = audit_entries(services, record.uuid)[-1]
    assert entry["action"] == "correct"
    assert entry["before"]["phone"] == "139****1111" and entry["after"]["phone"] == "139****2222"
    text = stored_text(services)
    assert AGENT_PHONE not in text and NEW_PHONE not in text and AGENT_ID not in text
    assert not services.maintenance.check().problems


def test_another_name_or_id_is_a_new_record_and_the_relation_alone_is_the_case_s(
    services: AppServices, clerk: Actor
) -> None:
    form = person_form(agent_name="王建国", agent_id_number=AGENT_ID, agent_relation="舅舅")
    case_id = services.intake.register(clerk, form).case_id
    (first_agent, _) = agent_of(services, case_id)
    records = count_rows(services, "complainants")

    services.corrections.correct(
        clerk, case_id, corrected(services, case_id, agent_relation="委托代理人")
    )
    assert agent_of(services, case_id) == (first_agent, "委托代理人")
    assert count_rows(services, "complainants") == records

    services.corrections.correct(
        clerk,
        case_id,
        corrected(
            services, case_id, "来的是表哥", agent_name="王建军", agent_id_number=id_for("王建军")
        ),
    )
    (second_agent, relation) = agent_of(services, case_id)
    assert second_agent != first_agent and relation == "委托代理人"
    assert count_rows(services, "complainants") == records + 1
    with services.db.read() as session:  # the first record is not renamed
        first = session.get(Complainant, first_agent)
        assert first is not None and first.name == "王建国"
    assert services.corrections.current(case_id).case.agent_name == "王建军"


def test_the_agent_is_removed_by_clearing_every_box(services: AppServices, clerk: Actor) -> None:
    form = person_form(agent_name="王建国", agent_phone=AGENT_PHONE, agent_relation="舅舅")
    case_id = services.intake.register(clerk, form).case_id

    services.corrections.correct(
        clerk,
        case_id,
        corrected(
            services,
            case_id,
            "本人来访，并无代办人",
            agent_name="",
            agent_phone="",
            agent_id_number="",
            agent_relation="",
        ),
    )

    assert agent_of(services, case_id) == (None, "")
    detail = services.cases.detail(case_id)
    assert "代办人" not in dict(detail.front_door)
    assert "代办人姓名：王建国→（空）" in detail.timeline[-1].summary
    assert "代办人电话：139****1111→（空）" in detail.timeline[-1].summary
    assert audit_entries(services, detail.uuid)[-1]["after"]["agent"] is None
    assert AGENT_PHONE not in stored_text(services)
    assert not services.maintenance.check().problems


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"agent_relation": "舅舅"}, "agent_name", "填写了代办人信息，请同时填写代办人姓名"),
        ({"agent_name": "王建国", "agent_phone": "1390000"}, "agent_phone", "电话"),
        ({"agent_name": "王建国", "agent_id_number": "410221198501011234"}, "agent_id_number", ""),
    ],
)
def test_a_wrong_agent_is_told_beside_its_box_and_nothing_changes(
    services: AppServices, clerk: Actor, changes: dict[str, Any], field: str, message: str
) -> None:
    case_id = services.intake.register(clerk, person_form()).case_id
    entries, records = audit_count(services), count_rows(services, "complainants")
    with pytest.raises(ValidationFailed) as raised:
        services.corrections.correct(clerk, case_id, corrected(services, case_id, **changes))
    assert message in raised.value.errors[field]
    assert (audit_count(services), count_rows(services, "complainants")) == (entries, records)
    assert agent_of(services, case_id) == (None, "")


def test_a_role_that_may_not_correct_cannot_name_an_agent(
    services: AppServices, clerk: Actor, auditor: Actor
) -> None:
    case_id = services.intake.register(clerk, person_form()).case_id
    records = count_rows(services, "complainants")
    with pytest.raises(PermissionDenied) as raised:
        services.corrections.correct(
            auditor, case_id, corrected(services, case_id, agent_name="王建国")
        )
    assert "无权" in str(raised.value)
    assert agent_of(services, case_id) == (None, "")
    assert count_rows(services, "complainants") == records


def test_a_corrected_agent_travels_to_the_city(
    tmp_path: Path, clock: FixedClock, db_url: str | None
) -> None:
    with (
        open_site(tmp_path, CITY, clock, db_url=db_url) as city,
        open_site(tmp_path, QIXIAN, clock) as qixian,
    ):
        trust_each_other(qixian, city, tmp_path / "ids")
        usb = tmp_path / "U盘"
        usb.mkdir()
        form = person_form(name="钱多", agent_name="王建国", agent_phone=AGENT_PHONE)
        case_id = qixian.services.intake.register(ADMIN, form).case_id
        city.sync.import_file(ADMIN, qixian.sync.export(ADMIN, usb).path)

        qixian.services.corrections.correct(
            ADMIN,
            case_id,
            corrected(
                qixian.services,
                case_id,
                agent_name="王建军",
                agent_id_number=id_for("王建军"),
                agent_relation="表哥",
            ),
        )
        report = city.sync.import_file(ADMIN, qixian.sync.export(ADMIN, usb).path)
        assert not report.refused, report.reason

        uuid = qixian.services.cases.detail(case_id).uuid
        with city.services.db.read() as session:
            city_case = session.scalar(select(Case.id).where(Case.uuid == uuid))
        assert city_case is not None
        rows = dict(city.services.cases.detail(city_case).front_door)
        assert rows["代办人"].startswith("王建军（与反映人关系：表哥")
        assert id_for("王建军") not in rows["代办人"]
        assert not city.services.maintenance.check().problems
