"""The command line logs in (issue 15 item 8): no command acts as an implicit administrator.

A command that changes data or shows personal data runs as ``--user`` (or ``BBCS_USER``) with
the password from ``BBCS_PASSWORD`` (or a prompt), with that user's role, and is audited under
that name; a wrong password, an unknown user or a locked account is a Chinese message, exit 2,
and an audited failed log-in. The calendar arithmetic and ``init`` need no user.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from desktop_app.domain.vocabulary import Role
from desktop_app.services.app import open_services
from tests.helpers.cli import anonymous, as_user, run_bbcs, subprocess_env
from tests.helpers.db import raw_connect
from tests.helpers.factories import ADMIN_PASSWORD, USER_PASSWORD
from tests.helpers.speed import CHEAP_HASHER

INIT = ("init", "--site-code", "410221", "--site-name", "杞县办不成事监督窗口", "--level", "county")
ROW = {
    "complainant_type": "person",
    "name": "王芳",
    "id_number": "11010519491231002X",
    "phone": "13812345678",
    "title": "医保结算查不到参保信息",
    "description": "在县人民医院办理医保结算时被告知查不到参保信息。",
    "area": "医保社保",
    "channel": "网上",
    "received_at": "2026-06-01 09:00",
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("login") / "site"
    result = run_bbcs(*INIT, data_dir=site, env=subprocess_env(BBCS_ADMIN_PASSWORD=ADMIN_PASSWORD))
    assert result.returncode == 0, result.stderr
    services = open_services(site, hasher=CHEAP_HASHER)
    try:
        admin = services.auth.login("admin", ADMIN_PASSWORD)
        services.auth.create_user(
            admin, username="clerk1", display_name="张敏", role=Role.CLERK, password=USER_PASSWORD
        )
    finally:
        services.close()
    return site


@pytest.fixture
def site(template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "数据 目录"
    shutil.copytree(template, target)
    return target


def _audit(site: Path, action: str) -> list[tuple[str, str]]:
    connection = raw_connect(site)
    try:
        rows = connection.execute(
            "SELECT user_name, coalesce(after, '') FROM audit_log WHERE action = ? ORDER BY id",
            (action,),
        ).fetchall()
    finally:
        connection.close()
    return [(str(user), str(after)) for user, after in rows]


def _case_count(site: Path) -> int:
    connection = raw_connect(site)
    try:
        return int(connection.execute("SELECT count(*) FROM cases").fetchone()[0])
    finally:
        connection.close()


def test_listing_cases_without_a_user_is_refused(site: Path) -> None:
    result = run_bbcs("cases", data_dir=site, env=anonymous())
    assert result.returncode == 2
    assert "此命令需要登录" in result.stderr and "--user" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_user_without_a_password_is_refused(site: Path) -> None:
    result = run_bbcs("--user", "clerk1", "cases", data_dir=site, env=anonymous())
    assert result.returncode == 2
    assert "BBCS_PASSWORD" in result.stderr


def test_intake_runs_as_the_user_who_logged_in(site: Path, tmp_path: Path) -> None:
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([ROW], ensure_ascii=False), encoding="utf-8")
    result = run_bbcs(
        "--user",
        "clerk1",
        "intake",
        "--from",
        str(batch),
        data_dir=site,
        env=anonymous(BBCS_PASSWORD=USER_PASSWORD),
    )
    assert result.returncode == 0, result.stderr
    assert [user for user, _ in _audit(site, "login")] == ["admin", "clerk1"]  # admin: set-up
    connection = raw_connect(site)
    try:
        case_entries = connection.execute(
            "SELECT DISTINCT user_name FROM audit_log WHERE entity = 'case'"
        ).fetchall()
    finally:
        connection.close()
    assert case_entries == [("clerk1",)]


def test_the_environment_names_the_user(site: Path) -> None:
    result = run_bbcs("cases", data_dir=site, env=as_user("clerk1", USER_PASSWORD))
    assert result.returncode == 0, result.stderr
    assert [user for user, _ in _audit(site, "login")] == ["admin", "clerk1"]  # admin: set-up


@pytest.mark.parametrize(
    ("username", "password"), [("clerk1", "Wrong12345"), ("nobody", "Wrong12345")]
)
def test_a_wrong_password_or_unknown_user_is_refused_and_audited(
    site: Path, tmp_path: Path, username: str, password: str
) -> None:
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([ROW], ensure_ascii=False), encoding="utf-8")
    result = run_bbcs(
        "intake", "--from", str(batch), data_dir=site, env=as_user(username, password)
    )
    assert result.returncode == 2
    assert "错误：用户名或密码不正确" in result.stderr
    assert _case_count(site) == 0
    shown = username if username == "clerk1" else "n***（无此用户）"  # no account: not kept
    assert [user for user, _ in _audit(site, "login_failed")] == [shown]


def test_a_locked_account_is_refused_even_with_the_right_password(site: Path) -> None:
    for _ in range(5):
        run_bbcs("cases", data_dir=site, env=as_user("clerk1", "Wrong12345"))
    result = run_bbcs("cases", data_dir=site, env=as_user("clerk1", USER_PASSWORD))
    assert result.returncode == 2
    assert "账号已锁定" in result.stderr and "管理员解锁" in result.stderr
    failures = _audit(site, "login_failed")
    assert len(failures) == 6 and '"locked"' in failures[-1][1]
    assert [user for user, _ in _audit(site, "lock")] == ["clerk1"]


def test_a_clerk_may_not_run_an_administrators_command(site: Path) -> None:
    result = run_bbcs("keys", "rotate", data_dir=site, env=as_user("clerk1", USER_PASSWORD))
    assert result.returncode == 2
    assert "无权登记或吊销其他站点的密钥" in result.stderr


def test_calendar_arithmetic_needs_no_user(site: Path) -> None:
    result = run_bbcs("workdays", "add", "2026-09-30", "3", data_dir=site, env=anonymous())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2026-10-10"  # the make-up Saturday
    assert [user for user, _ in _audit(site, "login")] == ["admin"]  # the set-up's, no other


def test_init_needs_no_user(tmp_path: Path) -> None:
    result = run_bbcs(
        *INIT, data_dir=tmp_path / "新站点", env=anonymous(BBCS_ADMIN_PASSWORD=ADMIN_PASSWORD)
    )
    assert result.returncode == 0, result.stderr
