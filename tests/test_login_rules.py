"""Log-in rules (issue 15 item 9, services): one password policy, lock-out after failed
log-ins, audited, unlocked by time or by an administrator, and each user's own password."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from desktop_app.domain.settings import IDLE_LOCK_MINUTES, LOGIN_LOCK_MINUTES, LOGIN_MAX_FAILURES
from desktop_app.domain.vocabulary import Role, SiteLevel
from desktop_app.errors import PermissionDenied, UserError, ValidationFailed
from desktop_app.services import settings
from desktop_app.services.app import AppServices
from desktop_app.services.auth import LoginRules, check_password_strength
from desktop_app.services.context import Actor, FixedClock
from desktop_app.storage.models import AuditEntry, User
from tests.conftest import NOW
from tests.helpers.db import audit_count, audit_entries
from tests.helpers.factories import ADMIN_PASSWORD, USER_PASSWORD
from tests.helpers.speed import fast_password_hashing  # noqa: F401

WRONG = "Wrong12345"


def _uuid(services: AppServices, username: str) -> str:
    with services.db.read() as session:
        return str(session.scalar(select(User.uuid).where(User.username == username)))


def _user_id(services: AppServices, username: str) -> int:
    return next(u.id for u in services.auth.users() if u.username == username)


def _fail(services: AppServices, username: str, times: int) -> list[str]:
    messages = []
    for _ in range(times):
        with pytest.raises(UserError) as refused:
            services.auth.login(username, WRONG)
        messages.append(refused.value.message)
    return messages


# Password policy --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    ["abcdefgh1", "ABCDEFGH1", "12345678!", "abcdEFGH", "Ab1!", "短密码"],
)
def test_a_password_needs_eight_characters_of_three_kinds(password: str) -> None:
    assert check_password_strength(password) is not None


@pytest.mark.parametrize(
    "password", ["Abcdefg1", "abcdefg1!", "ABCDEFG1#", "Ab!@#$%^", "王芳ab12cd"]
)
def test_passwords_of_three_kinds_pass(password: str) -> None:
    assert check_password_strength(password) is None


def test_every_place_a_password_is_set_uses_the_policy(
    services: AppServices, admin: Actor, clerk: Actor
) -> None:
    weak = "abcdefgh1"  # letters and digits: accepted before issue 15
    with pytest.raises(ValidationFailed) as created:
        services.auth.create_user(
            admin, username="clerk9", display_name="王五", role=Role.CLERK, password=weak
        )
    assert "至少3种" in created.value.errors["password"]
    with pytest.raises(ValidationFailed):
        services.auth.change_password(admin, clerk.user_id or 0, weak)
    with pytest.raises(ValidationFailed) as own:
        services.auth.change_own_password(clerk, USER_PASSWORD, weak)
    assert "至少3种" in own.value.errors["new_password"]
    services.auth.login("clerk1", USER_PASSWORD)  # nothing changed


def test_init_refuses_a_weak_administrator_password(bare_services: AppServices) -> None:
    with pytest.raises(ValidationFailed) as refused:
        bare_services.site.init_site(
            code="410221",
            name="杞县办不成事监督窗口",
            short_name="杞县",
            level=SiteLevel.COUNTY,
            admin_password="admin2026",
        )
    assert "至少3种" in refused.value.errors["admin_password"]
    assert not bare_services.site.is_initialised()


# Lock-out ---------------------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_account_for_thirty_minutes(
    services: AppServices, clock: FixedClock
) -> None:
    messages = _fail(services, "clerk1", 5)
    assert messages[:4] == ["用户名或密码不正确"] * 4
    assert messages[4] == (
        "密码连续输错 5 次，账号已锁定 30 分钟。请于 10:00 后再试，或请管理员解锁。"
    )
    # Locked: even the right password is refused, and the refusal is audited.
    clock.at = NOW + timedelta(minutes=29)
    with pytest.raises(UserError, match="账号已锁定。请于 10:00 后再试"):
        services.auth.login("clerk1", USER_PASSWORD)

    entries = audit_entries(services, _uuid(services, "clerk1"))
    failures = [e for e in entries if e["action"] == "login_failed"]
    assert [e["after"]["reason"] for e in failures] == ["wrong_password"] * 5 + ["locked"]
    assert all(e["user_name"] == "clerk1" for e in failures)
    locks = [e for e in entries if e["action"] == "lock"]
    assert len(locks) == 1
    assert locks[0]["after"] == {"failed_logins": 5, "locked_until": "2026-11-25T10:00:00"}

    # Once the lock has run out, the right password gets in and the count starts afresh.
    clock.at = NOW + timedelta(minutes=30)
    actor = services.auth.login("clerk1", USER_PASSWORD)
    assert actor.username == "clerk1"
    with services.db.read() as session:
        user = session.scalar(select(User).where(User.username == "clerk1"))
        assert user is not None and (user.failed_logins, user.locked_until) == (0, None)
    assert _fail(services, "clerk1", 4) == ["用户名或密码不正确"] * 4  # not locked again yet


def test_a_good_log_in_clears_earlier_failures(services: AppServices) -> None:
    _fail(services, "clerk1", 4)
    services.auth.login("clerk1", USER_PASSWORD)
    assert _fail(services, "clerk1", 4) == ["用户名或密码不正确"] * 4
    services.auth.login("clerk1", USER_PASSWORD)  # still not locked


def test_the_limit_and_the_lock_time_are_settings(
    services: AppServices, admin: Actor, clerk: Actor, clock: FixedClock
) -> None:
    with services.db.write() as session:
        settings.write(session, admin, LOGIN_MAX_FAILURES, 3)
        settings.write(session, admin, LOGIN_LOCK_MINUTES, 10)
    with services.db.write() as session, pytest.raises(PermissionDenied):
        settings.write(session, clerk, LOGIN_MAX_FAILURES, 20)
    assert _fail(services, "leader1", 3)[-1].startswith("密码连续输错 3 次，账号已锁定 10 分钟")
    clock.at = NOW + timedelta(minutes=10)
    services.auth.login("leader1", USER_PASSWORD)


def test_the_idle_lock_is_a_setting_of_fifteen_minutes(services: AppServices) -> None:
    with services.db.read() as session:
        assert settings.read(session, IDLE_LOCK_MINUTES) == 15
    assert IDLE_LOCK_MINUTES.permission is LOGIN_MAX_FAILURES.permission


def test_an_unknown_user_is_refused_and_audited_without_what_was_typed(
    services: AppServices,
) -> None:
    """A walk typed the password into 用户名: the audit log (read and exported by the auditor)
    showed it whole. A name no account has is kept as its first character only."""
    with pytest.raises(UserError, match=r"^用户名或密码不正确$"):
        services.auth.login("Secret#2026", WRONG)
    with services.db.read() as session:
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert last is not None
        assert (last.action, last.user_name, last.after) == (
            "login_failed",
            "S***（无此用户）",
            {"reason": "unknown_user"},
        )
        assert "Secret" not in str(last.after) and "Secret" not in (last.before or "")


def test_an_inactive_account_is_refused_and_audited(services: AppServices, admin: Actor) -> None:
    services.auth.set_active(admin, _user_id(services, "clerk1"), False)
    with pytest.raises(UserError, match=r"^用户名或密码不正确$"):
        services.auth.login("clerk1", USER_PASSWORD)
    entries = audit_entries(services, _uuid(services, "clerk1"))
    assert entries[-1]["action"] == "login_failed"
    assert entries[-1]["after"] == {"reason": "inactive"}


def test_an_administrator_unlocks_and_nobody_else_may(
    services: AppServices, admin: Actor, leader: Actor, auditor: Actor
) -> None:
    _fail(services, "clerk1", 5)
    clerk_id = _user_id(services, "clerk1")
    assert next(u for u in services.auth.users() if u.id == clerk_id).locked_until is not None
    for other in (leader, auditor):
        with pytest.raises(PermissionDenied):
            services.auth.unlock(other, clerk_id)
    with pytest.raises(UserError, match="账号已锁定"):
        services.auth.login("clerk1", USER_PASSWORD)

    services.auth.unlock(admin, clerk_id)

    assert services.auth.login("clerk1", USER_PASSWORD).username == "clerk1"
    unlock = [
        e for e in audit_entries(services, _uuid(services, "clerk1")) if e["action"] == "unlock"
    ]
    assert len(unlock) == 1 and unlock[0]["user_name"] == "admin"
    assert unlock[0]["before"] == {"failed_logins": 5, "locked_until": "2026-11-25T10:00:00"}


def test_a_reset_password_lifts_the_lock(services: AppServices, admin: Actor) -> None:
    _fail(services, "clerk1", 5)
    services.auth.change_password(admin, _user_id(services, "clerk1"), "Fresh2026!")
    services.auth.login("clerk1", "Fresh2026!")


# Each user's own password ------------------------------------------------------------------------


def test_a_user_changes_their_own_password(services: AppServices, clerk: Actor) -> None:
    services.auth.change_own_password(clerk, USER_PASSWORD, "Changed2026")

    services.auth.login("clerk1", "Changed2026")
    with pytest.raises(UserError):
        services.auth.login("clerk1", USER_PASSWORD)
    changes = [
        e
        for e in audit_entries(services, _uuid(services, "clerk1"))
        if e["action"] == "change_password"
    ]
    assert [e["user_name"] for e in changes] == ["clerk1"]


def test_changing_ones_own_password_needs_the_old_one(services: AppServices, clerk: Actor) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.auth.change_own_password(clerk, WRONG, "Changed2026")
    assert refused.value.errors == {"old_password": "原密码不正确"}
    with pytest.raises(ValidationFailed) as same:
        services.auth.change_own_password(clerk, USER_PASSWORD, USER_PASSWORD)
    assert same.value.errors == {"new_password": "新密码不能与原密码相同"}
    services.auth.login("clerk1", USER_PASSWORD)  # unchanged


def test_the_administrator_changes_their_own_password_too(
    services: AppServices, admin: Actor
) -> None:
    services.auth.change_own_password(admin, ADMIN_PASSWORD, "Admin-2027")
    services.auth.login("admin", "Admin-2027")


# The rules themselves (系统设置 → 人员 → 登录规则) ------------------------------------------------


def test_the_rules_are_read_and_saved_through_the_service(
    services: AppServices, admin: Actor
) -> None:
    assert services.auth.login_rules() == LoginRules(5, 30, 15)
    assert services.auth.idle_lock_minutes() == 15

    services.auth.save_login_rules(admin, LoginRules(3, 10, 5))

    assert services.auth.login_rules() == LoginRules(3, 10, 5)
    assert services.auth.idle_lock_minutes() == 5
    assert _fail(services, "clerk1", 3)[-1].startswith("密码连续输错 3 次，账号已锁定 10 分钟")
    (entry,) = [e for e in audit_entries(services, "login") if e["action"] == "set_login_rules"]
    assert entry["user_name"] == "admin" and entry["entity"] == "settings"
    assert entry["after"] == {
        "login.max_failures": "3",
        "login.lock_minutes": "10",
        "login.idle_lock_minutes": "5",
    }
    # Saving the same rules again changes nothing, so nothing more is audited.
    count = audit_count(services)
    services.auth.save_login_rules(admin, LoginRules(3, 10, 5))
    assert audit_count(services) == count


def test_only_whoever_manages_users_changes_the_rules(
    services: AppServices, clerk: Actor, leader: Actor, auditor: Actor
) -> None:
    count = audit_count(services)
    for other in (clerk, leader, auditor):
        with pytest.raises(PermissionDenied):
            services.auth.save_login_rules(other, LoginRules(3, 10, 5))
    assert services.auth.login_rules() == LoginRules()
    assert audit_count(services) == count
    assert services.auth.login_rules().idle_minutes == 15  # but every window may read them


@pytest.mark.parametrize(
    ("rules", "key"),
    [
        (LoginRules(max_failures=2), "login.max_failures"),
        (LoginRules(lock_minutes=0), "login.lock_minutes"),
        (LoginRules(idle_minutes=121), "login.idle_lock_minutes"),
    ],
)
def test_a_rule_out_of_range_changes_nothing(
    services: AppServices, admin: Actor, rules: LoginRules, key: str
) -> None:
    count = audit_count(services)
    with pytest.raises(ValidationFailed) as refused:
        services.auth.save_login_rules(admin, rules)
    assert list(refused.value.errors) == [key]
    assert "应在" in refused.value.errors[key]
    assert services.auth.login_rules() == LoginRules()
    assert audit_count(services) == count


def test_the_user_list_says_who_is_locked_out_now(services: AppServices, clock: FixedClock) -> None:
    _fail(services, "clerk1", 5)
    clerk = next(u for u in services.auth.users() if u.username == "clerk1")
    assert clerk.locked and clerk.locked_until == NOW + timedelta(minutes=30)
    assert not any(u.locked for u in services.auth.users() if u.username != "clerk1")
    clock.at = NOW + timedelta(minutes=30)
    assert not any(u.locked for u in services.auth.users())  # the lock ran out
