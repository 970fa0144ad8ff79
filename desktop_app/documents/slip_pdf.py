"""Official papers of the window: 交办单, 督办单, 催办通知, 不能办事项书面依据告知单, 受理回执.

A slip is an A4 portrait page laid out after GB/T 9704-2012 where that applies: the 版心 margins
(top 37 mm, left 28 mm, right 26 mm, bottom 35 mm), a 黑体 title with the number (发文字号,
"杞纪窗交〔2026〕12号") centred under it, dates written 2026年11月25日, page numbers "— 1 —" under
the 版心. Under the title a bordered table holds the matter; a long 具体情况 splits across pages.
The tear-off 回执联 always sits at the foot of the last page, under a dashed cut line, so the
department can cut it off, sign, stamp and return it. A QR code in the top right corner carries
the signed ``qr_payload`` (made elsewhere) for 扫码核验.

An issued paper is immutable: a reprint draws the same :class:`SlipContent` with a 补打 mark and the
reprint time beside the title, and nothing else changes. A draft, shown to the duty leader before
signing, is the same layout with a 草稿 stamp beside the title, a 草稿 watermark across each page
and an empty frame where the QR code will go.

Every character is printed or the paper is refused: :func:`check_printable` names what no font
can draw, and :func:`render_slip` / :func:`render_receipt` raise :class:`UnprintableCharacters`
rather than drop a character from a name. Characters the main font lacks come from the next font
of the chain (per glyph). Fonts are embedded as subsets; the same content gives the same bytes.
"""

from __future__ import annotations

import functools
import io
import itertools
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from reportlab.graphics.barcode.qr import (  # type: ignore[import-untyped,unused-ignore]
    QrCodeWidget,
)
from reportlab.lib.colors import Color, HexColor  # type: ignore[import-untyped,unused-ignore]
from reportlab.lib.pagesizes import A4, A5  # type: ignore[import-untyped,unused-ignore]
from reportlab.lib.units import mm  # type: ignore[import-untyped,unused-ignore]
from reportlab.pdfbase.pdfmetrics import stringWidth  # type: ignore[import-untyped,unused-ignore]
from reportlab.platypus import (  # type: ignore[import-untyped,unused-ignore]
    BaseDocTemplate,
    Flowable,
    Frame,
    PageTemplate,
    Spacer,
    Table,
    TableStyle,
)

from desktop_app.documents.fonts import (
    FontSet,
    font_advice,
    font_runs,
    missing_glyphs,
    register_fonts,
)
from desktop_app.documents.slip_content import PaperKind, ReceiptContent, SlipContent
from desktop_app.domain.vocabulary import chinese_date
from desktop_app.errors import EnvironmentProblem, UserError, cannot_write
from desktop_app.files import write_atomically

__all__ = [
    "QR_FORM_NAME",
    "UnprintableCharacters",
    "check_printable",
    "qr_modules",
    "render_receipt",
    "render_slip",
    "slip_title",
    "unprintable_fields",
]

# GB/T 9704-2012 §5.2.1: 版心 156 mm × 225 mm; these margins put it on A4 as the standard does.
TOP_MARGIN = 37 * mm
LEFT_MARGIN = 28 * mm
RIGHT_MARGIN = 26 * mm
BOTTOM_MARGIN = 35 * mm

QR_FORM_NAME = "bbcsQR"  # the QR code is one form XObject per page it is on
QR_SIZE = 22 * mm

BLACK = HexColor("#000000")
GRID = HexColor("#000000")
RULE = HexColor("#9A9A9A")
# GB/T 9704 §7.2: the 版头 (issuing organ's mark) and the rule under it are red.
MASTHEAD_RED = HexColor("#E60012")
# A red 草稿 across a draft, see-through so the text under it stays legible.
WATERMARK = Color(0xC0 / 255, 0x39 / 255, 0x2B / 255, alpha=0.18)

TITLES = {
    PaperKind.ASSIGN: "“办不成事”事项交办单",
    PaperKind.SUPERVISE: "“办不成事”事项督办单",
    PaperKind.URGE: "“办不成事”事项催办通知",
    PaperKind.BASIS_REQUEST: "不能办事项书面依据告知单",
    PaperKind.ADJUST: "“办不成事”事项时限调整通知",
}
REQUIREMENT_LABELS = {
    PaperKind.ASSIGN: "交办要求",
    PaperKind.SUPERVISE: "督办要求",
    PaperKind.URGE: "催办内容",
    PaperKind.BASIS_REQUEST: "补充说明",
    PaperKind.ADJUST: "调整事项",
}
STUB_NUMBER_LABELS = {
    PaperKind.ASSIGN: "交办单号",
    PaperKind.SUPERVISE: "督办单号",
    PaperKind.URGE: "催办单号",
    PaperKind.BASIS_REQUEST: "告知单号",
    PaperKind.ADJUST: "通知单号",
}
STUB_TITLE = "回执联（承办单位填写后交回监督窗口）"
CUT_TEXT = "沿此线剪开"
# The 回执联's lines for the 办理结果: the most the last page has room for, of these.
RESULT_LINES = (5, 4, 3, 2)


class UnprintableCharacters(UserError, ValueError):
    """Some characters of a paper have no glyph in any installed font; nothing was printed.

    A :class:`UserError`: the font is the office's to install (or the wording the clerk's to
    change), so ``bbcs`` and the window tell it plainly, naming each character and the field it
    is in (``fields``), never as 程序内部错误.
    """

    def __init__(self, characters: Sequence[str], fields: Sequence[str] = ()) -> None:
        self.characters: tuple[str, ...] = tuple(characters)
        self.fields: tuple[str, ...] = tuple(fields)
        listed = "、".join(f"{char}（U+{ord(char):04X}）" for char in self.characters)
        where = f"所在栏目：{'、'.join(self.fields)}。" if self.fields else ""
        super().__init__(
            f"以下字符无法打印：{listed}。{where}未生成文件。"
            f"{font_advice(self.characters)}后再打印，或改用同音字并在备注中说明。"
        )


def slip_title(kind: PaperKind) -> str:
    return TITLES[PaperKind(kind)]


def _text_fields(content: SlipContent | ReceiptContent) -> list[str]:
    texts: list[str] = []
    for f in fields(content):
        if f.name == "qr_payload":  # goes into the QR code, never drawn as text
            continue
        value = getattr(content, f.name)
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, tuple):
            texts.extend(str(item) for item in value)
    return texts


