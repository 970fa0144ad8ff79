"""What a review of issue 16 found, each kept from coming back: over-long text refused before it
can block the county's uploads, a 移交函 that says no false thing about a department, a reopened
case owing a new reply, a withdrawal that closes its assignments, and the city changing nothing
of what a county sent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop_app.domain.assignment_flow import AssignmentState
from desktop_app.domain.vocabulary import (
    Approach,
    Conduct,
    Measure,
    Nature,
    Outcome,
    ReferralRecipient,
    ReplyMethod,
    Role,
    VisitGrade,
    VisitReason,
)
from desktop_app.errors import PermissionDenied, ValidationFailed
from desktop_app.services.app import AppServices
from desktop_app.services.cases import Triage
from desktop_app.services.classes import ClassForm
from desktop_app.services.context import Actor, FixedClock
from desktop_app.services.referrals import Proposal
from desktop_app.storage.models import Case, Referral
from tests.helpers.exchange import ADMIN, CITY, LEADER, QIXIAN, Site, open_site, trust_each_other
from tests.helpers.factories import person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401

HARD = Triage(nature=Nature.HARD, approach=Approach.PUSH, causes=("C02",), area="医保社保")
CANT = Triage(nature=Nature.CANT, approach=Approach.PUSH, causes=("C02",), area="医保社保")
DISCIPLINE = Actor(None, "jijian1", "纪检员", Role.DISCIPLINE)


def _assigned(services: AppServices, clerk: Actor, leader: Actor, triage: Triage = HARD) -> int:
    case_id = services.intake.register(clerk, person_form()).case_id
    services.cases.triage(clerk, case_id, triage)
    department = services.site.departments()[0]
    ids, _ = services.assignments.create(
        clerk, case_id, department_id=department.id, requirements="请依法办理。"
    )
    services.assignments.issue(leader, ids[0])
    return case_id


def _case_row(services: AppServices, case_id: int) -> tuple[int, str]:
    with services.db.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.version, case.basis_waived_reason


def test_text_longer_than_its_column_is_refused_and_nothing_changes(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id = _assigned(services, clerk, leader, CANT)
    before = _case_row(services, case_id)
    with pytest.raises(ValidationFailed) as refused:
        services.cases.waive_basis(leader, case_id, "理" * 201)
    assert refused.value.errors["reason"] == "免除理由最多200字（现为201字）"
    assert _case_row(services, case_id) == before
    with pytest.raises(ValidationFailed) as refused:
        services.referrals.propose(
            clerk,
            Proposal(case_id=case_id, person_name="张" * 41, conduct=(Conduct.WONT,), facts="推诿"),
        )
    assert "被反映人姓名最多40字" in refused.value.errors["person_name"]
    with services.db.read() as session:
        assert session.scalar(select(Referral.id)) is None


def test_the_letter_does_not_call_a_returned_assignment_unanswered(
    services: AppServices, clerk: Actor, leader: Actor, clock: FixedClock
) -> None:
    case_id = _assigned(services, clerk, leader)
    assignment = services.assignments.for_case(case_id)[0]
    services.assignments.return_assignment(clerk, assignment.id, "不属于本单位职责")
    clock.at = clock.at + timedelta(days=60)  # long past its deadline
    evidence = services.referrals.evidence(clerk, case_id)
    assert not any("至今未反馈" in item["text"] for item in evidence), evidence


def test_a_reopened_case_owes_the_person_a_new_reply(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id = _assigned(services, clerk, leader)
    assignment = services.assignments.for_case(case_id)[0]
    services.assignments.respond(clerk, assignment.id, "已办理")
    services.cases.conclude(
        clerk,
        case_id,
        outcome=Outcome.DONE,
        what_was_done="已办理",
        reply_method=ReplyMethod.PHONE,
        reply_text="已电话告知",
    )
    assert services.cases.detail(case_id).status.value == "concluded"
    services.cases.record_visit(
        clerk,
        case_id,
        grade=VisitGrade.DISSATISFIED,
        reasons=(VisitReason.NOT_SOLVED,),
        note="仍未解决",
    )
    with services.db.read() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.status == "in_progress"
        assert case.replied_at is None and case.reply_method == ""


def test_a_withdrawal_closes_the_assignments_still_open(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id = _assigned(services, clerk, leader)
    services.cases.withdraw(clerk, case_id, "当事人已自行解决")
    states = {a.state for a in services.assignments.for_case(case_id)}
    assert states == {AssignmentState.CLOSED.value}
    timeline = services.cases.detail(case_id).timeline
    assert "随撤回关闭" in timeline[-1].summary  # said as a withdrawal, not a conclusion


@pytest.fixture
def pair(tmp_path: Path, clock: FixedClock) -> Iterator[tuple[Site, Site]]:
    with open_site(tmp_path, CITY, clock) as city, open_site(tmp_path, QIXIAN, clock) as county:
        trust_each_other(county, city, tmp_path / "ids")
        yield city, county


def test_the_city_changes_nothing_a_county_sent(pair: tuple[Site, Site], tmp_path: Path) -> None:
    city, county = pair
    s = county.services
    case_id = s.intake.register(ADMIN, person_form()).case_id
    s.cases.triage(ADMIN, case_id, HARD)
    referral_id, _ = s.referrals.propose(
        ADMIN, Proposal(case_id=case_id, person_name="张某", conduct=(Conduct.SHIRK,), facts="推诿")
    )
    s.referrals.send(
        LEADER, referral_id, recipient=ReferralRecipient.DISCIPLINE_ORGAN, recipient_name="杞县纪委"
    )
    s.classes.create(ADMIN, ClassForm(title="参保信息迁移遗漏"), case_ids=[case_id])
    usb = tmp_path / "usb"
    usb.mkdir()
    report = city.sync.import_file(ADMIN, county.sync.export(ADMIN, usb).path)
    assert not report.refused, report.reason
    with city.services.db.read() as session:
        received = session.scalars(select(Referral)).one()
        received_id, version, prints = received.id, received.version, received.print_count
    with pytest.raises(PermissionDenied, match="只能查看"):
        city.services.referrals.decide(DISCIPLINE, received_id, measure=Measure.CRITICISM)
    city.services.referrals.record_letter_output(ADMIN, received_id, deliver=lambda data: None)
    [listed] = city.services.classes.list_classes()
    with pytest.raises(PermissionDenied, match="只能查看"):
        city.services.classes.update(ADMIN, listed.id, ClassForm(title="改名"))
    with city.services.db.read() as session:
        again = session.get(Referral, received_id)
        assert again is not None and (again.version, again.print_count) == (version, prints)


def test_a_person_who_refuses_the_visit_ends_it_without_a_grade(
    services: AppServices, clerk: Actor, leader: Actor
) -> None:
    from desktop_app.domain.vocabulary import VisitContact
    from desktop_app.services.supervision import Figure

    case_id = _assigned(services, clerk, leader)
    assignment = services.assignments.for_case(case_id)[0]
    services.assignments.respond(clerk, assignment.id, "已办理")
    services.cases.conclude(
        clerk,
        case_id,
        outcome=Outcome.DONE,
        what_was_done="已办理",
        reply_method=ReplyMethod.PHONE,
        reply_text="已电话告知",
    )
    before = services.supervision.counts(clerk)
    services.cases.record_visit_attempt(clerk, case_id, contact=VisitContact.REFUSED)
    detail = services.cases.detail(case_id)
    assert detail.status.value == "visited"
    assert "回访结束" in detail.timeline[-1].summary
    with services.db.read() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.visit_grade is None and case.visit_retry_on is None
    after = services.supervision.counts(clerk)
    assert after[Figure.AWAITING_VISIT] == before[Figure.AWAITING_VISIT] - 1
    assert after[Figure.VISIT_RETRY] == before[Figure.VISIT_RETRY] == 0
