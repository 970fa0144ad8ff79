"""值班安排 tab: who leads and who sits at the window each day of the month shown.

It follows the board's month and listens to the change hub itself: the roster, the holidays and
the rules are settings, so a settings change reloads it (cases do not concern it). A month of
rows is not free to fill, so it loads when it is looked at.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.domain.permissions import Permission
from desktop_app.domain.workdays import WEEKDAY_NAMES
from desktop_app.services.context import Changes
from desktop_app.services.roster import (
    DutyRole,
    Period,
    Rotation,
    RotationPlan,
    StaffInfo,
)
from desktop_app.ui.calendar.data import RosterData, load_roster, month_bounds
from desktop_app.ui.calendar.dialogs import ShiftDialog
from desktop_app.ui.calendar.looks import GREY_TEXT, HOLIDAY_SHADE, WEEKEND_SHADE, weekday_name
from desktop_app.ui.calendar.widgets import (
    ID_ROLE,
    Reads,
    beside,
    date_edit,
    field_message,
    permission_hint,
    placeholder,
    pydate,
)
from desktop_app.ui.common import FieldError, UiContext, heading
from desktop_app.ui.operations import Action, Query


class RosterTab(QWidget):
    """The month's duty table, the people on the roster, and the rotation generator."""

    month_step = Signal(int)  # ◀ / ▶: the board moves to the month before or after

    def __init__(self, context: UiContext, month: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._context = context
        self._services = context.services
        self._actor = context.actor
        self._can_edit = context.actor.can(Permission.MANAGE_REFERENCE)
        self._reads = Reads()
        self._month = (month.year, month.month)
        self._stale = True
        self.data: RosterData | None = None
        self.shift_dialog: ShiftDialog | None = None

        row = QHBoxLayout(self)
        row.setContentsMargins(8, 8, 8, 6)
        row.addLayout(self._build_table(), 3)
        scroll = QScrollArea()
        scroll.setWidget(self._build_side())
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setMinimumWidth(400)
        row.addWidget(scroll, 2)
        self._render_title()
        context.hub.changed.connect(self._on_changed)

    def _build_table(self) -> QVBoxLayout:
        left = QVBoxLayout()
        top = QHBoxLayout()
        roster_previous = QPushButton("◀")
        roster_previous.setFixedWidth(36)
        roster_previous.setToolTip("上一月")
        roster_next = QPushButton("▶")
        roster_next.setFixedWidth(36)
        roster_next.setToolTip("下一月")
        roster_previous.clicked.connect(lambda: self.month_step.emit(-1))
        roster_next.clicked.connect(lambda: self.month_step.emit(1))
        self.roster_title = heading("", 12)
        top.addWidget(roster_previous)
        top.addWidget(roster_next)
        top.addWidget(self.roster_title)
        top.addStretch(1)
        left.addLayout(top)
        self.roster_table = QTableWidget(0, 5)
        self.roster_table.setHorizontalHeaderLabels(
            ["日期", "星期", "节假日", "带班领导", "坐窗人员"]
        )
        self.roster_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.roster_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.roster_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.roster_table.verticalHeader().setVisible(False)
        self.roster_table.verticalHeader().setDefaultSectionSize(24)
        header = self.roster_table.horizontalHeader()
        for column, width in enumerate((100, 50, 130)):
            self.roster_table.setColumnWidth(column, width)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.roster_table.itemSelectionChanged.connect(self._roster_selection_changed)
        self.roster_table.itemDoubleClicked.connect(lambda _item: self.adjust_shift())
        left.addWidget(self.roster_table, 1)
        buttons = QHBoxLayout()
        self.adjust_button = QPushButton("调整…")
        self.adjust_button.setToolTip("给选中的日期换人或取消安排（也可双击该行）")
        self.adjust_button.setEnabled(False)
        self.adjust_button.clicked.connect(self.adjust_shift)
        buttons.addWidget(self.adjust_button)
        self.roster_status = QLabel("")
        self.roster_status.setObjectName("hint")
        self.roster_status.setWordWrap(True)
        buttons.addWidget(self.roster_status, 1)
        left.addLayout(buttons)
        return left

    def _build_side(self) -> QWidget:
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 6, 0)
        if not self._can_edit:
            side_layout.addWidget(permission_hint("只有管理员可以修改值班人员和排班。"))

        staff_box = QGroupBox("值班人员")
        staff_layout = QVBoxLayout(staff_box)
        self.staff_lists: dict[DutyRole, QListWidget] = {}
        lists = QHBoxLayout()
        for role in (DutyRole.LEADER, DutyRole.WINDOW):
            column = QVBoxLayout()
            column.addWidget(QLabel(role.label))
            people = QListWidget()
            people.setMaximumHeight(110)
            column.addWidget(people)
            lists.addLayout(column)
            self.staff_lists[role] = people
        staff_layout.addLayout(lists)
        add_form = QGridLayout()
        self.staff_role = QComboBox()
        for role in (DutyRole.LEADER, DutyRole.WINDOW):
            self.staff_role.addItem(role.label, role.value)
        self.staff_name = QLineEdit()
        self.staff_name.setPlaceholderText("姓名")
        self.staff_title = QLineEdit()
        self.staff_title.setPlaceholderText("职务，如：副主任")
        self.staff_phone = QLineEdit()
        self.staff_phone.setPlaceholderText("电话")
        self.add_staff_button = QPushButton("添加")
        self.add_staff_button.clicked.connect(self.add_staff)
        self.staff_phone.returnPressed.connect(self.add_staff)
        add_form.addWidget(self.staff_role, 0, 0)
        add_form.addWidget(self.staff_name, 0, 1)
        add_form.addWidget(self.staff_title, 1, 0)
        add_form.addWidget(self.staff_phone, 1, 1)
        add_form.addWidget(self.add_staff_button, 1, 2)
        staff_layout.addLayout(add_form)
        self.staff_error = FieldError()
        staff_layout.addWidget(self.staff_error)
        side_layout.addWidget(staff_box)

        generate_box = self._build_generator()
        side_layout.addWidget(generate_box)
        side_layout.addStretch(1)
        # Clerks and leaders see who is on duty and how to reach them, not forms they cannot use.
        add_form_widgets: tuple[QWidget, ...] = (
            self.staff_role,
            self.staff_name,
            self.staff_title,
            self.staff_phone,
            self.add_staff_button,
        )
        for widget in add_form_widgets:
            widget.setVisible(self._can_edit)
        generate_box.setVisible(self._can_edit)
        self._rotation_changed()

        for form_widget in (
            *add_form_widgets,
            self.generate_role,
            self.generate_rotation,
            self.generate_people,
            self.generate_start,
            self.generate_end,
            self.generate_weekday,
            self.generate_period,
            self.generate_button,
        ):
            form_widget.setEnabled(self._can_edit and form_widget.isEnabled())
        return side

    def _build_generator(self) -> QGroupBox:
        generate_box = QGroupBox("生成排班")
        generate = QFormLayout(generate_box)
        self.generate_role = QComboBox()
        for role in (DutyRole.LEADER, DutyRole.WINDOW):
            self.generate_role.addItem(role.label, role.value)
        self.generate_rotation = QComboBox()
        for rotation in Rotation:
            self.generate_rotation.addItem(rotation.label, rotation.value)
        self.generate_people = QListWidget()
        self.generate_people.setMaximumHeight(90)
        self.generate_people.setToolTip("勾选参加轮换的人员（空格键勾选），按列表顺序轮流")
        first, last = month_bounds(*self._month)
        self.generate_start = date_edit(first)
        self.generate_end = date_edit(last)
        dates = QHBoxLayout()
        dates.addWidget(self.generate_start)
        dates.addWidget(QLabel("至"))
        dates.addWidget(self.generate_end)
        dates.addStretch(1)
        self.generate_weekday = QComboBox()
        for index, name in enumerate(WEEKDAY_NAMES[:5]):
            self.generate_weekday.addItem(name, index)
        self.generate_weekday.setCurrentIndex(2)
        self.generate_period = QComboBox()
        for period in (Period.AM, Period.PM):
            self.generate_period.addItem(period.label, period.value)
        self.generate_period.setCurrentIndex(1)
        weekly = QHBoxLayout()
        weekly.addWidget(self.generate_weekday)
        weekly.addWidget(self.generate_period)
        weekly.addStretch(1)
        generate.addRow("角色", self.generate_role)
        generate.addRow("轮换方式", self.generate_rotation)
        generate.addRow("人员", self.generate_people)
        generate.addRow("日期", dates)
        generate.addRow("每周值班", weekly)
        self.generate_button = QPushButton("生成排班")
        self.generate_button.clicked.connect(self.generate_roster)
        self.generate_error = FieldError()
        generate.addRow(self.generate_button, self.generate_error)
        note = QLabel("只排工作日；会替换该角色在这段日期内原有的排班。")
        note.setObjectName("hint")
        note.setWordWrap(True)
        generate.addRow(note)
        self.generate_role.currentIndexChanged.connect(self._fill_generate_people)
        self.generate_rotation.currentIndexChanged.connect(self._rotation_changed)
        return generate_box

    # Loading -------------------------------------------------------------------------------------

    @property
    def is_loading(self) -> bool:
        return self._reads.busy

    def refresh(self) -> None:
        """Reload the month's duty days and the people on the worker."""
        self._stale = False
        job = self._reads.start("roster")
        services = self._services
        year, month = self._month

        def show(data: RosterData) -> None:
            if self._reads.is_newest("roster", job):
                self._show_roster(data)

        (
            Query(self._context.runner, self, lambda: load_roster(services, year, month), show)
            .finished(lambda: self._reads.finish("roster", job))
            .run()
        )

    def set_month(self, anchor: date) -> None:
        """Follow the board to another month."""
        month = (anchor.year, anchor.month)
        if month == self._month:
            return
        self._month = month
        self._render_title()
        self._reload()

    def _reload(self) -> None:
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True

    def _on_changed(self, changes: Changes) -> None:
        if changes.settings:
            self._reload()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale and not self.is_loading:
            self.refresh()

    # Showing -------------------------------------------------------------------------------------

    def _render_title(self) -> None:
        year, month = self._month
        self.roster_title.setText(f"{year}年{month}月值班表")

    def _show_roster(self, data: RosterData) -> None:
        self.data = data
        days = data.days
        selected = self._selected_roster_day()
        self.roster_table.setRowCount(len(days))
        focus_row: int | None = None
        for row, cell in enumerate(days):
            holiday = "" if cell.reason == "工作日" else cell.reason
            values = (
                f"{cell.day:%Y-%m-%d}",
                weekday_name(cell.day),
                holiday,
                cell.leader or ("" if not cell.working else "—"),
                cell.window,
            )
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                if column == 0:
                    item.setData(ID_ROLE, cell.day)
                if not cell.working:
                    item.setBackground(
                        QBrush(QColor(HOLIDAY_SHADE if holiday != "周末" else WEEKEND_SHADE))
                    )
                    item.setForeground(QBrush(QColor(GREY_TEXT)))
                if cell.day == data.today:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.roster_table.setItem(row, column, item)
            if cell.day == selected:
                self.roster_table.selectRow(row)
            if cell.day == (selected or data.today):
                focus_row = row
        if focus_row is not None:
            # After the table has its size, so the row can be centred.
            focus_day = days[focus_row].day
            QTimer.singleShot(0, self.roster_table, lambda: self._scroll_roster_to(focus_day))
        for role, widget in self.staff_lists.items():
            widget.clear()
            people = [p for p in data.staff if p.duty_role is role]
            for person in people:
                parts = [person.name, person.title, person.phone]
                text = "　".join(p for p in parts if p)
                if not person.active:
                    text += "（停用）"
                list_item = QListWidgetItem(text)
                list_item.setData(ID_ROLE, person.id)
                widget.addItem(list_item)
            if not people:
                widget.addItem(placeholder("尚未添加"))
        self._fill_generate_people()
        self._roster_selection_changed()

    def _scroll_roster_to(self, day: date) -> None:
        self.roster_table.doItemsLayout()  # the new rows' scroll range, before scrolling
        for row in range(self.roster_table.rowCount()):
            item = self.roster_table.item(row, 0)
            if item is not None and item.data(ID_ROLE) == day:
                self.roster_table.scrollToItem(item, QAbstractItemView.ScrollHint.PositionAtCenter)
                return

    def _selected_roster_day(self) -> date | None:
        rows = self.roster_table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.roster_table.item(rows[0].row(), 0)
        day = None if item is None else item.data(ID_ROLE)
        return day if isinstance(day, date) else None

    def _roster_selection_changed(self) -> None:
        self.adjust_button.setEnabled(self._can_edit and self._selected_roster_day() is not None)

    def _rotation_changed(self) -> None:
        weekly = self.generate_rotation.currentData() == Rotation.WEEKLY_HALF_DAY.value
        self.generate_weekday.setEnabled(weekly and self._can_edit)
        self.generate_period.setEnabled(weekly and self._can_edit)

    def _fill_generate_people(self) -> None:
        role = DutyRole(self.generate_role.currentData())
        checked = set(self.generate_people_ids())
        self.generate_people.clear()
        staff: list[StaffInfo] = self.data.staff if self.data else []
        for person in staff:
            if person.duty_role is role and person.active:
                title = f"（{person.title}）" if person.title else ""
                item = QListWidgetItem(f"{person.name}{title}")
                item.setData(ID_ROLE, person.id)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(
                    Qt.CheckState.Checked if person.id in checked else Qt.CheckState.Unchecked
                )
                self.generate_people.addItem(item)
        if not self.generate_people.count():
            self.generate_people.addItem(placeholder(f"请先在上方添加{role.label}"))

    def generate_people_ids(self) -> list[int]:
        ids = []
        for row in range(self.generate_people.count()):
            item = self.generate_people.item(row)
            if item.data(ID_ROLE) is not None and item.checkState() == Qt.CheckState.Checked:
                ids.append(int(item.data(ID_ROLE)))
        return ids

    # Actions -------------------------------------------------------------------------------------

    def add_staff(self) -> None:
        if not self._can_edit:
            return
        self.staff_error.set_message(None)
        actor, roster = self._actor, self._services.roster
        role = DutyRole(self.staff_role.currentData())
        name, title, phone = (
            self.staff_name.text(),
            self.staff_title.text(),
            self.staff_phone.text(),
        )

        def done(result: tuple[StaffInfo, Changes]) -> None:
            person, _changes = result
            for widget in (self.staff_name, self.staff_title, self.staff_phone):
                widget.clear()
            self.roster_status.setText(f"已添加{person.duty_role.label}“{person.name}”。")
            self.staff_name.setFocus()

        (
            Action(
                self._context,
                self,
                lambda: roster.save_staff(
                    actor, name=name, duty_role=role, title=title, phone=phone
                ),
            )
            .success(done)
            .on_invalid(field_message(self.staff_error))
            .failure(beside(self.staff_error, self))
            .run()
        )

    def generate_roster(self) -> None:
        if not self._can_edit:
            return
        self.generate_error.set_message(None)
        plan = RotationPlan(
            duty_role=DutyRole(self.generate_role.currentData()),
            rotation=Rotation(self.generate_rotation.currentData()),
            staff_ids=tuple(self.generate_people_ids()),
            start=pydate(self.generate_start.date()),
            end=pydate(self.generate_end.date()),
            weekday=int(self.generate_weekday.currentData()),
            period=Period(self.generate_period.currentData()),
        )
        actor, roster = self._actor, self._services.roster

        def done(result: tuple[int, Changes]) -> None:
            count, _changes = result
            self.roster_status.setText(
                f"已生成 {plan.start:%Y-%m-%d} 至 {plan.end:%Y-%m-%d} 的"
                f"{plan.duty_role.label}排班，共 {count} 班。"
            )

        (
            Action(self._context, self, lambda: roster.generate(actor, plan))
            .success(done)
            .on_invalid(field_message(self.generate_error))
            .failure(beside(self.generate_error, self))
            .run()
        )

    def adjust_shift(self) -> None:
        day = self._selected_roster_day()
        if not self._can_edit or day is None or self.data is None:
            return
        shifts = [s for s in self.data.shifts if s.day == day]
        dialog = ShiftDialog(day, self.data.staff, shifts, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._apply_shift(dialog))
        dialog.destroyed.connect(lambda: setattr(self, "shift_dialog", None))
        self.shift_dialog = dialog
        dialog.open()

    def _apply_shift(self, dialog: ShiftDialog) -> None:
        day = dialog.day
        role, staff_id, period, note = dialog.values()
        actor, roster = self._actor, self._services.roster
        name = dialog.person.currentText()

        def done(_changes: Changes) -> None:
            who = "不安排" if staff_id is None else name
            self.roster_status.setText(f"{day:%Y-%m-%d} 的{role.label}已调整为：{who}。")

        (
            Action(
                self._context,
                self,
                lambda: roster.set_shift(actor, day, role, staff_id, period=period, note=note),
            )
            .success(done)
            .run()
        )
