"""The 受阻原因 checkboxes of triage, one per cause of the site's reference list (issue 16).

The list is read on the worker when the boxes are made; a case's causes may be set before it
arrives and are ticked when it does. Boxes are keyed by cause code; an old ``Cause`` value (what
the first release stored) finds the box of its code.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterable, ValuesView

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QWidget

from desktop_app.domain.causes import cause_code, cause_codes, cause_label
from desktop_app.services.reference import CauseOption
from desktop_app.ui.common import UiContext
from desktop_app.ui.flow_layout import FlowLayout
from desktop_app.ui.operations import Query


class CauseBoxes(QWidget):
    toggled = Signal()

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._boxes: dict[str, QCheckBox] = {}
        self._labels: dict[str, str] = {}
        self._wanted: list[str] = []  # codes to tick once the boxes are there
        # In the triage tab, which scrolls: rows to the left, as tall as they wrap.
        self._layout = FlowLayout(self, last_to_right=False, scrolled=True)
        reference = context.services.reference
        Query(
            context.runner, self, lambda: (reference.causes(), reference.cause_labels()), self._fill
        ).run()

    def _fill(self, answer: tuple[list[CauseOption], dict[str, str]]) -> None:
        options, labels = answer
        self._labels = labels
        for option in options:
            box = QCheckBox(option.label)
            box.setToolTip(option.code)
            box.toggled.connect(lambda _on: self.toggled.emit())
            self._boxes[option.code] = box
            self._layout.addWidget(box)
        self.set_checked(self._wanted)

    @property
    def loaded(self) -> bool:
        return bool(self._boxes)

    def __getitem__(self, cause: str) -> QCheckBox:
        return self._boxes[cause_code(cause)]

    def items(self) -> ItemsView[str, QCheckBox]:
        return self._boxes.items()

    def values(self) -> ValuesView[QCheckBox]:
        return self._boxes.values()

    def set_checked(self, causes: Iterable[str]) -> None:
        self._wanted = cause_codes(causes)
        for code, box in self._boxes.items():
            box.setChecked(code in self._wanted)

    def label(self, cause: str) -> str:
        """A stored cause in words (a retired code too)."""
        return cause_label(cause, self._labels)
