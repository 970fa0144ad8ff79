"""分析通报: the numbered analysis bulletin (issue 17), A4 in the GB/T 9704 layout of the slips.

A red 版头 (the office's line and 分析通报), 〔年〕第N期 and a red rule, the title, then sections
of text, tables (which break across pages and repeat their header row) and charts (bars, pie,
month trend, drawn by reportlab.graphics in the same fonts); the formulas in a closing note
and the 版记. Content is a plain :class:`BulletinContent` the statistics service makes; this
module only draws it, with the minutes' and slips' typesetting (one set of helpers).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from reportlab.graphics.charts.barcharts import (  # type: ignore[import-untyped,unused-ignore]
    HorizontalBarChart,
)
from reportlab.graphics.charts.linecharts import (  # type: ignore[import-untyped,unused-ignore]
    HorizontalLineChart,
)
from reportlab.graphics.charts.piecharts import Pie  # type: ignore[import-untyped,unused-ignore]
from reportlab.graphics.shapes import (  # type: ignore[import-untyped,unused-ignore]
    Drawing,
    Rect,
    String,
)
from reportlab.lib.colors import HexColor  # type: ignore[import-untyped,unused-ignore]
from reportlab.lib.units import mm  # type: ignore[import-untyped,unused-ignore]
from reportlab.pdfbase.pdfmetrics import stringWidth  # type: ignore[import-untyped,unused-ignore]
from reportlab.platypus import (  # type: ignore[import-untyped,unused-ignore]
    Flowable,
    Spacer,
    Table,
    TableStyle,
)

from desktop_app.documents.fonts import missing_glyphs
from desktop_app.documents.minutes_pdf import _MinutesLayout, _Red, _RedRule
from desktop_app.documents.slip_pdf import (
    BLACK,
    BOTTOM_MARGIN,
    LEFT_MARGIN,
    RIGHT_MARGIN,
    TOP_MARGIN,
    _AtBottom,
    _build,
    _Text,
    _write_out,
)

__all__ = [
    "BULLETIN_MARK",
    "BulletinChart",
    "BulletinContent",
    "BulletinTable",
    "render_bulletin",
]

BULLETIN_MARK = "分析通报"
INDENT = "\u3000\u3000"
TABLE_SIZE = 10.5  # 五号: tables and notes
TABLE_LEADING = 14.0
HEADER_FILL = HexColor("#EDEDED")
# Muted, print-safe series colours (they also read in greyscale by lightness).
PALETTE = ("#1F4E79", "#C0392B", "#7F8C8D", "#D68910", "#1E8449", "#6C3483", "#A9CCE3")


@dataclass(frozen=True)
class BulletinTable:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""
    widths: tuple[float, ...] = ()  # shares of the width; equal when empty


@dataclass(frozen=True)
class BulletinChart:
    kind: str  # bar | pie | line
    title: str
    labels: tuple[str, ...]
    values: tuple[float, ...]


Block = str | BulletinTable | BulletinChart  # a paragraph, a table or a chart


@dataclass(frozen=True)
class BulletinSection:
    heading: str  # 一、总体情况
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class BulletinContent:
    number: str  # 〔2026〕第3期
    issuer: str
    title: str
    period_text: str
    issued_at: datetime
    sections: tuple[BulletinSection, ...]
    notes: tuple[str, ...] = ()  # 说明: the formulas
    masthead: str = ""
    preview: bool = False  # 预览: no number taken yet

    def text(self) -> str:
        """Everything printed, for the check that every character can be drawn."""
        parts = [self.number, self.issuer, self.title, self.period_text, self.masthead]
        parts += self.notes
        for section in self.sections:
            parts.append(section.heading)
            for block in section.blocks:
                if isinstance(block, str):
                    parts.append(block)
                elif isinstance(block, BulletinTable):
                    parts += [block.caption, *block.header, *(c for r in block.rows for c in r)]
                else:
                    parts += [block.title, *block.labels]
        return "\n".join(parts)


class _BulletinLayout(_MinutesLayout):
    """The minutes' page furniture (版记, page numbers, 续页) around a bulletin's body."""

    def __init__(self, content: BulletinContent) -> None:
        self.bulletin = content
        # _MinutesLayout reads .number and .issuer for the furniture it draws.
        super().__init__(content)  # type: ignore[arg-type]

    def mark(self) -> list[Flowable]:
        setter, fonts, content = self.setter, self.fonts, self.bulletin
        office = content.masthead or content.issuer
        office_size = setter.fit(office, fonts.title, 18.0, self.frame_width, 12.0)
        preview = "（预览，未编号）" if content.preview else ""
        mark_size = setter.fit(BULLETIN_MARK, fonts.title, 36.0, self.frame_width, 22.0)
        return [
            _Red(setter, office, fonts.title, office_size, office_size * 1.5),
            _Red(setter, BULLETIN_MARK, fonts.title, mark_size, mark_size * 1.5, 12.0),
            Spacer(1, 3 * mm),
            _Text(setter, content.number + preview, fonts.body, 16.0, 22.0, "center"),
            _RedRule(),
            Spacer(1, 4 * mm),
        ]

    def small(self, text: str, font: str | None = None, align: str = "left") -> _Text:
        return _Text(self.setter, text, font or self.fonts.body, TABLE_SIZE, TABLE_LEADING, align)

    def story(self) -> list[Flowable]:
        content, fonts = self.bulletin, self.fonts
        heading = fonts.heading or fonts.body
        title_size = self.setter.fit(content.title, fonts.title, 22.0, self.frame_width, 16.0)
        story: list[Flowable] = [
            *self.mark(),
            _Text(self.setter, content.title, fonts.title, title_size, title_size * 1.6, "center"),
            _Text(self.setter, f"（{content.period_text}）", fonts.body, 14.0, 22.0, "center"),
            Spacer(1, 4 * mm),
        ]
        for section in content.sections:
            title = self.body(INDENT + section.heading, heading)
            title.keepWithNext = True  # never a heading alone at the foot of a page
            story.append(title)
            for block in section.blocks:
                if isinstance(block, str):
                    story.append(self.body(INDENT + block))
                elif isinstance(block, BulletinTable):
                    story += self.table(block)
                else:
                    # A drawing never splits; not wrapped in KeepTogether, so a heading's
                    # keepWithNext can take it along to the next page.
                    story += [self.chart(block), Spacer(1, 3 * mm)]
        if content.notes:
            story.append(Spacer(1, 4 * mm))
            story.append(self.small("说明：", heading))
            story += [self.small(f"{index}. {note}") for index, note in enumerate(content.notes, 1)]
        story.append(_AtBottom([Spacer(1, 8 * mm), self.imprint()]))
        return story

    def table(self, block: BulletinTable) -> list[Flowable]:
        """A table that breaks across pages with its header repeated (repeatRows)."""
        shares = block.widths or (1.0,) * len(block.header)
        total = sum(shares)
        widths = [self.frame_width * share / total for share in shares]
        heading = self.fonts.heading or self.fonts.body

        def cell(text: str, font: str, align: str) -> _Text:
            return self.small(text, font, align)

        data = [[cell(text, heading, "center") for text in block.header]]
        for row in block.rows:
            data.append(
                [
                    cell(text, self.fonts.body, "left" if i == 0 else "right")
                    for i, text in enumerate(row)
                ]
            )
        table = Table(
            data,
            colWidths=widths,
            repeatRows=1,
            style=TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.5, BLACK),
                    ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
                    ("LEFTPADDING", (0, 0), (-1, -1), 2 * mm),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 2 * mm),
                    ("TOPPADDING", (0, 0), (-1, -1), 1 * mm),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1 * mm),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            ),
        )
        if block.caption:
            caption = self.small(block.caption, heading, "center")
            caption.keepWithNext = True
            return [caption, table, Spacer(1, 3 * mm)]
        return [table, Spacer(1, 3 * mm)]

    def chart(self, block: BulletinChart) -> Drawing:
        # Every label must print: the typesetter refuses a character no font has.
        for text in (block.title, *block.labels):
            self.setter.glyphs(chart_text(self.fonts.body)(text), self.fonts.body)
        width = self.frame_width
        numbers = number_font(self.fonts.chain(self.fonts.body))
        if block.kind == "pie":
            return _pie(block, width, self.fonts.body, numbers)
        if block.kind == "line":
            return _line(block, width, self.fonts.body, numbers)
        return _bars(block, width, self.fonts.body, numbers)


# The official CJK fonts may lack ASCII digits; charts draw in one font (no per-glyph fallback),
# so in such a font their numbers are set full-width, which every CJK font has.
_NARROW = "0123456789.%-"
_FULL_WIDTH = str.maketrans(_NARROW, "０１２３４５６７８９．％－")


LEGEND_SIZE = 9.0  # a pie's legend, in points


def wide(text: str) -> str:
    return text.translate(_FULL_WIDTH)


def _as_is(text: str) -> str:
    return text


def chart_text(font: str) -> Callable[[str], str]:
    """How a chart's label in ``font`` sets its numbers: as they are when the font draws ASCII
    digits (仿宋_GB2312, 黑体), else full-width (``wide``, which the bundled font needs: a wide
    gap between digits, "４２６６７５件", but printed). A label drawn alone, such as an axis's
    number, takes a font that has them instead (``number_font``)."""
    return wide if missing_glyphs(_NARROW, [font]) else _as_is


_MONTH = re.compile(r"(\d{4})-(\d{2})")


def number_font(chain: Sequence[str]) -> str:
    """The font an axis's or a bar's number is set in: the first of the body's ``chain`` that
    draws ASCII digits (the bundled CJK font does not: Vera after it does), else the body's
    own, in which ``chart_text`` sets them full-width."""
    return next((font for font in chain if not missing_glyphs(_NARROW, [font])), chain[0])


def _numbers(font: str) -> Callable[[float], str]:
    """An axis's or a bar's number, as ``font`` prints it."""
    shown = chart_text(font)
    return lambda value: shown(f"{value:g}")


def month_labels(labels: Sequence[str], shown: Callable[[str], str] = wide) -> list[str]:
    """A trend's months (YYYY-MM) as the axis prints them: 1月 … 12月, the year under the first
    and under each January. Twelve full-width 2026-01 do not fit an A4 column: they overlapped."""
    out: list[str] = []
    for at, label in enumerate(labels):
        found = _MONTH.fullmatch(label)
        if found is None:
            out.append(shown(label))
            continue
        year, month = found[1], int(found[2])
        label_text = f"{month}月"
        if at == 0 or month == 1:
            label_text += f"\n{year}"
        out.append(shown(label_text))
    return out


def _drawing(block: BulletinChart, width: float, height: float, font: str) -> Drawing:
    drawing = Drawing(width, height)
    drawing.add(
        String(width / 2, height - 12, block.title, fontName=font, fontSize=11, textAnchor="middle")
    )
    return drawing


def _bars(block: BulletinChart, width: float, font: str, numbers: str) -> Drawing:
    """Horizontal bars: long Chinese labels read on the left, largest at the top."""
    count = max(1, len(block.values))
    height = 30 + 16 * count
    drawing = _drawing(block, width, height, font)
    chart = HorizontalBarChart()
    chart.x, chart.y = 90 * mm / 2.2, 8
    chart.width, chart.height = width - chart.x - 20, height - 30
    chart.data = [tuple(reversed(block.values)) or (0,)]
    shown = chart_text(font)
    chart.categoryAxis.categoryNames = [shown(label) for label in reversed(block.labels)] or [""]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 9
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.valueAxis.labels.fontName = numbers
    chart.valueAxis.labels.fontSize = 8
    chart.valueAxis.labelTextFormat = _numbers(numbers)
    chart.valueAxis.valueMin = 0
    chart.valueAxis.forceZero = True
    chart.bars[0].fillColor = HexColor(PALETTE[0])
    chart.bars[0].strokeColor = None
    chart.barLabelFormat = _numbers(numbers)
    chart.barLabels.fontName = numbers
    chart.barLabels.fontSize = 8
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    drawing.add(chart)
    return drawing


def _pie(block: BulletinChart, width: float, font: str, numbers: str) -> Drawing:
    """The pie on the left, its legend on the right: each share's colour, name, count and
    percentage on a line of its own. Labels beside thin slices overlapped (未填写 1.2 % above
    办不了 5.6 %), and a label is one string in one font, whose digits the bundled font lacks;
    the legend sets the numbers in ``numbers``."""
    height = 66 * mm
    drawing = _drawing(block, width, height, font)
    shown = [
        (label, value) for label, value in zip(block.labels, block.values, strict=True) if value
    ]
    if not shown:
        drawing.add(
            String(
                width / 2, height / 2, "（无数据）", fontName=font, fontSize=10, textAnchor="middle"
            )
        )
        return drawing
    total = sum(value for _, value in shown)
    pie = Pie()
    size = height - 30
    pie.x, pie.y, pie.width, pie.height = width * 0.3 - size / 2, 8, size, size
    pie.data = [value for _, value in shown]
    pie.labels = None
    pie.slices.strokeColor = HexColor("#FFFFFF")
    for index in range(len(shown)):
        pie.slices[index].fillColor = HexColor(PALETTE[index % len(PALETTE)])
    drawing.add(pie)
    text, figures = chart_text(font), chart_text(numbers)
    row = LEGEND_SIZE * 1.8
    top = pie.y + size / 2 + row * (len(shown) - 1) / 2
    for index, (label, value) in enumerate(shown):
        y = top - index * row
        x = width * 0.58
        drawing.add(
            Rect(
                x,
                y - 1,
                LEGEND_SIZE,
                LEGEND_SIZE,
                fillColor=pie.slices[index].fillColor,
                strokeColor=None,
            )
        )
        x += LEGEND_SIZE * 1.6
        parts = (
            (text(label) + "  ", font),
            (figures(f"{value:g}"), numbers),
            ("件（", font),
            (figures(f"{100 * value / total:.1f}%"), numbers),
            ("）", font),
        )
        for part, part_font in parts:
            drawing.add(String(x, y, part, fontName=part_font, fontSize=LEGEND_SIZE))
            x += stringWidth(part, part_font, LEGEND_SIZE)
    return drawing


def _line(block: BulletinChart, width: float, font: str, numbers: str) -> Drawing:
    height = 55 * mm
    drawing = _drawing(block, width, height, font)
    chart = HorizontalLineChart()
    chart.x, chart.y = 30, 28  # room for a month and its year under the axis
    chart.width, chart.height = width - 50, height - 53
    chart.data = [tuple(block.values) or (0,)]
    shown = chart_text(font)
    chart.categoryAxis.categoryNames = month_labels(block.labels, shown) or [""]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 8
    chart.categoryAxis.labels.leading = 9
    chart.categoryAxis.labels.boxAnchor = "n"
    chart.categoryAxis.labels.textAnchor = "middle"
    chart.valueAxis.labels.fontName = numbers
    chart.valueAxis.labels.fontSize = 8
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labelTextFormat = _numbers(numbers)
    chart.lines[0].strokeColor = HexColor(PALETTE[0])
    chart.lines[0].strokeWidth = 1.5
    drawing.add(chart)
    return drawing


def render_bulletin(content: BulletinContent, *, out: Path | None = None) -> bytes:
    """The bulletin as an A4 PDF (also written to ``out``, whole or not at all).

    Raises ``UnprintableCharacters`` if a character cannot be printed (nothing written).
    """
    layout = _BulletinLayout(content)
    data = _build(
        layout.story(),
        pagesize=(layout.page_width, layout.page_height),
        margins=(TOP_MARGIN, RIGHT_MARGIN, BOTTOM_MARGIN, LEFT_MARGIN),
        on_page=layout.on_page,
        fonts=layout.fonts,
        title=f"{content.title} {content.number}",
        author=content.issuer,
        subject=content.period_text,
        stamp=content.issued_at,
    )
    if out is not None:
        _write_out(Path(out), data)
    return data


def rows_of(pairs: Sequence[tuple[str, Any]]) -> tuple[tuple[str, ...], ...]:
    """(label, value) pairs as table rows of text."""
    return tuple((label, str(value)) for label, value in pairs)
