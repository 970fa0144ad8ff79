"""Demo records for the case path after assignment (issue 16 B), made through the services.

Seven matters, each stopped at a step the path now records: a 现场督办 that solved it the same
afternoon; a 办不了 whose signed basis came (the scan kept), one whose basis a leader waived, and
a concluded one whose basis is still missing (it stays on the calendar); a case concluded over an
open assignment, with the reason; a reply before conclusion and an unreached return visit on the
待重拨 list; and a 不满意 visit that reopened its case with a new assignment awaiting signature.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_app.domain.vocabulary import (
    Approach,
    Nature,
    Outcome,
    ReplyMethod,
    VisitContact,
    VisitGrade,
    VisitReason,
)
from desktop_app.services.cases import OnsiteVisit, Triage
from desktop_app.services.context import Actor
from desktop_app.services.demo.forms import window_form
from desktop_app.services.site import DepartmentInfo

if TYPE_CHECKING:
    from desktop_app.services.app import AppServices

_Step = Callable[["_Matter"], None]


def add_demo_case_path(services: AppServices, clerk: Actor, leader: Actor) -> list[int]:
    """The seven matters at their steps; returns their case ids."""
    departments = services.site.departments()
    if not departments:
        return []
    made: list[int] = []
    for n, (name, title, description, area, nature, cause, step) in enumerate(_MATTERS):
        department = departments[n % len(departments)]
        form = window_form(
            name=name,
            first17=f"41022119{70 + n:02d}0{n + 1}155{n:02d}",
            phone=f"1370378{n:04d}",
            title=title,
            description=description,
            area=area,
            department=department,
            visits_count=2,
        )
        result = services.intake.register(clerk, form)
        if result.repeat_visit:
            continue
        case_id = result.case_id
        approach = Approach.ORDER if nature is Nature.WONT else Approach.PUSH
        services.cases.triage(clerk, case_id, Triage(nature, approach, (cause,), area))
        ids, _changes = services.assignments.create(
            clerk,
            case_id,
            department_id=department.id,
            requirements="请核实当事人反映的问题，依法依规办理，并按期书面反馈办理结果。",
        )
        services.assignments.issue(leader, ids[0])
        services.assignments.receive(
            clerk, ids[0], received_on=services.clock.now().date(), received_by="窗口负责人"
        )
        step(_Matter(services, clerk, leader, case_id, ids[0], department))
        made.append(case_id)
    return made


@dataclass(frozen=True)
class _Matter:
    """A matter at the step it stops at: who acts, on which case and assignment."""

    services: AppServices
    clerk: Actor
    leader: Actor
    case_id: int
    assignment_id: int
    department: DepartmentInfo


def _conclude(matter: _Matter, close_reason: str = "") -> None:
    matter.services.cases.conclude(
        matter.clerk,
        matter.case_id,
        outcome=Outcome.DONE,
        what_was_done="承办单位已按要求办理完毕",
        reply_method=ReplyMethod.PHONE,
        reply_text="已电话告知当事人办理结果",
        close_reason=close_reason,
    )


def _onsite(matter: _Matter) -> None:
    """Seed 002: the duty leader at the window, solved the same afternoon."""
    matter.services.cases.record_onsite(
        matter.clerk,
        matter.case_id,
        OnsiteVisit(
            leader=matter.leader.display_name,
            at=matter.services.clock.now(),
            department_id=matter.department.id,
            place=f"{matter.department.name}窗口",
            result="带班领导现场协调，当天下午办结",
        ),
    )
    matter.services.assignments.respond(matter.clerk, matter.assignment_id, "现场督办后当天办结")
    _conclude(matter)


def _basis_received(matter: _Matter) -> None:
    with tempfile.TemporaryDirectory() as folder:
        scan = Path(folder) / "不能办理书面依据.pdf"
        scan.write_bytes(b"%PDF-1.4\n% demo scan of a signed written basis\n")
        matter.services.cases.record_basis(
            matter.clerk,
            matter.case_id,
            received_on=matter.services.clock.now().date(),
            signed_by="刘建设",
            scan=scan,
        )
    matter.services.assignments.respond(matter.clerk, matter.assignment_id, "已出具书面依据")
    _conclude(matter)


def _basis_waived(matter: _Matter) -> None:
    matter.services.cases.waive_basis(
        matter.leader, matter.case_id, "所依据的省厅文件已在政务网公开，无需另出书面依据"
    )
    matter.services.assignments.respond(matter.clerk, matter.assignment_id, "已向当事人解释政策")
    _conclude(matter)


def _basis_missing(matter: _Matter) -> None:
    """Concluded, the basis not yet in: it stays on the deadline calendar."""
    matter.services.assignments.respond(
        matter.clerk, matter.assignment_id, "确因政策调整不能办理，书面依据另行报送"
    )
    _conclude(matter)


def _closed_with_reason(matter: _Matter) -> None:
    _conclude(matter, "当事人已在外地办成并撤回诉求，承办单位无需再办")


def _replied_then_unreached(matter: _Matter) -> None:
    matter.services.cases.record_reply(
        matter.clerk,
        matter.case_id,
        method=ReplyMethod.SMS,
        text="已交办承办单位，将在时限内答复您",
    )
    matter.services.assignments.respond(matter.clerk, matter.assignment_id, "已办结")
    _conclude(matter)
    matter.services.cases.record_visit_attempt(
        matter.clerk, matter.case_id, contact=VisitContact.NO_ANSWER
    )


def _dissatisfied(matter: _Matter) -> None:
    matter.services.assignments.respond(matter.clerk, matter.assignment_id, "已办结")
    _conclude(matter)
    matter.services.cases.record_visit(
        matter.clerk,
        matter.case_id,
        grade=VisitGrade.DISSATISFIED,
        note="审批仍未完成，窗口仍让等待",
        reasons=(VisitReason.NOT_SOLVED, VisitReason.LATE),
    )


# (name, title, description, area, nature, cause code, the step it stops at)
_MATTERS: tuple[tuple[str, str, str, str, Nature, str, _Step], ...] = (
    (
        "蒋美华",
        "医保异地备案窗口称系统不通",
        "为母亲办理异地就医备案，窗口称系统不通让改天再来。",
        "医保社保",
        Nature.HARD,
        "C01",
        _onsite,
    ),
    (
        "沈建国",
        "宅基地上建房审批不予办理",
        "申请农村宅基地建房，乡镇称政策不允许，未说明依据。",
        "工程建设项目审批",
        Nature.CANT,
        "C02",
        _basis_received,
    ),
    (
        "韩秀英",
        "营业执照经营范围变更被拒",
        "变更经营范围被告知不能办，未见书面依据。",
        "市场准入许可",
        Nature.CANT,
        "C02",
        _basis_waived,
    ),
    (
        "杨志强",
        "残疾人补贴停发无说明",
        "补贴停发三个月，窗口称上级政策调整，无法办理。",
        "公共服务",
        Nature.CANT,
        "C02",
        _basis_missing,
    ),
    (
        "朱丽娟",
        "新生儿落户材料反复补充",
        "落户被要求补充三次材料，未一次性告知。",
        "户籍证照",
        Nature.HARD,
        "C06",
        _closed_with_reason,
    ),
    (
        "秦海波",
        "不动产证加名久拖不办",
        "婚后加名申请递交一个月无进展。",
        "不动产登记",
        Nature.HARD,
        "C08",
        _replied_then_unreached,
    ),
    (
        "许文华",
        "公积金贷款审批超时",
        "公积金贷款审批超过承诺时限，多次询问无答复。",
        "住房公积金",
        Nature.HARD,
        "C08",
        _dissatisfied,
    ),
)
