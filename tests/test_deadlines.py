"""Deadlines in Chinese working days (DESIGN.md §4): triage, rules, overrides, the board, CLI, demo.

Everything runs on real SQLite through the services, on the real 2026 calendar of the
``chinesecalendar`` package (2027 is not known to it, so 2027 deadlines follow the law and are
provisional until a schedule is imported).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from desktop_app.domain.case_flow import EventKind
from desktop_app.domain.deadlines import (
    DEFAULT_RULE_DAYS,
    DeadlineKind,
    DeadlineState,
    RuleKey,
)
from desktop_app.domain.vocabulary import (
    Approach,
    CaseStatus,
    Cause,
    Nature,
    Outcome,
    ReplyMethod,
    SiteLevel,
    VisitGrade,
)
from desktop_app.domain.workdays import WorkdayCalendar
from desktop_app.errors import PermissionDenied, UserError, ValidationFailed
from desktop_app.services.app import AppServices
from desktop_app.services.cases import Triage
from desktop_app.services.context import Actor, FixedClock
from desktop_app.services.deadlines import BoardFilter
from desktop_app.services.demo import DemoService
from desktop_app.services.roster import DutyRole, Period
from desktop_app.storage.models import AuditEntry, Case, HolidayOverride
from tests.helpers.cli import run_bbcs
from tests.helpers.db import audit_count, count_rows
from tests.helpers.factories import ADMIN_PASSWORD, USER_PASSWORD, person_form
from tests.helpers.holidays import complete_year
from tests.helpers.site import county_site
from tests.helpers.speed import fast_password_hashing  # noqa: F401

PLAIN = WorkdayCalendar()  # the package's calendar, no site overrides

# A made-up 2027 schedule, as an administrator would type in the State Council's notice.
# A whole year as the State Council might set it (the law's other weekday holidays added as days
# off: an import marked complete must hold them): 春节 02-05…11 off, Saturday 02-20 worked.
SCHEDULE_2027 = complete_year(
    2027,
    "2027-01-01,否,元旦",
    *(f"2027-02-{day:02d},否,春节" for day in (5, 8, 9, 10, 11)),
    "2027-02-20,是,调休上班",
)


# Helpers --------------------------------------------------------------------------------------


def register(services: AppServices, actor: Actor, **changes: Any) -> int:
    return services.intake.register(actor, person_form(**changes)).case_id


def triage(
    services: AppServices,
    actor: Actor,
    case_id: int,
    nature: Nature = Nature.HARD,
    approach: Approach = Approach.PUSH,
) -> None:
    services.cases.triage(actor, case_id, Triage(nature, approach, (Cause.PROCESS,), "医保社保"))


def new_case(
    services: AppServices,
    actor: Actor,
    nature: Nature = Nature.HARD,
    approach: Approach = Approach.PUSH,
    **changes: Any,
) -> int:
    case_id = register(services, actor, **changes)
    triage(services, actor, case_id, nature, approach)
    return case_id


def conclude(services: AppServices, actor: Actor, case_id: int) -> None:
    services.cases.conclude(
        actor,
        case_id,
        outcome=Outcome.DONE,
        what_was_done="医保局当场补录参保信息",
        reply_method=ReplyMethod.PHONE,
        reply_text="已补录，可以结算",
    )


def fields(services: AppServices, case_id: int) -> dict[str, Any]:
    """The case's deadline columns, read straight from the database."""
    with services.db.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return {
            "status": case.status,
            "version": case.version,
            "due_date": case.due_date,
            "due_start": case.due_start,
            "due_working_days": case.due_working_days,
            "due_rule": case.due_rule,
            "due_calendar_version": case.due_calendar_version,
            "due_provisional": case.due_provisional,
            "basis_due_date": case.basis_due_date,
            "visit_due_date": case.visit_due_date,
            "number": case.number,
        }


def summaries(services: AppServices, case_id: int, kind: EventKind | None = None) -> list[str]:
    return [
        e.summary
        for e in services.cases.detail(case_id).timeline
        if kind is None or e.kind == kind.value
    ]


def audit_of(services: AppServices, action: str) -> list[AuditEntry]:
    with services.db.read() as session:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        ).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


def chinese_date(day: date) -> str:
    """A regex for ``day`` written as 2026年12月2日 (zero padding allowed)."""
    return f"{day.year}年0?{day.month}月0?{day.day}日"


# Triage gives the deadline --------------------------------------------------------------------


def test_wont_and_order_is_due_in_five_working_days(services: AppServices, clerk: Actor) -> None:
    case_id = new_case(services, clerk, Nature.WONT, Approach.ORDER)

    row = fields(services, case_id)
    assert row["due_start"] == date(2026, 11, 25)
    assert row["due_date"] == date(2026, 12, 2)
    assert row["due_rule"] == "wont"
    assert row["due_working_days"] == 5
    assert row["due_provisional"] is False
    assert row["due_calendar_version"] == services.calendar.calendar().version
    assert row["basis_due_date"] is None
    assert services.cases.detail(case_id).due_date == date(2026, 12, 2)
    triaged = summaries(services, case_id, EventKind.TRIAGED)[-1]
    assert "办理时限" in triaged
    assert re.search(chinese_date(date(2026, 12, 2)), triaged), triaged
    assert "不给办" in triaged and "5个工作日" in triaged


def test_hard_and_push_is_due_in_ten_working_days(services: AppServices, clerk: Actor) -> None:
    case_id = new_case(services, clerk, Nature.HARD, Approach.PUSH)

    row = fields(services, case_id)
    assert (row["due_rule"], row["due_working_days"]) == ("hard", 10)
    assert row["due_date"] == date(2026, 12, 9)
    assert row["due_provisional"] is False


@pytest.mark.parametrize("nature", [Nature.HARD, Nature.WONT])
def test_immediate_is_due_the_same_day(services: AppServices, clerk: Actor, nature: Nature) -> None:
    case_id = new_case(services, clerk, nature, Approach.IMMEDIATE)

    row = fields(services, case_id)
    assert (row["due_rule"], row["due_working_days"]) == ("immediate", 0)
    assert row["due_date"] == date(2026, 11, 25)


