"""A copied data dir reveals no ID or phone number (issue 15 item 11).

A site registers a complainant with a known ID and phone, finds the case by them, registers the
same person again, issues a slip that prints the phone in full, corrects the phone, reveals the
numbers on screen and backs up; the log is written as the program writes it. Then every byte of
every file in the data dir (the database, its -wal, the backups, the logs, the attachments) is
searched for both numbers, as UTF-8 and UTF-16 text and as the search index spells them: none is
found. The numbers are still found by search, the duplicate still recognised, and shown masked
until someone allowed reveals them, which the audit log records.
"""

from __future__ import annotations

import logging
import logging.handlers
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from desktop_app.domain.vocabulary import Approach, Cause, Nature
from desktop_app.errors import PermissionDenied
from desktop_app.paths import DataLayout
from desktop_app.services.app import AppServices
from desktop_app.services.cases import Triage
from desktop_app.services.context import Actor, FixedClock
from desktop_app.services.corrections import CorrectionForm
from desktop_app.services.ledger import CaseFilter
from desktop_app.storage.models import AuditEntry, Complainant
from tests.helpers.factories import ADMIN_PASSWORD, USER_PASSWORD, person_form
from tests.helpers.ids import id_number
from tests.helpers.site import county_site
from tests.helpers.speed import fast_password_hashing  # noqa: F401

KNOWN_ID = id_number("41022119850704321")
KNOWN_PHONE = "13976543210"
NEW_PHONE = "15803781122"
TRIAGE = Triage(Nature.HARD, Approach.PUSH, (Cause.POLICY,), "医保社保")


def spellings(number: str) -> list[bytes]:
    """How a number could sit in a file: UTF-8 (also JSON), UTF-16 either way round, and one
    character per token as the search index stores text."""
    spaced = " ".join(number.lower())
    return [
        number.encode("utf-8"),
        number.encode("utf-16-le"),
        number.encode("utf-16-be"),
        spaced.encode("utf-8"),
    ]


def files_holding(root: Path, numbers: list[str]) -> list[str]:
    found = []
    needles = [(n, s) for n in numbers for s in spellings(n)]
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [f"{path.relative_to(root)}: {n}" for n, s in needles if s in data]
    return found


@pytest.fixture
def site(tmp_path: Path) -> Iterator[AppServices]:
    """The test site, logging into its data dir as the program does (logs/bbcs.log)."""
    clock = FixedClock(datetime(2026, 11, 25, 9, 0))
    data_dir = tmp_path / "site"
    root = logging.getLogger()
    level = root.level
    with county_site(data_dir, clock) as services:
        handler = logging.handlers.RotatingFileHandler(
            DataLayout(data_dir).logs / "bbcs.log", encoding="utf-8"
        )
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        try:
            yield services
        finally:
            root.removeHandler(handler)
            root.setLevel(level)
            handler.close()


def login(services: AppServices, name: str) -> Actor:
    return services.auth.login(name, ADMIN_PASSWORD if name == "admin" else USER_PASSWORD)


