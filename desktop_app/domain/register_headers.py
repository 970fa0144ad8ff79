"""The old Excel 台账's columns and cells, as offices write them (issue 17, bringing it in).

Pure rules, no file reading: which header means which field (序号, 受理日期, 反映人 …), where
the header row is (title rows and merged titles above it), how a date is written (a date
cell, an Excel serial number, 2023-5-6, 2023/05/06, 2023年5月6日, 2023.5.6, full-width
digits), and what state a row's result and return-visit columns describe.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from desktop_app.domain.intake_rules import FIELD_LABELS
from desktop_app.domain.vocabulary import Outcome, VisitGrade

# Field code → its Chinese name, as the mapping combo and ``--map`` show it. The intake form's
# fields first, then what only a historical row has.
FIELDS: dict[str, str] = {
    "received_at": "受理日期",
    "name": "反映人",
    "complainant_type": "反映人类型",
    # The intake form's own names for the fields a register calls the same.
    **{
        code: FIELD_LABELS[code]
        for code in (
            "id_number",
            "credit_code",
            "contact_person",
            "phone",
            "address",
            "title",
            "description",
            "area",
            "channel",
            "stuck_at",
            "visits_count",
            "id_override_reason",
        )
    },
    "respondent_name": "被反映人",
    "respondent_unit": FIELD_LABELS["respondent_unit"],
    "campaign": FIELD_LABELS["campaign"],
    "department": "承办单位",
    "result": "办理结果",
    "concluded_on": "办结日期",
    "visit": "回访/满意度",
    "original_number": "原编号",
    "row_number": "序号",
    "ignore": "忽略（不导入）",
}
IGNORE = "ignore"
# Columns that say nothing the program keeps (a row's running number is re-made by the sheet).
SKIPPED_FIELDS = frozenset({IGNORE, "row_number"})

# Headers as offices write them (after :func:`header_key`) → field.
_ALIASES: dict[str, tuple[str, ...]] = {
    "row_number": ("序号", "序", "编码序号"),
    "received_at": (
        "受理日期",
        "受理时间",
        "反映时间",
        "反映日期",
        "登记日期",
        "登记时间",
        "来访日期",
        "来访时间",
        "日期",
    ),
    "name": ("反映人", "反映人姓名", "姓名", "当事人", "来访人", "反映人名称", "姓名名称"),
    "complainant_type": ("反映人类型", "类型", "个人企业"),
    "id_number": ("身份证号", "身份证号码", "身份证", "证件号码", "公民身份号码"),
    # An ID whose check digit fails, confirmed from the card (a walk's real one could never come
    # in: the message asked for a column the import did not know).
    "id_override_reason": ("证件号确认理由", "确认理由", "身份证确认理由"),
    "credit_code": ("统一社会信用代码", "信用代码"),
    "contact_person": ("联系人", "企业联系人"),
    "phone": ("联系电话", "电话", "联系方式", "手机号", "手机号码", "手机"),
    "address": ("地址", "住址", "家庭住址", "联系地址"),
    "title": ("反映事项", "事项", "反映问题", "问题", "事项名称", "诉求事项"),
    "description": ("具体情况", "反映内容", "问题描述", "主要内容", "具体内容", "诉求内容"),
    "area": ("领域", "所属领域", "问题领域"),
    "channel": ("来源渠道", "渠道", "来源", "反映渠道", "反映方式"),
    "stuck_at": ("受阻环节", "卡点环节"),
    "visits_count": ("往返次数", "来访次数", "跑腿次数"),
    "respondent_name": ("被反映人", "被反映人姓名"),
    "respondent_unit": ("被反映单位", "被反映人单位"),
    "campaign": ("专项活动",),
    "department": ("承办单位", "责任单位", "交办单位", "承办部门", "责任部门"),
    "result": ("办理结果", "结果", "办理情况", "办结情况", "处理结果", "办理状态", "状态"),
    "concluded_on": ("办结日期", "办结时间", "完成日期"),
    "visit": ("回访", "满意度", "回访情况", "回访结果", "回访满意度", "群众满意度"),
    "original_number": ("原编号", "编号", "案件编号", "登记编号", "事项编号", "台账编号"),
}
_BY_HEADER: dict[str, str] = {alias: field for field, names in _ALIASES.items() for alias in names}
_PARENTHESES = re.compile(r"[（(][^）)]*[）)]")
_NOISE = re.compile(r"[\s*＊:：]+")
# Title rows above the header are searched this far down.
HEADER_SEARCH_ROWS = 20


def header_key(text: str) -> str:
    """A header as compared: NFKC (full-width letters and digits), no spaces, stars or colons."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", text))


