"""The department scorecards as an Excel workbook (issue 17), for the office to send on.

Rates are real numbers with a percent format (a reader can sort and sum them), each beside its
numerator and denominator so the figure can be checked; a rate with nothing counted is an empty
cell, not 0 %. The header is frozen and filtered. Written with XlsxWriter in constant-memory mode
like the 台账.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import xlsxwriter  # type: ignore[import-untyped,unused-ignore]

from desktop_app.domain.scoring import DepartmentScore, Scorecard
from desktop_app.domain.statistics import Rate
from desktop_app.files import write_atomically

SHEET_NAME = "部门评分"

# (header, width, value of a row, cell format key)
_Column = tuple[str, int, Callable[[DepartmentScore, Scorecard], Any], str]


def _ratio(rate: Rate) -> float | None:
    return rate.value


COLUMNS: tuple[_Column, ...] = (
    ("排名", 6, lambda r, card: card.rank_of(r.department), "int"),
    ("部门", 24, lambda r, card: r.department, "text"),
    ("收到交办", 9, lambda r, card: r.received, "int"),
    ("已反馈", 8, lambda r, card: r.responded, "int"),
    ("按期办结率", 11, lambda r, card: _ratio(r.on_time), "pct"),
    ("按期办结（件）", 9, lambda r, card: r.on_time.numerator, "int"),
    ("计入（件）", 9, lambda r, card: r.on_time.denominator, "int"),
    ("按原期限办结率", 13, lambda r, card: _ratio(r.on_time_original), "pct"),
    ("超期", 7, lambda r, card: r.late, "int"),
    ("延期", 7, lambda r, card: r.extended, "int"),
    ("退回", 7, lambda r, card: r.returned, "int"),
    ("催办", 7, lambda r, card: r.urged, "int"),
    ("督办", 7, lambda r, card: r.supervised, "int"),
    ("办理用时中位数（工作日）", 12, lambda r, card: r.working_days_median, "int"),
    ("办理用时90%分位（工作日）", 12, lambda r, card: r.working_days_p90, "int"),
    ("满意率", 9, lambda r, card: _ratio(r.satisfaction), "pct"),
    ("满意（件）", 9, lambda r, card: r.satisfaction.numerator, "int"),
    ("回访（件）", 9, lambda r, card: r.satisfaction.denominator, "int"),
    ("问责线索", 9, lambda r, card: r.referrals, "int"),
)
HEADERS = tuple(column[0] for column in COLUMNS)


def write_scorecard_xlsx(card: Scorecard, out: Path) -> None:
    """Writes ``card`` to ``out`` whole or not at all (a few hundred rows: made in memory, then
    written atomically — on a full disk xlsxwriter left an empty file and its unclosed zip
    printed a traceback at exit): one row per department under a frozen, filtered header, and
    the period, the day late was judged on and the ranking rule in notes below."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    try:
        formats = {
            "header": workbook.add_format(
                {"bold": True, "text_wrap": True, "valign": "vcenter", "border": 1}
            ),
            "text": workbook.add_format({}),
            "int": workbook.add_format({"num_format": "0"}),
            "pct": workbook.add_format({"num_format": "0.0%"}),
        }
        sheet = workbook.add_worksheet(SHEET_NAME)
        for index, (header, width, _value, _kind) in enumerate(COLUMNS):
            sheet.set_column(index, index, width)
            sheet.write_string(0, index, header, formats["header"])
        sheet.set_row(0, 32)
        sheet.freeze_panes(1, 0)
        for row_index, row in enumerate(card.rows, start=1):
            for index, (_header, _width, value_of, kind) in enumerate(COLUMNS):
                value = value_of(row, card)
                if value is None:
                    sheet.write_blank(row_index, index, None, formats[kind])
                elif kind == "text":
                    sheet.write_string(row_index, index, str(value), formats[kind])
                else:
                    sheet.write_number(row_index, index, value, formats[kind])
        last = len(card.rows)
        sheet.autofilter(0, 0, max(last, 1), len(COLUMNS) - 1)
        for offset, note in enumerate(notes(card), start=last + 2):
            sheet.write_string(offset, 0, note)
    finally:
        workbook.close()
    write_atomically(out, buffer.getvalue())


def notes(card: Scorecard) -> list[str]:
    """What the numbers mean, in the words a reader needs to check them."""
    return [
        f"统计期间：{card.period_from:%Y-%m-%d} 至 {card.period_to:%Y-%m-%d}（按交办单签发日期）；"
        f"超期按 {card.today:%Y-%m-%d} 判断。",
        "按期办结率 = 期限内反馈的交办 ÷（已反馈 + 未反馈且已过期限的交办）；"
        "期限为批准延期后的期限，按原期限办结率以原定期限计算。",
        "满意率 = 回访满意、基本满意、非常满意的事项 ÷ 已回访事项（部门牵头办理的事项）。",
        f"排名按按期办结率，收到交办少于 {card.minimum_volume} 件的部门不参加排名。",
    ]
