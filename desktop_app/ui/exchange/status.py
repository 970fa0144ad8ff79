"""上报情况 (county) / 汇总情况 (city): where the exchange stands, its reminder, and the county's
reporting period.

It listens to the change hub itself: cases (records to report, conflicts), settings (the period)
and sites (the city registered, the counties) concern it; an export or an import reloads it
through the page.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from desktop_app.domain.permissions import Permission
from desktop_app.services.context import Changes
from desktop_app.services.exchange import SyncStatus
from desktop_app.ui.common import Card, UiContext, show_error
from desktop_app.ui.exchange.data import StatusData, load_status, status_text
from desktop_app.ui.exchange.widgets import Busy, Section
from desktop_app.ui.operations import Action, Query
from desktop_app.ui.theme import RED, YELLOW


class StatusCard(Section):
    """The standing of the exchange in one line, with the reminder the dashboard shows."""

    told = Signal(str)  # what was done, for the page's message line

    def __init__(self, context: UiContext, page: QWidget, busy: Busy, is_city: bool) -> None:
        super().__init__(context, page, busy)
        self.is_city = is_city
        self._can_set_period = self._actor.can(Permission.MANAGE_REFERENCE)
        self.data: StatusData | None = None

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        card = Card("汇总情况" if is_city else "上报情况")
        outer.addWidget(card)
        row = QHBoxLayout()
        self.status_label = QLabel("正在读取…")
        self.status_label.setWordWrap(True)
        row.addWidget(self.status_label, 1)
        self.period_label = QLabel("上报周期（天）")
        self.period = QSpinBox()
        self.period.setRange(1, 90)
        self.period.setValue(7)
        self.period.setToolTip("超过这么多天没有收到市级回执时，工作台会提醒上报")
        self.period_button = QPushButton("保存周期")
        self.period_button.clicked.connect(self.save_period)
        for widget in (self.period_label, self.period, self.period_button):
            row.addWidget(widget)
            widget.setVisible(not is_city)
            widget.setEnabled(self._can_set_period)
        if not self._can_set_period:
            self.period.setToolTip("只有管理员可以修改上报周期")
        card.body.addLayout(row)
        self.reminder_label = QLabel("")
        self.reminder_label.setWordWrap(True)
        self.reminder_label.setVisible(False)
        card.body.addWidget(self.reminder_label)

    def concerns(self, changes: Changes) -> bool:
        return changes.cases or changes.settings or changes.site

    def _load(self) -> None:
        services, is_city = self._services, self.is_city
        Query(
            self._context.runner, self, lambda: load_status(services, is_city), self._show
        ).failure(self._failed).finished(self._load_finished).run()

    def _failed(self, exc: Exception) -> None:
        self.status_label.setText("数据交换情况读取失败")
        show_error(self, exc)

    def _show(self, data: StatusData) -> None:
        self._loaded = True
        self.data = data
        status = data.status
        if not self.period.hasFocus():
            self.period.setValue(status.period_days)
        self.status_label.setText(status_text(data, self.is_city))
        self._show_reminder(status)

    def _show_reminder(self, status: SyncStatus) -> None:
        reminder = status.reminder()
        if reminder:
            overdue = status.overdue_days > 0 or (self.is_city and status.open_conflicts > 0)
            colour = RED if overdue else YELLOW
            self.reminder_label.setStyleSheet(f"color: {colour}; font-weight: bold;")
            self.reminder_label.setText(("⚠ " if overdue else "") + reminder)
        self.reminder_label.setVisible(bool(reminder))

    def save_period(self) -> None:
        services, actor, days = self._services, self._actor, self.period.value()
        Action(self._context, self, lambda: services.sync.set_period_days(actor, days)).success(
            lambda _changes: self.told.emit(f"上报周期已改为 {days} 天。")
        ).run()
