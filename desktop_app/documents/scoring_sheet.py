"""量化管理评分表: the quantified scoring sheet the inspectors fill (issue 17), one A4 page per
department, typeset like the slips (the same 版心, fonts and typesetter).

The items are the administrator's template; the computed ones come filled in with the rate they
rest on (e.g. 66.7%（2/3）) so the inspector can check them, the others are left blank for the
inspector, and the total is left blank too (it needs the inspector's items). Content is a plain
:class:`ScoringSheetContent`; this module only draws it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped,unused-ignore]
from reportlab.lib.units import mm  # type: ignore[import-untyped,unused-ignore]
from reportlab.platypus import (  # type: ignore[import-untyped,unused-ignore]
    Flowable,
    PageBreak,
    Spacer,
    Table,
    TableStyle,
)

from desktop_app.documents.fonts import register_fonts
from desktop_app.documents.slip_pdf import (
    BLACK,
    BOTTOM_MARGIN,
    LEFT_MARGIN,
    PAGE_NUMBER_BASELINE,
    PAGE_NUMBER_SIZE,
    RIGHT_MARGIN,
    TOP_MARGIN,
    _build,
    _Text,
    _Typesetter,
    _write_out,
    page_number_position,
)
from desktop_app.domain.scoring import NOT_APPLICABLE, SheetLine

__all__ = ["SHEET_TITLE", "WINDOW_TITLE", "ScoringSheetContent", "render_scoring_sheets"]

SHEET_TITLE = "“办不成事”工作量化管理评分表"
WINDOW_TITLE = "“办不成事”监督窗口量化管理评分表"
SPOT_CHECKS = 3  # the window's sheet: rows for the matters the inspectors call back
CELL_SIZE = 12.0  # 小四
CELL_LEADING = 18.0
BLANK_BASIS = "由检查人员评定"


@dataclass(frozen=True)
class ScoringSheetContent:
    issuer: str  # 杞县纪委监委“办不成事”监督窗口
    department: str
    period_from: date
    period_to: date
    judged_on: date  # the day "late" was judged on
    lines: tuple[SheetLine, ...]
    made_at: datetime
    # The window's own sheet (its figures the 分析通报's), with rows for the call-backs.
    window: bool = False

    @property
    def full_points(self) -> float:
        return sum(line.item.points for line in self.lines)

    @property
    def computed_subtotal(self) -> float | None:
        """The computed items' scores added up; None when none could be computed."""
        scores = [line.score for line in self.lines if line.score is not None]
        return round(sum(scores), 1) if scores else None


def _day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _points(value: float) -> str:
    return f"{value:g}"


