"""One fixture kit: temp data dir, fixed clock, a fresh site with users, actors per role.

Tests run headless: the offscreen Qt platform is set here, before anything imports Qt.

Tests that must hold on both database engines take ``db_url`` (SQLite, then PostgreSQL from
``BBCS_TEST_PG_URL``; see tests/helpers/pg.py) or ``make_services``.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from argon2 import PasswordHasher

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.pop("BBCS_DATA_DIR", None)

from desktop_app.domain.vocabulary import Role, SiteLevel
from desktop_app.services.app import AppServices, open_services
from desktop_app.services.auth import production_hasher
from desktop_app.services.context import Actor, FixedClock
from tests.helpers import pg
from tests.helpers.factories import ADMIN_PASSWORD, USER_PASSWORD
from tests.helpers.heartbeat import Heartbeat
from tests.helpers.site import county_site

if TYPE_CHECKING:
    from tests.helpers.message_boxes import MessageBoxes

NOW = datetime(2026, 11, 25, 9, 30)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "postgresql: runs on a PostgreSQL server from BBCS_TEST_PG_URL (skips without)"
    )


def pytest_sessionfinish(session: pytest.Session) -> None:
    pg.drop_all()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that uses qtbot is a GUI test: `pytest -m "not gui"` is the fast loop."""
    for item in items:
        if "qtbot" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.gui)


@pytest.fixture(autouse=True)
def heartbeat(request: pytest.FixtureRequest) -> Iterator[Heartbeat | None]:
    """A GUI test fails when its UI thread stalls for more than 2 s (tests/helpers/heartbeat)."""
    if "qtbot" not in request.fixturenames:
        # A GUI test's TaskRunner hands garbage collection to the UI thread's timer
        # (ui/common.py); a test without an event loop needs it back.
        gc.enable()
        yield None
        return
    request.getfixturevalue("qapp")
    watch = Heartbeat()
    watch.start()
    yield watch
    watch.stop()
    failure = watch.failure()
    if failure:
        pytest.fail(failure, pytrace=False)


@pytest.fixture
def message_boxes(monkeypatch: pytest.MonkeyPatch) -> Iterator[MessageBoxes]:
    """Static QMessageBoxes are recorded instead of shown; any the test did not expect (see
    tests/helpers/message_boxes.py: ``allow``, ``answer``, ``answer_every``) fails it."""
    from tests.helpers.message_boxes import MessageBoxes  # Qt only for the tests that ask

    boxes = MessageBoxes()
    boxes.install(monkeypatch)
    yield boxes
    boxes.check()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "数据 目录"  # Chinese characters and a space, as on real PCs
    path.mkdir()
    return path


@pytest.fixture
def password_hasher(request: pytest.FixtureRequest) -> PasswordHasher:
    """Argon2id at the production cost, or the cheap one in modules that imported
    ``fast_password_hashing`` (tests/helpers/speed.py) because they are not about passwords."""
    if "fast_password_hashing" in request.fixturenames:
        cheap: PasswordHasher = request.getfixturevalue("fast_password_hashing")
        return cheap
    return production_hasher()


@pytest.fixture(params=pg.BACKENDS)
def db_url(request: pytest.FixtureRequest) -> str | None:
    """None for SQLite (the data dir's own bbcs.db), else a new empty PostgreSQL database."""
    return pg.backend_url(request.param)


@pytest.fixture
def make_services(
    tmp_path: Path, clock: FixedClock, db_url: str | None, password_hasher: PasswordHasher
) -> Iterator[Callable[..., AppServices]]:
    """Open services on the test's engine; call again for a second data dir on the same database
    (``make_services("again")``) or, on SQLite, the same data dir. All are closed afterwards."""
    opened: list[AppServices] = []

    def make(name: str = "数据 目录") -> AppServices:
        services = open_services(
            tmp_path / name, clock=clock, db_url=db_url, hasher=password_hasher
        )
        opened.append(services)
        return services

    yield make
    for services in opened:
        services.close()


@pytest.fixture
def site_on_engine(data_dir: Path, clock: FixedClock, db_url: str | None) -> Iterator[AppServices]:
    """The ``services`` site (杞县, one user per role, two departments) on each engine."""
    with county_site(data_dir, clock, db_url=db_url) as services:
        yield services


@pytest.fixture
def bare_services(
    data_dir: Path, clock: FixedClock, password_hasher: PasswordHasher
) -> Iterator[AppServices]:
    """Services on a migrated database with no site yet."""
    services = open_services(data_dir, clock=clock, hasher=password_hasher)
    yield services
    services.close()


@pytest.fixture
def services(bare_services: AppServices) -> AppServices:
    """A county site 410221 杞县 with one user per role and two departments."""
    bare_services.site.init_site(
        code="410221",
        name="杞县办不成事监督窗口",
        short_name="杞县",
        level=SiteLevel.COUNTY,
        admin_password=ADMIN_PASSWORD,
    )
    admin = bare_services.auth.login("admin", ADMIN_PASSWORD)
    for username, name, role in [
        ("clerk1", "张敏", Role.CLERK),
        ("leader1", "潘险峰", Role.DUTY_LEADER),
        ("auditor", "刘纪", Role.AUDITOR),
    ]:
        bare_services.auth.create_user(
            admin, username=username, display_name=name, role=role, password=USER_PASSWORD
        )
    for name in ("杞县医疗保障局", "杞县不动产登记中心"):
        bare_services.site.save_department(admin, name=name, principal_leader="王主任")
    return bare_services


@pytest.fixture
def admin(services: AppServices) -> Actor:
    return services.auth.login("admin", ADMIN_PASSWORD)


@pytest.fixture
def clerk(services: AppServices) -> Actor:
    return services.auth.login("clerk1", USER_PASSWORD)


@pytest.fixture
def leader(services: AppServices) -> Actor:
    return services.auth.login("leader1", USER_PASSWORD)


@pytest.fixture
def auditor(services: AppServices) -> Actor:
    return services.auth.login("auditor", USER_PASSWORD)
