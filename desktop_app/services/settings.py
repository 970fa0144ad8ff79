"""Reading and writing the settings declared in :mod:`desktop_app.domain.settings`.

Inside the caller's session (the service owns the transaction). A read gives the declared type,
or the declared default when nothing, or a bad value, is stored; a write checks the actor's
permission from the declaration and the value against it. The service that changes a site
setting audits it, with its own action name.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop_app.domain.settings import Declared
from desktop_app.errors import ValidationFailed
from desktop_app.services.context import Actor
from desktop_app.storage.models import Setting

T = TypeVar("T")


def read(session: Session, setting: Declared[T]) -> T:
    value = session.scalar(select(Setting.value).where(Setting.key == setting.key))
    return setting.read(value)


def read_all(session: Session, settings: Iterable[Declared[T]]) -> dict[str, T]:
    """Several settings in one query, by key."""
    wanted = list(settings)
    stored = stored_text(session, wanted)
    return {s.key: s.read(stored.get(s.key)) for s in wanted}


def stored_text(session: Session, settings: Iterable[Declared[Any]]) -> dict[str, str]:
    """The text stored for each of ``settings`` that has one (e.g. to send it in a bundle, or to
    audit what was there before); a setting never stored is left out."""
    keys = [s.key for s in settings]
    rows = session.execute(select(Setting.key, Setting.value).where(Setting.key.in_(keys)))
    return {key: value for key, value in rows}


def require(actor: Actor, *settings: Declared[Any]) -> None:
    """Refuse (PermissionDenied) unless ``actor`` may change every one of ``settings``."""
    for setting in settings:
        if setting.internal:
            raise ValueError(f"{setting.key} is internal bookkeeping, not a setting to change")
        if setting.permission is not None:
            actor.require(setting.permission)


def write(session: Session, actor: Actor, setting: Declared[T], value: T) -> None:
    """Store a site setting or preference for ``actor``, checked against its declaration."""
    require(actor, setting)
    problem = setting.problem(value)
    if problem is not None:
        raise ValidationFailed({setting.key: problem})
    session.merge(Setting(key=setting.key, value=setting.text(value)))


def store(session: Session, setting: Declared[T], value: T) -> None:
    """Store internal bookkeeping, or a preference (which needs no permission)."""
    if setting.permission is not None:
        raise ValueError(f"{setting.key} needs {setting.permission}: use write() with an actor")
    session.merge(Setting(key=setting.key, value=setting.text(value)))


def adopt(session: Session, setting: Declared[Any], text: str) -> None:
    """Store ``text`` a city's reference bundle sent for ``setting`` (the importer has checked
    the values as a whole, e.g. the deadline rules together, and the sender's right to send)."""
    setting.parse(text)  # ValueError for a value this setting never takes
    session.merge(Setting(key=setting.key, value=text))