def test_immediate_on_a_saturday_is_due_the_next_working_day(
    services: AppServices, clerk: Actor, clock: FixedClock
) -> None:
    clock.at = datetime(2026, 11, 28, 10, 0)  # a Saturday
    case_id = new_case(services, clerk, Nature.HARD, Approach.IMMEDIATE)

    row = fields(services, case_id)
    assert row["due_start"] == date(2026, 11, 28)
    assert row["due_date"] == date(2026, 11, 30)  # Monday


def test_cant_is_answered_today_and_the_basis_is_due_in_three_working_days(
    services: AppServices, clerk: Actor
) -> None:
    case_id = new_case(services, clerk, Nature.CANT, Approach.ORDER)

    row = fields(services, case_id)
    assert (row["due_rule"], row["due_working_days"]) == ("cant_answer", 0)
    assert row["due_date"] == date(2026, 11, 25)
    assert row["basis_due_date"] == date(2026, 11, 30)  # Thu, Fri, Mon
    triaged = summaries(services, case_id, EventKind.TRIAGED)[-1]
    assert "书面依据" in triaged
    assert re.search(chinese_date(date(2026, 11, 30)), triaged), triaged


def test_national_day_is_skipped(services: AppServices, clerk: Actor, clock: FixedClock) -> None:
    clock.at = datetime(2026, 9, 30, 10, 0)
    case_id = new_case(services, clerk, Nature.HARD, Approach.PUSH)

    expected = PLAIN.add(date(2026, 9, 30), 10)
    row = fields(services, case_id)
    assert row["due_date"] == expected.due == date(2026, 10, 20)
    assert any(info.reason == "国庆节" for info in expected.skipped)
    assert row["due_provisional"] is False
    assert re.search(chinese_date(expected.due), summaries(services, case_id)[-1])


def test_re_triage_keeps_the_day_the_clock_started(
    services: AppServices, clerk: Actor, clock: FixedClock
) -> None:
    case_id = new_case(services, clerk, Nature.WONT, Approach.ORDER)
    clock.at = datetime(2026, 11, 27, 15, 0)

    triage(services, clerk, case_id, Nature.HARD, Approach.PUSH)

    row = fields(services, case_id)
    assert row["due_start"] == date(2026, 11, 25)
    assert (row["due_rule"], row["due_working_days"]) == ("hard", 10)
    assert row["due_date"] == PLAIN.add(date(2026, 11, 25), 10).due == date(2026, 12, 9)


def test_a_deadline_in_an_unknown_year_is_provisional_until_the_schedule_is_imported(
    services: AppServices, clerk: Actor, admin: Actor, clock: FixedClock
) -> None:
    clock.at = datetime(2027, 1, 25, 9, 0)
    case_id = new_case(services, clerk, Nature.HARD, Approach.PUSH)

    row = fields(services, case_id)
    assert row["due_date"] == date(2027, 2, 12)  # the law: 春节 2027-02-05…08, 补假 09–10
    assert row["due_provisional"] is True
    assert "尚未录入" in summaries(services, case_id, EventKind.TRIAGED)[-1]
    assert services.deadlines.items(None, None, date(2027, 1, 25))[0].provisional is True

    moved, changes = services.calendar.import_csv(
        admin, SCHEDULE_2027, complete_years=[2027], source="国务院办公厅通知.csv"
    )

    row = fields(services, case_id)
    assert row["due_provisional"] is False
    assert row["due_date"] == date(2027, 2, 15)  # the schedule: 02-11 off too
    assert [(m.case_number, m.what, m.before, m.after) for m in moved] == [
        (row["number"], "办理时限", date(2027, 2, 12), date(2027, 2, 15))
    ]
    assert changes.case_ids == (case_id,)
    assert services.calendar.imported_years() == [2027]
    assert services.calendar.calendar().is_known(date(2027, 6, 1))
    assert services.deadlines.items(None, None, date(2027, 1, 25))[0].provisional is False
    assert services.maintenance.check().ok


def test_a_dissatisfied_visit_reopens_with_a_new_deadline_under_the_same_rule(
    services: AppServices, clerk: Actor, clock: FixedClock
) -> None:
    case_id = new_case(services, clerk, Nature.WONT, Approach.ORDER)
    conclude(services, clerk, case_id)
    assert fields(services, case_id)["visit_due_date"] == date(2026, 12, 2)
    clock.at = datetime(2026, 12, 1, 10, 0)

    services.cases.record_visit(clerk, case_id, grade=VisitGrade.DISSATISFIED, note="仍未办成")

    row = fields(services, case_id)
    assert row["status"] == CaseStatus.IN_PROGRESS.value
    assert row["due_start"] == date(2026, 12, 1)
    assert (row["due_rule"], row["due_working_days"]) == ("wont", 5)
    assert row["due_date"] == date(2026, 12, 8)
    assert row["visit_due_date"] is None
    reopened = summaries(services, case_id, EventKind.REOPENED)[-1]
    assert re.search(chinese_date(date(2026, 12, 8)), reopened), reopened


# Rules ----------------------------------------------------------------------------------------


def test_changed_rules_apply_to_the_next_triage(
    services: AppServices, admin: Actor, clerk: Actor
) -> None:
    assert services.calendar.rules().working_days(RuleKey.WONT) == DEFAULT_RULE_DAYS[RuleKey.WONT]
    before = audit_count(services)

    services.calendar.save_rules(admin, {RuleKey.WONT: 7}, 3)

    rules = services.calendar.rules()
    assert rules.working_days(RuleKey.WONT) == 7
    assert rules.working_days(RuleKey.HARD) == 10
    assert rules.due_soon_days == 3
    assert audit_count(services) == before + 1
    assert audit_of(services, "save_deadline_rules")[-1].after == {
        "wont": 7,
        "due_soon_days": 3,
    }
    case_id = new_case(services, clerk, Nature.WONT, Approach.ORDER)
    row = fields(services, case_id)
    assert row["due_working_days"] == 7
    assert row["due_date"] == PLAIN.add(date(2026, 11, 25), 7).due == date(2026, 12, 4)
    # The due-soon window of the board follows the rule too: 3 working days from Wednesday.
    assert services.deadlines.today(date(2026, 11, 25)).soon_until == date(2026, 11, 30)


