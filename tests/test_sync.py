"""County → city bundles end to end: two counties and a city in temp dirs (DESIGN.md §6).

The city runs on each engine (``db_url``: SQLite, then PostgreSQL); the counties on SQLite.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from desktop_app.domain.vocabulary import Approach, Cause, Nature, Role, VisitGrade
from desktop_app.errors import EnvironmentProblem, PermissionDenied, UserError
from desktop_app.services.cases import Triage
from desktop_app.services.context import Actor, FixedClock
from desktop_app.services.exchange import bundle_file as bf
from desktop_app.services.ledger import CaseFilter
from desktop_app.storage.models import Case, Department, HolidayOverride, Setting, Slip
from tests.helpers.db import audit_entries
from tests.helpers.exchange import (
    ADMIN,
    CITY,
    LEADER,
    QIXIAN,
    TONGXU,
    WEISHI,
    Site,
    craft_bundle,
    identity_file,
    open_site,
    read_records,
    table_counts,
    trust_each_other,
)
from tests.helpers.factories import enterprise_form, person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401

TRIAGE = Triage(
    nature=Nature.HARD,
    approach=Approach.PUSH,
    causes=(Cause.POLICY,),
    area="医保社保",
)


@dataclass
class Province:
    city: Site
    qixian: Site
    tongxu: Site
    usb: Path
    root: Path


@pytest.fixture
def province(tmp_path: Path, clock: FixedClock, db_url: str | None) -> Iterator[Province]:
    with (
        open_site(tmp_path, CITY, clock, db_url=db_url) as city,
        open_site(tmp_path, QIXIAN, clock) as qixian,
        open_site(tmp_path, TONGXU, clock) as tongxu,
    ):
        trust_each_other(qixian, city, tmp_path / "ids")
        trust_each_other(tongxu, city, tmp_path / "ids")
        usb = tmp_path / "U盘 (E)"
        usb.mkdir()
        yield Province(city, qixian, tongxu, usb, tmp_path)


def register(site: Site, count: int = 3, **changes: object) -> list[int]:
    return [
        site.services.intake.register(
            ADMIN, person_form(name=f"王{'芳敏强'[i % 3]}{i}", **changes)
        ).case_id
        for i in range(count)
    ]


def issue_a_slip(site: Site) -> str:
    """A new case, triaged and assigned to the site's first department; the slip's number."""
    case_id = register(site, 1)[0]
    site.services.cases.triage(ADMIN, case_id, TRIAGE)
    department = site.services.site.departments()[0]
    ids, _ = site.services.assignments.create(
        ADMIN, case_id, department_id=department.id, requirements="请于规定时限内办理并反馈。"
    )
    return site.services.assignments.issue(LEADER, ids[0])[0]


def city_numbers(city: Site, county_code: str | None = None) -> set[str]:
    with city.services.db.read() as session:
        query = select(Case.number)
        if county_code:
            query = query.where(Case.site_code == county_code)
        return set(session.scalars(query))


def only(reports: list) -> object:
    assert len(reports) == 1
    return reports[0]


def test_a_countys_cases_reach_the_city_and_the_ack_closes_the_loop(province: Province) -> None:
    qixian, city, usb = province.qixian, province.city, province.usb
    case_ids = register(qixian, 3)
    qixian.services.cases.triage(ADMIN, case_ids[0], TRIAGE)
    sent = qixian.sync.export(ADMIN, usb)
    assert sent.path.parent == usb and sent.path.suffix == ".bbcs"
    # Three people (each name has its own ID number: one number is one person).
    assert sent.counts["cases"] == 3 and sent.counts["complainants"] == 3
    assert not [p for p in usb.iterdir() if p.name.endswith(".part")]
    # A lost stick leaks nothing: no ID number or name in clear anywhere in the file.
    raw = sent.path.read_bytes()
    assert "王芳".encode() not in raw and b"11010519491231002X" not in raw

    before = table_counts(city)
    dry = city.sync.import_file(ADMIN, sent.path, dry_run=True)
    assert not dry.refused, dry.reason
    assert dry.dry_run and dry.added["cases"] == 3 and dry.totals()["updated"] == 0
    assert table_counts(city) == before  # a dry run changes nothing
    assert not list(usb.glob("*.bbcsack"))

    report = city.sync.import_file(ADMIN, sent.path)
    assert not report.refused, report.reason
    assert report.added["cases"] == 3 and report.added["case_events"] >= 4
    numbers = {qixian.services.cases.detail(i).number for i in case_ids}
    assert city_numbers(city, qixian.code) == numbers
    # The city's ledger finds a county's case by two characters, like its own.
    found = city.services.ledger.export_records(CaseFilter(text="参保"))
    assert {r["number"] for r in found} & numbers
    detail = city.services.cases.detail(_case_id(city, sorted(numbers)[0]))
    assert detail.read_only_reason and "杞县" in detail.read_only_reason

    ack = Path(report.ack_path)
    assert ack.parent == usb and ack.suffix == ".bbcsack"
    assert json.loads(ack.read_text("utf-8"))["bundle_id"] == sent.bundle_id

    status = qixian.sync.status()
    assert status.last_acked_at is None and status.pending_records > 0
    acked = only(qixian.sync.import_path(ADMIN, ack))
    assert not acked.refused, acked.reason
    status = qixian.sync.status()
    assert status.last_acked_at is not None and status.pending_records == 0
    assert status.reminder() == ""

    # The next bundle holds only what changed since the acknowledged one.
    qixian.services.cases.triage(ADMIN, case_ids[1], TRIAGE)
    second = qixian.sync.export(ADMIN, usb)
    assert second.base_generation == sent.generation
    assert second.counts["cases"] == 1 and second.counts["complainants"] == 0
    assert second.counts["case_events"] == 1
    update = city.sync.import_file(ADMIN, second.path)
    assert update.updated["cases"] == 1 and update.added["case_events"] == 1
    with city.services.db.read() as session:
        status_at_city = session.scalar(
            select(Case.status).where(Case.uuid == qixian.services.cases.detail(case_ids[1]).uuid)
        )
    assert status_at_city == qixian.services.cases.detail(case_ids[1]).status.value


def test_an_import_tells_each_table_as_it_merges_it_then_the_save(province: Province) -> None:
    """The progress the window shows moves table by table (a county's first upload spends a
    minute merging at a city on PostgreSQL, where it stood still at 合并记录) and ends on the
    commit, which writes the records' digests."""
    qixian, city, usb = province.qixian, province.city, province.usb
    issue_a_slip(qixian)
    sent = qixian.sync.export(ADMIN, usb)
    told: list[tuple[str, int, int]] = []
    report = city.sync.import_file(
        ADMIN, sent.path, progress=lambda what, done, total: told.append((what, done, total))
    )
    assert not report.refused, report.reason

    steps = [what for what, _done, _total in told]
    assert steps[:2] == ["解开记录", "检查记录"]
    assert steps[-2:] == ["更新检索", "保存"]
    merged = steps[2:-2]
    for earlier, later in (("反映人", "事项"), ("事项", "交办"), ("交办", "交办单")):
        assert merged.index(f"合并{earlier}") < merged.index(f"合并{later}")
    done = [step for _what, step, _total in told]
    assert done == sorted(set(done)), "each step is a new one, none goes back"
    total = told[-1][2]
    assert {t for _what, _done, t in told} == {total} and done[-1] == total - 1


