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


class ComplainantKind(LabelledEnum):
    PERSON = "person", "个人"
    ENTERPRISE = "enterprise", "企业"


class CaseStatus(LabelledEnum):
    REGISTERED = "registered", "已登记"
    IN_PROGRESS = "in_progress", "办理中"
    CONCLUDED = "concluded", "已办结"
    VISITED = "visited", "已回访"
    WITHDRAWN = "withdrawn", "已撤回"


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
    POLICY = "policy", "政策"
    MATERIALS = "materials", "材料"
    ATTITUDE = "attitude", "服务态度"
    PROCESS = "process", "办理流程"
    SHIRKING = "shirking", "推诿扯皮"
    DISSATISFIED = "dissatisfied", "群众评价不满意"


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
