"""The supervision figures (issue 16, Dashboard): each count on hand-built cases in every state,
and each equal to the ledger's count of the filter a click on its tile opens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from desktop_app.services.ledger import CaseFilter, Worklist
from desktop_app.services.supervision import NOT_CASES, Figure
from tests.helpers.factories import USER_PASSWORD
from tests.helpers.speed import fast_password_hashing  # noqa: F401
from tests.helpers.supervision_cases import TODAY, Office, build_office


@pytest.fixture
def office(services: AppServices, clerk: Actor, leader: Actor) -> Office:
    return build_office(services, clerk, leader)


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


def test_every_figure_is_its_ledger_filter_on_both_engines(site_on_engine: AppServices) -> None:
    """The same office on SQLite and on PostgreSQL (issue 18: the city's dashboard counts the
    deadline worklists in three groups and reads 待答复 and 待回访 from partial indexes)."""
    services = site_on_engine
    clerk = services.auth.login("clerk1", USER_PASSWORD)
    office = build_office(services, clerk, services.auth.login("leader1", USER_PASSWORD))
    counts = services.supervision.counts(clerk)
    for figure, names in EXPECTED.items():
        case_filter = counts.filters[figure]
        assert office.names(services.ledger.ids(case_filter)) == names, figure.label
        assert counts[figure] == len(names), figure.label
        assert services.ledger.count(case_filter) == counts[figure], figure.label
