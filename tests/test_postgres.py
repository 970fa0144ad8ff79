"""A city on PostgreSQL: the same services, numbers, ledger and checks as on SQLite (issue 6).

Each test takes ``db_url`` (directly or through ``site_on_engine``/``make_services``) and runs
once on SQLite and once on a fresh PostgreSQL database from ``BBCS_TEST_PG_URL``; a few are
about PostgreSQL alone. See tests/helpers/pg.py for how to point them at a server.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text, update
from sqlalchemy.orm import Session

from desktop_app.domain.assignment_flow import AssignmentState
from desktop_app.domain.deadlines import DeadlineKind
from desktop_app.domain.vocabulary import (
    Approach,
    CaseStatus,
    Cause,
    Channel,
    Nature,
    Outcome,
    ReplyMethod,
    Role,
    VisitGrade,
)
from desktop_app.errors import DatabaseTooNew, EnvironmentProblem, UserError
from desktop_app.services import audit, integrity
from desktop_app.services.app import AppServices, open_services
from desktop_app.services.cases import Triage
from desktop_app.services.context import Actor, FixedClock
from desktop_app.services.demo import DemoService
from desktop_app.services.ledger import CaseFilter, SortKey
from desktop_app.storage import database
from desktop_app.storage.database import SCHEMA_HEAD, Database, current_revision
from desktop_app.storage.models import AuditEntry, Base, Case
from desktop_app.storage.numbering import next_number
from tests.helpers import pg
from tests.helpers.factories import USER_PASSWORD, enterprise_form, person_form
from tests.helpers.ids import id_number
from tests.helpers.site import county_site
from tests.helpers.speed import fast_password_hashing  # noqa: F401

NOW = datetime(2026, 11, 25, 9, 30)


def _clerk(services: AppServices) -> Actor:
    return services.auth.login("clerk1", USER_PASSWORD)


def _leader(services: AppServices) -> Actor:
    return services.auth.login("leader1", USER_PASSWORD)


def _engine_name(db_url: str | None) -> str:
    return "sqlite" if db_url is None else "postgresql"


# Schema ---------------------------------------------------------------------------------------


def test_migrations_reach_head_and_reopening_changes_nothing(
    make_services: Callable[..., AppServices], db_url: str | None
) -> None:
    services = make_services()
    assert services.db.engine.dialect.name == _engine_name(db_url)
    assert current_revision(services.db.engine) == SCHEMA_HEAD
    with services.db.engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
    assert {"cases", "complainants", "assignments", "slips", "number_sequences"} <= tables
    assert "case_search" in tables  # FTS5 on SQLite, a plain table on PostgreSQL

    assert services.db.migrate() is False
    # A second process (here: another data dir on the same database, with the first one's
    # keys copied as a second seat needs them, or the same SQLite file).
    if db_url is not None:
        shutil.copytree(services.layout.keys, services.layout.root.parent / "另一个目录" / "keys")
    again = make_services("数据 目录" if db_url is None else "另一个目录")
    assert again.db.migrate() is False
    assert current_revision(again.db.engine) == SCHEMA_HEAD


@pytest.mark.postgresql
def test_migrations_build_exactly_the_schema_of_the_models_on_postgresql() -> None:
    pg.require_server()
    db = Database(pg.fresh_pg_url() or "")
    try:
        db.migrate()
        with db.engine.connect() as connection:
            diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        db.dispose()
    # case_search is made by the migration on purpose and has no model, nor its GIN index (0015).
    # Nor the ledger's indexes (0016–0017, expressions ``COLLATE "C"``), named ix_ledger_*,
    # nor the count of every case that triggers keep (0017).
    by_hand = {("remove_table", "case_search"), ("remove_index", "ix_case_search_grams")}
    by_hand.add(("remove_table", "case_totals"))
    unexpected = [
        d
        for d in diffs
        if not (isinstance(d, tuple) and (d[0], d[1].name) in by_hand)
        and not (isinstance(d, tuple) and d[0] == "remove_index" and _ledger_index(d[1].name))
    ]
    assert unexpected == []


def _ledger_index(name: str | None) -> bool:
    return bool(name and name.startswith("ix_ledger_"))


def test_a_database_from_a_newer_release_is_refused(
    tmp_path: Path, clock: FixedClock, db_url: str | None
) -> None:
    services = open_services(tmp_path / "d", clock=clock, db_url=db_url)
    with services.db.write() as session:
        session.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    services.close()

    with pytest.raises(DatabaseTooNew) as caught:
        open_services(tmp_path / "d", clock=clock, db_url=db_url)
    assert "9999" in caught.value.message and SCHEMA_HEAD in caught.value.message


# The whole loop -------------------------------------------------------------------------------


def test_the_whole_loop_through_the_services(site_on_engine: AppServices) -> None:
    services = site_on_engine
    clerk, leader = _clerk(services), _leader(services)
    registered = services.intake.register(clerk, person_form())
    case_id = registered.case_id
    assert registered.number == "杞县-2026-0001"

    services.cases.triage(
        clerk, case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
    )
    lead_department, helper = (d.id for d in services.site.departments())
    ids, _ = services.assignments.create(
        clerk,
        case_id,
        department_id=lead_department,
        assisting_ids=[helper],
        requirements="请核实参保信息迁移问题，依法办理并书面反馈。",
    )
    number, _ = services.assignments.issue(leader, ids[0])
    assert number == "杞纪窗交〔2026〕1号"
    _info, content = services.assignments.slip_content(number)
    assert services.assignments.verify(content.qr_payload).valid
    services.assignments.receive(clerk, ids[0], received_on=NOW.date(), received_by="张科长")
    services.assignments.respond(clerk, ids[0], "已恢复参保信息，结算完成")
    assert services.assignments.get(ids[0]).state is AssignmentState.RESPONDED
    # The assisting department answers too: a case is not concluded over an open assignment.
    services.assignments.respond(clerk, ids[1], "已配合核实参保记录")

    services.cases.conclude(
        clerk,
        case_id,
        outcome=Outcome.DONE,
        what_was_done="医保局补录参保信息",
        reply_method=ReplyMethod.PHONE,
        reply_text="已补录，可以结算",
    )
    services.cases.record_visit(clerk, case_id, grade=VisitGrade.SATISFIED)

    detail = services.cases.detail(case_id)
    assert detail.status is CaseStatus.VISITED
    assert [e.label for e in detail.timeline][-2:] == ["办结", "回访核查"]
    [record] = services.ledger.export_records(CaseFilter(text="王芳"))
    assert record["status"] == CaseStatus.VISITED.value
    assert record["slip_numbers"] == [number]
    report = services.maintenance.check()
    assert report.ok, report.problems
    assert (report.cases, report.database) == (1, "ok")


# The ledger -----------------------------------------------------------------------------------

_PEOPLE = [
    ("王芳", "医保结算查不到参保信息", "医保社保", Channel.WINDOW),
    ("王小芳", "医保卡异地报销被拒", "医保社保", Channel.PHONE),
    ("李𠀀䶮", "不动产登记证办理", "不动产登记", Channel.PHONE),
    ("赵磊", "公积金提取证明开不出", "住房公积金", Channel.WINDOW),
    ("Zhang Wei", "ABC Pharmacy 经营许可", "市场准入许可", Channel.ONLINE),
    ("芳草", "Road 修路 100%_完成？", "市场准入许可", Channel.WINDOW),
    ("钱多多", "社保转移接续", "医保社保", Channel.ONLINE),
]

_QUERIES = ["", "王", "芳", "王芳", "医保", "杞县-2026-0003", "2026-0005", "pharmacy", "100%",
            "%", "_", "不存在的词", "𠀀", "Road修路"]  # fmt: skip


def _build_ledger(services: AppServices) -> None:
    clerk = _clerk(services)
    departments = [d.id for d in services.site.departments()]
    for index, (name, title, area, channel) in enumerate(_PEOPLE):
        form = person_form(
            name=name,
            id_number=id_number(f"41022119800101{index:03d}"),
            phone=f"1380000{index:04d}",
            title=title,
            area=area,
            channel=channel,
            received_at=NOW - timedelta(days=index, hours=index),
            stuck_department_id=departments[index % 2] if index % 3 else None,
            visits_count=(index * 5) % 4 + 1,
        )
        services.intake.register(clerk, form)
    services.intake.register(clerk, enterprise_form(received_at=NOW - timedelta(days=30)))
    with services.db.write() as session:  # due dates as assignments would set them
        for case_id in (1, 3, 4, 6):
            session.execute(
                update(Case)
                .where(Case.id == case_id)
                .values(due_date=date(2026, 12, case_id % 3 + 1))
            )
    first = services.ledger.ids(CaseFilter(text="王芳"))[0]
    services.cases.withdraw(clerk, first, "已自行解决")


def _ledger_answers(services: AppServices) -> dict[str, object]:
    ledger = services.ledger

    def numbers(ids: list[int]) -> list[str]:
        return [row.number for row in ledger.rows(ids)]

    answers: dict[str, object] = {}
    for query in _QUERIES:
        answers[f"search {query!r}"] = numbers(ledger.ids(CaseFilter(text=query)))
        answers[f"count {query!r}"] = ledger.count(CaseFilter(text=query))
    for key in SortKey:
        for descending in (False, True):
            answers[f"sort {key} {descending}"] = numbers(
                ledger.ids(sort=key, descending=descending)
            )
    answers["page"] = numbers(ledger.ids(sort=SortKey.NUMBER, descending=False, limit=3))
    answers["filters"] = numbers(
        ledger.ids(
            CaseFilter(
                text="医保",
                statuses=(CaseStatus.REGISTERED,),
                channel=Channel.PHONE,
                received_from=(NOW - timedelta(days=3)).date(),
            )
        )
    )
    answers["area"] = numbers(ledger.ids(CaseFilter(area="医保社保")))
    answers["dashboard"] = ledger.dashboard(NOW.date())
    answers["rows"] = ledger.rows(ledger.ids())
    return answers


@pytest.fixture
def both_engines(tmp_path: Path, clock: FixedClock) -> Iterator[tuple[AppServices, AppServices]]:
    pg.require_server()
    with (
        county_site(tmp_path / "sqlite", clock) as lite,
        # Pinyin order by default (ICU "zh"): the ledger must still sort as SQLite does.
        county_site(tmp_path / "pg", clock, db_url=pg.fresh_pg_url(icu_locale="zh")) as postgres,
    ):
        yield lite, postgres


@pytest.mark.postgresql
def test_the_ledger_answers_the_same_on_both_engines(
    both_engines: tuple[AppServices, AppServices],
) -> None:
    lite, postgres = both_engines
    for services in both_engines:
        _build_ledger(services)

    expected, answers = _ledger_answers(lite), _ledger_answers(postgres)

    assert expected["search '王'"] == ["杞县-2026-0001", "杞县-2026-0002"]  # newest first
    assert expected["search '芳'"] == ["杞县-2026-0001", "杞县-2026-0002", "杞县-2026-0006"]
    assert expected["search '杞县-2026-0003'"] == ["杞县-2026-0003"]
    assert expected["search '100%'"] == ["杞县-2026-0006"]
    assert expected["search '不存在的词'"] == expected["search '%'"] == []
    assert len(expected["sort number False"]) == 8  # type: ignore[arg-type]
    for key, value in expected.items():
        assert answers[key] == value, key


# Deadlines ------------------------------------------------------------------------------------


def test_the_deadline_board_and_month_sheet(site_on_engine: AppServices) -> None:
    services = site_on_engine
    clerk = _clerk(services)
    health = services.site.departments()[0].id
    due: dict[str, date | None] = {}
    for key, nature, approach in [
        ("hard", Nature.HARD, Approach.PUSH),
        ("wont", Nature.WONT, Approach.ORDER),
        ("cant", Nature.CANT, Approach.ORDER),
    ]:
        case_id = services.intake.register(
            clerk, person_form(title=f"事项{key}", stuck_department_id=health)
        ).case_id
        services.cases.triage(
            clerk, case_id, Triage(nature, approach, (Cause.PROCESS,), "医保社保")
        )
        due[key] = services.cases.detail(case_id).due_date
    assert due["wont"] == date(2026, 12, 2)  # five working days from Wed 11-25
    assert due["hard"] == date(2026, 12, 9)

    today = services.deadlines.today(NOW.date())
    assert today.overdue == 0
    by_day = services.deadlines.counts_by_day(date(2026, 11, 1), date(2026, 12, 31))
    assert sum(sum(c.values()) for c in by_day.values()) == len(
        services.deadlines.items(None, None, NOW.date())
    )
    assert by_day[date(2026, 12, 9)] == {DeadlineKind.CASE: 1}

    december = services.deadlines.month(2026, 12, NOW.date())
    cell = december.cell(date(2026, 12, 9))
    assert cell is not None and cell.counts == {DeadlineKind.CASE: 1}
    october = services.deadlines.month(2026, 10, NOW.date())
    national_day = october.cell(date(2026, 10, 1))
    assert national_day is not None and not national_day.working


# Checks and backups ---------------------------------------------------------------------------


def test_check_notices_an_edited_audit_entry(site_on_engine: AppServices) -> None:
    services = site_on_engine
    services.intake.register(_clerk(services), person_form())
    assert services.maintenance.check().ok
    with services.db.write() as session:
        newest = session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
        assert newest is not None
        newest.user_name = "someone_else"
    report = services.maintenance.check()
    assert not report.ok
    with services.db.read() as session:
        assert audit.verify_chain(session)


@pytest.mark.postgresql
def test_backup_on_postgresql_says_to_use_pg_dump(tmp_path: Path, clock: FixedClock) -> None:
    pg.require_server()
    services = open_services(tmp_path / "d", clock=clock, db_url=pg.fresh_pg_url())
    try:
        administrator = Actor(None, "admin", "管理员", Role.ADMIN)
        with pytest.raises(EnvironmentProblem) as caught:
            services.backups.backup(administrator, to=tmp_path / "backups")
    finally:
        services.close()
    assert "pg_dump" in caught.value.message
    assert not (tmp_path / "backups").exists()


# PostgreSQL only ------------------------------------------------------------------------------


@pytest.mark.postgresql
def test_concurrent_writers_get_unique_gap_free_case_numbers(
    tmp_path: Path, clock: FixedClock
) -> None:
    """Two app instances (two engines, as two workstations would be) on one database."""
    pg.require_server()
    url = pg.fresh_pg_url()
    per_thread = 10
    with county_site(tmp_path / "first", clock, db_url=url) as first:
        clerk = _clerk(first)
        # A second seat without the site's keys is refused (it would seal with its own key)…
        with pytest.raises(UserError, match="bbcs seat join"):
            open_services(tmp_path / "second", clock=clock, db_url=url)
        # …and works with the keys folder copied from the first seat.
        shutil.rmtree(tmp_path / "second" / "keys", ignore_errors=True)
        shutil.copytree(tmp_path / "first" / "keys", tmp_path / "second" / "keys")
        second = open_services(tmp_path / "second", clock=clock, db_url=url)
        numbers: list[str] = []
        failures: list[BaseException] = []
        lock = threading.Lock()
        start = threading.Barrier(2)

        def work(writer: AppServices) -> None:
            try:
                start.wait()
                for _ in range(per_thread):
                    result = writer.intake.register(clerk, person_form())
                    with lock:
                        numbers.append(result.number)
            except BaseException as exc:  # reported below
                failures.append(exc)

        threads = [threading.Thread(target=work, args=(w,)) for w in (first, second)]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
        finally:
            second.close()

        assert failures == []
        expected = [f"杞县-2026-{i:04d}" for i in range(1, 2 * per_thread + 1)]
        assert sorted(numbers) == expected
        assert first.ledger.count(CaseFilter(text="王芳")) == 2 * per_thread
        assert first.maintenance.check().ok


@pytest.mark.postgresql
def test_the_counter_itself_is_safe_without_the_writer_lock(
    tmp_path: Path, clock: FixedClock
) -> None:
    """next_number on plain sessions (no bbcs_write): the row lock alone keeps it gap-free,
    including the race to create a new year's counter."""
    pg.require_server()
    services = open_services(tmp_path / "d", clock=clock, db_url=pg.fresh_pg_url())
    taken: list[int] = []
    failures: list[BaseException] = []
    start = threading.Barrier(4)

    def work() -> None:
        try:
            start.wait()
            for _ in range(10):
                with Session(services.db.engine) as session, session.begin():
                    value = next_number(session, "test", 2031)
                taken.append(value)
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        services.close()
    assert failures == []
    assert sorted(taken) == list(range(1, 41))


