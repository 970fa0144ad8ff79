"""The database file: SQLite settings, migrations, the audit chain, one writer, backups."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from desktop_app.errors import AlreadyRunning, DatabaseTooNew
from desktop_app.paths import DataLayout
from desktop_app.services import audit
from desktop_app.services.app import AppServices, open_services
from desktop_app.services.context import Actor, FixedClock
from desktop_app.services.ledger import CaseFilter
from desktop_app.storage.database import (
    PAGE_SIZE,
    Database,
    InstanceLock,
    alembic_config,
    current_revision,
    head_revision,
    make_engine,
)
from desktop_app.storage.models import Base
from tests.helpers.cli import REPO_ROOT, run_bbcs, subprocess_env
from tests.helpers.db import audit_entries, raw_connect
from tests.helpers.factories import enterprise_form, person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401

SEARCH_TABLES = {
    "case_search",
    "case_search_data",
    "case_search_idx",
    "case_search_content",
    "case_search_docsize",
    "case_search_config",
}


# SQLite settings ------------------------------------------------------------------------------


def test_connections_are_durable(bare_services: AppServices) -> None:
    with bare_services.db.engine.connect() as connection:
        pragma = connection.exec_driver_sql
        assert pragma("PRAGMA journal_mode").scalar() == "wal"
        assert pragma("PRAGMA synchronous").scalar() == 2  # FULL
        assert pragma("PRAGMA foreign_keys").scalar() == 1
        assert pragma("PRAGMA busy_timeout").scalar() >= 1000
    with bare_services.db.read() as session:
        assert session.execute(text("PRAGMA synchronous")).scalar() == 2
    with bare_services.db.write() as session:
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_a_new_database_has_large_pages_and_an_old_one_keeps_its_own(
    bare_services: AppServices, tmp_path: Path
) -> None:
    with bare_services.db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA page_size").scalar() == PAGE_SIZE
    old = tmp_path / "old.db"
    raw = sqlite3.connect(old)
    raw.execute("PRAGMA page_size=4096")
    raw.execute("CREATE TABLE t (x INTEGER)")
    raw.execute("INSERT INTO t VALUES (1)")
    raw.commit()
    raw.close()
    engine = make_engine(f"sqlite:///{old}")
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("INSERT INTO t VALUES (2)")
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA page_size").scalar() == 4096
            assert connection.exec_driver_sql("SELECT sum(x) FROM t").scalar() == 3
    finally:
        engine.dispose()


def test_foreign_keys_are_enforced(services: AppServices) -> None:
    with pytest.raises(Exception, match="FOREIGN KEY"), services.db.write() as session:
        session.execute(
            text(
                "INSERT INTO case_events (case_id, at, kind, summary, data, user_name, uuid,"
                " version) VALUES (4242, '2026-11-25 09:30:00', 'note', 'x', '{}', '', 'u1', 1)"
            )
        )


def test_the_database_lives_in_the_data_dir(bare_services: AppServices, data_dir: Path) -> None:
    assert bare_services.layout.database == data_dir / "bbcs.db"
    assert (data_dir / "bbcs.db").is_file()
    for folder in ("attachments", "backups", "logs"):
        assert (data_dir / folder).is_dir()


# Migrations -----------------------------------------------------------------------------------


def test_migrate_on_a_fresh_database_creates_everything(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{(tmp_path / 'fresh.db').as_posix()}")
    try:
        assert database.migrate() is True
        assert current_revision(database.engine) == head_revision()
        tables = set(inspect(database.engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        assert "case_search" in tables and "alembic_version" in tables
        assert database.migrate() is False  # nothing left to do
    finally:
        database.dispose()


def test_migrations_build_exactly_the_schema_of_the_models(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{(tmp_path / 'fresh.db').as_posix()}")
    try:
        database.migrate()
        with database.engine.connect() as connection:
            diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        database.dispose()
    # The FTS5 search index is made by the migration on purpose and has no model, nor are the
    # ledger's sort indexes (0016, named ix_ledger_*).
    unexpected = [
        d
        for d in diffs
        if not (isinstance(d, tuple) and d[0] == "remove_table" and d[1].name in SEARCH_TABLES)
        and not (
            isinstance(d, tuple) and d[0] == "remove_index" and d[1].name.startswith("ix_ledger_")
        )
    ]
    assert unexpected == []


def _database_at_first_revision(data_dir: Path) -> None:
    engine = make_engine(DataLayout(data_dir).database_url())
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0001")
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO sites (code, name, short_name, level, is_local, is_demo,"
                " slip_prefix, created_at) VALUES ('410221', '杞县办不成事监督窗口', '杞县',"
                " 'county', 1, 0, '', '2025-03-01 08:00:00')"
            )
            connection.exec_driver_sql(
                "INSERT INTO areas (name, position, active) VALUES ('医保社保', 0, 1)"
            )
    finally:
        engine.dispose()


def test_a_database_from_the_first_release_opens_with_its_data(
    data_dir: Path, clock: FixedClock
) -> None:
    _database_at_first_revision(data_dir)

    services = open_services(data_dir, clock=clock)
    try:
        assert current_revision(services.db.engine) == head_revision()
        info = services.site.info()
        assert (info.code, info.short_name) == ("410221", "杞县")
        assert services.site.areas() == ["医保社保"]
    finally:
        services.close()
    backups = list((data_dir / "backups").glob("*.db"))
    if head_revision() == "0001":
        assert backups == []  # nothing was upgraded, so nothing needed backing up
    else:
        assert len(backups) == 1 and "before-upgrade-0001" in backups[0].name
        copy = sqlite3.connect(backups[0])
        try:
            assert copy.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
            assert copy.execute("SELECT code FROM sites").fetchone() == ("410221",)
        finally:
            copy.close()


def test_a_database_from_a_newer_release_is_refused(data_dir: Path, clock: FixedClock) -> None:
    open_services(data_dir, clock=clock).close()
    connection = raw_connect(data_dir)
    connection.execute("UPDATE alembic_version SET version_num = '9999'")
    connection.close()

    with pytest.raises(DatabaseTooNew) as caught:
        open_services(data_dir, clock=clock)

    assert "9999" in caught.value.message
    assert head_revision() in caught.value.message
    assert "新版" in caught.value.message
    # Refusing must not touch the file.
    connection = raw_connect(data_dir)
    try:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [
            ("9999",)
        ]
    finally:
        connection.close()


def test_the_command_line_refuses_a_newer_database_plainly(data_dir: Path) -> None:
    open_services(data_dir).close()
    connection = raw_connect(data_dir)
    connection.execute("UPDATE alembic_version SET version_num = '9999'")
    connection.close()

    result = run_bbcs("check", data_dir=data_dir)

    assert result.returncode == 2
    assert "9999" in result.stderr and "新版" in result.stderr
    assert "Traceback" not in result.stderr


# Audit chain ----------------------------------------------------------------------------------


@pytest.fixture
def busy(services: AppServices, clerk: Actor) -> AppServices:
    """A site with some history: two cases, one concluded."""
    from desktop_app.domain.vocabulary import Outcome, ReplyMethod

    first = services.intake.register(clerk, person_form())
    services.intake.register(clerk, enterprise_form())
    services.cases.conclude(
        clerk,
        first.case_id,
        outcome=Outcome.DONE,
        what_was_done="已办",
        reply_method=ReplyMethod.PHONE,
        reply_text="已答复",
    )
    return services


def _verify(services: AppServices) -> list[str]:
    with services.db.read() as session:
        return audit.verify_chain(session)


def _register_entry_id(services: AppServices) -> int:
    case_id = services.cases.find_by_number("杞县-2026-0001")
    entries = audit_entries(services, services.cases.detail(case_id).uuid)
    return next(e["id"] for e in entries if e["action"] == "register")


def test_the_audit_chain_is_intact_after_ordinary_work(busy: AppServices) -> None:
    assert _verify(busy) == []
    report = busy.maintenance.check()
    assert report.ok, report.problems
    assert report.database == "ok"
    assert report.cases == 2
    assert report.audit_entries >= 10


def test_an_edited_audit_entry_is_noticed(busy: AppServices) -> None:
    entry_id = _register_entry_id(busy)
    connection = raw_connect(busy.layout.root)
    connection.execute(
        "UPDATE audit_log SET \"after\" = json_set(\"after\", '$.title', '改过的标题')"
        " WHERE id = ?",
        (entry_id,),
    )
    connection.close()

    problems = _verify(busy)

    assert problems == [f"审计日志第 {entry_id} 条内容被改动"]
    report = busy.maintenance.check()
    assert not report.ok
    assert f"审计日志第 {entry_id} 条内容被改动" in report.problems


def test_an_edited_audit_user_is_noticed(busy: AppServices) -> None:
    entry_id = _register_entry_id(busy)
    connection = raw_connect(busy.layout.root)
    connection.execute("UPDATE audit_log SET user_name = 'admin' WHERE id = ?", (entry_id,))
    connection.close()
    assert _verify(busy) == [f"审计日志第 {entry_id} 条内容被改动"]


def test_a_deleted_audit_entry_is_noticed(busy: AppServices) -> None:
    entry_id = _register_entry_id(busy)
    connection = raw_connect(busy.layout.root)
    connection.execute("DELETE FROM audit_log WHERE id = ?", (entry_id,))
    connection.close()

    problems = _verify(busy)

    assert problems == [f"审计日志第 {entry_id + 1} 条之前的记录缺失或被改动"]
    assert not busy.maintenance.check().ok


def test_deleting_the_newest_audit_entry_is_noticed(busy: AppServices) -> None:
    """The tail of the chain has no successor to vouch for it; the check must still see it go."""
    connection = raw_connect(busy.layout.root)
    connection.execute("DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)")
    connection.close()

    assert not busy.maintenance.check().ok


def test_a_case_status_edited_behind_the_apps_back_is_noticed(busy: AppServices) -> None:
    connection = raw_connect(busy.layout.root)
    connection.execute("UPDATE cases SET status = 'visited' WHERE number = '杞县-2026-0002'")
    connection.close()

    report = busy.maintenance.check()

    assert not report.ok
    assert any("杞县-2026-0002" in p and "不一致" in p for p in report.problems)


def test_a_damaged_material_is_noticed_and_a_changed_copy_on_the_pc_is_not_opened(
    services: AppServices, clerk: Actor, tmp_path: Path
) -> None:
    """Materials are kept in the database (every backup holds them); the folder caches them."""
    from sqlalchemy import text

    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4 scan")
    result = services.intake.register(clerk, person_form(attachments=(scan,)))
    (material,) = services.cases.detail(result.case_id).attachments
    assert services.maintenance.check().ok

    material.path.write_bytes(b"%PDF-1.4 tampered")  # the copy on this PC
    opened = services.attachments.readable_copy(material.sha256, "scan.pdf", tmp_path / "open")
    assert opened.read_bytes() == b"%PDF-1.4 scan"  # fetched again from the database
    material.path.unlink()
    assert services.maintenance.check().ok  # a cache, not the store

    with services.db.write() as session:
        session.execute(
            text("UPDATE material_chunks SET content = zeroblob(length(content)) WHERE seq = 0")
        )
    report = services.maintenance.check()
    assert not report.ok
    assert any("材料" in p for p in report.problems), report.problems


def test_an_upgraded_countys_materials_go_into_the_database_at_its_first_writing_open(
    services: AppServices, clerk: Actor, data_dir: Path, tmp_path: Path
) -> None:
    """Before this release a county's materials were files only: the writer's first open seals
    them in (a command that only reads leaves them, it may not write)."""
    from sqlalchemy import text

    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4 scan")
    services.intake.register(clerk, person_form(attachments=(scan,)))
    with services.db.write() as session:
        session.execute(text("DELETE FROM material_chunks"))  # as an older release left it
    services.close()

    def pieces(opened: AppServices) -> int:
        with opened.db.read() as session:
            return int(session.scalar(text("SELECT count(*) FROM material_chunks")) or 0)

    reader = open_services(data_dir)
    try:
        assert pieces(reader) == 0
        # bbcs check before the window opened: nothing is wrong, the material waits in the
        # folder (it said 材料…在数据库中缺失 and failed).
        report = reader.maintenance.check()
        assert report.ok, report.problems
        assert any("1 份材料仍只在数据目录" in note for note in report.notes), report.notes
    finally:
        reader.close()
    with InstanceLock(DataLayout(data_dir)):
        writer = open_services(data_dir)
        try:
            assert pieces(writer) == 1 and writer.maintenance.check().ok
        finally:
            writer.close()

    # Moved in once, a material that is not in the database any more was removed from it: a
    # problem again, however whole the folder's copy is (the note must not hide a deletion).
    reader = open_services(data_dir)
    try:
        with reader.db.write() as session:
            session.execute(text("DELETE FROM material_chunks"))
        report = reader.maintenance.check()
        assert any("在数据库中缺失" in p for p in report.problems), report
        assert report.notes == []
    finally:
        reader.close()


# One writer per data dir ----------------------------------------------------------------------


def test_a_second_instance_lock_on_the_same_data_dir_is_refused(data_dir: Path) -> None:
    first = InstanceLock(DataLayout(data_dir))
    second = InstanceLock(DataLayout(data_dir))
    first.acquire()
    try:
        with pytest.raises(AlreadyRunning) as caught:
            second.acquire()
        assert "已在使用这个数据目录" in caught.value.message
    finally:
        first.release()

    with second, pytest.raises(AlreadyRunning):
        first.acquire()
    first.acquire()
    first.release()


def test_different_data_dirs_do_not_block_each_other(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with InstanceLock(DataLayout(tmp_path / "a")), InstanceLock(DataLayout(tmp_path / "b")):
        pass


HOLD_LOCK = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from desktop_app.paths import DataLayout
    from desktop_app.storage.database import InstanceLock

    lock = InstanceLock(DataLayout(Path(sys.argv[1])))
    lock.acquire()
    print("locked", flush=True)
    sys.stdin.read()  # held until the test closes the pipe (or kills this process)
    """
)


