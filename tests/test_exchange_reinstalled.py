"""A county that reinstalled bbcs without its backup and made its units and cases again sends
records whose names and numbers the city already holds under other UUIDs: the city refuses the
bundle naming the first such record and what to do, on either engine (it said only 记录冲突
（例如编号重复）and 请把此数据包和日志交维护人员处理)."""

from __future__ import annotations

from pathlib import Path

from desktop_app.services.context import FixedClock
from tests.helpers.exchange import ADMIN, CITY, QIXIAN, open_site, table_counts, trust_each_other
from tests.helpers.factories import ADMIN_PASSWORD, person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401


def test_a_reinstalled_countys_units_and_cases_are_named_when_the_city_refuses_them(
    tmp_path: Path, clock: FixedClock, db_url: str | None
) -> None:
    with open_site(tmp_path, CITY, clock, db_url=db_url) as city:
        with open_site(tmp_path, QIXIAN, clock, folder="杞县 原来的") as county:
            trust_each_other(county, city, tmp_path / "ids")
            admin = county.services.auth.login("admin", ADMIN_PASSWORD)
            county.services.intake.register(admin, person_form())
            (tmp_path / "usb1").mkdir()
            sent = county.sync.export(ADMIN, tmp_path / "usb1")
            assert not city.sync.import_file(ADMIN, sent.path).refused

        # The PC's disk died; the county set bbcs up again without its backup: a new site of
        # the same code (new keys, which the city trusts anew), the same unit, a new first case.
        with open_site(tmp_path, QIXIAN, clock, folder="杞县 重装后") as again:
            city.sync.trust(
                ADMIN, city.sync.read_identity(_identity(again, tmp_path)), replace=True
            )
            before = table_counts(city)
            again.sync.trust(ADMIN, again.sync.read_identity(_identity(city, tmp_path)))
            admin = again.services.auth.login("admin", ADMIN_PASSWORD)
            again.services.intake.register(admin, person_form())
            (tmp_path / "usb2").mkdir()
            report = city.sync.import_file(ADMIN, again.sync.export(ADMIN, tmp_path / "usb2").path)

        assert report.refused
        assert "部门“杞县医疗保障局”" in report.reason, report.reason
        assert "重新安装" in report.reason and "备份" in report.reason
        assert table_counts(city) == before  # nothing half imported


def _identity(site, folder: Path) -> Path:  # type: ignore[no-untyped-def]
    path = folder / "ids" / f"{site.code}-{site.data_dir.name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    site.sync.write_identity(path)
    return path