def recognise(header: str) -> str | None:
    """The field a header names, or None (联系电话（手机） is 联系电话)."""
    key = header_key(header)
    return _BY_HEADER.get(key) or _BY_HEADER.get(_PARENTHESES.sub("", key))


def field_for(name: str) -> str | None:
    """The field ``--map`` names by its code (phone) or Chinese name (联系电话), or None."""
    wanted = header_key(name)
    if wanted in FIELDS:
        return wanted
    for code, label in FIELDS.items():
        if wanted in (header_key(label), _PARENTHESES.sub("", header_key(label))):
            return code
    return recognise(name)


def find_header_row(rows: Sequence[Sequence[object]]) -> int | None:
    """Index of the row most of whose cells are known headers (at least two), among the first
    rows: a merged title or a 填报单位 line above it recognises one cell at most."""
    best, best_score = None, 1
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        score = sum(1 for cell in row if isinstance(cell, str) and recognise(cell))
        if score > best_score:
            best, best_score = index, score
    return best


def signature(headers: Sequence[str]) -> str:
    """The file layout's fingerprint: its headers in order (a remembered mapping's key)."""
    joined = "\x1f".join(header_key(h) for h in headers)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:16]


# Cells ------------------------------------------------------------------------------------------

_EXCEL_EPOCH = datetime(1899, 12, 30)
_DATE_TEXT = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[\sT]*(\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2}))?秒?)?"
)
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")


class CellProblem(ValueError):
    """A cell that cannot be read as what its column holds; the message is in Chinese."""


def text_of(value: object) -> str:
    """A cell as text: a whole number stored as a number (a phone typed into a number cell) loses
    its ``.0``; dates as ISO text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def number_text(value: object, label: str) -> str:
    """An ID number, phone or credit code: NFKC (full-width digits), no spaces. An 18-digit ID
    stored as a number cell has lost its last digits to Excel and is refused."""
    if isinstance(value, float) and abs(value) >= 1e15:
        raise CellProblem(f"{label}被 Excel 存成了数字，末几位已丢失；请把该列设为文本后重新录入")
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text_of(value)))


def date_of(value: object) -> datetime | None:
    """A date as offices write it; None for an empty cell; CellProblem for anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        if number.is_integer() and 19000101 <= number <= 29991231:
            return _compact(str(int(number)), str(value))
        if 1 <= number < 2958466:  # Excel's serial days (1900 date system); 9999-12-31 last
            return _EXCEL_EPOCH + timedelta(days=number)
        raise CellProblem(f"“{value}”不是有效日期")
    text = unicodedata.normalize("NFKC", str(value)).strip()
    found = _DATE_TEXT.fullmatch(text)
    if found:
        year, month, day, hour, minute, second = (int(g) if g else 0 for g in found.groups())
        try:
            return datetime(year, month, day, hour, minute, second)
        except ValueError:
            raise CellProblem(f"“{text[:40]}”不是有效日期") from None
    if _COMPACT_DATE.fullmatch(text):
        return _compact(text, text)
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return date_of(float(text))
    raise CellProblem(f"“{text[:40]}”不是有效日期（可写 2023-5-6、2023/05/06、2023年5月6日）")


