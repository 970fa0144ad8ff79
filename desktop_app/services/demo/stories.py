"""Demo stories: the matter templates (read from ``templates.toml``) and the phrases that
timelines are written with.

The templates are data, not code: ``templates.toml`` beside this module, shipped as package
data, read once and checked when first used. A wrong code (nature, cause, area, department,
industry), an unknown slot or a missing field fails loudly with the template's name, so a typo
in the file stops ``bbcs demo`` at once instead of writing odd data.
"""

from __future__ import annotations

import functools
import string
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from desktop_app.domain.case_flow import EventKind, visit_outcome
from desktop_app.domain.vocabulary import (
    DEFAULT_AREAS,
    Cause,
    Channel,
    Nature,
    ReplyMethod,
    VisitGrade,
)
from desktop_app.services.demo.people import INDUSTRIES
from desktop_app.services.demo.places import DEPARTMENT_KEYS

TEMPLATES_FILE = "templates.toml"

# The slots a story may use: the site's words (places.place_words) and what Generator.slot draws.
SLOTS = frozenset((
    "P", "L", "town0", "gjj", "gjj_window", "hospital", "trips", "town", "v", "area", "dept",
    "village", "relative", "elder", "n", "n2", "n3", "n4", "n5", "year", "year2",
    "year_recent", "month", "money", "project", "kva",
))  # fmt: skip


class TemplateError(ValueError):
    """``templates.toml`` holds something the demo cannot use (a bug in the shipped data)."""


@dataclass(frozen=True)
class Template:
    name: str
    area: str  # "" for a generic template (any area a site added)
    kinds: str  # "p" person, "e" enterprise, "pe" either
    department: str  # key of places.DEPARTMENTS, or "" when no department is to blame
    titles: tuple[str, ...]
    stories: tuple[str, ...]
    natures: tuple[tuple[Nature, float], ...]
    causes: tuple[Cause, ...]  # typical causes of a 很难办 case
    done: tuple[str, ...]
    explain: str = ""
    stuck: tuple[str, ...] = ()
    assist: tuple[str, ...] = ()
    industry: str = ""
    quick: bool = False  # simple enough to be settled on the spot (马上办)
    weight: float = 1.0


@dataclass(frozen=True)
class Stories:
    templates: tuple[Template, ...]  # one per default area at least
    generic: tuple[Template, ...]  # for the areas a site added itself


_TEXTS = ("titles", "stories", "done", "stuck")
_REQUIRED = ("name", "kinds", "natures", "causes", "titles", "stories", "done")
_KNOWN = frozenset(
    (*_REQUIRED, "area", "department", "industry", "quick", "weight", "stuck", "assist", "explain")
)


