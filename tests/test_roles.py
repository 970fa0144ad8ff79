"""Who may do what (issue 15 items 8, 9): one role × action table, checked over the services
and over the command line.

Separation of duties (三员分立): the administrator manages users, settings and the installation
but neither reads the audit log nor signs; the auditor reads the audit log and checks the data
and changes nothing; signing stays with the duty leaders.

An action is *refused* when it raises PermissionDenied (the CLI: exit 2 with 无权); anything
else, success or a plain error about the input (a slip that does not exist), means the role got
past the permission check.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from desktop_app.domain.settings import LOGIN_MAX_FAILURES
from desktop_app.domain.vocabulary import Approach, Cause, Nature, Role
from desktop_app.errors import PermissionDenied, UserError
from desktop_app.services import settings
from desktop_app.services.app import AppServices, open_services
from desktop_app.services.audit_log import AuditFilter, AuditLogService
from desktop_app.services.cases import Triage
from desktop_app.services.context import Actor
from tests.helpers.cli import as_user, run_bbcs, subprocess_env
from tests.helpers.factories import ADMIN_PASSWORD, USER_PASSWORD, person_form
from tests.helpers.speed import CHEAP_HASHER, fast_password_hashing  # noqa: F401

ROLES = ("clerk", "leader", "admin", "auditor")
CASE_WORKERS = {"clerk", "leader", "admin"}
TRIAGE = Triage(nature=Nature.HARD, approach=Approach.PUSH, causes=(Cause.POLICY,), area="医保社保")

# action -> the roles allowed to do it; everyone else is refused.
SERVICE_TABLE: dict[str, set[str]] = {
    "register a case": CASE_WORKERS,
    "triage a case": CASE_WORKERS,
    "sign a slip": {"leader"},
    "void a slip": {"leader"},
    "print a slip": CASE_WORKERS,
    "export a bundle": CASE_WORKERS,
    "create a user": {"admin"},
    "unlock a user": {"admin"},
    "change the lock-out rule": {"admin"},
    "save a department": {"admin"},
    "import a holiday table": {"admin"},
    "revoke a site": {"admin"},
    "read the audit log": {"auditor"},
    "export the audit log": {"auditor"},
    "change one's own password": set(ROLES),
}


def _triaged_draft(services: AppServices) -> int:
    """A registered, triaged case with a drafted assignment (made by the administrator)."""
    admin = services.auth.login("admin", ADMIN_PASSWORD)
    case_id = services.intake.register(admin, person_form()).case_id
    services.cases.triage(admin, case_id, TRIAGE)
    department = services.site.departments()[0]
    ids, _ = services.assignments.create(
        admin, case_id, department_id=department.id, requirements="请依法办理并反馈。"
    )
    return ids[0]


def _do(services: AppServices, actor: Actor, action: str, tmp_path: Path) -> None:
    """Attempt ``action`` as ``actor``."""
    user_id = next(u.id for u in services.auth.users() if u.username == "clerk1")
    steps: dict[str, Callable[[], object]] = {
        "register a case": lambda: services.intake.register(actor, person_form(name="李四")),
        "triage a case": lambda: services.cases.triage(
            actor, services.intake.register(_admin(services), person_form()).case_id, TRIAGE
        ),
        "sign a slip": lambda: services.assignments.issue(actor, _triaged_draft(services)),
        "void a slip": lambda: services.assignments.void(actor, 999_999, "写错了"),
        "print a slip": lambda: services.assignments.record_slip_output(
            actor, "不存在的编号", out=tmp_path / "slip.pdf"
        ),
        "export a bundle": lambda: services.sync.export(actor, tmp_path),
        "create a user": lambda: services.auth.create_user(
            actor, username="clerk9", display_name="王五", role=Role.CLERK, password="Clerk2026"
        ),
        "unlock a user": lambda: services.auth.unlock(actor, user_id),
        "change the lock-out rule": lambda: _write_setting(services, actor),
        "save a department": lambda: services.site.save_department(actor, name="杞县教体局"),
        "import a holiday table": lambda: services.calendar.import_csv(
            actor, "日期,是否上班,名称\n2027-01-01,0,元旦\n", complete_years=[], source="t.csv"
        ),
        "revoke a site": lambda: services.sync.revoke(actor, "410200", "测试"),
        "read the audit log": lambda: AuditLogService(services.db, services.clock).ids(
            actor, AuditFilter()
        ),
        "export the audit log": lambda: AuditLogService(services.db, services.clock).export_csv(
            actor, AuditFilter(), tmp_path / "audit.csv"
        ),
        "change one's own password": lambda: services.auth.change_own_password(
            actor,
            ADMIN_PASSWORD if actor.role is Role.ADMIN else USER_PASSWORD,
            "Changed-2027",
        ),
    }
    steps[action]()


def _admin(services: AppServices) -> Actor:
    return services.auth.login("admin", ADMIN_PASSWORD)


def _write_setting(services: AppServices, actor: Actor) -> None:
    with services.db.write() as session:
        settings.write(session, actor, LOGIN_MAX_FAILURES, 6)


def _refused(attempt: Callable[[], None]) -> bool:
    try:
        attempt()
    except PermissionDenied:
        return True
    except UserError:
        return False  # past the permission check, stopped by the input
    return False


@pytest.mark.parametrize("action", sorted(SERVICE_TABLE))
@pytest.mark.parametrize("role", ROLES)
def test_services_follow_the_role_table(
    services: AppServices, role: str, action: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    actor: Actor = request.getfixturevalue(role)
    refused = _refused(lambda: _do(services, actor, action, tmp_path))
    assert refused is (role not in SERVICE_TABLE[action]), (role, action)


def test_the_administrator_neither_reads_the_audit_log_nor_signs(admin: Actor) -> None:
    from desktop_app.domain.permissions import Permission

    assert not admin.can(Permission.VIEW_AUDIT)
    assert not admin.can(Permission.SIGN_SLIP)
    assert admin.can(Permission.MANAGE_USERS)


def test_the_auditor_changes_nothing(auditor: Actor) -> None:
    from desktop_app.domain.permissions import Permission

    assert {p for p in Permission if auditor.can(p)} == {
        Permission.VIEW_CASES,
        Permission.VIEW_AUDIT,
        Permission.CHECK_DATA,
        Permission.VIEW_REFERRALS,  # reads the referral register (issue 16); changes nothing
    }


# The command line ---------------------------------------------------------------------------

INIT = ("init", "--site-code", "410221", "--site-name", "杞县办不成事监督窗口", "--level", "county")
CLI_USERS = {
    "clerk": ("clerk1", USER_PASSWORD),
    "leader": ("leader1", USER_PASSWORD),
    "admin": ("admin", ADMIN_PASSWORD),
    "auditor": ("auditor", USER_PASSWORD),
}
# command -> the roles allowed to run it.
CLI_TABLE: dict[str, set[str]] = {
    "cases": set(ROLES),
    "verify-slip": set(ROLES),
    "check": {"admin", "auditor"},
    "intake": CASE_WORKERS,
    "slip": CASE_WORKERS,
    "export": CASE_WORKERS,
    "backup": {"admin"},
    "workdays import": {"admin"},
    "keys trust": {"admin"},
    "keys rotate": {"admin"},
}


@pytest.fixture(scope="module")
def cli_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site set up by ``bbcs init`` with one user per role, and the input files commands read."""
    root = tmp_path_factory.mktemp("roles")
    site = root / "site"
    result = run_bbcs(*INIT, data_dir=site, env=subprocess_env(BBCS_ADMIN_PASSWORD=ADMIN_PASSWORD))
    assert result.returncode == 0, result.stderr
    services = open_services(site, hasher=CHEAP_HASHER)
    try:
        admin = services.auth.login("admin", ADMIN_PASSWORD)
        for role, (username, password) in CLI_USERS.items():
            if role != "admin":
                services.auth.create_user(
                    admin,
                    username=username,
                    display_name=username,
                    role={"clerk": Role.CLERK, "leader": Role.DUTY_LEADER}.get(role, Role.AUDITOR),
                    password=password,
                )
    finally:
        services.close()
    return site


