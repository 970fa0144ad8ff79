"""Demo records for 一类事 and early warnings (issue 16 D), made through the services.

Two bursts of matters this month make two warnings fire: 住房公积金 × 一次性告知不到位 (seed 002's
housing-fund story) is turned into a class whose fix — a one-time materials list — is done; the
other, 不动产登记 × 职责不清, stays open for a person to judge. A third class, without a fix yet and
past its deadline, gathers earlier 不动产登记 matters if the demo has any.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from desktop_app.domain.vocabulary import Approach, FixKind, Nature
from desktop_app.services.classes import ClassForm, WarningState
from desktop_app.services.context import Actor
from desktop_app.services.demo.forms import window_form
from desktop_app.services.site import DepartmentInfo
from desktop_app.storage.models import Case

if TYPE_CHECKING:
    from desktop_app.services.app import AppServices

_FUND_PEOPLE = ("赵春梅", "钱立新", "孙晓燕", "李国强", "周文静", "吴建华")
_LAND_PEOPLE = ("郑海涛", "王淑芬", "冯志刚", "陈玉兰", "褚红军")


def add_demo_classes(services: AppServices, actor: Actor) -> list[int]:
    """Classes with and without fixes and warnings that fire; returns the new classes' ids."""
    now = services.clock.now()
    departments = services.site.departments()
    if not departments:
        return []
    fund = _department(departments, "公积金", 0)
    land = _department(departments, "不动产", min(1, len(departments) - 1))
    fund_cases = _burst(
        services,
        actor,
        _FUND_PEOPLE,
        department=fund,
        area="住房公积金",
        cause="C06",
        title="提取住房公积金被要求反复补充材料",
        description="为外甥女代办公积金提取，窗口三次要求补充不同材料，未一次性告知。",
        seed=1,
    )
    _burst(
        services,
        actor,
        _LAND_PEOPLE,
        department=land,
        area="不动产登记",
        cause="C03",
        title="不动产转移登记与税务窗口互相推诿",
        description="办理二手房过户，登记窗口称需先完税，税务窗口称需先登记，来回跑了多次。",
        seed=2,
    )
    services.classes.scan_warnings(actor)
    made: list[int] = []
    for warning in services.classes.warnings(state=WarningState.OPEN):
        if warning.department_id == fund.id and warning.area == "住房公积金":
            class_id, _changes = services.classes.class_from_warning(actor, warning.id)
            draft = services.classes.detail(class_id).form
            services.classes.update(
                actor,
                class_id,
                replace(
                    draft,
                    title="住房公积金提取材料一次性告知不到位",
                    fix_kind=FixKind.MATERIALS_LIST,
                    fix_description="出台《住房公积金提取一次性告知材料清单》，窗口张贴并在政务网公开",
                    owner_name="公积金中心主任",
                    due_date=now.date() + timedelta(days=10),
                    done_on=now.date(),
                ),
            )
            made.append(class_id)
    if not made and fund_cases:
        class_id, _changes = services.classes.create(
            actor,
            ClassForm(
                title="住房公积金提取材料一次性告知不到位",
                area="住房公积金",
                causes=("C06",),
                owner_department_id=fund.id,
            ),
            case_ids=fund_cases,
        )
        made.append(class_id)
    with services.db.read() as session:
        earlier = list(
            session.scalars(
                select(Case.id)
                .where(Case.area == "不动产登记", Case.received_at < now - timedelta(days=40))
                .order_by(Case.received_at)
                .limit(4)
            )
        )
    class_id, _changes = services.classes.create(
        actor,
        ClassForm(
            title="不动产登记历史遗留问题办证难",
            description="早年开发项目未办分户证，群众多次反映，涉及住建、自然资源、税务多个部门。",
            area="不动产登记",
            causes=("C10", "C03"),
            owner_department_id=land.id,
            owner_name="分管副县长",
            due_date=now.date() - timedelta(days=5),
        ),
        case_ids=earlier,
    )
    made.append(class_id)
    return made


def _department(departments: list[DepartmentInfo], word: str, fallback: int) -> DepartmentInfo:
    return next((d for d in departments if word in d.name), departments[fallback])


def _burst(
    services: AppServices,
    actor: Actor,
    people: tuple[str, ...],
    *,
    department: DepartmentInfo,
    area: str,
    cause: str,
    title: str,
    description: str,
    seed: int,
) -> list[int]:
    """A matter for each of ``people`` today, stuck at ``department``, triaged to ``cause``."""
    from desktop_app.services.cases import Triage

    made: list[int] = []
    for n, name in enumerate(people):
        form = window_form(
            name=name,
            first17=f"41022119{80 + n:02d}0{seed}1{n}{seed}{n:02d}",
            phone=f"1390378{seed}{n:03d}",
            title=title,
            description=description,
            area=area,
            department=department,
            visits_count=2 + n % 3,
        )
        result = services.intake.register(actor, form)
        if result.repeat_visit:
            continue
        services.cases.triage(
            actor, result.case_id, Triage(Nature.HARD, Approach.PUSH, (cause,), area)
        )
        made.append(result.case_id)
    return made
