"""期限计算: the board's box that tells a complainant how a deadline is counted, day by day."""

from __future__ import annotations

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_app.domain.deadlines import MAX_RULE_DAYS, PROOF_EXAMPLE_DAYS
from desktop_app.domain.workdays import Deadline
from desktop_app.services.context import Changes
from desktop_app.ui.calendar.looks import BLUE, month_day, weekday_name
from desktop_app.ui.calendar.widgets import date_edit, pydate
from desktop_app.ui.common import UiContext
from desktop_app.ui.operations import Query
from desktop_app.ui.theme import YELLOW


class ProofBox(QGroupBox):
    """A start day and a number of working days in; the due day and the counted days out."""

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__("期限计算（向当事人说明期限怎么算）", parent)
        self._context = context
        form = QVBoxLayout(self)
        form.setSpacing(4)
        row = QHBoxLayout()
        row.addWidget(QLabel("自"))
        self.proof_date = date_edit(context.services.clock.now().date())
        self.proof_date.setToolTip("起算日（当天不计入）")
        row.addWidget(self.proof_date)
        row.addWidget(QLabel("起"))
        self.proof_days = QSpinBox()
        self.proof_days.setRange(0, MAX_RULE_DAYS)
        self.proof_days.setValue(PROOF_EXAMPLE_DAYS)
        self.proof_days.setSuffix(" 个工作日")
        row.addWidget(self.proof_days)
        row.addStretch(1)
        form.addLayout(row)
        self.proof_due = QLabel("")
        self.proof_due.setWordWrap(True)
        self.proof_due.setStyleSheet("font-weight: bold;")
        form.addWidget(self.proof_due)
        self.proof_text = QPlainTextEdit()
        self.proof_text.setReadOnly(True)
        self.proof_text.setMinimumHeight(90)
        self.proof_text.setMaximumHeight(150)
        self.proof_text.setStyleSheet("font-size: 9.5pt;")
        form.addWidget(self.proof_text)
        self.proof_date.dateChanged.connect(self.compute)
        self.proof_days.valueChanged.connect(self.compute)
        context.hub.changed.connect(self._on_changed)

    def _on_changed(self, changes: Changes) -> None:
        """A holiday or a rule changed (here or on another seat): the answer shown is counted
        again (it kept the old due day until the window was opened again, e.g. 12-14 across a
        closure that made it 12-15 — what a clerk would have told the complainant)."""
        if changes.settings and self.proof_text.toPlainText():
            self.compute()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self.proof_text.toPlainText():
            self.compute()  # the first time the box is seen: the example it opens with

    def compute(self) -> None:
        start = pydate(self.proof_date.date())
        days = self.proof_days.value()
        calendar = self._context.services.calendar

        def done(deadline: Deadline) -> None:
            if (pydate(self.proof_date.date()), self.proof_days.value()) != (start, days):
                return  # the clerk has typed on; a newer result is coming
            due = deadline.due
            text = f"期限日：{due.year}年{month_day(due)} {weekday_name(due)}"
            if deadline.provisional:
                text += "（暂定）"
            self.proof_due.setText(text)
            self.proof_due.setToolTip(f"起算日 {start:%Y-%m-%d} 当天不计入")
            self.proof_due.setStyleSheet(
                f"font-weight: bold; color: {YELLOW if deadline.provisional else BLUE};"
            )
            lines = [*deadline.proof_lines(), *deadline.warnings]
            self.proof_text.setPlainText("\n".join(lines))

        Query(self._context.runner, self, lambda: calendar.calendar().add(start, days), done).run()
