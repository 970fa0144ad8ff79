"""The supervision figures (issue 16, Dashboard): each count on hand-built cases in every state,
and each equal to the ledger's count of the filter a click on its tile opens."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from desktop_app.domain.assignment_flow import AssignmentKind, AssignmentState
from desktop_app.domain.vocabulary import CaseStatus, Nature, ReferralState
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from desktop_app.services.ledger import CaseFilter, Worklist
from desktop_app.services.supervision import NOT_CASES, Figure
from desktop_app.storage.models import Assignment, Case, EarlyWarning, Referral
from tests.helpers.factories import person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401

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


@pytest.fixture
def office(services: AppServices, clerk: Actor, leader: Actor) -> Office:
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


EXPECTED: dict[Figure, set[str]] = {
    Figure.DUE_TODAY: {"due_today", "cant_concluded", "visit_today"},
    Figure.OVERDUE: {"overdue", "cant_open", "visit_overdue", "cant_visited_missing"},
    Figure.AWAITING_TRIAGE: {"new"},
    Figure.AWAITING_SIGNATURE: {"draft_waiting"},
    # The clerk's open cases: not the leader's, not the closed or ended ones.
    Figure.MINE: {
        "new",
        "triaged",
        "due_today",
        "overdue",
        "draft_waiting",
        "answered",
        "half_answered",
        "answered_and_replied",
        "cant_open",
        "cant_open_replied",
    },
    Figure.BASIS_MISSING: {
        "cant_open",
        "cant_open_replied",
        "cant_concluded",
        "cant_visited_missing",
    },
    Figure.AWAITING_REPLY: {"answered", "cant_open"},
    Figure.AWAITING_VISIT: {
        "cant_concluded",
        "visit_overdue",
        "visit_today",
        "retry_today",
        "retry_was_due",
        "retry_tomorrow",
    },
    Figure.VISIT_RETRY: {"retry_today", "retry_was_due"},
    Figure.OPEN_CASES: {
        "new",
        "triaged",
        "leaders",
        "due_today",
        "overdue",
        "draft_waiting",
        "answered",
        "half_answered",
        "answered_and_replied",
        "cant_open",
        "cant_open_replied",
    },
}


def test_every_figure_counts_the_cases_its_rule_names_and_its_list_shows_them(
    services: AppServices, clerk: Actor, office: Office
) -> None:
    counts = services.supervision.counts(clerk)
    assert counts.today == TODAY
    ledger = services.ledger
    for figure, names in EXPECTED.items():
        case_filter = counts.filters[figure]
        assert office.names(ledger.ids(case_filter)) == names, figure.label
        assert counts[figure] == len(names), figure.label
        assert ledger.count(case_filter) == counts[figure], figure.label
    everything = set(office.ids)
    last_month = {"leaders", "overdue", "screened_out"}
    assert counts[Figure.TOTAL] == len(everything)
    assert counts[Figure.THIS_MONTH] == len(everything - last_month)
    assert counts[Figure.REGISTERED_TODAY] == len(everything - last_month)
    assert counts[Figure.REFERRALS_PENDING] == 2  # proposed and sent, not decided or dropped
    assert counts[Figure.WARNINGS_OPEN] == 2


def test_every_case_figure_equals_its_ledger_filter(
    services: AppServices, clerk: Actor, leader: Actor, office: Office
) -> None:
    """The dashboard's promise: the number on a tile is the number of rows its click lists."""
    for actor in (clerk, leader):
        counts = services.supervision.counts(actor)
        assert set(counts.filters) == set(Figure) - NOT_CASES
        for figure, case_filter in counts.filters.items():
            assert services.ledger.count(case_filter) == counts[figure], figure.label
    # The leader registered one case, still open.
    assert services.supervision.counts(leader)[Figure.MINE] == 1


def test_figures_follow_the_clock_and_combine_with_other_filters(
    services: AppServices, clerk: Actor, clock: Any, office: Office
) -> None:
    # Tomorrow, today's deadlines are overdue and tomorrow's retry is due.
    clock.at = clock.at + timedelta(days=1)
    counts = services.supervision.counts(clerk)
    assert office.names(services.ledger.ids(counts.filters[Figure.VISIT_RETRY])) == {
        "retry_today",
        "retry_was_due",
        "retry_tomorrow",
    }
    overdue = office.names(services.ledger.ids(counts.filters[Figure.OVERDUE]))
    assert overdue == EXPECTED[Figure.OVERDUE] | EXPECTED[Figure.DUE_TODAY]
    assert office.names(services.ledger.ids(counts.filters[Figure.DUE_TODAY])) == {"triaged"}
    # A worklist narrows like any other filter, search text included.
    ledger = services.ledger
    narrowed = CaseFilter(
        worklist=Worklist.BASIS_MISSING, text=ledger.rows([office.ids["cant_open"]])[0].number
    )
    assert office.names(ledger.ids(narrowed)) == {"cant_open"}


def test_the_day_is_required_where_the_rule_needs_one(services: AppServices) -> None:
    with pytest.raises(ValueError):
        services.ledger.count(CaseFilter(worklist=Worklist.OVERDUE))
