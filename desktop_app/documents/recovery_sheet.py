"""The printable recovery key sheet (issue 15 item 12): one A4 page to lock away.

It carries the same secrets as the recovery key file, as text a person can type back in (groups
of four base32 characters, with a checksum) and as a QR code of that text, with what the sheet
is for and how to keep it. Drawn on a plain reportlab canvas: nothing here needs the official
document fonts, only characters every install has (the bundled Chinese font, Courier).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from reportlab.graphics import renderPDF  # type: ignore[import-untyped,unused-ignore]
from reportlab.graphics.barcode.qr import (  # type: ignore[import-untyped,unused-ignore]
    QrCodeWidget,
)
from reportlab.graphics.shapes import Drawing  # type: ignore[import-untyped,unused-ignore]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped,unused-ignore]
from reportlab.lib.units import mm  # type: ignore[import-untyped,unused-ignore]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped,unused-ignore]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped,unused-ignore]

from desktop_app.documents.fonts import BUNDLED_FONT_NAME, font_runs, register_fonts

GROUPS_PER_LINE = 8
QR_SIZE = 60 * mm
INSTRUCTIONS = (
    "这张纸和恢复密钥文件能打开本站点加密保存的全部个人信息（身份证号、电话）和加密备份，"
    "并能以本站点的名义签发交办单。",
    "请立即锁进保密柜，由站点负责人保管；不要拍照，不要复印，不要留在窗口电脑旁。",
    "用途：电脑硬盘损坏、重装系统或更换电脑后，在新电脑上运行",
    "    bbcs restore 备份文件 --recovery-key 恢复密钥文件",
    "没有恢复密钥文件时，可把下面的文字（含 BBCSRK1- 开头）逐组录入一个文本文件代替它。",
    "更换站点密钥（bbcs keys rotate）后请重新导出恢复密钥，并销毁这一张。",
)


def recovery_sheet_pdf(
    *, site_code: str, site_name: str, created_at: str, text: str, groups: Sequence[str]
) -> bytes:
    """The sheet as PDF bytes."""
    fonts = register_fonts()
    chain = [fonts.body, *fonts.fallbacks]
    buffer = io.BytesIO()
    page_height = A4[1]
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setTitle("bbcs 恢复密钥")
    left = 20 * mm
    y = page_height - 25 * mm
    _draw(canvas, left, y, "恢复密钥（绝密，锁好保管）", 20, chain)
    y -= 12 * mm
    for line in (f"站点：{site_code} {site_name}", f"导出时间：{created_at.replace('T', ' ')}"):
        _draw(canvas, left, y, line, 12, chain)
        y -= 7 * mm
    y -= 3 * mm
    for paragraph in INSTRUCTIONS:
        for line in _wrap(paragraph, A4[0] - 2 * left, 10.5, chain):
            _draw(canvas, left, y, line, 10.5, chain)
            y -= 6 * mm
    y -= 4 * mm
    prefix = text[: len(text) - len("".join(groups))].rstrip("-")
    canvas.setFont("Courier-Bold", 13)
    canvas.drawString(left, y, f"{prefix}-")
    y -= 8 * mm
    for start in range(0, len(groups), GROUPS_PER_LINE):
        line = "  ".join(groups[start : start + GROUPS_PER_LINE])
        canvas.drawString(left, y, line)
        y -= 7 * mm
    y -= 4 * mm
    widget = QrCodeWidget(text, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(
        QR_SIZE, QR_SIZE, transform=[QR_SIZE / (x1 - x0), 0, 0, QR_SIZE / (y1 - y0), 0, 0]
    )
    drawing.add(widget)
    renderPDF.draw(drawing, canvas, left, y - QR_SIZE)
    _draw(canvas, left + QR_SIZE + 6 * mm, y - QR_SIZE / 2, "二维码内容与上面的文字相同", 9, chain)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw(canvas: Canvas, x: float, y: float, text: str, size: float, chain: list[str]) -> None:
    """Each character in the first font that has it: the bundled Chinese font has no Latin
    letters or digits (the site code, the date and the command would be left blank)."""
    text_object = canvas.beginText(x, y)
    for font, run in font_runs(text, chain):
        text_object.setFont(font or BUNDLED_FONT_NAME, size)
        text_object.textOut(run)
    canvas.drawText(text_object)


def _wrap(text: str, width: float, size: float, chain: list[str]) -> list[str]:
    """``text`` in lines no wider than ``width`` points, measured in the fonts it is drawn in
    (Chinese has no spaces to break at; Latin letters are narrower)."""
    lines: list[str] = []
    line, used = "", 0.0
    for char in text:
        font = font_runs(char, chain)[0][0] or BUNDLED_FONT_NAME
        advance = pdfmetrics.stringWidth(char, font, size)
        if line and used + advance > width:
            lines.append(line)
            line, used = "", 0.0
        line += char
        used += advance
    return [*lines, line] if line or not lines else lines