def check_printable(content: SlipContent | ReceiptContent) -> list[str]:
    """The characters of ``content`` that no registered font can draw, in order, each once."""
    fonts = register_fonts()
    return missing_glyphs("\n".join(_text_fields(content)), fonts.chain(fonts.body))


# What the clerk calls each field, to say where an unprintable character is.
FIELD_LABELS = {
    "number": "编号",
    "issuer": "签发单位",
    "masthead": "版头",
    "case_number": "事项编号",
    "lead_department": "承办单位",
    "assisting_departments": "协办单位",
    "complainant": "反映人",
    "complainant_contact": "联系方式",
    "complainant_id_masked": "证件号码",
    "matter_title": "反映事项",
    "matter_description": "具体情况",
    "nature": "问题性质",
    "approach": "处置方式",
    "requirements": "交办要求",
    "signer": "签发人",
    "window_phone": "咨询电话",
    "earlier_number": "原单号",
    "clerk": "受理人",
    "next_steps": "后续办理",
    "reply": "答复时间",
}


def unprintable_fields(content: SlipContent | ReceiptContent) -> list[tuple[str, list[str]]]:
    """(field label, its characters no font can draw) for each field of ``content`` that has
    some: checked before a paper is numbered, so a name that cannot print uses up no number."""
    fonts = register_fonts()
    chain = fonts.chain(fonts.body)
    found: list[tuple[str, list[str]]] = []
    for f in fields(content):
        if f.name == "qr_payload":
            continue
        value = getattr(content, f.name)
        if isinstance(value, str):
            text = value
        elif isinstance(value, tuple):
            text = "\n".join(str(item) for item in value)
        else:
            continue
        missing = missing_glyphs(text, chain)
        if missing:
            found.append((FIELD_LABELS.get(f.name, "其他内容"), missing))
    return found


def _ensure_printable(content: SlipContent | ReceiptContent) -> None:
    found = unprintable_fields(content)
    if found:
        characters = dict.fromkeys(char for _label, chars in found for char in chars)
        raise UnprintableCharacters(list(characters), [label for label, _chars in found])


def _write_out(out: Path, data: bytes) -> None:
    """The PDF to ``out`` whole or not at all; a read-only, full or vanished place told plainly."""
    try:
        write_atomically(out, data)
    except OSError as exc:
        raise EnvironmentProblem(cannot_write(exc, out, "PDF 文件")) from exc


