"""Who may restore from the command line (issue 15 items 1 and 8): always someone who logged in
with the right to. A database that cannot be opened is no way around the log-in: the user is
checked against the backup being restored; only a truly fresh machine takes the recovery key."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from tests.helpers.cli import anonymous, as_user, run_bbcs
from tests.helpers.factories import ADMIN_PASSWORD, USER_PASSWORD, person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401


@pytest.fixture
def backed_up(services: AppServices, admin: Actor, clerk: Actor) -> tuple[Path, Path]:
    """A case, an audited backup of it, a second case; the services closed."""
    services.intake.register(clerk, person_form(name="王芳", title="备份前的事项"))
    backup = services.backups.backup(admin).backup.path
    services.intake.register(clerk, person_form(name="李娜", title="备份后的事项"))
    services.close()
    return backup, services.layout.root


def _titles(database: Path) -> list[str]:
    connection = sqlite3.connect(database)
    try:
        return [row[0] for row in connection.execute("SELECT title FROM cases ORDER BY id")]
    finally:
        connection.close()


def _garble(database: Path) -> None:
    with database.open("r+b") as file:
        file.write(b"this is not a database any more" * 4)


def test_over_a_damaged_database_the_user_is_checked_against_the_backup(
    backed_up: tuple[Path, Path],
) -> None:
    backup, data_dir = backed_up
    _garble(data_dir / "bbcs.db")

    clerk = run_bbcs(
        "restore", str(backup), data_dir=data_dir, env=as_user("clerk1", USER_PASSWORD)
    )
    assert clerk.returncode == 2
    assert "权限" in clerk.stderr or "无权" in clerk.stderr, clerk.stderr
    wrong = run_bbcs("restore", str(backup), data_dir=data_dir, env=as_user("admin", "Wrong12345!"))
    assert wrong.returncode == 2 and "密码" in wrong.stderr
    nobody = run_bbcs("restore", str(backup), data_dir=data_dir, env=anonymous())
    assert nobody.returncode == 2 and "登录" in nobody.stderr
    # Nothing was replaced by the refusals.
    with pytest.raises(sqlite3.DatabaseError):
        _titles(data_dir / "bbcs.db")

    done = run_bbcs("restore", str(backup), data_dir=data_dir, env=as_user("admin", ADMIN_PASSWORD))
    assert done.returncode == 0, done.stderr
    assert _titles(data_dir / "bbcs.db") == ["备份前的事项"]


def test_over_a_changed_administrator_record_the_password_is_checked_in_the_backup(
    backed_up: tuple[Path, Path],
) -> None:
    """A user whose record was changed by SQL cannot log in (its digest fails); the
    administrator so locked out restores with the password the backup holds."""
    backup, data_dir = backed_up
    connection = sqlite3.connect(data_dir / "bbcs.db")
    connection.execute("UPDATE users SET display_name = '别人' WHERE username = 'admin'")
    connection.commit()
    connection.close()

    refused = run_bbcs("cases", data_dir=data_dir, env=as_user("admin", ADMIN_PASSWORD))
    assert refused.returncode == 2
    assert "admin 的账户记录被绕过程序改动过（校验值不符），不能登录" in refused.stderr
    wrong = run_bbcs("restore", str(backup), data_dir=data_dir, env=as_user("admin", "Wrong12345!"))
    assert wrong.returncode == 2 and "密码" in wrong.stderr
    assert _titles(data_dir / "bbcs.db") == ["备份前的事项", "备份后的事项"]

    done = run_bbcs("restore", str(backup), data_dir=data_dir, env=as_user("admin", ADMIN_PASSWORD))
    assert done.returncode == 0, done.stderr
    assert _titles(data_dir / "bbcs.db") == ["备份前的事项"]
    assert run_bbcs("check", data_dir=data_dir).returncode == 0


def test_an_emptied_database_is_told_as_such_not_set_up_again_and_restores(
    backed_up: tuple[Path, Path],
) -> None:
    """A 0-byte bbcs.db (a power cut on a full disk) read as a site never set up, and bbcs init
    then made a new site over the old one's keys, backups and audit anchor."""
    backup, data_dir = backed_up
    (data_dir / "bbcs.db").write_bytes(b"")
    keys_before = {p.name: p.read_bytes() for p in (data_dir / "keys").iterdir() if p.is_file()}

    checked = run_bbcs("check", data_dir=data_dir)
    assert checked.returncode == 2
    assert "有站点的签名密钥，数据库里却没有站点数据" in checked.stderr, checked.stderr
    init = run_bbcs(
        "init",
        "--site-code",
        "410221",
        "--site-name",
        "杞县办不成事监督窗口",
        "--level",
        "county",
        data_dir=data_dir,
        env=anonymous(BBCS_ADMIN_PASSWORD=ADMIN_PASSWORD),
    )
    assert init.returncode == 2 and "不要重新初始化" in init.stderr, init.stderr
    keys_after = {p.name: p.read_bytes() for p in (data_dir / "keys").iterdir() if p.is_file()}
    assert keys_after == keys_before

    # (Any open seals the backups lying in clear in backups/: the .db is now a .bbcsbak.)
    sealed = backup if backup.exists() else backup.with_suffix(".bbcsbak")
    done = run_bbcs("restore", str(sealed), data_dir=data_dir, env=as_user("admin", ADMIN_PASSWORD))
    assert done.returncode == 0, done.stderr
    assert _titles(data_dir / "bbcs.db") == ["备份前的事项"]
    assert run_bbcs("check", data_dir=data_dir).returncode == 0


def test_moving_the_database_aside_does_not_make_the_recovery_key_path(
    backed_up: tuple[Path, Path], tmp_path: Path
) -> None:
    backup, data_dir = backed_up
    (data_dir / "bbcs.db").rename(tmp_path / "aside.db")  # keys/ still there

    clerk = run_bbcs(
        "restore", str(backup), data_dir=data_dir, env=as_user("clerk1", USER_PASSWORD)
    )
    assert clerk.returncode == 2, clerk.stdout
    assert not (data_dir / "bbcs.db").exists()


def test_a_fresh_machine_needs_the_recovery_key(
    backed_up: tuple[Path, Path], tmp_path: Path
) -> None:
    backup, _data_dir = backed_up
    fresh = tmp_path / "新电脑"
    fresh.mkdir()
    copied = shutil.copy(backup, tmp_path / backup.name)
    done = run_bbcs("restore", str(copied), data_dir=fresh, env=anonymous())
    assert done.returncode == 2
    assert "--recovery-key" in done.stderr
    assert not (fresh / "bbcs.db").exists()
