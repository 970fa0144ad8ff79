"""The dialogs of 数据交换: the dry run's findings before an import, and the question before a
site is registered or its key replaced."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.domain.vocabulary import SiteLevel
from desktop_app.services.exchange import ImportReport, TrustedSite
from desktop_app.services.keys import PublicIdentity
from desktop_app.ui.exchange.data import RESULT_COLUMNS, preview_text, result_values
from desktop_app.ui.exchange.widgets import AMBER_BRUSH, RED_BRUSH, cell, set_row, table
from desktop_app.ui.screen import size_to_screen


def fill_results(widget: QTableWidget, reports: Sequence[ImportReport]) -> None:
    """One row per bundle or acknowledgement; a refusal's reason in red."""
    widget.setRowCount(len(reports))
    for row, report in enumerate(reports):
        set_row(widget, row, result_values(report), row)
        if report.refused:
            cell(widget, row, 7).setForeground(RED_BRUSH)
        elif report.totals()["conflicts"]:
            cell(widget, row, 6).setForeground(AMBER_BRUSH)
    widget.resizeRowsToContents()


class ImportPreviewDialog(QDialog):
    """The dry run's findings, with 确认导入 / 取消; nothing is imported until confirmed."""

    def __init__(self, reports: Sequence[ImportReport], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("导入预检")
        size_to_screen(self, 1000, 420)
        self.reports = list(reports)
        importable = [r for r in self.reports if not r.refused]
        layout = QVBoxLayout(self)
        self.summary = QLabel(preview_text(self.reports))
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.table = table(RESULT_COLUMNS, 7, wrap=True)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        fill_results(self.table, self.reports)
        layout.addWidget(self.table, 1)
        self.buttons = QDialogButtonBox()
        self.confirm_button = self.buttons.addButton(
            "确认导入", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.confirm_button.setObjectName("primary")
        self.cancel_button = self.buttons.addButton(
            "取消" if importable else "关闭", QDialogButtonBox.ButtonRole.RejectRole
        )
        self.confirm_button.setEnabled(bool(importable))
        self.confirm_button.setVisible(bool(importable))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        (self.confirm_button if importable else self.cancel_button).setDefault(True)

    def importable_paths(self) -> list[Path]:
        return [Path(r.path) for r in self.reports if not r.refused]


def trust_prompt(
    parent: QWidget, identity: PublicIdentity, known: TrustedSite | None, replace: bool
) -> tuple[QMessageBox, QAbstractButton]:
    """The question before registering a site, or before replacing a registered site's key:
    both ask for the fingerprint to be checked by telephone. Returns the box and its confirm
    button (the box is not shown yet)."""
    new = identity.fingerprint()
    who = f"“{identity.site_name}”（{identity.site_code}）"
    box = QMessageBox(parent)
    box.setWindowTitle("更换站点密钥" if replace else "登记站点")
    if replace and known is not None:
        box.setIcon(QMessageBox.Icon.Warning)
        state = "（已吊销）" if known.state == "revoked" else ""
        box.setText(
            f"站点{who}已登记过，但这个文件里的密钥不同。\n\n"
            f"原指纹{state}：{known.fingerprint}\n新指纹：{new}\n\n"
            "请先打电话给对方窗口，请对方念出新指纹并逐组核对，确认对方确实更换了密钥"
            "（而不是别人冒充）后再替换。替换后，用旧密钥签名的数据包将不再被接受。"
        )
        confirm = box.addButton("核对无误，替换", QMessageBox.ButtonRole.AcceptRole)
    else:
        box.setIcon(QMessageBox.Icon.Question)
        box.setText(
            f"登记{SiteLevel(identity.level).label}站点{who}\n\n指纹：{new}\n\n"
            "请打电话给对方窗口，请对方念出本站点页面上显示的指纹，逐组核对一致后再登记。"
        )
        confirm = box.addButton("核对无误，登记", QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton("取消", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(cancel)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    return box, confirm
