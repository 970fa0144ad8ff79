"""Things every service is given: a clock, the acting user, and what a use case changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from desktop_app.domain.permissions import Permission, allowed
from desktop_app.domain.vocabulary import Role
from desktop_app.errors import PermissionDenied


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now().replace(microsecond=0)


class FixedClock:
    """A clock for tests and demo generation: returns the time it is set to."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def today(self) -> date:
        return self.at.date()


@dataclass(frozen=True)
class Actor:
    """Who is doing something: a user who logged in (window or ``bbcs --user``).

    There is no implicit administrator: the command line logs in like the window does
    (issue 15 item 8). ``user_id`` is None only for site set-up, before any user exists.
    """

    user_id: int | None
    username: str
    display_name: str
    role: Role

    def can(self, permission: Permission) -> bool:
        return allowed(self.role, permission)

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise PermissionDenied(
                f"“{self.display_name}”的角色是{self.role.label}，无权{permission.label}。"
            )


@dataclass(frozen=True)
class Changes:
    """What a use case changed, so views refresh from one signal instead of calling each other."""

    cases: bool = False
    case_ids: tuple[int, ...] = ()
    users: bool = False
    departments: bool = False
    settings: bool = False
    site: bool = False
    # Supervision (issue 16): the referral register, classes and warnings, meetings.
    referrals: bool = False
    classes: bool = False
    meetings: bool = False
    messages: tuple[str, ...] = field(default=())
