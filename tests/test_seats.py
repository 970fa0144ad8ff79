"""Several seats on one PostgreSQL database (issue 18): numbers, the audit chain, changes seen by
the other seat, and a seat enrolled from the first signing slips that verify as the same site.

Seats are separate processes here wherever the point is that they are (numbering, enrolment),
each with its own data dir, as on two PCs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from desktop_app.domain.vocabulary import Approach, Cause, Nature
from desktop_app.errors import AlreadyRunning
from desktop_app.services import audit, seats
from desktop_app.services.app import AppServices, open_services
from desktop_app.services.cases import Triage
from desktop_app.services.context import Actor, FixedClock
from desktop_app.storage.database import SCHEMA_HEAD, Database
from tests.helpers import pg
from tests.helpers.cli import REPO_ROOT, run_bbcs, subprocess_env
from tests.helpers.factories import ADMIN_PASSWORD, USER_PASSWORD, person_form
from tests.helpers.site import county_site
from tests.helpers.speed import CHEAP_HASHER

pytestmark = pytest.mark.postgresql

CASES_EACH = 50

_REGISTER = textwrap.dedent(
    """
    import sys, time
    from datetime import datetime
    from pathlib import Path
    from desktop_app.services.app import open_services
    from desktop_app.domain.vocabulary import Approach, Cause, Nature
    from desktop_app.services.cases import Triage
    from desktop_app.services.context import FixedClock
    from tests.helpers.factories import USER_PASSWORD, person_form
    from tests.helpers.speed import CHEAP_HASHER

    data_dir, url, go, count = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
    services = open_services(
        data_dir, clock=FixedClock(datetime(2026, 11, 25, 9, 30)), db_url=url, hasher=CHEAP_HASHER
    )
    clerk = services.auth.login("clerk1", USER_PASSWORD)
    leader = services.auth.login("leader1", USER_PASSWORD)
    department = services.site.departments()[0].id
    triage = Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
    while not go.exists():  # both seats start registering at the same moment
        time.sleep(0.01)
    for i in range(count):
        form = person_form(title=f"{data_dir.name}第{i}件：医保结算查不到参保信息")
        result = services.intake.register(clerk, form)
        print("case", result.number, flush=True)
        if i % 5 == 0:  # every fifth case gets a signed 交办单 at once
            services.cases.triage(clerk, result.case_id, triage)
            ids, _ = services.assignments.create(
                clerk, result.case_id, department_id=department, requirements="请核实并办理。"
            )
            print("slip", services.assignments.issue(leader, ids[0])[0], flush=True)
    services.close()
    """
)


@pytest.fixture
def pg_url() -> str:
    pg.require_server()
    url = pg.fresh_pg_url()
    assert url is not None
    return url


@pytest.fixture
def first_seat(tmp_path: Path, clock: FixedClock, pg_url: str) -> Path:
    """The site 410221 set up on PostgreSQL from its first seat's data dir (then closed)."""
    data_dir = tmp_path / "第一席"
    with county_site(data_dir, clock, db_url=pg_url):
        pass
    return data_dir


def _serial(number: str) -> int:
    found = re.search(r"(\d+)\D*$", number)
    assert found, number
    return int(found.group(1))