class _SheetLayout:
    def __init__(self, sheets: Sequence[ScoringSheetContent]) -> None:
        self.sheets = sheets
        self.fonts = register_fonts()
        self.setter = _Typesetter(self.fonts)
        self.page_width, self.page_height = (float(v) for v in A4)
        self.frame_width = self.page_width - LEFT_MARGIN - RIGHT_MARGIN

    def text(self, text: str, *, font: str | None = None, align: str = "left") -> _Text:
        return _Text(self.setter, text, font or self.fonts.body, CELL_SIZE, CELL_LEADING, align)

    def story(self) -> list[Flowable]:
        story: list[Flowable] = []
        for index, sheet in enumerate(self.sheets):
            if index:
                story.append(PageBreak())
            story.extend(self.sheet(sheet))
        return story

    def sheet(self, sheet: ScoringSheetContent) -> list[Flowable]:
        fonts, setter = self.fonts, self.setter
        title = WINDOW_TITLE if sheet.window else SHEET_TITLE
        title_size = setter.fit(title, fonts.title, 22.0, self.frame_width, 16.0)
        heading = fonts.heading or fonts.body
        period = f"{_day(sheet.period_from)}至{_day(sheet.period_to)}"
        if sheet.window:
            note = (
                "说明：计算项按统计分析通报的口径由系统填入（得分＝分值×比率，比率后为件数），"
                f"统计期内受理的事项及其交办，超期按{sheet.judged_on:%Y-%m-%d}判断。"
                "检查人员抽查回访后可据实调整满意率得分；其余项目由检查人员评定，合计在评定后填写。"
            )
        else:
            note = (
                "说明：计算项由系统按交办记录填入（得分 = 分值 × 比率，比率后为件数），"
                f"超期按 {sheet.judged_on:%Y-%m-%d} 判断；按期办结率的分母含未反馈且已过期限的"
                "交办。其余项目由检查人员评定，合计在评定后填写。"
            )
        spot_checks: list[Flowable] = (
            [Spacer(1, 4 * mm), self.text("抽查回访记录", font=heading), self.spot_checks(heading)]
            if sheet.window
            else []
        )
        return [
            _Text(setter, title, fonts.title, title_size, title_size * 1.6, "center"),
            Spacer(1, 3 * mm),
            self.text(f"被评单位：{sheet.department}"),
            self.text(f"评分期间：{period}"),
            Spacer(1, 3 * mm),
            self.table(sheet, heading),
            *spot_checks,
            Spacer(1, 4 * mm),
            _Text(setter, note, fonts.body, 10.5, 16.0, "justify"),
            Spacer(1, (7 if sheet.window else 10) * mm),
            self.text(
                "检查人员（签字）：\u3000\u3000\u3000\u3000\u3000\u3000\u3000\u3000"
                "被评单位负责人（签字）："
            ),
            Spacer(1, 6 * mm),
            self.text("评分日期：\u3000\u3000\u3000\u3000年\u3000\u3000月\u3000\u3000日"),
        ]

    def spot_checks(self, heading: str) -> Table:
        """Blank rows for the matters the inspectors pick from the 登记簿 and call back."""
        widths = [14 * mm, 40 * mm, 30 * mm, 36 * mm]
        widths.append(self.frame_width - sum(widths))
        head = ["序号", "事项编号", "反映人", "回访评价", "备注"]
        rows: list[list[Any]] = [[self.text(h, font=heading, align="center") for h in head]]
        for number in range(1, SPOT_CHECKS + 1):
            rows.append(
                [self.text(str(number), align="center"), *(self.text("") for _ in head[1:])]
            )
        return Table(
            rows,
            colWidths=widths,
            style=TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.75, BLACK),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("TOPPADDING", (0, 0), (-1, -1), 1.5 * mm),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5 * mm),
                ]
            ),
        )

    def table(self, sheet: ScoringSheetContent, heading: str) -> Table:
        widths = [12 * mm, 70 * mm, 14 * mm, 16 * mm]
        widths.append(self.frame_width - sum(widths))
        head = ["序号", "评分项目", "分值", "得分", "计分依据"]
        rows: list[list[Any]] = [[self.text(h, font=heading, align="center") for h in head]]
        for number, line in enumerate(sheet.lines, start=1):
            score = "" if line.score is None else _points(line.score)
            basis = line.basis if line.item.measure is not None else BLANK_BASIS
            measure = line.item.measure
            if (
                measure is not None
                and line.basis != NOT_APPLICABLE
                and measure.label not in line.item.name
            ):
                basis = f"{measure.label} {basis}"  # the item's own name does not say it
            rows.append(
                [
                    self.text(str(number), align="center"),
                    self.text(line.item.name),
                    self.text(_points(line.item.points), align="center"),
                    self.text(score, align="center"),
                    self.text(basis),
                ]
            )
        subtotal = sheet.computed_subtotal
        rows.append(
            [
                self.text(""),
                self.text("计算项小计", font=heading),
                self.text(""),
                self.text("" if subtotal is None else _points(subtotal), align="center"),
                self.text(""),
            ]
        )
        rows.append(
            [
                self.text(""),
                self.text("合计", font=heading),
                self.text(_points(sheet.full_points), align="center"),
                self.text(""),
                self.text(""),
            ]
        )
        return Table(
            rows,
            colWidths=widths,
            repeatRows=1,
            style=TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.75, BLACK),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 1.5 * mm),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 1.5 * mm),
                    # The window's sheet has more items and the call-back rows: one page.
                    ("TOPPADDING", (0, 0), (-1, -1), (1.2 if sheet.window else 2) * mm),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), (1.2 if sheet.window else 2) * mm),
                ]
            ),
        )

    def on_page(self, canvas: Any, doc: Any) -> None:
        page = canvas.getPageNumber()
        x, align = page_number_position(page, self.page_width)
        self.setter.draw(
            canvas, x, PAGE_NUMBER_BASELINE, f"— {page} —", self.fonts.body, PAGE_NUMBER_SIZE, align
        )


def render_scoring_sheets(
    sheets: Sequence[ScoringSheetContent], *, out: Path | None = None
) -> bytes:
    """One scoring sheet a page, as an A4 PDF (also written to ``out``, whole or not at all).

    Raises :class:`~desktop_app.documents.slip_pdf.UnprintableCharacters` if a character cannot
    be printed (nothing written)."""
    if not sheets:
        raise ValueError("no sheets")
    layout = _SheetLayout(sheets)
    first = sheets[0]
    data = _build(
        layout.story(),
        pagesize=(layout.page_width, layout.page_height),
        margins=(TOP_MARGIN, RIGHT_MARGIN, BOTTOM_MARGIN, LEFT_MARGIN),
        on_page=layout.on_page,
        fonts=layout.fonts,
        title=WINDOW_TITLE if first.window else SHEET_TITLE,
        author=first.issuer,
        subject=f"{first.period_from:%Y-%m-%d}至{first.period_to:%Y-%m-%d}",
        stamp=first.made_at,
    )
    if out is not None:
        _write_out(Path(out), data)
    return data
