"""会议纪要: the minutes of a joint meeting (联席会议), an A4 paper in the 纪要 format of
GB/T 9704-2012 §10.3 as the slips lay it out (the same 版心 margins, fonts and page numbers).

The 纪要标志 (the office's line and 联席会议纪要) is red over the number and a red rule; the
meeting's topic is the title; the body says when, where, who chaired, then each matter taken up
(一、二、… in 黑体) with its discussion, decision and follow-up assignment; 出席 and 记录 close
it, and the 版记 at the foot of the last page names the issuer and the date. Content is a plain
:class:`MinutesContent` made by the meetings service; this module only draws it. Characters no
font can draw raise :class:`UnprintableCharacters` before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped,unused-ignore]
from reportlab.lib.units import mm  # type: ignore[import-untyped,unused-ignore]
from reportlab.platypus import (  # type: ignore[import-untyped,unused-ignore]
    Flowable,
    Spacer,
    Table,
    TableStyle,
)

from desktop_app.documents.fonts import register_fonts
from desktop_app.documents.slip_pdf import (
    BLACK,
    BOTTOM_MARGIN,
    LEFT_MARGIN,
    MASTHEAD_RED,
    PAGE_NUMBER_BASELINE,
    PAGE_NUMBER_SIZE,
    RIGHT_MARGIN,
    TOP_MARGIN,
    _AtBottom,
    _build,
    _Text,
    _Typesetter,
    _write_out,
    page_number_position,
)
from desktop_app.domain.vocabulary import chinese_date

__all__ = ["MINUTES_TITLE", "MinutesContent", "MinutesMatter", "render_minutes"]

MINUTES_TITLE = "联席会议纪要"
BODY_SIZE = 16.0  # 三号仿宋
BODY_LEADING = 28.0  # 22 lines to the 版心, as GB/T 9704 §5.2.2 asks
INDENT = "\u3000\u3000"  # 段首空二字
NUMERALS = "一二三四五六七八九十"


@dataclass(frozen=True)
class MinutesMatter:
    """One matter of the minutes: what it was, what was said and decided, the follow-up."""

    matter: str
    discussion: str = ""
    decision: str = ""
    follow_up: str = ""  # "交杞县医疗保障局5个工作日内办理，交办单 杞纪窗交〔2026〕3号 …"


@dataclass(frozen=True)
class MinutesContent:
    number: str  # 杞纪窗纪〔2026〕1号
    issuer: str  # 中共杞县纪委 杞县监委“办不成事”监督窗口
    topic: str
    held_at: datetime
    chair: str
    issued_at: datetime
    place: str = ""
    attendees: tuple[str, ...] = ()
    recorder: str = ""
    summary: str = ""
    masthead: str = ""  # 公文设置's 版头 line; empty: the issuer stands over the 纪要标志
    matters: tuple[MinutesMatter, ...] = field(default=())

    def opening(self) -> str:
        """The first paragraph: when, where, who chaired, what about."""
        place = f"在{self.place}" if self.place else ""
        when = chinese_date(self.held_at, parts="date_time")
        text = f"{when}，{place}召开“办不成事”联席会议，研究{self.topic}。会议由{self.chair}主持"
        if self.attendees:
            text += f"，{'、'.join(self.attendees)}参加"
        return text + "。现将会议研究事项纪要如下："


def numeral(index: int) -> str:
    """1 → 一, 12 → 十二 (the heading numbers of the matters)."""
    if index <= 10:
        return NUMERALS[index - 1]
    tens, ones = divmod(index, 10)
    return f"{NUMERALS[tens - 1] if tens > 1 else ''}十{NUMERALS[ones - 1] if ones else ''}"


class _MinutesLayout:
    def __init__(self, content: MinutesContent) -> None:
        self.content = content
        self.fonts = register_fonts()
        self.setter = _Typesetter(self.fonts)
        self.page_width, self.page_height = (float(v) for v in A4)
        self.frame_width = self.page_width - LEFT_MARGIN - RIGHT_MARGIN

    def body(self, text: str, font: str | None = None, align: str = "justify") -> _Text:
        return _Text(self.setter, text, font or self.fonts.body, BODY_SIZE, BODY_LEADING, align)

    def mark(self) -> list[Flowable]:
        """The 纪要标志 in red: the office's line, 联席会议纪要, the number, a red rule."""
        setter, fonts, content = self.setter, self.fonts, self.content
        office = content.masthead or content.issuer
        office_size = setter.fit(office, fonts.title, 18.0, self.frame_width, 12.0)
        title_size = setter.fit(MINUTES_TITLE, fonts.title, 36.0, self.frame_width, 22.0)
        return [
            _Red(setter, office, fonts.title, office_size, office_size * 1.5),
            _Red(setter, MINUTES_TITLE, fonts.title, title_size, title_size * 1.5, 6.0),
            Spacer(1, 3 * mm),
            _Text(setter, content.number, fonts.body, BODY_SIZE, 22.0, "center"),
            _RedRule(),
            Spacer(1, 6 * mm),
        ]

    def story(self) -> list[Flowable]:
        content, fonts = self.content, self.fonts
        title_size = self.setter.fit(content.topic, fonts.title, 22.0, self.frame_width, 16.0)
        story: list[Flowable] = [
            *self.mark(),
            _Text(self.setter, content.topic, fonts.title, title_size, title_size * 1.6, "center"),
            Spacer(1, 4 * mm),
            self.body(INDENT + content.opening()),
        ]
        if content.summary:
            story.append(self.body(INDENT + content.summary))
        for index, matter in enumerate(content.matters, start=1):
            heading = fonts.heading or fonts.body
            story.append(self.body(f"{INDENT}{numeral(index)}、{matter.matter}", heading))
            if matter.discussion:
                story.append(self.body(f"{INDENT}会议听取了情况汇报。{matter.discussion}"))
            story.append(self.body(f"{INDENT}会议决定：{matter.decision}"))
            if matter.follow_up:
                story.append(self.body(f"{INDENT}会后交办：{matter.follow_up}。"))
        story.append(Spacer(1, BODY_LEADING / 2))
        if content.attendees:
            story.append(self.body(f"出席：{'、'.join(content.attendees)}", align="left"))
        story.append(self.body(f"主持：{content.chair}", align="left"))
        if content.recorder:
            story.append(self.body(f"记录：{content.recorder}", align="left"))
        story.append(_AtBottom([Spacer(1, 8 * mm), self.imprint()]))
        return story

    def imprint(self) -> Table:
        """版记: the issuer and the date of issue between two rules (GB/T 9704 §9.3)."""
        content, setter, fonts = self.content, self.setter, self.fonts
        size = 14.0  # 4号
        issued = f"{chinese_date(content.issued_at)}印发"
        padding = 3.5 * mm
        issued_width = setter.width(issued, fonts.body, size) + 2 * padding + 1
        issuer_width = self.frame_width - issued_width
        issuer_size = setter.fit(content.issuer, fonts.body, size, issuer_width - 2 * padding, 9.0)
        return Table(
            [
                [
                    _Text(setter, content.issuer, fonts.body, issuer_size, 20.0, "left"),
                    _Text(setter, issued, fonts.body, size, 20.0, "right"),
                ]
            ],
            colWidths=[issuer_width, issued_width],
            style=TableStyle(
                [
                    ("LINEABOVE", (0, 0), (-1, 0), 1.0, BLACK),
                    ("LINEBELOW", (0, 0), (-1, 0), 1.0, BLACK),
                    ("LEFTPADDING", (0, 0), (-1, -1), padding),
                    ("RIGHTPADDING", (0, 0), (-1, -1), padding),
                    ("TOPPADDING", (0, 0), (-1, -1), 2 * mm),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2 * mm),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            ),
        )

    def on_page(self, canvas: Any, doc: Any) -> None:
        page = canvas.getPageNumber()
        x, align = page_number_position(page, self.page_width)
        self.setter.draw(
            canvas, x, PAGE_NUMBER_BASELINE, f"— {page} —", self.fonts.body, PAGE_NUMBER_SIZE, align
        )
        if page > 1:  # a continuation page names the minutes it belongs to
            self.setter.draw(
                canvas,
                self.page_width - RIGHT_MARGIN,
                self.page_height - TOP_MARGIN + 4 * mm,
                f"{self.content.number}（续页）",
                self.fonts.body,
                10.5,
                "right",
            )