def test_two_seats_registering_at_once_get_gap_free_case_and_slip_numbers_and_one_chain(
    tmp_path: Path, clock: FixedClock, pg_url: str, first_seat: Path
) -> None:
    second = tmp_path / "第二席"
    shutil.copytree(first_seat / "keys", second / "keys", ignore=shutil.ignore_patterns("*.anchor"))
    script = tmp_path / "register.py"
    script.write_text(_REGISTER, encoding="utf-8")
    go = tmp_path / "go"
    env = subprocess_env()
    started = [
        subprocess.Popen(
            [sys.executable, str(script), str(seat), pg_url, str(go), str(CASES_EACH)],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        for seat in (first_seat, second)
    ]
    time.sleep(0.5)
    go.touch()
    outputs = [process.communicate(timeout=240) for process in started]
    for process, (_out, err) in zip(started, outputs, strict=True):
        assert process.returncode == 0, err
    lines = [line.split(" ", 1) for out, _err in outputs for line in out.splitlines()]
    numbers = [number for kind, number in lines if kind == "case"]
    slips = [number for kind, number in lines if kind == "slip"]
    assert len(numbers) == 2 * CASES_EACH
    assert sorted(_serial(n) for n in numbers) == list(range(1, 2 * CASES_EACH + 1))
    assert len(slips) == 2 * CASES_EACH // 5
    assert sorted(_serial(n) for n in slips) == list(range(1, len(slips) + 1))
    # Both wrote at the same time: each seat's numbers interleave with the other's.
    firsts = [_serial(line.split()[1]) for line in outputs[0][0].splitlines() if "case" in line]
    assert firsts != list(range(firsts[0], firsts[0] + CASES_EACH))

    services = open_services(first_seat, clock=clock, db_url=pg_url, hasher=CHEAP_HASHER)
    try:
        with services.db.read() as session:
            assert audit.verify_chain(session) == []
        report = services.maintenance.check()
        assert report.ok, report.problems
        assert report.cases == 2 * CASES_EACH
    finally:
        services.close()


def test_the_other_seat_sees_a_new_case_through_its_watcher(
    tmp_path: Path, clock: FixedClock, pg_url: str, first_seat: Path
) -> None:
    second = tmp_path / "第二席"
    shutil.copytree(first_seat / "keys", second / "keys", ignore=shutil.ignore_patterns("*.anchor"))
    one = open_services(first_seat, clock=clock, db_url=pg_url, hasher=CHEAP_HASHER)
    other = open_services(second, clock=clock, db_url=pg_url, hasher=CHEAP_HASHER)
    try:
        watcher = seats.ChangeWatcher(other.db)
        assert watcher.poll() is None
        clerk = one.auth.login("clerk1", USER_PASSWORD)
        result = one.intake.register(clerk, person_form())
        changes = watcher.poll()
        assert changes is not None
        assert changes.cases and changes.case_ids == (result.case_id,)
        assert not changes.users
        assert watcher.poll() is None  # each change told once
        admin = one.auth.login("admin", ADMIN_PASSWORD)
        one.site.save_department(admin, name="杞县人社局", principal_leader="李主任")
        told = watcher.poll()
        assert told is not None and told.departments and not told.cases
        assert "杞县人社局" in [d.name for d in other.site.departments()]
    finally:
        one.close()
        other.close()


def test_a_schema_upgrade_waits_for_no_seat_and_refuses_while_one_is_open(
    tmp_path: Path, clock: FixedClock, pg_url: str, first_seat: Path
) -> None:
    open_seat = open_services(first_seat, clock=clock, db_url=pg_url, hasher=CHEAP_HASHER)
    engine = create_engine(pg_url)
    upgrading = Database(pg_url)
    try:
        with engine.begin() as connection:  # as if the database were one release older
            connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0016'")
        with pytest.raises(AlreadyRunning, match="其他电脑"):
            upgrading.migrate()
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{SCHEMA_HEAD}'")
        engine.dispose()
        upgrading.dispose()
        open_seat.close()


def _issued_slip(services: AppServices, clerk: Actor, leader: Actor) -> str:
    """A 交办单 issued on ``services``' seat: its QR payload."""
    case_id = services.intake.register(clerk, person_form()).case_id
    services.cases.triage(
        clerk, case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
    )
    ids, _ = services.assignments.create(
        clerk,
        case_id,
        department_id=services.site.departments()[0].id,
        requirements="请核实参保信息并办理。",
    )
    number, _ = services.assignments.issue(leader, ids[0])
    return services.assignments.slip_content(number)[1].qr_payload


def test_an_enrolled_seat_signs_slips_the_first_seat_verifies_as_the_same_site(
    tmp_path: Path, clock: FixedClock, pg_url: str, first_seat: Path
) -> None:
    enrollment = tmp_path / "席位加入.bbcsseat"
    done = run_bbcs(
        "--db-url", pg_url, "seat", "enroll", "--to", str(enrollment), data_dir=first_seat
    )
    assert done.returncode == 0, done.stderr
    passphrase = re.search(r"一次性口令：(\S+)", done.stdout)
    assert passphrase, done.stdout
    assert b"data_key" not in enrollment.read_bytes()  # sealed, not in clear

    second = tmp_path / "第二席"
    wrong = run_bbcs(
        "--db-url",
        pg_url,
        "seat",
        "join",
        str(enrollment),
        data_dir=second,
        env=subprocess_env(BBCS_SEAT_PASSPHRASE="AAAA-BBBB-CCCC-DDDD-EEEE-FFFF"),
    )
    assert wrong.returncode != 0 and "口令不对" in wrong.stderr
    assert not (second / "keys" / "data.key").exists()
    joined = run_bbcs(
        "--db-url",
        pg_url,
        "seat",
        "join",
        str(enrollment),
        data_dir=second,
        env=subprocess_env(BBCS_SEAT_PASSPHRASE=passphrase.group(1).lower().replace("-", "")),
    )
    assert joined.returncode == 0, joined.stderr
    assert "本机已加入站点 410221" in joined.stdout
    assert "INFO" not in joined.stderr and "WARNING" not in joined.stderr  # logged, not shown
    # The keys came from the database, sealed there under the data key the file carried.
    assert (second / "keys" / "signing_ed25519.pem").read_bytes() == (
        first_seat / "keys" / "signing_ed25519.pem"
    ).read_bytes()
    again = run_bbcs(
        "--db-url",
        pg_url,
        "seat",
        "join",
        str(enrollment),
        data_dir=tmp_path / "第三席",
        env=subprocess_env(BBCS_SEAT_PASSPHRASE=passphrase.group(1)),
    )
    assert again.returncode != 0 and "已经用过" in again.stderr
    # Left as it was: no data key, nor the site's private keys the open had installed from
    # the database before the file was found used.
    assert list((tmp_path / "第三席").rglob("*.pem")) == []
    assert not (tmp_path / "第三席" / "keys").exists()

    # The new seat issues a slip; the first seat, in its own process, verifies it as its own.
    services = open_services(second, clock=clock, db_url=pg_url, hasher=CHEAP_HASHER)
    try:
        clerk = services.auth.login("clerk1", USER_PASSWORD)
        leader = services.auth.login("leader1", USER_PASSWORD)
        payload = _issued_slip(services, clerk, leader)
    finally:
        services.close()
    verified = run_bbcs("--db-url", pg_url, "verify-slip", payload, "--json", data_dir=first_seat)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert '"site_code": "410221"' in verified.stdout
    # And the other way round, a slip of the first seat on the second.
    services = open_services(first_seat, clock=clock, db_url=pg_url, hasher=CHEAP_HASHER)
    try:
        clerk = services.auth.login("clerk1", USER_PASSWORD)
        leader = services.auth.login("leader1", USER_PASSWORD)
        payload = _issued_slip(services, clerk, leader)
    finally:
        services.close()
    verified = run_bbcs("--db-url", pg_url, "verify-slip", payload, data_dir=second)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    # Both seats' checks pass: one chain, each seat's anchor witnessing it.
    for seat in (first_seat, second):
        checked = run_bbcs("--db-url", pg_url, "check", data_dir=seat)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def _signing_key(data_dir: Path) -> bytes:
    return (data_dir / "keys" / "signing_ed25519.pem").read_bytes()


def test_a_rotation_on_one_seat_reaches_the_others_and_old_keys_are_kept(
    tmp_path: Path, clock: FixedClock, pg_url: str, first_seat: Path
) -> None:
    open_services(first_seat, clock=clock, db_url=pg_url, hasher=CHEAP_HASHER).close()
    second = tmp_path / "第二席"
    (second / "keys").mkdir(parents=True)
    shutil.copy2(first_seat / "keys" / "data.key", second / "keys" / "data.key")
    open_services(second, clock=clock, db_url=pg_url, hasher=CHEAP_HASHER).close()
    assert _signing_key(second) == _signing_key(first_seat)  # from the database
    old = _signing_key(first_seat)

    rotated = run_bbcs("--db-url", pg_url, "keys", "rotate", data_dir=first_seat)
    assert rotated.returncode == 0, rotated.stderr
    assert _signing_key(first_seat) != old
    services = open_services(second, clock=clock, db_url=pg_url, hasher=CHEAP_HASHER)
    try:
        assert _signing_key(second) == _signing_key(first_seat)
        retired = [r.signing_key_path.read_bytes() for r in services.keys.retired()]
        assert retired == [old]  # a slip signed before the rotation still verifies here
    finally:
        services.close()
    # The seat that rotated opens again: its own new set stays, nothing is swapped back.
    open_services(first_seat, clock=clock, db_url=pg_url, hasher=CHEAP_HASHER).close()
    assert _signing_key(first_seat) == _signing_key(second) != old


def test_an_audit_entry_outside_the_writer_lock_is_refused_on_postgresql(
    clock: FixedClock, pg_url: str, first_seat: Path
) -> None:
    services = open_services(first_seat, clock=clock, db_url=pg_url, hasher=CHEAP_HASHER)
    try:
        with services.db.read() as session, pytest.raises(RuntimeError, match=r"Database\.write"):
            audit.record(
                session, at=clock.now(), user_name="admin", action="x", entity="x", entity_uuid="x"
            )
    finally:
        services.close()
