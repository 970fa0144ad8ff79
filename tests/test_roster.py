"""值班安排: rotations on Chinese working days (pure), and the roster service on real SQLite."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from desktop_app.domain.workdays import HolidayOverride, WorkdayCalendar
from desktop_app.errors import PermissionDenied, UserError, ValidationFailed
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from desktop_app.services.roster import (
    DutyRole,
    Period,
    Rotation,
    RotationPlan,
    StaffInfo,
    plan_shifts,
)
from desktop_app.storage.models import AuditEntry
from tests.helpers.db import audit_count, count_rows
from tests.helpers.speed import fast_password_hashing  # noqa: F401

CALENDAR = WorkdayCalendar()


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


# Rotations (pure) ----------------------------------------------------------------------------


def test_weekly_half_day_moves_to_the_next_working_day_of_a_holiday_week() -> None:
    plan = RotationPlan(
        DutyRole.LEADER,
        Rotation.WEEKLY_HALF_DAY,
        (1, 2),
        date(2026, 9, 21),
        date(2026, 10, 18),
        weekday=2,  # Wednesday
        period=Period.PM,
    )

    shifts = plan_shifts(plan, CALENDAR)

    assert shifts == [
        (date(2026, 9, 23), Period.PM, 1),
        (date(2026, 9, 30), Period.PM, 2),
        (date(2026, 10, 8), Period.PM, 1),  # Wed 10-07 is 国庆节: Thursday instead
        (date(2026, 10, 14), Period.PM, 2),
    ]


def test_weekly_half_day_skips_a_week_with_no_working_day_left() -> None:
    plan = RotationPlan(
        DutyRole.LEADER,
        Rotation.WEEKLY_HALF_DAY,
        (7,),
        date(2026, 9, 21),
        date(2026, 10, 18),
        weekday=4,  # Friday
        period=Period.AM,
    )

    shifts = plan_shifts(plan, CALENDAR)

    # 09-25…27 is 中秋节 and 10-02…04 国庆节: those weeks have no Friday-or-later working day.
    assert [d for d, _, _ in shifts] == [date(2026, 10, 9), date(2026, 10, 16)]
    assert {p for _, p, _ in shifts} == {Period.AM}


def test_weekly_half_day_can_fall_on_a_make_up_saturday() -> None:
    plan = RotationPlan(
        DutyRole.WINDOW,
        Rotation.WEEKLY_HALF_DAY,
        (3,),
        date(2026, 10, 5),
        date(2026, 10, 11),
        weekday=5,  # Saturday
    )

    assert plan_shifts(plan, CALENDAR) == [(date(2026, 10, 10), Period.PM, 3)]  # 调休上班


def test_fourteen_day_cycle_alternates_every_fourteen_days_on_working_days() -> None:
    start, end = date(2026, 9, 14), date(2026, 11, 22)
    plan = RotationPlan(DutyRole.LEADER, Rotation.CYCLE_14, (10, 20), start, end)

    shifts = plan_shifts(plan, CALENDAR)

    working = [d for d in days(start, end) if CALENDAR.is_working_day(d)]
    assert [d for d, _, _ in shifts] == working
    for day, period, person in shifts:
        assert period is Period.DAY
        assert person == (10 if ((day - start).days // 14) % 2 == 0 else 20)
    by_person = {d: p for d, _, p in shifts}
    assert by_person[date(2026, 9, 14)] == 10
    assert by_person[date(2026, 9, 24)] == 10  # day 10 of the first cycle
    assert by_person[date(2026, 9, 28)] == 20  # day 14: the second person
    assert by_person[date(2026, 10, 10)] == 20  # a make-up Saturday is worked
    assert by_person[date(2026, 10, 12)] == 10  # day 28: back to the first
    assert date(2026, 10, 1) not in by_person and date(2026, 10, 11) not in by_person


def test_daily_rotation_turns_on_each_working_day() -> None:
    plan = RotationPlan(
        DutyRole.WINDOW, Rotation.DAILY, (1, 2, 3), date(2026, 9, 28), date(2026, 10, 12)
    )

    shifts = plan_shifts(plan, CALENDAR)

    assert shifts == [
        (date(2026, 9, 28), Period.DAY, 1),
        (date(2026, 9, 29), Period.DAY, 2),
        (date(2026, 9, 30), Period.DAY, 3),
        (date(2026, 10, 8), Period.DAY, 1),
        (date(2026, 10, 9), Period.DAY, 2),
        (date(2026, 10, 10), Period.DAY, 3),
        (date(2026, 10, 12), Period.DAY, 1),
    ]


def test_rotations_follow_site_overrides() -> None:
    closed = WorkdayCalendar([HolidayOverride(date(2026, 11, 25), False, "台风停工")])
    plan = RotationPlan(
        DutyRole.WINDOW, Rotation.DAILY, (1, 2), date(2026, 11, 24), date(2026, 11, 26)
    )

    assert plan_shifts(plan, closed) == [
        (date(2026, 11, 24), Period.DAY, 1),
        (date(2026, 11, 26), Period.DAY, 2),
    ]


@pytest.mark.parametrize(
    ("staff", "start", "end", "field"),
    [
        ((), date(2026, 11, 1), date(2026, 11, 30), "staff"),
        ((1,), date(2026, 11, 30), date(2026, 11, 1), "end"),
        ((1,), date(2026, 1, 1), date(2027, 3, 1), "end"),
    ],
)
@pytest.mark.parametrize("rotation", list(Rotation))
def test_impossible_plans_are_refused(
    staff: tuple[int, ...], start: date, end: date, field: str, rotation: Rotation
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        plan_shifts(RotationPlan(DutyRole.LEADER, rotation, staff, start, end), CALENDAR)
    assert field in caught.value.errors


# The service ----------------------------------------------------------------------------------


def actions(services: AppServices, action: str) -> list[AuditEntry]:
    with services.db.read() as session:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        ).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


def staff(
    services: AppServices, admin: Actor, name: str, role: DutyRole, title: str = ""
) -> StaffInfo:
    info, _ = services.roster.save_staff(admin, name=name, duty_role=role, title=title)
    return info


def on_duty(services: AppServices, start: date, end: date) -> list[tuple[date, str, str, str]]:
    return [
        (s.day, s.duty_role.value, s.period.value, s.staff_name)
        for s in services.roster.shifts(start, end)
    ]


def test_save_staff_adds_and_edits(services: AppServices, admin: Actor) -> None:
    info, changes = services.roster.save_staff(
        admin, name=" 潘险峰 ", duty_role=DutyRole.LEADER, title="党风政风监督室主任", phone="110"
    )

    assert changes.settings
    assert (info.name, info.duty_role, info.title, info.active) == (
        "潘险峰",
        DutyRole.LEADER,
        "党风政风监督室主任",
        True,
    )
    assert services.roster.staff(DutyRole.LEADER) == [info]
    assert services.roster.staff(DutyRole.WINDOW) == []

    edited, _ = services.roster.save_staff(
        admin, name="潘险峰", duty_role=DutyRole.LEADER, title="副主任", staff_id=info.id
    )

    assert edited.id == info.id and edited.title == "副主任"
    assert services.roster.staff() == [edited]
    entries = actions(services, "save_staff")
    assert len(entries) == 2
    assert entries[0].user_name == "admin" and entries[0].entity == "duty_staff"
    assert entries[0].after == {"name": "潘险峰", "duty_role": "leader", "active": True}


def test_save_staff_needs_a_name(services: AppServices, admin: Actor) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.roster.save_staff(admin, name="  ", duty_role=DutyRole.WINDOW)
    assert "name" in caught.value.errors
    assert services.roster.staff() == []


def test_generate_replaces_only_that_roles_shifts_in_the_range(
    services: AppServices, admin: Actor
) -> None:
    first = staff(services, admin, "潘险峰", DutyRole.LEADER)
    second = staff(services, admin, "韩国栋", DutyRole.LEADER)
    window = staff(services, admin, "张敏", DutyRole.WINDOW)
    services.roster.set_shift(admin, date(2026, 11, 25), DutyRole.WINDOW, window.id)
    services.roster.set_shift(admin, date(2026, 11, 20), DutyRole.LEADER, first.id)
    services.roster.set_shift(admin, date(2026, 11, 30), DutyRole.LEADER, first.id)
    week = RotationPlan(
        DutyRole.LEADER,
        Rotation.DAILY,
        (first.id, second.id),
        date(2026, 11, 23),
        date(2026, 11, 29),
    )

    count, changes = services.roster.generate(admin, week)

    assert count == 5 and changes.settings
    leaders = [
        s for s in on_duty(services, date(2026, 11, 23), date(2026, 11, 29)) if s[1] == "leader"
    ]
    assert leaders == [
        (date(2026, 11, 23), "leader", "day", "潘险峰"),
        (date(2026, 11, 24), "leader", "day", "韩国栋"),
        (date(2026, 11, 25), "leader", "day", "潘险峰"),
        (date(2026, 11, 26), "leader", "day", "韩国栋"),
        (date(2026, 11, 27), "leader", "day", "潘险峰"),
    ]

    count, _ = services.roster.generate(
        admin,
        RotationPlan(DutyRole.LEADER, Rotation.DAILY, (second.id,), week.start, week.end),
    )

    assert count == 5
    assert on_duty(services, date(2026, 11, 1), date(2026, 11, 30)) == [
        (date(2026, 11, 20), "leader", "day", "潘险峰"),  # before the range: kept
        (date(2026, 11, 23), "leader", "day", "韩国栋"),
        (date(2026, 11, 24), "leader", "day", "韩国栋"),
        (date(2026, 11, 25), "leader", "day", "韩国栋"),
        (date(2026, 11, 25), "window", "day", "张敏"),  # other role: untouched
        (date(2026, 11, 26), "leader", "day", "韩国栋"),
        (date(2026, 11, 27), "leader", "day", "韩国栋"),
        (date(2026, 11, 30), "leader", "day", "潘险峰"),  # after the range: kept
    ]
    generated = actions(services, "generate_roster")
    assert len(generated) == 2
    assert generated[-1].after == {"rotation": "daily", "staff": [second.id], "shifts": 5}
    assert services.maintenance.check().ok


def test_generate_follows_the_sites_calendar(services: AppServices, admin: Actor) -> None:
    leader = staff(services, admin, "潘险峰", DutyRole.LEADER)
    services.calendar.save_override(admin, date(2026, 11, 25), working=False, name="台风停工")

    count, _ = services.roster.generate(
        admin,
        RotationPlan(
            DutyRole.LEADER, Rotation.DAILY, (leader.id,), date(2026, 11, 23), date(2026, 11, 27)
        ),
    )

    assert count == 4
    assert services.roster.leader_on(date(2026, 11, 25)) is None


def test_generate_refuses_staff_of_the_wrong_role_or_inactive(
    services: AppServices, admin: Actor
) -> None:
    leader = staff(services, admin, "潘险峰", DutyRole.LEADER)
    window = staff(services, admin, "张敏", DutyRole.WINDOW)
    retired, _ = services.roster.save_staff(
        admin, name="周建军", duty_role=DutyRole.LEADER, active=False
    )
    services.roster.set_shift(admin, date(2026, 11, 25), DutyRole.LEADER, leader.id)
    audits = audit_count(services)

    for people in [(leader.id, window.id), (retired.id,), (leader.id, 9999)]:
        with pytest.raises(UserError) as caught:
            services.roster.generate(
                admin,
                RotationPlan(
                    DutyRole.LEADER, Rotation.DAILY, people, date(2026, 11, 23), date(2026, 11, 27)
                ),
            )
        assert "带班领导" in caught.value.message

    assert on_duty(services, date(2026, 11, 1), date(2026, 11, 30)) == [
        (date(2026, 11, 25), "leader", "day", "潘险峰")
    ]
    assert audit_count(services) == audits


def test_set_shift_swaps_and_clears_a_day(services: AppServices, admin: Actor) -> None:
    first = staff(services, admin, "潘险峰", DutyRole.LEADER, "党风政风监督室主任")
    second = staff(services, admin, "韩国栋", DutyRole.LEADER, "案件监督管理室主任")
    day = date(2026, 11, 26)
    services.roster.set_shift(admin, day, DutyRole.LEADER, first.id)

    services.roster.set_shift(admin, day, DutyRole.LEADER, second.id, period=Period.AM, note="换班")

    shifts = services.roster.shifts(day, day)
    assert [(s.staff_name, s.period, s.note) for s in shifts] == [("韩国栋", Period.AM, "换班")]
    leader = services.roster.leader_on(day)
    assert leader is not None
    assert (leader.staff_id, leader.staff_name, leader.staff_title) == (
        second.id,
        "韩国栋",
        "案件监督管理室主任",
    )
    assert leader.duty_role is DutyRole.LEADER
    assert actions(services, "set_shift")[-1].before == {
        "shifts": [{"period": "day", "staff": "潘险峰"}]
    }

    services.roster.set_shift(admin, day, DutyRole.LEADER, None)

    assert services.roster.shifts(day, day) == []
    assert services.roster.leader_on(day) is None
    entries = actions(services, "set_shift")
    assert len(entries) == 3
    assert entries[-1].after == {"shifts": []}
    assert entries[-1].entity_uuid == f"leader:{day}"
    assert services.maintenance.check().ok


def test_leader_on_ignores_window_staff(services: AppServices, admin: Actor) -> None:
    window = staff(services, admin, "张敏", DutyRole.WINDOW)
    services.roster.set_shift(admin, date(2026, 11, 25), DutyRole.WINDOW, window.id)

    assert services.roster.leader_on(date(2026, 11, 25)) is None
    assert services.roster.leader_on(date(2026, 11, 24)) is None


def test_set_shift_with_someone_of_the_wrong_role_changes_nothing(
    services: AppServices, admin: Actor
) -> None:
    leader = staff(services, admin, "潘险峰", DutyRole.LEADER)
    window = staff(services, admin, "张敏", DutyRole.WINDOW)
    day = date(2026, 11, 25)
    services.roster.set_shift(admin, day, DutyRole.LEADER, leader.id)
    audits = audit_count(services)

    with pytest.raises(UserError) as caught:
        services.roster.set_shift(admin, day, DutyRole.LEADER, window.id)
    with pytest.raises(UserError):
        services.roster.set_shift(admin, day, DutyRole.LEADER, 9999)

    assert "带班领导" in caught.value.message
    assert on_duty(services, day, day) == [(day, "leader", "day", "潘险峰")]  # the old shift stays
    assert audit_count(services) == audits


def test_a_clerk_cannot_change_the_roster(
    services: AppServices, admin: Actor, clerk: Actor
) -> None:
    leader = staff(services, admin, "潘险峰", DutyRole.LEADER)
    services.roster.set_shift(admin, date(2026, 11, 25), DutyRole.LEADER, leader.id)
    shifts, people, audits = (
        count_rows(services, "duty_shifts"),
        count_rows(services, "duty_staff"),
        audit_count(services),
    )
    plan = RotationPlan(
        DutyRole.LEADER, Rotation.DAILY, (leader.id,), date(2026, 11, 23), date(2026, 11, 27)
    )

    with pytest.raises(PermissionDenied):
        services.roster.save_staff(clerk, name="张敏", duty_role=DutyRole.WINDOW)
    with pytest.raises(PermissionDenied):
        services.roster.generate(clerk, plan)
    with pytest.raises(PermissionDenied):
        services.roster.set_shift(clerk, date(2026, 11, 25), DutyRole.LEADER, None)

    assert (
        count_rows(services, "duty_shifts"),
        count_rows(services, "duty_staff"),
        audit_count(services),
    ) == (shifts, people, audits)
    # Reading the roster is open to everyone.
    assert services.roster.leader_on(date(2026, 11, 25)) is not None


def test_set_shift_refuses_inactive_staff(services: AppServices, admin: Actor) -> None:
    leaver, _ = services.roster.save_staff(admin, name="李退休", duty_role=DutyRole.LEADER)
    services.roster.save_staff(
        admin, name="李退休", duty_role=DutyRole.LEADER, staff_id=leaver.id, active=False
    )
    with pytest.raises(UserError, match="已停用"):
        services.roster.set_shift(admin, date(2026, 11, 26), DutyRole.LEADER, leaver.id)
    assert services.roster.leader_on(date(2026, 11, 26)) is None


def test_deleting_a_day_without_an_override_is_refused(services: AppServices, admin: Actor) -> None:
    with pytest.raises(UserError, match="没有调整记录"):
        services.calendar.delete_override(admin, date(2026, 12, 9))
