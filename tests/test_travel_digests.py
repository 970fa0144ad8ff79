"""Received records digested as they travelled (issue 15 item 16: the first upload of a county
within budget): made on the checking thread while the rows are copied, and checked by
``bbcs check`` against the stored rows, so that an edit behind the program's back is still named.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from desktop_app.services import integrity
from desktop_app.services.context import FixedClock
from desktop_app.services.demo import DemoService
from desktop_app.services.exchange.records_tables import SPECS, TableSpec
from desktop_app.services.exchange.travel_digests import Digests, travelled_columns
from desktop_app.storage.models import Case, Complainant
from tests.helpers.exchange import ADMIN, CITY, QIXIAN, Site, open_site, trust_each_other
from tests.helpers.speed import fast_password_hashing  # noqa: F401

RECEIVED = ("complainants", "cases", "assignments", "slips")


@pytest.fixture
def imported(tmp_path: Path, clock: FixedClock) -> Iterator[tuple[Site, Site]]:
    """A county with demo data of every kind (papers with personal fields, assisting
    assignments, referrals, meetings), its first bundle imported by the city."""
    with open_site(tmp_path, CITY, clock) as city, open_site(tmp_path, QIXIAN, clock) as county:
        trust_each_other(county, city, tmp_path / "ids")
        services = county.services
        DemoService(services.db, services.clock, services.keys, sealer=services.sealer).generate(40)
        usb = tmp_path / "U盘"
        usb.mkdir()
        report = city.sync.import_file(ADMIN, county.sync.export(ADMIN, usb).path)
        assert not report.refused, report.reason
        yield city, county


def _digests(site: Site, table: str) -> list[str]:
    with sqlite3.connect(site.data_dir / "bbcs.db") as connection:
        return [row[0] for row in connection.execute(f'SELECT digest FROM "{table}"')]


def _sql(site: Site, statement: str) -> None:
    with sqlite3.connect(site.data_dir / "bbcs.db") as connection:
        connection.execute(statement)


def test_received_records_carry_travelled_digests_and_check_clean(
    imported: tuple[Site, Site],
) -> None:
    city, county = imported
    for table in RECEIVED:
        digests = _digests(city, table)
        assert digests and all(d.startswith(integrity.TRAVEL_MARK) for d in digests), table
        assert all(len(d) == integrity.TRAVEL_DIGEST_CHARS for d in digests)
        # The county's own rows are digested as stored.
        assert not any(d.startswith(integrity.TRAVEL_MARK) for d in _digests(county, table))
    with city.services.db.read() as session:  # papers with a sealed personal field came
        assert session.scalar(select(func.count()).select_from(Complainant)) > 0
    report = city.services.maintenance.check()
    assert report.ok, report.problems
    assert county.services.maintenance.check().ok


@pytest.mark.parametrize(
    ("statement", "named"),
    [
        ("UPDATE cases SET title = title || '改' WHERE id = (SELECT min(id) FROM cases)", "事项"),
        (
            "UPDATE complainants SET id_number_sealed = (SELECT id_number_sealed FROM "
            "complainants c2 WHERE c2.id != complainants.id AND c2.id_number_sealed != '' "
            "LIMIT 1) WHERE id = (SELECT min(id) FROM complainants WHERE id_number_sealed != '')",
            "反映人",
        ),
        (
            "UPDATE assignments SET case_id = (SELECT max(id) FROM cases) "
            "WHERE id = (SELECT min(id) FROM assignments)",
            "交办",
        ),
        ("UPDATE cases SET origin_site = '' WHERE id = (SELECT min(id) FROM cases)", "事项"),
        (
            "UPDATE slips SET content = json_set(content, '$.title', '改过的标题') "
            "WHERE id = (SELECT min(id) FROM slips)",
            "公文",
        ),
    ],
    ids=["case title", "complainant's ID swapped", "reference", "owner", "paper"],
)
def test_a_received_record_edited_in_the_database_is_named(
    imported: tuple[Site, Site], statement: str, named: str
) -> None:
    city, _county = imported
    _sql(city, statement)
    report = city.services.maintenance.check()
    assert not report.ok
    assert any(named in p and "校验值不符" in p for p in report.problems), report.problems


def test_a_received_record_changed_here_is_digested_as_stored(
    imported: tuple[Site, Site],
) -> None:
    city, _county = imported
    with city.services.db.write() as session:  # as a conflict's resolution writes it
        case = session.scalars(select(Case).order_by(Case.id).limit(1)).one()
        case.title = case.title + "（市级更正）"
        case_id = case.id
    with city.services.db.read() as session:
        stored = session.scalar(select(Case.digest).where(Case.id == case_id))
    assert stored is not None and not stored.startswith(integrity.TRAVEL_MARK)
    report = city.services.maintenance.check()
    assert report.ok, report.problems


def test_a_sender_of_an_older_release_is_digested_as_stored(
    tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file without every column this site keeps (an older county) cannot be digested as it
    travelled: its rows are digested as stored, at commit, and check clean all the same."""
    with open_site(tmp_path, CITY, clock) as city, open_site(tmp_path, QIXIAN, clock) as county:
        trust_each_other(county, city, tmp_path / "ids")
        services = county.services
        DemoService(services.db, services.clock, services.keys, sealer=services.sealer).generate(12)
        sends = TableSpec.columns
        monkeypatch.setattr(  # the county's release did not have cases.campaign yet
            TableSpec,
            "columns",
            lambda spec: [c for c in sends(spec) if (spec.name, c) != ("cases", "campaign")],
        )
        usb = tmp_path / "U盘"
        usb.mkdir()
        sent = county.sync.export(ADMIN, usb).path
        monkeypatch.undo()
        report = city.sync.import_file(ADMIN, sent)
        assert not report.refused, report.reason
        assert not any(d.startswith(integrity.TRAVEL_MARK) for d in _digests(city, "cases"))
        assert all(d.startswith(integrity.TRAVEL_MARK) for d in _digests(city, "slips"))
        assert city.services.maintenance.check().ok