def test_no_file_in_the_data_dir_holds_a_number_in_clear(site: AppServices) -> None:
    services = site
    clerk, leader = login(services, "clerk1"), login(services, "leader1")
    form = person_form(name="赵静", id_number=KNOWN_ID, phone=KNOWN_PHONE)
    case_id = services.intake.register(clerk, form).case_id

    # Found by its numbers, exactly, and by the phone's last four digits.
    for query in (KNOWN_ID, KNOWN_ID.lower(), KNOWN_PHONE, "139 7654 3210", "3210"):
        assert services.ledger.ids(CaseFilter(text=query)) == [case_id], query
    assert services.ledger.ids(CaseFilter(text=KNOWN_PHONE[:7])) == []

    # The same person again: recognised by the ID, and by the phone alone.
    related = services.intake.related_cases(form)
    assert [(r.id, r.matched_by) for r in related] == [(case_id, "身份证号")]
    by_phone = services.intake.related_cases(person_form(name="", id_number="", phone=KNOWN_PHONE))
    assert [(r.id, r.matched_by) for r in by_phone] == [(case_id, "联系电话")]
    again = services.intake.register(clerk, replace(form, title="又来反映"))
    with services.db.read() as session:
        assert session.scalar(select(func.count(Complainant.id))) == 1
    assert again.case_id != case_id

    # A slip printing the phone in full (the default for the department's copy).
    services.cases.triage(clerk, case_id, TRIAGE)
    department = services.site.departments()[0]
    ids, _ = services.assignments.create(
        clerk, case_id, department_id=department.id, requirements="请于规定时限内办理并反馈。"
    )
    number, _ = services.assignments.issue(leader, ids[0])
    _info, content = services.assignments.slip_content(number)
    assert KNOWN_PHONE in content.complainant_contact
    assert services.assignments.slip_pdf(clerk, number, case_id=case_id)

    # A corrected phone: the old and the new number kept out of the timeline and audit log.
    current = services.corrections.current(case_id)
    corrected = CorrectionForm(
        current.case, replace(current.complainant, phone=NEW_PHONE), reason="登记时电话录错"
    )
    services.corrections.correct(clerk, case_id, corrected)
    assert set(services.ledger.ids(CaseFilter(text=NEW_PHONE))) == {case_id, again.case_id}

    services.backups.backup(login(services, "admin"))  # the audited backup, in backups/
    logging.getLogger("desktop_app").info("the log is written as the program writes it")

    numbers = [KNOWN_ID, KNOWN_PHONE, NEW_PHONE]
    assert files_holding(services.layout.root, numbers) == []
    services.db.checkpoint()
    assert files_holding(services.layout.root, numbers) == []


def test_numbers_are_shown_masked_and_revealed_on_the_audit_log(site: AppServices) -> None:
    services = site
    clerk = login(services, "clerk1")
    form = person_form(name="赵静", id_number=KNOWN_ID, phone=KNOWN_PHONE)
    case_id = services.intake.register(clerk, form).case_id

    detail = services.cases.detail(case_id)
    assert detail.id_number_masked == KNOWN_ID[:6] + "********" + KNOWN_ID[-4:]
    assert detail.phone == "139****3210"

    shown = services.cases.reveal_numbers(clerk, case_id)
    assert (shown.id_number, shown.phone) == (KNOWN_ID, KNOWN_PHONE)
    with services.db.read() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "reveal_numbers")
        ).one()
        assert entry.user_name == "clerk1"
        assert entry.after == {"case": detail.number, "fields": ["id_number", "phone"]}
    with pytest.raises(PermissionDenied):
        services.cases.reveal_numbers(login(services, "auditor"), case_id)
    # 更正 shows the full numbers to correct them: a reveal too.
    form = services.corrections.open_for_correction(clerk, case_id)
    assert (form.complainant.id_number, form.complainant.phone) == (KNOWN_ID, KNOWN_PHONE)
    with services.db.read() as session:
        reveals = session.scalars(
            select(AuditEntry.after).where(AuditEntry.action == "reveal_numbers")
        ).all()
    assert reveals[-1] == {"case": detail.number, "for": "correct"}
    with pytest.raises(PermissionDenied):
        services.corrections.open_for_correction(login(services, "auditor"), case_id)


def test_the_scan_finds_a_number_left_in_clear(tmp_path: Path) -> None:
    """The scan itself: a number in any of the spellings is found."""
    for at, spelling in enumerate(spellings(KNOWN_PHONE)):
        (tmp_path / f"{at}.bin").write_bytes(b"\x00before" + spelling + b"after\xff")
    assert len(files_holding(tmp_path, [KNOWN_PHONE])) == 4