def _case_id(site: Site, number: str) -> int:
    with site.services.db.read() as session:
        found = session.scalar(select(Case.id).where(Case.number == number))
        assert found is not None
        return found


def test_importing_the_same_bundle_twice_changes_nothing(province: Province) -> None:
    register(province.qixian, 4)
    sent = province.qixian.sync.export(ADMIN, province.usb)
    first = province.city.sync.import_file(ADMIN, sent.path)
    assert first.totals()["added"] > 0
    counts = table_counts(province.city)
    again = province.city.sync.import_file(ADMIN, sent.path)
    assert not again.refused
    assert again.totals()["added"] == 0 and again.totals()["updated"] == 0
    assert again.totals()["ignored"] >= 4
    assert table_counts(province.city) == counts
    # Its reason counts the records, as the window says it ("导入过 1 条" of them all).
    ((reason, records),) = again.reasons.items()
    assert "导入过" in reason and records == again.totals()["ignored"] == first.totals()["added"]


def test_an_older_acknowledgement_after_a_newer_one_changes_nothing(province: Province) -> None:
    """The second bundle carried everything of the first: once its acknowledgement is in, the
    first one's, arriving late, says so and changes nothing (issue 15 item 17)."""
    qixian, city, usb = province.qixian, province.city, province.usb
    register(qixian, 1)
    first = qixian.sync.export(ADMIN, usb)
    older = Path(city.sync.import_file(ADMIN, first.path).ack_path)
    register(qixian, 1)
    second = qixian.sync.export(ADMIN, usb)
    newer = Path(city.sync.import_file(ADMIN, second.path).ack_path)
    assert not qixian.sync.import_file(ADMIN, newer).refused
    status = qixian.sync.status()
    counts, history = table_counts(qixian), qixian.sync.history()

    for dry_run in (True, False):
        late = qixian.sync.import_file(ADMIN, older, dry_run=dry_run)
        assert not late.refused, late.reason
        assert late.updated["ack"] == 0 and late.ignored["ack"] == 1
        assert any("不改变任何内容" in reason for reason in late.reasons)
        # Said as what it is: not "imported before" (it never was).
        assert "已导入较新的第" in late.summary() and "已导入过" not in late.summary()
    assert table_counts(qixian) == counts and qixian.sync.history() == history
    assert qixian.sync.status() == status
    # A folder import no longer offers it.
    assert older not in qixian.sync.pending_in_folder(usb)
    register(qixian, 1)
    assert qixian.sync.export(ADMIN, usb).base_generation == second.generation


