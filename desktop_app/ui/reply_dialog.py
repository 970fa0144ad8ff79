"""答复反映人: the reply to the complainant as a record of its own (date, method, text)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QComboBox, QPlainTextEdit, QWidget

from desktop_app.domain.vocabulary import ReplyMethod
from desktop_app.ui.assignment_panel import StepDialog
from desktop_app.ui.common import UiContext
from desktop_app.ui.onsite_dialog import chosen_time, date_time_edit


class ReplyDialog(StepDialog):
    """Before conclusion (an interim answer) or after it (the department's result passed on)."""

    def __init__(self, context: UiContext, case_id: int, parent: QWidget | None = None) -> None:
        super().__init__(context, "答复反映人", parent)
        self.setMinimumWidth(560)
        self.at = date_time_edit(context.services.clock.now())
        self.method = QComboBox()
        for method in ReplyMethod:
            self.method.addItem(method.label, method.value)
        self.text = QPlainTextEdit()
        self.text.setTabChangesFocus(True)
        self.text.setMaximumHeight(110)
        self.text.setPlaceholderText("答复当事人的内容")
        self.form.addRow("答复时间", self.at)
        self.form.addRow("答复方式", self.method)
        self.form.addRow("答复内容", self.text)
        self.fields.update(at=self.at, method=self.method, text=self.text)
        cases, actor = context.services.cases, context.actor

        def make() -> Callable[[], object]:
            method = ReplyMethod(self.method.currentData())
            text, at = self.text.toPlainText(), chosen_time(self.at)
            return lambda: cases.record_reply(
                actor, case_id, method=method, text=text, replied_at=at
            )

        self.make_work = make
