"""Materials shared by the seats of one PostgreSQL site (issue 18): added on one PC, opened on
another, sealed in the database, checked by ``bbcs check`` down to the altered piece.

The adding seat is a separate process, each seat has its own data dir, as on two PCs."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from desktop_app.errors import UserError
from desktop_app.services import integrity
from desktop_app.services.app import open_services
from desktop_app.services.attachments import CHUNK_BYTES
from desktop_app.services.context import FixedClock
from tests.helpers import pg
from tests.helpers.cli import REPO_ROOT, run_bbcs, subprocess_env
from tests.helpers.exchange import ADMIN, CITY, QIXIAN, Site, open_site, trust_each_other
from tests.helpers.factories import USER_PASSWORD, enterprise_form, person_form
from tests.helpers.site import county_site
from tests.helpers.speed import CHEAP_HASHER

# A scan that shows itself if it is ever stored in clear: a marker in every piece.
MARKER = "王芳的身份证扫描件".encode()

_ADD = textwrap.dedent(
    """
    import sys
    from datetime import datetime
    from pathlib import Path
    from desktop_app.services.app import open_services
    from desktop_app.services.context import FixedClock
    from tests.helpers.factories import USER_PASSWORD, person_form
    from tests.helpers.speed import CHEAP_HASHER

    data_dir, url, scan = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    services = open_services(
        data_dir, clock=FixedClock(datetime(2026, 11, 25, 9, 30)), db_url=url, hasher=CHEAP_HASHER
    )
    clerk = services.auth.login("clerk1", USER_PASSWORD)
    case_id = services.intake.register(clerk, person_form()).case_id
    services.cases.add_attachments(clerk, case_id, [scan])
    print(case_id)
    services.close()
    """
)


@pytest.fixture
def pg_url() -> str:
    pg.require_server()
    url = pg.fresh_pg_url()
    assert url is not None
    return url


def _scan(path: Path, pieces: float) -> bytes:
    """Random bytes, with the marker at the start of every 1 MiB piece."""
    size = int(pieces * CHUNK_BYTES)
    data = bytearray(os.urandom(size))
    for start in range(0, size, CHUNK_BYTES):
        data[start : start + len(MARKER)] = MARKER
    path.write_bytes(bytes(data))
    return bytes(data)


def _two_seats(tmp_path: Path, clock: FixedClock, url: str) -> tuple[Path, Path]:
    first, second = tmp_path / "第一席", tmp_path / "第二席"
    with county_site(first, clock, db_url=url):
        pass
    shutil.copytree(first / "keys", second / "keys", ignore=shutil.ignore_patterns("*.anchor"))
    joined = open_services(second, clock=clock, db_url=url, hasher=CHEAP_HASHER)
    try:  # as `bbcs seat join` does: this seat's anchor starts at the chain as it finds it
        assert integrity.reanchor(joined.db, joined.data_key, joined.layout.keys) == []
    finally:
        joined.close()
    return first, second


def _add_on_other_process(seat: Path, url: str, scan: Path, tmp_path: Path) -> int:
    script = tmp_path / "add.py"
    script.write_text(_ADD, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(seat), url, str(scan)],
        cwd=REPO_ROOT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


@pytest.mark.postgresql
def test_a_material_added_on_one_seat_opens_on_the_other_sealed_in_the_database(
    tmp_path: Path, clock: FixedClock, pg_url: str
) -> None:
    first, second = _two_seats(tmp_path, clock, pg_url)
    scan = tmp_path / "身份证.pdf"
    content = _scan(scan, 2.5)  # three pieces, the last one short
    case_id = _add_on_other_process(first, pg_url, scan, tmp_path)

    # A copied database alone shows nothing of it: every piece sealed, none in clear.
    engine = create_engine(pg_url)
    try:
        with engine.connect() as connection:
            pieces = connection.execute(
                text("SELECT seq, content FROM material_chunks ORDER BY seq")
            ).all()
    finally:
        engine.dispose()
    assert [seq for seq, _ in pieces] == [0, 1, 2]
    assert all(MARKER not in bytes(piece) for _, piece in pieces)
    assert all(bytes(piece) not in content for _, piece in pieces)

    other = open_services(second, clock=clock, db_url=pg_url, hasher=CHEAP_HASHER)
    try:
        detail = other.cases.detail(case_id)
        (material,) = detail.attachments
        assert not other.attachments.path_for(material.sha256).exists()  # not on this PC yet
        opened = other.attachments.readable_copy(material.sha256, material.filename, tmp_path)
        assert opened.name == "身份证.pdf" and opened.read_bytes() == content
        assert other.attachments.path_for(material.sha256).read_bytes() == content  # cached
        report = other.maintenance.check()
        assert report.ok, report.problems
        assert report.attachments == 1
    finally:
        other.close()
    for seat in (first, second):
        checked = run_bbcs("--db-url", pg_url, "check", data_dir=seat)
        assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.postgresql
def test_check_names_an_altered_or_missing_piece_and_the_material_does_not_open(
    tmp_path: Path, clock: FixedClock, pg_url: str
) -> None:
    first, second = _two_seats(tmp_path, clock, pg_url)
    scan = tmp_path / "现场照片.jpg"
    _scan(scan, 3.2)  # four pieces
    case_id = _add_on_other_process(first, pg_url, scan, tmp_path)
    engine = create_engine(pg_url)
    try:
        with engine.begin() as connection:  # one byte of the second piece changed
            connection.execute(
                text(
                    "UPDATE material_chunks SET content = set_byte(content, 40, "
                    "get_byte(content, 40) # 1) WHERE seq = 1"
                )
            )
        checked = run_bbcs("--db-url", pg_url, "check", data_dir=first)
        assert checked.returncode != 0
        assert "的第 2 块（共 4 块）已被改动" in checked.stdout + checked.stderr

        other = open_services(second, clock=clock, db_url=pg_url, hasher=CHEAP_HASHER)
        try:
            (material,) = other.cases.detail(case_id).attachments
            with pytest.raises(UserError, match="在数据库中缺失"):
                other.attachments.readable_copy(material.sha256, material.filename, tmp_path)
            assert not other.attachments.path_for(material.sha256).exists()  # nothing half-made

            with engine.begin() as connection:
                connection.execute(text("DELETE FROM material_chunks WHERE seq = 3"))
            problems = other.maintenance.check().problems
            assert any("的第 2 块（共 4 块）已被改动" in p for p in problems), problems
            assert any("的第 4 块（共 4 块）在数据库中缺失" in p for p in problems), problems
        finally:
            other.close()
    finally:
        engine.dispose()


@pytest.mark.postgresql
def test_a_refused_change_leaves_no_material_in_the_database(
    tmp_path: Path, clock: FixedClock, pg_url: str
) -> None:
    first, _second = _two_seats(tmp_path, clock, pg_url)
    scan = tmp_path / "材料.pdf"
    _scan(scan, 0.5)
    services = open_services(first, clock=clock, db_url=pg_url, hasher=CHEAP_HASHER)
    try:
        clerk = services.auth.login("clerk1", USER_PASSWORD)
        with pytest.raises(Exception):  # noqa: B017 - whatever refuses it
            services.cases.add_attachments(clerk, 999_999, [scan])
        with services.db.read() as session:
            assert session.scalar(text("SELECT count(*) FROM material_chunks")) == 0
        # The same file on a real case: sealed once, even when added twice.
        case_id = services.intake.register(clerk, person_form()).case_id
        services.cases.add_attachments(clerk, case_id, [scan])
        services.cases.add_attachments(clerk, case_id, [scan])
        with services.db.read() as session:
            assert session.scalar(text("SELECT count(*) FROM material_chunks")) == 1
        assert services.maintenance.check().ok
    finally:
        services.close()


@pytest.mark.postgresql
def test_materials_received_in_a_bundle_are_sealed_with_the_import_on_postgresql(
    tmp_path: Path, clock: FixedClock, pg_url: str
) -> None:
    first, second = _two_seats(tmp_path, clock, pg_url)
    content = _scan(tmp_path / "收到的材料.pdf", 1.5)
    sha = hashlib.sha256(content).hexdigest()

    def copy_member(name: str, target: Path) -> None:
        assert name == f"attachments/{sha}"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)

    services = open_services(first, clock=clock, db_url=pg_url, hasher=CHEAP_HASHER)
    try:
        with services.db.write() as session:
            services.attachments.receive(session, [f"attachments/{sha}"], copy_member)
    finally:
        services.close()
    other = open_services(second, clock=clock, db_url=pg_url, hasher=CHEAP_HASHER)
    try:
        assert other.attachments.cached(sha).read_bytes() == content
    finally:
        other.close()


def test_on_sqlite_received_materials_go_into_the_database_too(
    tmp_path: Path, clock: FixedClock
) -> None:
    """As on PostgreSQL: every backup of the county holds them (the folder caches)."""
    content = b"%PDF-1.4 scan"
    sha = hashlib.sha256(content).hexdigest()
    with county_site(tmp_path / "site", clock) as services:
        with services.db.write() as session:
            services.attachments.receive(
                session, [f"attachments/{sha}"], lambda _name, target: _write(target, content)
            )
        with services.db.read() as session:
            assert session.scalar(text("SELECT count(*) FROM material_chunks")) == 1
        services.attachments.path_for(sha).unlink()
        assert services.attachments.cached(sha).read_bytes() == content


def _write(target: Path, content: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)


@pytest.mark.postgresql
def test_materials_a_county_sends_open_on_every_seat_of_a_postgresql_city(
    tmp_path: Path, clock: FixedClock, pg_url: str
) -> None:
    scan = tmp_path / "营业执照.pdf"
    content = _scan(scan, 1.5)
    sha = hashlib.sha256(content).hexdigest()
    with (
        open_site(tmp_path, QIXIAN, clock) as county,
        open_site(tmp_path, CITY, clock, db_url=pg_url, folder="市一席") as city,
    ):
        trust_each_other(county, city, tmp_path / "ids")
        county.services.intake.register(ADMIN, enterprise_form(attachments=(scan,)))
        usb = tmp_path / "usb"
        usb.mkdir()
        city.sync.import_file(ADMIN, county.sync.export(ADMIN, usb).path)
        report = city.services.maintenance.check()
        assert report.ok and report.attachments == 1, report.problems
        first = city.data_dir
    second = tmp_path / "市二席"
    shutil.copytree(first / "keys", second / "keys", ignore=shutil.ignore_patterns("*.anchor"))
    other = open_services(second, clock=clock, db_url=pg_url, hasher=CHEAP_HASHER)
    try:
        assert other.attachments.cached(sha).read_bytes() == content
    finally:
        other.close()


@pytest.mark.postgresql
def test_a_bundle_exported_on_another_seat_carries_the_material(
    tmp_path: Path, clock: FixedClock, pg_url: str
) -> None:
    scan = tmp_path / "身份证.pdf"
    content = _scan(scan, 1.2)
    sha = hashlib.sha256(content).hexdigest()
    with open_site(tmp_path, QIXIAN, clock, db_url=pg_url, folder="县一席") as county:
        county.services.intake.register(ADMIN, enterprise_form(attachments=(scan,)))
        first = county.data_dir
    second = tmp_path / "县二席"
    shutil.copytree(first / "keys", second / "keys", ignore=shutil.ignore_patterns("*.anchor"))
    other = open_services(second, clock=clock, db_url=pg_url, hasher=CHEAP_HASHER)
    try:
        assert not other.attachments.path_for(sha).exists()
        with open_site(tmp_path, CITY, clock) as city:
            other_site = Site(other, QIXIAN[0], QIXIAN[1], second)
            trust_each_other(other_site, city, tmp_path / "ids")
            usb = tmp_path / "usb"
            usb.mkdir()
            sent = other.sync.export(ADMIN, usb)
            city.sync.import_file(ADMIN, sent.path)
            assert city.services.attachments.path_for(sha).read_bytes() == content
    finally:
        other.close()


@pytest.mark.postgresql
def test_a_material_only_one_seats_folder_holds_is_sealed_in_when_that_seat_opens(
    tmp_path: Path, clock: FixedClock, pg_url: str
) -> None:
    """As after the upgrade to 0019: materials added before it are in the adding seat's folder."""
    first, second = _two_seats(tmp_path, clock, pg_url)
    scan = tmp_path / "旧材料.pdf"
    content = _scan(scan, 1.5)
    case_id = _add_on_other_process(first, pg_url, scan, tmp_path)
    engine = create_engine(pg_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM material_chunks"))
    finally:
        engine.dispose()
    other = open_services(second, clock=clock, db_url=pg_url, hasher=CHEAP_HASHER)
    try:
        (material,) = other.cases.detail(case_id).attachments
        assert any("在数据库中缺失（共 2 块）" in p for p in other.maintenance.check().problems)
        open_services(first, clock=clock, db_url=pg_url, hasher=CHEAP_HASHER).close()
        assert other.attachments.cached(material.sha256).read_bytes() == content
        assert other.maintenance.check().ok
    finally:
        other.close()