def test_the_case_window_reveals_the_numbers_on_a_click_that_is_audited(
    qtbot: Any, services: AppServices, clerk: Actor, auditor: Actor
) -> None:
    from PySide6.QtCore import Qt

    from desktop_app.ui.case_detail import CaseDetailDialog
    from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext

    form = person_form(name="赵静", id_number=KNOWN_ID, phone=KNOWN_PHONE)
    case_id = services.intake.register(clerk, form).case_id
    runner = TaskRunner()
    try:
        for actor, allowed in ((auditor, False), (clerk, True)):
            dialog = CaseDetailDialog(UiContext(services, actor, ChangeHub(), runner), case_id)
            qtbot.addWidget(dialog)
            dialog.show()
            qtbot.waitExposed(dialog)
            qtbot.waitUntil(lambda d=dialog: not d.is_loading)
            assert dialog.info_values["联系电话"].text() == "139****3210"
            assert dialog.info_values["身份证号"].text() != KNOWN_ID
            assert dialog.reveal_button.isEnabled() is allowed
        qtbot.mouseClick(dialog.reveal_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.info_values["联系电话"].text() == KNOWN_PHONE)
        assert dialog.info_values["身份证号"].text() == KNOWN_ID
    finally:
        runner.wait()
    with services.db.read() as session:
        entries = session.execute(
            select(AuditEntry.user_name, AuditEntry.entity).where(
                AuditEntry.action == "reveal_numbers"
            )
        ).all()
    assert [tuple(e) for e in entries] == [("clerk1", "complainant")]


def test_the_city_seals_what_counties_send_under_its_own_key(tmp_path: Path) -> None:
    """Re-keying: a county opens its seal for the (encrypted) bundle, the city seals under its
    own key, so the same person sent by two counties is one number to the city's searches and
    duplicate checks, and the city's files hold no number in clear either."""
    from tests.helpers.exchange import ADMIN, CITY, LEADER, QIXIAN, TONGXU, open_site
    from tests.helpers.exchange import trust_each_other as trust

    clock = FixedClock(datetime(2026, 11, 25, 9, 0))
    with (
        open_site(tmp_path, CITY, clock) as city,
        open_site(tmp_path, QIXIAN, clock) as qixian,
        open_site(tmp_path, TONGXU, clock) as tongxu,
    ):
        trust(qixian, city, tmp_path / "ids")
        trust(tongxu, city, tmp_path / "ids")
        usb = tmp_path / "U盘"
        usb.mkdir()
        form = person_form(name="赵静", id_number=KNOWN_ID, phone=KNOWN_PHONE)
        first = qixian.services.intake.register(ADMIN, form).case_id
        qixian.services.cases.triage(ADMIN, first, TRIAGE)
        department = qixian.services.site.departments()[0]
        drafts, _ = qixian.services.assignments.create(
            ADMIN, first, department_id=department.id, requirements="请依法办理。"
        )
        number, _ = qixian.services.assignments.issue(LEADER, drafts[0])
        tongxu.services.intake.register(ADMIN, replace(form, title="另一件事"))
        for county in (qixian, tongxu):
            report = city.sync.import_file(ADMIN, county.sync.export(ADMIN, usb).path)
            assert not report.refused, report.reason

        found = city.services.ledger.ids(CaseFilter(text=KNOWN_ID))
        assert len(found) == 2
        assert set(city.services.ledger.ids(CaseFilter(text=KNOWN_PHONE))) == set(found)
        assert {r.matched_by for r in city.services.intake.related_cases(form)} == {"身份证号"}
        with city.services.db.read() as session:
            lookups = set(session.scalars(select(Complainant.id_lookup)))
        assert lookups == {city.services.sealer.lookup("id", KNOWN_ID)}
        assert city.services.sealer.lookup("id", KNOWN_ID) != qixian.services.sealer.lookup(
            "id", KNOWN_ID
        )
        _info, paper = city.services.assignments.slip_content(number)
        assert KNOWN_PHONE in paper.complainant_contact  # the county's paper, opened here
        # Sent again in full: the same versions, compared opened, change nothing.
        again = city.sync.import_file(ADMIN, qixian.sync.export(ADMIN, usb).path)
        assert not again.refused and again.totals()["conflicts"] == 0
        for site in (city, qixian, tongxu):
            site.services.db.checkpoint()
            assert files_holding(site.data_dir, [KNOWN_ID, KNOWN_PHONE]) == [], site.name
