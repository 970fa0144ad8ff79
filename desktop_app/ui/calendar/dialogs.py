"""调整值班: the roster tab's dialog for one day's shift."""

from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QWidget,
)

from desktop_app.services.roster import DutyRole, Period, ShiftInfo, StaffInfo
from desktop_app.ui.calendar.looks import month_day, weekday_name


class ShiftDialog(QDialog):
    """调整值班: put someone else on one day, or leave it empty."""

    def __init__(
        self,
        day: date,
        staff: list[StaffInfo],
        shifts: list[ShiftInfo],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"调整值班：{day.year}年{month_day(day)} {weekday_name(day)}")
        self.day = day
        self._staff = staff
        self._shifts = shifts
        form = QFormLayout(self)
        self.role = QComboBox()
        for role in (DutyRole.LEADER, DutyRole.WINDOW):
            self.role.addItem(role.label, role.value)
        self.person = QComboBox()
        self.period = QComboBox()
        for period in Period:
            self.period.addItem(period.label, period.value)
        self.note = QLineEdit()
        self.note.setPlaceholderText("如：与某某调班、病假")
        form.addRow("值班角色", self.role)
        form.addRow("人员", self.person)
        form.addRow("时段", self.period)
        form.addRow("备注", self.note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.role.currentIndexChanged.connect(self._fill_people)
        self._fill_people()

    def _fill_people(self) -> None:
        role = DutyRole(self.role.currentData())
        self.person.clear()
        self.person.addItem("（空，不安排）", None)
        for person in self._staff:
            if person.duty_role is role and person.active:
                title = f"（{person.title}）" if person.title else ""
                self.person.addItem(f"{person.name}{title}", person.id)
        current = [s for s in self._shifts if s.duty_role is role]
        if current:
            self.person.setCurrentIndex(max(0, self.person.findData(current[0].staff_id)))
            self.period.setCurrentIndex(max(0, self.period.findData(current[0].period.value)))
            self.note.setText(current[0].note)
        else:
            self.period.setCurrentIndex(0)
            self.note.clear()

    def values(self) -> tuple[DutyRole, int | None, Period, str]:
        person = self.person.currentData()
        return (
            DutyRole(self.role.currentData()),
            None if person is None else int(person),
            Period(self.period.currentData()),
            self.note.text(),
        )