def test_overlapping_bundles_are_idempotent_by_uuid_and_version(province: Province) -> None:
    qixian, city, usb = province.qixian, province.city, province.usb
    register(qixian, 2)
    first = qixian.sync.export(ADMIN, usb)
    register(qixian, 1)
    # Not acknowledged yet: the second bundle repeats everything of the first.
    second = qixian.sync.export(ADMIN, usb)
    assert second.counts["cases"] == 3
    city.sync.import_file(ADMIN, first.path)
    report = city.sync.import_file(ADMIN, second.path)
    assert report.added["cases"] == 1 and report.ignored["cases"] == 2
    assert report.reasons["已是最新"] >= 2
    assert len(city_numbers(city, qixian.code)) == 3


def test_a_lost_stick_costs_nothing(province: Province) -> None:
    qixian, city, usb = province.qixian, province.city, province.usb
    register(qixian, 2)
    lost = qixian.sync.export(ADMIN, usb)
    lost.path.unlink()  # the stick never reached the city
    register(qixian, 1)
    carried = qixian.sync.export(ADMIN, usb)
    report = city.sync.import_file(ADMIN, carried.path)
    assert report.added["cases"] == 3
    assert len(city_numbers(city, qixian.code)) == 3


def test_two_counties_are_merged_and_kept_apart(province: Province) -> None:
    register(province.qixian, 2)
    register(province.tongxu, 3)
    for county in (province.qixian, province.tongxu):
        county.sync.export(ADMIN, province.usb)
    reports = province.city.sync.import_path(ADMIN, province.usb)
    assert len(reports) == 2 and not any(r.refused for r in reports)
    assert len(city_numbers(province.city, province.qixian.code)) == 2
    assert len(city_numbers(province.city, province.tongxu.code)) == 3
    # Both counties have a department named after their own medical insurance bureau, and each
    # keeps its own (the city stores them under the owning county).
    with province.city.services.db.read() as session:
        owners = set(session.scalars(select(Department.site_code)))
    assert {province.qixian.code, province.tongxu.code} <= owners
    # Acknowledgements are for the counties: the city's folder scan leaves them alone.
    assert province.city.sync.import_path(ADMIN, province.usb) == []


def test_attachments_travel_by_content_hash(province: Province) -> None:
    scan = province.root / "身份证 复印件.png"
    scan.write_bytes(b"\x89PNG fake scan " * 500)
    case_id = province.qixian.services.intake.register(
        ADMIN, enterprise_form(attachments=(scan,))
    ).case_id
    sha = province.qixian.services.cases.detail(case_id).attachments[0].sha256
    sent = province.qixian.sync.export(ADMIN, province.usb)
    assert sent.counts["attachments"] == 1
    province.city.sync.import_file(ADMIN, sent.path)
    stored = province.city.services.attachments.path_for(sha)
    assert stored.read_bytes() == scan.read_bytes()


def test_the_city_cannot_change_a_countys_case(province: Province) -> None:
    case_id = register(province.qixian, 1)[0]
    sent = province.qixian.sync.export(ADMIN, province.usb)
    province.city.sync.import_file(ADMIN, sent.path)
    number = province.qixian.services.cases.detail(case_id).number
    at_city = _case_id(province.city, number)
    with pytest.raises(PermissionDenied, match="杞县办不成事监督窗口"):
        province.city.services.cases.triage(ADMIN, at_city, TRIAGE)
    # The city's own cases stay editable.
    own = register(province.city, 1)[0]
    province.city.services.cases.triage(ADMIN, own, TRIAGE)
    assert province.city.services.cases.detail(own).read_only_reason == ""