def _template(raw: dict[str, Any], generic: bool) -> Template:
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise TemplateError(f"{TEMPLATES_FILE}: a template without a name: {raw!r:.80}")

    def fail(problem: str) -> TemplateError:
        return TemplateError(f"{TEMPLATES_FILE}, template “{name}”: {problem}")

    unknown = set(raw) - _KNOWN
    if unknown:
        raise fail(f"unknown fields {sorted(unknown)}")
    missing = [key for key in _REQUIRED if key not in raw]
    if missing:
        raise fail(f"missing fields {missing}")
    area = raw.get("area", "")
    if generic and area:
        raise fail("a generic template serves any area; it has no area of its own")
    if not generic and area not in DEFAULT_AREAS:
        raise fail(f"unknown area “{area}” (one of {'、'.join(DEFAULT_AREAS)})")
    kinds = raw["kinds"]
    if kinds not in ("p", "e", "pe"):
        raise fail(f"kinds “{kinds}” is not p, e or pe")
    department = raw.get("department", "")
    assist = raw.get("assist", [])
    if not isinstance(assist, list):
        raise fail("assist must be a list of department keys")
    for key in ([department] if department else []) + assist:
        if key not in DEPARTMENT_KEYS:
            raise fail(f"unknown department “{key}”")
    industry = raw.get("industry", "")
    if industry and industry not in INDUSTRIES:
        raise fail(f"unknown industry “{industry}”")
    if not isinstance(raw["natures"], dict):
        raise fail("natures must be a table such as { hard = 6, wont = 1 }")
    if not isinstance(raw["causes"], list):
        raise fail("causes must be a list of codes")
    natures: list[tuple[Nature, float]] = []
    for code, weight in raw["natures"].items():
        if code not in Nature._value2member_map_:
            raise fail(f"unknown nature “{code}” (one of {', '.join(n.value for n in Nature)})")
        if not isinstance(weight, int | float) or weight <= 0:
            raise fail(f"nature “{code}” needs a positive weight")
        natures.append((Nature(code), float(weight)))
    if not natures:
        raise fail("no nature")
    causes: list[Cause] = []
    for code in raw["causes"]:
        if code not in Cause._value2member_map_:
            raise fail(f"unknown cause “{code}” (one of {', '.join(c.value for c in Cause)})")
        causes.append(Cause(code))
    texts: dict[str, tuple[str, ...]] = {}
    for key in _TEXTS:
        values = raw.get(key, [])
        if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
            raise fail(f"{key} must be a list of texts")
        if key != "stuck" and not values:
            raise fail(f"{key} is empty")
        texts[key] = tuple(values)
    explain = raw.get("explain", "")
    for text in (*texts["titles"], *texts["stories"], *texts["done"], *texts["stuck"], explain):
        try:
            slots = {field for _, field, _, _ in string.Formatter().parse(text) if field}
        except ValueError as error:
            raise fail(f"broken slot in “{text}”: {error}") from None
        if slots - SLOTS:
            raise fail(f"unknown slot {{{sorted(slots - SLOTS)[0]}}} in “{text}”")
    weight = raw.get("weight", 1.0)
    if not isinstance(weight, int | float) or weight <= 0:
        raise fail("weight must be a positive number")
    return Template(
        name=name,
        area=area,
        kinds=kinds,
        department=department,
        titles=texts["titles"],
        stories=texts["stories"],
        natures=tuple(natures),
        causes=tuple(causes),
        done=texts["done"],
        explain=explain,
        stuck=texts["stuck"],
        assist=tuple(assist),
        industry=industry,
        quick=bool(raw.get("quick", False)),
        weight=float(weight),
    )


