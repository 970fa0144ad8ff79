"""节假日与期限规则 tab: the site's holiday overrides, the State Council schedule import, and
the deadline rules in working days.

It listens to the change hub itself: all it shows are settings, so only a settings change
reloads it.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.domain.deadlines import MAX_RULE_DAYS, RuleKey
from desktop_app.domain.permissions import Permission
from desktop_app.errors import UserError
from desktop_app.services.calendar import Recomputed
from desktop_app.services.context import Changes
from desktop_app.ui.calendar.data import ReferenceData, load_reference, read_schedule
from desktop_app.ui.calendar.looks import moves_to_confirm, recomputed_text, weekday_name
from desktop_app.ui.calendar.widgets import (
    ID_ROLE,
    Reads,
    beside,
    date_edit,
    field_message,
    permission_hint,
    pydate,
    qdate,
)
from desktop_app.ui.common import FieldError, UiContext, heading, show_error
from desktop_app.ui.operations import Action, Query
from desktop_app.ui.theme import GREEN


class HolidaysTab(QWidget):
    """Overrides on the left (a table and a one-day editor), the rules on the right."""

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._context = context
        self._services = context.services
        self._actor = context.actor
        self._can_edit = context.actor.can(Permission.MANAGE_REFERENCE)
        self._reads = Reads()
        self.reference: ReferenceData | None = None
        today = self._services.clock.now().date()

        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 6)
        self.reference_hint = permission_hint("只有管理员可以修改节假日和期限规则。")
        self.reference_hint.setVisible(not self._can_edit)
        outer.addWidget(self.reference_hint)
        row = QHBoxLayout()
        outer.addLayout(row, 1)

        left = QVBoxLayout()
        left.addWidget(heading("节假日与调休（本站例外设置）", 12))
        self.years_label = QLabel("")
        self.years_label.setObjectName("hint")
        self.years_label.setWordWrap(True)
        left.addWidget(self.years_label)
        self.overrides_table = QTableWidget(0, 4)
        self.overrides_table.setHorizontalHeaderLabels(["日期", "上班/休息", "名称", "录入人"])
        self.overrides_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.overrides_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.overrides_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.overrides_table.verticalHeader().setVisible(False)
        self.overrides_table.verticalHeader().setDefaultSectionSize(24)
        self.overrides_table.setColumnWidth(0, 140)
        self.overrides_table.setColumnWidth(1, 80)
        self.overrides_table.horizontalHeader().setSectionResizeMode(
            2, QHeaderView.ResizeMode.Stretch
        )
        self.overrides_table.setColumnWidth(3, 100)
        self.overrides_table.itemSelectionChanged.connect(self._override_selected)
        left.addWidget(self.overrides_table, 2)

        editor = QHBoxLayout()
        self.override_date = date_edit(today)
        self.override_working = QComboBox()
        self.override_working.addItem("休息", False)
        self.override_working.addItem("上班", True)
        self.override_name = QLineEdit()
        self.override_name.setPlaceholderText("名称，如：台风停工、调休上班")
        self.save_override_button = QPushButton("保存这一天")
        self.save_override_button.clicked.connect(self.save_override)
        self.override_name.returnPressed.connect(self.save_override)
        self.delete_override_button = QPushButton("删除所选")
        self.delete_override_button.clicked.connect(self.delete_override)
        self.delete_override_button.setEnabled(False)
        editor.addWidget(self.override_date)
        editor.addWidget(self.override_working)
        editor.addWidget(self.override_name, 1)
        editor.addWidget(self.save_override_button)
        editor.addWidget(self.delete_override_button)
        left.addLayout(editor)
        self.override_error = FieldError()
        left.addWidget(self.override_error)

        importing = QHBoxLayout()
        self.import_button = QPushButton("导入国务院节假日安排…")
        self.import_button.setToolTip(
            "CSV 文件，每行“日期,是否上班,名称”，如 2027-10-01,休息,国庆节"
        )
        self.import_button.clicked.connect(self.import_schedule)
        self.complete_year_check = QCheckBox("该文件是某年的完整安排：")
        self.complete_year = QSpinBox()
        self.complete_year.setRange(2000, 2100)
        self.complete_year.setValue(today.year + 1)
        self.complete_year.setSuffix(" 年")
        self.complete_year.setEnabled(False)
        self.complete_year_check.toggled.connect(
            lambda on: self.complete_year.setEnabled(on and self._can_edit)
        )
        importing.addWidget(self.import_button)
        importing.addWidget(self.complete_year_check)
        importing.addWidget(self.complete_year)
        importing.addStretch(1)
        left.addLayout(importing)
        self.calendar_status = QLabel("")
        self.calendar_status.setWordWrap(True)
        left.addWidget(self.calendar_status)
        self.recomputed_text = QPlainTextEdit()
        self.recomputed_text.setReadOnly(True)
        self.recomputed_text.setMinimumHeight(90)
        self.recomputed_text.setMaximumHeight(200)
        self.recomputed_text.setPlaceholderText(
            "修改节假日后，受影响事项的期限调整情况显示在这里。"
        )
        left.addWidget(self.recomputed_text, 1)
        row.addLayout(left, 3)

        rules_column = QVBoxLayout()
        rules_column.addWidget(self._build_rules())
        rules_column.addStretch(1)
        row.addLayout(rules_column, 2)

        for widget in (
            self.override_date,
            self.override_working,
            self.override_name,
            self.save_override_button,
            self.import_button,
            self.complete_year_check,
            self.save_rules_button,
            self.due_soon_spin,
            *self.rule_spins.values(),
        ):
            widget.setEnabled(self._can_edit)
        context.hub.changed.connect(self._on_changed)

    def _build_rules(self) -> QGroupBox:
        rules_box = QGroupBox("期限规则（工作日）")
        rules = QFormLayout(rules_box)
        self.rule_spins: dict[RuleKey, QSpinBox] = {}
        for key in RuleKey:
            spin = QSpinBox()
            spin.setRange(0, MAX_RULE_DAYS)
            spin.setSuffix(" 个工作日")
            rules.addRow(key.label, spin)
            self.rule_spins[key] = spin
        self.rule_spins[RuleKey.URGE_FEEDBACK].setToolTip(
            "催办通知要求承办单位在通知发出后几个工作日内书面反馈（从通知之日起算，当日不计）"
        )
        self.due_soon_spin = QSpinBox()
        self.due_soon_spin.setRange(0, 10)
        self.due_soon_spin.setSuffix(" 个工作日内")
        self.due_soon_spin.setToolTip("在这几个工作日内到期的事项标为黄色“即将到期”")
        rules.addRow("黄色提醒：到期前", self.due_soon_spin)
        self.save_rules_button = QPushButton("保存")
        self.save_rules_button.setObjectName("primary")
        self.save_rules_button.clicked.connect(self.save_rules)
        rules.addRow(self.save_rules_button)
        self.rules_error = FieldError()
        rules.addRow(self.rules_error)
        self.rules_status = QLabel("")
        self.rules_status.setWordWrap(True)
        rules.addRow(self.rules_status)
        rules_note = QLabel(
            "0 表示当日（遇节假日顺延）。修改后对之后甄别和办结的事项生效，已计算的期限不变。"
        )
        rules_note.setObjectName("hint")
        rules_note.setWordWrap(True)
        rules.addRow(rules_note)
        return rules_box

    # Loading -------------------------------------------------------------------------------------

    @property
    def is_loading(self) -> bool:
        return self._reads.busy

    def refresh(self) -> None:
        """Reload the overrides, the years on record and the rules on the worker."""
        job = self._reads.start("reference")
        services = self._services

        def show(data: ReferenceData) -> None:
            if self._reads.is_newest("reference", job):
                self._show_reference(data)

        (
            Query(self._context.runner, self, lambda: load_reference(services), show)
            .finished(lambda: self._reads.finish("reference", job))
            .run()
        )

    def _on_changed(self, changes: Changes) -> None:
        if changes.settings:
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.reference is None and not self.is_loading:
            self.refresh()

    def _show_reference(self, data: ReferenceData) -> None:
        self.reference = data
        years = data.package_years
        builtin = f"内置节假日数据覆盖 {years[0]}–{years[-1]} 年" if years else "没有内置节假日数据"
        imported = (
            "已导入完整安排的年份：" + "、".join(f"{y}年" for y in data.imported_years)
            if data.imported_years
            else "尚未导入其他年份的完整安排"
        )
        self.years_label.setText(
            f"{builtin}；{imported}。下表的例外设置（如台风停工、补录的调休）优先于内置数据。"
        )
        self.overrides_table.setRowCount(len(data.overrides))
        for row, override in enumerate(data.overrides):
            values = (
                f"{override.day:%Y-%m-%d} {weekday_name(override.day)}",
                "上班" if override.working else "休息",
                override.name,
                override.created_by,
            )
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                if column == 0:
                    item.setData(ID_ROLE, override.day)
                self.overrides_table.setItem(row, column, item)
        self._override_selected()
        for key, spin in self.rule_spins.items():
            spin.setValue(data.rules.working_days(key))
        self.due_soon_spin.setValue(data.rules.due_soon_days)

    # Actions -------------------------------------------------------------------------------------

    def _override_selected(self) -> None:
        rows = self.overrides_table.selectionModel().selectedRows()
        self.delete_override_button.setEnabled(self._can_edit and bool(rows))
        if not rows or self.reference is None:
            return
        row = rows[0].row()
        if row >= len(self.reference.overrides):
            return
        override = self.reference.overrides[row]
        self.override_date.setDate(qdate(override.day))
        self.override_working.setCurrentIndex(1 if override.working else 0)
        self.override_name.setText(override.name)

    def save_override(self) -> None:
        if not self._can_edit:
            return
        day = pydate(self.override_date.date())
        working = bool(self.override_working.currentData())
        name = self.override_name.text()
        actor, calendar = self._actor, self._services.calendar
        self.override_error.set_message(None)

        def done(result: tuple[list[Recomputed], Changes]) -> None:
            moved, _changes = result
            state = "上班" if working else "休息"
            self.calendar_status.setText(
                f"已保存：{day:%Y-%m-%d} {weekday_name(day)} {state}"
                f"（{name.strip() or '未命名'}）。"
            )
            self.recomputed_text.setPlainText(recomputed_text(moved))

        (
            Action(
                self._context,
                self,
                lambda: calendar.save_override(actor, day, working=working, name=name),
            )
            .success(done)
            .on_invalid(field_message(self.override_error))
            .failure(beside(self.override_error, self))
            .run()
        )

    def delete_override(self) -> None:
        rows = self.overrides_table.selectionModel().selectedRows()
        if not self._can_edit or not rows or self.reference is None:
            return
        day = self.reference.overrides[rows[0].row()].day
        actor, calendar = self._actor, self._services.calendar

        def done(result: tuple[list[Recomputed], Changes]) -> None:
            moved, _changes = result
            self.calendar_status.setText(f"已删除 {day:%Y-%m-%d} 的例外设置，恢复按内置数据计算。")
            self.recomputed_text.setPlainText(recomputed_text(moved))

        (
            Action(self._context, self, lambda: calendar.delete_override(actor, day))
            .success(done)
            .run()
        )

    def import_schedule(self) -> None:
        if not self._can_edit:
            return
        path, _selected = QFileDialog.getOpenFileName(
            self,
            "选择节假日安排文件",
            str(Path.home()),
            "CSV 文件 (*.csv *.txt);;所有文件 (*)",
        )
        if not path:
            return
        source = Path(path)
        years = [self.complete_year.value()] if self.complete_year_check.isChecked() else []
        actor, calendar = self._actor, self._services.calendar
        complete = f"，并标记 {years[0]} 年已完整录入" if years else ""

        def preview() -> tuple[str, list[Recomputed]]:
            text = read_schedule(source)
            return text, calendar.preview_csv(actor, text, complete_years=years)

        def work(text: str) -> tuple[list[Recomputed], Changes]:
            return calendar.import_csv(actor, text, complete_years=years, source=source.name)

        def done(result: tuple[list[Recomputed], Changes]) -> None:
            moved, _changes = result
            self.calendar_status.setText(f"已导入 {source.name}{complete}。")
            self.recomputed_text.setPlainText(recomputed_text(moved))

        def refused(exc: Exception) -> None:
            # Said beside the import, which stood at 正在核对… above the last import's moves.
            self.recomputed_text.clear()
            if isinstance(exc, UserError):
                self.calendar_status.setText(f"未导入 {source.name}：{exc.message}")
            else:
                self.calendar_status.setText(f"未导入 {source.name}。")
                show_error(self, exc)

        def ask(previewed: tuple[str, list[Recomputed]]) -> None:
            # Every open deadline across the days it changes moves at once: said first (it
            # moved them with no question, and only then listed them).
            text, moved = previewed
            # Each move on a line of its own: as plain text the box wrapped every line in two.
            moves = escape(moves_to_confirm(moved)).replace("\n", "<br>")
            answer = QMessageBox.question(
                self,
                "导入节假日安排",
                f"<p>{escape(f'导入 {source.name}{complete}？')}</p>"
                f"<p style='white-space:pre'>{moves}</p>",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                self.calendar_status.setText(f"未导入 {source.name}，没有做任何更改。")
                return
            self.calendar_status.setText(f"正在导入 {source.name}…")
            (
                Action(self._context, self, lambda: work(text))
                .success(done)
                .on_invalid(refused)
                .failure(refused)
                .run()
            )

        self.calendar_status.setText(f"正在核对 {source.name} 会改变哪些期限…")
        (
            Action(self._context, self, preview)
            .success(ask)
            .on_invalid(refused)
            .failure(refused)
            .run()
        )

    def save_rules(self) -> None:
        if not self._can_edit:
            return
        days = {key: spin.value() for key, spin in self.rule_spins.items()}
        due_soon = self.due_soon_spin.value()
        actor, calendar = self._actor, self._services.calendar
        self.rules_error.set_message(None)

        def done(_changes: Changes) -> None:
            self.rules_status.setText("已保存期限规则。")
            self.rules_status.setStyleSheet(f"color: {GREEN};")

        (
            Action(self._context, self, lambda: calendar.save_rules(actor, days, due_soon))
            .success(done)
            .on_invalid(field_message(self.rules_error))
            .failure(beside(self.rules_error, self))
            .run()
        )
