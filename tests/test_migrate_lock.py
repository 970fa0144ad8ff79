"""A newer bbcs never upgrades the schema under a running older one (issue 15 item 4).

The older window holds the data dir's writer lock; a newer build's command that only reads
(``cases``, ``check``) used to migrate the schema without it, and the older window's next save
then failed against tables it did not know.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command

from desktop_app.errors import AlreadyRunning
from desktop_app.paths import DataLayout
from desktop_app.services.app import open_services
from desktop_app.storage.database import (
    InstanceLock,
    alembic_config,
    current_revision,
    head_revision,
    make_engine,
)
from tests.helpers.cli import run_bbcs
from tests.test_storage import lock_held_elsewhere

OLD_REVISION = "0007"


def _database_at_an_older_revision(data_dir: Path) -> None:
    """A site's database as the release before issue 15 left it (schema 0007)."""
    data_dir.mkdir(parents=True, exist_ok=True)
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
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), OLD_REVISION)
    finally:
        engine.dispose()


def _revision(data_dir: Path) -> str | None:
    engine = make_engine(DataLayout(data_dir).database_url())
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


def test_a_read_only_command_leaves_the_schema_alone_while_another_bbcs_holds_the_dir(
    data_dir: Path,
) -> None:
    _database_at_an_older_revision(data_dir)

    with lock_held_elsewhere(data_dir):
        results = [run_bbcs(name, data_dir=data_dir) for name in ("cases", "check")]
        with pytest.raises(AlreadyRunning) as caught:
            open_services(data_dir)

    for result in results:
        assert result.returncode == 2, result.stderr
        assert "正在使用这个数据目录" in result.stderr and "旧版本" in result.stderr
        assert "请先关闭" in result.stderr
        assert "Traceback" not in result.stderr
    assert "未作任何改动" in caught.value.message
    assert _revision(data_dir) == OLD_REVISION
    assert list((data_dir / "backups").glob("*before-upgrade*")) == []


def test_with_the_dir_free_a_read_only_open_upgrades_under_the_lock_and_lets_go(
    data_dir: Path,
) -> None:
    _database_at_an_older_revision(data_dir)

    services = open_services(data_dir)
    try:
        assert current_revision(services.db.engine) == head_revision()
        assert services.site.info().code == "410221"
        # The lock was taken for the upgrade only: a window can start meanwhile.
        assert not InstanceLock.held_by_this_process(DataLayout(data_dir))
        with InstanceLock(DataLayout(data_dir)):
            pass
    finally:
        services.close()
    assert [p.name for p in (data_dir / "backups").glob("*before-upgrade*")] != []


def test_the_lock_holder_upgrades_without_taking_the_lock_twice(data_dir: Path) -> None:
    _database_at_an_older_revision(data_dir)

    with InstanceLock(DataLayout(data_dir)):
        services = open_services(data_dir)
        try:
            assert current_revision(services.db.engine) == head_revision()
        finally:
            services.close()


def test_an_up_to_date_database_opens_for_reading_beside_a_running_window(
    data_dir: Path,
) -> None:
    open_services(data_dir).close()

    with lock_held_elsewhere(data_dir):
        services = open_services(data_dir)  # nothing to upgrade: no lock needed
        services.close()
