"""The real PDF of a paper (交办单, 督办单, 受理回执…) on screen, then printed or saved.

What the clerk sees is the PDF the service rendered, not a re-layout of it: the same file is
printed page by page at 100 % (rendered at the printer's resolution and drawn onto the full
page) and saved byte for byte.

Opening a paper is not printing it. For an issued slip the dialog is given ``record``: printing
or saving calls it on the worker, which writes the file or prints the paper inside the
transaction that counts the output (a failed print or write counts nothing) and returns the exact
bytes that went out (the first output is the original, later ones 补打); the change is published
on the hub and the view is rendered again to show what the next output will look like. Only a
role that may print papers (not an auditor) gets 打印/另存为 for such a slip. Receipts and drafts
have no ``record``.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRect, QRectF, QSize
from PySide6.QtGui import (
    QCloseEvent,
    QKeySequence,
    QPageLayout,
    QPageSize,
    QPainter,
    QShortcut,
)
from PySide6.QtPdf import QPdfDocument, QPdfDocumentRenderOptions
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrinterInfo
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.domain.permissions import Permission
from desktop_app.domain.settings import LAST_PRINTER
from desktop_app.errors import UserError
from desktop_app.services.context import Changes
from desktop_app.services.site import SiteService
from desktop_app.ui.common import FieldError, UiContext, show_error
from desktop_app.ui.operations import Action, Query
from desktop_app.ui.screen import size_to_screen

log = logging.getLogger(__name__)

NO_PRINTER_MESSAGE = "本机没有安装打印机，可先另存为PDF，再到有打印机的电脑上打印。"
MAX_RENDER_DPI = 600  # sharp text and QR modules; more only costs memory
STRIP_HEIGHT = 1024  # a page is rendered in strips so a 600 dpi A4 page never sits in memory whole
PREFERRED_SIZE = (860, 960)  # an A4 page at a readable width; cut down to the screen it opens on

# The printer chosen last time is offered first next time, across restarts: it is kept in the
# data dir, which belongs to this PC.

# Prints or saves an issued paper: counts the output and returns the bytes that went out. The
# arguments: the file to write (or None), and what sends the bytes to the printer (or None);
# both happen before the count is committed, so a failure counts nothing.
Deliver = Callable[[bytes], None]
Recorder = Callable[[Path | None, Deliver | None], bytes]


class SlipPreviewDialog(QDialog):
    """Shows a PDF (bytes, or a callable producing them on the worker) with 打印/另存为/关闭.

    The buttons sit above the page, so they are on screen however short the screen is;
    Ctrl+P prints and Esc closes.
    """

    def __init__(
        self,
        context: UiContext,
        source: bytes | Callable[[], bytes],
        title: str,
        parent: QWidget | None = None,
        *,
        record: Recorder | None = None,
        changes: Changes | None = None,
    ) -> None:
        """``changes``: what a recorded output changed (the case the slip belongs to), published
        on the hub after each print or save so other screens show the new count."""
        super().__init__(parent)
        self._context = context
        self._title = title
        self._source = source
        self._record = record
        self._changes = changes or Changes(cases=True)
        # An issued slip's output is counted and uses up the original: only for roles that may.
        self.may_output = record is None or context.actor.can(Permission.PRINT_PAPERS)
        self._last_printer: str | None = None  # read on the worker when the dialog opens
        self._note = "" if self.may_output else "（仅供查看：你的角色不能打印或保存这份文书）"
        self._loading = False
        self.busy = False  # an output is being recorded on the worker
        self.pdf_bytes: bytes | None = None
        self.last_output: bytes | None = None  # the bytes last sent to the printer or a file
        self.setWindowTitle(f"预览 — {title}")
        size_to_screen(self, *PREFERRED_SIZE)

        layout = QVBoxLayout(self)
        self._bar = bar = QHBoxLayout()
        self.status = QLabel("正在生成…")
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        bar.addWidget(self.status, 1)
        self.print_button = QPushButton("打印…")
        self.print_button.setObjectName("primary")
        self.print_button.setToolTip("打印（Ctrl+P）")
        self.print_button.clicked.connect(self.print_document)
        self.save_button = QPushButton("另存为PDF…")
        self.save_button.clicked.connect(self.save_as)
        self.close_button = QPushButton("关闭")
        self.close_button.setToolTip("关闭（Esc）")
        self.close_button.clicked.connect(self.reject)
        bar.addWidget(self.print_button)
        bar.addWidget(self.save_button)
        bar.addWidget(self.close_button)
        layout.addLayout(bar)
        self.error = FieldError()
        layout.addWidget(self.error)

        self.document = QPdfDocument(self)
        self._buffer = QBuffer(self)
        self.view = QPdfView(self)
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.view.setPageSpacing(12)
        layout.addWidget(self.view, 1)

        print_shortcut = QShortcut(QKeySequence(QKeySequence.StandardKey.Print), self)
        print_shortcut.activated.connect(self.print_document)
        self._set_ready(False)
        if not self.may_output:
            for button in (self.print_button, self.save_button):
                button.setToolTip("你的角色只能查看，不能打印或保存交办单")
        else:
            # The printer chosen last time, read off the UI thread (it is in the database).
            site = context.services.site
            Query(
                context.runner,
                self,
                lambda: site.preference(LAST_PRINTER),
                self._got_last_printer,
            ).failure(lambda exc: log.warning("上次使用的打印机读取失败：%s", exc)).run()

        if callable(source):
            self._render()
        else:
            self._load(source)

    def add_button(self, text: str, slot: Callable[[], None]) -> QPushButton:
        """A step that belongs with this paper (签发 beside a draft), left of 打印."""
        button = QPushButton(text)
        button.clicked.connect(lambda: slot())  # clicked(bool) never reaches the slot
        self._bar.insertWidget(self._bar.indexOf(self.print_button), button)
        return button

    def reject(self) -> None:
        """Esc and 关闭 wait while an output is being recorded: its paper must still come out."""
        if self.busy:
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.busy:
            event.ignore()
            return
        super().closeEvent(event)

    # Loading -------------------------------------------------------------------------------

    @property
    def is_loading(self) -> bool:
        return self._loading or self.busy

    def _render(self) -> None:
        """Render the source on the worker: the paper as its next output will look."""
        if not callable(self._source):
            return
        self._loading = True
        Query(self._context.runner, self, self._source, self._load).failure(self._failed).run()

    def _load(self, data: bytes) -> None:
        self._loading = False
        self.pdf_bytes = bytes(data)
        self.document.close()
        self._buffer.close()
        self._buffer.setData(QByteArray(self.pdf_bytes))
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document.load(self._buffer)
        pages = self.document.pageCount()
        if pages < 1:
            self.pdf_bytes = None
            self.status.setText("")
            self.error.set_message("文件无法显示：不是有效的PDF。")
            return
        self._show_status()
        self._set_ready(True)

    def _show_status(self) -> None:
        pages = self.document.pageCount()
        text = f"{self._title}　共 {pages} 页　A4"
        text = f"{text}　{self._note}" if self._note else text
        # Imported here: reportlab is loaded when a paper is first made, not at start-up.
        from desktop_app.documents.fonts import current_fonts, font_notice

        fonts = current_fonts()  # the paper shown was made in this process: never parses a font
        notice = font_notice(fonts) if fonts is not None else ""
        self.status.setText(f"{text}\n{notice}" if notice else text)

    def _failed(self, exc: Exception) -> None:
        self._loading = False
        self.status.setText("")
        # Imported here: reportlab is loaded when a paper is first made, not at start-up.
        from desktop_app.documents.slip_pdf import UnprintableCharacters

        if isinstance(exc, UnprintableCharacters):
            # A name that would print with a missing character is refused, never printed.
            self.error.set_message(str(exc))
        elif isinstance(exc, UserError):
            self.error.set_message(exc.message)
        else:
            self.error.set_message("生成文件时出错，未能显示。")
            show_error(self, exc)

    def _got_last_printer(self, name: str) -> None:
        if self._last_printer is None:
            self._last_printer = name

    def _set_ready(self, ready: bool) -> None:
        self.print_button.setEnabled(ready and self.may_output)
        self.save_button.setEnabled(ready and self.may_output)

    # Printing ------------------------------------------------------------------------------

    def print_document(self) -> None:
        if self.pdf_bytes is None or self.busy or not self.may_output:
            return
        printers = QPrinterInfo.availablePrinters()
        if not printers:
            QMessageBox.information(self, "无法打印", NO_PRINTER_MESSAGE)
            return
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        names = [p.printerName() for p in printers]
        if self._last_printer in names:
            printer.setPrinterName(self._last_printer)
        printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
        printer.setPageOrientation(QPageLayout.Orientation.Portrait)
        printer.setFullPage(True)
        printer.setDocName(self._title)
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle("打印")
        dialog.setMinMax(1, self.document.pageCount())
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self._last_printer = chosen = printer.printerName()
        site = self._context.services.site
        # Rendering an A4 page at the printer's resolution takes seconds: on the worker, with
        # the printer the dialog set up (nothing on this thread touches it meanwhile). An issued
        # slip is printed inside the transaction that counts it: a failed print counts nothing.
        record, shown = self._record, self.pdf_bytes

        def work() -> bytes:
            _remember_printer(site, chosen)
            if record is not None:
                return record(None, lambda data: print_pdf(data, printer))
            print_pdf(shown, printer)
            return shown

        self._deliver(work, lambda _data: self._printed())

    def _printed(self) -> None:
        self._note = "已送打印机。"
        self._show_status()

    # Saving --------------------------------------------------------------------------------

    def save_as(self) -> None:
        if self.pdf_bytes is None or self.busy or not self.may_output:
            return
        start = str(Path.home() / f"{_safe_filename(self._title)}.pdf")
        path, _filter = QFileDialog.getSaveFileName(self, "另存为PDF", start, "PDF 文件 (*.pdf)")
        if not path:
            return
        target = Path(path)
        if target.suffix.lower() != ".pdf":
            target = target.with_name(target.name + ".pdf")
        record, shown = self._record, self.pdf_bytes

        def work() -> bytes:
            if record is not None:
                return record(target, None)
            write_atomically(target, shown)  # a USB stick can take a while: on the worker
            return shown

        self._deliver(work, lambda _data: self._saved(target))

    def _saved(self, target: Path) -> None:
        self._note = f"已保存到 {target}"
        self._show_status()

    def _cannot_save(self, exc: OSError) -> None:
        QMessageBox.warning(
            self,
            "无法保存",
            f"文件没有保存：{exc.strerror or exc}。\n请换一个位置（如桌面），"
            "或检查U盘是否写保护、磁盘是否已满。",
        )

    # Recording an output -------------------------------------------------------------------

    def _deliver(self, work: Callable[[], bytes], then: Callable[[bytes], None]) -> None:
        """Print or save on the worker (recording the output where the paper is counted), then
        say so and show what the next output will look like (补打 from now on)."""
        self.busy = True
        self._set_ready(False)
        self.error.set_message(None)
        # Counted outputs change the case: the 交办单 list and the case show the new count
        # without 刷新 (the Action publishes these changes).
        changes = self._changes if self._record is not None else None

        def done(result: tuple[bytes, Changes | None]) -> None:
            self.busy = False
            self.last_output = bytes(result[0])
            then(self.last_output)
            if self._record is not None:
                self._render()
            else:
                self._set_ready(True)

        def failed(exc: Exception) -> None:
            self.busy = False
            self._set_ready(self.pdf_bytes is not None)
            if isinstance(exc, OSError):
                self._cannot_save(exc)
            elif isinstance(exc, PrintFailed):
                QMessageBox.warning(self, "无法打印", str(exc))
            elif isinstance(exc, UserError):
                self.error.set_message(exc.message)
            else:
                self.error.set_message("输出时出错，未打印也未保存。")
                show_error(self, exc)

        Action(self._context, self, lambda: (work(), changes)).success(done).failure(failed).run()


class PrintFailed(Exception):
    pass


def _remember_printer(site: SiteService, name: str) -> None:
    """Keep the chosen printer for next time (on the worker); a failure never stops the print."""
    try:
        site.set_preference(LAST_PRINTER, name)
    except Exception:
        log.warning("未能记住所选打印机", exc_info=True)


def paint_pages(document: QPdfDocument, printer: QPrinter) -> None:
    """Draw each chosen page onto the full sheet at 100 %: 1 pt of the PDF is 1 pt on paper."""
    painter = QPainter()
    if not painter.begin(printer):
        raise PrintFailed("打印机没有响应。请检查打印机是否开机、联机，或另存为PDF。")
    try:
        device_dpi = printer.resolution()
        render_dpi = min(device_dpi, MAX_RENDER_DPI)
        scale = device_dpi / render_dpi
        count = document.pageCount()
        first, last = 1, count
        if printer.printRange() == QPrinter.PrintRange.PageRange and printer.fromPage() > 0:
            first, last = printer.fromPage(), min(printer.toPage() or count, count)
        for number, index in enumerate(range(first - 1, last)):
            if number:
                printer.newPage()
            points = document.pagePointSize(index)
            full = QSize(
                round(points.width() / 72 * render_dpi), round(points.height() / 72 * render_dpi)
            )
            for top in range(0, full.height(), STRIP_HEIGHT):
                strip = QRect(0, top, full.width(), min(STRIP_HEIGHT, full.height() - top))
                options = QPdfDocumentRenderOptions()
                options.setScaledSize(full)
                options.setScaledClipRect(strip)
                image = document.render(index, strip.size(), options)
                target = QRectF(
                    strip.x() * scale,
                    strip.y() * scale,
                    strip.width() * scale,
                    strip.height() * scale,
                )
                painter.drawImage(target, image)
    finally:
        painter.end()


def print_pdf(data: bytes, printer: QPrinter) -> None:
    """Print PDF bytes on the calling thread (QPainter may paint a QPrinter off the UI thread)."""
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    document = QPdfDocument()
    document.load(buffer)
    try:
        if document.pageCount() < 1:
            raise PrintFailed("文件无法打印：不是有效的PDF。")
        paint_pages(document, printer)
    finally:
        document.close()
        buffer.close()


def write_atomically(target: Path, data: bytes) -> None:
    """Write beside the target, then rename: a full disk never leaves half a PDF behind."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".bbcs-", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _safe_filename(title: str) -> str:
    cleaned = "".join("_" if ch in '\\/:*?"<>|' else ch for ch in title).strip()
    return cleaned or "文件"


__all__ = [
    "NO_PRINTER_MESSAGE",
    "Deliver",
    "Recorder",
    "SlipPreviewDialog",
    "paint_pages",
]
