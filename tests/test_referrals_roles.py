"""Issue 10's role × action matrix, extended to 问责 (issue 16): the window proposes, only the
duty leader signs (or drops) the 移交函, only 纪检监察 records the decision, the auditor stays
read-only, and the 纪检监察 role writes nothing but decisions.

As in tests/test_roles.py an action is *refused* when it raises PermissionDenied; anything else
(success, or a plain error about the input) means the role got past the permission check.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from desktop_app.domain.permissions import Permission
from desktop_app.domain.vocabulary import (
    Approach,
    Cause,
    Conduct,
    Measure,
    Nature,
    Outcome,
    ReferralRecipient,
    ReplyMethod,
    Role,
)
from desktop_app.errors import PermissionDenied, UserError
from desktop_app.services.app import AppServices
from desktop_app.services.cases import Triage
from desktop_app.services.context import Actor
from desktop_app.services.referrals import Proposal
from tests.helpers.factories import person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401

ROLES = ("clerk", "leader", "admin", "auditor", "discipline")
CASE_WORKERS = {"clerk", "leader", "admin"}
TRIAGE = Triage(nature=Nature.HARD, approach=Approach.PUSH, causes=(Cause.POLICY,), area="医保社保")

# action -> the roles allowed to do it; everyone else is refused.
REFERRAL_TABLE: dict[str, set[str]] = {
    "view the register": set(ROLES),
    "propose a referral": CASE_WORKERS,
    "sign a referral letter": {"leader"},
    "drop a proposal": {"leader"},
    "record the decision": {"discipline"},
    "print a referral letter": CASE_WORKERS,
    # What else 纪检监察 might try: it writes nothing but decisions.
    "register a case": CASE_WORKERS,
    "triage a case": CASE_WORKERS,
    "conclude a case": CASE_WORKERS,
    "sign a slip": {"leader"},
}


@pytest.fixture
def discipline(services: AppServices, admin: Actor) -> Actor:
    services.auth.create_user(
        admin, username="jijian", display_name="赵纪检", role=Role.DISCIPLINE, password="Jijian2026"
    )
    return services.auth.login("jijian", "Jijian2026")


def _case(services: AppServices, admin: Actor) -> int:
    case_id = services.intake.register(admin, person_form()).case_id
    services.cases.triage(admin, case_id, TRIAGE)
    return case_id


def _proposed(services: AppServices, admin: Actor) -> int:
    referral_id, _ = services.referrals.propose(admin, _proposal(_case(services, admin)))
    return referral_id


def _sent(services: AppServices, admin: Actor, leader: Actor) -> int:
    referral_id = _proposed(services, admin)
    services.referrals.send(
        leader, referral_id, recipient=ReferralRecipient.UNIT, recipient_name="杞县医疗保障局"
    )
    return referral_id


def _proposal(case_id: int) -> Proposal:
    return Proposal(
        case_id=case_id,
        person_name="李某",
        person_unit="杞县医疗保障局",
        conduct=(Conduct.SHIRK,),
        facts="推诿扯皮。",
    )


def _do(
    services: AppServices, actor: Actor, action: str, admin: Actor, leader: Actor, tmp: Path
) -> None:
    referrals = services.referrals
    steps: dict[str, Callable[[], object]] = {
        "view the register": lambda: referrals.ids(actor),
        "propose a referral": lambda: referrals.propose(actor, _proposal(_case(services, admin))),
        "sign a referral letter": lambda: referrals.send(
            actor,
            _proposed(services, admin),
            recipient=ReferralRecipient.DISCIPLINE_ORGAN,
            recipient_name="中共杞县纪委 杞县监委",
        ),
        "drop a proposal": lambda: referrals.drop(actor, _proposed(services, admin), "不属实"),
        "record the decision": lambda: referrals.decide(
            actor, _sent(services, admin, leader), measure=Measure.REMINDER_TALK
        ),
        "print a referral letter": lambda: referrals.record_letter_output(
            actor, _sent(services, admin, leader), out=tmp / "letter.pdf"
        ),
        "register a case": lambda: services.intake.register(actor, person_form(name="李四")),
        "triage a case": lambda: services.cases.triage(
            actor, services.intake.register(admin, person_form()).case_id, TRIAGE
        ),
        "conclude a case": lambda: services.cases.conclude(
            actor,
            _case(services, admin),
            outcome=Outcome.DONE,
            what_was_done="当场协调解决",
            reply_method=ReplyMethod.IN_PERSON,
            reply_text="已当面答复",
        ),
        "sign a slip": lambda: services.assignments.issue(actor, _draft(services, admin)),
    }
    steps[action]()


def _draft(services: AppServices, admin: Actor) -> int:
    department = services.site.departments()[0]
    ids, _ = services.assignments.create(
        admin, _case(services, admin), department_id=department.id, requirements="请依法办理。"
    )
    return ids[0]


def _refused(attempt: Callable[[], None]) -> bool:
    try:
        attempt()
    except PermissionDenied:
        return True
    except UserError:
        return False  # past the permission check, stopped by the input
    return False


@pytest.mark.parametrize("action", sorted(REFERRAL_TABLE))
@pytest.mark.parametrize("role", ROLES)
def test_referral_steps_follow_the_role_table(
    services: AppServices,
    role: str,
    action: str,
    admin: Actor,
    leader: Actor,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    actor: Actor = request.getfixturevalue(role)
    refused = _refused(lambda: _do(services, actor, action, admin, leader, tmp_path))
    assert refused is (role not in REFERRAL_TABLE[action]), (role, action)


def test_the_discipline_role_reads_cases_and_writes_only_decisions(discipline: Actor) -> None:
    assert {p for p in Permission if discipline.can(p)} == {
        Permission.VIEW_CASES,
        Permission.VIEW_REFERRALS,
        Permission.DECIDE_REFERRAL,
    }


def test_the_user_page_offers_the_discipline_role(services: AppServices, admin: Actor) -> None:
    """An administrator makes 纪检监察 users like any other (the settings page lists every
    role), and they log in."""
    services.auth.create_user(
        admin, username="jiwei2", display_name="钱纪委", role=Role.DISCIPLINE, password="Jiwei2026"
    )
    actor = services.auth.login("jiwei2", "Jiwei2026")
    assert actor.role is Role.DISCIPLINE and Role.DISCIPLINE.label == "纪检监察"
