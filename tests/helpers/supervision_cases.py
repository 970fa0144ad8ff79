"""Hand-built cases in every state the supervision figures tell apart (issue 16), named, for
tests/test_supervision.py and tests/test_dashboard.py: the columns are the contract, so the
cases are put straight into their state rather than walked there through the services."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from desktop_app.domain.assignment_flow import AssignmentKind, AssignmentState
from desktop_app.domain.vocabulary import CaseStatus, Nature, ReferralState
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from desktop_app.storage.models import Assignment, Case, EarlyWarning, Referral
from tests.helpers.factories import person_form

TODAY = date(2026, 11, 25)  # the fixed clock's day (tests/conftest.py NOW), a Wednesday
YESTERDAY = TODAY - timedelta(days=1)
TOMORROW = TODAY + timedelta(days=1)
LAST_MONTH = datetime(2026, 10, 20, 10, 0)


class Office:
    """Cases put straight into the state a test wants (the columns are the contract), named."""

    def __init__(self, services: AppServices, clerk: Actor, leader: Actor) -> None:
        self.services = services
        self.clerk = clerk
        self.leader = leader
        self.ids: dict[str, int] = {}
        self._phone = 13900000000

    def case(self, name: str, *, by: Actor | None = None, **columns: Any) -> int:
        self._phone += 1
        actor = by or self.clerk
        case_id = self.services.intake.register(actor, person_form(phone=str(self._phone))).case_id
        with self.services.db.write() as session:
            case = session.get(Case, case_id)
            assert case is not None
            for column, value in columns.items():
                setattr(case, column, value)
        self.ids[name] = case_id
        return case_id

    def assignment(self, name: str, state: AssignmentState, **columns: Any) -> None:
        with self.services.db.write() as session:
            session.add(
                Assignment(
                    case_id=self.ids[name],
                    department_id=self.services.site.departments()[0].id,
                    kind=columns.pop("kind", AssignmentKind.ASSIGN.value),
                    state=state.value,
                    requirements="请核实并办理。",
                    due_start=YESTERDAY,
                    working_days=5,
                    due_date=TODAY + timedelta(days=7),
                    original_due_date=TODAY + timedelta(days=7),
                    created_at=datetime(2026, 11, 24, 10, 0),
                    created_by=self.clerk.username,
                    **columns,
                )
            )

    def names(self, ids: list[int]) -> set[str]:
        by_id = {case_id: name for name, case_id in self.ids.items()}
        return {by_id[case_id] for case_id in ids}


def open_case(**columns: Any) -> dict[str, Any]:
    """An assigned case (办理中) with a deadline next week unless told otherwise."""
    return {
        "status": CaseStatus.IN_PROGRESS.value,
        "nature": Nature.HARD.value,
        "due_date": TODAY + timedelta(days=7),
        **columns,
    }


def concluded(**columns: Any) -> dict[str, Any]:
    return {
        "status": CaseStatus.CONCLUDED.value,
        "nature": Nature.HARD.value,
        "concluded_at": datetime(2026, 11, 20, 16, 0),
        "replied_at": datetime(2026, 11, 20, 16, 0),
        "visit_due_date": TODAY + timedelta(days=5),
        **columns,
    }


def cant(**columns: Any) -> dict[str, Any]:
    """办不了: the department's written basis due (and not yet here unless told)."""
    return {"nature": Nature.CANT.value, "basis_due_date": TODAY + timedelta(days=2), **columns}


def build_office(services: AppServices, clerk: Actor, leader: Actor) -> Office:
    """The cases, referrals and warnings the EXPECTED figures of tests/test_supervision.py
    describe."""
    o = Office(services, clerk, leader)
    # Registered (已登记): new and untriaged; triaged; one the leader registered last month.
    o.case("new")
    o.case("triaged", nature=Nature.HARD.value, due_date=TOMORROW)
    o.case("leaders", by=leader, nature=Nature.HARD.value, received_at=LAST_MONTH)
    # 办理中: due today, overdue, due later; drafts and answers from departments.
    o.case("due_today", **open_case(due_date=TODAY))
    o.case("overdue", **open_case(due_date=YESTERDAY, received_at=LAST_MONTH))
    o.case("draft_waiting", **open_case())
    o.assignment("draft_waiting", AssignmentState.DRAFT)
    o.case("answered", **open_case())
    o.assignment("answered", AssignmentState.RESPONDED)
    o.case("half_answered", **open_case())
    o.assignment("half_answered", AssignmentState.RESPONDED)
    o.assignment("half_answered", AssignmentState.RECEIVED)
    o.case("answered_and_replied", **open_case(replied_at=datetime(2026, 11, 24, 15, 0)))
    o.assignment("answered_and_replied", AssignmentState.RESPONDED)
    # 办不了: answered the same day, the basis outstanding (overdue here).
    o.case("cant_open", **open_case(**cant(basis_due_date=YESTERDAY)))
    o.case(
        "cant_open_replied",
        **open_case(**cant(replied_at=datetime(2026, 11, 24, 9, 0))),
    )
    # Concluded (待回访): the basis still missing after the conclusion, due today.
    o.case("cant_concluded", **concluded(**cant(basis_due_date=TODAY)))
    o.case("visit_overdue", **concluded(visit_due_date=YESTERDAY))
    o.case("visit_today", **concluded(visit_due_date=TODAY))
    o.case("retry_today", **concluded(visit_attempts=1, visit_retry_on=TODAY))
    o.case("retry_was_due", **concluded(visit_attempts=2, visit_retry_on=YESTERDAY))
    o.case("retry_tomorrow", **concluded(visit_attempts=1, visit_retry_on=TOMORROW))
    # Closed or ended: the basis received, waived, a withdrawn 办不了, a screened-out matter.
    visited = {**concluded(), "status": CaseStatus.VISITED.value, "visit_grade": "satisfied"}
    o.case("cant_visited_missing", **{**visited, **cant(basis_due_date=YESTERDAY)})
    o.case(
        "cant_received",
        **{**visited, **cant(basis_due_date=YESTERDAY, basis_received_on=YESTERDAY)},
    )
    o.case(
        "cant_waived",
        **{
            **visited,
            **cant(basis_due_date=YESTERDAY, basis_waived_reason="部门已当面出具说明"),
        },
    )
    o.case(
        "cant_withdrawn",
        status=CaseStatus.WITHDRAWN.value,
        **cant(basis_due_date=YESTERDAY),
        due_date=YESTERDAY,
    )
    o.assignment("cant_withdrawn", AssignmentState.DRAFT)  # a draft nobody will sign
    o.case("screened_out", status=CaseStatus.SCREENED_OUT.value, received_at=LAST_MONTH)
    # Not cases: referrals in every state, warnings open and decided.
    with services.db.write() as session:
        for state in ReferralState:
            session.add(
                Referral(
                    case_id=o.ids["overdue"],
                    person_name="王某",
                    state=state.value,
                    proposed_at=datetime(2026, 11, 24, 10, 0),
                    proposed_by=clerk.username,
                    updated_at=datetime(2026, 11, 24, 10, 0),
                )
            )
        for index, state in enumerate(("open", "dismissed", "open", "classed")):
            session.add(
                EarlyWarning(
                    month="2026-11",
                    area=f"领域{index}",
                    count=9,
                    baseline=2.0,
                    months=6,
                    p_value=0.001,
                    raised_at=datetime(2026, 11, 25, 8, 0),
                    state=state,
                )
            )
    return o
