"""Demo records for 问责 (issue 16 C), made through the services.

A referral in every state and one decided with every measure: proposed (拟移交), dropped with a
reason (不予移交), sent and waiting (已移交), and decided — from 提醒谈话 to 移送审查调查, and the
outcomes that protect cadres (容错纠错、澄清正名、关爱回访、经核查不予问责). Each is on a case of
this site, its person in the unit the case was stuck at, as the seeds' offices name them (李某).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from desktop_app.domain.vocabulary import Conduct, Measure, ReferralRecipient
from desktop_app.services.context import Actor
from desktop_app.services.referrals import Proposal
from desktop_app.storage.models import Case, Department

if TYPE_CHECKING:
    from desktop_app.services.app import AppServices

# (person, post, conduct, facts): what the window found, one a referral.
_PEOPLE: tuple[tuple[str, str, tuple[Conduct, ...], str], ...] = (
    (
        "李某",
        "综合窗口工作人员",
        (Conduct.SHIRK, Conduct.NO_NOTICE),
        "群众先后三次到窗口办理，该同志每次只告知缺一项材料，未一次性告知，群众多次往返。",
    ),
    (
        "王某",
        "审批科科长",
        (Conduct.WONT,),
        "材料齐全、符合办理条件，该同志以“领导未批示”为由不予受理，经窗口交办后才办理。",
    ),
    (
        "张某",
        "窗口工作人员",
        (Conduct.COLD, Conduct.INDIFFERENT),
        "群众咨询时态度生硬，以“不归我们管”为由推给其他部门，未作任何解释。",
    ),
    (
        "刘某",
        "股长",
        (Conduct.SLOW, Conduct.INACTION),
        "交办后逾期未反馈，经催办仍未办结，延期申请理由不充分未获批准。",
    ),
    (
        "陈某",
        "副局长",
        (Conduct.NO_RESPONSIBILITY,),
        "分管事项涉及两个部门职责交叉，该同志多次会商不表态，致使事项久拖不决。",
    ),
    (
        "赵某",
        "窗口工作人员",
        (Conduct.GRAFT,),
        "群众反映办理过程中被暗示“找人”才能加快办理，经初步了解情况基本属实。",
    ),
    (
        "孙某",
        "办事员",
        (Conduct.MISCONDUCT,),
        "擅自增加法规规定以外的证明材料，要求群众到村委会开具“无犯罪证明”。",
    ),
)

# measure → a note as discipline staff would record it.
_DECISIONS: dict[Measure, str] = {
    Measure.REMINDER_TALK: "对其进行提醒谈话，责令当面向群众致歉。",
    Measure.CRITICISM: "责成所在单位对其批评教育，并在科室会上作检讨。",
    Measure.ADMONITION: "经县纪委常委会研究，对其诫勉谈话。",
    Measure.CIRCULAR: "在全县作风建设专项整治中通报批评。",
    Measure.SELF_EXAMINATION: "责令其作出书面检查，单位限期整改。",
    Measure.ORGANIZATIONAL: "建议所在单位调整其工作岗位。",
    Measure.INVESTIGATION: "移送县监委审查调查。",
    Measure.FAULT_TOLERANCE: "经核查系政策调整过渡期所致，主观无故意，予以容错纠错。",
    Measure.CLEARED: "经核查，反映问题不属实，在单位会议上予以澄清正名。",
    Measure.CARE_VISIT: "对受到处理后表现良好的干部开展关爱回访，鼓励其轻装上阵。",
    Measure.NO_LIABILITY: "经核查系上级系统故障所致，不予问责，已督促整改。",
}


def add_demo_referrals(
    services: AppServices,
    actor: Actor,
    leader: Actor | None = None,
    discipline: Actor | None = None,
) -> list[int]:
    """Referrals in every state and with every measure; their ids.

    ``actor`` proposes (a clerk or the administrator), ``leader`` (a duty leader) signs the
    letters and drops one, ``discipline`` (a 纪检监察 user) records the decisions; without
    them the referrals stay at the step before. Needs triaged cases of this site; makes
    nothing without them.
    """
    cases = _cases(services, len(_DECISIONS) + 3)
    if not cases:
        return []
    referrals = services.referrals
    ids: list[int] = []
    for n, (case_id, unit) in enumerate(cases):
        person, post, conduct, facts = _PEOPLE[n % len(_PEOPLE)]
        referral_id, _ = referrals.propose(
            actor,
            Proposal(
                case_id=case_id,
                person_name=person,
                person_post=post,
                person_unit=unit,
                conduct=conduct,
                facts=facts,
            ),
        )
        ids.append(referral_id)
    if leader is None:
        return ids
    # The first stays proposed, the second is dropped, the rest are sent.
    referrals.drop(leader, ids[1], "经调查核实，系群众对政策理解有误，窗口人员已按规定告知。")
    recipients = list(ReferralRecipient)
    for n, referral_id in enumerate(ids[2:]):
        recipient = recipients[n % len(recipients)]
        referrals.send(
            leader,
            referral_id,
            recipient=recipient,
            recipient_name=_recipient_name(services, recipient, cases[n + 2][1]),
        )
    if discipline is None:
        return ids
    # The third waits for a decision; every measure is recorded on one of the others.
    for referral_id, (measure, note) in zip(ids[3:], _DECISIONS.items(), strict=False):
        referrals.decide(
            discipline,
            referral_id,
            measure=measure,
            decided_by="县纪委监委第二纪检监察室",
            note=note,
        )
    return ids


def _cases(services: AppServices, count: int) -> list[tuple[int, str]]:
    """This site's newest triaged cases (id, the unit it was stuck at), up to ``count``."""
    with services.db.read() as session:
        rows = session.execute(
            select(Case.id, Department.name)
            .outerjoin(Department, Case.stuck_department_id == Department.id)
            .where(Case.nature.is_not(None), Case.origin_site == "")
            .order_by(Case.id.desc())
            .limit(count)
        ).all()
        fallback = session.scalar(select(Department.name).order_by(Department.id).limit(1)) or ""
    return [(case_id, unit or fallback) for case_id, unit in rows]


def _recipient_name(services: AppServices, recipient: ReferralRecipient, unit: str) -> str:
    short = services.site.info().short_name
    if recipient is ReferralRecipient.DISCIPLINE_ORGAN:
        return f"中共{short}纪委 {short}监委"
    if recipient is ReferralRecipient.STATIONED_GROUP:
        return f"{short}纪委监委派驻第一纪检监察组"
    return unit or f"{short}人民政府办公室"
