"""一类事与预警 (issue 16): 一类事（共性问题）和苗头性、倾向性问题预警。"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from desktop_app.ui.common import UiContext, heading


class ClassesPage(QWidget):
    open_case = Signal(int)

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        layout = QVBoxLayout(self)
        layout.addWidget(heading("一类事与预警"))
        layout.addStretch(1)
