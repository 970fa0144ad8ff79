"""A set-up county site outside pytest's function-scoped fixtures.

Mirrors the ``services`` fixture of tests/conftest.py (site 410221 杞县, one user per role, two
departments) for module-scoped fixtures whose data many read-only tests share.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from argon2 import PasswordHasher

from desktop_app.domain.vocabulary import Role, SiteLevel
from desktop_app.services.app import AppServices, open_services
from desktop_app.services.context import FixedClock
from tests.helpers.factories import ADMIN_PASSWORD, USER_PASSWORD
from tests.helpers.speed import CHEAP_HASHER

USERS = [
    ("clerk1", "张敏", Role.CLERK),
    ("leader1", "潘险峰", Role.DUTY_LEADER),
    ("auditor", "刘纪", Role.AUDITOR),
]
DEPARTMENTS = ("杞县医疗保障局", "杞县不动产登记中心")


@contextmanager
def county_site(
    data_dir: Path,
    clock: FixedClock,
    *,
    db_url: str | None = None,
    hasher: PasswordHasher = CHEAP_HASHER,
) -> Iterator[AppServices]:
    """Open services on ``data_dir`` (and ``db_url`` if given) with the test site set up; closed
    on exit. Passwords are hashed cheaply unless ``hasher`` says otherwise."""
    services = open_services(data_dir, clock=clock, db_url=db_url, hasher=hasher)
    try:
        services.site.init_site(
            code="410221",
            name="杞县办不成事监督窗口",
            short_name="杞县",
            level=SiteLevel.COUNTY,
            admin_password=ADMIN_PASSWORD,
        )
        admin = services.auth.login("admin", ADMIN_PASSWORD)
        for username, name, role in USERS:
            services.auth.create_user(
                admin, username=username, display_name=name, role=role, password=USER_PASSWORD
            )
        for name in DEPARTMENTS:
            services.site.save_department(admin, name=name, principal_leader="王主任")
        yield services
    finally:
        services.close()


def as_city_of(services: AppServices, counties: dict[str, str], department: str = "") -> list[int]:
    """Make ``services``' site a city that registered ``counties`` (code → short name, e.g.
    "410222": "通许"), as if their cases had come; with ``department``, give each county a
    department of that name (as their cases bring them) and return their ids, in order."""
    from datetime import datetime

    from desktop_app.storage.models import Department, Site

    ids: list[int] = []
    with services.db.write() as session:
        session.query(Site).filter(Site.is_local.is_(True)).one().level = SiteLevel.CITY.value
        for code, short in counties.items():
            session.add(
                Site(
                    code=code,
                    name=f"{short}县办不成事监督窗口",
                    short_name=short,
                    level=SiteLevel.COUNTY.value,
                    created_at=datetime(2026, 10, 1),
                )
            )
            if department:
                added = Department(name=department, site_code=code, active=True)
                session.add(added)
                session.flush()
                ids.append(added.id)
    return ids
