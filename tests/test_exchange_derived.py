"""What a site derives from the records it holds comes out the same after a bundle's bulk copy
as after the row-by-row writes of the county itself (the copy replaces migration 0020's row
triggers by one statement)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import exists, select

from desktop_app.domain.assignment_flow import AssignmentState
from desktop_app.domain.vocabulary import Role
from desktop_app.services.context import Actor, FixedClock
from desktop_app.services.demo import DemoService
from desktop_app.storage.models import Assignment, Case
from tests.helpers.exchange import (
    ADMIN,
    CITY,
    LEADER,
    QIXIAN,
    Site,
    open_site,
    trust_each_other,
)
from tests.helpers.speed import fast_password_hashing  # noqa: F401
from tests.helpers.supervision_cases import Office, open_case

CLERK = Actor(None, "clerk1", "张敏", Role.CLERK)


def _answered(site: Site) -> dict[str, bool]:
    with site.services.db.read() as session:
        return {u: a for u, a in session.execute(select(Case.uuid, Case.departments_answered))}


def test_departments_answered_at_the_city_equals_the_countys(
    tmp_path: Path, clock: FixedClock
) -> None:
    with open_site(tmp_path, CITY, clock) as city, open_site(tmp_path, QIXIAN, clock) as county:
        trust_each_other(county, city, tmp_path / "ids")
        services = county.services
        DemoService(services.db, services.clock, services.keys, sealer=services.sealer).generate(60)
        usb = tmp_path / "U盘"
        usb.mkdir()
        report = city.sync.import_file(ADMIN, county.sync.export(ADMIN, usb).path)
        assert not report.refused, report.reason
        at_county = _answered(county)
        assert any(at_county.values()) and not all(at_county.values())
        assert _answered(city) == at_county
        with city.services.db.read() as session:  # the triggers are back for what comes next
            names = {
                row[0]
                for row in session.connection().exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger'"
                )
            }
        assert {
            "assignments_answered_insert",
            "assignments_answered_delete",
            "assignments_answered_update",
        } <= names
        # A second upload: a new case answered (its flag written with the copy) and a known
        # case answered by a new assignment (set after the copy).
        office = Office(services, CLERK, LEADER)
        office.case("new", **open_case())
        office.assignment("new", AssignmentState.RESPONDED)
        with services.db.read() as session:
            unanswered = session.scalars(  # no assignment yet: one answered settles it
                select(Case.id)
                .where(~exists().where(Assignment.case_id == Case.id))
                .order_by(Case.id)
                .limit(1)
            ).one()
        office.ids["known"] = unanswered
        office.assignment("known", AssignmentState.RESPONDED)
        again = city.sync.import_file(ADMIN, county.sync.export(ADMIN, usb).path)
        assert not again.refused, again.reason
        assert again.added["cases"] == 1
        assert _answered(city) == _answered(county)
        assert sum(_answered(city).values()) == sum(at_county.values()) + 2