def test_a_record_changed_on_both_sides_goes_to_the_conflict_queue(
    province: Province, clock: FixedClock
) -> None:
    """A county restores a backup and redoes work differently: same version, other content."""
    qixian, city, usb = province.qixian, province.city, province.usb
    case_id = register(qixian, 1)[0]
    backup = qixian.services.db.backup_to(province.root / "backup.db")
    qixian.services.cases.triage(ADMIN, case_id, TRIAGE)
    city.sync.import_file(ADMIN, qixian.sync.export(ADMIN, usb).path)

    restored_dir = province.root / "restored"
    restored_dir.mkdir()
    shutil.copy(backup, restored_dir / "bbcs.db")
    shutil.copytree(qixian.data_dir / "keys", restored_dir / "keys")
    from desktop_app.services.app import open_services

    restored = open_services(restored_dir, clock=clock)
    try:
        other = Triage(
            nature=Nature.HARD, approach=Approach.PUSH, causes=(Cause.SHIRKING,), area="教育就学"
        )
        restored.cases.triage(ADMIN, case_id, other)
        again = Site(restored, qixian.code, qixian.name, restored_dir)
        report = city.sync.import_file(ADMIN, again.sync.export(ADMIN, usb).path)
    finally:
        restored.close()
    assert not report.refused, report.reason
    assert report.conflicts["cases"] == 1
    conflicts = city.sync.conflicts()
    assert len(conflicts) >= 1
    case_conflict = next(c for c in conflicts if c.entity == "cases")
    assert "同一版本" in case_conflict.reason
    number = qixian.services.cases.detail(case_id).number
    assert city.services.cases.detail(_case_id(city, number)).area == "医保社保"  # local kept
    city.sync.resolve_conflict(ADMIN, case_conflict.id, take_incoming=True)
    assert city.services.cases.detail(_case_id(city, number)).area == "教育就学"
    assert all(c.id != case_conflict.id for c in city.sync.conflicts())
    # The city keeps the lines of both triages; the county's hash covers its own: the case
    # went through the conflict queue, and its timeline is not called tampered.
    assert city.services.maintenance.check().problems == []
    with pytest.raises(UserError):
        city.sync.resolve_conflict(ADMIN, case_conflict.id, take_incoming=False)


def test_reference_data_goes_down_to_the_counties(province: Province) -> None:
    city, qixian, usb = province.city, province.qixian, province.usb
    admin = city.services.auth.login("admin", "Admin12345")
    city.services.site.save_department(admin, name="开封市医疗保障局", principal_leader="李局长")
    closure = date(2026, 12, 3)
    city.services.calendar.save_override(admin, closure, working=False, name="全市停电检修")
    case_id = register(qixian, 1)[0]
    qixian.services.cases.triage(ADMIN, case_id, TRIAGE)
    due_before = qixian.services.cases.detail(case_id).due_date

    sent = city.sync.export(ADMIN, usb)
    assert sent.kind == "reference" and sent.counts["departments"] == 1
    report = only(qixian.sync.import_path(ADMIN, sent.path))
    assert not report.refused, report.reason
    assert report.added["departments"] == 1 and report.added["holiday_overrides"] == 1
    with qixian.services.db.read() as session:
        dept = session.scalar(select(Department).where(Department.name == "开封市医疗保障局"))
        assert dept is not None and dept.site_code == city.code
        assert session.scalar(select(HolidayOverride.name).where(HolidayOverride.day == closure))
    due_after = qixian.services.cases.detail(case_id).due_date
    assert due_before is not None and due_after is not None
    if due_before >= closure:  # the city's closure moves the county's open deadline
        assert due_after > due_before
    # One the county has under the same name is told apart in its lists (two stood alike).
    own = qixian.services.site.departments()[0].name
    city.services.site.save_department(admin, name=own, principal_leader="王主任")
    named = only(qixian.sync.import_path(ADMIN, city.sync.export(ADMIN, usb).path))
    assert not named.refused, named.reason
    names = [d.name for d in qixian.services.site.departments()]
    assert names.count(own) == 1 and len(set(names)) == len(names)
    assert any(name.startswith(own) and name.endswith("下发）") for name in names)
    # A reference bundle is for counties; the city refuses one, and a county refuses data.
    again = qixian.sync.import_file(ADMIN, sent.path)
    assert again.totals()["added"] == 0
    data = qixian.sync.export(ADMIN, usb)
    refused = province.tongxu.sync.import_file(ADMIN, data.path)
    assert refused.refused and refused.code == "wrong_kind"
    # The county's own department goes up; the city's is not sent back.
    assert data.counts["departments"] == 1


