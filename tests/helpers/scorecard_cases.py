"""Departments with hand-built assignments in every state a scorecard tells apart (issue 17),
for tests/test_scorecards*.py: the columns are the contract, so assignments are put straight into
their state rather than walked there through the services."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from desktop_app.domain.assignment_flow import AssignmentKind, AssignmentState, ExtensionState
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from desktop_app.storage.models import Assignment, Case, Referral
from tests.helpers.factories import person_form

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


class Departments:
    """Assignments put straight into their state (the columns are the contract)."""

    def __init__(self, services: AppServices, clerk: Actor) -> None:
        self.services = services
        self.clerk = clerk
        first, second = services.site.departments()[:2]
        self.a, self.b = first, second
        self._phone = 13900000000
        self.assignment_ids: dict[str, int] = {}

    def assignment(
        self,
        name: str,
        department_id: int,
        state: AssignmentState,
        *,
        issued: date | None,
        due: date,
        original_due: date | None = None,
        responded: date | None = None,
        grade: str | None = None,
        **columns: Any,
    ) -> int:
        self._phone += 1
        form = person_form(phone=str(self._phone))
        case_id = self.services.intake.register(self.clerk, form).case_id
        with self.services.db.write() as session:
            case = session.get(Case, case_id)
            assert case is not None
            case.visit_grade = grade
            assignment = Assignment(
                case_id=case_id,
                department_id=department_id,
                kind=columns.pop("kind", AssignmentKind.ASSIGN.value),
                state=state.value,
                requirements="请核实并办理。",
                due_start=issued or due,
                working_days=5,
                due_date=due,
                original_due_date=original_due or due,
                created_at=datetime(2026, 10, 30, 9, 0),
                created_by=self.clerk.username,
                issued_at=datetime.combine(issued, datetime.min.time()).replace(hour=10)
                if issued
                else None,
                responded_at=datetime.combine(responded, datetime.min.time()).replace(hour=15)
                if responded
                else None,
                **columns,
            )
            session.add(assignment)
            session.flush()
            self.assignment_ids[name] = assignment.id
        return case_id


def build_departments(services: AppServices, clerk: Actor) -> Departments:
    """Department A with six assignments of November (and three that do not count), B with one
    assisting assignment; the figures tests/test_scorecards.py expects."""
    o = Departments(services, clerk)
    a, b = o.a.id, o.b.id
    d = date
    # Department A: three answered (on time; late; on time only after an approved extension),
    # one open and past its deadline (urged), one open and not yet due, one sent back.
    o.assignment(
        "on_time",
        a,
        AssignmentState.RESPONDED,
        issued=d(2026, 11, 2),
        due=d(2026, 11, 9),
        responded=d(2026, 11, 6),
        grade="satisfied",
    )
    o.assignment(
        "late",
        a,
        AssignmentState.RESPONDED,
        issued=d(2026, 11, 2),
        due=d(2026, 11, 9),
        responded=d(2026, 11, 11),
        grade="dissatisfied",
    )
    o.assignment(
        "extended",
        a,
        AssignmentState.RESPONDED,
        issued=d(2026, 11, 3),
        due=d(2026, 11, 17),
        original_due=d(2026, 11, 10),
        responded=d(2026, 11, 16),
        grade="basically_satisfied",
        extension_state=ExtensionState.APPROVED.value,
        extension_days=5,
    )
    o.assignment(
        "overdue_open",
        a,
        AssignmentState.RECEIVED,
        issued=d(2026, 11, 5),
        due=d(2026, 11, 20),
        urged_at=datetime(2026, 11, 23, 9, 0),
    )
    o.assignment(
        "not_yet_due", a, AssignmentState.ISSUED, issued=d(2026, 11, 20), due=d(2026, 12, 1)
    )
    o.assignment(
        "returned",
        a,
        AssignmentState.RETURNED,
        issued=d(2026, 11, 4),
        due=d(2026, 11, 11),
        grade="very_satisfied",  # not A's matter: its case does not count for A
        returned_reason="不属本部门职责",
    )
    # Never reached A, or not in the period.
    o.assignment("draft", a, AssignmentState.DRAFT, issued=None, due=d(2026, 11, 30))
    o.assignment("voided", a, AssignmentState.VOIDED, issued=d(2026, 11, 6), due=d(2026, 11, 13))
    o.assignment(
        "october",
        a,
        AssignmentState.RESPONDED,
        issued=d(2026, 10, 20),
        due=d(2026, 10, 27),
        responded=d(2026, 11, 3),
    )
    # Department B: one assisting assignment, answered on time; its case's grade is the lead's.
    o.assignment(
        "assist",
        b,
        AssignmentState.RESPONDED,
        issued=d(2026, 11, 9),
        due=d(2026, 11, 16),
        responded=d(2026, 11, 10),
        grade="very_dissatisfied",
        kind=AssignmentKind.ASSIST.value,
    )
    with services.db.write() as session:
        session.add(
            Referral(
                case_id=session.get(Assignment, o.assignment_ids["late"]).case_id,  # type: ignore[union-attr]
                assignment_id=o.assignment_ids["late"],
                person_name="王某",
                state="proposed",
                proposed_at=datetime(2026, 11, 24, 10, 0),
                proposed_by=clerk.username,
                updated_at=datetime(2026, 11, 24, 10, 0),
            )
        )
    return o
