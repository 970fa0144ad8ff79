"""现场督办: the duty leader at the department's window, recorded as a step of its own."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import QComboBox, QDateTimeEdit, QLineEdit, QPlainTextEdit, QWidget

from desktop_app.services.cases import OnsiteVisit
from desktop_app.services.site import DepartmentInfo
from desktop_app.ui.assignment_panel import StepDialog
from desktop_app.ui.common import UiContext


def date_time_edit(now: datetime) -> QDateTimeEdit:
    """A date and time no later than ``now``, starting at ``now``."""
    edit = QDateTimeEdit()
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd HH:mm")
    shown = QDateTime(now.year, now.month, now.day, now.hour, now.minute, 0)
    edit.setDateTime(shown)
    edit.setMaximumDateTime(shown)
    return edit


def chosen_time(edit: QDateTimeEdit) -> datetime:
    value = edit.dateTime().toPython()
    assert isinstance(value, datetime)
    return value.replace(second=0, microsecond=0)


class OnsiteDialog(StepDialog):
    """Who went (the duty leader), when, to which department's window, and what came of it."""

    def __init__(
        self,
        context: UiContext,
        case_id: int,
        departments: Sequence[DepartmentInfo],
        department_id: int | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(context, "现场督办", parent)
        self.setMinimumWidth(560)
        self.leader = QLineEdit()
        self.leader.setPlaceholderText("到场督办的带班领导")
        if context.actor.role.value == "duty_leader":
            self.leader.setText(context.actor.display_name)
        self.at = date_time_edit(context.services.clock.now())
        self.department = QComboBox()
        for department in departments:
            self.department.addItem(department.name, department.id)
        if department_id is not None:
            self.department.setCurrentIndex(max(0, self.department.findData(department_id)))
        self.place = QLineEdit()
        self.place.setPlaceholderText("如：政务服务中心二楼医保窗口")
        self.result_text = QPlainTextEdit()
        self.result_text.setTabChangesFocus(True)
        self.result_text.setMaximumHeight(90)
        self.result_text.setPlaceholderText("督办结果：问题是否当场解决、部门承诺何时办结")
        self.form.addRow("督办领导", self.leader)
        self.form.addRow("督办时间", self.at)
        self.form.addRow("督办部门", self.department)
        self.form.addRow("督办地点", self.place)
        self.form.addRow("督办结果", self.result_text)
        self.fields.update(
            leader=self.leader,
            at=self.at,
            department=self.department,
            place=self.place,
            result=self.result_text,
        )
        self._place_default = ""
        self.department.currentIndexChanged.connect(self._department_changed)
        self._department_changed()
        cases, actor = context.services.cases, context.actor

        def make() -> Callable[[], object]:
            visit = OnsiteVisit(
                leader=self.leader.text(),
                at=chosen_time(self.at),
                department_id=int(self.department.currentData() or 0),
                place=self.place.text(),
                result=self.result_text.toPlainText(),
            )
            return lambda: cases.record_onsite(actor, case_id, visit)

        self.make_work = make

    def _department_changed(self) -> None:
        """The place starts as the department's window until the user writes another."""
        default = f"{self.department.currentText()}窗口" if self.department.count() else ""
        if self.place.text() in ("", self._place_default):
            self.place.setText(default)
        self._place_default = default