def _compact(digits: str, shown: str) -> datetime:
    found = _COMPACT_DATE.fullmatch(digits)
    try:
        if found is None:
            raise ValueError(digits)
        return datetime(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        raise CellProblem(f"“{shown}”不是有效日期") from None


# What a row's result says -----------------------------------------------------------------------


class HistoricalState(StrEnum):
    """Where an old case stands, as its result columns say."""

    OPEN = "open"  # 办理中: stays open in this program, to be disposed of here
    DONE = "done"  # 办结 / 办成
    EXPLAINED = "explained"  # 不能办，已解释
    WITHDRAWN = "withdrawn"  # 撤回

    @property
    def outcome(self) -> Outcome | None:
        return {
            HistoricalState.DONE: Outcome.DONE,
            HistoricalState.EXPLAINED: Outcome.EXPLAINED,
            HistoricalState.WITHDRAWN: Outcome.WITHDRAWN,
        }.get(self)


_OPEN_WORDS = ("办理中", "在办", "未办结", "正在", "未完成", "待办", "未解决", "推进中")
_WITHDRAWN_WORDS = ("撤回", "撤销", "撤诉")
_EXPLAINED_WORDS = ("不能办", "解释", "办不了", "不予", "无法办理")
_DONE_WORDS = ("办结", "办成", "已办", "解决", "完成", "已处理", "已落实", "结案")
# Longest first: 非常不满意 before 不满意 before 满意.
_GRADES = sorted(VisitGrade, key=lambda g: -len(g.label))
_VISITED_WORDS = ("已回访", "回访", "已核查")
_NOT_VISITED_WORDS = ("无", "否", "-", "—")
# "尚未回访", "未回访，电话空号", "联系不上": said in many ways, none of them a visit.
_NOT_VISITED = re.compile(
    r"(未|尚未|暂未|没有|没|待|无法)(回访|联系上|接通|核查)|空号|联系不上|无人接听"
)
# "无法解决", "未能办结": says what did not happen, not whether the matter was closed or is still
# being handled — asked, not guessed (a guess of 办成 would flatter the 办成率).
_NOT_DONE = re.compile(r"(无法|未能|没有|不能|没)(解决|办结|办成|完成|落实|处理)")


def state_of(result: str, concluded: bool) -> HistoricalState:
    """The state a result cell describes; an empty one is 办结 when a 办结日期 is given, else
    办理中. CellProblem for a result that says none of these."""
    text = unicodedata.normalize("NFKC", result).strip()
    if not text:
        return HistoricalState.DONE if concluded else HistoricalState.OPEN
    if _NOT_DONE.search(text) and not any(word in text for word in _OPEN_WORDS):
        raise CellProblem(
            f"“{text[:40]}”看不出是已办结（不能办、已解释）还是仍在办理：请改写为“已解释，不能办”"
            "或“办理中”"
        )
    for words, state in (
        (_OPEN_WORDS, HistoricalState.OPEN),
        (_WITHDRAWN_WORDS, HistoricalState.WITHDRAWN),
        (_EXPLAINED_WORDS, HistoricalState.EXPLAINED),
        (_DONE_WORDS, HistoricalState.DONE),
    ):
        if any(word in text for word in words):
            return state
    raise CellProblem(
        f"“{text[:40]}”看不出办理状态，应含“办结/办成”“不能办/已解释”“撤回”或“办理中”"
    )


@dataclass(frozen=True)
class VisitRecord:
    visited: bool
    grade: VisitGrade | None


def visit_of(text: str) -> VisitRecord:
    """A 回访/满意度 cell: a grade (满意 …), 已回访 without one, or nothing."""
    clean = unicodedata.normalize("NFKC", text).strip()
    if not clean or clean in _NOT_VISITED_WORDS or _NOT_VISITED.search(clean):
        return VisitRecord(False, None)
    for grade in _GRADES:
        if grade.label in clean:
            return VisitRecord(True, grade)
    if any(word in clean for word in _VISITED_WORDS):
        return VisitRecord(True, None)
    allowed = "、".join(g.label for g in VisitGrade)
    raise CellProblem(f"“{clean[:40]}”应为满意度（{allowed}）或“已回访”")