def parse_stories(text: str) -> Stories:
    """The templates in ``text`` (the TOML of ``templates.toml``), checked."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise TemplateError(f"{TEMPLATES_FILE}: {error}") from None
    unknown = set(data) - {"template", "generic"}
    if unknown:
        raise TemplateError(f"{TEMPLATES_FILE}: unknown tables {sorted(unknown)}")
    templates = tuple(_template(raw, False) for raw in data.get("template", ()))
    generic = tuple(_template(raw, True) for raw in data.get("generic", ()))
    names = [t.name for t in (*templates, *generic)]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise TemplateError(f"{TEMPLATES_FILE}: template names used twice: {'、'.join(twice)}")
    for kind in ("p", "e"):
        if not any(kind in t.kinds for t in generic):
            raise TemplateError(f"{TEMPLATES_FILE}: no generic template for kind “{kind}”")
    return Stories(templates, generic)


@functools.cache
def stories() -> Stories:
    """The shipped templates, read and checked once per process."""
    text = resources.files(__package__).joinpath(TEMPLATES_FILE).read_text(encoding="utf-8")
    return parse_stories(text)


# ------------------------------------------------------------------------------------------
# Phrases and how often each thing happens
# ------------------------------------------------------------------------------------------

PROJECT_KINDS = (
    "标准化厂房", "农产品冷链物流园", "大蒜深加工", "商住小区", "职业技能实训基地",
    "光伏发电", "农贸市场改造", "电商产业园", "污水处理厂提标改造", "县城供热管网",
)  # fmt: skip
RELATIVES = ("母亲", "父亲", "外甥女", "儿子", "女儿", "爱人", "岳母", "孙子", "侄子")
ELDERS = ("母亲", "父亲", "岳母", "岳父", "婆婆", "公公", "奶奶", "爷爷")

KIND_AREA_WEIGHTS: dict[str, dict[str, float]] = {
    "p": {
        "医保社保": 20, "不动产登记": 15, "住房公积金": 12, "户籍证照": 12, "教育就学": 9,
        "公共服务": 11, "市场准入许可": 7, "营商环境": 3, "工程建设项目审批": 3, "其他": 6,
    },
    "e": {
        "工程建设项目审批": 24, "营商环境": 24, "市场准入许可": 20, "不动产登记": 6,
        "医保社保": 6, "住房公积金": 6, "公共服务": 6, "教育就学": 2, "其他": 6,
    },
}  # fmt: skip
CUSTOM_AREA_WEIGHT = 4.0

CHANNEL_WEIGHTS: dict[str, tuple[tuple[Channel, float], ...]] = {
    "p": (
        (Channel.WINDOW, 55), (Channel.PHONE, 18), (Channel.ONLINE, 10),
        (Channel.RATING_APP, 10), (Channel.REFERRED, 7),
    ),
    "e": (
        (Channel.ENTERPRISE_VISIT, 35), (Channel.WINDOW, 30), (Channel.PHONE, 10),
        (Channel.ONLINE, 12), (Channel.RATING_APP, 3), (Channel.REFERRED, 10),
    ),
}  # fmt: skip

CHANNEL_LEADS: dict[Channel, str] = {
    Channel.WINDOW: "{who}来窗口反映：",
    Channel.PHONE: "{who}来电反映：",
    Channel.ONLINE: "{who}通过网上平台反映：",
    Channel.ENTERPRISE_VISIT: "入企访廉走访中，{who}反映：",
    Channel.RATING_APP: "“你评我督”小程序差评转办，{who}反映：",
    Channel.REFERRED: "市纪委监委“办不成事”监督窗口转办，{who}反映：",
}

GOOD_GRADES = (
    (VisitGrade.VERY_SATISFIED, 40.0), (VisitGrade.SATISFIED, 46.0),
    (VisitGrade.BASICALLY_SATISFIED, 14.0),
)  # fmt: skip
BAD_GRADES = ((VisitGrade.DISSATISFIED, 85.0), (VisitGrade.VERY_DISSATISFIED, 15.0))
REPLY_METHODS = (
    (ReplyMethod.PHONE, 50.0), (ReplyMethod.IN_PERSON, 30.0), (ReplyMethod.SMS, 10.0),
    (ReplyMethod.WRITTEN, 10.0),
)  # fmt: skip
DONE_REPLIES = (
    "已告知当事人办理结果，当事人表示认可",
    "已将办理结果告知当事人",
    "已告知当事人办理结果并致歉",
    "已告知当事人办理进度和结果，当事人表示感谢",
)
EXPLAINED_REPLIES = (
    "已向当事人解释政策依据，当事人表示理解",
    "已向当事人说明不能办的理由并耐心疏导",
    "已向当事人出示部门书面依据并解释，告知可行的替代途径",
)
ACCOUNTABILITY = (
    "对窗口工作人员进行提醒谈话",
    "对相关责任人进行诫勉谈话",
    "责令窗口落实一次性告知制度",
    "对相关责任人进行批评教育",
)
BAD_VISIT_NOTES = (
    "当事人认为答复未解决实际问题",
    "部门承诺的办理时限未兑现",
    "当事人对解释不认可，要求重新办理",
    "问题办结后又出现反复",
)
GOOD_VISIT_NOTES = ("", "", "当事人表示问题已解决", "当事人对窗口工作表示感谢", "事项已落实")
WITHDRAW_REASONS = (
    "当事人表示问题已自行解决",
    "当事人已通过其他途径办理",
    "当事人称暂不需要办理",
    "经沟通解释，当事人理解后主动撤回",
)
RETURN_REASONS = (
    "答复后问题仍未落实",
    "回访后问题出现反弹",
    "部门办理结果与承诺不符",
    "又遇到新的办理障碍",
)
NOTE_TEXTS = (
    "带班领导{leader}前往{stuck}现场督促办理",
    "召开协调会，{dept}{assist}参加，明确办理路径和时限",
    "电话催办{dept}，对方表示正在办理",
    "到{stuck}现场核查，调取办理记录",
)

# Share of cases per final status; the rest are visited (已回访).
# (status key, share, how strongly the status prefers recent cases: log-normal sigma)
# A window closes most matters within weeks, so the open ones are the last few weeks' intake
# (a few percent of two years), with a handful of stragglers that show up as overdue.

# Which grades reopen a case is the case flow's rule (visit_outcome), not the demo's.
if any(visit_outcome(g) is not EventKind.REOPENED for g, _ in BAD_GRADES) or any(
    visit_outcome(g) is not None for g, _ in GOOD_GRADES
):
    raise AssertionError("the demo's visit grades disagree with case_flow.visit_outcome")
