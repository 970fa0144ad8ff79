"""Demo records for 联席会议 (issue 16 E), made through the services.

Two meetings on the newest open, triaged matters: a 会商 the day before yesterday whose follow-up
the duty leader has signed (a numbered slip), taking up a class (一类事) too when there is one;
and a meeting yesterday whose follow-up still waits for the leader's signature.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from desktop_app.domain.vocabulary import CaseStatus
from desktop_app.services.context import Actor
from desktop_app.services.meetings import ItemForm, MeetingForm
from desktop_app.storage.models import Case

if TYPE_CHECKING:
    from desktop_app.services.app import AppServices


def add_demo_meetings(
    services: AppServices, actor: Actor, leader: Actor | None = None
) -> list[int]:
    """Meetings with follow-up assignments (signed by ``leader`` when given); their ids.

    Needs open, triaged cases (the demo's own) and departments; makes nothing without them.
    """
    departments = services.site.departments()
    cases = _open_cases(services)
    if not departments or len(cases) < 2:
        return []
    attendees = tuple(d.name for d in departments[:3])
    now = services.clock.now()
    classes = services.meetings.classes(actor)

    def department_of(case: tuple[int, int | None]) -> int:
        ids = {d.id for d in departments}
        return case[1] if case[1] in ids else departments[0].id

    first_items = [
        ItemForm(
            case_id=cases[0][0],
            discussion="承办单位说明了办理中遇到的系统数据迁移问题，窗口通报了群众多次往返的情况。",
            decision="由承办单位5个工作日内办结并当面答复群众，窗口跟踪督办。",
            department_id=department_of(cases[0]),
            working_days=5,
        ),
        ItemForm(
            case_id=cases[1][0],
            discussion="与上一事项属同类问题。",
            decision="并入上一事项一并处理，办结后由窗口回访核实。",
        ),
    ]
    if classes:
        first_items.append(
            ItemForm(
                issue_class_id=classes[0].id,
                decision="牵头单位梳理办事流程，形成一次性告知清单，下次联席会议通报。",
            )
        )
    first_id, _changes = services.meetings.record(
        actor,
        MeetingForm(
            held_at=_at(now - timedelta(days=2), 9, 30),
            place="县纪委监委三楼会议室",
            chair=leader.display_name if leader else "值班领导",
            attendees=attendees,
            topic="“办不成事”共性问题会商",
            summary="窗口通报了近期受理的“办不成事”事项，各参会单位逐项说明办理情况。",
            recorder=actor.display_name,
            items=tuple(first_items),
        ),
    )
    ids = [first_id]
    if leader is not None:
        for item in services.meetings.get(actor, first_id).items:
            if item.assignment_id is not None:
                services.assignments.issue(leader, item.assignment_id)
    if len(cases) >= 3:
        second_id, _changes = services.meetings.record(
            actor,
            MeetingForm(
                held_at=_at(now - timedelta(days=1), 15, 0),
                place="县政务服务中心二楼会议室",
                chair=leader.display_name if leader else "值班领导",
                attendees=attendees[:2],
                topic="推诿扯皮事项协调会",
                recorder=actor.display_name,
                items=(
                    ItemForm(
                        case_id=cases[2][0],
                        discussion="两单位对职责划分各执一词。",
                        decision="明确由承办单位牵头办理，3个工作日内办结并书面反馈。",
                        department_id=department_of(cases[2]),
                        working_days=3,
                    ),
                ),
            ),
        )
        ids.append(second_id)
    return ids


def _open_cases(services: AppServices) -> list[tuple[int, int | None]]:
    """The newest three open, triaged cases of this site: (id, the department it is stuck at)."""
    with services.db.read() as session:
        rows = session.execute(
            select(Case.id, Case.stuck_department_id)
            .where(
                Case.status.in_([CaseStatus.REGISTERED.value, CaseStatus.IN_PROGRESS.value]),
                Case.nature.is_not(None),
                Case.origin_site == "",
            )
            .order_by(Case.id.desc())
            .limit(3)
        ).all()
        return [(case_id, department) for case_id, department in rows]


def _at(day: datetime, hour: int, minute: int) -> datetime:
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)