def _pdf_date(moment: datetime) -> str:
    """A PDF date string (naive times are written without a zone, which PDF allows)."""
    text = moment.strftime("D:%Y%m%d%H%M%S")
    offset = moment.utcoffset()
    if offset is None:
        return text
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{text}{sign}{abs(minutes) // 60:02d}'{abs(minutes) % 60:02d}'"


# --- text --------------------------------------------------------------------------------------

# Line breaking (禁则): no line starts with closing punctuation, none ends with an opening one.
NO_LINE_START = frozenset("，。、；：？！）》」』】〕〉”’…·%‰,.;:?!)]}")
NO_LINE_END = frozenset("（《「『【〔〈“‘([{")


def _ignorable(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cf")


class _Token(NamedTuple):
    text: str
    widths: tuple[float, ...]  # of each character
    space: bool

    @property
    def width(self) -> float:
        return sum(self.widths)


class Line(NamedTuple):
    """One line of set text; ``end`` is True for the last line of a paragraph (not justified)."""

    text: str
    end: bool


class _Typesetter:
    """Sets plain text in lines, each character from the first font of the chain that has it.

    Line breaking is done here, not by reportlab's Paragraph (whose CJK split inserts spaces
    where the earlier lines broke): CJK text breaks between any two characters, Latin words and
    numbers (电话 0371-28981234, 138****5678) stay whole when they fit, and the 禁则 above hold.
    """

    def __init__(self, fonts: FontSet) -> None:
        self.fonts = fonts
        self._widths: dict[tuple[str, str, float], float] = {}

    def glyphs(self, text: str, font: str) -> list[tuple[str, str]]:
        """(character, font) for each character that is drawn; raises if one cannot be."""
        chain = self.fonts.chain(font)
        result: list[tuple[str, str]] = []
        for run_font, run in font_runs(text, chain):
            if run_font is not None:
                result.extend((char, run_font) for char in run)
            elif not all(_ignorable(char) or char.isspace() for char in run):
                raise UnprintableCharacters(missing_glyphs(run, chain))
            # else: invisible format characters (e.g. a zero-width joiner) are left out
        return result

    def _char_width(self, char: str, font: str, size: float) -> float:
        key = (char, font, size)
        width = self._widths.get(key)
        if width is None:
            width = float(stringWidth(char, font, size))
            self._widths[key] = width
        return width

    def width(self, text: str, font: str, size: float) -> float:
        return sum(self._char_width(c, f, size) for c, f in self.glyphs(text, font))

    def fit(self, text: str, font: str, size: float, width: float, smallest: float) -> float:
        """The largest size from ``size`` down to ``smallest`` at which ``text`` fits ``width``."""
        while size > smallest and self.width(text, font, size) > width:
            size = max(smallest, size - 0.5)
        return size

    def _tokens(self, text: str, font: str, size: float) -> list[_Token]:
        tokens: list[_Token] = []
        word: list[str] = []
        widths: list[float] = []
        for char, char_font in self.glyphs(text, font):
            char_w = self._char_width(char, char_font, size)
            if char.isascii() and not char.isspace():  # part of a Latin word or a number
                word.append(char)
                widths.append(char_w)
                continue
            if word:
                tokens.append(_Token("".join(word), tuple(widths), False))
                word, widths = [], []
            tokens.append(_Token(char, (char_w,), char.isspace()))
        if word:
            tokens.append(_Token("".join(word), tuple(widths), False))
        return tokens

    def lines(self, text: str, font: str, size: float, width: float) -> list[Line]:
        """Break ``text`` (new lines are paragraph ends) into lines no wider than ``width``."""
        result: list[Line] = []
        paragraphs = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for paragraph in paragraphs:
            lines = self._break(self._tokens(paragraph.rstrip(), font, size), width)
            result.extend(Line(line, index == len(lines) - 1) for index, line in enumerate(lines))
        return result

    def _break(self, tokens: list[_Token], width: float) -> list[str]:
        lines: list[str] = []
        current: list[_Token] = []
        current_w = 0.0
        queue = list(reversed(tokens))

        def flush() -> None:
            while current and current[-1].space:
                current.pop()
            lines.append("".join(token.text for token in current))

        while queue:
            token = queue.pop()
            if token.space and not current and lines:
                continue  # a wrapped line does not start with a space
            if not current or current_w + token.width <= width or token.space:
                current.append(token)
                current_w += token.width
                if token.space and current_w > width:
                    current.pop()
                    flush()
                    current, current_w = [], 0.0
                continue
            if token.width > width and len(token.text) > 1:  # a word longer than a line
                pieces = zip(token.text, token.widths, strict=True)
                queue.extend(reversed([_Token(c, (w,), False) for c, w in pieces]))
                continue
            carry: list[_Token] = []
            space_at = max((i for i, t in enumerate(current) if t.space), default=-1)
            if space_at > 0 and sum(t.width for t in current[:space_at]) >= width * 0.4:
                # "中共杞县纪委 杞县监委…": break where the text has a space, if it is not early
                carry = current[space_at + 1 :]
                del current[space_at + 1 :]
            elif token.text[0] in NO_LINE_START and len(current) > 1:
                carry.insert(0, current.pop())
                # "87.8%）" before "，": the mark that goes down may itself be one of them.
                while len(current) > 1 and carry[0].text[0] in NO_LINE_START:
                    carry.insert(0, current.pop())
            while len(current) > 1 and current[-1].text[-1] in NO_LINE_END:
                carry.insert(0, current.pop())
            flush()
            current = [*carry, token]
            current_w = sum(t.width for t in current)
        if current or not lines:
            flush()
        return lines

    def draw(
        self,
        canvas: Any,
        x: float,
        y: float,
        text: str,
        font: str,
        size: float,
        align: str = "left",
        char_space: float = 0.0,
        color: Any = BLACK,
    ) -> None:
        """Draw one line with its baseline at ``y``; ``align`` is left, center or right of x."""
        glyphs = self.glyphs(text, font)
        width = sum(self._char_width(c, f, size) for c, f in glyphs)
        if align == "center":
            x -= width / 2
        elif align == "right":
            x -= width
        canvas.setFillColor(color)
        text_object = canvas.beginText(x, y)
        if char_space:
            text_object.setCharSpace(char_space)
        run: list[str] = []
        run_font = ""
        for char, char_font in glyphs:
            if char_font != run_font and run:
                text_object.setFont(run_font, size)
                text_object.textOut("".join(run))
                run = []
            run_font = char_font
            run.append(char)
        if run:
            text_object.setFont(run_font, size)
            text_object.textOut("".join(run))
        canvas.drawText(text_object)


# --- flowables ---------------------------------------------------------------------------------


class _Text(Flowable):  # type: ignore[misc]
    """Lines of text in one font and size; it splits between lines across pages.

    ``align`` is left, center, right or justify (every line but a paragraph's last fills the
    width; ``justify_last`` fills that one too, for a line cut out of a longer paragraph).
    """

    def __init__(
        self,
        setter: _Typesetter,
        text: str,
        font: str,
        size: float,
        leading: float,
        align: str = "left",
        *,
        lines: Sequence[Line] | None = None,
        justify_last: bool = False,
    ) -> None:
        super().__init__()
        self.setter = setter
        self.text = text
        self.font = font
        self.size = size
        self.leading = leading
        self.align = align
        self.justify_last = justify_last
        self._fixed = lines is not None
        self._lines: list[Line] = list(lines or ())
        self._for_width: float | None = None
        self.width = 0.0
        self.height = 0.0

    def _set(self, avail_width: float) -> None:
        if not self._fixed and self._for_width != avail_width:
            self._lines = self.setter.lines(self.text, self.font, self.size, avail_width)
            self._for_width = avail_width

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self._set(avail_width)
        self.width = avail_width
        self.height = len(self._lines) * self.leading
        return self.width, self.height

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        self._set(avail_width)
        fit = int((avail_height + 0.01) // self.leading)
        if fit <= 0:
            return []
        if fit >= len(self._lines):
            return [self]
        return [self._part(self._lines[:fit]), self._part(self._lines[fit:])]

    def _part(self, lines: Sequence[Line]) -> _Text:
        return _Text(
            self.setter,
            "",
            self.font,
            self.size,
            self.leading,
            self.align,
            lines=lines,
            justify_last=self.justify_last,
        )

    def draw(self) -> None:
        setter, size = self.setter, self.size
        for index, line in enumerate(self._lines):
            # Centre the em box (about 0.88 above and 0.12 below the baseline) in the line.
            baseline = self.height - (index + 1) * self.leading
            baseline += (self.leading - size) / 2 + 0.14 * size
            if self.align == "center":
                setter.draw(
                    self.canv, self.width / 2, baseline, line.text, self.font, size, "center"
                )
            elif self.align == "right":
                setter.draw(self.canv, self.width, baseline, line.text, self.font, size, "right")
            else:
                space = 0.0
                count = len(line.text)
                if self.align == "justify" and (self.justify_last or not line.end) and count > 1:
                    natural = setter.width(line.text, self.font, size)
                    space = max(0.0, (self.width - natural) / (count - 1))
                    if space > size * 0.1:  # a short line, or a long number moved on: not spread
                        space = 0.0
                setter.draw(self.canv, 0, baseline, line.text, self.font, size, "left", space)


class _Masthead(Flowable):  # type: ignore[misc]
    """The 版头: the office's line in red 小标宋, centred, over a red rule (GB/T 9704 §7.2).

    The first flowable of the first page; it takes no room in the frame but draws upwards into
    the 37 mm top margin, so a paper with a 版头 fits the same page as one without.
    """

    def __init__(self, setter: _Typesetter, text: str) -> None:
        super().__init__()
        self.setter = setter
        self.text = text
        self.size = 22.0
        self.width = 0.0
        self.height = 0.0

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        font = self.setter.fonts.title
        self.size = self.setter.fit(self.text, font, 22.0, avail_width, 12.0)  # 二号 at most
        self.width = avail_width
        return self.width, 0.0

    def draw(self) -> None:
        canvas = self.canv
        baseline = 5 * mm
        self.setter.draw(
            canvas,
            self.width / 2,
            baseline,
            self.text,
            self.setter.fonts.title,
            self.size,
            "center",
            color=MASTHEAD_RED,
        )
        canvas.saveState()
        canvas.setStrokeColor(MASTHEAD_RED)
        canvas.setLineWidth(1.0)
        canvas.line(0, 2.5 * mm, self.width, 2.5 * mm)
        canvas.restoreState()


class _QrCode(Flowable):  # type: ignore[misc]
    """The QR code (a form XObject named :data:`QR_FORM_NAME`), ``size`` square."""

    def __init__(self, payload: str, size: float) -> None:
        super().__init__()
        self.payload = payload
        self.size = size
        self.width = self.height = size

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.size, self.size

    def draw(self) -> None:
        canvas = self.canv
        if not canvas.hasForm(QR_FORM_NAME):
            modules = qr_modules(self.payload)
            box = self.size / len(modules)
            canvas.beginForm(QR_FORM_NAME, 0, 0, self.size, self.size)
            canvas.setFillColor(BLACK)
            path = canvas.beginPath()
            for row_index, row in enumerate(modules):  # one path: no seams between modules
                y = self.size - (row_index + 1) * box
                column = 0
                for dark, run in itertools.groupby(row):
                    count = len(list(run))
                    if dark:
                        path.rect(column * box, y, count * box, box)
                    column += count
            canvas.drawPath(path, stroke=0, fill=1)
            canvas.endForm()
        canvas.doForm(QR_FORM_NAME)


@functools.lru_cache(maxsize=64)
def qr_modules(payload: str) -> tuple[tuple[bool, ...], ...]:
    """The QR code's module matrix for ``payload`` (level M), dark = True, top row first.

    Encoded by reportlab's :class:`QrCodeWidget`; drawn by :class:`_QrCode` as one path, which
    is several times faster than rendering the widget's thousands of shapes.
    """
    widget = QrCodeWidget(payload, barLevel="M")
    widget.qr.make()
    return tuple(tuple(bool(module) for module in row) for row in widget.qr.modules)


class _RuledLines(Flowable):  # type: ignore[misc]
    """Blank writing lines (for 办理结果)."""

    def __init__(self, count: int, gap: float) -> None:
        super().__init__()
        self.count = count
        self.gap = gap
        self.width = 0.0
        self.height = count * gap

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = avail_width
        return avail_width, self.height

    def draw(self) -> None:
        canvas = self.canv
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        for index in range(self.count):
            y = self.height - (index + 1) * self.gap + 1.0
            canvas.line(0, y, self.width, y)


class _CutLine(Flowable):  # type: ignore[misc]
    """Scissors and a dashed line across the 版心, 沿此线剪开 in its middle."""

    def __init__(self, setter: _Typesetter, height: float = 7 * mm) -> None:
        super().__init__()
        self.setter = setter
        self.height = height
        self.width = 0.0

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = avail_width
        return avail_width, self.height

    def draw(self) -> None:
        canvas = self.canv
        font = self.setter.fonts.body
        size = 9.0
        mid = self.height / 2
        label = f"- - {CUT_TEXT} - -"
        label_w = self.setter.width(label, font, size) + 8
        centre = self.width / 2
        scissors_w = 5 * mm
        canvas.saveState()
        canvas.setStrokeColor(BLACK)
        canvas.setLineWidth(0.6)
        canvas.setDash(3, 2)
        canvas.line(scissors_w + 1.5, mid, centre - label_w / 2, mid)
        canvas.line(centre + label_w / 2, mid, self.width, mid)
        canvas.restoreState()
        _draw_scissors(canvas, 0, mid, scissors_w)
        self.setter.draw(canvas, centre, mid - size * 0.35, label, font, size, "center")


def _draw_scissors(canvas: Any, x: float, y: float, length: float) -> None:
    """A small pair of open scissors pointing right, handles at ``x``, centred on ``y``."""
    ring = length * 0.18
    canvas.saveState()
    canvas.setLineWidth(0.7)
    canvas.setStrokeColor(BLACK)
    canvas.setFillColor(BLACK)
    canvas.circle(x + ring, y + ring * 1.15, ring, stroke=1, fill=0)
    canvas.circle(x + ring, y - ring * 1.15, ring, stroke=1, fill=0)
    canvas.line(x + ring * 1.8, y + ring * 0.7, x + length, y - ring * 1.3)
    canvas.line(x + ring * 1.8, y - ring * 0.7, x + length, y + ring * 1.3)
    canvas.circle(x + length * 0.55, y, 0.5, stroke=0, fill=1)
    canvas.restoreState()


class _AtBottom(Flowable):  # type: ignore[misc]
    """Its flowables stacked at the foot of the frame (the tear-off part goes to the bottom).

    It takes the rest of the frame when they fit there; otherwise it asks for their own height,
    so the frame moves it whole to the next page, where it again sits at the bottom. Given
    several ``choices`` (the same part, largest first), it sets the largest that fits the room
    left on the page (a 回执联 with more lines to write on when the slip is short).
    """

    def __init__(self, content: Sequence[Flowable], *choices: Sequence[Flowable]) -> None:
        super().__init__()
        self.choices = [list(content), *(list(choice) for choice in choices)]
        self.content = self.choices[0]
        self.width = 0.0
        self.height = 0.0
        self._sizes: list[tuple[float, float]] = []

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        for choice in self.choices:
            self.content = choice
            self._sizes = [f.wrap(avail_width, avail_height) for f in choice]
            needed = sum(h for _, h in self._sizes)
            if needed <= avail_height:
                break
        self.width = avail_width
        self.height = max(needed, avail_height - 0.01)
        return self.width, self.height

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        return []

    def draw(self) -> None:
        y = sum(h for _, h in self._sizes)
        for flowable, (_, h) in zip(self.content, self._sizes, strict=True):
            y -= h
            flowable.drawOn(self.canv, 0, y)


# --- bordered forms ----------------------------------------------------------------------------

PAD_X = 5.0
PAD_Y = 2.5
LINE_WIDTH = 0.75


class _Form:
    """A bordered form of label / value columns, built row by row.

    A long value becomes one table row per line, with no rule between them, so the table splits
    between any two lines across pages (reportlab's own in-cell splitting is unreliable).
    """

    def __init__(
        self,
        setter: _Typesetter,
        col_widths: Sequence[float],
        *,
        size: float,
        leading: float,
        label_size: float | None = None,
    ) -> None:
        self.setter = setter
        self.fonts = setter.fonts
        self.col_widths = list(col_widths)
        self.size = size
        self.leading = leading
        self.label_size = label_size or size
        self.rows: list[list[Any]] = []
        self.heights: list[float | None] = []
        self.commands: list[tuple[Any, ...]] = []

    @property
    def columns(self) -> int:
        return len(self.col_widths)

    def label(self, text: str) -> _Text:
        font = self.fonts.heading or self.fonts.title  # 黑体, as GB/T 9704 sets headings
        return _Text(self.setter, text, font, self.label_size, self.label_size * 1.25, "center")

    def value(self, text: str, align: str = "left") -> _Text:
        return _Text(self.setter, text, self.fonts.body, self.size, self.leading, align)

    def _row(self, cells: list[Any], height: float | None = None) -> int:
        self.rows.append(cells + [""] * (self.columns - len(cells)))
        self.heights.append(height)
        return len(self.rows) - 1

    def _span(self, row: int, last_row: int | None = None) -> None:
        if self.columns > 2:
            self.commands.append(("SPAN", (1, row), (-1, last_row or row)))

    def full(self, label: str, text: str, align: str = "justify") -> None:
        """A value across all value columns, one table row per line."""
        inner = sum(self.col_widths[1:]) - 2 * PAD_X - 0.5
        font = self.fonts.body
        lines = self.setter.lines(text, font, self.size, inner)
        first = len(self.rows)
        for index, line in enumerate(lines):
            cell = _Text(
                self.setter,
                "",
                font,
                self.size,
                self.leading,
                align,
                lines=[line],
                justify_last=not line.end,
            )
            row = self._row([self.label(label) if index == 0 else "", cell])
            self._span(row)
            if index > 0:
                self.commands.append(("TOPPADDING", (0, row), (-1, row), 0))
            if index < len(lines) - 1:
                self.commands.append(("BOTTOMPADDING", (0, row), (-1, row), 0))
        last = len(self.rows) - 1
        if last > first:
            self.commands.append(("VALIGN", (0, first), (0, first), "TOP"))
        self.commands.append(("LINEBELOW", (0, last), (-1, last), LINE_WIDTH, GRID))

    def pair(self, label_a: str, value_a: str, label_b: str, value_b: str) -> None:
        self.custom(
            [self.label(label_a), self.value(value_a), self.label(label_b), self.value(value_b)]
        )

    def custom(
        self,
        cells: list[Any],
        *,
        height: float | None = None,
        span: bool = False,
        rule_below: bool = True,
    ) -> int:
        """One row of ``cells``; ``span`` joins the value columns into one cell."""
        row = self._row(cells, height)
        if span:
            self._span(row)
        elif self.columns > 2:
            self.commands.append(("LINEAFTER", (1, row), (-2, row), LINE_WIDTH, GRID))
        if rule_below:
            self.commands.append(("LINEBELOW", (0, row), (-1, row), LINE_WIDTH, GRID))
        return row

    def table(self) -> Table:
        style = [
            ("FONTNAME", (0, 0), (-1, -1), self.fonts.body),  # else empty cells use Helvetica
            ("BOX", (0, 0), (-1, -1), LINE_WIDTH, GRID),
            ("LINEAFTER", (0, 0), (0, -1), LINE_WIDTH, GRID),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("LEFTPADDING", (0, 0), (-1, -1), PAD_X),
            ("RIGHTPADDING", (0, 0), (-1, -1), PAD_X),
            ("TOPPADDING", (0, 0), (-1, -1), PAD_Y),
            ("BOTTOMPADDING", (0, 0), (-1, -1), PAD_Y),
            *self.commands,
        ]
        return Table(
            self.rows,
            colWidths=self.col_widths,
            rowHeights=self.heights,
            style=TableStyle(style),
        )


# --- the slip ----------------------------------------------------------------------------------

VALUE_SIZE = 12.0  # 小四
VALUE_LEADING = 16.0
SEAL_SIZE = 10.5
SEAL_LEADING = 14.0
SEAL_LABEL = "签发单位\n（盖章）"
SEAL_AREA_HEIGHT = 22 * mm  # the lower half of a 42 mm seal, centred on the name and the date
STUB_SIZE = 10.5  # 五号
STUB_LEADING = 15.0
NOTE_SIZE = 10.5


# GB/T 9704 §7.5: 4号 numerals with a dash (一字线) each side, the dashes' top 7 mm under the
# 版心; an odd page's number at the right, an even page's at the left, one character in.
PAGE_NUMBER_SIZE = 14.0  # 4号
PAGE_NUMBER_INDENT = PAGE_NUMBER_SIZE  # 空一字
# The dash sits about 0.3 em above the baseline in these fonts (measured on the rendered page).
PAGE_NUMBER_BASELINE = BOTTOM_MARGIN - 7 * mm - 0.3 * PAGE_NUMBER_SIZE


def page_number_position(page: int, page_width: float) -> tuple[float, str]:
    """Where a page's number goes: (x, alignment) — odd right, even left, one character in."""
    if page % 2:
        return page_width - RIGHT_MARGIN - PAGE_NUMBER_INDENT, "right"
    return LEFT_MARGIN + PAGE_NUMBER_INDENT, "left"


class _SlipLayout:
    def __init__(
        self, content: SlipContent, reprint_at: datetime | None, draft: bool = False
    ) -> None:
        self.content = content
        self.reprint_at = reprint_at
        self.draft = draft
        self.fonts = register_fonts()
        self.setter = _Typesetter(self.fonts)
        self.page_width, self.page_height = (float(v) for v in A4)
        self.frame_width = self.page_width - LEFT_MARGIN - RIGHT_MARGIN
        label_w = 24 * mm
        value_w = (self.frame_width - 2 * label_w) / 2
        self.col_widths = [label_w, value_w, label_w, value_w]

    def text(self, text: str, size: float, leading: float, align: str = "left") -> _Text:
        return _Text(self.setter, text, self.fonts.body, size, leading, align)

    def header(self) -> Table:
        setter, fonts, content = self.setter, self.fonts, self.content
        side_w = 32 * mm
        centre_w = self.frame_width - 2 * side_w
        title = slip_title(content.kind)
        title_size = setter.fit(title, fonts.title, 22.0, centre_w - 4, 16.0)  # 二号
        centre = [
            _Text(setter, title, fonts.title, title_size, title_size * 1.3, "center"),
            Spacer(1, 1.5 * mm),
            _Text(setter, content.number, fonts.body, 16.0, 20.0, "center"),  # 三号
        ]
        left: list[Flowable] = []
        if self.draft:
            left = [self.draft_mark(28 * mm)]
        elif self.reprint_at is not None:
            left = [self.reprint_mark(self.reprint_at, 28 * mm)]
        right: list[Flowable] = []
        if self.draft:
            right = [self.qr_placeholder()]
        elif content.qr_payload:
            right = [
                _QrCode(content.qr_payload, QR_SIZE),
                Spacer(1, 1 * mm),
                _Text(setter, "扫码核验", fonts.body, 9.0, 11.0, "center"),
            ]
        return Table(
            [[left, centre, right]],
            colWidths=[side_w, centre_w, side_w],
            style=TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), fonts.body),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("ALIGN", (0, 0), (0, 0), "LEFT"),
                    ("ALIGN", (2, 0), (2, 0), "RIGHT"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                    ("LEFTPADDING", (2, 0), (2, 0), side_w - QR_SIZE),
                    ("TOPPADDING", (0, 0), (-1, -1), 0),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
                ]
            ),
        )

    def draft_mark(self, width: float) -> Table:
        """The 草稿 stamp where a reprint has its 补打 mark: not yet a paper anyone may act on."""
        return self._stamp("草　稿", ["签发前预览", "不作交办依据"], width)

    def qr_placeholder(self) -> Table:
        """A dashed frame the size of the QR code: the draft keeps the signed paper's layout."""
        setter, fonts = self.setter, self.fonts
        return Table(
            [[_Text(setter, "签发后生成核验二维码", fonts.body, 8.0, 11.0, "center")]],
            colWidths=[QR_SIZE],
            rowHeights=[QR_SIZE],
            hAlign="RIGHT",
            style=TableStyle(
                [
                    ("BOX", (0, 0), (-1, -1), 0.5, RULE, None, (2, 2)),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 3),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ]
            ),
        )

    def reprint_mark(self, moment: datetime, width: float) -> Table:
        when = [chinese_date(moment), chinese_date(moment, parts="time")]
        return self._stamp("补　打", ["补打时间", *when], width)

    def _stamp(self, title: str, lines: list[str], width: float) -> Table:
        """A boxed mark beside the paper's title: a big word, a rule, small lines under it."""
        setter, fonts = self.setter, self.fonts
        cells = [[_Text(setter, title, fonts.title, 16.0, 20.0, "center")]] + [
            [_Text(setter, line, fonts.body, 8.0, 10.0, "center")] for line in lines
        ]
        return Table(
            cells,
            colWidths=[width],
            hAlign="LEFT",
            style=TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), fonts.body),
                    ("BOX", (0, 0), (-1, -1), 1.5, BLACK),
                    ("LINEBELOW", (0, 0), (0, 0), 0.5, BLACK),
                    ("LEFTPADDING", (0, 0), (-1, -1), 2),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                    ("TOPPADDING", (0, 0), (-1, -1), 0.5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 0.5),
                    ("TOPPADDING", (0, 0), (0, 1), 3),
                    ("BOTTOMPADDING", (0, 0), (0, 0), 3),
                    ("BOTTOMPADDING", (0, -1), (0, -1), 3),
                ]
            ),
        )

    def deadline_text(self) -> str:
        content = self.content
        if content.working_days == 0:  # 马上办: the day it is issued
            text = f"{chinese_date(content.due_date)}（当日办结）"
        else:
            text = f"{chinese_date(content.due_date)}前（{content.working_days}个工作日）"
        if content.due_provisional:  # counted through a year whose holidays are not known
            text += "【暂定：所跨年份的节假日安排尚未公布，公布后如有调整另行通知】"
        return text

    def basis_text(self) -> str:
        return (
            "认为不能办理的，请在提交时限内填写下方回执联（可另附页）作为书面依据，"
            "由单位主要负责人签字背书并加盖单位公章。"
        )

    def main_table(self) -> Table:
        content = self.content
        kind = content.kind
        form = _Form(self.setter, self.col_widths, size=VALUE_SIZE, leading=VALUE_LEADING)
        id_text = content.complainant_id_masked or "未提供"
        if content.earlier_number:
            form.pair("原单号", content.earlier_number, "事项编号", content.case_number)
        form.full("承办单位", content.lead_department, "left")
        form.full("协办单位", "、".join(content.assisting_departments) or "无", "left")
        form.pair("反映人", content.complainant, "联系方式", content.complainant_contact)
        if content.earlier_number:
            form.full("证件号码", id_text, "left")
        else:
            form.pair("事项编号", content.case_number, "证件号码", id_text)
        if content.nature or content.approach:  # printed since issue 14 (seed 002)
            # 往返次数 beside the approach: one row, so the paper still fits one page.
            approach = content.approach or "—"
            if content.visits:
                approach += f"（往返次数：{content.visits}次）"
            form.pair("问题性质", content.nature or "未甄别", "处置方式", approach)
        elif content.visits:
            form.full("往返次数", f"{content.visits}次", "left")
        form.full("反映事项", content.matter_title)
        form.full("具体情况", content.matter_description)
        if kind is PaperKind.BASIS_REQUEST:
            form.full("告知事项", self.basis_text())
            if content.requirements:
                form.full(REQUIREMENT_LABELS[kind], content.requirements)
            form.full("提交时限", self.deadline_text(), "left")
        else:
            form.full(REQUIREMENT_LABELS[kind], content.requirements)
            # A 催办通知's deadline is the feedback date (the one it chases has passed).
            label = "反馈时限" if kind is PaperKind.URGE else "办理时限"
            form.full(label, self.deadline_text(), "left")
        # 签发人 on the left; on the right the seal area: the issuing organ with the date centred
        # under it, so one seal presses over both (GB/T 9704 §7.3.5.1). The row is tall enough for
        # the seal's lower half; it grows if a long name needs more lines.
        fonts, setter = self.fonts, self.setter
        seal_w = self.col_widths[3] - 2 * PAD_X
        seal_lines = setter.lines(content.issuer, fonts.body, SEAL_SIZE, seal_w)
        seal = [
            _Text(setter, content.issuer, fonts.body, SEAL_SIZE, SEAL_LEADING, "center"),
            Spacer(1, 1 * mm),
            form.value(chinese_date(content.issued_at), "center"),
        ]
        seal_h = len(seal_lines) * SEAL_LEADING + 1 * mm + VALUE_LEADING + 2 * PAD_Y
        form.custom(
            [form.label("签发人"), form.value(content.signer), form.label(SEAL_LABEL), seal],
            height=max(SEAL_AREA_HEIGHT, seal_h),
        )
        return form.table()

    def note(self) -> _Text:
        content = self.content
        if content.kind is PaperKind.BASIS_REQUEST:
            ask = ""  # said in 告知事项
        elif content.kind is PaperKind.URGE:
            ask = "请抓紧办理，在反馈时限内将办理结果书面反馈监督窗口"
        elif content.kind is PaperKind.ADJUST:
            ask = "请按调整后的办理时限办结，并将办理结果书面反馈监督窗口"
        elif content.kind is PaperKind.SUPERVISE:
            ask = "请按督办要求在办理时限内办结，并将办理结果书面反馈监督窗口"
        else:
            ask = "请在办理时限内办结并书面反馈；确属不能办理的，应书面说明理由和政策依据"
        text = f"注：{ask + '。' if ask else ''}请填写下方回执联并加盖单位公章后交回。" + (
            f"咨询电话：{content.window_phone}。" if content.window_phone else ""
        )
        return self.text(text, NOTE_SIZE, NOTE_SIZE * 1.5, "justify")

    def stub(self, result_lines: int = RESULT_LINES[-1]) -> list[Flowable]:
        """The 回执联, with ``result_lines`` lines to write the 办理结果 on."""
        setter, fonts, content = self.setter, self.fonts, self.content
        form = _Form(setter, self.col_widths, size=STUB_SIZE, leading=STUB_LEADING, label_size=11)
        form.pair(
            STUB_NUMBER_LABELS[content.kind], content.number, "承办单位", content.lead_department
        )
        if content.kind is PaperKind.BASIS_REQUEST:
            # The written basis itself, dated where the principal leader signs: no 签收 row.
            self.basis_stub_rows(form)
            return [
                _CutLine(setter),
                _Text(setter, STUB_TITLE, fonts.title, 12.0, 16.0, "center"),
                Spacer(1, 1 * mm),
                form.table(),
            ]
        form.custom(
            [
                form.label("签收人"),
                "",
                form.label("签收时间"),
                form.value("　　年　　月　　日　　时", "right"),
            ],
            height=8 * mm,
        )
        if content.kind is not PaperKind.ADJUST:  # a 时限调整通知 is signed for, not answered
            form.custom([form.label("办理结果"), _RuledLines(result_lines, 6.5 * mm)], span=True)
        row = form.custom(
            [form.label("单位盖章"), form.value("（盖章）　　　　年　　月　　日", "right")],
            height=13 * mm,
            span=True,
        )
        form.commands.append(("VALIGN", (1, row), (1, row), "BOTTOM"))
        return [
            _CutLine(setter),
            _Text(setter, STUB_TITLE, fonts.title, 12.0, 16.0, "center"),
            Spacer(1, 1.5 * mm),
            form.table(),
        ]

    def basis_stub_rows(self, form: _Form) -> None:
        """The 依据告知单's 回执联 is the written basis itself (seed 002): the reason, the laws
        and policy documents relied on, signed by the principal leader under the unit's seal."""
        setter = self.setter
        form.custom([form.label("不能办理的理由"), _RuledLines(2, 5.5 * mm)], span=True)
        # What to list, under the label: the lines stay free for the laws and documents.
        what = "（法律法规、政策文件的名称、文号、条款）"
        hint = _Text(setter, what, setter.fonts.body, 8.0, 10.0, "center")
        form.custom([[form.label("政策依据"), hint], _RuledLines(2, 6 * mm)], span=True)
        row = form.custom(
            [
                form.label("主要负责人签字"),
                "",
                form.label("单位盖章"),
                form.value("（盖章）　　年　　月　　日", "right"),
            ],
            height=11 * mm,
        )
        form.commands.append(("VALIGN", (3, row), (3, row), "BOTTOM"))

    def story(self) -> list[Flowable]:
        masthead: list[Flowable] = []
        if self.content.masthead:
            masthead = [_Masthead(self.setter, self.content.masthead)]
        return [
            *masthead,
            self.header(),
            Spacer(1, 3 * mm),
            self.main_table(),
            Spacer(1, 1.5 * mm),
            self.note(),
            Spacer(1, 2 * mm),
            # As many lines for the 办理结果 as the page has room for, at least two.
            _AtBottom(*(self.stub(lines) for lines in RESULT_LINES)),
        ]

    def watermark(self, canvas: Any, doc: Any) -> None:
        """草稿 across the page, over the content but see-through, so no one mistakes a draft
        (or a photo of one) for a signed paper."""
        if not self.draft:
            return
        canvas.saveState()
        canvas.translate(self.page_width / 2, self.page_height / 2)
        canvas.rotate(35)
        self.setter.draw(
            canvas, 0, -40, "草　稿", self.fonts.title, 140.0, "center", color=WATERMARK
        )
        canvas.restoreState()

    def on_page(self, canvas: Any, doc: Any) -> None:
        page = canvas.getPageNumber()
        x, align = page_number_position(page, self.page_width)
        self.setter.draw(
            canvas,
            x,
            PAGE_NUMBER_BASELINE,
            f"— {page} —",
            self.fonts.body,
            PAGE_NUMBER_SIZE,
            align,
        )
        if page > 1:  # a continuation page names the slip it belongs to
            self.setter.draw(
                canvas,
                self.page_width - RIGHT_MARGIN,
                self.page_height - TOP_MARGIN + 4 * mm,
                f"{self.content.number}（续页）",
                self.fonts.body,
                10.5,
                "right",
            )


