"""Keeping service tests fast.

The fixture kit sets up a site with four users, which means about eight argon2id hashes at the
production cost (~0.1 s each). Tests that are not about passwords import
:func:`fast_password_hashing` (autouse in the importing module) so the same argon2id code runs
with tiny cost parameters. Everything else — the database, the files, the clock — stays real.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

from desktop_app.services import auth

_CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(auth, "_hasher", _CHEAP)
    yield