def test_exports_need_a_trusted_city(tmp_path: Path, clock: FixedClock) -> None:
    with open_site(tmp_path, WEISHI, clock) as weishi:
        with pytest.raises(UserError, match="尚未登记市级站点"):
            weishi.sync.export(ADMIN, tmp_path)
        assert weishi.sync.status().reminder().startswith("尚未登记市级站点")
        assert not list(tmp_path.glob("*.bbcs"))


def test_trust_refuses_changed_keys_without_replace(province: Province, clock: FixedClock) -> None:
    city, qixian = province.city, province.qixian
    # Same identity again: nothing changes.
    path = identity_file(qixian, province.root / "ids")
    assert "无需更改" in city.sync.trust(ADMIN, city.sync.read_identity(path))
    # A county that re-made its keys: refused until replaced on purpose (after a phone check).
    new_dir = province.root / "new-keys"
    with open_site(new_dir, QIXIAN, clock) as impostor:
        new_identity = city.sync.read_identity(identity_file(impostor, province.root))
    with pytest.raises(UserError, match="指纹"):
        city.sync.trust(ADMIN, new_identity)
    assert "已更新" in city.sync.trust(ADMIN, new_identity, replace=True)
    sites = {s.code: s for s in city.sync.trusted_sites()}
    assert sites[qixian.code].fingerprint == new_identity.fingerprint()
    # Its own identity, or a second city at a county, are refused plainly.
    with pytest.raises(UserError, match="本站点自己"):
        city.sync.trust(ADMIN, city.sync.read_identity(identity_file(city, province.root)))
    with pytest.raises(UserError, match="县区站点只需登记"):
        qixian.sync.trust(
            ADMIN, qixian.sync.read_identity(identity_file(province.tongxu, province.root))
        )


def test_only_an_administrator_registers_or_revokes_sites(province: Province) -> None:
    clerk_actor = Actor(None, "c1", "张敏", Role.CLERK)
    with pytest.raises(PermissionDenied):
        province.city.sync.revoke(clerk_actor, province.qixian.code)
    auditor = Actor(None, "a1", "刘纪", Role.AUDITOR)
    with pytest.raises(PermissionDenied):
        province.qixian.sync.export(auditor, province.usb)


# The medium fails ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (errno.ENOSPC, "空间已满"),
        (errno.EIO, "拔出"),
        (errno.EROFS, "只读"),
    ],
)
def test_a_failing_medium_leaves_nothing_that_looks_like_a_bundle(
    province: Province, monkeypatch: pytest.MonkeyPatch, error: int, message: str
) -> None:
    register(province.qixian, 2)
    real = bf.write_container

    def failing(out: bf.BinaryWriter, *args: object, **kwargs: object) -> None:
        out.write(b"partial data" * 100)
        raise OSError(error, os.strerror(error))

    monkeypatch.setattr(bf, "write_container", failing)
    with pytest.raises(EnvironmentProblem, match=message):
        province.qixian.sync.export(ADMIN, province.usb)
    assert list(province.usb.iterdir()) == []
    assert province.qixian.sync.history() == []
    monkeypatch.setattr(bf, "write_container", real)
    sent = province.qixian.sync.export(ADMIN, province.usb)  # the next try carries it all
    assert sent.counts["cases"] == 2


def test_a_missing_target_folder_is_reported(province: Province) -> None:
    with pytest.raises(EnvironmentProblem, match="U盘可能已拔出"):
        province.qixian.sync.export(ADMIN, province.root / "F盘")


def test_the_upload_reminder_follows_the_period(province: Province, clock: FixedClock) -> None:
    qixian = province.qixian
    assert "尚未向市级上报" in qixian.sync.status().reminder()
    sent = qixian.sync.export(ADMIN, province.usb)
    report = province.city.sync.import_file(ADMIN, sent.path)
    qixian.sync.import_file(ADMIN, Path(report.ack_path))
    assert qixian.sync.status().reminder() == ""
    clock.at = clock.at + timedelta(days=9)
    text = qixian.sync.status().reminder()
    assert "超过 7 天" in text and "9 天" in text
    qixian.sync.set_period_days(ADMIN, 14)
    assert qixian.sync.status().reminder() == ""
    with qixian.services.db.read() as session:
        assert (
            session.scalar(select(Setting.value).where(Setting.key == "sync_period_days")) == "14"
        )