def _build(
    story: list[Flowable],
    *,
    pagesize: tuple[float, float],
    margins: tuple[float, float, float, float],  # top, right, bottom, left
    on_page: Callable[[Any, Any], None],
    fonts: FontSet,
    on_page_end: Callable[[Any, Any], None] | None = None,
    title: str,
    author: str,
    subject: str,
    stamp: datetime,
) -> bytes:
    buffer = io.BytesIO()
    top, right, bottom, left = margins
    width, height = pagesize
    pdf_date = _pdf_date(stamp)

    def decorate(canvas: Any, doc: Any) -> None:
        canvas.setDateFormatter(lambda *_: pdf_date)  # reproducible, yet the real date
        on_page(canvas, doc)

    doc = BaseDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=left,
        rightMargin=right,
        topMargin=top,
        bottomMargin=bottom,
        title=title,
        author=author,
        subject=subject,
        creator="bbcs 办不成事监督窗口工作台",
        invariant=1,
        pageCompression=1,
        initialFontName=fonts.body,  # else an unused, unembedded Helvetica is referenced
    )
    frame = Frame(
        left,
        bottom,
        width - left - right,
        height - top - bottom,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="body",
    )
    template = PageTemplate(id="page", frames=[frame], onPage=decorate)
    if on_page_end is not None:
        template.onPageEnd = on_page_end
    doc.addPageTemplates([template])
    doc.build(story)
    return buffer.getvalue()


