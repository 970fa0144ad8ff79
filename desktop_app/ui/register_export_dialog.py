"""导出台账: the ledger's current rows to Excel, CSV or the printed 登记簿, off the UI thread.

The export runs on the worker through an ``Action``; its progress comes back through a queued
signal, and 取消 sets a flag the service checks between chunks (it then removes its temporary
file, so a cancelled export leaves nothing behind).
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.errors import UserError
from desktop_app.services.ledger import CaseFilter
from desktop_app.services.register_export import (
    ExportCancelled,
    RegisterBook,
    RegisterExport,
    RegisterExportService,
)
from desktop_app.ui.common import UiContext, show_error
from desktop_app.ui.operations import Action

# (label, suffix, file dialog filter)
FORMATS: tuple[tuple[str, str, str], ...] = (
    ("Excel 工作簿（.xlsx）", ".xlsx", "Excel 工作簿 (*.xlsx)"),
    ("CSV（.csv，UTF-8）", ".csv", "CSV 文件 (*.csv)"),
    ("登记簿（.pdf，A3 横向，供打印）", ".pdf", "PDF 文件 (*.pdf)"),
)


class _Relay(QObject):
    """Carries the worker's progress to the UI thread (a queued signal)."""

    progress = Signal(int, int)


class RegisterExportDialog(QDialog):
    def __init__(
        self,
        context: UiContext,
        case_filter: CaseFilter,
        parent: QWidget | None = None,
        *,
        folder: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("导出台账")
        self.setMinimumWidth(560)
        self._context = context
        self._filter = case_filter
        services = context.services
        self._exporter = RegisterExportService(
            services.db, services.clock, services.sealer, services.ledger
        )
        self._cancel = threading.Event()
        self._running = False
        self.exported: RegisterExport | RegisterBook | None = None

        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("导出台账当前筛选出的全部事项（与列表的筛选条件相同）。"))
        form = QFormLayout()
        self.format = QComboBox()
        for label, _suffix, _filter in FORMATS:
            self.format.addItem(label)
        form.addRow("格式", self.format)
        row = QHBoxLayout()
        start = folder or Path.home()
        today = services.clock.now().date()
        self.path = QLineEdit(str(start / f"事项台账-{today:%Y%m%d}.xlsx"))
        self.browse = QPushButton("选择…")
        row.addWidget(self.path, 1)
        row.addWidget(self.browse)
        form.addRow("保存到", row)
        self.masked = QCheckBox("联系电话遮挡中间几位（138****5678）")
        self.masked.setChecked(True)
        if not self._exporter.clear_numbers_allowed(context.actor):
            self.masked.setEnabled(False)
            self.masked.setToolTip("你的角色无权查看完整号码，导出时总是遮挡")
        form.addRow("个人信息", self.masked)
        layout.addLayout(form)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        layout.addWidget(self.progress)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.export_button = QPushButton("导出")
        self.export_button.setDefault(True)
        self.close_button = QPushButton("关闭")
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)

        self._relay = _Relay(self)
        self._relay.progress.connect(self._show_progress)
        self.format.currentIndexChanged.connect(self._format_changed)
        self.browse.clicked.connect(self._browse)
        self.export_button.clicked.connect(self.start)
        self.close_button.clicked.connect(self._close_or_cancel)

    def start(self) -> None:
        """Runs the export on the worker; the buttons turn into 取消 while it runs."""
        text = self.path.text().strip()
        if not text:
            self.status.setText("请填写保存到哪个文件")
            return
        path = Path(text)
        masked = self.masked.isChecked()
        exporter, actor, case_filter = self._exporter, self._context.actor, self._filter
        site = self._context.services.site
        self._cancel.clear()
        self._set_running(True)

        def work() -> RegisterExport | RegisterBook:
            if path.suffix.lower() == ".pdf":
                issuer = site.info().name  # read here, on the worker, like the rows
                return exporter.book(actor, path, case_filter, issuer=issuer, masked=masked)
            return exporter.export(
                actor,
                path,
                case_filter,
                masked=masked,
                progress=self._relay.progress.emit,
                cancelled=self._cancel.is_set,
            )

        Action(self._context, self, work).success(self._done).failure(self._failed).finished(
            lambda: self._set_running(False)
        ).run()

    def _done(self, result: RegisterExport | RegisterBook) -> None:
        self.exported = result
        numbers = "完整" if result.numbers_clear else "已遮挡"
        if isinstance(result, RegisterBook):
            what = f"登记簿 {result.cases:,} 件，{result.pages} 页"
        else:
            what = result.counts
        self.status.setText(f"已导出：{result.path}\n{what}；联系电话{numbers}")

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, ExportCancelled):
            self.status.setText(exc.message)
            return
        if isinstance(exc, UserError):
            self.status.setText(exc.message)
        show_error(self, exc)

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)
        if done < total:
            self.status.setText(f"正在导出 {done:,} / {total:,} 件……")
        else:  # the xlsx is packed (compressed) last: a few seconds at 100,000 cases
            self.status.setText(f"{total:,} 件已写入，正在保存文件……")

    def _set_running(self, running: bool) -> None:
        self._running = running
        self.progress.setVisible(running)
        if running:
            self.progress.setRange(0, 0)  # busy until the first chunk is counted
            self.status.setText("正在读取事项……")
        for widget in (self.export_button, self.format, self.path, self.browse, self.masked):
            widget.setEnabled(not running)
        if not running and not self._exporter.clear_numbers_allowed(self._context.actor):
            self.masked.setEnabled(False)
        self.close_button.setText("取消" if running else "关闭")

    def _close_or_cancel(self) -> None:
        if self._running:
            self._cancel.set()
            self.status.setText("正在取消……")
            return
        self.accept()

    def reject(self) -> None:
        """Esc or the window's close box cancels a running export instead of hiding it."""
        if self._running:
            self._close_or_cancel()
            return
        super().reject()

    def _format_changed(self, index: int) -> None:
        suffix = FORMATS[index][1]
        current = Path(self.path.text().strip() or "事项台账")
        self.path.setText(str(current.with_suffix(suffix)))

    def _browse(self) -> None:
        _label, _suffix, name_filter = FORMATS[self.format.currentIndex()]
        chosen, _ = QFileDialog.getSaveFileName(self, "导出台账", self.path.text(), name_filter)
        if chosen:
            self.path.setText(chosen)
