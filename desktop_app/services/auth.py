"""Users, passwords (argon2id) and log-in, with the log-in rules (issue 15 item 9).

One password policy (:func:`check_password_strength`) for every password set anywhere: a new
user, a reset, one's own change, and the administrator made at ``init``. Consecutive wrong
passwords lock the account for a while (both numbers are site settings); every failed log-in,
lock and unlock is audited under the account's name.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop_app.domain.permissions import Permission
from desktop_app.domain.settings import (
    IDLE_LOCK_MINUTES,
    LOGIN_LOCK_MINUTES,
    LOGIN_MAX_FAILURES,
    LOGIN_SETTINGS,
    Declared,
)
from desktop_app.domain.validation import normalize_text
from desktop_app.domain.vocabulary import Role
from desktop_app.errors import NotFound, UserError, ValidationFailed
from desktop_app.services import audit, integrity, settings
from desktop_app.services.context import Actor, Changes, Clock
from desktop_app.storage.database import Database
from desktop_app.storage.models import User

MIN_PASSWORD_LENGTH = 8
MIN_CHARACTER_KINDS = 3
_KINDS_RULE = f"包含大写字母、小写字母、数字、符号中的至少{MIN_CHARACTER_KINDS}种"
PASSWORD_RULE = f"至少{MIN_PASSWORD_LENGTH}位，{_KINDS_RULE}"  # shown where a password is set
WRONG_CREDENTIALS = "用户名或密码不正确"

log = logging.getLogger(__name__)


class TamperedAccount(UserError):
    """A log-in refused because the user's record no longer matches its digest: changed behind
    the program's back (a role or password hash set by SQL). ``bbcs restore`` then checks the
    password against the backup being restored instead."""


def production_hasher() -> PasswordHasher:
    """argon2id with the library's RFC 9106 "low memory" profile: ~50 ms on a county PC.

    Services take the hasher in their constructor (this is the default), so tests pass a cheap
    one instead of patching a module global.
    """
    return PasswordHasher()


def character_kinds(password: str) -> int:
    """How many of upper-case, lower-case, digits and other characters ``password`` uses."""
    kinds = (
        any(c.isascii() and c.isupper() for c in password),
        any(c.isascii() and c.islower() for c in password),
        any(c.isdigit() for c in password),
        any(not (c.isascii() and c.isalnum()) and not c.isdigit() for c in password),
    )
    return sum(kinds)


def check_password_strength(password: str) -> str | None:
    """Why ``password`` is too weak (in Chinese), or None: the one policy for every password."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"密码至少需要 {MIN_PASSWORD_LENGTH} 位"
    if character_kinds(password) < MIN_CHARACTER_KINDS:
        return f"密码需{_KINDS_RULE}"
    return None


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    display_name: str
    role: Role
    active: bool
    phone: str
    locked_until: datetime | None = None  # set while (or after) a lock-out; compare with now
    locked: bool = False  # locked out now, by the services' clock (what 系统设置 shows)


@dataclass(frozen=True)
class LoginRules:
    """系统设置 → 人员 → 登录规则: the lock-out after wrong passwords and the idle lock."""

    max_failures: int = LOGIN_MAX_FAILURES.default
    lock_minutes: int = LOGIN_LOCK_MINUTES.default
    idle_minutes: int = IDLE_LOCK_MINUTES.default

    def values(self) -> dict[Declared[Any], Any]:
        """Each declaration with the value these rules give it."""
        return {
            LOGIN_MAX_FAILURES: self.max_failures,
            LOGIN_LOCK_MINUTES: self.lock_minutes,
            IDLE_LOCK_MINUTES: self.idle_minutes,
        }