def test_the_travelled_form_covers_the_sender_and_leaves_this_sites_columns() -> None:
    cases = travelled_columns(SPECS["cases"])
    assert "origin_site" in cases and "site_code" in cases and "complainant_id" in cases
    assert "id" not in cases and "digest" not in cases and "created_by_id" not in cases
    complainants = travelled_columns(SPECS["complainants"])
    assert "id_number_sealed" in complainants and "id_lookup" not in complainants


def test_the_same_records_sent_again_change_no_digest(
    imported: tuple[Site, Site], tmp_path: Path
) -> None:
    city, county = imported
    before = {table: _digests(city, table) for table in RECEIVED}
    again = city.sync.import_file(ADMIN, county.sync.export(ADMIN, tmp_path / "U盘").path)
    assert not again.refused and again.totals()["added"] == 0
    assert {table: _digests(city, table) for table in RECEIVED} == before
    assert city.services.maintenance.check().ok


def test_a_file_whose_rows_are_not_numbered_in_order_is_digested_all_the_same(
    tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The digests of a file numbered with gaps go through a scratch table, not the blob."""
    monkeypatch.setattr(Digests, "numbered", property(lambda _self: False))
    with open_site(tmp_path, CITY, clock) as city, open_site(tmp_path, QIXIAN, clock) as county:
        trust_each_other(county, city, tmp_path / "ids")
        services = county.services
        DemoService(services.db, services.clock, services.keys, sealer=services.sealer).generate(
            12
        )
        usb = tmp_path / "U盘"
        usb.mkdir()
        report = city.sync.import_file(ADMIN, county.sync.export(ADMIN, usb).path)
        assert not report.refused, report.reason
        assert all(d.startswith(integrity.TRAVEL_MARK) for d in _digests(city, "cases"))
        assert city.services.maintenance.check().ok
