"""问责线索 (issue 16): 问责线索登记簿：拟移交、已移交、已处理的问题线索，移交函和处理结果。"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from desktop_app.ui.common import UiContext, heading


class ReferralsPage(QWidget):
    open_case = Signal(int)

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        layout = QVBoxLayout(self)
        layout.addWidget(heading("问责线索"))
        layout.addStretch(1)