def test_the_city_ledger_filters_by_county(province: Province) -> None:
    register(province.qixian, 2)
    register(province.tongxu, 1)
    for county in (province.qixian, province.tongxu):
        province.city.sync.import_file(ADMIN, county.sync.export(ADMIN, province.usb).path)
    ledger = province.city.services.ledger
    assert [code for code, _name in ledger.case_sites()] == [
        province.city.code,
        province.qixian.code,
        province.tongxu.code,
    ]
    assert province.qixian.services.ledger.case_sites() == [
        (province.qixian.code, province.qixian.name)
    ]
    assert dict(ledger.case_sites())[province.tongxu.code] == province.tongxu.name
    assert len(ledger.ids(CaseFilter())) == 3
    assert len(ledger.ids(CaseFilter(site_code=province.qixian.code))) == 2
    only_tongxu = ledger.export_records(CaseFilter(site_code=province.tongxu.code, text="参保"))
    assert [r["number"][:2] for r in only_tongxu] == ["通许"]


def test_rotated_keys_keep_old_slips_and_bundles_valid(province: Province) -> None:
    qixian, city, usb = province.qixian, province.city, province.usb
    # A slip the county really issued (a number it never issued does not verify at all).
    old_number = issue_a_slip(qixian)
    old_payload = qixian.services.assignments.slip_content(old_number)[1].qr_payload
    register(qixian, 1)

    # The city rotates: a county that still has the old identity can still be read.
    city.sync.rotate_keys(ADMIN)
    report = city.sync.import_file(ADMIN, qixian.sync.export(ADMIN, usb).path)
    assert not report.refused, report.reason

    # The county rotates: its slips printed before stay verifiable, here and at the city...
    new_identity = qixian.sync.rotate_keys(ADMIN)
    assert qixian.services.assignments.verify(old_payload).valid
    assert city.services.assignments.verify(old_payload).valid
    # ...but its new bundles are refused until the city registers the new identity.
    register(qixian, 1)
    refused = city.sync.import_file(ADMIN, qixian.sync.export(ADMIN, usb).path)
    assert refused.refused and refused.code == "bad_signature"
    city.sync.trust(ADMIN, new_identity, replace=True)
    accepted = city.sync.import_file(ADMIN, qixian.sync.export(ADMIN, usb).path)
    assert not accepted.refused and accepted.added["cases"] == 1
    assert city.services.assignments.verify(old_payload).valid  # previous keys are kept


def test_a_reprinted_slip_travels_as_a_new_version_not_a_conflict(province: Province) -> None:
    qixian, city, usb = province.qixian, province.city, province.usb
    number = issue_a_slip(qixian)
    city.sync.import_file(ADMIN, qixian.sync.export(ADMIN, usb).path)
    qixian.services.assignments.record_slip_output(ADMIN, number)  # print_count changes
    report = city.sync.import_file(ADMIN, qixian.sync.export(ADMIN, usb).path)
    assert report.conflicts["slips"] == 0 and report.updated["slips"] == 1
    # Printed at the city, a county's slip is a copy: its record stays the county's.
    with city.services.db.read() as session:
        before = session.scalar(select(Slip.version).where(Slip.number == number))
    city.services.assignments.record_slip_output(ADMIN, number)
    with city.services.db.read() as session:
        assert session.scalar(select(Slip.version).where(Slip.number == number)) == before


def test_the_city_calendar_filters_deadlines_by_county(province: Province) -> None:
    from desktop_app.services.deadlines import BoardFilter

    for county in (province.qixian, province.tongxu):
        case_id = register(county, 1)[0]
        county.services.cases.triage(ADMIN, case_id, TRIAGE)
        province.city.sync.import_file(ADMIN, county.sync.export(ADMIN, province.usb).path)
    board = province.city.services.deadlines
    start, end = date(2026, 11, 1), date(2027, 1, 31)

    def total(board_filter: BoardFilter) -> int:
        days = board.counts_by_day(start, end, board_filter)
        return sum(sum(kinds.values()) for kinds in days.values())

    everything = total(BoardFilter())
    only_qixian = total(BoardFilter(site_code=province.qixian.code))
    assert everything == 2 and only_qixian == 1


