"""Partial indexes (migrations 0018, 0020) answer 待答复 and 待回访 on PostgreSQL (issue 18).

PostgreSQL uses a partial index only when the query's WHERE implies the index's predicate, so
the ledger's literals (the unfinished assignment states, the statuses) and the migration's must
stay the same: these plans would silently fall back to reading rows if one of them changed.
Sequential scans are disabled so that a handful of cases still shows the plan a city gets.
Skipped without ``BBCS_TEST_PG_URL`` (required in CI by ``BBCS_REQUIRE_PG=1``).
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql

from desktop_app.services.app import AppServices
from desktop_app.services.ledger import CaseFilter, SortKey, Worklist, _order, conditions
from desktop_app.storage.models import Case

pytestmark = pytest.mark.postgresql

TODAY = date(2026, 11, 25)


def _plan(services: AppServices, statement: object) -> str:
    compiled = statement.compile(  # type: ignore[attr-defined]
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    with services.db.engine.begin() as connection:
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        return "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {compiled}"))


def _count_and_page(case_filter: CaseFilter) -> tuple[object, object]:
    terms = conditions(case_filter)
    count = select(func.count()).select_from(Case).where(*terms)
    page = (
        select(Case.id)
        .where(*terms)
        .order_by(*_order(SortKey.RECEIVED, True, sqlite=False))
        .limit(1001)
    )
    return count, page


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_awaiting_reply_is_read_from_its_index_alone(site_on_engine: AppServices) -> None:
    """待答复 is a partial index of its own (migration 0020: whether the departments answered
    is kept on the case), read without the cases' rows or their assignments."""
    count, page = _count_and_page(CaseFilter(worklist=Worklist.AWAITING_REPLY, today=TODAY))
    for statement in (count, page):
        plan = _plan(site_on_engine, statement)
        assert "ix_ledger_reply_owed" in plan and "assignments" not in plan, plan
    assert "Index Only Scan" in _plan(site_on_engine, count)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_awaiting_visit_is_read_from_its_index_alone(site_on_engine: AppServices) -> None:
    count, page = _count_and_page(CaseFilter(awaiting_visit=True))
    for statement in (count, page):
        plan = _plan(site_on_engine, statement)
        assert "Index Only Scan" in plan and "ix_ledger_awaiting_visit" in plan, plan


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_search_indexs_pending_list_stays_short(site_on_engine: AppServices) -> None:
    """Every search reads the whole pending list of new entries (1,900 pages, ~20 ms, at the
    city bench under the server's 4 MB default): 0018 caps the search index's at 256 kB."""
    with site_on_engine.db.engine.connect() as connection:
        options = connection.exec_driver_sql(
            "SELECT reloptions FROM pg_class WHERE relname = 'ix_case_search_grams'"
        ).scalar_one()
    assert options == ["gin_pending_list_limit=256"]