@pytest.mark.parametrize(
    ("days", "due_soon", "field"),
    [
        ({RuleKey.WONT: -1}, 2, "wont"),
        ({RuleKey.HARD: 61}, 2, "hard"),
        ({RuleKey.WONT: 6, RuleKey.CANT_BASIS: 100}, 2, "cant_basis"),
        ({RuleKey.WONT: 6}, 11, "due_soon_days"),
    ],
)
def test_invalid_rules_are_refused_and_change_nothing(
    services: AppServices, admin: Actor, days: dict[RuleKey, int], due_soon: int, field: str
) -> None:
    before = audit_count(services)

    with pytest.raises(ValidationFailed) as caught:
        services.calendar.save_rules(admin, days, due_soon)

    assert field in caught.value.errors
    rules = services.calendar.rules()
    assert rules.days == DEFAULT_RULE_DAYS
    assert rules.due_soon_days == 2
    assert audit_count(services) == before


def test_a_clerk_cannot_change_the_rules(services: AppServices, clerk: Actor) -> None:
    with pytest.raises(PermissionDenied):
        services.calendar.save_rules(clerk, {RuleKey.WONT: 7}, 2)
    assert services.calendar.rules().working_days(RuleKey.WONT) == 5


# Overrides ------------------------------------------------------------------------------------


def test_a_local_closure_moves_an_open_deadline_and_notes_it(
    services: AppServices, clerk: Actor, admin: Actor
) -> None:
    case_id = new_case(services, clerk, Nature.WONT, Approach.ORDER)
    before = fields(services, case_id)
    assert before["due_date"] == date(2026, 12, 2)

    moved, changes = services.calendar.save_override(
        admin, date(2026, 11, 30), working=False, name="台风停工"
    )

    after = fields(services, case_id)
    assert after["due_date"] == date(2026, 12, 3)
    assert after["due_start"] == before["due_start"]
    assert after["version"] == before["version"] + 1
    assert after["due_calendar_version"] == services.calendar.calendar().version
    assert after["due_calendar_version"] != before["due_calendar_version"]
    assert [(m.what, m.before, m.after) for m in moved] == [
        ("办理时限", date(2026, 12, 2), date(2026, 12, 3))
    ]
    assert changes.cases and changes.case_ids == (case_id,)
    note = summaries(services, case_id, EventKind.NOTE)
    assert len(note) == 1
    assert "节假日安排调整" in note[0]
    assert "2026年12月2日" in note[0] and "2026年12月3日" in note[0]
    assert [(o.day, o.working, o.name) for o in services.calendar.overrides()] == [
        (date(2026, 11, 30), False, "台风停工")
    ]
    assert services.calendar.overrides()[0].created_by == admin.display_name
    assert services.calendar.calendar().day_info(date(2026, 11, 30)).reason == "台风停工"
    entry = audit_of(services, "save_override")[-1]
    assert entry.entity == "calendar"
    assert entry.user_name == "admin"
    assert entry.after is not None and entry.after["moved_deadlines"] == 1
    assert services.maintenance.check().ok


def test_a_closure_moves_the_written_basis_of_a_cant_case(
    services: AppServices, clerk: Actor, admin: Actor
) -> None:
    case_id = new_case(services, clerk, Nature.CANT, Approach.ORDER)
    assert fields(services, case_id)["basis_due_date"] == date(2026, 11, 30)

    moved, _ = services.calendar.save_override(admin, date(2026, 11, 27), working=False, name="")

    row = fields(services, case_id)
    assert row["due_date"] == date(2026, 11, 25)  # answered today: the closure is later
    assert row["basis_due_date"] == date(2026, 12, 1)
    assert [(m.what, m.after) for m in moved] == [("不能办依据", date(2026, 12, 1))]
    assert services.calendar.overrides()[0].name == "放假"  # empty name gets a default


def test_an_imported_holiday_moves_a_missing_basis_after_conclusion_but_not_a_settled_one(
    services: AppServices, clerk: Actor, leader: Actor, admin: Actor
) -> None:
    """A missing written basis stays on the calendar after 办结 and 回访 (issue 16), so its day
    moves with the calendar like an open deadline's; once it arrived or was waived it stays."""

    def concluded_cant(title: str) -> int:
        case_id = new_case(services, clerk, Nature.CANT, Approach.ORDER, title=title)
        services.cases.conclude(
            clerk,
            case_id,
            outcome=Outcome.EXPLAINED,
            what_was_done="政策规定不能办理，已当面解释",
            reply_method=ReplyMethod.PHONE,
            reply_text="已解释政策依据",
        )
        return case_id

    missing = concluded_cant("公积金提取")
    visited = concluded_cant("户口迁移")
    services.cases.record_visit(clerk, visited, grade=VisitGrade.SATISFIED)
    received = concluded_cant("不动产登记")
    services.cases.record_basis(clerk, received, received_on=date(2026, 11, 25), signed_by="王局长")
    waived = concluded_cant("营业执照变更")
    services.cases.waive_basis(leader, waived, "部门已当面出具说明")
    assert fields(services, missing)["status"] == CaseStatus.CONCLUDED.value
    assert fields(services, visited)["status"] == CaseStatus.VISITED.value
    settled = (received, waived)  # concluded too: only their visit moves
    for cid in (missing, visited, received, waived):
        assert fields(services, cid)["basis_due_date"] == date(2026, 11, 30)

    def numbers(case_ids: tuple[int, ...]) -> set[str]:
        return {fields(services, cid)["number"] for cid in case_ids}

    moved, changes = services.calendar.import_csv(admin, "2026-11-27,否,停电闭厅\n")

    for cid in (missing, visited):
        row = fields(services, cid)
        assert row["basis_due_date"] == date(2026, 12, 1)
        note = summaries(services, cid, EventKind.NOTE)
        assert len(note) == 1 and "不能办依据" in note[0]
        assert re.search(chinese_date(date(2026, 12, 1)), note[0])
    assert sorted(
        (m.case_number, m.what, m.after) for m in moved if m.what == "不能办依据"
    ) == sorted(
        (fields(services, cid)["number"], "不能办依据", date(2026, 12, 1))
        for cid in (missing, visited)
    )
    assert set(changes.case_ids) >= {missing, visited}
    for cid in settled:
        assert fields(services, cid)["basis_due_date"] == date(2026, 11, 30)
        assert not any("不能办依据" in n for n in summaries(services, cid, EventKind.NOTE))
    assert {(m.case_number, m.what) for m in moved if m.case_number in numbers(settled)} == {
        (number, "回访") for number in numbers(settled)
    }
    entry = audit_of(services, "import_calendar")[-1]
    assert entry.after is not None and entry.after["moved_deadlines"] == len(moved)
    assert services.maintenance.check().ok