def test_a_repeat_visit_at_the_city_leaves_the_countys_case_alone(province: Province) -> None:
    """A county's open case seen at the city is only its county's to change: a citizen who
    comes back to the city window gets a new city case linked to it."""
    case_id = register(province.qixian, 1)[0]
    province.city.sync.import_file(ADMIN, province.qixian.sync.export(ADMIN, province.usb).path)
    number = province.qixian.services.cases.detail(case_id).number
    at_city = _case_id(province.city, number)
    with province.city.services.db.read() as session:
        before = session.execute(
            select(Case.visits_count, Case.version).where(Case.id == at_city)
        ).one()
    result = province.city.services.intake.register(
        ADMIN, person_form(name="王芳0", visits_count=1, repeat_of_case_id=at_city)
    )
    assert not result.repeat_visit and result.case_id != at_city
    with province.city.services.db.read() as session:
        after = session.execute(
            select(Case.visits_count, Case.version).where(Case.id == at_city)
        ).one()
        assert tuple(after) == tuple(before)
        new_case = session.get(Case, result.case_id)
        assert new_case is not None
        assert new_case.linked_case_id == at_city
        assert new_case.site_code == CITY[0]


def test_at_the_city_a_slip_is_printed_from_its_own_case_when_numbers_collide(
    province: Province,
) -> None:
    """Two counties whose slips are numbered alike (the same prefix): printed from a case,
    the city prints that case's slip, not the first of that number."""
    city, qixian, tongxu, usb = province.city, province.qixian, province.tongxu, province.usb
    with tongxu.services.db.write() as session:
        session.execute(text("UPDATE sites SET slip_prefix = '杞纪窗' WHERE is_local"))
    issued: dict[str, tuple[str, str]] = {}  # county code: (slip number, slip UUID)
    for county in (qixian, tongxu):
        number = issue_a_slip(county)
        with county.services.db.read() as session:
            slip_uuid = session.scalar(select(Slip.uuid).where(Slip.number == number))
        issued[county.services.site.info().code] = (number, slip_uuid)
        assert not city.sync.import_file(ADMIN, county.sync.export(ADMIN, usb).path).refused
    (number, _), (same, tongxu_slip) = issued["410221"], issued["410222"]
    assert number == same
    with city.services.db.read() as session:
        tongxu_case = session.scalar(select(Case.id).where(Case.site_code == "410222"))
    city.services.assignments.record_slip_output(ADMIN, number, case_id=tongxu_case)
    printed = audit_entries(city.services, tongxu_slip)
    assert [e["action"] for e in printed] == ["reprint_slip"]


def test_the_city_finds_a_countys_case_by_its_whole_number(province: Province) -> None:
    case_ids = register(province.qixian, 3)
    province.city.sync.import_file(ADMIN, province.qixian.sync.export(ADMIN, province.usb).path)
    number = province.qixian.services.cases.detail(case_ids[1]).number
    assert number.startswith("杞县-")
    ledger = province.city.services.ledger
    found = ledger.ids(CaseFilter(text=number))
    assert [province.city.services.cases.detail(i).number for i in found] == [number]
    # The start of a number, with or without the rest, picks that county's cases.
    assert len(ledger.ids(CaseFilter(text=number[:-1]))) == 3
    assert len(ledger.ids(CaseFilter(text="杞县-"))) == 3
    assert ledger.ids(CaseFilter(text="通许-2026")) == []
    # Text search finds the same cases at the city as at the county (the county's search text
    # travelled with them).
    for query in ("王强2", "医保结算", "2026-0002"):
        at_county = {
            province.qixian.services.cases.detail(i).number
            for i in province.qixian.services.ledger.ids(CaseFilter(text=query))
        }
        at_city = {
            province.city.services.cases.detail(i).number
            for i in ledger.ids(CaseFilter(text=query))
        }
        assert at_county and at_city == at_county, query