def _cli_args(command: str, folder: Path) -> tuple[str, ...]:
    batch = folder / "batch.json"
    batch.write_text(json.dumps([_intake_row()], ensure_ascii=False), encoding="utf-8")
    holidays = folder / "holidays.csv"
    holidays.write_text("日期,是否上班,名称\n2027-01-01,0,元旦\n", encoding="utf-8")
    return {
        "cases": ("cases",),
        "verify-slip": ("verify-slip", "BBCS1|不是二维码"),
        "check": ("check",),
        "intake": ("intake", "--from", str(batch)),
        "slip": ("slip", "杞县-2026-9999", "--out", str(folder / "slip.pdf")),
        "export": ("export", "--to", str(folder)),
        "backup": ("backup",),
        "workdays import": ("workdays", "import", str(holidays)),
        "keys trust": ("keys", "trust", str(folder / "missing.json")),
        "keys rotate": ("keys", "rotate"),
    }[command]


def _intake_row() -> dict[str, str]:
    return {
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


@pytest.mark.parametrize("role", ROLES)
def test_the_command_line_follows_the_role_table(cli_site: Path, role: str, tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(cli_site, site)
    username, password = CLI_USERS[role]
    outcomes: dict[str, bool] = {}
    for command in CLI_TABLE:
        folder = tmp_path / command.replace(" ", "-")
        folder.mkdir()
        result = run_bbcs(
            *_cli_args(command, folder), data_dir=site, env=as_user(username, password)
        )
        assert "Traceback" not in result.stderr and "程序内部错误" not in result.stderr, (
            command,
            result.stderr,
        )
        refused = "无权" in result.stderr
        assert not refused or result.returncode == 2
        outcomes[command] = not refused
    assert outcomes == {command: role in allowed for command, allowed in CLI_TABLE.items()}
