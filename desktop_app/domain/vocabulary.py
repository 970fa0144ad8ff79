"""The words of the window (DESIGN.md §2): stable codes in English, labels in Chinese.

Codes are what the database, the CLI's JSON and bundles carry; labels are what people read.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal, Self


class LabelledEnum(StrEnum):
    """A string enum whose members carry a Chinese label."""

    label: str

    def __new__(cls, code: str, label: str = "") -> Self:
        member = str.__new__(cls, code)
        member._value_ = code
        member.label = label
        return member

    @classmethod
    def from_label(cls, label: str) -> Self:
        for member in cls:
            if member.label == label or member.value == label:
                return member
        raise ValueError(label)

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]


class SiteLevel(LabelledEnum):
    COUNTY = "county", "县区窗口"
    CITY = "city", "市级窗口"


class Role(LabelledEnum):
    CLERK = "clerk", "受理员"
    DUTY_LEADER = "duty_leader", "带班领导"
    ADMIN = "admin", "管理员"
    AUDITOR = "auditor", "纪检审计"
    # 纪检监察: records the decision and measure of an accountability referral, nothing else
    # (issue 16); the auditor above stays read-only.
    DISCIPLINE = "discipline", "纪检监察"


class ComplainantKind(LabelledEnum):
    PERSON = "person", "个人"
    ENTERPRISE = "enterprise", "企业"


class CaseStatus(LabelledEnum):
    REGISTERED = "registered", "已登记"
    IN_PROGRESS = "in_progress", "办理中"
    CONCLUDED = "concluded", "已办结"
    VISITED = "visited", "已回访"
    WITHDRAWN = "withdrawn", "已撤回"
    # Ended at screening (甄别): out of scope, with a printed notice; never counted as concluded.
    SCREENED_OUT = "screened_out", "不予受理/已转办"


OPEN_STATUSES: frozenset[CaseStatus] = frozenset({CaseStatus.REGISTERED, CaseStatus.IN_PROGRESS})


class Nature(LabelledEnum):
    WONT = "wont", "不给办"
    HARD = "hard", "很难办"
    CANT = "cant", "办不了"


NATURE_HINTS: dict[Nature, str] = {
    Nature.WONT: "人为因素：服务态度、推诿、冷硬推",
    Nature.HARD: "政策障碍、需多部门协调、缺失材料",
    Nature.CANT: "政策不允许，需书面依据并解释",
}


class Approach(LabelledEnum):
    IMMEDIATE = "immediate", "马上办"
    PUSH = "push", "推动办"
    ORDER = "order", "责成办"
    SUPERVISE = "supervise", "监督办"


APPROACH_HINTS: dict[Approach, str] = {
    Approach.IMMEDIATE: "符合政策马上办",
    Approach.PUSH: "疑难复杂推动办",
    Approach.ORDER: "推诿扯皮责成办",
    Approach.SUPERVISE: "应办不办监督办",
}


class Cause(LabelledEnum):
    """The six causes the first release recorded; kept so old records and bundles read. New
    records use the cause codes below (reference data, ``DEFAULT_CAUSE_CODES``)."""

    POLICY = "policy", "政策"
    MATERIALS = "materials", "材料"
    ATTITUDE = "attitude", "服务态度"
    PROCESS = "process", "办理流程"
    SHIRKING = "shirking", "推诿扯皮"
    DISSATISFIED = "dissatisfied", "群众评价不满意"


# Causes as the seeds diagnose them (开封: 作风不实、政策不明、职责不清、流程不优; 湘江新区: 政策、
# 材料、服务态度、办理流程 …). Stable codes, so a city adds up its counties; the list is reference
# data the city sends down (table ``cause_codes``), these are what a new site starts with.
DEFAULT_CAUSE_CODES: tuple[tuple[str, str], ...] = (
    ("C01", "作风不实"),
    ("C02", "政策不明"),
    ("C03", "职责不清"),
    ("C04", "流程不优"),
    ("C05", "材料繁杂"),
    ("C06", "一次性告知不到位"),
    ("C07", "服务态度差"),
    ("C08", "推诿扯皮"),
    ("C09", "系统数据问题"),
    ("C10", "历史遗留问题"),
    ("C11", "政策障碍"),
    ("C12", "群众评价不满意"),
)

# Today's six causes onto the codes above (migration 0012 rewrites stored ones with this).
CAUSE_CODE_OF: dict[Cause, str] = {
    Cause.POLICY: "C02",
    Cause.MATERIALS: "C05",
    Cause.ATTITUDE: "C07",
    Cause.PROCESS: "C04",
    Cause.SHIRKING: "C08",
    Cause.DISSATISFIED: "C12",
}


class ScreeningDecision(LabelledEnum):
    """How a matter out of scope ends at the door (甄别)."""

    NOT_ACCEPTED = "not_accepted", "不予受理"
    TRANSFERRED = "transferred", "已转办"


class ProperChannel(LabelledEnum):
    """Where a matter out of scope belongs."""

    PETITION = "petition", "信访"
    LITIGATION = "litigation", "诉讼"
    ARBITRATION = "arbitration", "仲裁"
    HOTLINE = "hotline", "12345热线"
    NOT_SERVICE = "not_service", "非政务服务办事问题"
    OTHER = "other", "其他渠道"


class Conduct(LabelledEnum):
    """What the official or window complained about did (for accountability and statistics)."""

    WONT = "wont", "不给办"
    COLD = "cold", "冷硬推"
    SHIRK = "shirk", "推诿扯皮"
    GRAFT = "graft", "吃拿卡要"
    INDIFFERENT = "indifferent", "态度冷漠"
    NO_NOTICE = "no_notice", "一次性告知不到位"
    INACTION = "inaction", "不作为"
    SLOW = "slow", "慢作为"
    MISCONDUCT = "misconduct", "乱作为"
    NO_RESPONSIBILITY = "no_responsibility", "不担当"


class ReferralRecipient(LabelledEnum):
    DISCIPLINE_ORGAN = "discipline_organ", "纪检监察机关"
    STATIONED_GROUP = "stationed_group", "派驻纪检监察组"
    UNIT = "unit", "所在单位"


class ReferralState(LabelledEnum):
    PROPOSED = "proposed", "拟移交"
    SENT = "sent", "已移交"
    DECIDED = "decided", "已处理"
    DROPPED = "dropped", "不予移交"


class Measure(LabelledEnum):
    """A referral's decision: the measures of accountability, and the outcomes that protect
    cadres as well (湘江新区's 五位一体: 容错纠错、澄清正名、关爱回访)."""

    REMINDER_TALK = "reminder_talk", "提醒谈话"
    CRITICISM = "criticism", "批评教育"
    ADMONITION = "admonition", "诫勉谈话"
    CIRCULAR = "circular", "通报批评"
    SELF_EXAMINATION = "self_examination", "责令检查"
    ORGANIZATIONAL = "organizational", "组织处理"
    INVESTIGATION = "investigation", "移送审查调查"
    FAULT_TOLERANCE = "fault_tolerance", "容错纠错"
    CLEARED = "cleared", "澄清正名"
    CARE_VISIT = "care_visit", "关爱回访"
    NO_LIABILITY = "no_liability", "经核查不予问责"

    @property
    def protects(self) -> bool:
        """An outcome that protects the cadre rather than holding them to account."""
        return self in (
            Measure.FAULT_TOLERANCE,
            Measure.CLEARED,
            Measure.CARE_VISIT,
            Measure.NO_LIABILITY,
        )


class FixKind(LabelledEnum):
    """The systemic fix of a class of matters (一件事→一类事)."""

    RULE_REVISED = "rule_revised", "修订制度规定"
    MATERIALS_LIST = "materials_list", "出台一次性告知材料清单"
    PROCESS_SHORTENED = "process_shortened", "优化压缩办理流程"
    SYSTEM_FIXED = "system_fixed", "修复信息系统"
    RESPONSIBILITY_SET = "responsibility_set", "明确职责分工"
    OTHER = "other", "其他"


# Campaigns a case can belong to (for the bulletins); a site may add its own (setting).
DEFAULT_CAMPAIGNS: tuple[str, ...] = (
    "我为群众办实事",
    "入企访廉",
    "作风建设年",
    "纪委帮企解难题",
    "你评我督",
)


class Channel(LabelledEnum):
    WINDOW = "window", "窗口来访"
    PHONE = "phone", "电话"
    ONLINE = "online", "网上"
    ENTERPRISE_VISIT = "enterprise_visit", "入企访廉"
    RATING_APP = "rating_app", "评价小程序"
    REFERRED = "referred", "上级转办"


class Outcome(LabelledEnum):
    DONE = "done", "办成"
    EXPLAINED = "explained", "不能办(已解释)"
    WITHDRAWN = "withdrawn", "撤回"


class ReplyMethod(LabelledEnum):
    IN_PERSON = "in_person", "当面答复"
    PHONE = "phone", "电话答复"
    WRITTEN = "written", "书面答复"
    SMS = "sms", "短信答复"


class VisitGrade(LabelledEnum):
    VERY_SATISFIED = "very_satisfied", "非常满意"
    SATISFIED = "satisfied", "满意"
    BASICALLY_SATISFIED = "basically_satisfied", "基本满意"
    DISSATISFIED = "dissatisfied", "不满意"
    VERY_DISSATISFIED = "very_dissatisfied", "非常不满意"

    @property
    def reopens(self) -> bool:
        return self in (VisitGrade.DISSATISFIED, VisitGrade.VERY_DISSATISFIED)


class VisitReason(LabelledEnum):
    """Why the person graded the way they did (回访核查's reason codes)."""

    SOLVED = "solved", "问题已解决"
    FAST = "fast", "办理及时"
    GOOD_ATTITUDE = "good_attitude", "态度热情"
    NOT_SOLVED = "not_solved", "问题未解决"
    LATE = "late", "办理超时"
    BAD_ATTITUDE = "bad_attitude", "态度不好"
    MORE_TRIPS = "more_trips", "仍需多次往返"
    NOT_EXPLAINED = "not_explained", "解释不清楚"
    OTHER = "other", "其他"


class VisitContact(LabelledEnum):
    """One attempt to reach the person for the return visit."""

    REACHED = "reached", "已联系上"
    NO_ANSWER = "no_answer", "无人接听"
    UNREACHABLE = "unreachable", "无法接通/空号"
    REFUSED = "refused", "拒绝回访"


# Areas (领域) are configurable per site; these are the defaults a new site starts with.
DEFAULT_AREAS: tuple[str, ...] = (
    "工程建设项目审批",
    "营商环境",
    "不动产登记",
    "医保社保",
    "住房公积金",
    "市场准入许可",
    "户籍证照",
    "教育就学",
    "公共服务",
    "其他",
)


def chinese_date(day: date, *, parts: Literal["date", "date_time", "time"] = "date") -> str:
    """The date as official Chinese documents write it: 2026年12月2日 (no zero padding, as
    GB/T 9704-2012 writes dates). The one formatter for screens and papers alike.

    ``parts="date_time"`` adds the time as the 受理回执 prints it, 2026年11月25日9时30分 (the hour
    unpadded, the minute two digits); ``parts="time"`` gives that time alone, 9时30分 (the 补打
    stamp puts it on a line of its own). Both need a datetime.
    """
    written = f"{day.year}年{day.month}月{day.day}日"
    if parts == "date":
        return written
    if not isinstance(day, datetime):
        raise TypeError(f"{day!r} has no time of day")
    time = f"{day.hour}时{day.minute:02d}分"
    return time if parts == "time" else written + time
