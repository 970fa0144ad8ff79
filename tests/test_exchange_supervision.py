"""Supervision's records in bundles (issue 16): cause codes go down with the reference data,
and a bundle of the new format is refused, plainly, by a city built before it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from desktop_app.services.context import FixedClock
from desktop_app.services.exchange import bundle_file as bf
from desktop_app.services.exchange.bundle_file import header as header_module
from desktop_app.storage.models import Case, CauseCode
from tests.helpers.exchange import (
    ADMIN,
    CITY,
    QIXIAN,
    Site,
    open_site,
    table_counts,
    trust_each_other,
)
from tests.helpers.factories import person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401


@pytest.fixture
def pair(tmp_path: Path, clock: FixedClock) -> Iterator[tuple[Site, Site, Path]]:
    with open_site(tmp_path, CITY, clock) as city, open_site(tmp_path, QIXIAN, clock) as county:
        trust_each_other(county, city, tmp_path / "ids")
        usb = tmp_path / "U盘"
        usb.mkdir()
        yield city, county, usb


def _causes(site: Site) -> dict[str, tuple[str, bool]]:
    with site.services.db.read() as session:
        return {c.code: (c.label, c.active) for c in session.scalars(select(CauseCode))}


def test_the_citys_cause_codes_go_down_to_its_counties(pair: tuple[Site, Site, Path]) -> None:
    city, county, usb = pair
    with city.services.db.write() as session:
        session.add(CauseCode(code="C13", label="数据共享不畅", position=13, active=True))
        session.execute(update(CauseCode).where(CauseCode.code == "C07").values(label="服务态度"))
    sent = city.sync.export(ADMIN, usb)
    assert sent.kind == "reference" and sent.counts["cause_codes"] == 13
    report = county.sync.import_file(ADMIN, sent.path)
    assert not report.refused, report.reason
    assert report.added["cause_codes"] == 1 and report.updated["cause_codes"] == 1
    causes = _causes(county)
    assert causes["C13"] == ("数据共享不畅", True)
    assert causes["C07"] == ("服务态度", True)
    assert causes == _causes(city)
    again = county.sync.import_file(ADMIN, sent.path)
    assert again.totals()["added"] == 0


def test_a_city_built_before_the_new_format_refuses_it_plainly(
    pair: tuple[Site, Site, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    city, county, usb = pair
    case_id = county.services.intake.register(ADMIN, person_form(name="徐某")).case_id
    with county.services.db.write() as session:  # a matter ended at screening
        session.execute(
            update(Case).where(Case.id == case_id).values(status="screened_out", version=2)
        )
    bundle = county.sync.export(ADMIN, usb).path
    assert bf.read_header(bundle).data["format"] == bf.FORMAT == 4
    before = table_counts(city)
    monkeypatch.setattr(header_module, "FORMAT", 3)  # the city's software is of the last release
    report = city.sync.import_file(ADMIN, bundle)
    assert report.refused and report.code == "too_new"
    assert "请先升级本软件" in report.reason
    assert table_counts(city) == before
    monkeypatch.undo()
    report = city.sync.import_file(ADMIN, bundle)  # upgraded: taken, status and all
    assert not report.refused, report.reason
    with city.services.db.read() as session:
        assert session.scalar(select(Case.status).where(Case.site_code == county.code)) == (
            "screened_out"
        )
