"""An upgrade that changes how days count recomputes open deadlines once (issue 14, review item 1).

A deadline computed before the upgrade, when a year without a State Council schedule counted
weekends alone, is moved to the law's date (《全国年节及纪念日放假办法》) the next time the
services open — in the window and in every command — with a timeline entry and an audit entry;
a second open changes nothing. The ledger export says 暂定 beside such a date (review item 2).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop_app.domain.vocabulary import Approach, Cause, Nature
from desktop_app.domain.workdays import WorkdayCalendar
from desktop_app.services.app import AppServices, open_services
from desktop_app.services.calendar import UPGRADE_HEADING
from desktop_app.services.cases import Triage
from desktop_app.services.context import FixedClock
from desktop_app.storage.models import AuditEntry, Case, CaseEvent
from tests.helpers.cli import run_bbcs
from tests.helpers.factories import USER_PASSWORD, person_form
from tests.helpers.site import county_site
from tests.helpers.speed import CHEAP_HASHER

# 25 December 2026 (a Friday) + 5 working days: weekends alone give Friday 1 January 2027, which
# the law makes 元旦; under the law the deadline is Monday 4 January 2027.
START = date(2026, 12, 25)
WORKING_DAYS = 5
WEEKENDS_ONLY_DUE = date(2027, 1, 1)
LAW_DUE = date(2027, 1, 4)
OLD_VERSION = "chinesecalendar-1.10.0+overrides-0ldrule5"


def test_the_example_is_what_the_law_says() -> None:
    deadline = WorkdayCalendar().add(START, WORKING_DAYS)
    assert deadline.due == LAW_DUE and deadline.provisional


@pytest.fixture
def old_site(data_dir: Path, clock: FixedClock) -> Iterator[tuple[Path, str]]:
    """A site whose one open case carries a deadline computed under the old weekend-only rule,
    as a database from before the upgrade holds it. Yields the data dir and the case number."""
    with county_site(data_dir, clock) as services:
        clerk = services.auth.login("clerk1", USER_PASSWORD)
        case_id = services.intake.register(clerk, person_form()).case_id
        triage = Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
        services.cases.triage(clerk, case_id, triage)
        with services.db.write() as session:
            case = session.get(Case, case_id)
            assert case is not None
            case.due_start = START
            case.due_working_days = WORKING_DAYS
            case.due_date = WEEKENDS_ONLY_DUE
            case.due_calendar_version = OLD_VERSION
            case.due_provisional = True
            number = case.number
    yield data_dir, number


def _case(services: AppServices, number: str) -> Case:
    with services.db.read() as session:
        case = session.scalar(select(Case).where(Case.number == number))
        assert case is not None
        session.expunge(case)
        return case


def _upgrade_notes(services: AppServices, number: str) -> list[str]:
    with services.db.read() as session:
        return list(
            session.scalars(
                select(CaseEvent.summary)
                .join(Case, Case.id == CaseEvent.case_id)
                .where(Case.number == number, CaseEvent.summary.startswith(UPGRADE_HEADING))
            )
        )


def _recompute_audits(services: AppServices) -> list[AuditEntry]:
    with services.db.read() as session:
        entries = list(
            session.scalars(select(AuditEntry).where(AuditEntry.action == "recompute_deadlines"))
        )
        session.expunge_all()
        return entries


def test_opening_after_the_upgrade_moves_the_deadline_to_the_laws_date_once(
    old_site: tuple[Path, str], clock: FixedClock
) -> None:
    data_dir, number = old_site
    services = open_services(data_dir, clock=clock, hasher=CHEAP_HASHER)
    try:
        case = _case(services, number)
        assert case.due_date == LAW_DUE
        assert case.due_calendar_version == services.calendar.calendar().version
        assert case.due_provisional  # 2027 is still not entered: 暂定
        assert (case.due_start, case.due_working_days) == (START, WORKING_DAYS)
        assert _upgrade_notes(services, number) == [
            f"{UPGRADE_HEADING}：办理时限由2027年1月1日调整为2027年1月4日"
        ]
        [entry] = _recompute_audits(services)
        assert entry.user_name == "系统"
        assert entry.after is not None and entry.after["moved_deadlines"] == 1
        assert entry.after["cases"] == [number]
        assert entry.before == {"calendar_versions": [OLD_VERSION]}
        assert services.maintenance.check().ok  # the audit chain still holds
        version = case.version
    finally:
        services.close()

    again = open_services(data_dir, clock=clock, hasher=CHEAP_HASHER)
    try:
        assert again.calendar.bring_deadlines_up_to_date() == []
        assert _case(again, number).version == version
        assert len(_upgrade_notes(again, number)) == 1
        assert len(_recompute_audits(again)) == 1
    finally:
        again.close()


def test_a_command_recomputes_too_and_the_export_says_provisional(
    old_site: tuple[Path, str],
) -> None:
    data_dir, number = old_site
    result = run_bbcs("cases", "--json", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    [record] = [r for r in json.loads(result.stdout) if r["number"] == number]
    assert record["due_date"] == LAW_DUE.isoformat()
    assert record["due_provisional"] is True


def test_the_ledger_export_gives_due_provisional_beside_due_date(
    old_site: tuple[Path, str], clock: FixedClock
) -> None:
    data_dir, number = old_site
    services = open_services(data_dir, clock=clock, hasher=CHEAP_HASHER)
    try:
        [record] = services.ledger.export_records()
        assert record["number"] == number
        assert (record["due_date"], record["due_provisional"]) == ("2027-01-04", True)
        clerk = services.auth.login("clerk1", USER_PASSWORD)
        undated = services.intake.register(clerk, person_form(title="另一件事")).number
        by_number = {r["number"]: r for r in services.ledger.export_records()}
        assert (by_number[undated]["due_date"], by_number[undated]["due_provisional"]) == (
            None,
            False,
        )
    finally:
        services.close()