class AuthService:
    def __init__(self, db: Database, clock: Clock, hasher: PasswordHasher | None = None) -> None:
        self._db = db
        self._clock = clock
        self._hasher = hasher if hasher is not None else production_hasher()

    def login(self, username: str, password: str) -> Actor:
        """The user's actor; UserError (in Chinese) for a wrong name or password, an inactive
        or a locked account. A refusal is audited and committed before it is raised."""
        username = username.strip()
        if not username or not password:
            raise UserError("请输入用户名和密码")
        now = self._clock.now()
        if self._db.writes_refused is not None:
            return self._read_only_login(username, password, now)
        with self._db.write() as session:
            user = session.scalar(select(User).where(User.username == username))
            refusal = self._refusal(session, user, username, password, now)
            if refusal is None and user is not None:
                if self._hasher.check_needs_rehash(user.password_hash):
                    user.password_hash = self._hasher.hash(password)
                user.last_login_at = now
                user.failed_logins = 0
                user.locked_until = None
                audit.record(
                    session,
                    at=now,
                    user_name=user.username,
                    action="login",
                    entity="user",
                    entity_uuid=user.uuid,
                )
                return Actor(user.id, user.username, user.display_name, Role(user.role))
        if isinstance(refusal, TamperedAccount):
            raise refusal
        raise UserError(refusal or WRONG_CREDENTIALS)

    def _read_only_login(self, username: str, password: str, now: datetime) -> Actor:
        """A log-in while the database is read-only (found damaged: nothing may be written, not
        even the log-in): checked as a log-in is, recorded in the log file only. A walk found
        the administrator shut out after a clerk's log-in had met the damage — the one who
        restores had to quit and be the first to log in."""
        with self._db.read() as session:
            user = session.scalar(select(User).where(User.username == username))
            intact = user is not None and integrity.user_intact(session, user.id)
            locked = user is not None and user.locked_until is not None and user.locked_until > now
            ok = (
                user is not None
                and intact
                and user.active
                and not locked
                and self._verify(user.password_hash, password)
            )
            if not ok or user is None:
                log.warning("log-in refused while the database is read-only")
                if user is not None and locked and user.locked_until is not None:
                    raise UserError("账号已锁定。" + _retry_hint(user.locked_until, now))
                raise UserError(WRONG_CREDENTIALS)
            log.info("log-in of %s while the database is read-only (not audited)", user.username)
            return Actor(user.id, user.username, user.display_name, Role(user.role))

    def _refusal(
        self, session: Session, user: User | None, username: str, password: str, now: datetime
    ) -> str | TamperedAccount | None:
        """Why this log-in is refused, with the failure (and any lock it causes) recorded in
        ``session``; None when it may go on."""

        def failed(reason: str, **after: object) -> None:
            audit.record(
                session,
                at=now,
                # A name no account has may be a password typed into the wrong box: only its
                # first character is kept (the log is read and exported by the auditor).
                user_name=user.username if user is not None else unknown_name(username),
                action="login_failed",
                entity="user",
                entity_uuid=user.uuid if user is not None else "",
                after={"reason": reason, **after},
            )

        if user is None:
            failed("unknown_user")
            return WRONG_CREDENTIALS
        # First, before this log-in writes the row (its time, a wrong password's count): the
        # write would seal it again, and a clerk made administrator by SQL would stay one. Said
        # only to whoever knows the password; a wrong one is told as any other (and not counted:
        # that too would write the row).
        if not integrity.user_intact(session, user.id):
            failed("record_tampered")
            if not (user.active and self._verify(user.password_hash, password)):
                return WRONG_CREDENTIALS
            return TamperedAccount(
                f"用户 {user.username} 的账户记录被绕过程序改动过（校验值不符），不能登录。"
                "请用改动之前的备份恢复（bbcs --user 用户名 restore 备份文件，"
                "密码按备份中的核对）；纪检审计可运行 bbcs check 查看改动了哪些记录。"
            )
        if user.locked_until is not None and user.locked_until > now:
            # The password is not even tried: a locked account is no oracle for guesses.
            failed("locked", locked_until=user.locked_until.isoformat())
            return "账号已锁定。" + _retry_hint(user.locked_until, now)
        if user.locked_until is not None:  # the lock ran out: count afresh
            user.locked_until = None
            user.failed_logins = 0
        if not self._verify(user.password_hash, password):
            user.failed_logins += 1
            failed("wrong_password", failed_logins=user.failed_logins)
            limit = settings.read(session, LOGIN_MAX_FAILURES)
            if user.failed_logins < limit:
                return WRONG_CREDENTIALS
            minutes = settings.read(session, LOGIN_LOCK_MINUTES)
            user.locked_until = now + timedelta(minutes=minutes)
            audit.record(
                session,
                at=now,
                user_name=user.username,
                action="lock",
                entity="user",
                entity_uuid=user.uuid,
                after={
                    "failed_logins": user.failed_logins,
                    "locked_until": user.locked_until.isoformat(),
                },
            )
            return (
                f"密码连续输错 {user.failed_logins} 次，账号已锁定 {minutes} 分钟。"
                + _retry_hint(user.locked_until, now)
            )
        if not user.active:
            failed("inactive")
            return WRONG_CREDENTIALS
        return None

    def unlock(self, actor: Actor, user_id: int) -> Changes:
        """Lift a lock-out (and the count of wrong passwords) before it runs out."""
        actor.require(Permission.MANAGE_USERS)
        with self._db.write() as session:
            user = session.get(User, user_id)
            if user is None:
                raise NotFound("用户不存在")
            locked = user.locked_until.isoformat() if user.locked_until else None
            before = {"failed_logins": user.failed_logins, "locked_until": locked}
            user.failed_logins = 0
            user.locked_until = None
            audit.record(
                session,
                at=self._clock.now(),
                user_name=actor.username,
                action="unlock",
                entity="user",
                entity_uuid=user.uuid,
                before=before,
            )
        return Changes(users=True)

    def login_rules(self) -> LoginRules:
        """The rules as they stand; anyone may read them (every window locks itself when idle)."""
        with self._db.read() as session:
            stored = settings.read_all(session, LOGIN_SETTINGS)
        return LoginRules(
            max_failures=stored[LOGIN_MAX_FAILURES.key],
            lock_minutes=stored[LOGIN_LOCK_MINUTES.key],
            idle_minutes=stored[IDLE_LOCK_MINUTES.key],
        )

    def idle_lock_minutes(self) -> int:
        """Minutes without a key or mouse press before the window locks itself."""
        return self.login_rules().idle_minutes

    def save_login_rules(self, actor: Actor, rules: LoginRules) -> Changes:
        """Store the rules (whoever manages users may), audited with what they were before.
        Every value is checked first: one out of range changes nothing."""
        values = rules.values()
        settings.require(actor, *values)
        errors = {
            setting.key: problem
            for setting, value in values.items()
            if (problem := setting.problem(value)) is not None
        }
        if errors:
            raise ValidationFailed(errors)
        with self._db.write() as session:
            audit.write_settings(
                session,
                actor,
                values,
                at=self._clock.now(),
                action="set_login_rules",
                entity_uuid="login",
            )
        return Changes(settings=True)

    def create_user(
        self,
        actor: Actor,
        *,
        username: str,
        display_name: str,
        role: Role,
        password: str,
        phone: str = "",
    ) -> tuple[UserInfo, Changes]:
        actor.require(Permission.MANAGE_USERS)
        errors: dict[str, str] = {}
        username = username.strip()
        display_name = normalize_text(display_name)
        if not username or not username.isascii() or not username.replace("_", "").isalnum():
            errors["username"] = "用户名只能由字母、数字和下划线组成"
        if not display_name:
            errors["display_name"] = "请填写姓名"
        weak = check_password_strength(password)
        if weak:
            errors["password"] = weak
        if errors:
            raise ValidationFailed(errors)
        with self._db.write() as session:
            taken = session.scalar(select(func.count()).where(User.username == username))
            if taken:
                raise ValidationFailed({"username": f"用户名“{username}”已被使用"})
            user = User(
                username=username,
                display_name=display_name,
                role=role.value,
                password_hash=self._hasher.hash(password),
                phone=phone,
                created_at=self._clock.now(),
            )
            session.add(user)
            session.flush()
            audit.record(
                session,
                at=self._clock.now(),
                user_name=actor.username,
                action="create",
                entity="user",
                entity_uuid=user.uuid,
                after={"username": username, "display_name": display_name, "role": role.value},
            )
            return _info(user, self._clock.now()), Changes(users=True)

    def set_active(self, actor: Actor, user_id: int, active: bool) -> Changes:
        actor.require(Permission.MANAGE_USERS)
        with self._db.write() as session:
            user = session.get(User, user_id)
            if user is None:
                raise NotFound("用户不存在")
            if user.id == actor.user_id and not active:
                raise UserError("不能停用自己的账号")
            before = user.active
            user.active = active
            user.version += 1
            audit.record(
                session,
                at=self._clock.now(),
                user_name=actor.username,
                action="update",
                entity="user",
                entity_uuid=user.uuid,
                before={"active": before},
                after={"active": active},
            )
        return Changes(users=True)

    def change_password(self, actor: Actor, user_id: int, new_password: str) -> Changes:
        """An administrator's reset of someone's password (their own: :meth:`change_own_password`).

        A reset also lifts a lock-out: the user was locked out for not knowing the password.
        """
        if actor.user_id != user_id:
            actor.require(Permission.MANAGE_USERS)
        weak = check_password_strength(new_password)
        if weak:
            raise ValidationFailed({"password": weak})
        with self._db.write() as session:
            user = session.get(User, user_id)
            if user is None:
                raise NotFound("用户不存在")
            self._set_password(session, actor, user, new_password)
        return Changes(users=True)

    def change_own_password(self, actor: Actor, old_password: str, new_password: str) -> Changes:
        """Each user changes their own password, proving the old one first."""
        if actor.user_id is None:
            raise UserError("请先登录")
        errors: dict[str, str] = {}
        weak = check_password_strength(new_password)
        if weak:
            errors["new_password"] = weak
        elif new_password == old_password:
            errors["new_password"] = "新密码不能与原密码相同"
        with self._db.write() as session:
            user = session.get(User, actor.user_id)
            if user is None or not user.active:
                raise NotFound("用户不存在或已停用")
            if not self._verify(user.password_hash, old_password):
                errors = {"old_password": "原密码不正确"}  # the one thing to fix first
            if errors:
                raise ValidationFailed(errors)
            self._set_password(session, actor, user, new_password)
        return Changes(users=True)

    def _set_password(self, session: Session, actor: Actor, user: User, password: str) -> None:
        user.password_hash = self._hasher.hash(password)
        user.failed_logins = 0
        user.locked_until = None
        user.version += 1
        audit.record(
            session,
            at=self._clock.now(),
            user_name=actor.username,
            action="change_password",
            entity="user",
            entity_uuid=user.uuid,
        )

    def users(self) -> list[UserInfo]:
        now = self._clock.now()
        with self._db.read() as session:
            return [_info(u, now) for u in session.scalars(select(User).order_by(User.id))]

    def users_with_role(self, role: Role) -> list[UserInfo]:
        return [u for u in self.users() if u.role is role and u.active]

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


def _info(user: User, now: datetime) -> UserInfo:
    return UserInfo(
        user.id,
        user.username,
        user.display_name,
        Role(user.role),
        user.active,
        user.phone,
        user.locked_until,
        locked=user.locked_until is not None and user.locked_until > now,
    )


def _retry_hint(until: datetime, now: datetime) -> str:
    when = until.strftime("%H:%M") if until.date() == now.date() else f"{until:%Y-%m-%d %H:%M}"
    return f"请于 {when} 后再试，或请管理员解锁。"


def unknown_name(typed: str) -> str:
    """How the audit log names a log-in as a user no account has: its first character and
    ***, never the whole text (people type their password into 用户名 by mistake)."""
    typed = typed.strip()
    return f"{typed[:1]}***（无此用户）" if typed else "（未填用户名）"
