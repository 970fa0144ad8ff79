"""更正 of who is complained about (被反映对象): named after intake, audited, on the timeline,
and what a 问责 referral proposed from the case then reads (seed 002: the clerk who would not
help came out at the 现场督办)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from desktop_app.domain.vocabulary import Approach, Cause, Conduct, Nature
from desktop_app.errors import PermissionDenied, ValidationFailed
from desktop_app.services.app import AppServices
from desktop_app.services.cases import OnsiteVisit, Triage
from desktop_app.services.context import Actor, FixedClock
from desktop_app.services.corrections import CorrectionForm
from tests.helpers.db import audit_count, audit_entries
from tests.helpers.factories import person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401

TRIAGE = Triage(Nature.HARD, Approach.PUSH, (Cause.POLICY,), "医保社保")


def corrected(
    services: AppServices, case_id: int, reason: str = "现场督办时查明", **changes: Any
) -> CorrectionForm:
    form = services.corrections.current(case_id)
    return CorrectionForm(replace(form.case, **changes), form.complainant, reason)


def test_the_respondent_learnt_at_the_onsite_visit_is_corrected_and_referred(
    services: AppServices, clerk: Actor, leader: Actor, clock: FixedClock
) -> None:
    # 李先生 came for his niece; who refused them was not known at intake.
    case_id = services.intake.register(clerk, person_form()).case_id
    services.cases.triage(clerk, case_id, TRIAGE)
    department = services.site.departments()[0]
    services.cases.record_onsite(
        leader,
        case_id,
        OnsiteVisit(
            "潘险峰",
            clock.now() - timedelta(hours=1),
            department.id,
            "县医保局服务窗口",
            "查明县人民医院结算窗口工作人员刘某未切换参保信息",
        ),
    )
    assert services.referrals.prefill(leader, case_id).person_name == ""

    result = services.corrections.correct(
        clerk,
        case_id,
        corrected(
            services,
            case_id,
            respondent_name="刘某",
            respondent_post="医保结算窗口工作人员",
            respondent_unit="县人民医院",
            respondent_conduct=(Conduct.SHIRK.value, Conduct.INDIFFERENT.value),
        ),
    )

    assert result.corrected["respondent_name"] == ("", "刘某")
    assert result.corrected["respondent_conduct"] == ("", "推诿扯皮、态度冷漠")
    detail = services.cases.detail(case_id)
    assert ("被反映对象", "刘某 · 医保结算窗口工作人员 · 县人民医院；推诿扯皮、态度冷漠") in (
        detail.front_door
    )
    entry = detail.timeline[-1]
    assert entry.label == "更正"
    assert "被反映人姓名：（空）→刘某" in entry.summary
    assert "被反映问题：（空）→推诿扯皮、态度冷漠" in entry.summary
    assert "现场督办时查明" in entry.summary
    # Audited with before and after, the codes as stored.
    case_uuid = detail.uuid
    audited = audit_entries(services, case_uuid)[-1]
    assert audited["action"] == "correct" and audited["user_name"] == "clerk1"
    assert audited["before"] == {
        "respondent_name": "",
        "respondent_post": "",
        "respondent_unit": "",
        "respondent_conduct": [],
    }
    assert audited["after"]["respondent_name"] == "刘某"
    assert audited["after"]["respondent_conduct"] == ["shirk", "indifferent"]
    # The 问责 referral proposed from the case reads the corrected respondent.
    proposal = services.referrals.prefill(leader, case_id)
    assert (proposal.person_name, proposal.person_post, proposal.person_unit) == (
        "刘某",
        "医保结算窗口工作人员",
        "县人民医院",
    )
    assert set(proposal.conduct) == {Conduct.SHIRK, Conduct.INDIFFERENT}
    assert not services.maintenance.check().problems


def test_a_respondent_named_at_intake_is_put_right_and_the_same_boxes_are_no_change(
    services: AppServices, clerk: Actor
) -> None:
    case_id = services.intake.register(
        clerk,
        person_form(
            respondent_name="李某",
            respondent_unit="县医保局",
            respondent_conduct=("shirk", "wont"),
        ),
    ).case_id
    # The same boxes ticked in another order change nothing.
    with pytest.raises(ValidationFailed) as raised:
        services.corrections.correct(
            clerk, case_id, corrected(services, case_id, respondent_conduct=("wont", "shirk"))
        )
    assert raised.value.errors == {"form": "没有改动任何内容，无需更正"}

    services.corrections.correct(
        clerk,
        case_id,
        corrected(services, case_id, "姓名录错", respondent_name="李某某", respondent_conduct=()),
    )
    detail = services.cases.detail(case_id)
    assert ("被反映对象", "李某某 · 县医保局") in detail.front_door
    assert "被反映问题：不给办、推诿扯皮→（空）" in detail.timeline[-1].summary


def test_a_respondent_too_long_or_an_unknown_conduct_is_refused_and_nothing_changes(
    services: AppServices, clerk: Actor
) -> None:
    case_id = services.intake.register(clerk, person_form()).case_id
    entries = audit_count(services)
    with pytest.raises(ValidationFailed) as raised:
        services.corrections.correct(
            clerk,
            case_id,
            corrected(services, case_id, respondent_name="刘" * 41, respondent_conduct=("rude",)),
        )
    assert raised.value.errors["respondent_name"] == "被反映人姓名最多40字"
    assert "不是有效的问题类型" in raised.value.errors["respondent_conduct"]
    assert audit_count(services) == entries
    assert services.corrections.current(case_id).case.respondent_name == ""


def test_a_role_that_may_not_correct_cannot_name_the_respondent(
    services: AppServices, clerk: Actor, auditor: Actor
) -> None:
    case_id = services.intake.register(clerk, person_form()).case_id
    with pytest.raises(PermissionDenied) as raised:
        services.corrections.correct(
            auditor, case_id, corrected(services, case_id, respondent_name="刘某")
        )
    assert "无权" in str(raised.value)
    assert services.corrections.current(case_id).case.respondent_name == ""