def render_slip(
    content: SlipContent,
    *,
    reprint_at: datetime | None = None,
    out: Path | None = None,
    draft: bool = False,
) -> bytes:
    """Render an issued slip as an A4 PDF and return its bytes (also written to ``out``).

    ``reprint_at`` marks the paper 补打 with that time; everything else is as first issued.
    ``draft`` marks it 草稿 (stamp and watermark, a frame instead of the QR code): the paper a
    duty leader looks at before signing.
    Raises :class:`UnprintableCharacters` if a character cannot be printed (nothing is written).
    """
    _ensure_printable(content)
    layout = _SlipLayout(content, None if draft else reprint_at, draft)
    title = slip_title(content.kind)
    if draft:
        suffix = "（草稿）"
    elif reprint_at:
        suffix = "（补打）"
    else:
        suffix = ""
    data = _build(
        layout.story(),
        pagesize=(layout.page_width, layout.page_height),
        margins=(TOP_MARGIN, RIGHT_MARGIN, BOTTOM_MARGIN, LEFT_MARGIN),
        on_page=layout.on_page,
        fonts=layout.fonts,
        title=f"{title} {content.number}{suffix}",
        author=content.issuer,
        subject=f"{content.case_number} {content.matter_title}",
        stamp=(None if draft else reprint_at) or content.issued_at,
        on_page_end=layout.watermark if draft else None,
    )
    if out is not None:
        _write_out(Path(out), data)
    return data