def test_a_closure_moves_the_visit_of_a_concluded_case_but_not_closed_ones(
    services: AppServices, clerk: Actor, admin: Actor
) -> None:
    concluded = new_case(services, clerk, Nature.WONT, Approach.ORDER)
    conclude(services, clerk, concluded)
    visited = new_case(services, clerk, Nature.WONT, Approach.ORDER, title="公积金提取")
    conclude(services, clerk, visited)
    services.cases.record_visit(clerk, visited, grade=VisitGrade.SATISFIED)
    withdrawn = new_case(services, clerk, Nature.WONT, Approach.ORDER, title="户口迁移")
    services.cases.withdraw(clerk, withdrawn, "当事人已自行办妥")
    untouched = {cid: fields(services, cid) for cid in (visited, withdrawn)}
    assert fields(services, concluded)["visit_due_date"] == date(2026, 12, 2)

    moved, _ = services.calendar.save_override(
        admin, date(2026, 11, 30), working=False, name="停电闭厅"
    )

    row = fields(services, concluded)
    assert row["visit_due_date"] == date(2026, 12, 3)
    assert [(m.case_number, m.what) for m in moved] == [(row["number"], "回访")]
    note = summaries(services, concluded, EventKind.NOTE)
    assert len(note) == 1 and "回访" in note[0] and "2026年12月3日" in note[0]
    for cid, was in untouched.items():
        assert fields(services, cid) == was
        assert summaries(services, cid, EventKind.NOTE) == []


def test_a_calendar_change_keeps_the_periods_the_basis_and_visit_were_given(
    services: AppServices, clerk: Actor, admin: Actor
) -> None:
    """Recomputing keeps the original start and number of working days (calendar.py docstring):
    a rule changed after triage or conclusion must not slip into deadlines already given."""
    cant = new_case(services, clerk, Nature.CANT, Approach.ORDER)
    done = new_case(services, clerk, Nature.WONT, Approach.ORDER, title="公积金提取")
    conclude(services, clerk, done)
    assert fields(services, cant)["basis_due_date"] == date(2026, 11, 30)
    assert fields(services, done)["visit_due_date"] == date(2026, 12, 2)
    services.calendar.save_rules(admin, {RuleKey.CANT_BASIS: 5, RuleKey.VISIT: 10}, 2)

    # A closure far away, which none of these deadlines passes over.
    moved, _ = services.calendar.save_override(
        admin, date(2027, 6, 1), working=False, name="停电闭厅"
    )

    assert moved == []
    assert fields(services, cant)["basis_due_date"] == date(2026, 11, 30)
    assert fields(services, done)["visit_due_date"] == date(2026, 12, 2)
    assert summaries(services, cant, EventKind.NOTE) == []
    assert summaries(services, done, EventKind.NOTE) == []


def test_deleting_the_closure_moves_the_deadline_back(
    services: AppServices, clerk: Actor, admin: Actor
) -> None:
    case_id = new_case(services, clerk, Nature.WONT, Approach.ORDER)
    services.calendar.save_override(admin, date(2026, 11, 30), working=False, name="台风停工")
    version = fields(services, case_id)["version"]

    moved, _ = services.calendar.delete_override(admin, date(2026, 11, 30))

    row = fields(services, case_id)
    assert row["due_date"] == date(2026, 12, 2)
    assert row["version"] == version + 1
    assert [(m.before, m.after) for m in moved] == [(date(2026, 12, 3), date(2026, 12, 2))]
    assert services.calendar.overrides() == []
    assert row["due_calendar_version"] == PLAIN.version
    notes = summaries(services, case_id, EventKind.NOTE)
    assert len(notes) == 2 and "由2026年12月3日调整为2026年12月2日" in notes[-1]
    assert len(audit_of(services, "delete_override")) == 1
    assert services.maintenance.check().ok


def test_a_make_up_working_saturday_shortens_the_deadline(
    services: AppServices, clerk: Actor, admin: Actor
) -> None:
    case_id = new_case(services, clerk, Nature.HARD, Approach.PUSH)
    assert fields(services, case_id)["due_date"] == date(2026, 12, 9)

    services.calendar.save_override(admin, date(2026, 11, 28), working=True, name="调休上班")

    assert fields(services, case_id)["due_date"] == date(2026, 12, 8)
    assert services.calendar.calendar().is_working_day(date(2026, 11, 28))


def test_a_bad_csv_line_is_named_and_nothing_changes(
    services: AppServices, clerk: Actor, admin: Actor
) -> None:
    case_id = new_case(services, clerk, Nature.WONT, Approach.ORDER)
    before = fields(services, case_id)
    audits = audit_count(services)
    text = "日期,是否上班,名称\n2027-01-01,否,元旦\n2027-02-30,否,春节\n"

    with pytest.raises(UserError) as caught:
        services.calendar.import_csv(admin, text, complete_years=[2027])

    assert "第3行" in caught.value.message
    assert services.calendar.overrides() == []
    assert services.calendar.imported_years() == []
    assert count_rows(services, "holiday_overrides") == 0
    assert fields(services, case_id) == before
    assert audit_count(services) == audits


def test_a_complete_year_without_its_dates_is_refused(services: AppServices, admin: Actor) -> None:
    audits = audit_count(services)

    with pytest.raises(UserError) as caught:
        services.calendar.import_csv(admin, SCHEDULE_2027, complete_years=[2027, 2028])

    assert "2028" in caught.value.message
    assert services.calendar.overrides() == []
    assert services.calendar.imported_years() == []
    assert audit_count(services) == audits


