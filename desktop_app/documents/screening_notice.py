"""不予受理告知书 / 转办告知书: the paper a person takes home when screening (甄别) ends
their matter at the door (issue 16).

Plain content (:class:`ScreeningNotice`) beside a thin renderer, as the slips are: numbered like
the window's other papers (杞纪窗告〔2026〕1号), addressed to the person by name, saying what they
raised, why it is outside what the window handles, and where to take it and what to do there;
signed with the window's name and the date. Numbers are masked, never printed in clear.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped,unused-ignore]
from reportlab.lib.units import mm  # type: ignore[import-untyped,unused-ignore]
from reportlab.platypus import Flowable, Spacer  # type: ignore[import-untyped,unused-ignore]

from desktop_app.documents.fonts import missing_glyphs, register_fonts
from desktop_app.documents.slip_pdf import (
    BOTTOM_MARGIN,
    LEFT_MARGIN,
    MASTHEAD_RED,
    RIGHT_MARGIN,
    TOP_MARGIN,
    UnprintableCharacters,
    _build,
    _Text,
    _Typesetter,
    _write_out,
)
from desktop_app.domain.vocabulary import ProperChannel, ScreeningDecision, chinese_date

TITLES = {
    ScreeningDecision.NOT_ACCEPTED: "不予受理告知书",
    ScreeningDecision.TRANSFERRED: "转办告知书",
}

# What the person does in the proper channel: the window tells them, so no trip is wasted.
CHANNEL_GUIDANCE: dict[ProperChannel, str] = {
    ProperChannel.PETITION: (
        "请向有权处理的本级或上一级机关的信访工作机构提出信访事项，可通过书信、网上信访或"
        "到信访接待场所走访反映，并携带身份证件和相关材料。"
    ),
    ProperChannel.LITIGATION: (
        "属于人民法院受理范围的争议，请依法向有管辖权的人民法院提起诉讼；"
        "如需法律帮助，可向当地公共法律服务中心或法律援助机构咨询。"
    ),
    ProperChannel.ARBITRATION: (
        "属于仲裁范围的争议（如劳动人事争议），请在法定时效内向有管辖权的仲裁委员会"
        "申请仲裁，并携带身份证件、合同及相关证据材料。"
    ),
    ProperChannel.HOTLINE: (
        "可拨打12345政务服务便民热线反映诉求，热线将按职责转交有关部门办理并答复您。"
    ),
    ProperChannel.NOT_SERVICE: (
        "本窗口受理在政务服务中遇到的“办不成”的事；您反映的事项不属于政务服务办事问题，"
        "可向有关主管部门或所在村（社区）咨询反映。"
    ),
    ProperChannel.OTHER: "请按下列说明向有关部门或渠道反映。",
}


@dataclass(frozen=True)
class ScreeningNotice:
    """What the notice says, as issued (immutable; the same content gives the same PDF)."""

    number: str  # 杞纪窗告〔2026〕1号
    decision: ScreeningDecision
    channel: ProperChannel
    issuer: str  # the window's name (公文设置 → 发文机关, else the site's name)
    masthead: str
    case_number: str
    person: str
    phone_masked: str
    received_at: datetime
    matter_title: str
    reason: str  # why it is out of scope
    guidance: str  # what to do in the proper channel
    window_phone: str
    issued_at: datetime

    @property
    def title(self) -> str:
        return TITLES[self.decision]

    def paragraphs(self) -> list[str]:
        """The body of the letter, paragraph by paragraph."""
        received = chinese_date(self.received_at)
        first = f"您于{received}向本窗口反映的“{self.matter_title}”（事项编号：{self.case_number}）"
        if self.decision is ScreeningDecision.NOT_ACCEPTED:
            first += "，经甄别，不属于本窗口受理范围，决定不予受理。"
        else:
            first += f"，经甄别，不属于本窗口受理范围，已转{self.channel.label}渠道办理。"
        body = [first, f"理由：{self.reason}"]
        body.append(f"办理途径：{self.channel.label}。{self.guidance}")
        contact = f"如有疑问，请拨打咨询电话 {self.window_phone}。" if self.window_phone else ""
        body.append(f"特此告知。{contact}")
        return body

    def content_hash(self) -> str:
        values = asdict(self)
        return hashlib.sha256(
            json.dumps(values, sort_keys=True, default=str, ensure_ascii=False).encode()
        ).hexdigest()

    def unprintable(self) -> list[str]:
        """Characters no font can draw, each once, in order (checked before it is numbered)."""
        fonts = register_fonts()
        texts = [str(getattr(self, f.name)) for f in fields(self)]
        return missing_glyphs("\n".join(texts), fonts.chain(fonts.body))


def ensure_printable(notice: ScreeningNotice) -> None:
    missing = notice.unprintable()
    if missing:
        raise UnprintableCharacters(missing, ["告知书"])


def render_notice(
    notice: ScreeningNotice, *, out: Path | None = None, reprint: bool = False
) -> bytes:
    """The notice as an A4 portrait PDF (GB/T 9704 margins, like the slips); ``reprint`` marks
    a later copy 补打 in red at the top right of its first page."""
    ensure_printable(notice)
    fonts = register_fonts()
    setter = _Typesetter(fonts)
    width, height = (float(v) for v in A4)
    body_size, body_leading = 15.0, 27.0  # 仿宋 三号-ish, as letters to the public are set
    story: list[Flowable] = []
    if notice.masthead:
        story += [
            _Text(setter, notice.masthead, fonts.title, 18.0, 26.0, "center"),
            Spacer(1, 4 * mm),
        ]
    story += [
        _Text(setter, notice.title, fonts.title, 22.0, 32.0, "center"),
        Spacer(1, 2 * mm),
        _Text(setter, notice.number, fonts.body, 14.0, 22.0, "center"),
        Spacer(1, 6 * mm),
        _Text(setter, f"{notice.person}：", fonts.body, body_size, body_leading),
    ]
    indent = "\u3000\u3000"  # two full-width spaces: the first line of a paragraph
    for paragraph in notice.paragraphs():
        story.append(
            _Text(setter, indent + paragraph, fonts.body, body_size, body_leading, "justify")
        )
    story += [
        Spacer(1, 14 * mm),
        _Text(setter, notice.issuer, fonts.body, body_size, body_leading, "right"),
        _Text(
            setter,
            f"{chinese_date(notice.issued_at)}（盖章）",
            fonts.body,
            body_size,
            body_leading,
            "right",
        ),
        Spacer(1, 10 * mm),
    ]
    footer = f"事项编号：{notice.case_number}"
    if notice.phone_masked:
        footer += f"　反映人联系电话：{notice.phone_masked}"
    story.append(_Text(setter, footer, fonts.body, 10.5, 16.0))
    story.append(
        _Text(
            setter,
            "本告知书一式两份，一份交反映人，一份留存备查。",
            fonts.body,
            10.5,
            16.0,
        )
    )

    def on_page(canvas: Any, doc: Any) -> None:
        if reprint and canvas.getPageNumber() == 1:
            setter.draw(
                canvas,
                width - RIGHT_MARGIN,
                height - TOP_MARGIN + 8 * mm,
                "补　打",
                fonts.title,
                16.0,
                "right",
                color=MASTHEAD_RED,
            )
        if canvas.getPageNumber() > 1:
            setter.draw(
                canvas,
                width / 2,
                BOTTOM_MARGIN - 7 * mm - 12.0,
                f"— {canvas.getPageNumber()} —",
                fonts.body,
                12.0,
                "center",
            )

    data = _build(
        story,
        pagesize=(width, height),
        margins=(TOP_MARGIN, RIGHT_MARGIN, BOTTOM_MARGIN, LEFT_MARGIN),
        on_page=on_page,
        fonts=fonts,
        title=f"{notice.title} {notice.number}",
        author=notice.issuer,
        subject=notice.matter_title,
        stamp=notice.issued_at,
    )
    if out is not None:
        _write_out(Path(out), data)
    return data
