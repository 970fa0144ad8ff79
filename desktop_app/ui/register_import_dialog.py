"""导入旧台账: the office's old Excel register brought in as historical cases (issue 17).

Pick the file and the sheet, say what each column is (a combo per column, filled in from the
headers recognised or the mapping remembered for this layout), look at the first rows with each
value's check, then import all or nothing. Reading, checking and importing run on the worker
(``Query`` / ``Action``); the dialog only shows what comes back. The import's rows counted by the
service come back through a queued signal to a progress bar, as the 导出台账 dialog's do.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.domain import register_headers as headers
from desktop_app.errors import UserError
from desktop_app.services.register_import import (
    RegisterImportResult,
    RegisterImportService,
    RegisterSheet,
    SheetCheck,
    field_label,
    read_sheet,
)
from desktop_app.ui.common import UiContext, show_error
from desktop_app.ui.operations import Action, Query
from desktop_app.ui.screen import size_to_screen

PREVIEW_ROWS = 30
FILE_FILTER = "Excel/WPS 表格 (*.xlsx *.xlsm *.xls *.xlsb *.ods)"
_ERROR_BRUSH = QBrush(QColor("#fde2e1"))
_UNKNOWN = "（未识别：记入历史记录）"
PROGRESS_STEPS = 200  # at most this many updates of the bar, however long the sheet


class _Relay(QObject):
    """Carries the worker's row count to the UI thread (a queued signal)."""

    progress = Signal(int, int)