@pytest.mark.parametrize(
    ("lines", "named"),
    [
        # 元旦 and 春节 only: 清明 to 国庆 would become working days.
        (
            ["2027-01-01,否,元旦", "2027-02-05,否,春节", "2027-02-08,否,春节"],
            "2027年4月5日（清明节）",
        ),
        # A statutory day listed as worked (2027-10-01, a Friday).
        (
            [*SCHEDULE_2027.splitlines()[1:], "2027-10-01,是,调休上班"],
            "2027年10月1日（国庆节）",
        ),
    ],
)
def test_a_complete_year_that_would_work_a_statutory_holiday_is_refused(
    services: AppServices, admin: Actor, lines: list[str], named: str
) -> None:
    """A walk imported a file with 元旦 and 春节 as 2027's complete schedule: 国庆 became
    working days and every deadline through it shorter, silently. The law's holidays are never
    worked (调休 moves weekends only): such a file is refused, the days named."""
    audits = audit_count(services)
    text = "\n".join(["日期,是否上班,名称", *dict.fromkeys(lines)]) + "\n"
    text = text.replace("2027-10-01,否,国庆节\n", "")  # the worked one alone

    with pytest.raises(UserError) as caught:
        services.calendar.import_csv(admin, text, complete_years=[2027])

    assert named in caught.value.message and "未做任何更改" in caught.value.message
    assert services.calendar.overrides() == [] and services.calendar.imported_years() == []
    assert audit_count(services) == audits
    # The same days as a part of the year (not complete) go in: the rest stays the law's.
    services.calendar.import_csv(admin, text)
    assert services.calendar.imported_years() == []
    assert len(services.calendar.overrides()) == len(text.splitlines()) - 1


def test_a_proof_through_an_incomplete_years_entered_day_says_so(
    services: AppServices, admin: Actor
) -> None:
    """A day entered from a partial schedule is not a guess from the law: its proof line said
    “放假安排未录入，按放假办法推算” for the 春节 just imported."""
    services.calendar.import_csv(admin, "日期,是否上班,名称\n2027-02-11,否,春节\n")
    proof = services.calendar.calendar().add(date(2027, 2, 10), 1).proof_lines()
    assert proof[0] == "2027-02-11 周四 春节 — 不计（暂定：该年放假安排尚未完整录入）"
    assert "按放假办法推算" in proof[1]  # 2027-02-12: the law's day, no schedule for it


def test_an_empty_schedule_is_refused(services: AppServices, admin: Actor) -> None:
    with pytest.raises(UserError):
        services.calendar.import_csv(admin, "日期,是否上班,名称\n")
    assert services.calendar.overrides() == []


def test_a_clerk_cannot_change_the_calendar(
    services: AppServices, clerk: Actor, admin: Actor
) -> None:
    services.calendar.save_override(admin, date(2026, 12, 4), working=False, name="停电")
    audits = audit_count(services)

    with pytest.raises(PermissionDenied):
        services.calendar.save_override(clerk, date(2026, 12, 3), working=False, name="停电")
    with pytest.raises(PermissionDenied):
        services.calendar.delete_override(clerk, date(2026, 12, 4))
    with pytest.raises(PermissionDenied):
        services.calendar.import_csv(clerk, SCHEDULE_2027, complete_years=[2027])

    assert [o.day for o in services.calendar.overrides()] == [date(2026, 12, 4)]
    assert services.calendar.imported_years() == []
    assert audit_count(services) == audits


def test_the_audit_chain_stays_valid_through_calendar_changes(
    services: AppServices, clerk: Actor, admin: Actor, clock: FixedClock
) -> None:
    clock.at = datetime(2026, 12, 28, 9, 0)
    new_case(services, clerk, Nature.CANT, Approach.ORDER)
    new_case(services, clerk, Nature.HARD, Approach.PUSH, title="不动产证办不下来")
    services.calendar.save_override(admin, date(2026, 12, 30), working=False, name="停电")
    services.calendar.import_csv(admin, SCHEDULE_2027, complete_years=[2027])
    services.calendar.save_override(admin, date(2027, 1, 1), working=True, name="加班")
    services.calendar.delete_override(admin, date(2026, 12, 30))
    services.calendar.save_rules(admin, {RuleKey.VISIT: 3}, 1)

    report = services.maintenance.check()
    assert report.ok, report.problems
    assert len(audit_of(services, "save_override")) == 2
    assert len(audit_of(services, "import_calendar")) == 1


# The board ------------------------------------------------------------------------------------


@dataclass
class Board:
    services: AppServices
    ids: dict[str, int]
    numbers: dict[str, str]
    departments: dict[str, int]
    leader_id: int
    clerk_id: int


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Board]:
    """One site with a case for every place on the board (read-only tests share it).

    Deadlines (today = Wed 2026-11-25, due-soon = 2 working days):
    A 11-09 overdue · G 11-25 today · H 11-25 today (+ its written basis 11-30) · C 11-27 soon ·
    K 12-01 · E visit 12-02 (concluded) · D 12-09 · F visited and W withdrawn: nothing.
    """
    clock = FixedClock(datetime(2026, 11, 2, 9, 0))
    with county_site(tmp_path_factory.mktemp("board"), clock) as services:
        clerk = services.auth.login("clerk1", USER_PASSWORD)
        leader = services.auth.login("leader1", USER_PASSWORD)
        admin = services.auth.login("admin", ADMIN_PASSWORD)
        departments = {d.name: d.id for d in services.site.departments()}
        health = departments["杞县医疗保障局"]
        land = departments["杞县不动产登记中心"]
        ids: dict[str, int] = {}

        def make(
            key: str,
            at: datetime,
            actor: Actor,
            nature: Nature,
            approach: Approach,
            department: int | None,
        ) -> int:
            clock.at = at
            ids[key] = new_case(
                services,
                actor,
                nature,
                approach,
                title=f"事项{key}",
                stuck_department_id=department,
            )
            return ids[key]

        make("A", datetime(2026, 11, 2, 9), clerk, Nature.WONT, Approach.ORDER, health)
        make("C", datetime(2026, 11, 20, 9), leader, Nature.WONT, Approach.ORDER, land)
        make("K", datetime(2026, 11, 24, 9), clerk, Nature.WONT, Approach.ORDER, health)
        wed = datetime(2026, 11, 25, 9, 30)
        make("G", wed, clerk, Nature.HARD, Approach.IMMEDIATE, health)
        make("H", wed, clerk, Nature.CANT, Approach.ORDER, land)
        make("D", wed, clerk, Nature.HARD, Approach.PUSH, None)
        conclude(services, clerk, make("E", wed, clerk, Nature.HARD, Approach.IMMEDIATE, health))
        conclude(services, clerk, make("F", wed, clerk, Nature.WONT, Approach.IMMEDIATE, health))
        services.cases.record_visit(clerk, ids["F"], grade=VisitGrade.SATISFIED)
        services.cases.withdraw(
            clerk, make("W", wed, clerk, Nature.WONT, Approach.ORDER, health), "已办妥"
        )
        # The roster the month sheet shows.
        chief, _ = services.roster.save_staff(
            admin, name="潘险峰", duty_role=DutyRole.LEADER, title="党风政风监督室主任"
        )
        window, _ = services.roster.save_staff(admin, name="张敏", duty_role=DutyRole.WINDOW)
        services.roster.set_shift(admin, date(2026, 11, 25), DutyRole.LEADER, chief.id)
        services.roster.set_shift(
            admin, date(2026, 11, 25), DutyRole.WINDOW, window.id, period=Period.AM
        )
        numbers = {key: fields(services, cid)["number"] for key, cid in ids.items()}
        assert clerk.user_id is not None and leader.user_id is not None
        yield Board(services, ids, numbers, departments, leader.user_id, clerk.user_id)


