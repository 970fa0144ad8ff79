"""登记簿: the printed case register inspectors take to phone complainants back (issue 17).

A3 landscape, one ruled line per case of the period with the complainant's phone, the header
repeated on every page, the page's count and the running total at its foot, and a signature line
(核查人, 日期) after the last line. Two blank columns (回访电话记录, 备注) are for the inspector's
pen. Content is a plain :class:`RegisterBookContent` the register export makes; this module only
draws it, with the slips' fonts and typesetter (a character no font has is printed as 〓).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reportlab.lib.pagesizes import A3, landscape  # type: ignore[import-untyped,unused-ignore]
from reportlab.lib.units import mm  # type: ignore[import-untyped,unused-ignore]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped,unused-ignore]

from desktop_app.documents.fonts import register_fonts
from desktop_app.documents.slip_pdf import (
    BLACK,
    RULE,
    UnprintableCharacters,
    _pdf_date,
    _Typesetter,
    _write_out,
)

__all__ = ["BOOK_COLUMNS", "BOOK_TITLE", "BookLine", "RegisterBookContent", "render_register_book"]

BOOK_TITLE = "“办不成事”事项登记簿"
PAGE_WIDTH: float = landscape(A3)[0]
PAGE_HEIGHT: float = landscape(A3)[1]
MARGIN_X: float = 18 * mm
TOP: float = PAGE_HEIGHT - 18 * mm
BOTTOM: float = 20 * mm
ROW_HEIGHT: float = 8.5 * mm
HEADER_HEIGHT: float = 10 * mm
CELL_SIZE = 10.5  # 五号
SMALLEST = 9.0  # smaller is hard to read by phone light; longer text is cut with …
DIGITS_SMALLEST = 7.5
PAD: float = 1.5 * mm

# (header, relative width); the last two are left blank for the inspector.
BOOK_COLUMNS: tuple[tuple[str, float], ...] = (
    ("序号", 5),
    ("编号", 12),
    ("原编号", 10),
    ("受理日期", 9),
    ("反映人", 10),
    ("联系电话", 10),
    ("反映事项", 28),
    ("承办单位", 14),
    ("时限", 9),
    ("状态", 6),
    ("办结日期", 9),
    ("满意度", 7),
    ("回访电话记录", 18),
    ("备注", 10),
)


@dataclass(frozen=True)
class BookLine:
    """One case's printed line (everything already text: dates as YYYY-MM-DD)."""

    number: str
    original_number: str  # 原编号 of a case from an old Excel 台账, else ""
    received_on: str
    complainant: str
    phone: str
    title: str
    department: str
    due_date: str
    status: str
    concluded_on: str
    visit_grade: str

    def cells(self, position: int) -> list[str]:
        return [
            str(position),
            self.number,
            self.original_number,
            self.received_on,
            self.complainant,
            self.phone,
            self.title,
            self.department,
            self.due_date,
            self.status,
            self.concluded_on,
            self.visit_grade,
            "",
            "",
        ]


@dataclass(frozen=True)
class RegisterBookContent:
    issuer: str  # 杞县“办不成事”监督窗口
    period: str  # 2026年11月1日至2026年11月30日
    printed_at: datetime
    lines: tuple[BookLine, ...]
    numbers_masked: bool = True