@pytest.mark.postgresql
def test_a_writer_waits_for_another_and_gives_up_plainly(
    tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    pg.require_server()
    monkeypatch.setattr(database, "LOCK_TIMEOUT_SECONDS", 1)
    with county_site(tmp_path / "d", clock, db_url=pg.fresh_pg_url()) as services:
        clerk = _clerk(services)
        with services.db.write() as session:
            session.execute(text("SELECT 1"))  # holds the writer lock until the block ends
            with pytest.raises(EnvironmentProblem) as caught:
                services.intake.register(clerk, person_form())
            # Readers never wait.
            assert services.ledger.count() == 0
        assert "占用" in caught.value.message
        assert services.intake.register(clerk, person_form()).number == "杞县-2026-0001"


@pytest.mark.postgresql
def test_a_database_that_is_not_utf8_is_refused(tmp_path: Path, clock: FixedClock) -> None:
    pg.require_server()
    with pytest.raises(EnvironmentProblem) as caught:
        open_services(tmp_path / "d", clock=clock, db_url=pg.fresh_pg_url("SQL_ASCII"))
    assert "UTF8" in caught.value.message and "SQL_ASCII" in caught.value.message


def test_an_unreachable_server_is_an_environment_problem(tmp_path: Path) -> None:
    """No server needed: nothing listens on port 1."""
    url = "postgresql+psycopg://bbcs:s3cret-pw@127.0.0.1:1/bbcs?connect_timeout=3"
    with pytest.raises(EnvironmentProblem) as caught:
        open_services(tmp_path / "d", db_url=url)
    assert "无法连接数据库服务器" in caught.value.message
    assert "s3cret-pw" not in caught.value.message


def test_a_bare_postgresql_url_means_psycopg() -> None:
    assert database.parse_url("postgresql://u:p@h/db").drivername == "postgresql+psycopg"
    with pytest.raises(EnvironmentProblem):
        database.parse_url("mysql://u:p@h/db")


# Demo data ------------------------------------------------------------------------------------


def test_demo_data_on_each_engine(site_on_engine: AppServices) -> None:
    """`bbcs demo` on a fresh site, then ordinary work on top of it (ids, numbers, search)."""
    services = site_on_engine
    # The demo makes its own users; the fixture's would collide with some of them.
    with services.db.write() as session:
        renamed = session.execute(
            text("UPDATE users SET username = username || '_t' WHERE role <> 'admin' RETURNING id")
        ).scalars()
        # A write past the services, as the demo's own bulk rows: its records are resealed.
        integrity.note_written(session, "users", list(renamed))
    summary = DemoService(
        services.db, services.clock, services.keys, sealer=services.sealer
    ).generate(120)
    assert summary.cases == 120

    clerk = services.auth.login("clerk1_t", USER_PASSWORD)
    leader = services.auth.login("leader1_t", USER_PASSWORD)
    case_id = services.intake.register(clerk, person_form(name="贺新郎")).case_id
    services.cases.triage(
        clerk, case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
    )
    department = services.site.departments()[0].id
    ids, _ = services.assignments.create(
        clerk, case_id, department_id=department, requirements="请依法办理并书面反馈。"
    )
    services.assignments.issue(leader, ids[0])

    assert services.ledger.ids(CaseFilter(text="贺新郎")) == [case_id]
    demo_row = services.ledger.rows(services.ledger.ids(limit=5))[-1]
    found = services.ledger.ids(CaseFilter(text=demo_row.complainant_name[:2]))
    assert demo_row.id in found
    report = services.maintenance.check()
    assert report.ok, report.problems
