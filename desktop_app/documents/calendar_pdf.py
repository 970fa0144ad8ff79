"""期限日历: one A4 landscape page of a month's deadlines, for the duty board on the wall.

Drawn on a reportlab canvas from a :class:`MonthView` (see ``DeadlineBoard.month``): a
Monday-first grid with holidays and make-up working days, what falls due each day coloured by
urgency (red 已超期, amber 今日到期 / 即将到期), and who is on duty. Every state is also spelled
out in words, so the sheet still reads on a black-and-white printer.

Text is real text in embedded TrueType subsets (searchable, extractable). A character that no
installed font has is printed as its code (``[U+20000]``) and named under the grid.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from reportlab.lib.colors import Color, HexColor  # type: ignore[import-untyped,unused-ignore]
from reportlab.lib.pagesizes import A4, landscape  # type: ignore[import-untyped,unused-ignore]
from reportlab.lib.units import mm  # type: ignore[import-untyped,unused-ignore]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped,unused-ignore]

from desktop_app.documents.fonts import FontSet, font_runs, missing_glyphs, register_fonts
from desktop_app.domain.deadlines import DayCell, DeadlineKind, DeadlineState, MonthView
from desktop_app.domain.vocabulary import chinese_date
from desktop_app.files import write_atomically

__all__ = ["render_month_pdf"]

PAGE_WIDTH, PAGE_HEIGHT = (float(v) for v in landscape(A4))
MARGIN = 10 * mm
WEEKDAY_HEADERS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
PLAIN_REASONS = ("工作日", "周末")
KIND_SHORT = {DeadlineKind.CASE: "办理时限", DeadlineKind.BASIS: "依据", DeadlineKind.VISIT: "回访"}

BLACK = HexColor("#1A1A1A")
GREY_TEXT = HexColor("#9A9A9A")
GRID_LINE = HexColor("#7F7F7F")
HEADER_FILL = HexColor("#3C3C3C")
REST_FILL = HexColor("#E4E4E4")  # 休息日 in the month
REST_FILL_OUTSIDE = HexColor("#F1F1F1")  # 休息日 of the neighbouring months
HOLIDAY_TEXT = HexColor("#2E6B34")
TODAY_LINE = HexColor("#1F57A8")
WHITE = HexColor("#FFFFFF")


@dataclass(frozen=True)
class _Urgency:
    text: Color
    fill: Color
    line: Color


URGENCY: dict[DeadlineState, _Urgency] = {
    DeadlineState.OVERDUE: _Urgency(HexColor("#C0161B"), HexColor("#FBE1E1"), HexColor("#C0161B")),
    DeadlineState.DUE_TODAY: _Urgency(
        HexColor("#8A5600"), HexColor("#FFEFB8"), HexColor("#D49A00")
    ),
    DeadlineState.DUE_SOON: _Urgency(HexColor("#8A5600"), HexColor("#FFF6D6"), HexColor("#D49A00")),
}


class _Pen:
    """Draws text glyph by glyph from a font chain; characters no font has become [U+XXXX].

    (The sheet names those characters under the grid, see ``missing_glyphs`` in ``_render``.)
    """

    def __init__(self, canvas: Any, fonts: FontSet) -> None:
        self.canvas = canvas
        self.fonts = fonts
        self._runs: dict[tuple[str, str], list[tuple[str, str]]] = {}

    def runs(self, text: str, font: str) -> list[tuple[str, str]]:
        key = (text, font)
        cached = self._runs.get(key)
        if cached is not None:
            return cached
        chain = self.fonts.chain(font)
        result: list[tuple[str, str]] = []
        for run_font, run in font_runs(text, chain):
            if run_font is not None:
                result.append((run_font, run))
                continue
            code = "".join(f"[U+{ord(char):04X}]" for char in run)
            result.extend((f or font, part) for f, part in font_runs(code, chain))
        self._runs[key] = result
        return result

    def width(self, text: str, font: str, size: float) -> float:
        return sum(
            float(self.canvas.stringWidth(run, run_font, size))
            for run_font, run in self.runs(text, font)
        )

    def draw(
        self,
        x: float,
        y: float,
        text: str,
        font: str,
        size: float,
        color: Color = BLACK,
        align: str = "left",
    ) -> float:
        """Draw ``text`` with its baseline at ``y``; returns its width."""
        width = self.width(text, font, size)
        if align == "center":
            x -= width / 2
        elif align == "right":
            x -= width
        self.canvas.setFillColor(color)
        text_object = self.canvas.beginText(x, y)
        for run_font, run in self.runs(text, font):
            text_object.setFont(run_font, size)
            text_object.textOut(run)
        self.canvas.drawText(text_object)
        return width

    def fit(self, text: str, font: str, size: float, width: float, smallest: float) -> float:
        """The largest size from ``size`` down to ``smallest`` at which ``text`` fits ``width``."""
        while size > smallest and self.width(text, font, size) > width:
            size = max(smallest, size - 0.5)
        return size

    def wrap(self, text: str, font: str, size: float, width: float) -> list[str]:
        """Break ``text`` into lines no wider than ``width``.

        CJK text may break between any two characters; a break right after a list separator
        (、，) is preferred when it does not leave the line less than half full.
        """
        lines: list[str] = []
        line = ""
        for char in text:
            if line and self.width(line + char, font, size) > width:
                cut = max(line.rfind("、"), line.rfind("，"))
                if cut >= 0 and self.width(line[: cut + 1], font, size) >= width / 2:
                    lines.append(line[: cut + 1])
                    line = line[cut + 1 :]
                else:
                    lines.append(line)
                    line = ""
                line = (line + char).lstrip()
            else:
                line += char
        if line:
            lines.append(line)
        return lines


def _fitted_lines(
    pen: _Pen, text: str, font: str, size: float, width: float, max_lines: int = 2
) -> tuple[float, list[str]]:
    """``text`` on one line, slightly shrunk if need be, else wrapped (never clipped)."""
    one_line = pen.fit(text, font, size, width, size - 1.0)
    if pen.width(text, font, one_line) <= width:
        return one_line, [text]
    while True:
        lines = pen.wrap(text, font, size, width)
        if len(lines) <= max_lines or size <= 4:
            return size, lines
        size -= 0.5


def _badge(pen: _Pen, x: float, y: float, size: float, label: str, fill: Color) -> None:
    """A filled square (lower-left at x, y) with a white character, e.g. 班."""
    canvas = pen.canvas
    canvas.setFillColor(fill)
    canvas.roundRect(x, y, size, size, 1.5, stroke=0, fill=1)
    pen.draw(x + size / 2, y + size * 0.22, label, pen.fonts.title, size * 0.72, WHITE, "center")


def _counts_text(cell: DayCell) -> str:
    return " · ".join(
        f"{KIND_SHORT[kind]} {count}" for kind in DeadlineKind if (count := cell.counts.get(kind))
    )


def _cell_layouts(with_box: bool) -> list[tuple[float, float]]:
    """(box height, name size) pairs for a cell, from roomiest to most compact."""
    sizes = (8.0, 7.5, 7.0, 6.5, 6.0, 5.5, 5.0, 4.5)
    if not with_box:
        return [(0.0, size) for size in sizes]
    return [(27.0, 8.0), (22.0, 8.0), (22.0, 7.5), (22.0, 7.0)] + [(13.0, s) for s in sizes]


def _draw_cell(
    pen: _Pen, cell: DayCell, x: float, top: float, w: float, h: float, today: date
) -> None:
    canvas = pen.canvas
    font = pen.fonts.title
    bottom = top - h
    pad = 4.0
    inner = w - 2 * pad
    if not cell.working:
        canvas.setFillColor(REST_FILL if cell.in_month else REST_FILL_OUTSIDE)
        canvas.rect(x, bottom, w, h, stroke=0, fill=1)
    ink = BLACK if cell.in_month else GREY_TEXT

    # Row 1: day number, 今日 tag, holiday reason, 班 badge.
    number_size = 16.0
    baseline = top - pad - number_size * 0.82
    cursor = x + pad + pen.draw(x + pad, baseline, str(cell.day.day), font, number_size, ink)
    if not cell.in_month:
        cursor += pen.draw(cursor, baseline, f" {cell.day.month}月", font, 7.5, ink)
    if cell.day == today:
        tag_w = pen.width("今日", font, 8.0) + 6
        canvas.setFillColor(TODAY_LINE)
        canvas.roundRect(cursor + 3, baseline - 2, tag_w, 12, 2, stroke=0, fill=1)
        pen.draw(cursor + 3 + tag_w / 2, baseline + 0.8, "今日", font, 8.0, WHITE, "center")
        cursor += 3 + tag_w
    right = x + w - pad
    if cell.is_makeup_day:
        badge = 13.0
        _badge(pen, right - badge, top - pad - badge, badge, "班", ink)
        right -= badge + 3
    row_bottom = top - pad - number_size - 2
    if cell.reason and cell.reason not in PLAIN_REASONS:
        colour = (HOLIDAY_TEXT if not cell.working else BLACK) if cell.in_month else GREY_TEXT
        room = right - cursor - 4
        size = pen.fit(cell.reason, font, 8.5, room, 7.5)
        if pen.width(cell.reason, font, size) <= room:
            pen.draw(right, baseline, cell.reason, font, size, colour, "right")
        else:  # a line of its own under the number
            size, lines = _fitted_lines(pen, cell.reason, font, 8.0, inner)
            for line in lines:
                row_bottom -= size + 1.5
                pen.draw(x + pad, row_bottom + 1.0, line, font, size, colour)
            row_bottom -= 1.0

    # The rest holds what falls due (a box) and, at the foot, 带班 and 窗口. When a cell is
    # crowded the box goes to one line first, then the names get smaller; nothing is clipped.
    room = row_bottom - (bottom + pad)
    foot_lines: list[tuple[float, str]] = []
    box_h = 0.0
    for box_h, size in _cell_layouts(cell.total > 0):
        foot_lines = [
            (size, line)
            for prefix, names in (("带班：", cell.leader), ("窗口：", cell.window))
            if names
            for line in pen.wrap(prefix + names, font, size, inner)
        ]
        foot_h = sum(size + 1.8 for size, _ in foot_lines)
        if box_h + (2.0 if box_h else 0.0) + foot_h <= room:
            break
    if cell.total:
        _draw_counts(pen, cell, x + pad, row_bottom, inner, box_h, ink)
    y = bottom + pad + sum(size + 1.8 for size, _ in foot_lines)
    for size, line in foot_lines:  # top-down, so the text is extracted in reading order
        y -= size + 1.8
        pen.draw(x + pad, y + 0.8, line, font, size, ink)


def _draw_counts(
    pen: _Pen, cell: DayCell, left: float, box_top: float, width: float, box_h: float, ink: Color
) -> None:
    """The box of what falls due: the state in words and the total, then the breakdown."""
    canvas = pen.canvas
    font = pen.fonts.title
    urgency = URGENCY.get(cell.state)
    headline = f"{cell.state.label} {cell.total}件" if urgency else f"共{cell.total}件"
    detail = _counts_text(cell)
    text_colour = urgency.text if urgency else ink
    text_w = width - 6
    if box_h >= 22:
        head_size = pen.fit(headline, font, 11.0 if box_h >= 26 else 10.0, text_w, 7.0)
        detail_size = pen.fit(detail, font, 8.0 if box_h >= 26 else 7.5, text_w, 5.0)
        gap = (box_h - head_size - detail_size) / 3
        head_y = box_top - gap - head_size * 0.85
        lines = [(headline, head_size, head_y), (detail, detail_size, head_y - gap - detail_size)]
    else:  # one line; the breakdown only if it stays legible
        merged = f"{headline}：{detail}"
        size = pen.fit(merged, font, 8.5, text_w, 6.0)
        if pen.width(merged, font, size) > text_w:
            merged, size = headline, pen.fit(headline, font, 9.0, text_w, 6.0)
        lines = [(merged, size, box_top - box_h / 2 - size * 0.35)]
    canvas.setLineWidth(1.4 if cell.state is DeadlineState.OVERDUE else 0.9)
    canvas.setStrokeColor(urgency.line if urgency else GREY_TEXT)
    canvas.setFillColor(urgency.fill if urgency else WHITE)
    canvas.roundRect(left, box_top - box_h, width, box_h, 2.5, stroke=1, fill=1 if urgency else 0)
    for text, size, line_y in lines:
        pen.draw(left + 3, line_y, text, font, size, text_colour)


def _draw_legend(pen: _Pen, right: float, y: float) -> None:
    """The key, right-aligned at ``right`` with its baseline at ``y``."""
    canvas = pen.canvas
    font = pen.fonts.body
    size = 9.0
    swatch = 11.0
    items: list[tuple[str, str]] = [
        ("overdue", "已超期"),
        ("soon", "即将到期 / 今日到期"),
        ("makeup", "调休上班"),
        ("rest", "休息日"),
        ("today", "今日"),
    ]
    widths = [swatch + 3 + pen.width(label, font, size) for _, label in items]
    x = right - sum(widths) - 12 * (len(items) - 1)
    for (kind, label), item_w in zip(items, widths, strict=True):
        box_y = y - 2.2
        canvas.setLineWidth(0.8)
        if kind == "overdue":
            canvas.setFillColor(URGENCY[DeadlineState.OVERDUE].fill)
            canvas.setStrokeColor(URGENCY[DeadlineState.OVERDUE].line)
            canvas.rect(x, box_y, swatch, swatch, stroke=1, fill=1)
        elif kind == "soon":
            canvas.setFillColor(URGENCY[DeadlineState.DUE_TODAY].fill)
            canvas.setStrokeColor(URGENCY[DeadlineState.DUE_TODAY].line)
            canvas.rect(x, box_y, swatch, swatch, stroke=1, fill=1)
        elif kind == "makeup":
            _badge(pen, x, box_y, swatch, "班", BLACK)
        elif kind == "rest":
            canvas.setFillColor(REST_FILL)
            canvas.setStrokeColor(GRID_LINE)
            canvas.rect(x, box_y, swatch, swatch, stroke=1, fill=1)
        else:
            canvas.setStrokeColor(TODAY_LINE)
            canvas.setLineWidth(1.8)
            canvas.rect(x, box_y, swatch, swatch, stroke=1, fill=0)
        pen.draw(x + swatch + 3, y, label, font, size, BLACK)
        x += item_w + 12


def _pdf_date(moment: datetime) -> str:
    """A PDF date string (naive times are written without a zone, which PDF allows)."""
    text = moment.strftime("D:%Y%m%d%H%M%S")
    offset = moment.utcoffset()
    if offset is None:
        return text
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{text}{sign}{abs(minutes) // 60:02d}'{abs(minutes) % 60:02d}'"


def _all_text(view: MonthView, site_name: str) -> str:
    parts = [site_name, *view.warnings]
    for week in view.weeks:
        for cell in week:
            parts.extend((cell.reason, cell.leader, cell.window))
    return "".join(parts)


def _render(view: MonthView, site_name: str, generated_at: datetime) -> bytes:
    fonts = register_fonts()
    buffer = io.BytesIO()
    title = f"{site_name} 期限日历 {view.year}年{view.month}月"
    canvas = Canvas(
        buffer,
        pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
        invariant=1,
        pageCompression=1,
        initialFontName=fonts.body,  # else an unused, unembedded Helvetica is referenced
    )
    canvas.setTitle(title)
    canvas.setAuthor(site_name)
    canvas.setSubject("期限日历")
    canvas.setCreator("bbcs 办不成事监督窗口工作台")
    stamp = _pdf_date(generated_at)
    canvas.setDateFormatter(lambda *_: stamp)  # reproducible, yet the real date
    pen = _Pen(canvas, fonts)
    left, right = MARGIN, PAGE_WIDTH - MARGIN
    width = right - left

    # Title and subtitle.
    title_size = pen.fit(title, fonts.title, 20.0, width, 12.0)
    title_y = PAGE_HEIGHT - MARGIN - title_size * 0.8
    pen.draw(PAGE_WIDTH / 2, title_y, title, fonts.title, title_size, BLACK, "center")
    sub_y = title_y - 18
    weekday = WEEKDAY_HEADERS[view.today.weekday()]
    subtitle = (
        f"生成时间：{chinese_date(generated_at)} {generated_at:%H:%M}"
        f"　　今日：{chinese_date(view.today)}（{weekday}）"
        "　　格内为当日到期的未办结事项件数"
    )
    pen.draw(left, sub_y, subtitle, fonts.body, 8.5, BLACK)
    _draw_legend(pen, right, sub_y)

    # Footer lines under the grid (their height decides the grid's).
    footer: list[tuple[str, float, Color, str]] = []
    if view.overdue_before > 0:
        footer.append(
            (
                f"本月之前已超期未办 {view.overdue_before} 件（未列入上表，请按期限清单督办）",
                11.0,
                URGENCY[DeadlineState.OVERDUE].text,
                fonts.title,
            )
        )
    footer.extend((f"注：{warning}", 8.5, BLACK, fonts.body) for warning in view.warnings)
    unprintable = missing_glyphs(_all_text(view, site_name), fonts.chain(fonts.title))
    if unprintable:
        codes = "、".join(f"U+{ord(char):04X}" for char in unprintable)
        footer.append(
            (
                f"注：本机字体缺少以下字符，表中以编码代替：{codes}（请安装含该字的字体后重印）",
                8.5,
                URGENCY[DeadlineState.OVERDUE].text,
                fonts.body,
            )
        )
    footer = [
        (line, size, colour, font)
        for text, size, colour, font in footer
        for line in pen.wrap(text, font, size, width)
    ]
    footer_h = sum(size + 5 for _, size, _, _ in footer)

    grid_top = sub_y - 7
    header_h = 17.0
    grid_bottom = MARGIN + footer_h + (4 if footer else 0)
    weeks = view.weeks
    row_h = (grid_top - header_h - grid_bottom) / max(1, len(weeks))
    col_w = width / 7

    canvas.setFillColor(HEADER_FILL)
    canvas.rect(left, grid_top - header_h, width, header_h, stroke=0, fill=1)
    for col, name in enumerate(WEEKDAY_HEADERS):
        centre = left + col_w * (col + 0.5)
        pen.draw(centre, grid_top - header_h + 5, name, fonts.title, 10.0, WHITE, "center")

    cells_top = grid_top - header_h
    for row, week in enumerate(weeks):
        for col, cell in enumerate(week):
            x = left + col * col_w
            top = cells_top - row * row_h
            _draw_cell(pen, cell, x, top, col_w, row_h, view.today)

    # Grid lines, then the 今日 outline on top.
    canvas.setStrokeColor(GRID_LINE)
    canvas.setLineWidth(0.6)
    grid_bottom_y = cells_top - len(weeks) * row_h
    for col in range(8):
        x = left + col * col_w
        canvas.line(x, grid_top, x, grid_bottom_y)
    canvas.line(left, grid_top, right, grid_top)
    for row in range(len(weeks) + 1):
        y = cells_top - row * row_h
        canvas.line(left, y, right, y)
    for row, week in enumerate(weeks):
        for col, cell in enumerate(week):
            if cell.day == view.today:
                canvas.setStrokeColor(TODAY_LINE)
                canvas.setLineWidth(2.4)
                canvas.rect(
                    left + col * col_w + 1.2,
                    cells_top - (row + 1) * row_h + 1.2,
                    col_w - 2.4,
                    row_h - 2.4,
                    stroke=1,
                    fill=0,
                )

    y = grid_bottom_y - 4
    for text, size, colour, font in footer:
        y -= size + 3
        pen.draw(left, y, text, font, size, colour)
        y -= 2

    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def render_month_pdf(
    view: MonthView, *, site_name: str, generated_at: datetime, out: Path | None = None
) -> bytes:
    """Render the month sheet as a one-page A4 landscape PDF and return its bytes.

    With ``out`` the PDF is also written there atomically (a temp file in the same folder, then
    ``os.replace``), so a reader never sees half a file. The same input gives the same bytes.
    """
    data = _render(view, site_name, generated_at)
    if out is not None:
        write_atomically(Path(out), data)
    return data
