"""The ledger's filters, the calendar and the dashboard read SQLite's indexes (migration 0022).

SQLite runs no ANALYZE here, so its plan depends on the schema and the statement alone: the
plan a test site gets is the plan a city of 1.5 million cases gets. At the city each of these
plans decides hundreds of milliseconds (tests/bench_city_sqlite.py): a filtered first page
sorting every match instead of reading its index newest first, a deadline count reading each
open case's row instead of its index entry. What the statements return is tested elsewhere
(tests/test_supervision*.py, tests/test_deadlines.py, tests/test_ledger*.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event, select

from desktop_app.domain.vocabulary import CaseStatus, Channel
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from desktop_app.services.ledger import CaseFilter, SortKey, Worklist
from desktop_app.storage.models import Case

TODAY = date(2026, 11, 25)
SORTED = "USE TEMP B-TREE FOR ORDER BY"  # every match read and sorted before the first page


@contextmanager
def _statements(services: AppServices) -> Iterator[list[tuple[str, Any]]]:
    """The SELECTs ``services`` sends on cases while the block runs."""
    sent: list[tuple[str, Any]] = []

    def keep(_c: Any, _cursor: Any, statement: str, parameters: Any, *_a: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM cases" in statement:
            sent.append((statement, parameters))

    event.listen(services.db.engine, "before_cursor_execute", keep)
    try:
        yield sent
    finally:
        event.remove(services.db.engine, "before_cursor_execute", keep)


def _plans(services: AppServices, work: Callable[[], object]) -> list[str]:
    """Each statement ``work`` sends on cases, and its EXPLAIN QUERY PLAN."""
    with _statements(services) as sent:
        work()
    assert sent
    raw = services.db.engine.raw_connection()
    try:
        return [
            statement
            + "\n"
            + "\n".join(row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {statement}", params))
            for statement, params in sent
        ]
    finally:
        raw.close()


def _first_page(services: AppServices, case_filter: CaseFilter, sort: SortKey) -> list[str]:
    plans = _plans(services, lambda: services.ledger.ids(case_filter, sort, limit=1001))
    return [plan for plan in plans if "ORDER BY" in plan]


@pytest.mark.parametrize(
    ("case_filter", "index"),
    [
        (CaseFilter(area="医保社保"), "ix_ledger_area_received"),
        (CaseFilter(channel=Channel.PHONE), "ix_ledger_channel_received"),
        (CaseFilter(department_id=1), "ix_ledger_department_received"),
    ],
)
def test_a_filtered_first_page_is_read_newest_first_from_its_index(
    services: AppServices, case_filter: CaseFilter, index: str
) -> None:
    """(column, received_at): the page stops at its window instead of sorting the filter's
    every case (区域 at the city: 195,885 of them, 340–520 ms)."""
    (plan,) = _first_page(services, case_filter, SortKey.RECEIVED)
    assert re.search(rf"COVERING INDEX {index}\b", plan) and SORTED not in plan, plan


@pytest.mark.parametrize(
    ("sort", "index"),
    [
        (SortKey.TITLE, "ix_ledger_title"),
        # Ties in id order: the single-column index, not the filter's (column, received_at).
        (SortKey.AREA, "ix_cases_area"),
        (SortKey.CHANNEL, "ix_cases_channel"),
        (SortKey.DEPARTMENT, "ix_cases_stuck_department"),
    ],
)
@pytest.mark.parametrize("descending", [True, False])
def test_a_sort_by_column_walks_its_index(
    services: AppServices, sort: SortKey, index: str, descending: bool
) -> None:
    plans = _plans(services, lambda: services.ledger.ids(CaseFilter(), sort, descending, 1001))
    for plan in plans:
        assert re.search(rf"COVERING INDEX {index}\b", plan) and SORTED not in plan, plan


def test_my_open_cases_are_found_from_the_registering_users_index(services: AppServices) -> None:
    case_filter = CaseFilter(worklist=Worklist.MINE, today=TODAY, user_id=1)
    (plan,) = _first_page(services, case_filter, SortKey.RECEIVED)
    assert "ix_ledger_creator_status (created_by_id=? AND status=?)" in plan, plan


@pytest.mark.parametrize("worklist", [Worklist.OVERDUE, Worklist.DUE_TODAY])
def test_a_deadline_list_is_sorted_from_index_entries(
    services: AppServices, worklist: Worklist
) -> None:
    """Its three groups side by side, the handling and visit deadlines each read with the
    received date from one index: no row read for the sort (已超期 at the city: 24,000)."""
    (plan,) = _first_page(services, CaseFilter(worklist=worklist, today=TODAY), SortKey.RECEIVED)
    assert "MULTI-INDEX OR" not in plan, plan
    assert "COVERING INDEX ix_ledger_status_due (status=? AND due_date" in plan, plan
    assert "COVERING INDEX ix_cases_status_visit_due (status=? AND visit_due_date" in plan, plan


@pytest.mark.parametrize(
    "case_filter",
    [
        CaseFilter(awaiting_triage=True),
        CaseFilter(awaiting_visit=True),
        CaseFilter(statuses=(CaseStatus.REGISTERED, CaseStatus.IN_PROGRESS)),
    ],
)
def test_a_status_list_is_read_in_the_order_cases_came_in(
    services: AppServices, case_filter: CaseFilter
) -> None:
    """Through (status, received_at), whose rows lie near each other and whose first page stops
    early, not through (status, due_date, received_at), which SQLite costs alike and would take
    as the newer (未办结's first page at the city: 41 against 1 ms): 0022 makes it again last."""
    (page,) = _first_page(services, case_filter, SortKey.RECEIVED)
    assert "ix_cases_status_received (status=?)" in page, page
    (count,) = _plans(services, lambda: services.ledger.count(case_filter))
    # Or from another index alone (待甄别分类: ix_ledger_reply holds the nature).
    assert "ix_cases_status_received (status=?)" in count or "COVERING INDEX" in count, count


def test_awaiting_reply_is_counted_from_its_index_alone(services: AppServices) -> None:
    case_filter = CaseFilter(worklist=Worklist.AWAITING_REPLY, today=TODAY)
    (plan,) = _plans(services, lambda: services.ledger.count(case_filter))
    assert "COVERING INDEX ix_ledger_reply (status=? AND replied_at=?)" in plan, plan


def test_the_calendar_counts_open_deadlines_from_indexes_alone(services: AppServices) -> None:
    """The month's handling and visit deadlines counted from (status, date) index entries, not
    from each open or concluded case's row (215–290 ms → a few at the city)."""
    plans = _plans(services, lambda: services.deadlines.month(TODAY.year, TODAY.month, TODAY))
    due = [p for p in plans if "cases.due_date" in p.split("\n")[0]]
    visits = [p for p in plans if "cases.visit_due_date" in p.split("\n")[0]]
    assert due and visits
    for plan in due:
        assert "COVERING INDEX ix_ledger_status_due" in plan, plan
    for plan in visits:
        assert "COVERING INDEX ix_cases_status_visit_due" in plan, plan


def test_no_dashboard_figure_reads_the_open_cases_one_by_one(
    services: AppServices, admin: Actor
) -> None:
    """我登记的 and 待重拨 from their indexes alone, the overdue from (status, date)."""
    (plan,) = _plans(services, lambda: services.supervision.counts(admin))
    assert "COVERING INDEX ix_ledger_creator_status (created_by_id=? AND status=?)" in plan
    assert "COVERING INDEX ix_cases_status_visit_retry (status=? AND visit_retry_on>?" in plan
    assert "ix_ledger_status_due (status=? AND due_date<?)" in plan, plan


def test_the_sort_by_department_reads_a_names_departments_through_the_narrow_index(
    services: AppServices,
) -> None:
    """At a city a department's name is one department per county, read in id order together
    (services/ledger.py ``_by_department``). SQLite costs the department's two indexes alike
    and takes the newest: 0022 makes the narrow one again after the filter's (column,
    received_at), whose wider entries cost 50–140 against 7 ms at 1.5 million cases."""
    statement = (
        select(Case.id)
        .where(Case.stuck_department_id.in_([1, 2, 3]))
        .order_by(Case.id.desc())
        .limit(1001)
    )
    with services.db.engine.connect() as connection:
        compiled = statement.compile(connection, compile_kwargs={"literal_binds": True})
        plan = "\n".join(
            row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")
        )
    assert re.search(r"COVERING INDEX ix_cases_stuck_department\b", plan), plan


@pytest.mark.parametrize("sort", [SortKey.RECEIVED, SortKey.TITLE, SortKey.AREA, SortKey.VISITS])
def test_the_missing_basis_list_is_found_from_its_deadlines_index(
    services: AppServices, sort: SortKey
) -> None:
    """A few hundred cases in any order, not every case walked in a sort column's order and
    checked (1.1 s at 100,000 cases by 事由, once 0022 gave the title an index)."""
    case_filter = CaseFilter(worklist=Worklist.BASIS_MISSING, today=TODAY)
    (plan,) = _first_page(services, case_filter, sort)
    assert "ix_cases_basis_due_date (basis_due_date>? AND basis_due_date<?)" in plan, plan
