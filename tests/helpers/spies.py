"""A function replaced by one that records each call's arguments and still makes the call."""

from __future__ import annotations

from typing import Any

import pytest


def record_calls(
    monkeypatch: pytest.MonkeyPatch, owner: object, name: str
) -> list[tuple[Any, ...]]:
    """The arguments of every later call of ``owner.name`` (a method on a class: the instance
    first), in order; each call still goes to the real one."""
    calls: list[tuple[Any, ...]] = []
    real = getattr(owner, name)

    def spy(*args: Any) -> Any:
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(owner, name, spy)
    return calls
