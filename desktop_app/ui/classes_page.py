"""一类事与预警 (issue 16): 一类事（共性问题）和苗头性、倾向性问题预警。

Two tabs. 一类事: the classes with their counts, filtered, and the selected one edited beside the
list (its fix, owner, deadline, done date, and the cases linked to it). 预警: the thresholds,
扫描预警, and the warnings with the numbers that raised them, each dismissed with a note or
turned into a class (pre-filled, its cases linked), which then opens in the first tab for the
person to finish.
Every service call goes through ``Action``/``Query``; the page reloads on ``classes`` changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.domain.early_warning import format_p
from desktop_app.domain.permissions import Permission
from desktop_app.domain.vocabulary import DEFAULT_AREAS, FixKind
from desktop_app.errors import ValidationFailed
from desktop_app.services.classes import (
    CLASS_STATE_LABELS,
    WARNING_STATE_LABELS,
    ClassDetail,
    ClassForm,
    ClassRow,
    WarningRow,
    WarningState,
)
from desktop_app.services.context import Changes
from desktop_app.ui.common import FieldError, UiContext, heading
from desktop_app.ui.list_table import RowsTableModel, list_view
from desktop_app.ui.operations import Action, Query
from desktop_app.ui.scrolling import VerticalScrollArea


class ClassTableModel(RowsTableModel[ClassRow]):
    headers = ("一类事", "件数", "部门", "整改措施", "整改期限", "状态")
    # Fixed widths that fit their content; the title takes what is left (the editor beside the
    # list leaves it about 580 pixels on a 1366×768 screen). The owner is in the tooltip.
    widths = (0, 44, 44, 160, 90, 70)

    def cells(self, row: ClassRow) -> tuple[str, ...]:
        return (
            row.title,
            str(row.case_count),
            str(row.department_count),
            row.fix_kind or "未定",
            row.due_date.isoformat() if row.due_date else "",
            row.state_label,
        )

    def tip(self, row: ClassRow, column: int) -> str | None:
        lines = [f"责任：{row.owner}" if row.owner else "", row.fix_description]
        return "\n".join(line for line in lines if line) or None


class WarningTableModel(RowsTableModel[WarningRow]):
    headers = ("月份", "部门", "领域", "原因", "本月", "基准", "P", "依据", "状态")

    def cells(self, row: WarningRow) -> tuple[str, ...]:
        return (
            row.month,
            row.department,
            row.area,
            row.cause_label,
            str(row.count),
            f"{row.baseline:.1f}",
            format_p(row.p_value).lstrip("="),
            row.why,
            row.state_label,
        )

    def tip(self, row: WarningRow, column: int) -> str | None:
        return row.note or None


def _parse_date(text: str, label: str, errors: dict[str, str], key: str) -> date | None:
    text = text.strip().replace("/", "-")
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[key] = f"{label}“{text}”不是有效日期，请写成 2026-12-31"
        return None


@dataclass(frozen=True)
class _Choices:
    causes: list[tuple[str, str]]
    departments: list[tuple[int, str]]


class ClassesPage(QWidget):
    open_case = Signal(int)

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self._stale = True
        self._class_id: int | None = None  # the class in the editor; None: a new one
        self._select_class: int | None = None
        self._may_manage = context.actor.can(Permission.MANAGE_CLASSES)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(heading("一类事与预警"))
        self.tabs = QTabWidget()
        self.tabs.addTab(self._classes_tab(), "一类事")
        self.tabs.addTab(self._warnings_tab(), "预警")
        layout.addWidget(self.tabs, 1)
        context.hub.changed.connect(self._on_changed)
        self._load_choices()

    # 一类事 ----------------------------------------------------------------------------------

    def _classes_tab(self) -> QWidget:
        tab = QWidget()
        outer = QVBoxLayout(tab)
        filters = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("搜索：名称、情况或领域中的文字")
        self.search.setClearButtonEnabled(True)
        self.search.returnPressed.connect(self.reload)
        filters.addWidget(self.search, 1)
        self.class_state = QComboBox()
        self.class_state.addItem("全部状态", None)
        for value, label in CLASS_STATE_LABELS.items():
            self.class_state.addItem(label, value)
        self.class_state.currentIndexChanged.connect(lambda _i: self.reload())
        filters.addWidget(self.class_state)
        self.new_button = QPushButton("新建一类事")
        self.new_button.clicked.connect(lambda _checked=False: self._edit_new())
        filters.addWidget(self.new_button)
        outer.addLayout(filters)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.class_model = ClassTableModel(self)
        self.class_table = list_view(QTableView(), self.class_model)
        header = self.class_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column, width in enumerate(ClassTableModel.widths):
            if width:
                self.class_table.setColumnWidth(column, width)
        self.class_table.selectionModel().selectionChanged.connect(self._class_selected)
        split.addWidget(self.class_table)
        # The editor scrolls on a 1366×768 laptop rather than push the page off the screen.
        split.addWidget(VerticalScrollArea(self._class_editor()))
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        outer.addWidget(split, 1)
        return tab

    def _class_editor(self) -> QWidget:
        editor = QWidget()
        column = QVBoxLayout(editor)
        column.setContentsMargins(8, 0, 0, 0)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.title_edit = QLineEdit()
        form.addRow("名称", self.title_edit)
        self.description_edit = QPlainTextEdit()
        self.description_edit.setFixedHeight(44)
        form.addRow("情况", self.description_edit)
        self.area_edit = QComboBox()
        self.area_edit.setEditable(True)
        self.area_edit.addItems(["", *DEFAULT_AREAS])
        form.addRow("领域", self.area_edit)
        self.causes_list = QListWidget()
        self.causes_list.setFlow(QListWidget.Flow.LeftToRight)
        self.causes_list.setWrapping(True)
        self.causes_list.setFixedHeight(76)
        form.addRow("原因", self.causes_list)
        self.fix_kind = QComboBox()
        self.fix_kind.addItem("（未定）", None)
        for kind in FixKind:
            self.fix_kind.addItem(kind.label, kind.value)
        form.addRow("整改措施", self.fix_kind)
        self.fix_edit = QPlainTextEdit()
        self.fix_edit.setFixedHeight(44)
        self.fix_edit.setPlaceholderText("如：修订××办法第×条；出台××一次性告知材料清单")
        form.addRow("措施内容", self.fix_edit)
        owner = QHBoxLayout()
        self.owner_department = QComboBox()
        owner.addWidget(self.owner_department, 3)
        self.owner_name = QLineEdit()
        self.owner_name.setPlaceholderText("负责人")
        owner.addWidget(self.owner_name, 1)
        form.addRow("责任", owner)
        dates = QHBoxLayout()
        self.due_edit = QLineEdit()
        self.due_edit.setPlaceholderText("整改期限 2026-12-31")
        self.done_edit = QLineEdit()
        self.done_edit.setPlaceholderText("完成日期")
        dates.addWidget(self.due_edit)
        dates.addWidget(self.done_edit)
        form.addRow("期限/完成", dates)
        column.addLayout(form)
        self.class_error = FieldError()
        column.addWidget(self.class_error)
        save_row = QHBoxLayout()
        self.editor_title = QLabel("新建一类事")
        self.editor_title.setObjectName("hint")
        save_row.addWidget(self.editor_title, 1)
        self.save_button = QPushButton("保存")
        self.save_button.clicked.connect(lambda _checked=False: self.save_class())
        save_row.addWidget(self.save_button)
        column.addLayout(save_row)

        self.cases_label = QLabel("关联事项")
        column.addWidget(self.cases_label)
        self.cases_list = QListWidget()
        self.cases_list.itemDoubleClicked.connect(
            lambda item: self.open_case.emit(item.data(Qt.ItemDataRole.UserRole))
        )
        column.addWidget(self.cases_list, 1)
        link_row = QHBoxLayout()
        self.link_number = QLineEdit()
        self.link_number.setPlaceholderText("事项编号")
        self.link_number.returnPressed.connect(self.link_case)
        link_row.addWidget(self.link_number, 1)
        self.link_button = QPushButton("关联")
        self.link_button.clicked.connect(lambda _checked=False: self.link_case())
        link_row.addWidget(self.link_button)
        self.unlink_button = QPushButton("移出")
        self.unlink_button.clicked.connect(lambda _checked=False: self.unlink_case())
        link_row.addWidget(self.unlink_button)
        column.addLayout(link_row)
        for widget in (self.save_button, self.link_button, self.unlink_button, self.new_button):
            widget.setEnabled(self._may_manage)
        self._edit_new()
        return editor

    def _load_choices(self) -> None:
        classes = self.context.services.classes

        def load() -> _Choices:
            return _Choices(classes.cause_choices(), classes.department_choices())

        Query(self.context.runner, self, load, self._choices_loaded).run()

    def _choices_loaded(self, choices: _Choices) -> None:
        self.causes_list.clear()
        for code, label in choices.causes:
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, code)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.causes_list.addItem(item)
        self.owner_department.clear()
        self.owner_department.addItem("（责任部门）", None)
        for department_id, name in choices.departments:
            self.owner_department.addItem(name, department_id)

    def _edit_new(self) -> None:
        self._class_id = None
        self.class_table.clearSelection()
        self._fill(ClassForm(title=""))
        self.editor_title.setText("新建一类事：填好后保存")
        self.cases_label.setText("关联事项（保存后可关联）")
        self.cases_list.clear()
        self.link_button.setEnabled(False)
        self.unlink_button.setEnabled(False)

    def _fill(self, form: ClassForm) -> None:
        self.class_error.set_message(None)
        self.title_edit.setText(form.title)
        self.description_edit.setPlainText(form.description)
        self.area_edit.setCurrentText(form.area)
        for i in range(self.causes_list.count()):
            item = self.causes_list.item(i)
            checked = item.data(Qt.ItemDataRole.UserRole) in form.causes
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.fix_kind.setCurrentIndex(
            max(0, self.fix_kind.findData(form.fix_kind.value if form.fix_kind else None))
        )
        self.fix_edit.setPlainText(form.fix_description)
        self.owner_department.setCurrentIndex(
            max(0, self.owner_department.findData(form.owner_department_id))
        )
        self.owner_name.setText(form.owner_name)
        self.due_edit.setText(form.due_date.isoformat() if form.due_date else "")
        self.done_edit.setText(form.done_on.isoformat() if form.done_on else "")

    def _form(self) -> ClassForm:
        errors: dict[str, str] = {}
        due = _parse_date(self.due_edit.text(), "整改期限", errors, "due_date")
        done = _parse_date(self.done_edit.text(), "完成日期", errors, "done_on")
        if errors:
            raise ValidationFailed(errors)
        kind = self.fix_kind.currentData()
        causes = tuple(
            self.causes_list.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.causes_list.count())
            if self.causes_list.item(i).checkState() == Qt.CheckState.Checked
        )
        return ClassForm(
            title=self.title_edit.text(),
            description=self.description_edit.toPlainText(),
            area=self.area_edit.currentText(),
            causes=causes,
            fix_kind=FixKind(kind) if kind else None,
            fix_description=self.fix_edit.toPlainText(),
            owner_department_id=self.owner_department.currentData(),
            owner_name=self.owner_name.text(),
            due_date=due,
            done_on=done,
        )

    def _class_selected(self) -> None:
        row: ClassRow | None = self.class_model.selected(self.class_table)
        if row is None:
            return
        self._class_id = row.id
        classes = self.context.services.classes
        Query(self.context.runner, self, lambda: classes.detail(row.id), self._show_detail).run()

    def _show_detail(self, detail: ClassDetail) -> None:
        if detail.id != self._class_id:
            return  # another row was selected meanwhile
        self._fill(detail.form)
        self.editor_title.setText(f"{detail.row.state_label}：修改后保存")
        self.cases_label.setText(
            f"关联事项 {detail.row.case_count} 件，涉及 {detail.row.department_count} 个部门"
            "（双击打开）"
        )
        self.cases_list.clear()
        for case in detail.cases:
            item = QListWidgetItem(f"{case.number}　{case.title}　{case.department}　{case.status}")
            item.setData(Qt.ItemDataRole.UserRole, case.id)
            self.cases_list.addItem(item)
        self.link_button.setEnabled(self._may_manage)
        self.unlink_button.setEnabled(self._may_manage)

    def save_class(self) -> None:
        try:
            form = self._form()
        except ValidationFailed as exc:
            self.class_error.set_message(exc.message)
            return
        services, actor, class_id = self.context.services, self.context.actor, self._class_id
        self.save_button.setEnabled(False)

        def work() -> tuple[int, Changes]:
            if class_id is None:
                return services.classes.create(actor, form)
            return class_id, services.classes.update(actor, class_id, form)

        def saved(result: tuple[int, Changes]) -> None:
            self.class_error.set_message(None)
            self._select_class = result[0]
            self._class_id = result[0]

        Action(self.context, self, work).success(saved).on_invalid(
            lambda exc: self.class_error.set_message(exc.message)
        ).finished(lambda: self.save_button.setEnabled(self._may_manage)).run()

    def link_case(self) -> None:
        number, class_id = self.link_number.text().strip(), self._class_id
        if not number or class_id is None:
            return
        services, actor = self.context.services, self.context.actor

        def linked(_changes: Changes) -> None:
            self.link_number.clear()
            self.class_error.set_message(None)

        Action(
            self.context, self, lambda: services.classes.link_by_number(actor, class_id, number)
        ).success(linked).on_invalid(lambda exc: self.class_error.set_message(exc.message)).run()

    def unlink_case(self) -> None:
        item = self.cases_list.currentItem()
        if item is None:
            return
        case_id = item.data(Qt.ItemDataRole.UserRole)
        services, actor = self.context.services, self.context.actor
        Action(self.context, self, lambda: services.classes.unlink(actor, [case_id])).run()

    # 预警 ------------------------------------------------------------------------------------

    def _warnings_tab(self) -> QWidget:
        tab = QWidget()
        outer = QVBoxLayout(tab)
        settings = QHBoxLayout()
        settings.addWidget(QLabel("基准月数"))
        self.history_spin = QSpinBox()
        self.history_spin.setRange(2, 24)
        settings.addWidget(self.history_spin)
        settings.addWidget(QLabel("显著性 P <"))
        self.p_spin = QSpinBox()
        self.p_spin.setRange(1, 100)
        self.p_spin.setSuffix(" ‰")
        settings.addWidget(self.p_spin)
        settings.addWidget(QLabel("最少件数"))
        self.volume_spin = QSpinBox()
        self.volume_spin.setRange(1, 1000)
        settings.addWidget(self.volume_spin)
        self.thresholds_button = QPushButton("保存阈值")
        self.thresholds_button.clicked.connect(lambda _checked=False: self.save_thresholds())
        settings.addWidget(self.thresholds_button)
        settings.addStretch(1)
        self.scan_button = QPushButton("扫描预警")
        self.scan_button.setObjectName("primary")
        self.scan_button.clicked.connect(lambda _checked=False: self.scan())
        settings.addWidget(self.scan_button)
        outer.addLayout(settings)
        hint = QLabel(
            "按“部门 × 领域 × 原因”统计本月受理的事项，与前几个月的月均件数比较（泊松检验）："
            "本月件数不少于最少件数、高于月均且 P 值小于阈值时提出预警，"
            "由人研判后排除或转为一类事。"
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        outer.addWidget(hint)
        self.scan_status = QLabel("")
        outer.addWidget(self.scan_status)

        filters = QHBoxLayout()
        self.warning_state = QComboBox()
        self.warning_state.addItem("全部预警", None)
        for value, label in WARNING_STATE_LABELS.items():
            self.warning_state.addItem(label, value)
        self.warning_state.currentIndexChanged.connect(lambda _i: self.reload())
        filters.addWidget(self.warning_state)
        filters.addStretch(1)
        outer.addLayout(filters)

        self.warning_model = WarningTableModel(self)
        self.warning_table = list_view(QTableView(), self.warning_model)
        header = self.warning_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(7, QHeaderView.ResizeMode.Stretch)
        self.warning_table.selectionModel().selectionChanged.connect(
            lambda *_args: self._update_warning_buttons()
        )
        outer.addWidget(self.warning_table, 1)

        actions = QHBoxLayout()
        self.note_edit = QLineEdit()
        self.note_edit.setPlaceholderText("排除理由（如：系同一政策调整引起，已统一答复）")
        actions.addWidget(self.note_edit, 1)
        self.dismiss_button = QPushButton("排除")
        self.dismiss_button.clicked.connect(lambda _checked=False: self.dismiss())
        actions.addWidget(self.dismiss_button)
        self.classify_button = QPushButton("转为一类事")
        self.classify_button.clicked.connect(lambda _checked=False: self.to_class())
        actions.addWidget(self.classify_button)
        outer.addLayout(actions)
        self.warning_error = FieldError()
        outer.addWidget(self.warning_error)
        for widget in (self.thresholds_button, self.scan_button):
            widget.setEnabled(self._may_manage)
        self._update_warning_buttons()
        return tab

    def _update_warning_buttons(self) -> None:
        row: WarningRow | None = self.warning_model.selected(self.warning_table)
        actionable = self._may_manage and row is not None and row.state == WarningState.OPEN
        self.dismiss_button.setEnabled(actionable)
        self.classify_button.setEnabled(actionable)
        self.note_edit.setEnabled(actionable)

    def save_thresholds(self) -> None:
        services, actor = self.context.services, self.context.actor
        history, p, volume = (
            self.history_spin.value(),
            self.p_spin.value(),
            self.volume_spin.value(),
        )
        Action(
            self.context,
            self,
            lambda: services.classes.save_thresholds(
                actor, history_months=history, p_per_mille=p, min_volume=volume
            ),
        ).success(lambda _changes: self.scan_status.setText("阈值已保存")).on_invalid(
            lambda exc: self.warning_error.set_message(exc.message)
        ).run()

    def scan(self) -> None:
        services, actor = self.context.services, self.context.actor
        self.scan_button.setEnabled(False)
        self.scan_status.setText("正在扫描…")

        def done(result: Any) -> None:
            self.scan_status.setText(
                f"{result.month} 扫描完成：新增预警 {result.raised} 条"
                + (f"，更新 {result.updated} 条" if result.updated else "")
            )

        Action(self.context, self, lambda: services.classes.scan_warnings(actor)).success(
            done
        ).finished(lambda: self.scan_button.setEnabled(self._may_manage)).run()

    def dismiss(self) -> None:
        row: WarningRow | None = self.warning_model.selected(self.warning_table)
        if row is None:
            return
        note, services, actor = self.note_edit.text(), self.context.services, self.context.actor

        def dismissed(_changes: Changes) -> None:
            self.note_edit.clear()
            self.warning_error.set_message(None)

        Action(self.context, self, lambda: services.classes.dismiss(actor, row.id, note)).success(
            dismissed
        ).on_invalid(lambda exc: self.warning_error.set_message(exc.message)).run()

    def to_class(self) -> None:
        row: WarningRow | None = self.warning_model.selected(self.warning_table)
        if row is None:
            return
        services, actor = self.context.services, self.context.actor

        def made(result: tuple[int, Changes]) -> None:
            self.warning_error.set_message(None)
            self._select_class = result[0]
            self.tabs.setCurrentIndex(0)

        Action(
            self.context, self, lambda: services.classes.class_from_warning(actor, row.id)
        ).success(made).run()

    # Loading ---------------------------------------------------------------------------------

    @property
    def is_loading(self) -> bool:
        return not self.context.runner.idle()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload()

    def _on_changed(self, changes: Changes) -> None:
        if not (changes.classes or changes.cases or changes.departments or changes.settings):
            return
        self._stale = True
        if self.isVisible():
            self.reload()

    def reload(self) -> None:
        self._stale = False
        classes = self.context.services.classes
        state, text = self.class_state.currentData(), self.search.text()
        warning_state = self.warning_state.currentData()
        keep_class = self._select_class or self._class_id
        self._select_class = None

        def load() -> tuple[list[ClassRow], list[WarningRow], Any]:
            return (
                classes.list_classes(state=state, text=text),
                classes.warnings(state=warning_state),
                classes.thresholds(),
            )

        def loaded(result: tuple[list[ClassRow], list[WarningRow], Any]) -> None:
            class_rows, warning_rows, thresholds = result
            keep_warning = self.warning_model.selected(self.warning_table)
            self.class_model.set_rows(class_rows)
            self.warning_model.set_rows(warning_rows)
            self.history_spin.setValue(thresholds.history_months)
            self.p_spin.setValue(round(thresholds.p_threshold * 1000))
            self.volume_spin.setValue(thresholds.min_volume)
            row = self.class_model.row_of(keep_class) if keep_class is not None else -1
            if row >= 0:
                self.class_table.selectRow(row)  # the reset cleared it: its detail reloads
            elif self._class_id is not None:
                self._edit_new()
            if keep_warning is not None and (w := self.warning_model.row_of(keep_warning.id)) >= 0:
                self.warning_table.selectRow(w)
            elif warning_rows:
                # The first still to be judged, if any: that is what the person is here for.
                states = [w.state for w in warning_rows]
                first = states.index(WarningState.OPEN) if WarningState.OPEN in states else 0
                self.warning_table.selectRow(first)
            self._update_warning_buttons()

        Query(self.context.runner, self, load, loaded).run()
