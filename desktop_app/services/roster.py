"""值班安排: who sits the window and who is the duty leader (带班领导) on each day.

Rotations follow the seeds: 湘江新区 puts one middle-level cadre on duty for half a day each week;
开封 has a fixed team rotating in 14-day cycles. A generated roster can be edited day by day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from desktop_app.domain.permissions import Permission
from desktop_app.domain.validation import normalize_text
from desktop_app.domain.vocabulary import LabelledEnum
from desktop_app.domain.workdays import WorkdayCalendar
from desktop_app.errors import NotFound, UserError, ValidationFailed
from desktop_app.services import audit
from desktop_app.services.calendar import CalendarService
from desktop_app.services.context import Actor, Changes, Clock
from desktop_app.storage.database import Database
from desktop_app.storage.models import DutyShift, DutyStaff

MAX_ROSTER_DAYS = 400


class DutyRole(LabelledEnum):
    WINDOW = "window", "坐窗人员"
    LEADER = "leader", "带班领导"


class Period(LabelledEnum):
    DAY = "day", "全天"
    AM = "am", "上午"
    PM = "pm", "下午"


class Rotation(LabelledEnum):
    WEEKLY_HALF_DAY = "weekly_half_day", "每周一人值班半天（湘江新区做法）"
    CYCLE_14 = "cycle_14", "固定人员14天一轮（开封做法）"
    DAILY = "daily", "每个工作日轮换"


@dataclass(frozen=True)
class StaffInfo:
    id: int
    name: str
    duty_role: DutyRole
    title: str
    phone: str
    active: bool


@dataclass(frozen=True)
class ShiftInfo:
    day: date
    duty_role: DutyRole
    period: Period
    staff_id: int
    staff_name: str
    staff_title: str
    note: str


@dataclass(frozen=True)
class RotationPlan:
    duty_role: DutyRole
    rotation: Rotation
    staff_ids: tuple[int, ...]
    start: date
    end: date
    weekday: int = 2  # for weekly half days: 0 = Monday
    period: Period = Period.PM


def plan_shifts(plan: RotationPlan, calendar: WorkdayCalendar) -> list[tuple[date, Period, int]]:
    """The shifts a rotation gives: (day, period, staff id), working days only. Pure."""
    if not plan.staff_ids:
        raise ValidationFailed({"staff": "请至少选择一名值班人员"})
    if plan.end < plan.start:
        raise ValidationFailed({"end": "结束日期不能早于开始日期"})
    if (plan.end - plan.start).days > MAX_ROSTER_DAYS:
        raise ValidationFailed({"end": f"一次最多排 {MAX_ROSTER_DAYS} 天"})
    shifts: list[tuple[date, Period, int]] = []
    people = plan.staff_ids
    if plan.rotation is Rotation.WEEKLY_HALF_DAY:
        monday = plan.start - timedelta(days=plan.start.weekday())
        week = 0
        while monday <= plan.end:
            # The chosen weekday, or the next working day of that week if it is a holiday.
            for offset in range(plan.weekday, 7):
                day = monday + timedelta(days=offset)
                if plan.start <= day <= plan.end and calendar.is_working_day(day):
                    shifts.append((day, plan.period, people[week % len(people)]))
                    break
            week += 1
            monday += timedelta(days=7)
        return shifts
    day = plan.start
    turn = 0
    while day <= plan.end:
        if plan.rotation is Rotation.CYCLE_14:
            person = people[((day - plan.start).days // 14) % len(people)]
        else:
            person = people[turn % len(people)]
        if calendar.is_working_day(day):
            shifts.append((day, Period.DAY, person))
            turn += 1
        day += timedelta(days=1)
    return shifts


class RosterService:
    def __init__(self, db: Database, clock: Clock, calendar: CalendarService) -> None:
        self._db = db
        self._clock = clock
        self._calendar = calendar

    # Staff ----------------------------------------------------------------------------------

    def staff(self, duty_role: DutyRole | None = None) -> list[StaffInfo]:
        with self._db.read() as session:
            query = select(DutyStaff).order_by(DutyStaff.duty_role, DutyStaff.id)
            if duty_role is not None:
                query = query.where(DutyStaff.duty_role == duty_role.value)
            return [_staff_info(s) for s in session.scalars(query)]

    def save_staff(
        self,
        actor: Actor,
        *,
        name: str,
        duty_role: DutyRole,
        title: str = "",
        phone: str = "",
        staff_id: int | None = None,
        active: bool = True,
    ) -> tuple[StaffInfo, Changes]:
        actor.require(Permission.MANAGE_REFERENCE)
        name = normalize_text(name)
        if not name:
            raise ValidationFailed({"name": "请填写姓名"})
        with self._db.write() as session:
            if staff_id is None:
                person = DutyStaff(name=name, duty_role=duty_role.value)
                session.add(person)
            else:
                found = session.get(DutyStaff, staff_id)
                if found is None:
                    raise NotFound("值班人员不存在")
                person = found
                person.version += 1
            person.name = name
            person.duty_role = duty_role.value
            person.title = normalize_text(title)
            person.phone = normalize_text(phone)
            person.active = active
            session.flush()
            audit.record(
                session,
                at=self._clock.now(),
                user_name=actor.username,
                action="save_staff",
                entity="duty_staff",
                entity_uuid=person.uuid,
                after={"name": name, "duty_role": duty_role.value, "active": active},
            )
            return _staff_info(person), Changes(settings=True)

    # Shifts ---------------------------------------------------------------------------------

    def shifts(self, start: date, end: date) -> list[ShiftInfo]:
        with self._db.read() as session:
            rows = session.scalars(
                select(DutyShift)
                .where(DutyShift.day >= start, DutyShift.day <= end)
                .order_by(DutyShift.day, DutyShift.duty_role, DutyShift.period)
            )
            return [_shift_info(s) for s in rows]

    def leader_on(self, day: date) -> ShiftInfo | None:
        """Today's duty leader: the default signer of slips issued that day."""
        leaders = [s for s in self.shifts(day, day) if s.duty_role is DutyRole.LEADER]
        return leaders[0] if leaders else None

    def generate(self, actor: Actor, plan: RotationPlan) -> tuple[int, Changes]:
        """Fill the date range from a rotation, replacing that role's shifts in the range."""
        actor.require(Permission.MANAGE_REFERENCE)
        shifts = plan_shifts(plan, self._calendar.calendar())
        with self._db.write() as session:
            known = {
                s.id
                for s in session.scalars(select(DutyStaff).where(DutyStaff.id.in_(plan.staff_ids)))
                if s.duty_role == plan.duty_role.value and s.active
            }
            unknown = [i for i in plan.staff_ids if i not in known]
            if unknown:
                raise UserError(f"所选人员不是在岗的{plan.duty_role.label}，请重新选择")
            session.execute(
                delete(DutyShift).where(
                    DutyShift.duty_role == plan.duty_role.value,
                    DutyShift.day >= plan.start,
                    DutyShift.day <= plan.end,
                )
            )
            for day, period, staff_id in shifts:
                session.add(
                    DutyShift(
                        day=day,
                        duty_role=plan.duty_role.value,
                        period=period.value,
                        staff_id=staff_id,
                    )
                )
            audit.record(
                session,
                at=self._clock.now(),
                user_name=actor.username,
                action="generate_roster",
                entity="duty_roster",
                entity_uuid=f"{plan.duty_role.value}:{plan.start}:{plan.end}",
                after={
                    "rotation": plan.rotation.value,
                    "staff": list(plan.staff_ids),
                    "shifts": len(shifts),
                },
            )
        return len(shifts), Changes(settings=True)

    def set_shift(
        self,
        actor: Actor,
        day: date,
        duty_role: DutyRole,
        staff_id: int | None,
        *,
        period: Period = Period.DAY,
        note: str = "",
    ) -> Changes:
        """Edit one day (a swap, sick leave): put someone else on, or clear it (None)."""
        actor.require(Permission.MANAGE_REFERENCE)
        with self._db.write() as session:
            existing = list(
                session.scalars(
                    select(DutyShift).where(
                        DutyShift.day == day, DutyShift.duty_role == duty_role.value
                    )
                )
            )
            before = [{"period": s.period, "staff": s.staff.name} for s in existing]
            for shift in existing:
                session.delete(shift)
            session.flush()
            after: list[dict[str, str]] = []
            if staff_id is not None:
                person = session.get(DutyStaff, staff_id)
                if person is None or person.duty_role != duty_role.value:
                    raise UserError(f"所选人员不是{duty_role.label}")
                if not person.active:
                    raise UserError(f"{person.name}已停用，不能排班")
                session.add(
                    DutyShift(
                        day=day,
                        duty_role=duty_role.value,
                        period=period.value,
                        staff_id=staff_id,
                        note=normalize_text(note),
                    )
                )
                after.append({"period": period.value, "staff": person.name})
            audit.record(
                session,
                at=self._clock.now(),
                user_name=actor.username,
                action="set_shift",
                entity="duty_roster",
                entity_uuid=f"{duty_role.value}:{day}",
                before={"shifts": before},
                after={"shifts": after},
            )
        return Changes(settings=True)


def shifts_in(session: Session, start: date, end: date) -> list[ShiftInfo]:
    rows = session.scalars(select(DutyShift).where(DutyShift.day >= start, DutyShift.day <= end))
    return [_shift_info(s) for s in rows]


def _staff_info(s: DutyStaff) -> StaffInfo:
    return StaffInfo(s.id, s.name, DutyRole(s.duty_role), s.title, s.phone, s.active)


def _shift_info(s: DutyShift) -> ShiftInfo:
    return ShiftInfo(
        s.day,
        DutyRole(s.duty_role),
        Period(s.period),
        s.staff_id,
        s.staff.name,
        s.staff.title,
        s.note,
    )


def staff_ids(items: Sequence[StaffInfo]) -> tuple[int, ...]:
    return tuple(i.id for i in items)