def test_references_to_rows_that_come_later_in_the_bundle_are_kept(
    province: Province, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lost stick: the next bundle carries everything, in the order it changed, so a case can
    come before the earlier case it is linked to. One row at a time (both engines' row-by-row
    path, and SQLite's for rows the city already has) must still link them."""
    from desktop_app.services.exchange import merge_bulk, merge_rows, records_file
    from tests.test_cases import conclude

    for reader in (records_file, merge_bulk, merge_rows):  # wherever rows are read in chunks
        monkeypatch.setattr(reader, "ROW_CHUNK", 1)
    qixian, city = province.qixian, province.city
    first = register(qixian, 1)[0]
    conclude(qixian.services, ADMIN, first)
    second = qixian.services.intake.register(
        ADMIN, person_form(name="王芳0", visits_count=1, repeat_of_case_id=first)
    ).case_id
    qixian.sync.export(ADMIN, province.usb)  # lost
    conclude(qixian.services, ADMIN, second)  # both change again, the earlier one last
    qixian.services.cases.record_visit(ADMIN, first, grade=VisitGrade.SATISFIED)
    sent = qixian.sync.export(ADMIN, province.usb)
    # The earlier case moved to the end of the file, as an export may order rows by change.
    records = read_records(sent.path, city)
    earlier = qixian.services.cases.detail(first).uuid
    member = records.member(
        extra_sql=[
            f"INSERT INTO cases SELECT * FROM cases WHERE uuid = '{earlier}'",
            f"DELETE FROM cases WHERE rowid = (SELECT min(rowid) FROM cases "
            f"WHERE uuid = '{earlier}')",
        ]
    )
    reordered = craft_bundle(
        province.usb / "reordered.bbcs",
        qixian,
        city,
        [(bf.RECORDS_MEMBER, *member), *records.files],
        bundle_id="5d7c1f0e-2b3a-4c5d-8e9f-0a1b2c3d4e5f",
    )
    assert (
        read_records(reordered, city).tables["cases"][1][-1][
            records.tables["cases"][0].index("uuid")
        ]
        == earlier
    )
    report = city.sync.import_file(ADMIN, reordered)
    assert not report.refused, report.reason
    numbers = {
        n: _case_id(city, qixian.services.cases.detail(i).number)
        for n, i in (("first", first), ("second", second))
    }
    with city.services.db.read() as session:
        linked = session.scalar(select(Case.linked_case_id).where(Case.id == numbers["second"]))
    assert linked == numbers["first"]
    # Sent again in full (the acknowledgement never went back): nothing to do, nothing queued.
    again = city.sync.import_file(ADMIN, qixian.sync.export(ADMIN, province.usb).path)
    assert not again.refused, again.reason
    assert again.totals()["added"] == 0 and again.totals()["conflicts"] == 0
    assert again.totals()["ignored"] == sum(sent.counts.values())


def test_a_countys_timelines_keep_their_hash_at_the_city(province: Province) -> None:
    """A county's case comes with the hash of its 办理记录 (issue 15 item 7, migration 0027):
    the city keeps it and holds the lines it received to it, after a first bundle and after a
    case's new line in the next; a line deleted at the city is then named there."""
    qixian, city, usb = province.qixian, province.city, province.usb
    case_ids = register(qixian, 2)
    city.sync.import_file(ADMIN, qixian.sync.export(ADMIN, usb).path)
    assert city.services.maintenance.check().problems == []
    qixian.services.cases.triage(ADMIN, case_ids[0], TRIAGE)  # a new line, a new version
    report = city.sync.import_file(ADMIN, qixian.sync.export(ADMIN, usb).path)
    assert report.updated["cases"] == 1 and report.added["case_events"] >= 1
    assert city.services.maintenance.check().problems == []

    number = qixian.services.cases.detail(case_ids[0]).number
    with city.services.db.engine.begin() as connection:
        connection.exec_driver_sql(
            "DELETE FROM case_events WHERE kind = 'triaged' AND case_id = "
            f"(SELECT id FROM cases WHERE number = '{number}')"
        )
    problems = city.services.maintenance.check().problems
    said = f"事项 {number}（{qixian.code} 上报）的办理记录与随事项上报的校验值不符"
    assert any(said in p for p in problems), problems


def test_a_received_case_without_a_hash_is_left_for_its_sender_to_hash(province: Province) -> None:
    """A county of an older release sends no hash of a case's lines: the city's own passes
    (upgrade, restore) do not make one (its later lines would not follow it: a false alarm)."""
    from desktop_app.services import integrity

    qixian, city, usb = province.qixian, province.city, province.usb
    register(qixian, 1)
    city.sync.import_file(ADMIN, qixian.sync.export(ADMIN, usb).path)
    with city.services.db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE cases SET events_hash = NULL")
    with city.services.db.write() as session:
        assert integrity.refresh_events_hashes(session) == 0
    with city.services.db.read() as session:
        assert session.scalar(select(Case.events_hash)) is None