WED = date(2026, 11, 25)
FRI = date(2026, 11, 27)


def listing(board: Board, items: list[Any]) -> list[tuple[str, DeadlineKind, date, DeadlineState]]:
    by_id = {cid: key for key, cid in board.ids.items()}
    return [(by_id[i.case_id], i.kind, i.due, i.state) for i in items]


def test_board_counts_today(board: Board) -> None:
    counts = board.services.deadlines.today(WED)

    assert counts.today == WED
    assert counts.soon_until == date(2026, 11, 27)
    assert (counts.overdue, counts.due_today, counts.due_soon) == (1, 2, 1)


def test_board_due_soon_reaches_over_the_weekend(board: Board) -> None:
    counts = board.services.deadlines.today(FRI)

    assert counts.soon_until == date(2026, 12, 1)  # Mon and Tue after the weekend
    assert counts.overdue == 3  # A, G, H's answer
    assert counts.due_today == 1  # C
    assert counts.due_soon == 2  # H's written basis (Mon 11-30) and K (Tue 12-01)


def test_board_items_list_every_pending_deadline_with_its_state(board: Board) -> None:
    items = board.services.deadlines.items(None, None, WED)

    overdue, today, soon, normal = (
        DeadlineState.OVERDUE,
        DeadlineState.DUE_TODAY,
        DeadlineState.DUE_SOON,
        DeadlineState.NORMAL,
    )
    case, basis, visit = DeadlineKind.CASE, DeadlineKind.BASIS, DeadlineKind.VISIT
    assert listing(board, items) == [
        ("A", case, date(2026, 11, 9), overdue),
        *sorted(
            [("G", case, WED, today), ("H", case, WED, today)],
            key=lambda item: board.numbers[item[0]],
        ),
        ("C", case, date(2026, 11, 27), soon),
        ("H", basis, date(2026, 11, 30), normal),
        ("K", case, date(2026, 12, 1), normal),
        ("E", visit, date(2026, 12, 2), normal),
        ("D", case, date(2026, 12, 9), normal),
    ]
    first = items[0]
    assert first.number == board.numbers["A"]
    assert first.title == "事项A"
    assert first.complainant == "王芳"
    assert first.department == "杞县医疗保障局"
    assert first.provisional is False


def test_board_overdue_items_before_today(board: Board) -> None:
    items = board.services.deadlines.items(None, date(2026, 11, 24), WED)

    assert listing(board, items) == [
        ("A", DeadlineKind.CASE, date(2026, 11, 9), DeadlineState.OVERDUE)
    ]
    assert board.services.deadlines.count_before(WED) == 1


def test_board_counts_by_day(board: Board) -> None:
    counts = board.services.deadlines.counts_by_day(date(2026, 11, 23), date(2026, 12, 6))

    assert counts == {
        WED: {DeadlineKind.CASE: 2},
        date(2026, 11, 27): {DeadlineKind.CASE: 1},
        date(2026, 11, 30): {DeadlineKind.BASIS: 1},
        date(2026, 12, 1): {DeadlineKind.CASE: 1},
        date(2026, 12, 2): {DeadlineKind.VISIT: 1},
    }


def test_board_shows_concluded_cases_by_their_visit_only(board: Board) -> None:
    items = board.services.deadlines.items(None, None, WED)
    e_items = [i for i in items if i.case_id == board.ids["E"]]

    assert [(i.kind, i.due) for i in e_items] == [(DeadlineKind.VISIT, date(2026, 12, 2))]
    assert all(i.case_id not in (board.ids["F"], board.ids["W"]) for i in items)


@pytest.mark.parametrize(
    ("board_filter", "expected"),
    [
        ("health", {"A", "G", "K", "E"}),
        ("land", {"C", "H"}),
        ("visit", {"E"}),
        ("basis", {"H"}),
        ("case_and_basis_land", {"C", "H"}),
        ("mine_leader", {"C"}),
    ],
)
def test_board_filters(board: Board, board_filter: str, expected: set[str]) -> None:
    health = board.departments["杞县医疗保障局"]
    land = board.departments["杞县不动产登记中心"]
    filters = {
        "health": BoardFilter(department_id=health),
        "land": BoardFilter(department_id=land),
        "visit": BoardFilter(kinds=(DeadlineKind.VISIT,)),
        "basis": BoardFilter(kinds=(DeadlineKind.BASIS,)),
        "case_and_basis_land": BoardFilter(
            department_id=land, kinds=(DeadlineKind.CASE, DeadlineKind.BASIS)
        ),
        "mine_leader": BoardFilter(created_by_id=board.leader_id),
    }
    chosen = filters[board_filter]

    items = board.services.deadlines.items(None, None, WED, chosen)

    assert {key for key, *_ in listing(board, items)} == expected
    counted = board.services.deadlines.counts_by_day(date(2026, 11, 1), date(2026, 12, 31), chosen)
    assert sum(sum(c.values()) for c in counted.values()) == len(items)