# --- the 受理回执 --------------------------------------------------------------------------------


def render_receipt(content: ReceiptContent, *, out: Path | None = None) -> bytes:
    """Render the 受理回执 for the complainant as an A5 portrait PDF and return its bytes."""
    _ensure_printable(content)
    fonts = register_fonts()
    setter = _Typesetter(fonts)
    width, height = (float(v) for v in A5)
    top, right, bottom, left = 18 * mm, 16 * mm, 18 * mm, 18 * mm
    frame_width = width - left - right
    label_w = 22 * mm
    form = _Form(setter, [label_w, frame_width - label_w], size=11.0, leading=16.0)
    case_number = _Text(setter, content.case_number, fonts.title, 16.0, 20.0)  # prominent
    form.custom([form.label("事项编号"), case_number], height=11 * mm)
    form.full("反映人", content.complainant, "left")
    form.full("反映事项", content.matter_title)
    form.full("受理时间", chinese_date(content.received_at, parts="date_time"), "left")
    form.full("受理人", content.clerk, "left")
    if content.reply:
        form.full("答复时间", content.reply)
    form.full("后续办理", content.next_steps)
    if content.window_phone:
        form.full("咨询电话", content.window_phone, "left")
    note = (
        "请妥善保管本回执，凭事项编号向监督窗口查询办理进度；"
        "如对办理结果不满意，可持本回执再次反映。"
    )
    issuer_block: list[Flowable] = [
        _Text(setter, content.issuer, fonts.body, 11.0, 16.0, "right"),
        _Text(
            setter,
            f"{chinese_date(content.received_at)}（盖章）",
            fonts.body,
            11.0,
            16.0,
            "right",
        ),
    ]
    story: list[Flowable] = [
        _Text(setter, "受理回执", fonts.title, 22.0, 30.0, "center"),
        _Text(setter, content.issuer, fonts.body, 10.5, 15.0, "center"),
        Spacer(1, 4 * mm),
        form.table(),
        Spacer(1, 2 * mm),
        _Text(setter, note, fonts.body, 10.5, 15.75, "justify"),
        Spacer(1, 5 * mm),
    ]
    if content.qr_payload:
        qr_size = 20 * mm
        qr_cell = [
            _QrCode(content.qr_payload, qr_size),
            Spacer(1, 1 * mm),
            _Text(setter, "扫码核验", fonts.body, 8.0, 10.0, "center"),
        ]
        story.append(
            Table(
                [[qr_cell, issuer_block]],
                colWidths=[qr_size, frame_width - qr_size],
                style=TableStyle(
                    [
                        ("FONTNAME", (0, 0), (-1, -1), fonts.body),
                        ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                        ("LEFTPADDING", (0, 0), (-1, -1), 0),
                        ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                        ("TOPPADDING", (0, 0), (-1, -1), 0),
                        ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
                    ]
                ),
            )
        )
    else:
        story.extend(issuer_block)

    def on_page(canvas: Any, doc: Any) -> None:
        if canvas.getPageNumber() > 1:  # a receipt is one page; a second one is numbered
            setter.draw(
                canvas,
                width / 2,
                bottom - 7 * mm - 10.0,
                f"— {canvas.getPageNumber()} —",
                fonts.body,
                12.0,
                "center",
            )

    data = _build(
        story,
        pagesize=(width, height),
        margins=(top, right, bottom, left),
        on_page=on_page,
        fonts=fonts,
        title=f"受理回执 {content.case_number}",
        author=content.issuer,
        subject=content.matter_title,
        stamp=content.received_at,
    )
    if out is not None:
        _write_out(Path(out), data)
    return data