class RegisterImportDialog(QDialog):
    def __init__(
        self, context: UiContext, parent: QWidget | None = None, *, path: Path | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("导入旧台账")
        # 1180×660 on a 1366×768 laptop; less where the screen is smaller or scaled (125 %).
        size_to_screen(self, 1180, 660)
        self._context = context
        services = context.services
        self._importer = RegisterImportService(
            services.db, services.clock, services.attachments, services.sealer
        )
        self._path: Path | None = None
        self._sheet: RegisterSheet | None = None
        self._check: SheetCheck | None = None
        self._busy = False
        self._check_request = 0  # the latest check asked for (earlier answers are dropped)
        self.imported: RegisterImportResult | None = None

        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "把以前用 Excel 记的台账导入为历史事项：保留原受理日期和原编号，另编 LS 历史编号，"
                "不计算办理时限。全部检查通过才导入，有一行不对就一行也不导入。"
            )
        )
        top = QHBoxLayout()
        self.file_button = QPushButton("选择文件…")
        self.file_label = QLabel("未选择文件")
        self.sheet = QComboBox()
        self.sheet.setMinimumWidth(160)
        self.sheet.setEnabled(False)
        top.addWidget(self.file_button)
        top.addWidget(self.file_label, 1)
        top.addWidget(QLabel("工作表"))
        top.addWidget(self.sheet)
        layout.addLayout(top)

        layout.addWidget(QLabel("各列对应（可改；下次导入同样表头的文件时沿用）："))
        self.columns = QTableWidget(0, 3)
        self.columns.setHorizontalHeaderLabels(["台账中的列", "对应", "第一行的内容"])
        self.columns.verticalHeader().setVisible(False)
        self.columns.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.columns.setColumnWidth(0, 180)
        self.columns.setColumnWidth(1, 220)
        self.columns.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.columns.setMaximumHeight(200)
        layout.addWidget(self.columns)

        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.preview = QTableWidget(0, 0)
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview.setWordWrap(False)
        self.preview.verticalHeader().setVisible(False)
        layout.addWidget(self.preview, 1)

        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m 行")
        self.progress.setVisible(False)
        layout.addWidget(self.progress)
        # Without a parent: the import's closure keeps it, so a count sent after the dialog was
        # closed (and deleted) reaches no deleted object and cannot fail the import.
        self._relay = _Relay()
        self._relay.progress.connect(self._show_progress)

        buttons = QHBoxLayout()
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.import_button = QPushButton("全部导入")
        self.import_button.setObjectName("primary")
        self.import_button.setEnabled(False)
        self.close_button = QPushButton("关闭")
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)

        self.file_button.clicked.connect(self.choose_file)
        self.sheet.activated.connect(lambda _index: self._read(self.sheet.currentText()))
        self.import_button.clicked.connect(self.import_all)
        self.close_button.clicked.connect(self.reject)
        if path is not None:
            self.open_file(path)

    # Reading ----------------------------------------------------------------------------------

    def choose_file(self) -> None:
        name, _filter = QFileDialog.getOpenFileName(self, "选择旧台账", "", FILE_FILTER)
        if name:
            self.open_file(Path(name))

    def open_file(self, path: Path) -> None:
        self._path = path
        self.progress.setVisible(False)
        self.file_label.setText(path.name)
        self._read(None)

    def _read(self, sheet_name: str | None) -> None:
        path = self._path
        if path is None:
            return
        importer = self._importer

        def work() -> tuple[RegisterSheet, list[str]]:
            sheet = read_sheet(path, sheet_name)
            return sheet, importer.mapping_for(sheet)

        self._set_busy("正在读取表格…")
        # A check of the sheet shown before no longer counts (it would enable 全部导入 for
        # the old sheet while the new one is read); nor does an earlier read.
        self._check_request += 1
        request = self._check_request

        def read(answer: tuple[RegisterSheet, list[str]]) -> None:
            if request == self._check_request:
                self._sheet_read(answer)

        def failed(exc: Exception) -> None:
            if request == self._check_request:
                self._failed(exc)

        Query(self._context.runner, self, work, read).failure(failed).run()

    def _sheet_read(self, answer: tuple[RegisterSheet, list[str]]) -> None:
        sheet, mapping = answer
        self._sheet = sheet
        self.sheet.blockSignals(True)
        self.sheet.clear()
        self.sheet.addItems(list(sheet.sheet_names))
        self.sheet.setCurrentText(sheet.sheet)
        self.sheet.setEnabled(len(sheet.sheet_names) > 1)
        self.sheet.blockSignals(False)
        self.columns.setRowCount(len(sheet.headers))
        first = sheet.rows[0][1] if sheet.rows else ()
        for row, (header, code) in enumerate(zip(sheet.headers, mapping, strict=True)):
            self.columns.setItem(row, 0, QTableWidgetItem(header))
            combo = QComboBox()
            combo.addItem(_UNKNOWN, "")
            for field, label in headers.FIELDS.items():
                combo.addItem(label, field)
            combo.setCurrentIndex(max(combo.findData(code), 0))
            combo.currentIndexChanged.connect(lambda _index: self._recheck())
            self.columns.setCellWidget(row, 1, combo)
            sample = headers.text_of(first[row]) if row < len(first) else ""
            self.columns.setItem(row, 2, QTableWidgetItem(sample))
        self._recheck()

    def mapping(self) -> list[str]:
        """Per column, the field its combo names ("" for a column kept in the history)."""
        combos = [self.columns.cellWidget(r, 1) for r in range(self.columns.rowCount())]
        return [str(c.currentData() or "") for c in combos if isinstance(c, QComboBox)]

    # Checking ---------------------------------------------------------------------------------

    def _recheck(self) -> None:
        sheet = self._sheet
        if sheet is None:
            return
        mapping, importer = self.mapping(), self._importer
        self._set_busy("正在检查…")
        # Choosing by keyboard changes a combo several times: only the last check counts, and
        # the dialog stays busy (no 全部导入) until it is back.
        self._check_request += 1
        request = self._check_request

        def checked(check: SheetCheck) -> None:
            if request == self._check_request:
                self._checked(check)

        def failed(exc: Exception) -> None:
            if request == self._check_request:
                self._failed(exc)

        Query(
            self._context.runner, self, lambda: importer.check_sheet(sheet, mapping), checked
        ).failure(failed).run()

    def _checked(self, check: SheetCheck) -> None:
        sheet = self._sheet
        assert sheet is not None
        self._check = check
        self._busy = False
        shown = sheet.rows[:PREVIEW_ROWS]
        self.preview.clear()
        self.preview.setColumnCount(len(sheet.headers) + 2)
        self.preview.setHorizontalHeaderLabels(["行", "检查", *sheet.headers])
        self.preview.setRowCount(len(shown))
        mapping = self.mapping()
        labels = [field_label(code) if code else "" for code in mapping]
        for r, (number, cells) in enumerate(shown):
            problems = check.errors_of(number)
            self.preview.setItem(r, 0, QTableWidgetItem(str(number)))
            verdict = QTableWidgetItem(
                "；".join(f"{_label(e.field)}：{e.message}" for e in problems) or "✓ 可导入"
            )
            if problems:
                verdict.setBackground(_ERROR_BRUSH)
            verdict.setToolTip(verdict.text())
            self.preview.setItem(r, 1, verdict)
            wrong = {_label(e.field) for e in problems}
            for c, cell in enumerate(cells):
                item = QTableWidgetItem(_shown(mapping[c], cell))
                if labels[c] and labels[c] in wrong:
                    item.setBackground(_ERROR_BRUSH)
                self.preview.setItem(r, c + 2, item)
        self.preview.setColumnWidth(0, 50)
        self.preview.setColumnWidth(1, 260)
        total, bad = len(sheet.rows), len({e.row for e in check.errors})
        text = (
            f"工作表“{sheet.sheet}”：表头在第{sheet.header_row}行，共 {total} 行事项"
            + (f"，显示前 {len(shown)} 行" if total > len(shown) else "")
            + "。"
        )
        if check.unknown:
            text += f" 未识别的列（内容记入历史记录）：{'、'.join(check.unknown)}。"
        self.summary.setText(text)
        if bad:
            self.status.setText(
                f"有 {bad} 行未通过检查（共 {len(check.errors)} 处），请改正后再导入。"
            )
        elif total:
            self.status.setText(f"{total} 行全部通过检查，可以导入。")
        else:
            self.status.setText("工作表中没有可导入的记录。")
        self.import_button.setEnabled(total > 0 and not bad)

    # Importing --------------------------------------------------------------------------------

    def import_all(self) -> None:
        sheet = self._sheet
        if sheet is None or self._busy:
            return
        mapping, importer, actor = self.mapping(), self._importer, self._context.actor
        self._set_busy(f"正在导入 {len(sheet.rows)} 行…")
        self.file_button.setEnabled(False)  # no other sheet read while this one goes in
        self.progress.setRange(0, 0)  # busy while the rows are checked once more
        self.progress.setVisible(True)
        step = max(1, len(sheet.rows) // PROGRESS_STEPS)
        emit = self._relay.progress.emit

        def progress(done: int, total: int) -> None:  # on the worker: only the signal
            if done == total or done % step == 0:
                emit(done, total)

        Action(
            self._context,
            self,
            lambda: importer.import_sheet(actor, sheet, mapping, progress=progress),
        ).success(self._imported).failure(self._failed).run()

    def _show_progress(self, done: int, total: int) -> None:
        if not self._busy:  # a late count after the answer (queued behind it) changes nothing
            return
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.status.setText(f"正在导入 {done:,} / {total:,} 行…")

    def _imported(self, result: RegisterImportResult) -> None:
        self.imported = result
        self._busy = False
        # The bar stays full beside the result: every row went in.
        self.progress.setRange(0, max(len(result.cases), 1))
        self.progress.setValue(len(result.cases))
        numbers = [c.number for c in result.cases]
        span = f"（{numbers[0]} 至 {numbers[-1]}）" if numbers else ""
        self.status.setText(f"已导入 {len(numbers)} 件历史事项{span}。")
        self.import_button.setEnabled(False)
        self.file_button.setEnabled(True)

    def _failed(self, exc: Exception) -> None:
        self._busy = False
        self.progress.setVisible(False)  # nothing went in (all or nothing)
        self.file_button.setEnabled(True)
        if isinstance(exc, UserError):
            self.status.setText(exc.message)
            self.import_button.setEnabled(False)
        else:
            show_error(self, exc)

    def _set_busy(self, text: str) -> None:
        self._busy = True
        self.status.setText(text)
        self.import_button.setEnabled(False)


def _label(field: str) -> str:
    """A RowError's field as the person reads it (the form's fields by their label)."""
    return field_label(field)


def _shown(code: str, cell: object) -> str:
    """A cell as it will be read: a date as the date it stands for (45108 → 2023-07-01), a
    number with full-width digits in ASCII; anything else as written."""
    text = headers.text_of(cell)
    try:
        if code in ("received_at", "concluded_on"):
            found = headers.date_of(cell)
            return found.date().isoformat() if found is not None else ""
        if code in ("phone", "id_number", "credit_code"):
            return headers.number_text(cell, code)
    except headers.CellProblem:
        return text
    return text
