"""联席会议 (issue 16): 联席会议（会商）记录、会议纪要和会后交办。"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from desktop_app.ui.common import UiContext, heading


class MeetingsPage(QWidget):
    open_case = Signal(int)

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        layout = QVBoxLayout(self)
        layout.addWidget(heading("联席会议"))
        layout.addStretch(1)
