"""问题线索移交函 (issue 16): the letter that sends an accountability referral to the discipline
organ, the stationed group or the official's unit, with the evidence list.

:class:`LetterContent` is what the letter says, frozen when the duty leader signs it (stored as
JSON on the referral, as a slip's content is); :func:`render_letter` draws it on A4 with the
official fonts (domain-free reportlab canvas, the same glyph-by-glyph fallback as the slips). A
character no font has refuses the letter instead of printing a gap. Personal numbers arrive
masked: the letter never holds one in clear.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, fields
from datetime import date
from typing import Any, Self

from reportlab.lib.colors import HexColor  # type: ignore[import-untyped,unused-ignore]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped,unused-ignore]
from reportlab.lib.units import mm  # type: ignore[import-untyped,unused-ignore]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped,unused-ignore]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped,unused-ignore]

from desktop_app.documents.fonts import BUNDLED_FONT_NAME, font_runs, missing_glyphs, register_fonts
from desktop_app.domain.vocabulary import chinese_date
from desktop_app.errors import UserError

TITLE = "问题线索移交函"
LEFT = 28 * mm  # GB/T 9704: 左白边 28 mm, 版心 156 mm
RIGHT = 26 * mm
TOP = 37 * mm
BOTTOM = 35 * mm
BODY_SIZE = 15.0  # 三号 is 16 pt; a touch smaller keeps a long evidence list on fewer pages
LINE = 1.55
SIGNATURE_GAP = 10.0  # between the last paragraph and the 落款
RED = HexColor("#c0392b")


@dataclass(frozen=True)
class EvidenceLine:
    kind: str  # its label, e.g. 超期未办结
    date: str  # ISO
    text: str
    ref: str  # a paper's number, when the evidence is a paper


@dataclass(frozen=True)
class LetterContent:
    number: str
    issuer: str
    masthead: str
    recipient: str  # 纪检监察机关 / 派驻纪检监察组 / 所在单位
    recipient_name: str
    case_number: str
    case_title: str
    received_on: str  # ISO date
    complainant: str
    complainant_phone: str  # masked
    person_name: str
    person_post: str
    person_unit: str
    conduct: tuple[str, ...]  # labels
    facts: str
    evidence: tuple[EvidenceLine, ...]
    window_name: str
    window_phone: str
    signer: str
    sent_on: str  # ISO date

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["conduct"] = tuple(data.get("conduct", ()))
        values["evidence"] = tuple(EvidenceLine(**e) for e in data.get("evidence", ()))
        return cls(**values)

    def texts(self) -> list[str]:
        """Every text the letter prints (for the glyph check)."""
        out = [
            self.number,
            self.issuer,
            self.masthead,
            self.recipient_name,
            self.case_number,
            self.case_title,
            self.complainant,
            self.person_name,
            self.person_post,
            self.person_unit,
            self.facts,
            self.window_name,
            self.window_phone,
            self.signer,
            *self.conduct,
        ]
        for line in self.evidence:
            out += [line.kind, line.text, line.ref]
        return out


def render_letter(content: LetterContent, *, reprint: bool = False) -> bytes:
    """The letter as PDF bytes; ``reprint`` marks a later copy 补打."""
    fonts = register_fonts()
    missing = missing_glyphs("".join(content.texts()), fonts.chain(fonts.body))
    if missing:
        raise UserError(
            "移交函中有本机字体无法打印的字：" + "".join(missing) + "。请改写后再签发或打印。"
        )
    writer = _Writer(fonts.body, fonts.chain(fonts.body), fonts.chain(fonts.title))
    writer.canvas.setTitle(f"{TITLE} {content.number}")
    writer.canvas.setAuthor(content.issuer)
    if reprint:
        writer.stamp("补打")
    if content.masthead:
        writer.line(content.masthead, 22, align="center", title=True, colour=RED)
        writer.rule()
    writer.line(TITLE, 22, align="center", title=True)
    writer.line(content.number, BODY_SIZE, align="center")
    writer.gap(4)
    writer.paragraph(f"{content.recipient_name}：", indent=False)
    unit = "，".join(x for x in (content.person_unit, content.person_post) if x)
    who = f"{unit}{content.person_name}" if unit else content.person_name
    contact = f"，联系电话{content.complainant_phone}" if content.complainant_phone else ""
    addressed = {"纪检监察机关": "你委", "派驻纪检监察组": "你组"}.get(content.recipient, "你单位")
    writer.paragraph(
        f"{content.window_name}在办理{chinese_date(date.fromisoformat(content.received_on))}"
        f"受理的反映事项“{content.case_title}”（编号{content.case_number}，反映人："
        f"{content.complainant}{contact}）过程中，发现{who}存在"
        f"{'、'.join(content.conduct)}等问题。根据有关规定，现将该问题线索移交{addressed}，"
        "请依规依纪依法处置，并将处理结果及时反馈我窗口。"
    )
    writer.paragraph("一、被反映人基本情况", heading=True)
    writer.paragraph(
        f"姓名：{content.person_name}；职务：{content.person_post or '（未登记）'}；"
        f"单位：{content.person_unit or '（未登记）'}。"
    )
    writer.paragraph("二、主要问题", heading=True)
    writer.paragraph(f"问题表现：{'、'.join(content.conduct)}。")
    writer.paragraph(content.facts)
    writer.paragraph(f"三、证据材料清单（共{len(content.evidence)}项，摘自办理记录）", heading=True)
    signed = [
        content.issuer,
        f"签发人：{content.signer}",
        chinese_date(date.fromisoformat(content.sent_on)),
    ]
    # The 落款 never stands alone on a page (GB/T 9704): the last lines before it go with it.
    with_signature = SIGNATURE_GAP + writer.signature_height(signed)
    for index, item in enumerate(content.evidence, 1):
        ref = f"（{item.ref}）" if item.ref and item.ref not in item.text else ""
        writer.paragraph(
            f"{index}．{chinese_date(date.fromisoformat(item.date))}　【{item.kind}】"
            f"{item.text}{ref}",
            size=12.5,
            hanging=True,
            keep_with_next=with_signature if index == len(content.evidence) else 0.0,
        )
    if not content.evidence:
        writer.paragraph("（办理记录中暂无可列证据）", size=12.5, keep_with_next=with_signature)
    writer.gap(SIGNATURE_GAP)
    writer.signature(signed)
    if content.window_phone:
        writer.gap(6)
        writer.paragraph(f"（联系电话：{content.window_phone}）", indent=False, size=12.5)
    return writer.finish()


class _Writer:
    """Lines top-down on A4 pages, wrapped to the type area, a new page when one is full."""

    def __init__(self, body: str, chain: tuple[str, ...], title_chain: tuple[str, ...]) -> None:
        self.buffer = io.BytesIO()
        self.canvas = Canvas(self.buffer, pagesize=A4)
        self.chain = list(chain)
        self.title_chain = list(title_chain)
        self.body = body
        self.width = A4[0] - LEFT - RIGHT
        self.y = A4[1] - TOP
        self.page = 1

    def stamp(self, text: str) -> None:
        self.canvas.saveState()
        self.canvas.setFillColor(RED)
        _draw(self.canvas, A4[0] - RIGHT - 40, A4[1] - 20 * mm, text, 16, self.chain)
        self.canvas.restoreState()

    def gap(self, points: float) -> None:
        self.y -= points

    def rule(self) -> None:
        self.canvas.saveState()
        self.canvas.setStrokeColor(RED)
        self.canvas.setLineWidth(1.5)
        self.canvas.line(LEFT, self.y + 8, A4[0] - RIGHT, self.y + 8)
        self.canvas.restoreState()
        self.y -= 14

    def _room(self, height: float) -> None:
        if self.y - height < BOTTOM:
            self._footer()
            self.canvas.showPage()
            self.page += 1
            self.y = A4[1] - TOP + 12 * mm

    def line(
        self,
        text: str,
        size: float,
        *,
        align: str = "left",
        title: bool = False,
        colour: Any = None,
    ) -> None:
        chain = self.title_chain if title else self.chain
        height = size * LINE
        self._room(height)
        self.y -= size
        width = _width(text, size, chain)
        x = LEFT + (self.width - width) / 2 if align == "center" else LEFT
        if align == "right":
            x = LEFT + self.width - width
        if colour is not None:
            self.canvas.saveState()
            self.canvas.setFillColor(colour)
        _draw(self.canvas, x, self.y, text, size, chain)
        if colour is not None:
            self.canvas.restoreState()
        self.y -= height - size

    def paragraph(
        self,
        text: str,
        *,
        size: float = BODY_SIZE,
        indent: bool = True,
        heading: bool = False,
        hanging: bool = False,
        keep_with_next: float = 0.0,
    ) -> None:
        """A paragraph, first line indented two characters (公文 style), wrapped.
        ``keep_with_next``: the height of what follows it; its last two lines (or its only
        one) start a new page with it rather than leave it alone on the next."""
        lead = 2 * size if indent and not hanging else 0.0
        hang = 2 * size if hanging else 0.0
        lines = _wrap(text, self.width, size, self.chain, first=lead, rest=hang)
        kept = min(2, len(lines))
        for number, piece in enumerate(lines):
            if keep_with_next and number == len(lines) - kept:
                self._room(kept * size * LINE + keep_with_next)
            self._room(size * LINE)
            self.y -= size
            x = LEFT + (lead if number == 0 else hang)
            _draw(self.canvas, x, self.y, piece, size, self.chain, bold=heading)
            self.y -= size * (LINE - 1)

    def signature_height(self, lines: list[str]) -> float:
        return len(lines) * BODY_SIZE * LINE

    def signature(self, lines: list[str]) -> None:
        """The issuer, signer and date, right-aligned under each other (落款)."""
        size = BODY_SIZE
        self._room(len(lines) * size * LINE)
        widest = max(_width(line, size, self.chain) for line in lines)
        for line in lines:
            self.y -= size
            width = _width(line, size, self.chain)
            x = LEFT + self.width - 2 * size - (widest + width) / 2
            _draw(self.canvas, x, self.y, line, size, self.chain)
            self.y -= size * (LINE - 1)

    def _footer(self) -> None:
        text = f"— {self.page} —"
        width = _width(text, 12, self.chain)
        _draw(self.canvas, (A4[0] - width) / 2, 18 * mm, text, 12, self.chain)

    def finish(self) -> bytes:
        self._footer()
        self.canvas.showPage()
        self.canvas.save()
        return self.buffer.getvalue()


def _draw(
    canvas: Canvas,
    x: float,
    y: float,
    text: str,
    size: float,
    chain: list[str],
    *,
    bold: bool = False,
) -> None:
    """Each character in the first font that has it (the bundled Chinese font has no digits)."""
    text_object = canvas.beginText(x, y)
    if bold:  # a heading is filled and stroked, as 黑体 would look beside 仿宋
        text_object.setTextRenderMode(2)
        canvas.setLineWidth(0.35)
    for font, run in font_runs(text, chain):
        text_object.setFont(font or BUNDLED_FONT_NAME, size)
        text_object.textOut(run)
    if bold:  # the mode is graphics state: it would outlive this line
        text_object.setTextRenderMode(0)
    canvas.drawText(text_object)


def _advance(char: str, size: float, chain: list[str]) -> float:
    font = font_runs(char, chain)[0][0] or BUNDLED_FONT_NAME
    return float(pdfmetrics.stringWidth(char, font, size))


def _width(text: str, size: float, chain: list[str]) -> float:
    return sum(_advance(c, size, chain) for c in text)


def _tokens(text: str) -> list[str]:
    """Units a line may not break inside: a run of Latin letters, digits and the marks of a
    number (杞县-2026-0001, 138****5678), or one character."""
    tokens: list[str] = []
    for char in text:
        if tokens and char in _UNBROKEN and tokens[-1][-1] in _UNBROKEN:
            tokens[-1] += char
        else:
            tokens.append(char)
    return tokens


def _wrap(
    text: str, width: float, size: float, chain: list[str], *, first: float, rest: float
) -> list[str]:
    """Lines no wider than the type area (避头尾): 、，。） never start a line and （“〔 never
    end one; a number is never split."""
    lines: list[str] = []
    line, used, room = "", 0.0, width - first
    for token in _tokens(text):
        advance = _width(token, size, chain)
        if line and used + advance > room and token not in _NO_LINE_START:
            carried = ""
            while line and line[-1] in _NO_LINE_END:
                carried, line = line[-1] + carried, line[:-1]
            lines.append(line)
            line, room = carried, width - rest
            used = _width(line, size, chain)
        line += token
        used += advance
    return [*lines, line] if line or not lines else lines


_UNBROKEN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-*./:")
_NO_LINE_START = frozenset("、，。；：）」”！？")
_NO_LINE_END = frozenset("（「“〔《")
