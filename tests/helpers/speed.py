"""Keeping service tests fast.

The fixture kit sets up a site with four users, which means about eight argon2id hashes at the
production cost (~0.1 s each). Tests that are not about passwords import
:func:`fast_password_hashing` (autouse in the importing module): the ``password_hasher`` fixture
of tests/conftest.py then hands services :data:`CHEAP_HASHER`, so the same argon2id code runs
with tiny cost parameters. Code that opens services itself passes ``hasher=CHEAP_HASHER`` to
``open_services``. Everything else — the database, the files, the clock — stays real.
"""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True)
def fast_password_hashing() -> PasswordHasher:
    """Marks the importing module's tests as not about passwords (read by ``password_hasher``)."""
    return CHEAP_HASHER
