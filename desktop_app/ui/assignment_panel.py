"""交办 in the case dialog: the case's assignments, a new draft, and each step of their life.

Buttons follow the selected assignment's state and the user's role; a step that needs input opens
a small dialog whose errors show inside it. Every service call runs on the worker
(``ui.operations``), which publishes what it changed on the hub.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.domain.assignment_flow import (
    OUTSTANDING,
    AssignmentKind,
    AssignmentState,
    ClosedWith,
    ExtensionState,
    extended_due,
    state_label,
)
from desktop_app.domain.deadlines import (
    EXTENSION_REQUEST_DAYS,
    SUPERVISE_DAYS,
    DeadlineState,
    soon_limit,
    state_of,
)
from desktop_app.domain.permissions import Permission
from desktop_app.domain.settings import DEFAULT_REQUIREMENTS_WORDING, requirements_wording
from desktop_app.domain.vocabulary import OPEN_STATUSES, CaseStatus, chinese_date
from desktop_app.domain.workdays import WorkdayCalendar
from desktop_app.errors import UserError
from desktop_app.services.app import AppServices
from desktop_app.services.assignments import (
    MAX_ASSIGNMENT_DAYS,
    AssignmentInfo,
    SigningPreview,
    supervise_requirements,
)
from desktop_app.services.context import Actor, Changes
from desktop_app.services.site import DepartmentInfo
from desktop_app.ui.common import FieldError, UiContext, heading, show_error
from desktop_app.ui.operations import Action, Query, changes_of
from desktop_app.ui.slip_preview import SlipPreviewDialog
from desktop_app.ui.theme import RED, YELLOW

T = TypeVar("T")

COLUMNS = ("类型", "承办单位", "状态", "期限", "交办单号", "签发人")
PLEASE_CHOOSE_DEPARTMENT = "请选择承办单位"
ASSIGNMENT_ID_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class _Snapshot:
    """What the panel shows, read on the worker in one go."""

    assignments: list[AssignmentInfo]
    today: date
    soon_until: date
    signer_hint: str  # today's duty leader, for a clerk who cannot sign
    case_status: CaseStatus
    closed_with: dict[int, ClosedWith]  # 随办结关闭 or 随撤回关闭, by assignment id
    calendar: WorkdayCalendar | None = None  # read on the worker: a dialog counts days with it


@dataclass(frozen=True)
class DraftData:
    """What 新建交办 shows, read on the worker (``load``) before the dialog opens."""

    case_title: str
    departments: list[DepartmentInfo]
    default_days: int  # the working days the case's triage rule gives
    today: date
    calendar: WorkdayCalendar  # counts the due date as the days change, without a read
    # The office's 交办要求 wording (系统设置 → 公文设置), {天数} and {事项} still in it.
    requirements_wording: str = DEFAULT_REQUIREMENTS_WORDING

    @staticmethod
    def load(services: AppServices, case_id: int, case_title: str = "") -> DraftData:
        return DraftData(
            case_title=case_title or services.cases.detail(case_id).title,
            departments=services.site.departments(),
            default_days=services.assignments.default_days(case_id),
            today=services.clock.now().date(),
            calendar=services.calendar.calendar(),
            requirements_wording=services.assignments.draft_wording(case_id),
        )


def _deadline_state(info: AssignmentInfo, today: date, soon_until: date) -> DeadlineState | None:
    if info.state not in OUTSTANDING:
        return None
    return state_of(info.due_date, today, soon_until)


def _paper_text(info: AssignmentInfo, *, chinese: bool = False) -> str:
    """The deadline on the department's paper, as printed (with its 暂定)."""
    if info.paper_due_date is None:
        return ""
    day = chinese_date(info.paper_due_date) if chinese else f"{info.paper_due_date:%Y-%m-%d}"
    return day + ("（暂定）" if info.paper_provisional else "")


def _state_text(info: AssignmentInfo, closed_with: ClosedWith | None = None) -> str:
    text = state_label(info.state, closed_with)
    if info.state in OUTSTANDING and info.extension_state is not ExtensionState.NONE:
        extension = info.extension_state.label
        if info.extension_state is ExtensionState.REQUESTED and info.extension_days:
            extension += f"{info.extension_days}个工作日"
        text += f" · {extension}"
    return text