def test_board_filter_by_department_in_todays_counts(board: Board) -> None:
    land = BoardFilter(department_id=board.departments["杞县不动产登记中心"])

    counts = board.services.deadlines.today(WED, land)

    assert (counts.overdue, counts.due_today, counts.due_soon) == (0, 1, 1)  # H today, C soon


def test_month_sheet_of_national_day(board: Board) -> None:
    view = board.services.deadlines.month(2026, 10, WED)

    assert (view.year, view.month) == (2026, 10)
    assert len(view.weeks) in (5, 6)
    assert len(view.weeks) == 5  # 2026-09-28 … 2026-11-01
    for week in view.weeks:
        assert len(week) == 7
        assert week[0].day.weekday() == 0
        assert [c.day.toordinal() for c in week] == list(
            range(week[0].day.toordinal(), week[0].day.toordinal() + 7)
        )
    assert view.weeks[0][0].day == date(2026, 9, 28)
    assert view.weeks[0][0].in_month is False
    for day in range(1, 8):
        cell = view.cell(date(2026, 10, day))
        assert cell is not None and cell.in_month
        assert cell.working is False
        assert cell.reason == "国庆节"
    makeup = view.cell(date(2026, 10, 10))
    assert makeup is not None
    assert makeup.working is True and "调休" in makeup.reason and makeup.is_makeup_day
    sunday = view.cell(date(2026, 10, 11))
    assert sunday is not None and not sunday.working
    assert view.warnings == ()
    assert view.cell(date(2026, 12, 1)) is None


def test_month_sheet_counts_roster_and_overdue_before(board: Board) -> None:
    view = board.services.deadlines.month(2026, 11, WED)

    assert view.weeks[0][0].day == date(2026, 10, 26)
    assert view.weeks[-1][-1].day == date(2026, 12, 6)
    today = view.cell(WED)
    assert today is not None
    assert today.counts == {DeadlineKind.CASE: 2}
    assert today.total == 2
    assert today.state is DeadlineState.DUE_TODAY
    assert today.leader == "潘险峰"
    assert today.window == "张敏（上午）"
    overdue = view.cell(date(2026, 11, 9))
    assert overdue is not None and overdue.counts == {DeadlineKind.CASE: 1}
    visit = view.cell(date(2026, 12, 2))
    assert visit is not None and not visit.in_month and visit.counts == {DeadlineKind.VISIT: 1}
    other = view.cell(date(2026, 11, 26))
    assert other is not None and other.leader == "" and other.counts == {}
    assert view.overdue_before == 0  # A (11-09) is on the sheet itself

    december = board.services.deadlines.month(2026, 12, WED)
    assert december.overdue_before == 1  # A is overdue and before the December sheet


def test_month_sheet_warns_about_a_year_without_a_schedule(board: Board) -> None:
    view = board.services.deadlines.month(2027, 3, WED)

    assert view.warnings
    assert any("2027" in w and "尚未录入" in w for w in view.warnings)
    cell = view.cell(date(2027, 3, 1))
    assert cell is not None and cell.known is False
    assert board.services.deadlines.month(2026, 11, WED).warnings == ()


# The command line -----------------------------------------------------------------------------


def test_cli_workdays_add_uses_the_sites_calendar(
    services: AppServices, admin: Actor, data_dir: Path, tmp_path: Path
) -> None:
    services.calendar.import_csv(admin, SCHEDULE_2027, complete_years=[2027])
    empty = tmp_path / "空目录"
    empty.mkdir()

    with_site = run_bbcs("workdays", "add", "2027-02-04", "2", data_dir=data_dir)
    without = run_bbcs("workdays", "add", "2027-02-04", "2", data_dir=empty)

    assert with_site.returncode == 0, with_site.stderr
    assert with_site.stdout.strip() == "2027-02-15"  # 02-05…11 off, 12 and 15 worked
    assert "尚未录入" not in with_site.stderr
    assert without.returncode == 0, without.stderr
    assert without.stdout.strip() == "2027-02-12"  # the law: 02-05…08 春节, 09–10 补假
    assert "尚未录入" in without.stderr


def test_cli_workdays_import_reports_the_moved_deadlines(
    services: AppServices, clerk: Actor, clock: FixedClock, data_dir: Path, tmp_path: Path
) -> None:
    clock.at = datetime(2027, 1, 25, 9, 0)
    case_id = new_case(services, clerk, Nature.HARD, Approach.PUSH)
    number = fields(services, case_id)["number"]
    source = tmp_path / "2027年节假日.csv"
    source.write_text(SCHEDULE_2027, encoding="utf-8-sig")

    result = run_bbcs(
        "workdays", "import", str(source), "--complete-year", "2027", data_dir=data_dir
    )

    assert result.returncode == 0, result.stderr
    assert "调整了 1 个未到期的期限" in result.stdout
    assert number in result.stdout and "2027-02-15" in result.stdout
    row = fields(services, case_id)
    assert row["due_date"] == date(2027, 2, 15)
    assert row["due_provisional"] is False
    assert count_rows(services, "holiday_overrides") == len(SCHEDULE_2027.splitlines()) - 1


