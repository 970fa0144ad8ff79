"""Search on PostgreSQL through its GIN index of characters and pairs (issue 18, migration 0015):
the same cases as SQLite's FTS5 finds, answered by the index, kept by every writer, and built
for the bodies already there when the migration runs. Skipped without ``BBCS_TEST_PG_URL``
(required in CI by ``BBCS_REQUIRE_PG=1``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from alembic import command
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, column, select, table, text, update

from desktop_app.services.app import AppServices
from desktop_app.services.context import FixedClock
from desktop_app.services.ledger import CaseFilter
from desktop_app.storage import search
from desktop_app.storage.database import alembic_config, make_engine
from desktop_app.storage.models import Case
from tests.helpers import pg
from tests.helpers.factories import USER_PASSWORD, person_form
from tests.helpers.site import county_site
from tests.helpers.speed import fast_password_hashing  # noqa: F401
from tests.test_search import build_ledger

pytestmark = pytest.mark.postgresql

NOW = datetime(2026, 11, 25, 9, 30)
_case_search = table("case_search", column("rowid"), column("body"))

# 1-, 2- and 4-character Chinese, a case number, a phone's last four, a rare character, an
# emoji, ASCII, a query that would span two fields, the separator's letters, nothing found.
QUERIES = [
    "芳",
    "王",
    "县",
    "王芳",
    "医保",
    "报销",
    "参保信息",
    "查不到参保信息",
    "公积金提取",
    "2026-0002",
    "2026-000",
    "0001",
    "杞县-2026-0004",
    "1111",
    "2222",
    "4321",
    "𠀀",
    "𠀀䶮",
    "😀",
    "abc",
    "Pharmacy",
    "z",
    "zz",
    "赵磊公积金",  # the name, then the title: two fields
    "芳医",
    "不存在的词",
]


def _found(services: AppServices, query: str) -> list[str]:
    ids = services.ledger.ids(CaseFilter(text=query))
    return [row.number for row in services.ledger.rows(ids)]


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppServices, AppServices]]:
    """The same five cases (tests/test_search.py) on SQLite and on PostgreSQL."""
    url = pg.backend_url("postgresql")
    clock = FixedClock(NOW)
    with (
        county_site(tmp_path_factory.mktemp("sqlite"), clock) as sqlite,
        county_site(tmp_path_factory.mktemp("postgresql"), clock, db_url=url) as postgresql,
    ):
        for services in (sqlite, postgresql):
            build_ledger(services, services.auth.login("clerk1", USER_PASSWORD))
        yield sqlite, postgresql


@pytest.mark.parametrize("query", QUERIES)
def test_postgresql_finds_what_sqlite_finds(
    both: tuple[AppServices, AppServices], query: str
) -> None:
    sqlite, postgresql = both
    assert _found(postgresql, query) == _found(sqlite, query)


def test_an_old_number_is_found_in_either_letter_case_on_both_engines(
    both: tuple[AppServices, AppServices],
) -> None:
    """原编号 typed in small letters finds the case on PostgreSQL as on SQLite (review item 8)."""
    for services in both:
        with services.db.write() as session:
            session.execute(
                update(Case)
                .where(Case.number == "杞县-2026-0001")
                .values(original_number="QX2023-001")
            )
    sqlite, postgresql = both
    for query in ("qx2023-001", "QX2023-001"):
        assert _found(postgresql, query) == _found(sqlite, query) == ["杞县-2026-0001"], query


def test_the_queries_find_something(both: tuple[AppServices, AppServices]) -> None:
    """The comparison above is not between two empty lists."""
    sqlite, _ = both
    assert {query for query in QUERIES if not _found(sqlite, query)} == {
        "z",
        "zz",
        "赵磊公积金",
        "芳医",
        "不存在的词",
    }


def _plan(connection: Connection, query: str) -> str:
    condition = search.postgres_condition(_case_search.c.body, query)
    assert condition is not None
    statement = select(_case_search.c.rowid).where(condition)
    compiled = statement.compile(connection, compile_kwargs={"literal_binds": True})
    return "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {compiled}"))


def _found_by_index(engine: Engine, query: str) -> set[int]:
    """The rowids the index gives (sequential scans disabled, so the plan must use it)."""
    condition = search.postgres_condition(_case_search.c.body, query)
    assert condition is not None
    with engine.begin() as connection:
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        assert "ix_case_search_grams" in _plan(connection, query)
        rows = connection.execute(select(_case_search.c.rowid).where(condition))
        return {row[0] for row in rows}


@pytest.mark.parametrize("query", ["芳", "王芳", "参保信息", "2026-0002", "1111"])
def test_the_index_answers_the_ledgers_condition(
    both: tuple[AppServices, AppServices], query: str
) -> None:
    _, postgresql = both
    found = _found_by_index(postgresql.db.engine, query)
    assert found == set(postgresql.ledger.ids(CaseFilter(text=query)))
    assert found


def test_the_index_follows_intake_and_correction(tmp_path: Path) -> None:
    url = pg.backend_url("postgresql")
    with county_site(tmp_path, FixedClock(NOW), db_url=url) as services:
        clerk = services.auth.login("clerk1", USER_PASSWORD)
        engine = services.db.engine
        case_id = services.intake.register(clerk, person_form(title="宅基地确权登记")).case_id
        assert _found_by_index(engine, "宅基地确权") == {case_id}
        assert _found_by_index(engine, "宅") == {case_id}

        form = services.corrections.current(case_id)
        corrected = replace(form, case=replace(form.case, title="林权证换发"), reason="记错了")
        services.corrections.correct(clerk, case_id, corrected)

        assert _found_by_index(engine, "宅基地确权") == set()
        assert _found_by_index(engine, "林权证") == {case_id}
        assert services.ledger.ids(CaseFilter(text="林权证")) == [case_id]


def test_the_migration_indexes_the_bodies_already_there() -> None:
    url = pg.backend_url("postgresql")
    assert url is not None
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0014")
        bodies = {
            1: search.index_text(
                search.case_fields("杞县-2025-0007", "王芳", "医保结算", "", "", "5678")
            ),
            2: search.index_text(["李𠀀䶮", "不动产登记😀"]),
        }
        with engine.begin() as connection:
            for rowid, body in bodies.items():
                connection.execute(
                    text("INSERT INTO case_search (rowid, body) VALUES (:id, :body)"),
                    {"id": rowid, "body": body},
                )
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")

        assert _found_by_index(engine, "医保") == {1}
        assert _found_by_index(engine, "2025-0007") == {1}
        assert _found_by_index(engine, "5678") == {1}
        assert _found_by_index(engine, "𠀀䶮") == {2}
        assert _found_by_index(engine, "😀") == {2}
        assert _found_by_index(engine, "芳医") == set()  # two fields: never one match
    finally:
        engine.dispose()


def test_a_run_of_digits_is_asked_for_by_its_fours(grams_engine: Engine) -> None:
    """``1111``'s one pair, 11, is in a body with 11号 and 11楼 apart; its four only in a body
    holding the run (migration 0023), so the index alone tells them apart. Letters too, folded."""
    bodies = {
        "run": search.index_text(["王芳", "1111"]),
        "apart": search.index_text(["11号楼11层", "2025-0112"]),
        "letters": search.index_text(["ETC办理"]),
    }
    with grams_engine.connect() as connection:

        def asked(body: str, query: str) -> bool:
            grams = search.query_grams(query)
            return bool(
                connection.scalar(
                    text(f"SELECT {search.GRAMS_FUNCTION}(:body) @> CAST(:grams AS text[])"),
                    {"body": body, "grams": grams},
                )
            )

        assert search.query_grams("1111") == ["11", "1111"]
        assert asked(bodies["run"], "1111")
        assert not asked(bodies["apart"], "1111")
        assert asked(bodies["apart"], "2025-0112")
        assert not asked(bodies["apart"], "2025-0111")
        assert asked(bodies["letters"], "etc") and asked(bodies["letters"], "ETC")
        # A field's end ends the run: 1111 and 2025 stand in two fields.
        assert not asked(search.index_text(["王11", "11"]), "1111")


@pytest.fixture(scope="module")
def grams_engine() -> Iterator[Engine]:
    url = pg.backend_url("postgresql")
    assert url is not None
    engine = make_engine(url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")
    yield engine
    engine.dispose()


_TEXT = st.text(st.sampled_from("王芳医保县z 1-2😀𠀀，A"), max_size=12)


@settings(max_examples=150, deadline=None)
@given(fields=st.lists(_TEXT, max_size=4), start=st.integers(0, 40), length=st.integers(1, 6))
def test_a_substring_query_asks_only_for_keys_its_body_holds(
    grams_engine: Engine, fields: list[str], start: int, length: int
) -> None:
    """The index is a necessary condition: whenever the exact match finds the query in a body,
    the body's grams (PostgreSQL's function) hold every key the query asks for (Python's)."""
    body = search.index_text(fields)
    query = "".join(body.split(" "))[start : start + length]
    needle = search.body_needle(query)
    grams = search.query_grams(query)
    if needle is None or grams is None or needle not in f" {body} ":
        return
    with grams_engine.connect() as connection:
        holds = connection.scalar(
            text(f"SELECT {search.GRAMS_FUNCTION}(:body) @> CAST(:grams AS text[])"),
            {"body": body, "grams": grams},
        )
    assert holds