def rows_per_page() -> int:
    """How many case lines one page holds under its title and header, above its foot."""
    usable = TOP - 16 * mm - HEADER_HEIGHT - (BOTTOM + 14 * mm)
    return int(usable // ROW_HEIGHT)


def page_count(lines: int) -> int:
    per_page = rows_per_page()
    return max(1, -(-lines // per_page))


def render_register_book(content: RegisterBookContent, *, out: Path | None = None) -> bytes:
    """The 登记簿 as an A3 landscape PDF (also written to ``out``, whole or not at all)."""
    fonts = register_fonts()
    setter = _Typesetter(fonts)
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
        invariant=1,
        pageCompression=1,
        initialFontName=fonts.body,
    )
    stamp = _pdf_date(content.printed_at)
    canvas.setDateFormatter(lambda *_: stamp)
    canvas.setTitle(f"{BOOK_TITLE}（{content.period}）")
    canvas.setAuthor(content.issuer)
    canvas.setCreator("bbcs 办不成事监督窗口工作台")
    widths = _column_widths()
    per_page = rows_per_page()
    pages = page_count(len(content.lines))
    heading = fonts.heading or fonts.body
    for page in range(pages):
        chunk = content.lines[page * per_page : (page + 1) * per_page]
        y = _draw_title(canvas, setter, content, fonts.title, fonts.body, page + 1, pages)
        y = _draw_row(canvas, setter, y, widths, [h for h, _ in BOOK_COLUMNS], heading, True)
        for offset, line in enumerate(chunk):
            cells = line.cells(page * per_page + offset + 1)
            y = _draw_row(canvas, setter, y, widths, cells, fonts.body, False)
        shown = page * per_page + len(chunk)
        setter.draw(
            canvas,
            MARGIN_X,
            y - 6 * mm,
            f"本页 {len(chunk)} 件，累计 {shown} 件，共 {len(content.lines)} 件",
            fonts.body,
            CELL_SIZE,
        )
        if page == pages - 1:
            setter.draw(
                canvas,
                PAGE_WIDTH - MARGIN_X,
                y - 6 * mm,
                "核查人（签名）：________________    日期：______年____月____日",
                fonts.body,
                12.0,
                "right",
            )
        setter.draw(
            canvas, PAGE_WIDTH / 2, BOTTOM - 8 * mm, f"— {page + 1} —", fonts.body, 12.0, "center"
        )
        canvas.showPage()
    canvas.save()
    data = buffer.getvalue()
    if out is not None:
        _write_out(Path(out), data)
    return data


MISSING_GLYPH = "〓"  # the typesetter's 缺字 mark (GB 2312's 0xA1FE)


def printable(setter: _Typesetter, text: str, font: str) -> str:
    """``text`` with each character no installed font can draw shown as 〓: unlike a slip, a
    register of hundreds of lines is not refused for one rare character in one name; the
    number beside it finds the case, where the name is in full."""
    try:
        setter.glyphs(text, font)
    except UnprintableCharacters as exc:
        for char in exc.characters:
            text = text.replace(char, MISSING_GLYPH)
    return text


def _column_widths() -> list[float]:
    total = sum(weight for _, weight in BOOK_COLUMNS)
    usable = PAGE_WIDTH - 2 * MARGIN_X
    return [usable * weight / total for _, weight in BOOK_COLUMNS]


def _draw_title(
    canvas: Canvas,
    setter: _Typesetter,
    content: RegisterBookContent,
    title_font: str,
    body_font: str,
    page: int,
    pages: int,
) -> float:
    setter.draw(canvas, PAGE_WIDTH / 2, TOP - 8 * mm, BOOK_TITLE, title_font, 22.0, "center")
    setter.draw(
        canvas,
        MARGIN_X,
        TOP - 14 * mm,
        f"{content.issuer}    期间：{content.period}",
        body_font,
        CELL_SIZE,
    )
    note = "联系电话已遮挡" if content.numbers_masked else "内含个人信息，注意保密，用毕收回"
    setter.draw(
        canvas,
        PAGE_WIDTH - MARGIN_X,
        TOP - 14 * mm,
        f"{note}    打印：{content.printed_at:%Y-%m-%d %H:%M}    第 {page} 页 / 共 {pages} 页",
        body_font,
        CELL_SIZE,
        "right",
    )
    return TOP - 16.0 * float(mm)


def _draw_row(
    canvas: Canvas,
    setter: _Typesetter,
    top: float,
    widths: Sequence[float],
    cells: Sequence[str],
    font: str,
    header: bool,
) -> float:
    """One ruled row from ``top`` down; each cell's text shrunk to fit, cut with … if still long."""
    height = HEADER_HEIGHT if header else ROW_HEIGHT
    bottom: float = top - height
    canvas.setStrokeColor(BLACK if header else RULE)
    canvas.setLineWidth(0.8 if header else 0.5)
    x = MARGIN_X
    for width, text in zip(widths, cells, strict=True):
        canvas.rect(x, bottom, width, height, stroke=1, fill=0)
        if text:
            text = printable(setter, text, font)
            room = width - 2 * PAD
            # Digits (numbers, dates, phones) stay legible smaller than characters do.
            smallest = DIGITS_SMALLEST if text.isascii() else SMALLEST
            size = setter.fit(text, font, CELL_SIZE, room, smallest)
            shown = text
            while len(shown) > 1 and setter.width(shown, font, size) > room:
                shown = shown[:-2] + "…"
            baseline = bottom + (height - size) / 2 + 0.2 * size
            centred = header or len(text) <= 4
            setter.draw(
                canvas,
                x + width / 2 if centred else x + PAD,
                baseline,
                shown,
                font,
                size,
                "center" if centred else "left",
            )
        x += width
    return bottom