class StepDialog(QDialog):
    """A small form for one step; OK runs the step on the worker and shows its errors here."""

    succeeded = Signal(object)

    def __init__(self, context: UiContext, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._context = context
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        layout.addLayout(self.form)
        self.error = FieldError()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("确定")
        self.ok_button.setObjectName("primary")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.make_work: Callable[[], Callable[[], object]] | None = None
        self.fields: dict[str, QWidget] = {}  # the inputs by name, for tests and focus
        self.busy = False

    def submit(self) -> None:
        if self.busy or self.make_work is None:
            return
        self.error.set_message(None)
        try:
            work = self.make_work()  # reads the fields; may raise a UserError itself
        except UserError as exc:
            self.error.set_message(exc.message)
            return
        self.busy = True
        self.ok_button.setEnabled(False)
        Action(self._context, self, work).success(self._done).failure(self._failed).run()

    def _done(self, result: object) -> None:
        self.busy = False
        self.ok_button.setEnabled(True)
        self.succeeded.emit(result)
        self.accept()

    def _failed(self, exc: Exception) -> None:
        self.busy = False
        self.ok_button.setEnabled(True)
        if isinstance(exc, UserError):
            self.error.set_message(exc.message)
        else:
            show_error(self, exc)


class DraftDialog(StepDialog):
    """新建交办: lead department, assisting ones, requirements and the working days."""

    def __init__(
        self,
        context: UiContext,
        case_id: int,
        data: DraftData,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(context, "新建交办", parent)
        self.setMinimumWidth(620)
        self.case_id = case_id
        self._title = data.case_title
        self._today = data.today
        self._calendar = data.calendar
        self.default_days = data.default_days
        self._wording = data.requirements_wording
        default_days = data.default_days
        # No pre-selected department (the first of the list was, and a hurried click assigned
        # the matter to 医疗保障局): the clerk chooses, as everywhere else in the window.
        self.department = QComboBox()
        self.department.setPlaceholderText(PLEASE_CHOOSE_DEPARTMENT)
        for department in data.departments:
            self.department.addItem(department.name, department.id)
        self.department.setCurrentIndex(-1)
        self._has_departments = bool(data.departments)
        self.assisting = QListWidget()
        self.assisting.setMaximumHeight(110)
        for department in data.departments:
            item = QListWidgetItem(department.name)
            item.setData(Qt.ItemDataRole.UserRole, department.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.assisting.addItem(item)
        self.requirements = QPlainTextEdit()
        self.requirements.setTabChangesFocus(True)
        self.requirements.setMinimumHeight(90)
        self.days = QSpinBox()
        self.days.setRange(0, MAX_ASSIGNMENT_DAYS)
        self.days.setSuffix(" 个工作日")
        self.days.setValue(default_days)
        self.days_hint = QLabel("")
        self.days_hint.setObjectName("hint")
        days_row = QHBoxLayout()
        days_row.addWidget(self.days)
        days_row.addWidget(self.days_hint, 1)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("与期限规则相同时不用填")
        self.form.addRow("承办单位", self.department)
        self.form.addRow("协办单位", self.assisting)
        self.form.addRow("办理时限", days_row)
        self.form.addRow("调整理由", self.reason)
        self.form.addRow("交办要求", self.requirements)
        self._template = self._make_template()
        self.requirements.setPlainText(self._template)
        self._show_due()
        self.days.valueChanged.connect(self._days_changed)
        self.department.currentIndexChanged.connect(self._lead_changed)
        self._lead_changed()
        self.make_work = self._work

    def _make_template(self) -> str:
        return requirements_wording(self._wording, days=self.days.value(), title=self._title)

    def _show_due(self) -> None:
        """The date the department must finish by, counted in working days from today."""
        due = self._calendar.add(self._today, self.days.value()).due
        self.days_hint.setText(
            f"至 {chinese_date(due)}（自今日起算；期限规则 {self.default_days} 个工作日）"
        )

    def _days_changed(self) -> None:
        self._show_due()
        # Keep the template in step with the days until the clerk writes their own text.
        if self.requirements.toPlainText() == self._template:
            self._template = self._make_template()
            self.requirements.setPlainText(self._template)
        else:
            self._template = self._make_template()
        changed = self.days.value() != self.default_days
        self.reason.setPlaceholderText(
            f"必填：为什么不是规则的{self.default_days}个工作日"
            if changed
            else "与期限规则相同时不用填"
        )
        label = self.form.labelForField(self.reason)
        if isinstance(label, QLabel):
            label.setText("调整理由 *" if changed else "调整理由")

    def _lead_changed(self) -> None:
        lead = self.department.currentData()
        if lead is not None and self.error.text() == PLEASE_CHOOSE_DEPARTMENT:
            self.error.set_message(None)  # chosen: the message goes
        for row in range(self.assisting.count()):
            item = self.assisting.item(row)
            is_lead = item.data(Qt.ItemDataRole.UserRole) == lead
            if is_lead:
                item.setCheckState(Qt.CheckState.Unchecked)
            item.setHidden(is_lead)

    def assisting_ids(self) -> list[int]:
        return [
            int(item.data(Qt.ItemDataRole.UserRole))
            for item in (self.assisting.item(i) for i in range(self.assisting.count()))
            if item.checkState() == Qt.CheckState.Checked and not item.isHidden()
        ]

    def _work(self) -> Callable[[], object]:
        if not self._has_departments:
            raise UserError("还没有承办单位：请管理员先在系统设置中添加部门")
        if self.department.currentData() is None:
            self.department.setFocus()
            raise UserError(PLEASE_CHOOSE_DEPARTMENT)
        if self.days.value() != self.default_days and not self.reason.text().strip():
            self.reason.setFocus()
            raise UserError(
                f"期限规则为{self.default_days}个工作日；改为{self.days.value()}个工作日请填写理由"
            )
        services, actor, case_id = self._context.services, self._context.actor, self.case_id
        department_id = int(self.department.currentData())
        assisting = self.assisting_ids()
        requirements = self.requirements.toPlainText()
        days = self.days.value()
        note = self.reason.text()
        return lambda: services.assignments.create(
            actor,
            case_id,
            department_id=department_id,
            requirements=requirements,
            assisting_ids=assisting,
            working_days=days,
            deadline_note=note,
        )


class AssignmentPanel(QWidget):
    """The 交办 tab of a case."""

    changed = Signal(object)  # the Changes of a step here (ui.operations publishes them)
    slip_issued = Signal(str)
    # First read: a draft waits for this user's signature (it is selected): the case dialog
    # opens on this tab for the duty leader, the 签发 button in the keyboard's reach.
    awaiting_signature = Signal()

    def __init__(self, context: UiContext, case_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._context = context
        self.case_id = case_id
        self.case_title = ""
        self.read_only = False
        self.assignments: list[AssignmentInfo] = []
        self._today = context.services.clock.now().date()
        self._soon_until = self._today
        self._loading = False
        self._reload_again = False
        self._busy = False
        self._first_fill = True
        self._calendar: WorkdayCalendar | None = None  # from the last read (never on this thread)
        self.signer_hint = ""
        self.case_status: CaseStatus | None = None  # None until loaded: nothing is signed then
        self._closed_with: dict[int, ClosedWith] = {}
        self.dialog: QDialog | None = None  # the step dialog or preview now open (tests use it)
        self.slip_menu: QMenu | None = None  # the choice of papers when there are several
        self.sign_from_preview: QPushButton | None = None  # 签发… in the draft's preview

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(heading("交办、协办与督办", 12))
        top.addStretch(1)
        self.new_button = QPushButton("新建交办…")
        self.new_button.setObjectName("primary")
        self.new_button.clicked.connect(self.new_assignment)
        top.addWidget(self.new_button)
        layout.addLayout(top)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda _item: self.preview_selected())
        # Tab leaves the table for the buttons (it moved from cell to cell and never reached
        # 签发: a leader could not sign by keyboard); ↑↓ choose the row.
        self.table.setTabKeyNavigation(False)
        layout.addWidget(self.table, 1)

        self.details = QLabel("")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setObjectName("hint")
        self.signer_label = QLabel("")

        grid = QGridLayout()
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(6)

        def button(text: str, slot: Callable[[], object], row: int, column: int) -> QPushButton:
            widget = QPushButton(text)
            widget.clicked.connect(slot)
            grid.addWidget(widget, row, column)
            return widget

        self.sign_button = button("签发", self.sign, 0, 0)
        self.sign_button.setObjectName("primary")
        self.draft_button = button("预览草稿", self.preview_draft, 0, 1)
        self.draft_button.setToolTip("签发前看交办单打印出来的样子（标“草稿”，不占编号）")
        # Not self.preview_slip itself: clicked(bool) would pass False as the slip number.
        self.preview_button = button("预览/打印交办单", lambda: self.preview_slip(), 0, 2)
        self.receive_button = button("签收…", self.receive, 0, 3)
        self.respond_button = button("办理反馈…", self.respond, 0, 4)
        self.return_button = button("退回…", self.return_assignment, 0, 5)
        self.extension_button = button("申请延期…", self.request_extension, 1, 0)
        self.approve_button = button("批准延期", lambda: self.decide_extension(True), 1, 1)
        self.refuse_button = button("不批准", lambda: self.decide_extension(False), 1, 2)
        self.urge_button = button("催办", self.urge, 1, 3)
        self.escalate_button = button("督办…", self.escalate, 1, 4)
        self.void_button = button("作废…", self.void, 1, 5)
        # Shown only while the department's paper names another deadline than the current one.
        self.adjust_button = button("时限调整通知…", self.adjust_deadline, 2, 0)
        self.adjust_button.setToolTip(
            "节假日安排调整或批准延期后，期限与已签发的交办单不一致：签发编号的时限调整通知"
        )
        self.adjust_button.setVisible(False)
        grid.setColumnStretch(6, 1)
        # The buttons right under the table, the texts that change below them: signing shortened
        # the texts above and the rows of buttons moved up under the pointer (a walk's next
        # click, meant for 退回, opened 作废).
        layout.addLayout(grid)
        layout.addWidget(self.signer_label)
        layout.addWidget(self.details)
        # Keys for the leader's day, shown in the tooltips (the labels stay as the papers say).
        for widget, key, tip in (
            (self.sign_button, "Alt+S", "签发所选草稿"),
            (self.preview_button, "Alt+P", "预览、打印所选交办的交办单"),
            (self.new_button, "Alt+N", "起草新的交办单"),
        ):
            widget.setShortcut(QKeySequence(key))
            widget.setToolTip(f"{widget.toolTip() or tip}（{key}）")

        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color:#1e8449;")
        self.message.setVisible(False)
        layout.addWidget(self.message)
        self.error = FieldError()
        layout.addWidget(self.error)

        self.action_buttons = [
            self.sign_button,
            self.draft_button,
            self.preview_button,
            self.receive_button,
            self.respond_button,
            self.return_button,
            self.extension_button,
            self.approve_button,
            self.refuse_button,
            self.urge_button,
            self.escalate_button,
            self.void_button,
            self.adjust_button,
        ]
        self._update_buttons()
        self.reload()

    # Loading -------------------------------------------------------------------------------

    @property
    def is_loading(self) -> bool:
        return self._loading or self._busy

    def reload(self) -> None:
        if self._loading:
            self._reload_again = True
            return
        self._loading = True
        services = self._context.services
        case_id = self.case_id

        def work() -> tuple[_Snapshot, str]:
            today = services.clock.now().date()
            calendar = services.calendar.calendar()
            soon = soon_limit(calendar, today, services.calendar.rules().due_soon_days)
            shift = services.roster.leader_on(today)
            detail = services.cases.detail(case_id)
            snapshot = _Snapshot(
                services.assignments.for_case(case_id),
                today,
                soon,
                shift.staff_name if shift else "",
                detail.status,
                dict(detail.closed_with),
                calendar,
            )
            return snapshot, detail.title

        Query(self._context.runner, self, work, self._loaded).failure(self._load_failed).run()

    def _loaded(self, result: tuple[_Snapshot, str]) -> None:
        snapshot, self.case_title = result
        self._loading = False
        if self._reload_again:
            self._reload_again = False
            self.reload()
        selected = self.selected()
        keep = selected.id if selected else None
        self.assignments = snapshot.assignments
        self._today = snapshot.today
        self._soon_until = snapshot.soon_until
        self.signer_hint = snapshot.signer_hint
        self.case_status = snapshot.case_status
        self._closed_with = snapshot.closed_with
        self._calendar = snapshot.calendar
        self._fill(keep)
        if self._first_fill:
            self._first_fill = False
            waiting = next((a for a in self.assignments if self.may_sign(a)), None)
            if waiting is not None and self._context.actor.can(Permission.SIGN_SLIP):
                self.select_assignment(waiting.id)
                self.awaiting_signature.emit()

    def _load_failed(self, exc: Exception) -> None:
        self._loading = False
        self.error.set_message(exc.message if isinstance(exc, UserError) else "交办记录读取失败")
        if not isinstance(exc, UserError):
            show_error(self, exc)

    def _fill(self, keep: int | None) -> None:
        self.table.setRowCount(len(self.assignments))
        select_row = None
        for row, info in enumerate(self.assignments):
            due = _deadline_state(info, self._today, self._soon_until)
            # After an approved extension the days read as both (a walk read the 5 of the
            # paper beside a deadline 15 working days later).
            extended = (
                f"+延期{info.extension_days}"
                if info.extension_state is ExtensionState.APPROVED and info.extension_days
                else ""
            )
            due_text = f"{info.due_date:%Y-%m-%d}（{info.working_days}{extended}个工作日）" + (
                " 暂定" if info.due_provisional else ""
            )
            if info.outstanding and info.paper_differs and info.paper_due_date is not None:
                due_text += f"；纸面 {_paper_text(info)}"
            values = [
                info.kind.label,
                info.department,
                _state_text(info, self._closed_with.get(info.id)),
                due_text,
                "、".join(info.slip_numbers) or "—",
                info.signer or "—",
            ]
            items = [QTableWidgetItem(value) for value in values]
            for column, item in enumerate(items):
                item.setData(ASSIGNMENT_ID_ROLE, info.id)
                self.table.setItem(row, column, item)
            due_item = items[3]
            if due is DeadlineState.OVERDUE:
                due_item.setForeground(QBrush(QColor(RED)))
                due_item.setToolTip("已超期")
                due_item.setText(due_text + " 已超期")
            elif due in (DeadlineState.DUE_TODAY, DeadlineState.DUE_SOON):
                due_item.setForeground(QBrush(QColor(YELLOW)))
                due_item.setToolTip(due.label)
            if info.state in (
                AssignmentState.VOIDED,
                AssignmentState.RETURNED,
                AssignmentState.CLOSED,
            ):
                for item in items:
                    item.setForeground(QBrush(QColor("#909497")))
            if info.id == keep:
                select_row = row
        if select_row is None and self.assignments:
            # The newest assignment that still needs something, else the newest one; a lead
            # before its assisting departments (the lead's row is the one signed and printed).
            open_rows = [
                i
                for i, a in enumerate(self.assignments)
                if a.state in (AssignmentState.DRAFT, *OUTSTANDING)
            ]
            leads = [i for i in open_rows if self.assignments[i].kind is not AssignmentKind.ASSIST]
            open_rows = leads or open_rows
            select_row = open_rows[-1] if open_rows else len(self.assignments) - 1
        if select_row is not None:
            self.table.selectRow(select_row)
        self._update_buttons()

    def selected(self) -> AssignmentInfo | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        assignment_id = self._assignment_id(rows[0].row())
        return next((a for a in self.assignments if a.id == assignment_id), None)

    def select_assignment(self, assignment_id: int) -> None:
        for row in range(self.table.rowCount()):
            if self._assignment_id(row) == assignment_id:
                self.table.selectRow(row)
                return

    def _assignment_id(self, row: int) -> int | None:
        item = self.table.item(row, 0)
        return None if item is None else int(item.data(ASSIGNMENT_ID_ROLE))

    # Buttons -------------------------------------------------------------------------------

    def set_read_only(self, read_only: bool) -> None:
        """A case registered at another site (a county's case at the city): look, don't touch."""
        self.read_only = read_only
        self._update_buttons()

    def may_sign(self, info: AssignmentInfo | None) -> bool:
        """签发 is offered for a lead draft, to a role that signs, on a case still open (a
        withdrawn or concluded case's drafts are never signed). Decided from the data, not from
        a button's state (buttons are disabled while the panel reloads)."""
        return (
            info is not None
            and not self.read_only
            and self._context.actor.can(Permission.SIGN_SLIP)
            and info.state is AssignmentState.DRAFT
            and info.kind is not AssignmentKind.ASSIST
            and self.case_status in OPEN_STATUSES
        )

    def _update_buttons(self) -> None:
        actor = self._context.actor
        writable = not self.read_only
        can_work = writable and actor.can(Permission.TRIAGE_CASE)
        can_sign = writable and actor.can(Permission.SIGN_SLIP)
        info = self.selected()
        for widget in self.action_buttons:
            widget.setEnabled(False)
        self.new_button.setEnabled(can_work and not self._busy)
        self.signer_label.setText("")
        if info is None:
            self.details.setText(
                "在上表中选中一条交办（↑↓），再用上面的按钮。"
                if self.table.rowCount()
                else "还没有交办记录。甄别分类后，点“新建交办…”起草交办单。"
            )
            self.adjust_button.setVisible(False)
            return
        self.details.setText(self._details(info))
        if self._busy:
            return
        state = info.state
        outstanding = state in OUTSTANDING
        overdue = outstanding and self._today > info.due_date
        draft_lead = state is AssignmentState.DRAFT and info.kind is not AssignmentKind.ASSIST
        self.sign_button.setEnabled(self.may_sign(info))
        if draft_lead and self.case_status not in OPEN_STATUSES:
            closed = self.case_status.label if self.case_status else "未读取"
            self.signer_label.setText(f"事项{closed}，草稿不能签发")
        elif draft_lead and not writable:  # a county's draft seen at the city
            self.signer_label.setText("此草稿由登记本事项的窗口签发")
        elif draft_lead:
            if can_sign:
                self.signer_label.setText(f"签发人：{actor.display_name}")
            elif self.signer_hint:
                self.signer_label.setText(f"请带班领导 {self.signer_hint} 签发")
            else:
                who = "" if actor.can(Permission.MANAGE_REFERENCE) else "请管理员"
                self.signer_label.setText(
                    f"请带班领导签发（今日未排带班领导：{who}在“期限日历 → 值班安排”中排班）"
                )
        elif state is AssignmentState.DRAFT:
            self.signer_label.setText("协办单位随承办单位一起签发")
        self.draft_button.setEnabled(state is AssignmentState.DRAFT)
        self.preview_button.setEnabled(
            bool(info.slip_numbers) and state is not AssignmentState.VOIDED
        )
        self.receive_button.setEnabled(state is AssignmentState.ISSUED and can_work)
        self.respond_button.setEnabled(outstanding and can_work)
        self.return_button.setEnabled(outstanding and can_work)
        self.extension_button.setEnabled(
            outstanding
            and can_work
            and not overdue
            and info.extension_state is not ExtensionState.REQUESTED
        )
        deciding = outstanding and info.extension_state is ExtensionState.REQUESTED
        self.approve_button.setEnabled(deciding and can_sign)
        self.refuse_button.setEnabled(deciding and can_sign)
        self.urge_button.setEnabled(overdue and can_work)
        self.escalate_button.setEnabled(
            overdue and can_work and info.kind is not AssignmentKind.ASSIST
        )
        self.void_button.setEnabled(
            state in (AssignmentState.DRAFT, AssignmentState.ISSUED) and can_sign
        )
        self.adjust_button.setVisible(outstanding and info.paper_differs)
        self.adjust_button.setEnabled(outstanding and info.paper_differs and can_sign)
        if outstanding and info.paper_differs and not can_sign:
            self.signer_label.setText("期限已调整，请带班领导签发时限调整通知")
        if deciding and not can_sign:
            self.signer_label.setText("延期申请待带班领导审批")

    def _details(self, info: AssignmentInfo) -> str:
        parts = [f"交办要求：{info.requirements}"]
        if info.deadline_note:
            parts.append(f"期限说明：{info.deadline_note}")
        if info.due_date != info.original_due_date:
            parts.append(f"原期限：{info.original_due_date:%Y-%m-%d}")
        if info.outstanding and info.paper_differs:
            current = f"{info.due_date:%Y-%m-%d}" + ("（暂定）" if info.due_provisional else "")
            parts.append(
                f"纸面时限：{_paper_text(info)}（承办单位手中的交办单）／现行时限：{current}"
                "——请带班领导签发时限调整通知"
            )
        elif info.outstanding and info.deadline_confirmed:
            parts.append("时限已确认，不再暂定：交办单上的日期不变，无需发时限调整通知")
        if info.received_on:
            parts.append(f"签收：{info.received_on:%Y-%m-%d} {info.received_by}")
        if info.extension_reason:
            parts.append(f"延期理由：{info.extension_reason}")
        if info.response:
            parts.append(f"反馈：{info.response}")
        if info.returned_reason:
            parts.append(f"退回理由：{info.returned_reason}")
        return "\n".join(parts)

    # Running steps -------------------------------------------------------------------------

    def _run(self, work: Callable[[], T], on_done: Callable[[T], None] | None = None) -> None:
        """A step without a form: errors show in the panel's red line, not a message box."""
        self.error.set_message(None)
        self.message.setVisible(False)
        self._busy = True
        self._update_buttons()

        def done(result: T) -> None:
            self._busy = False
            self._after(result)
            if on_done is not None:
                on_done(result)

        Action(self._context, self, work).success(done).failure(self._step_failed).run()

    def _step_failed(self, exc: Exception) -> None:
        """A step or the read before it failed: a user error in the panel's red line."""
        self._busy = False
        self._update_buttons()
        if isinstance(exc, UserError):
            self.error.set_message(exc.message)
        else:
            show_error(self, exc)

    def _after(self, result: object) -> None:
        """Show the state a step left (the step's Action published its Changes)."""
        changes = changes_of(result)
        if changes is not None:
            self.changed.emit(changes)
        self.reload()

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(True)

    def _step_dialog(self, title: str) -> StepDialog:
        dialog = StepDialog(self._context, title, self)
        dialog.succeeded.connect(self._after)
        return dialog

    def _show(self, dialog: QDialog) -> QDialog:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dialog
        dialog.open()
        return dialog

    # Actions -------------------------------------------------------------------------------

    def new_assignment(self) -> None:
        """新建交办…: the departments, the rule's days and the calendar are read on the worker,
        then the draft dialog opens (``self.dialog``)."""
        if self._busy:
            return
        self.error.set_message(None)
        services, case_id, title = self._context.services, self.case_id, self.case_title

        def opened(data: DraftData) -> None:
            self._busy = False
            self._update_buttons()
            if not data.departments:
                self.error.set_message("还没有承办单位：请管理员先在系统设置中添加部门")
                return
            dialog = DraftDialog(self._context, case_id, data, self)
            dialog.succeeded.connect(self._after)
            dialog.succeeded.connect(
                lambda _result: self._say("交办草稿已保存，待带班领导签发后打印交办单。")
            )
            self._show(dialog)

        self._busy = True  # a second click while reading opens no second dialog
        self._update_buttons()
        Query(
            self._context.runner, self, lambda: DraftData.load(services, case_id, title), opened
        ).failure(self._step_failed).run()

    def sign(self) -> None:
        """签发 after a confirmation that names the number about to be taken."""
        info = self.selected()
        if not self.may_sign(info):
            return
        assert info is not None
        if self._busy:  # 签发… in the draft's preview while a step is still running
            self.error.set_message("上一步还在处理，请稍候再点“签发”。")
            return
        services, actor = self._context.services, self._context.actor

        def signed(result: tuple[str, Changes]) -> None:
            number = result[0]
            self._say(f"已签发 {number}。请点“预览/打印交办单”打印，送承办单位签收。")
            self.slip_issued.emit(number)

        def peek() -> SigningPreview:
            return services.assignments.signing_preview(actor, info.id)

        def confirm(preview: SigningPreview) -> None:
            number, due = preview.number, preview.due_date
            self._busy = False
            self._update_buttons()
            provisional = (
                "\n（暂定：期限跨入放假安排尚未公布的年份，按放假办法推算，公布后可能调整）"
                if preview.provisional
                else ""
            )
            answer = QMessageBox.question(
                self,
                "确认签发",
                f"将签发为{number}，签发后不能修改。确定签发？\n\n"
                f"承办单位：{info.department}\n"
                f"办理时限：{info.working_days}个工作日，{chinese_date(due)}前办结"
                f"（自今日起算）{provisional}\n"
                "签发前可点“预览草稿”查看打印效果。"
                + (f"\n\n注意：{preview.duty_note}" if preview.duty_note else ""),
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
            self._run(
                lambda: services.assignments.issue(
                    actor, info.id, expected_number=number, expected_due=due
                ),
                signed,
            )

        # The number is peeked on the worker; a busy panel keeps a second click from asking twice.
        self.error.set_message(None)
        self._busy = True
        self._update_buttons()
        Query(self._context.runner, self, peek, confirm).failure(self._step_failed).run()

    def receive(self) -> StepDialog | None:
        info = self.selected()
        if info is None:
            return None
        dialog = self._step_dialog(f"签收 — {info.department}")
        day = QDateEdit()
        day.setCalendarPopup(True)
        day.setDisplayFormat("yyyy-MM-dd")
        day.setDate(QDate(self._today.year, self._today.month, self._today.day))
        day.setMaximumDate(QDate(self._today.year, self._today.month, self._today.day))
        who = QLineEdit()
        who.setPlaceholderText("承办单位签收人姓名")
        dialog.form.addRow("签收日期", day)
        dialog.form.addRow("签收人", who)
        dialog.fields["received_on"] = day
        dialog.fields["received_by"] = who
        services, actor = self._context.services, self._context.actor

        def make() -> Callable[[], object]:
            on = day.date().toPython()
            assert isinstance(on, date)
            by = who.text()
            return lambda: services.assignments.receive(
                actor, info.id, received_on=on, received_by=by
            )

        dialog.make_work = make
        self._show(dialog)
        return dialog

    def respond(self) -> StepDialog | None:
        info = self.selected()
        if info is None:
            return None
        dialog = self._step_dialog(f"办理反馈 — {info.department}")
        # The day the written answer came in: recorded a day later it is not late for that.
        day = QDateEdit()
        day.setCalendarPopup(True)
        day.setDisplayFormat("yyyy-MM-dd")
        day.setDate(QDate(self._today.year, self._today.month, self._today.day))
        day.setMaximumDate(QDate(self._today.year, self._today.month, self._today.day))
        text = QPlainTextEdit()
        text.setTabChangesFocus(True)
        text.setPlaceholderText("承办单位书面反馈的办理结果")
        dialog.form.addRow("反馈日期", day)
        dialog.form.addRow("办理结果", text)
        dialog.fields["responded_on"] = day
        dialog.fields["text"] = text
        services, actor = self._context.services, self._context.actor

        def make() -> Callable[[], object]:
            value = text.toPlainText()
            on = day.date().toPython()
            assert isinstance(on, date)
            return lambda: services.assignments.respond(actor, info.id, value, responded_on=on)

        dialog.make_work = make
        self._show(dialog)
        return dialog

    def request_extension(self) -> StepDialog | None:
        info = self.selected()
        if info is None:
            return None
        dialog = self._step_dialog(f"申请延期 — {info.department}")
        days = QSpinBox()
        days.setRange(1, MAX_ASSIGNMENT_DAYS)
        days.setValue(EXTENSION_REQUEST_DAYS)
        days.setSuffix(" 个工作日")
        reason = QLineEdit()
        reason.setPlaceholderText("承办单位申请延期的理由")
        dialog.form.addRow("当前期限", QLabel(f"{info.due_date:%Y-%m-%d}"))
        dialog.form.addRow("延期", days)
        # The date it would give (a walk's request dialog did not say), counted with the
        # calendar the panel read on the worker.
        extended = QLabel("")
        calendar = self._calendar

        def show_extended(n: int) -> None:
            if calendar is not None:
                extended.setText(f"{chinese_date(extended_due(calendar, info.due_date, n))}前")

        show_extended(days.value())
        days.valueChanged.connect(show_extended)
        dialog.form.addRow("延期后期限", extended)
        dialog.fields["extended"] = extended
        dialog.form.addRow("理由", reason)
        dialog.fields["days"] = days
        dialog.fields["reason"] = reason
        services, actor = self._context.services, self._context.actor

        def make() -> Callable[[], object]:
            n, why = days.value(), reason.text()
            return lambda: services.assignments.request_extension(
                actor, info.id, days=n, reason=why
            )

        dialog.make_work = make
        self._show(dialog)
        return dialog

    def decide_extension(self, approve: bool) -> None:
        info = self.selected()
        if info is None:
            return
        if approve and info.extension_days and self._calendar is not None:
            # It moved the deadline at once, with no question (a walk): the dates are said.
            later = extended_due(self._calendar, info.due_date, info.extension_days)
            answer = QMessageBox.question(
                self,
                "批准延期",
                f"批准{info.department}延期{info.extension_days}个工作日？\n\n"
                f"期限由{chinese_date(info.due_date)}延至{chinese_date(later)}。",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        services, actor = self._context.services, self._context.actor
        self._run(
            lambda: services.assignments.decide_extension(actor, info.id, approve=approve),
            lambda _r: self._say("已批准延期，期限已顺延。" if approve else "延期申请未批准。"),
        )

    def return_assignment(self) -> StepDialog | None:
        return self._reason_step(
            "退回",
            "承办单位认为不属于其职责的理由",
            lambda actor, assignment_id, reason: (
                self._context.services.assignments.return_assignment(actor, assignment_id, reason)
            ),
            "已退回",
        )

    def void(self) -> StepDialog | None:
        return self._reason_step(
            "作废",
            "为什么作废；已签发的编号作废后不再使用",
            lambda actor, assignment_id, reason: self._context.services.assignments.void(
                actor, assignment_id, reason
            ),
            "已作废",
        )

    def _reason_step(
        self,
        title: str,
        placeholder: str,
        call: Callable[[Actor, int, str], Changes],
        done: str,
    ) -> StepDialog | None:
        info = self.selected()
        if info is None:
            return None
        paper = "、".join(info.slip_numbers)
        dialog = self._step_dialog(f"{title}{(' ' + paper) if paper else ''} — {info.department}")
        live = [
            a
            for a in self.assignments
            if a.id != info.id and a.kind is not AssignmentKind.ASSIST and a.state in OUTSTANDING
        ]
        # What the panel says after it (it kept 「已签发…请打印」 of the paper just voided), and
        # that the matter now waits for a new 交办 when no other round is under way.
        after = f"{done}{(' ' + paper) if paper else ''}（{info.department}）。" + (
            "" if live else "此事项现在没有在办的交办，请重新甄别承办单位后点“新建交办…”。"
        )
        dialog.succeeded.connect(lambda _result: self._say(after))
        reason = QLineEdit()
        reason.setPlaceholderText(placeholder)
        dialog.form.addRow("理由", reason)
        dialog.fields["reason"] = reason
        actor = self._context.actor

        def make() -> Callable[[], object]:
            why = reason.text()
            return lambda: call(actor, info.id, why)

        dialog.make_work = make
        self._show(dialog)
        return dialog

    def urge(self) -> None:
        info = self.selected()
        if info is None:
            return
        services, actor = self._context.services, self._context.actor

        def urged(result: tuple[str, Changes]) -> None:
            self._say(f"已发出催办通知 {result[0]}，可预览打印后送承办单位。")

        self._run(lambda: services.assignments.urge(actor, info.id), urged)

    def adjust_deadline(self) -> None:
        """时限调整通知: after a confirmation naming the paper's and the current deadline."""
        info = self.selected()
        if info is None or not info.paper_differs or self._busy:
            return
        services, actor = self._context.services, self._context.actor
        current = chinese_date(info.due_date) + ("（暂定）" if info.due_provisional else "")
        answer = QMessageBox.question(
            self,
            "时限调整通知",
            f"向{info.department}签发时限调整通知？\n\n"
            f"交办单上的办理时限：{_paper_text(info, chinese=True)}\n"
            f"现行办理时限：{current}\n"
            "签发后编号，不能修改；原交办单保持不变。",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return

        def issued(result: tuple[str, Changes]) -> None:
            self._say(f"已签发时限调整通知 {result[0]}，请预览打印后送承办单位签收。")
            self.slip_issued.emit(result[0])

        self._run(lambda: services.assignments.adjust_deadline(actor, info.id), issued)

    def escalate(self) -> StepDialog | None:
        info = self.selected()
        if info is None:
            return None
        dialog = self._step_dialog(f"督办 — {info.department}")
        days = QSpinBox()
        days.setRange(1, MAX_ASSIGNMENT_DAYS)
        days.setValue(SUPERVISE_DAYS)
        days.setSuffix(" 个工作日")
        numbers = info.slip_numbers
        text = QPlainTextEdit()
        text.setTabChangesFocus(True)
        text.setMinimumHeight(80)
        text.setPlainText(supervise_requirements(numbers, days.value()))
        days.valueChanged.connect(lambda n: text.setPlainText(supervise_requirements(numbers, n)))
        dialog.form.addRow("督办时限", days)
        dialog.form.addRow("督办要求", text)
        dialog.fields["days"] = days
        dialog.fields["requirements"] = text
        services, actor = self._context.services, self._context.actor

        def make() -> Callable[[], object]:
            n, requirements = days.value(), text.toPlainText()
            return lambda: services.assignments.escalate(
                actor, info.id, requirements=requirements, working_days=n
            )

        dialog.make_work = make
        dialog.succeeded.connect(lambda _r: self._say("督办草稿已保存，待带班领导签发督办单。"))
        self._show(dialog)
        return dialog

    def preview_selected(self) -> SlipPreviewDialog | None:
        """A double-click: the draft as it will print, or the issued slip."""
        info = self.selected()
        if info is not None and info.state is AssignmentState.DRAFT:
            return self.preview_draft()
        return self.preview_slip()

    def preview_draft(self) -> SlipPreviewDialog | None:
        """The draft exactly as signing it today would print it, marked 草稿, without a number.

        Nothing is numbered or counted; the clerk may look too.
        """
        info = self.selected()
        if info is None or info.state is not AssignmentState.DRAFT:
            return None
        services, actor = self._context.services, self._context.actor
        assignment_id = info.id
        paper = "督办单" if info.kind is AssignmentKind.SUPERVISE else "交办单"
        dialog = SlipPreviewDialog(
            self._context,
            lambda: services.assignments.draft_slip_pdf(actor, assignment_id),
            f"{paper}草稿（{info.department}）",
            self,
        )
        if self.may_sign(info):  # the duty leader: sign from here, after a look

            def sign_from_preview() -> None:
                dialog.accept()
                self.sign()

            self.sign_from_preview = dialog.add_button("签发…", sign_from_preview)
            self.sign_from_preview.setObjectName("primary")
            dialog.print_button.setObjectName("")  # a draft is signed, not printed
        self._show(dialog)
        return dialog

    def preview_slip(self, number: str | None = None) -> SlipPreviewDialog | None:
        """Opens an issued slip as its next output will look. Opening is not printing: only
        打印 and 另存为PDF count (the first output is the original, later ones 补打)."""
        info = self.selected()
        if number is None:
            if info is None or not info.slip_numbers or info.state is AssignmentState.VOIDED:
                return None
            if len(info.slip_numbers) > 1:
                menu = QMenu(self)
                menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
                for choice in reversed(info.slip_numbers):
                    action = menu.addAction(choice)
                    # triggered(bool): the number is bound here, never taken from the signal.
                    action.triggered.connect(lambda _checked=False, n=choice: self.preview_slip(n))
                self.slip_menu = menu
                menu.popup(self.preview_button.mapToGlobal(self.preview_button.rect().bottomLeft()))
                return None
            number = info.slip_numbers[0]
        services, actor = self._context.services, self._context.actor
        chosen, case_id = number, self.case_id
        dialog = SlipPreviewDialog(
            self._context,
            lambda: services.assignments.slip_pdf(actor, chosen, case_id=case_id),
            chosen,
            self,
            record=lambda out, deliver: services.assignments.record_slip_output(
                actor, chosen, case_id=case_id, out=out, deliver=deliver
            ),
            changes=Changes(cases=True, case_ids=(case_id,)),
        )
        self._show(dialog)
        return dialog


__all__ = ["AssignmentPanel", "DraftDialog", "StepDialog"]
