"""登记联席会议: the form for one meeting — when, where, who chaired, which departments came, and
the matters taken up (cases found by number or title, classes from the list), each with its
discussion, decision and an optional follow-up assignment (department and working days).

Saving records the meeting (or corrects it) on the worker; a follow-up becomes a draft
assignment the duty leader signs in the case's 交办 page, like any other.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from PySide6.QtCore import QDate, QDateTime, Qt, QTime
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_app.errors import ValidationFailed
from desktop_app.services.assignments import MAX_ASSIGNMENT_DAYS
from desktop_app.services.meetings import (
    CaseChoice,
    ClassChoice,
    ItemForm,
    MeetingDetail,
    MeetingForm,
)
from desktop_app.services.site import DepartmentInfo
from desktop_app.ui.common import FieldError, UiContext
from desktop_app.ui.operations import Action, Query

RULE_DAYS = -1  # the days spin box at this value: the deadline rule's days (shown as 按期限规则)


@dataclass
class _Matter:
    """A matter being edited: the form item plus what the list shows."""

    label: str
    item: ItemForm
    locked: bool = False  # its follow-up assignment exists: department and days stay


@dataclass(frozen=True)
class _Lists:
    departments: list[DepartmentInfo]
    classes: list[ClassChoice]


class MeetingDialog(QDialog):
    """Records a new meeting, or corrects ``detail`` when given."""

    def __init__(
        self, context: UiContext, parent: QWidget | None = None, detail: MeetingDetail | None = None
    ) -> None:
        super().__init__(parent)
        self._context = context
        self._detail = detail
        self._matters: list[_Matter] = []
        self._filling = False
        self.loaded = False
        self.saving = False
        self.saved_id: int | None = None
        self.setWindowTitle(f"修改会议记录 — {detail.number}" if detail else "登记联席会议")
        self.resize(1120, 680)

        layout = QVBoxLayout(self)
        columns = QHBoxLayout()
        layout.addLayout(columns, 1)

        meeting = QGroupBox("会议")
        form = QFormLayout(meeting)
        self.held_at = QDateTimeEdit()
        self.held_at.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.held_at.setCalendarPopup(True)
        self.held_at.setDateTime(_qt_time(context.services.clock.now()))
        form.addRow("会议时间", self.held_at)
        self.place = QLineEdit()
        self.place.setPlaceholderText("如：县纪委监委三楼会议室")
        form.addRow("会议地点", self.place)
        self.chair = QLineEdit()
        form.addRow("主持人", self.chair)
        self.recorder = QLineEdit(context.actor.display_name)
        form.addRow("记录人", self.recorder)
        self.topic = QLineEdit()
        self.topic.setPlaceholderText("如：医保结算查不到参保信息问题会商")
        form.addRow("会议议题", self.topic)
        self.summary = QPlainTextEdit()
        self.summary.setPlaceholderText("会议概况（可不填）：通报的情况、总的要求")
        self.summary.setFixedHeight(70)
        form.addRow("会议概况", self.summary)
        self.attendees = QListWidget()
        self.attendees.setToolTip("勾选参会单位")
        form.addRow("参会单位", self.attendees)
        meeting.setMinimumWidth(420)
        columns.addWidget(meeting, 4)

        matters = QGroupBox("研究事项")
        grid = QVBoxLayout(matters)
        finder = QGridLayout()
        self.case_search = QLineEdit()
        self.case_search.setPlaceholderText("事项编号或反映事项中的文字")
        self.case_search.returnPressed.connect(self.find_cases)
        self.find_button = QPushButton("查找")
        self.find_button.clicked.connect(lambda _checked=False: self.find_cases())
        self.case_choices = QComboBox()
        self.case_choices.setMinimumContentsLength(24)
        self.add_case_button = QPushButton("列入事项")
        self.add_case_button.clicked.connect(lambda _checked=False: self.add_case())
        self.class_choices = QComboBox()
        self.class_choices.setMinimumContentsLength(24)
        self.add_class_button = QPushButton("列入一类事")
        self.add_class_button.clicked.connect(lambda _checked=False: self.add_class())
        finder.addWidget(QLabel("事项"), 0, 0)
        finder.addWidget(self.case_search, 0, 1)
        finder.addWidget(self.find_button, 0, 2)
        finder.addWidget(self.case_choices, 1, 1)
        finder.addWidget(self.add_case_button, 1, 2)
        finder.addWidget(QLabel("一类事"), 2, 0)
        finder.addWidget(self.class_choices, 2, 1)
        finder.addWidget(self.add_class_button, 2, 2)
        finder.setColumnStretch(1, 1)
        grid.addLayout(finder)

        self.matter_list = QListWidget()
        self.matter_list.setMaximumHeight(110)
        self.matter_list.currentRowChanged.connect(self._show_matter)
        grid.addWidget(self.matter_list)
        self.remove_button = QPushButton("移出所选事项")
        self.remove_button.clicked.connect(lambda _checked=False: self.remove_matter())
        remove_row = QHBoxLayout()
        remove_row.addStretch(1)
        remove_row.addWidget(self.remove_button)
        grid.addLayout(remove_row)

        editor = QFormLayout()
        self.discussion = QPlainTextEdit()
        self.discussion.setPlaceholderText("讨论情况：各单位说明的情况和意见")
        self.discussion.setFixedHeight(64)
        editor.addRow("讨论情况", self.discussion)
        self.decision = QPlainTextEdit()
        self.decision.setPlaceholderText("会议决定：谁在什么时间内办到什么程度")
        self.decision.setFixedHeight(64)
        editor.addRow("会议决定", self.decision)
        follow_up = QHBoxLayout()
        self.department = QComboBox()
        self.department.addItem("不交办", None)
        follow_up.addWidget(self.department, 1)
        self.days = QSpinBox()
        self.days.setRange(RULE_DAYS, MAX_ASSIGNMENT_DAYS)
        self.days.setSpecialValueText("按期限规则")
        self.days.setSuffix(" 个工作日")
        self.days.setValue(RULE_DAYS)
        follow_up.addWidget(self.days)
        editor.addRow("会后交办", follow_up)
        self.follow_up_note = QLabel(_follow_up_note(None))
        self.follow_up_note.setObjectName("hint")
        self.follow_up_note.setWordWrap(True)
        editor.addRow("", self.follow_up_note)
        grid.addLayout(editor)
        columns.addWidget(matters, 5)
        for widget in (self.discussion, self.decision):
            widget.textChanged.connect(self._store_matter)
        self.department.currentIndexChanged.connect(self._store_matter)
        self.days.valueChanged.connect(self._store_matter)

        self.error = FieldError()
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.save_button = QPushButton("保存")
        self.save_button.setObjectName("primary")
        self.save_button.clicked.connect(lambda _checked=False: self.save())
        self.cancel_button = QPushButton("取消")
        self.cancel_button.clicked.connect(self.reject)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)

        self._show_matter(-1)
        services, actor = context.services, context.actor
        Query(
            context.runner,
            self,
            lambda: _Lists(services.site.departments(), services.meetings.classes(actor)),
            self._lists_loaded,
        ).run()

    # Loading --------------------------------------------------------------------------------

    def _lists_loaded(self, lists: _Lists) -> None:
        chosen = set(self._detail.attendees) if self._detail else set()
        names = [d.name for d in lists.departments]
        for name in [*names, *(a for a in chosen if a not in names)]:
            entry = QListWidgetItem(name)
            entry.setFlags(entry.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = name in chosen
            entry.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            self.attendees.addItem(entry)
        for department in lists.departments:
            self.department.addItem(department.name, department.id)
        for choice in lists.classes:
            self.class_choices.addItem(choice.title, choice.id)
        self.add_class_button.setEnabled(bool(lists.classes))
        if self._detail is not None:
            self._fill(self._detail)
        self.loaded = True

    def _fill(self, detail: MeetingDetail) -> None:
        self.held_at.setDateTime(_qt_time(detail.held_at))
        self.place.setText(detail.place)
        self.chair.setText(detail.chair)
        self.recorder.setText(detail.recorder)
        self.topic.setText(detail.topic)
        self.summary.setPlainText(detail.summary)
        for info, item in zip(detail.items, detail.form().items, strict=True):
            self._add(_Matter(info.matter, item, locked=info.assignment_id is not None))

    # Matters --------------------------------------------------------------------------------

    def find_cases(self) -> None:
        services, actor, text = self._context.services, self._context.actor, self.case_search.text()
        self.find_button.setEnabled(False)
        Query(
            self._context.runner,
            self,
            lambda: services.meetings.find_cases(actor, text),
            self._cases_found,
        ).finished(lambda: self.find_button.setEnabled(True)).run()

    def _cases_found(self, choices: list[CaseChoice]) -> None:
        self.case_choices.clear()
        for choice in choices:
            self.case_choices.addItem(choice.label, choice)
        self.error.set_message("" if choices else "没有找到符合的事项")

    def add_case(self) -> None:
        choice = self.case_choices.currentData()
        if not isinstance(choice, CaseChoice):
            self.error.set_message("请先查找并选择事项")
            return
        if any(m.item.case_id == choice.id for m in self._matters):
            self.error.set_message(f"{choice.number}已列入")
            return
        self._add(_Matter(f"{choice.number} {choice.title}", ItemForm(case_id=choice.id)))

    def add_class(self) -> None:
        class_id = self.class_choices.currentData()
        if not isinstance(class_id, int):
            return
        if any(m.item.issue_class_id == class_id for m in self._matters):
            self.error.set_message("该一类事已列入")
            return
        label = f"一类事：{self.class_choices.currentText()}"
        self._add(_Matter(label, ItemForm(issue_class_id=class_id)))

    def remove_matter(self) -> None:
        row = self.matter_list.currentRow()
        if row < 0:
            return
        if self._matters[row].locked:
            self.error.set_message("该事项已按会议决定生成交办，不能移出")
            return
        del self._matters[row]
        self.matter_list.takeItem(row)

    def _add(self, matter: _Matter) -> None:
        self._matters.append(matter)
        self.matter_list.addItem(f"{len(self._matters)}. {matter.label}")
        self.matter_list.setCurrentRow(len(self._matters) - 1)
        self.error.set_message("")
        self.decision.setFocus()

    def _show_matter(self, row: int) -> None:
        matter = self._matters[row] if 0 <= row < len(self._matters) else None
        self._filling = True
        try:
            for widget in (self.discussion, self.decision, self.department, self.days):
                widget.setEnabled(matter is not None)
            self.discussion.setPlainText(matter.item.discussion if matter else "")
            self.decision.setPlainText(matter.item.decision if matter else "")
            department = matter.item.department_id if matter else None
            self.department.setCurrentIndex(max(0, self.department.findData(department)))
            days = matter.item.working_days if matter else None
            self.days.setValue(RULE_DAYS if days is None else days)
            if matter is not None and (matter.locked or matter.item.case_id is None):
                self.department.setEnabled(False)
                self.days.setEnabled(False)
            self.follow_up_note.setText(_follow_up_note(matter))
        finally:
            self._filling = False

    def _store_matter(self) -> None:
        row = self.matter_list.currentRow()
        if self._filling or not 0 <= row < len(self._matters):
            return
        matter = self._matters[row]
        department = self.department.currentData()
        days = self.days.value()
        matter.item = replace(
            matter.item,
            discussion=self.discussion.toPlainText(),
            decision=self.decision.toPlainText(),
            department_id=department if isinstance(department, int) else None,
            working_days=None if days == RULE_DAYS or department is None else days,
        )

    # Saving ---------------------------------------------------------------------------------

    def current_form(self) -> MeetingForm:
        attendees = tuple(
            self.attendees.item(i).text()
            for i in range(self.attendees.count())
            if self.attendees.item(i).checkState() == Qt.CheckState.Checked
        )
        held: datetime = self.held_at.dateTime().toPython()  # type: ignore[assignment]
        return MeetingForm(
            held_at=held.replace(second=0, microsecond=0),
            chair=self.chair.text(),
            topic=self.topic.text(),
            place=self.place.text(),
            attendees=attendees,
            summary=self.summary.toPlainText(),
            recorder=self.recorder.text(),
            items=tuple(m.item for m in self._matters),
        )

    def save(self) -> None:
        if self.saving:
            return
        form = self.current_form()
        services, actor, detail = self._context.services, self._context.actor, self._detail
        self.saving = True
        self.save_button.setEnabled(False)
        self.error.set_message("")
        if detail is None:
            Action(self._context, self, lambda: services.meetings.record(actor, form)).success(
                lambda result: self._saved(result[0])
            ).on_invalid(self._invalid).finished(self._finished).run()
        else:
            Action(
                self._context, self, lambda: services.meetings.update(actor, detail.id, form)
            ).success(lambda _changes: self._saved(detail.id)).on_invalid(self._invalid).finished(
                self._finished
            ).run()

    def _saved(self, meeting_id: int) -> None:
        self.saved_id = meeting_id
        self.accept()

    def _invalid(self, exc: ValidationFailed) -> None:
        self.error.set_message("\n".join(exc.errors.values()))

    def _finished(self) -> None:
        self.saving = False
        self.save_button.setEnabled(True)


def _qt_time(moment: datetime) -> QDateTime:
    return QDateTime(
        QDate(moment.year, moment.month, moment.day), QTime(moment.hour, moment.minute)
    )


def _follow_up_note(matter: _Matter | None) -> str:
    if matter is not None and matter.locked:
        return "已按会议决定生成交办：承办单位和时限在事项的“交办”页中处理。"
    if matter is not None and matter.item.case_id is None:
        return "一类事不直接交办：请把其中的事项逐项列入后交办。"
    return "会后交办生成交办草稿，由值班领导在事项的“交办”页中签发。"
