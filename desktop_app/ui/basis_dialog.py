"""办不了: the department's signed written basis arrived (the scan kept), or a leader waives it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QWidget,
)

from desktop_app.domain.permissions import Permission
from desktop_app.errors import UserError
from desktop_app.ui.assignment_panel import StepDialog
from desktop_app.ui.common import UiContext


class BasisDialog(StepDialog):
    """收到 (date, the 主要负责人 who signed, the scan) or 免除 (a leader, with a reason)."""

    def __init__(self, context: UiContext, case_id: int, parent: QWidget | None = None) -> None:
        super().__init__(context, "书面依据", parent)
        self.setMinimumWidth(560)
        today = context.services.clock.now().date()
        self.received = QRadioButton("部门书面依据已收到")
        self.received.setChecked(True)
        self.waived = QRadioButton("免除书面依据（带班领导）")
        self.waived.setEnabled(context.actor.can(Permission.WAIVE_BASIS))
        if not self.waived.isEnabled():
            self.waived.setToolTip("只有带班领导可以免除书面依据")
        choice = QHBoxLayout()
        choice.addWidget(self.received)
        choice.addWidget(self.waived)
        choice.addStretch(1)
        self.received_on = QDateEdit()
        self.received_on.setCalendarPopup(True)
        self.received_on.setDisplayFormat("yyyy-MM-dd")
        self.received_on.setDate(QDate(today.year, today.month, today.day))
        self.received_on.setMaximumDate(QDate(today.year, today.month, today.day))
        self.signed_by = QLineEdit()
        self.signed_by.setPlaceholderText("签字的部门主要负责人")
        self.scan: Path | None = None
        self.scan_label = QLabel("（未选择）")
        self.scan_label.setObjectName("hint")
        self.scan_button = QPushButton("选择扫描件…")
        self.scan_button.clicked.connect(self._choose_scan)
        scan_row = QHBoxLayout()
        scan_row.addWidget(self.scan_button)
        scan_row.addWidget(self.scan_label, 1)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("免除的理由，如：依据已公开、部门已撤销")
        self.form.addRow("", choice)
        self.form.addRow("收到日期", self.received_on)
        self.form.addRow("签字负责人", self.signed_by)
        self.form.addRow("扫描件", scan_row)
        self.form.addRow("免除理由", self.reason)
        self.fields.update(
            received_on=self.received_on,
            signed_by=self.signed_by,
            reason=self.reason,
        )
        self.received.toggled.connect(self._mode_changed)
        self._mode_changed()
        cases, actor = context.services.cases, context.actor

        def make() -> Callable[[], object]:
            if self.waived.isChecked():
                reason = self.reason.text()
                return lambda: cases.waive_basis(actor, case_id, reason)
            on = self.received_on.date().toPython()
            assert isinstance(on, date)
            signed_by, scan = self.signed_by.text(), self.scan
            if scan is None:
                raise UserError("请选择部门书面依据的扫描件")
            return lambda: cases.record_basis(
                actor, case_id, received_on=on, signed_by=signed_by, scan=scan
            )

        self.make_work = make

    def set_scan(self, path: Path) -> None:
        self.scan = path
        self.scan_label.setText(path.name)

    def _choose_scan(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self,
            "选择书面依据扫描件",
            "",
            "扫描件 (*.pdf *.jpg *.jpeg *.png *.tif *.tiff);;所有文件 (*)",
        )
        if path:
            self.set_scan(Path(path))

    def _mode_changed(self) -> None:
        receiving = self.received.isChecked()
        for widget in (self.received_on, self.signed_by, self.scan_button):
            widget.setEnabled(receiving)
        self.reason.setEnabled(not receiving)
