"""One fixture kit: temp data dir, fixed clock, a fresh site with users, actors per role.

Tests run headless: the offscreen Qt platform is set here, before anything imports Qt.

Tests that must hold on both database engines take ``db_url`` (SQLite, then PostgreSQL from
``BBCS_TEST_PG_URL``; see tests/helpers/pg.py) or ``make_services``.
"""

from __future__ import annotations

import gc
import os
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from argon2 import PasswordHasher

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.pop("BBCS_DATA_DIR", None)
# Child `bbcs` processes (tests/helpers/cli.py copies this environment) would compile desktop_app
# from source at every start, a second or two each, if the machine says never to cache bytecode.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

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


class SiteTemplates:
    """The ``services`` site, set up once per password hasher and copied into each test's data
    dir: setting it up (migrations, keys, four password hashes) costs far more than opening it.
    The test's services open the copy as the program opens a site at its next start."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._sites: dict[str, Path] = {}

    def copy_into(self, data_dir: Path, hasher: PasswordHasher) -> None:
        key = f"{hasher.type.name}-{hasher.time_cost}-{hasher.memory_cost}-{hasher.parallelism}"
        template = self._sites.get(key)
        if template is None:
            template = self._root / key / "数据 目录"
            with county_site(template, FixedClock(NOW), hasher=hasher):
                pass
            self._sites[key] = template
        shutil.copytree(template, data_dir, dirs_exist_ok=True)


@pytest.fixture(scope="session")
def site_templates(tmp_path_factory: pytest.TempPathFactory) -> SiteTemplates:
    return SiteTemplates(tmp_path_factory.mktemp("site-templates"))


@pytest.fixture
def services(
    request: pytest.FixtureRequest,
    data_dir: Path,
    clock: FixedClock,
    password_hasher: PasswordHasher,
    site_templates: SiteTemplates,
) -> Iterator[AppServices]:
    """A county site 410221 杞县 with one user per role and two departments."""
    if (
        type(clock) is FixedClock
        and clock.now() == NOW
        and "bare_services" not in request.fixturenames
    ):
        site_templates.copy_into(data_dir, password_hasher)
        services = open_services(data_dir, clock=clock, hasher=password_hasher)
        yield services
        services.close()
        return
    # A test that moved the clock first, or also asked for the bare services (the same object),
    # sets its site up itself.
    bare_services: AppServices = request.getfixturevalue("bare_services")
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
    yield bare_services


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
