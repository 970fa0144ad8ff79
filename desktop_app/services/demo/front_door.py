"""Demo records for the front door (issue 16 A), made through the services.

An uncle who came for his niece (seed 002: the person concerned is the niece, the uncle the
代办人); a matter naming the official complained about and what they did, in a campaign; two
matters ended at screening, one 不予受理 (a civil dispute for the courts) and one 转办 to the
12345 hotline, each with its numbered notice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from desktop_app.domain.intake_rules import IntakeForm
from desktop_app.domain.vocabulary import (
    DEFAULT_CAMPAIGNS,
    Channel,
    ComplainantKind,
    Conduct,
    ProperChannel,
    ScreeningDecision,
)
from desktop_app.services.context import Actor
from desktop_app.services.demo.forms import id_number, window_form

if TYPE_CHECKING:
    from desktop_app.services.app import AppServices


def _id(birth: str, serial: str) -> str:
    return id_number(f"410221{birth}{serial}")


def add_demo_front_door(services: AppServices, clerk: Actor) -> list[int]:
    """The four matters; returns their case ids (empty when the site has no areas)."""
    areas = services.site.areas()
    if not areas:
        return []

    def area(wanted: str) -> str:
        return wanted if wanted in areas else areas[0]

    made: list[int] = []
    niece = IntakeForm(
        complainant_kind=ComplainantKind.PERSON,
        name="刘小雨",
        id_number=_id("20010312", "164"),
        phone="13703780161",
        title="提取住房公积金被要求开具无法开具的证明",
        description=(
            "外甥女在外地工作，委托舅舅来办公积金提取；中心要求提供原单位出具的离职证明，"
            "原单位已注销，无法开具，已往返三次。"
        ),
        area=area("住房公积金"),
        channel=Channel.WINDOW,
        stuck_at="县住房公积金中心提取窗口",
        visits_count=3,
        agent_name="刘建国",
        agent_phone="13903780162",
        agent_id_number=_id("19680705", "135"),
        agent_relation="舅舅",
        campaign=DEFAULT_CAMPAIGNS[0],
    )
    made.append(services.intake.register(clerk, niece).case_id)
    complained = IntakeForm(
        complainant_kind=ComplainantKind.PERSON,
        name="孙丽娟",
        id_number=_id("19850923", "226"),
        phone="13703780163",
        title="办理营业执照变更窗口工作人员态度冷漠、推来推去",
        description="窗口工作人员不看材料就说不归这里管，让去另一个窗口，那边又让回来。",
        area=area("市场准入许可"),
        channel=Channel.WINDOW,
        stuck_at="县政务服务中心市场监管窗口",
        respondent_name="赵某",
        respondent_post="综合受理窗口工作人员",
        respondent_unit="县市场监督管理局",
        respondent_conduct=(Conduct.INDIFFERENT.value, Conduct.SHIRK.value),
        campaign=DEFAULT_CAMPAIGNS[2],
    )
    made.append(services.intake.register(clerk, complained).case_id)
    for name, birth, title, description, decision, channel, reason in _SCREENED:
        form = window_form(
            name=name,
            first17=f"410221{birth}317",
            phone=f"137037801{len(made) + 70}",
            title=title,
            description=description,
            area=areas[0],
        )
        case_id = services.intake.register(clerk, form).case_id
        services.screening.screen_out(clerk, case_id, decision, channel, reason)
        made.append(case_id)
    return made


_SCREENED = (
    (
        "周国强",
        "19720416",
        "与邻居宅基地界址有争议，要求窗口确权",
        "邻居建房占了自家宅基地一米多，村里调解不成，想让窗口给个说法。",
        ScreeningDecision.NOT_ACCEPTED,
        ProperChannel.LITIGATION,
        "所反映的是与邻居的宅基地权属纠纷，属于民事争议，不是在政务服务中办事遇到的问题。",
    ),
    (
        "吴桂芝",
        "19600228",
        "小区路灯长期不亮，物业不管",
        "小区路灯坏了三个月，找物业几次都说没钱修。",
        ScreeningDecision.TRANSFERRED,
        ProperChannel.HOTLINE,
        "所反映的是小区公共设施维护问题，属于12345政务服务便民热线受理范围。",
    ),
)
