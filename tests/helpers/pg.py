"""Throw-away PostgreSQL databases for the tests that run on both engines.

The server comes from ``BBCS_TEST_PG_URL`` (``.ci/postgres-setup.sh`` sets it, with
``BBCS_REQUIRE_PG=1``): a role that may create databases, on a maintenance database such as
``postgres``. Each call makes a new empty UTF-8 database ``bbcs_t_<random>``; all of them are
dropped when the test session ends. Without the variable the PostgreSQL tests skip, unless
``BBCS_REQUIRE_PG=1`` says the server must be there (CI), in which case they fail.
"""

from __future__ import annotations

import atexit
import os
import secrets
import threading

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL, make_url

# Both engines, for the tests that run on each; `pytest -m postgresql` selects the second half.
BACKENDS = [pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgresql)]

ENV_URL = "BBCS_TEST_PG_URL"
ENV_REQUIRE = "BBCS_REQUIRE_PG"

_lock = threading.Lock()
_created: list[str] = []
_admin: Engine | None = None


def server_url() -> URL | None:
    """The test server's URL (driver psycopg), or None when none is configured."""
    raw = os.environ.get(ENV_URL, "").strip()
    if not raw:
        return None
    url = make_url(raw)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def require_server() -> URL:
    """The server URL, or skip (fail under ``BBCS_REQUIRE_PG=1``) when there is none."""
    url = server_url()
    if url is None:
        message = (
            f"{ENV_URL} is not set: no PostgreSQL server for the PostgreSQL half of the tests "
            "(as root: `source .ci/postgres-setup.sh`)"
        )
        if os.environ.get(ENV_REQUIRE) == "1":
            pytest.fail(f"{ENV_REQUIRE}=1 but {message}", pytrace=False)
        pytest.skip(message)
    return url


def _admin_engine(url: URL) -> Engine:
    global _admin
    if _admin is None:
        # CREATE/DROP DATABASE cannot run inside a transaction.
        _admin = create_engine(url, isolation_level="AUTOCOMMIT", pool_size=1)
        atexit.register(drop_all)
    return _admin


def fresh_pg_url(encoding: str = "UTF8", icu_locale: str | None = None) -> str | None:
    """A new, empty database on the test server, or None when no server is configured.

    Text is stored as UTF-8 whatever the cluster's defaults are (another ``encoding`` only to
    test that bbcs refuses it); the ``C`` locale keeps the test independent of the machine's.
    ``icu_locale`` (e.g. ``zh``: pinyin order) gives the database a real language's collation
    instead, to show the app does not depend on it.
    """
    url = server_url()
    if url is None:
        return None
    name = f"bbcs_t_{secrets.token_hex(6)}"
    with _lock:
        engine = _admin_engine(url)
        with engine.connect() as connection:
            icu = f"LOCALE_PROVIDER icu ICU_LOCALE '{icu_locale}' " if icu_locale else ""
            connection.exec_driver_sql(
                f"CREATE DATABASE {name} ENCODING '{encoding}' TEMPLATE template0 "
                f"{icu}LC_COLLATE 'C' LC_CTYPE 'C'"
            )
        _created.append(name)
    return url.set(database=name).render_as_string(hide_password=False)


def drop_all() -> None:
    """Drop every database :func:`fresh_pg_url` made (``WITH (FORCE)``: PostgreSQL 13+)."""
    global _admin
    with _lock:
        if _admin is None:
            return
        try:
            with _admin.connect() as connection:
                while _created:
                    name = _created.pop()
                    connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            _admin.dispose()
            _admin = None


def backend_url(backend: str) -> str | None:
    """The ``db_url`` for a backend name: None for SQLite, else a fresh PostgreSQL database."""
    if backend == "sqlite":
        return None
    require_server()
    return fresh_pg_url()