def test_cli_workdays_import_of_a_bad_file_names_the_line(
    services: AppServices, data_dir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "bad.csv"
    source.write_text("日期,是否上班,名称\n2027-01-01,否,元旦\n2027-01-02,也许,周末\n", "utf-8")

    result = run_bbcs("workdays", "import", str(source), data_dir=data_dir)

    assert result.returncode == 2
    assert "第3行" in result.stderr
    assert count_rows(services, "holiday_overrides") == 0


def test_cli_workdays_import_refuses_a_complete_year_missing_from_the_file(
    services: AppServices, data_dir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "2027.csv"
    source.write_text(SCHEDULE_2027, encoding="utf-8")

    result = run_bbcs(
        "workdays", "import", str(source), "--complete-year", "2028", data_dir=data_dir
    )

    assert result.returncode == 2
    assert "2028" in result.stderr
    assert count_rows(services, "holiday_overrides") == 0
    assert services.calendar.imported_years() == []


# Demo data ------------------------------------------------------------------------------------


def test_demo_data_carries_consistent_deadlines_a_roster_and_a_closure(
    bare_services: AppServices, clock: FixedClock
) -> None:
    services = bare_services
    services.site.init_site(
        code="410221",
        name="杞县办不成事监督窗口",
        short_name="杞县",
        level=SiteLevel.COUNTY,
        admin_password=ADMIN_PASSWORD,
    )

    DemoService(services.db, clock, sealer=services.sealer).generate(200)

    calendar = services.calendar.calendar()
    visit_days = services.calendar.rules().working_days(RuleKey.VISIT)
    with services.db.read() as session:
        cases = session.scalars(select(Case).where(Case.triaged_at.is_not(None))).all()
        overrides = session.scalars(select(HolidayOverride)).all()
        triaged = [c for c in cases if c.due_start is not None]
        assert len(triaged) > 20
        rules = {c.due_rule for c in triaged}
        assert rules <= {k.value for k in RuleKey}
        assert len(rules) >= 3
        inconsistent = [
            (c.number, c.due_start, c.due_working_days, c.due_date)
            for c in triaged
            if c.due_working_days is None
            or calendar.add(c.due_start, c.due_working_days).due != c.due_date
        ]
        assert inconsistent == []
        concluded = [c for c in cases if c.status == CaseStatus.CONCLUDED.value]
        assert concluded
        for case in concluded:
            assert case.concluded_at is not None
            assert case.visit_due_date == calendar.add(case.concluded_at.date(), visit_days).due
        assert [o.working for o in overrides] == [False]
        ahead = (overrides[0].day - clock.today()).days
        assert 20 <= ahead <= 27
    leader = services.roster.leader_on(clock.today())
    assert leader is not None and leader.staff_name
    assert leader.duty_role is DutyRole.LEADER


def test_the_ledger_marks_a_provisional_deadline_until_the_schedule_is_imported(
    qtbot: Any, services: AppServices, clerk: Actor, admin: Actor, clock: FixedClock
) -> None:
    from PySide6.QtCore import Qt

    from desktop_app.services.ledger import SortKey
    from desktop_app.ui.case_table import COLUMNS, CaseTableModel

    clock.at = datetime(2026, 12, 28, 9, 0)
    case_id = new_case(services, clerk, Nature.HARD, Approach.PUSH)  # due in 2027, 暂定
    model = CaseTableModel(services.ledger)
    model.deadline_reference = (date(2026, 12, 28), date(2026, 12, 30))
    model.set_ids([case_id])
    due = model.index(0, [k for k, _ in COLUMNS].index(SortKey.DUE))
    assert model.data(due) == f"{fields(services, case_id)['due_date'].isoformat()} 暂定"
    assert "暂定" in model.data(due, Qt.ItemDataRole.ToolTipRole)

    services.calendar.import_csv(admin, SCHEDULE_2027, complete_years=[2027])
    model.set_ids([case_id])
    assert "暂定" not in model.data(due)
    assert "暂定" not in model.data(due, Qt.ItemDataRole.ToolTipRole)


def test_an_assigned_case_is_chased_under_the_department_it_was_assigned_to(
    site_on_engine: AppServices, clock: FixedClock
) -> None:
    """Stuck at the 医疗保障局, assigned to the 不动产登记中心: its deadline is listed with the
    承办单位 and found by its filter (it read 未指定部门 or the stuck one, and the 承办单位's
    filter listed nothing); before it is signed, the stuck department's filter finds it. On
    both engines (PostgreSQL reads the department's cases another way)."""
    services = site_on_engine
    clerk = services.auth.login("clerk1", USER_PASSWORD)
    leader = services.auth.login("leader1", USER_PASSWORD)
    departments = {d.name: d.id for d in services.site.departments()}
    health, land = departments["杞县医疗保障局"], departments["杞县不动产登记中心"]
    clock.at = datetime(2026, 11, 23, 9, 0)
    case_id = new_case(services, clerk, Nature.WONT, Approach.ORDER, stuck_department_id=health)
    ids, _ = services.assignments.create(
        clerk, case_id, department_id=land, assisting_ids=[], requirements="请依法办理。"
    )

    def chased_by(department: int) -> list[str]:
        chosen = BoardFilter(department_id=department, kinds=(DeadlineKind.CASE,))
        items = services.deadlines.items(None, None, WED, chosen)
        counted = services.deadlines.counts_by_day(date(2026, 11, 1), date(2026, 12, 31), chosen)
        assert sum(sum(c.values()) for c in counted.values()) == len(items)
        return [item.department for item in items if item.case_id == case_id]

    assert chased_by(health) == ["杞县医疗保障局"]  # a draft: not yet the department's
    services.assignments.issue(leader, ids[0])
    assert chased_by(land) == ["杞县不动产登记中心"]
    assert chased_by(health) == []


def test_a_schedules_preview_says_what_the_import_moves_and_changes_nothing(
    services: AppServices, clerk: Actor, admin: Actor
) -> None:
    """preview_csv makes the import and rolls it back: the same moves as the import then
    makes, and no override, deadline, event, audit entry or calendar revision left behind."""
    case_id = new_case(services, clerk, Nature.WONT, Approach.ORDER, title="营业执照变更")
    before = fields(services, case_id)

    def state() -> tuple[object, ...]:
        with services.db.read() as session:
            counts = [
                session.scalar(text(f"SELECT count(*) FROM {table}"))
                for table in ("holiday_overrides", "case_events", "audit_log", "settings")
            ]
            revision = text("SELECT value FROM settings WHERE key = 'calendar_revision'")
            return (*counts, session.scalar(revision))

    kept = state()
    preview = services.calendar.preview_csv(admin, "2026-11-27,否,停电闭厅\n")
    assert state() == kept
    assert fields(services, case_id) == before
    assert services.calendar.overrides() == []

    moved, _changes = services.calendar.import_csv(admin, "2026-11-27,否,停电闭厅\n")
    assert moved == preview and len(moved) == 1
    assert moved[0].before == before["due_date"] != moved[0].after