@contextlib.contextmanager
def lock_held_elsewhere(data_dir: Path) -> Iterator[None]:
    """A second bbcs process holding the data dir's writer lock for the duration."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(data_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
        cwd=REPO_ROOT,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.kill()
        holder.wait()
        for stream in (holder.stdin, holder.stdout):
            if stream is not None:
                stream.close()


def test_a_running_instance_makes_writing_commands_fail_plainly(
    data_dir: Path, tmp_path: Path
) -> None:
    batch = tmp_path / "网上反映.json"
    batch.write_text('[{"name": "王芳"}]', encoding="utf-8")
    with lock_held_elsewhere(data_dir):
        env = subprocess_env(BBCS_ADMIN_PASSWORD="Admin12345")
        init = run_bbcs(
            "init",
            "--site-code",
            "410221",
            "--site-name",
            "杞县办不成事监督窗口",
            "--level",
            "county",
            data_dir=data_dir,
            env=env,
        )
        intake = run_bbcs("intake", "--from", str(batch), data_dir=data_dir)

    for result in (init, intake):
        assert result.returncode == 2, result.stderr
        assert "已在使用这个数据目录" in result.stderr
        assert "Traceback" not in result.stderr
    # Nothing was initialised behind the running instance's back.
    assert not (data_dir / "bbcs.db").exists() or _site_count(data_dir) == 0
    # The lock goes with the process that held it.
    with InstanceLock(DataLayout(data_dir)):
        pass


def test_deleting_the_lock_file_does_not_let_a_second_writer_in(data_dir: Path) -> None:
    with lock_held_elsewhere(data_dir):
        # A careless user (or a cleaning script) removes the lock file; on Windows the held file
        # cannot be removed at all, which is just as good.
        with contextlib.suppress(PermissionError):
            (data_dir / "bbcs.lock").unlink()
        with pytest.raises(AlreadyRunning) as caught:
            InstanceLock(DataLayout(data_dir)).acquire()
        assert "已在使用这个数据目录" in caught.value.message

    # With the holder gone, the data dir is free again.
    with InstanceLock(DataLayout(data_dir)):
        pass


def _site_count(data_dir: Path) -> int:
    connection = raw_connect(data_dir)
    try:
        return int(connection.execute("SELECT count(*) FROM sites").fetchone()[0])
    finally:
        connection.close()


# Backups --------------------------------------------------------------------------------------


def test_a_backup_is_a_complete_readable_database(busy: AppServices, tmp_path: Path) -> None:
    target = tmp_path / "U盘" / "备份"

    path = busy.db.backup_to(target / "bbcs-manual-20261125-093000.db")

    assert path.parent == target and path.name == "bbcs-manual-20261125-093000.db"
    assert not list(target.glob("*.part"))
    # A second copy in the same second never replaces the first.
    again = busy.db.backup_to(target / "bbcs-manual-20261125-093000.db")
    assert again.name == "bbcs-manual-20261125-093000-2.db" and path.exists()
    copy = sqlite3.connect(path)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        numbers = [r[0] for r in copy.execute("SELECT number FROM cases ORDER BY seq")]
        assert numbers == ["杞县-2026-0001", "杞县-2026-0002"]
        row = copy.execute("SELECT count(*) FROM audit_log").fetchone()
        assert row[0] == busy.maintenance.check().audit_entries
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone() == (
            head_revision(),
        )
    finally:
        copy.close()


def test_a_backup_opens_as_a_data_dir(busy: AppServices, tmp_path: Path, clock: FixedClock) -> None:
    restored_dir = tmp_path / "恢复"
    restored_dir.mkdir()
    path = busy.db.backup_to(tmp_path / "bbcs-manual-20261125-093000.db")
    path.rename(restored_dir / "bbcs.db")
    # The numbers in it are sealed: the data key comes along (or from the recovery key).
    shutil.copytree(busy.layout.keys, restored_dir / "keys")

    restored = open_services(restored_dir, clock=clock)
    try:
        assert restored.ledger.count() == 2
        assert len(restored.ledger.ids(CaseFilter(text="王芳"))) == 1
        assert restored.maintenance.check().ok
    finally:
        restored.close()


def test_upgrading_a_first_release_database_with_cases_keeps_every_record(
    data_dir: Path, clock: FixedClock
) -> None:
    """Real data at revision 0001: cases with events, attachments and complainants. The upgrade
    rebuilds the cases table (SQLite), which must not trip the foreign keys pointing at it."""
    _database_at_first_revision(data_dir)
    raw = sqlite3.connect(DataLayout(data_dir).database)
    try:
        raw.executescript(
            """
            INSERT INTO complainants (id, kind, name, id_number, credit_code, contact_person,
                phone, address, id_override_reason, uuid, version)
            VALUES (1, 'person', '王芳', '', '', '', '13812345678', '', '', 'c-1', 1);
            INSERT INTO cases (id, site_code, year, seq, number, complainant_id, title,
                description, area, channel, stuck_at, visits_count, received_at, status, causes,
                updated_at, uuid, version)
            VALUES (1, '410221', 2026, 1, '杞县-2026-0001', 1, '医保结算查不到参保信息',
                '多次往返', '医保社保', 'window', '', 2, '2026-11-20 09:00:00.000000',
                'registered', '[]', '2026-11-20 09:00:00.000000', 'k-1', 1);
            INSERT INTO case_events (case_id, at, kind, summary, data, user_name, uuid, version)
            VALUES (1, '2026-11-20 09:00:00.000000', 'registered', '受理登记', '{}', '张敏',
                'e-1', 1);
            INSERT INTO case_search (rowid, body) VALUES (1, '王 芳');
            """
        )
        raw.commit()
    finally:
        raw.close()

    services = open_services(data_dir, clock=clock)
    try:
        assert current_revision(services.db.engine) == head_revision()
        detail = services.cases.detail(services.cases.find_by_number("杞县-2026-0001"))
        assert (detail.complainant_name, detail.visits_count) == ("王芳", 2)
        assert [e.label for e in detail.timeline] == ["受理登记"]
        assert services.ledger.ids(CaseFilter(text="王芳")) == [detail.id]
        report = services.maintenance.check()
        assert report.database == "ok"
        with services.db.read() as session:
            assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        services.close()
    assert len(list((data_dir / "backups").glob("bbcs-before-upgrade-0001-*.db"))) == 1


def test_the_schema_head_constant_matches_the_migration_scripts() -> None:
    from desktop_app.storage.database import SCHEMA_HEAD

    assert head_revision() == SCHEMA_HEAD