class _Red(Flowable):  # type: ignore[misc]
    """One centred line in red 小标宋 (the 纪要标志), optionally letter-spaced."""

    def __init__(
        self,
        setter: _Typesetter,
        text: str,
        font: str,
        size: float,
        leading: float,
        char_space: float = 0.0,
    ) -> None:
        super().__init__()
        self.setter, self.text, self.font = setter, text, font
        self.size, self.leading, self.char_space = size, leading, char_space
        self.width = 0.0
        self.height = 0.0

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width, self.height = avail_width, self.leading
        return self.width, self.height

    def draw(self) -> None:
        spread = self.char_space * (len(self.text) - 1)
        baseline = (self.leading - self.size) / 2 + 0.14 * self.size
        self.setter.draw(
            self.canv,
            self.width / 2 - spread / 2,
            baseline,
            self.text,
            self.font,
            self.size,
            "center",
            self.char_space,
            color=MASTHEAD_RED,
        )


class _RedRule(Flowable):  # type: ignore[misc]
    """The red rule under the 纪要标志 (GB/T 9704 §7.2.4)."""

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width, self.height = avail_width, 4 * mm
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        canvas.saveState()
        canvas.setStrokeColor(MASTHEAD_RED)
        canvas.setLineWidth(1.2)
        canvas.line(0, 2 * mm, self.width, 2 * mm)
        canvas.restoreState()


def render_minutes(content: MinutesContent, *, out: Path | None = None) -> bytes:
    """The minutes as an A4 PDF (also written to ``out``, whole or not at all).

    Raises :class:`UnprintableCharacters` if a character cannot be printed (nothing written).
    """
    layout = _MinutesLayout(content)
    data = _build(
        layout.story(),
        pagesize=(layout.page_width, layout.page_height),
        margins=(TOP_MARGIN, RIGHT_MARGIN, BOTTOM_MARGIN, LEFT_MARGIN),
        on_page=layout.on_page,
        fonts=layout.fonts,
        title=f"{MINUTES_TITLE} {content.number}",
        author=content.issuer,
        subject=content.topic,
        stamp=content.issued_at,
    )
    if out is not None:
        _write_out(Path(out), data)
    return data
