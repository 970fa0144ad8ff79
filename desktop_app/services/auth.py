"""Users, passwords (argon2id) and log-in."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from desktop_app.domain.permissions import Permission
from desktop_app.domain.validation import normalize_text
from desktop_app.domain.vocabulary import Role
from desktop_app.errors import NotFound, UserError, ValidationFailed
from desktop_app.services import audit
from desktop_app.services.context import Actor, Changes, Clock
from desktop_app.storage.database import Database
from desktop_app.storage.models import User

MIN_PASSWORD_LENGTH = 8


def production_hasher() -> PasswordHasher:
    """argon2id with the library's RFC 9106 "low memory" profile: ~50 ms on a county PC.

    Services take the hasher in their constructor (this is the default), so tests pass a cheap
    one instead of patching a module global.
    """
    return PasswordHasher()


def check_password_strength(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"密码至少需要 {MIN_PASSWORD_LENGTH} 位"
    if password.isdigit() or password.isalpha():
        return "密码需同时包含字母和数字"
    return None


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    display_name: str
    role: Role
    active: bool
    phone: str


class AuthService:
    def __init__(self, db: Database, clock: Clock, hasher: PasswordHasher | None = None) -> None:
        self._db = db
        self._clock = clock
        self._hasher = hasher if hasher is not None else production_hasher()

    def login(self, username: str, password: str) -> Actor:
        username = username.strip()
        if not username or not password:
            raise UserError("请输入用户名和密码")
        with self._db.write() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None or not user.active or not self._verify(user.password_hash, password):
                raise UserError("用户名或密码不正确")
            if self._hasher.check_needs_rehash(user.password_hash):
                user.password_hash = self._hasher.hash(password)
            user.last_login_at = self._clock.now()
            audit.record(
                session,
                at=self._clock.now(),
                user_name=user.username,
                action="login",
                entity="user",
                entity_uuid=user.uuid,
            )
            return Actor(user.id, user.username, user.display_name, Role(user.role))

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
            return _info(user), Changes(users=True)

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
        if actor.user_id != user_id:
            actor.require(Permission.MANAGE_USERS)
        weak = check_password_strength(new_password)
        if weak:
            raise ValidationFailed({"password": weak})
        with self._db.write() as session:
            user = session.get(User, user_id)
            if user is None:
                raise NotFound("用户不存在")
            user.password_hash = self._hasher.hash(new_password)
            user.version += 1
            audit.record(
                session,
                at=self._clock.now(),
                user_name=actor.username,
                action="change_password",
                entity="user",
                entity_uuid=user.uuid,
            )
        return Changes(users=True)

    def users(self) -> list[UserInfo]:
        with self._db.read() as session:
            return [_info(u) for u in session.scalars(select(User).order_by(User.id))]

    def users_with_role(self, role: Role) -> list[UserInfo]:
        return [u for u in self.users() if u.role is role and u.active]

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


def _info(user: User) -> UserInfo:
    return UserInfo(
        user.id, user.username, user.display_name, Role(user.role), user.active, user.phone
    )
