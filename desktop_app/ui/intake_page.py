"""受理登记: the keyboard-first intake form.

Tab moves field to field, Enter in a line or Ctrl+S saves, Esc clears. Errors appear beside the
fields and nothing is saved until they are fixed. Earlier cases of the same complainant show on
the right as soon as the ID, credit code or phone is typed, so a repeat visit is linked.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from itertools import pairwise
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QDateTime, QEvent, QObject, Qt, QTime, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_app.domain import intake_rules, validation
from desktop_app.domain.intake_rules import IntakeForm
from desktop_app.domain.vocabulary import DEFAULT_CAMPAIGNS, Channel, ComplainantKind, Conduct
from desktop_app.errors import ValidationFailed
from desktop_app.services.context import Changes
from desktop_app.services.intake import IntakeResult, NameConflict, RelatedCase
from desktop_app.services.site import DepartmentInfo
from desktop_app.ui.common import Card, FieldError, UiContext, heading
from desktop_app.ui.operations import Action, Query
from desktop_app.ui.slip_preview import SlipPreviewDialog

# Fields whose message the widgets make impossible (no rule for free text, a spin box's range)
# or rare (a department closed meanwhile, a material file gone): no line is kept for them, so
# the form stays short enough for a 768-pixel screen.
_RARE_MESSAGES = frozenset(
    {
        "address",
        "channel",
        "stuck_at",
        "visits_count",
        "stuck_department_id",
        "attachments",
        "agent_relation",
        "respondent_name",
        "respondent_post",
        "respondent_unit",
        "respondent_conduct",
        "campaign",
    }
)
# The agent's rows and those of who is complained about show only when their box is ticked.
_AGENT_ROWS = ("agent_name", "agent_relation", "agent_phone", "agent_id_number")
_RESPONDENT_ROWS = ("respondent_name", "respondent_conduct")
_CONDUCT_COLUMNS = 4
# Errors only the service can find (a material file gone missing); kept until the next save.
_CHECKED_BY_SERVICE_ONLY = frozenset({"attachments"})


class ReservedFieldError(FieldError):
    """A field's message line that keeps its height when empty, so the form does not jump as
    messages come and go (issue 12 item 9)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # One line of Chinese, as the fonts in use draw it (the CJK fallback may be taller
        # than the primary font's line).
        self.ensurePolished()
        self.setText("请选择领域")
        self.setMinimumHeight(self.sizeHint().height())
        self.setText("")
        self.setVisible(True)

    def set_message(self, message: str | None) -> None:
        self.setText(message or "")
        self.setToolTip(message or "")


def _same_height_when_invalid(widget: QWidget) -> None:
    """The red frame of an invalid field (theme.py) is drawn by the style sheet, whose line edit
    is a few pixels lower than the platform's: keep the taller of the two, so marking a field
    does not move the ones below it."""
    if not isinstance(widget, QLineEdit | QComboBox):
        return
    heights = []
    for invalid in (False, True):
        widget.setProperty("invalid", invalid)
        widget.style().unpolish(widget)
        widget.style().polish(widget)
        heights.append(widget.sizeHint().height())
    widget.setProperty("invalid", False)
    widget.style().unpolish(widget)
    widget.style().polish(widget)
    widget.setMinimumHeight(max(heights))


# How often an untouched 反映时间 catches up with the clock (``IntakePage._follow_clock``).
TIME_FOLLOWS_CLOCK_MS = 20_000
RELATED_HINT = "输入身份证号、信用代码或电话后，这里会列出此人此前的事项，避免重复登记。"


class IntakePage(QWidget):
    open_case = Signal(int)
    saved = Signal(object)  # IntakeResult

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._context = context
        self._saving = False
        self._repeat_of: RelatedCase | None = None
        # A known ID or credit code under another name, and whether the clerk confirmed the
        # rename (item 13): sent with the form as its confirm_name_change reason.
        self._name_conflict: NameConflict | None = None
        self._rename_confirmed = False
        self._attachments: list[Path] = []
        self.last_result: IntakeResult | None = None
        self.receipt_dialog: SlipPreviewDialog | None = None

        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 12, 16, 12)
        title_row = QHBoxLayout()
        title_row.addWidget(heading("受理登记"))
        title_row.addStretch(1)
        keys = QLabel("Tab 切换 · Enter 或 Ctrl+S 保存 · Esc 清空")
        keys.setObjectName("hint")
        title_row.addWidget(keys)
        outer.addLayout(title_row)
        self.banner = QLabel("")
        self.banner.setObjectName("banner")
        self.banner.setVisible(False)
        self.banner.setTextFormat(Qt.TextFormat.RichText)
        self.banner.setStyleSheet(
            "background:#e9f7ef;border:1px solid #7dcea0;padding:8px;border-radius:4px;"
        )
        self.banner.linkActivated.connect(self._banner_link)
        outer.addWidget(self.banner)
        self._build_name_conflict_panel(outer)

        columns = QHBoxLayout()
        outer.addLayout(columns, 1)
        self.form_scroll = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        form_host = QWidget()
        scroll.setWidget(form_host)
        columns.addWidget(scroll, 3)
        self.form = QFormLayout(form_host)
        # Labels at the top of their row: each row is the field and its message line below.
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.form.setVerticalSpacing(2)
        self.errors: dict[str, FieldError] = {}

        # Complainant ------------------------------------------------------------------------
        kind_row = QHBoxLayout()
        self.person_radio = QRadioButton("个人(&P)")
        self.enterprise_radio = QRadioButton("企业(&E)")
        self.person_radio.setChecked(True)
        self.kind_group = QButtonGroup(self)
        self.kind_group.addButton(self.person_radio)
        self.kind_group.addButton(self.enterprise_radio)
        kind_row.addWidget(self.person_radio)
        kind_row.addWidget(self.enterprise_radio)
        kind_row.addStretch(1)
        self.form.addRow("反映人类型", kind_row)

        self.name = self._line("name", "姓名", "反映人姓名")
        self.id_number = self._line("id_number", "身份证号", "18位身份证号（可不填）")
        self.id_number.setMaxLength(20)
        self.credit_code = self._line("credit_code", "统一社会信用代码", "18位统一社会信用代码")
        self.credit_code.setMaxLength(20)
        # Right under the number it excuses, and next after it in the Tab order: under 联系人
        # it came after it, and a clerk tabbing on typed the phone into it, the warning gone.
        self.override_reason = self._line(
            "id_override_reason", "确认理由", "证件号校验不通过但确认无误时，写明理由（如：旧证）"
        )
        self.contact_person = self._line("contact_person", "联系人", "企业联系人姓名")
        self.phone = self._line("phone", "联系电话", "手机号或带区号的固定电话")
        self.address = self._line("address", "地址", "可不填")
        self._build_agent_rows()

        # Matter -----------------------------------------------------------------------------
        self.title = self._line("title", "反映事项", "一句话概括，如：医保结算查不到参保信息")
        self.description = QPlainTextEdit()
        self.description.setTabChangesFocus(True)
        self.description.setPlaceholderText("办什么事、卡在哪个环节、已经跑了几次、对方怎么说")
        self.description.setMinimumHeight(76)
        self.description.setMaximumHeight(100)
        self._add_row("description", "具体情况", self.description)
        self.area = QComboBox()
        self._add_row("area", "领域", self.area)
        self.channel = QComboBox()
        for channel in Channel:
            self.channel.addItem(channel.label, channel.value)
        self._add_row("channel", "来源渠道", self.channel)
        self.campaign = QComboBox()
        self.campaign.setEditable(True)  # a site's own campaign is typed in
        self.campaign.addItem("")
        self.campaign.addItems(DEFAULT_CAMPAIGNS)
        line = self.campaign.lineEdit()
        assert line is not None
        line.setPlaceholderText("不属于专项活动可不填")
        self._add_row("campaign", "专项活动", self.campaign)
        self.stuck_department = QComboBox()
        self._add_row("stuck_department_id", "受阻部门", self.stuck_department)
        self.stuck_at = self._line("stuck_at", "受阻环节", "哪个窗口、哪位工作人员、哪个环节")
        self._build_respondent_rows()
        self.visits_count = QSpinBox()
        self.visits_count.setRange(1, 99)
        self.visits_count.setSuffix(" 次")
        self._add_row("visits_count", "往返次数", self.visits_count)
        self.received_at = QDateTimeEdit()
        self.received_at.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.received_at.setCalendarPopup(True)
        self._add_row("received_at", "反映时间", self.received_at)
        # 反映时间 follows the clock until the clerk sets it (a visitor registered later, from
        # notes): a form filled at 13:07 no longer saves and prints the 13:04 it was cleared at.
        self._time_set_by_clerk = False
        self._setting_time = False
        self._clock_timer = QTimer(self)
        self._clock_timer.setInterval(TIME_FOLLOWS_CLOCK_MS)
        self._clock_timer.timeout.connect(self._follow_clock)
        self._clock_timer.start()

        materials = QVBoxLayout()
        self.attachment_list = QListWidget()
        self.attachment_list.setMaximumHeight(70)
        materials.addWidget(self.attachment_list)
        buttons = QHBoxLayout()
        self.add_file_button = QPushButton("添加材料…")
        self.remove_file_button = QPushButton("移除")
        buttons.addWidget(self.add_file_button)
        buttons.addWidget(self.remove_file_button)
        buttons.addStretch(1)
        materials.addLayout(buttons)
        materials_host = QWidget()
        materials_host.setLayout(materials)
        self._add_row("attachments", "材料", materials_host)

        # The buttons stay below the scrolling form, visible however short the screen is.
        actions = QHBoxLayout()
        actions.setContentsMargins(0, 6, 0, 0)
        self.save_button = QPushButton("保存登记（Ctrl+S）")
        self.save_button.setObjectName("primary")
        self.clear_button = QPushButton("清空（Esc）")
        actions.addWidget(self.save_button)
        actions.addWidget(self.clear_button)
        actions.addStretch(1)
        self.import_register_button = QPushButton("导入旧台账…")  # issue 17
        self.import_register_button.setToolTip("把以前用 Excel 记的台账导入为历史事项")
        actions.addWidget(self.import_register_button)
        outer.addLayout(actions)

        # Tab goes down the form, then to the buttons below it (widgets made before the row
        # that holds them would otherwise come first).
        chain = [
            self.received_at,
            self.attachment_list,
            self.add_file_button,
            self.remove_file_button,
            self.save_button,
            self.clear_button,
        ]
        for before, after in pairwise(chain):
            QWidget.setTabOrder(before, after)

        # Whatever takes the focus in the form is scrolled into view: by Tab from the buttons
        # below it, by a click on a label's mnemonic, or when a save puts the focus on the first
        # field with a message.
        for child in form_host.findChildren(QWidget):
            if child.focusPolicy() != Qt.FocusPolicy.NoFocus:
                child.installEventFilter(self)

        # Related cases ---------------------------------------------------------------------
        side = QVBoxLayout()
        self.related_card = Card("同一反映人的事项")
        self.related_hint = QLabel(RELATED_HINT)
        self.related_hint.setWordWrap(True)
        self.related_hint.setObjectName("hint")
        self.related_card.body.addWidget(self.related_hint)
        self.related_list = QListWidget()
        self.related_list.setWordWrap(True)
        self.related_card.body.addWidget(self.related_list, 1)
        self.link_button = QPushButton("按再次来访关联所选事项")
        self.link_button.setEnabled(False)
        self.related_card.body.addWidget(self.link_button)
        self.link_label = QLabel("")
        self.link_label.setWordWrap(True)
        self.link_label.setTextFormat(Qt.TextFormat.RichText)
        self.related_card.body.addWidget(self.link_label)
        side.addWidget(self.related_card, 1)
        columns.addLayout(side, 2)

        # Wiring ----------------------------------------------------------------------------
        self.person_radio.toggled.connect(self._kind_changed)
        for line in (self.id_number, self.credit_code, self.phone):
            line.editingFinished.connect(self._look_up_related)
        self.id_number.editingFinished.connect(self._check_id_now)
        self.credit_code.editingFinished.connect(self._check_credit_now)
        self.phone.editingFinished.connect(self._check_phone_now)
        self.agent_phone.editingFinished.connect(
            lambda: self._check_now("agent_phone", self.agent_phone)
        )
        self.agent_id_number.editingFinished.connect(
            lambda: self._check_now("agent_id_number", self.agent_id_number)
        )
        for box in (self.agent_box, self.respondent_box):
            box.toggled.connect(self._update_optional_rows)
            box.toggled.connect(self._recheck_shown_errors)
        for box in self.conduct_boxes.values():
            box.toggled.connect(self._recheck_shown_errors)
        self.campaign.currentTextChanged.connect(self._recheck_shown_errors)
        self.add_file_button.clicked.connect(self._add_files)
        self.remove_file_button.clicked.connect(self._remove_file)
        self.related_list.currentRowChanged.connect(
            lambda row: self.link_button.setEnabled(row >= 0)
        )
        self.related_list.itemDoubleClicked.connect(
            lambda item: self.open_case.emit(item.data(Qt.ItemDataRole.UserRole).id)
        )
        self.link_button.clicked.connect(self._link_selected)
        self.link_label.linkActivated.connect(lambda _href: self._set_repeat_of(None))
        for line in self._text_lines():
            line.textChanged.connect(self._recheck_shown_errors)
        self.description.textChanged.connect(self._recheck_shown_errors)
        for combo in (self.area, self.channel, self.stuck_department):
            combo.currentIndexChanged.connect(self._recheck_shown_errors)
        self.visits_count.valueChanged.connect(self._recheck_shown_errors)
        self.received_at.dateTimeChanged.connect(self._time_edited)
        self.received_at.dateTimeChanged.connect(self._recheck_shown_errors)
        self.person_radio.toggled.connect(self._recheck_shown_errors)
        self.override_reason.textChanged.connect(self._update_override_row)
        for line in (self.name, self.id_number, self.credit_code):
            line.textChanged.connect(self._forget_name_conflict)
            line.editingFinished.connect(self._look_up_name_conflict)
        self.person_radio.toggled.connect(self._forget_name_conflict)
        self.rename_button.clicked.connect(self._confirm_rename)
        self.typo_button.clicked.connect(self._restore_known_name)
        self.save_button.clicked.connect(self.save)
        self.clear_button.clicked.connect(self.confirm_clear)
        self.import_register_button.clicked.connect(self.import_register)
        for line in self.findChildren(QLineEdit):
            if line.parent() is not None and isinstance(line.parent(), QDateTimeEdit | QSpinBox):
                continue
            if line is self.rename_reason:  # Enter there answers the question: same person
                line.returnPressed.connect(self._confirm_rename)
                continue
            line.returnPressed.connect(self.save)
        QShortcut(QKeySequence.StandardKey.Save, self).activated.connect(self.save)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self).activated.connect(self.confirm_clear)
        context.hub.changed.connect(self._on_changed)

        self._fill_reference()
        self.clear()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusIn and isinstance(watched, QWidget):
            self.form_scroll.ensureWidgetVisible(watched, 0, 24)
        return super().eventFilter(watched, event)

    # Form building -------------------------------------------------------------------------

    def _build_name_conflict_panel(self, outer: QVBoxLayout) -> None:
        """The question asked when a known ID or credit code comes with another name: the
        record on file, a reason box, and the two answers (above the form, so it is seen)."""
        self.name_conflict_panel = QFrame()
        self.name_conflict_panel.setObjectName("nameConflict")
        self.name_conflict_panel.setStyleSheet(
            "#nameConflict{background:#fff8e1;border:1px solid #f0b429;border-radius:4px;}"
        )
        box = QVBoxLayout(self.name_conflict_panel)
        box.setContentsMargins(10, 8, 10, 8)
        self.name_conflict_text = QLabel("")
        self.name_conflict_text.setWordWrap(True)
        self.name_conflict_text.setTextFormat(Qt.TextFormat.RichText)
        box.addWidget(self.name_conflict_text)
        self.rename_reason = QLineEdit()
        self.rename_reason.setPlaceholderText(
            "同一人更名的理由，如：2026年3月经公安机关核准更名，已核对户口簿"
        )
        box.addWidget(self.rename_reason)
        self.rename_reason_error = FieldError()
        box.addWidget(self.rename_reason_error)
        answers = QHBoxLayout()
        self.rename_button = QPushButton("是同一人，已更名：记录理由并保存")
        self.typo_button = QPushButton("是录入错误：改回原登记姓名")
        answers.addWidget(self.rename_button)
        answers.addWidget(self.typo_button)
        answers.addStretch(1)
        box.addLayout(answers)
        self.name_conflict_panel.setVisible(False)
        outer.addWidget(self.name_conflict_panel)

    def _build_agent_rows(self) -> None:
        """代办人: someone who came for the person concerned (hidden until the box is ticked)."""
        self.agent_box = QCheckBox("他人代为反映（有代办人）")
        self.form.addRow("代办人", self.agent_box)
        self.agent_name = self._line("agent_name", "代办人姓名", "代为反映的人的姓名")
        self.agent_relation = self._line(
            "agent_relation", "与反映人关系", "如：舅舅、子女、委托代理人"
        )
        self.agent_phone = self._line("agent_phone", "代办人电话", "手机号或带区号的固定电话")
        self.agent_id_number = self._line("agent_id_number", "代办人身份证号", "可不填")
        self.agent_id_number.setMaxLength(20)

    def _build_respondent_rows(self) -> None:
        """Who is complained about: name, post and unit on one row, what they did below."""
        self.respondent_box = QCheckBox("反映了具体的工作人员或窗口")
        self.form.addRow("被反映对象", self.respondent_box)
        self.respondent_name = QLineEdit()
        self.respondent_name.setPlaceholderText("姓名（不知道可不填）")
        self.respondent_post = QLineEdit()
        self.respondent_post.setPlaceholderText("职务/岗位")
        self.respondent_unit = QLineEdit()
        self.respondent_unit.setPlaceholderText("单位，如：县人民医院")
        host = QWidget()
        box = QVBoxLayout(host)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.respondent_name, 2)
        row.addWidget(self.respondent_post, 2)
        row.addWidget(self.respondent_unit, 3)
        box.addLayout(row)
        for key, widget in (
            ("respondent_name", self.respondent_name),
            ("respondent_post", self.respondent_post),
            ("respondent_unit", self.respondent_unit),
        ):
            _same_height_when_invalid(widget)
            error = FieldError()
            box.addWidget(error)
            self.errors[key] = error
            self._rows[key] = (host, widget)
        self.form.addRow("被反映人", host)
        # A grid, not a flow: a flow layout's minimum height (every box stacked) would be spread
        # over the form's other rows.
        conduct_host = QWidget()
        grid = QGridLayout(conduct_host)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(2)
        self.conduct_boxes: dict[Conduct, QCheckBox] = {}
        for index, conduct in enumerate(Conduct):
            check = QCheckBox(conduct.label)
            self.conduct_boxes[conduct] = check
            grid.addWidget(check, *divmod(index, _CONDUCT_COLUMNS))
        self._add_row("respondent_conduct", "被反映问题", conduct_host)

    def _update_optional_rows(self) -> None:
        for key in _AGENT_ROWS:
            self._set_row_visible(key, self.agent_box.isChecked())
        for key in _RESPONDENT_ROWS:
            self._set_row_visible(key, self.respondent_box.isChecked())

    def _line(self, key: str, label: str, placeholder: str) -> QLineEdit:
        line = QLineEdit()
        line.setPlaceholderText(placeholder)
        self._add_row(key, label, line)
        return line

    def _add_row(self, key: str, label: str, widget: QWidget) -> None:
        _same_height_when_invalid(widget)
        host = QWidget()
        box = QVBoxLayout(host)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(widget)
        error = FieldError() if key in _RARE_MESSAGES else ReservedFieldError()
        box.addWidget(error)
        self.errors[key] = error
        self.form.addRow(label, host)
        self._rows = getattr(self, "_rows", {})
        self._rows[key] = (host, widget)

    def _set_row_visible(self, key: str, visible: bool) -> None:
        host, _widget = self._rows[key]
        self.form.setRowVisible(host, visible)

    # Public API ----------------------------------------------------------------------------

    def current_form(self) -> IntakeForm:
        kind = (
            ComplainantKind.PERSON if self.person_radio.isChecked() else ComplainantKind.ENTERPRISE
        )
        self._follow_clock()
        received = self.received_at.dateTime().toPython()
        assert isinstance(received, datetime)
        return IntakeForm(
            complainant_kind=kind,
            name=self.name.text(),
            id_number=self.id_number.text() if kind is ComplainantKind.PERSON else "",
            credit_code=self.credit_code.text() if kind is ComplainantKind.ENTERPRISE else "",
            contact_person=self.contact_person.text(),
            phone=self.phone.text(),
            address=self.address.text(),
            title=self.title.text(),
            description=self.description.toPlainText(),
            area=self.area.currentData() or "",
            channel=Channel(self.channel.currentData()),
            stuck_at=self.stuck_at.text(),
            stuck_department_id=self.stuck_department.currentData(),
            visits_count=self.visits_count.value(),
            received_at=received.replace(second=0, microsecond=0),
            attachments=tuple(self._attachments),
            id_override_reason=self.override_reason.text(),
            repeat_of_case_id=self._repeat_of.id if self._repeat_of else None,
            confirm_name_change=self.rename_reason.text() if self._rename_confirmed else "",
            **self._agent_values(),
            **self._respondent_values(),
            campaign=self.campaign.currentText(),
        )

    def _agent_values(self) -> dict[str, Any]:
        if not self.agent_box.isChecked():
            return {}
        return {
            "agent_name": self.agent_name.text(),
            "agent_relation": self.agent_relation.text(),
            "agent_phone": self.agent_phone.text(),
            "agent_id_number": self.agent_id_number.text(),
        }

    def _respondent_values(self) -> dict[str, Any]:
        if not self.respondent_box.isChecked():
            return {}
        return {
            "respondent_name": self.respondent_name.text(),
            "respondent_post": self.respondent_post.text(),
            "respondent_unit": self.respondent_unit.text(),
            "respondent_conduct": tuple(
                conduct.value for conduct, box in self.conduct_boxes.items() if box.isChecked()
            ),
        }

    def save(self) -> None:
        if self._saving:
            return
        if self.banner.isVisible() and not self.has_unsaved_input():
            # A second press of the save just made (a double click, Enter twice): the form is
            # empty again, and its errors would hide the ✔ with the number just given — the
            # clerk would take it for a failure and register the matter again.
            return
        form = self.current_form()
        services = self._context.services
        actor = self._context.actor
        self._saving = True
        self.save_button.setEnabled(False)
        Action(self._context, self, lambda: services.intake.register(actor, form)).success(
            self._saved
        ).on_invalid(self._save_refused).finished(self._save_ended).run()

    def _save_refused(self, exc: ValidationFailed) -> None:
        # The last visitor's green ✔ 已登记 no longer stands above this one's errors.
        self.banner.setVisible(False)
        self._show_errors(exc.errors)
        if "name" in exc.errors:  # perhaps a known number under another name: ask which
            self._look_up_name_conflict()

    def _save_ended(self) -> None:
        self._saving = False
        self.save_button.setEnabled(True)

    @property
    def is_saving(self) -> bool:
        return self._saving

    def clear(self) -> None:
        for line in self._text_lines():
            line.clear()
        self.description.clear()
        self.visits_count.setValue(1)
        self.area.setCurrentIndex(0)
        self.channel.setCurrentIndex(0)
        self.stuck_department.setCurrentIndex(0)
        self._time_set_by_clerk = False
        self._follow_clock()
        self.person_radio.setChecked(True)
        self.agent_box.setChecked(False)
        self.respondent_box.setChecked(False)
        for box in self.conduct_boxes.values():
            box.setChecked(False)
        self.campaign.setCurrentIndex(0)
        self.campaign.setEditText("")
        self._update_optional_rows()
        self._attachments.clear()
        self.attachment_list.clear()
        self.related_list.clear()
        self.related_hint.setText(RELATED_HINT)
        self._set_repeat_of(None)
        self._forget_name_conflict()
        self._show_errors({})
        self._kind_changed()
        self.name.setFocus()

    def _follow_clock(self) -> None:
        """Show the time now in 反映时间, unless the clerk has set it."""
        if self._time_set_by_clerk:
            return
        now = self._context.services.clock.now()
        shown = QDateTime(QDate(now.year, now.month, now.day), QTime(now.hour, now.minute))
        if self.received_at.dateTime() == shown:
            return
        self._setting_time = True
        try:
            self.received_at.setDateTime(shown)
        finally:
            self._setting_time = False

    def _time_edited(self) -> None:
        if not self._setting_time:
            self._time_set_by_clerk = True

    def _text_lines(self) -> tuple[QLineEdit, ...]:
        """The form's one-line fields: checked again as they change, cleared, asked about."""
        return (
            self.name,
            self.id_number,
            self.credit_code,
            self.contact_person,
            self.override_reason,
            self.phone,
            self.address,
            self.title,
            self.stuck_at,
            self.agent_name,
            self.agent_relation,
            self.agent_phone,
            self.agent_id_number,
            self.respondent_name,
            self.respondent_post,
            self.respondent_unit,
        )

    def has_unsaved_input(self) -> bool:
        """Anything typed or attached that has not been saved (asked before switching user)."""
        return (
            any(line.text().strip() for line in self._text_lines())
            or bool(self.description.toPlainText().strip())
            or bool(self._attachments)
        )

    def import_register(self) -> None:
        """导入旧台账 (issue 17): its own dialog; the ledger refreshes from the Changes."""
        from desktop_app.ui.register_import_dialog import RegisterImportDialog

        dialog = RegisterImportDialog(self._context, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def confirm_clear(self) -> None:
        if self.has_unsaved_input():
            answer = QMessageBox.question(
                self,
                "清空表单",
                "表单中已填写的内容将被清空，确定吗？",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,  # Enter keeps what was typed
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.clear()

    # Saving --------------------------------------------------------------------------------

    def _saved(self, result: IntakeResult) -> None:
        self.last_result = result
        if result.repeat_visit:
            message = f"已记录为事项 <b>{result.number}</b> 的再次来访"
        else:
            message = f"已登记事项 <b>{result.number}</b>"
        conflict = self._name_conflict
        if self._rename_confirmed and conflict is not None:
            message += (
                f"；反映人姓名已由“{escape(conflict.name)}”改为“{escape(conflict.typed_name)}”，"
                "原事项中一并更正"
            )
        self.banner.setText(
            f"✔ {message}　<a href='open:{result.case_id}'>打开事项</a>"
            f"　<a href='receipt:{result.case_id}'>打印受理回执</a>"
        )
        self.banner.setVisible(True)
        self.saved.emit(result)
        self.clear()

    def _show_errors(self, errors: dict[str, str]) -> None:
        for key in self.errors:
            self._set_error(key, errors.get(key))
        self._update_override_row()
        first = next((key for key in self._rows if key in errors), None)
        if first is not None:
            self._rows[first][1].setFocus()

    def _set_error(self, key: str, message: str | None) -> None:
        self.errors[key].set_message(message)
        widget = self._rows[key][1]
        if bool(widget.property("invalid")) != bool(message):
            widget.setProperty("invalid", bool(message))
            widget.style().unpolish(widget)
            widget.style().polish(widget)

    def _recheck_shown_errors(self) -> None:
        """A shown message leaves as soon as its field is right, and follows what is typed
        (item 9); fields without a message get one only on leaving them or on saving."""
        shown = [key for key, label in self.errors.items() if label.text()]
        if not shown:
            return
        errors = self._form_errors()
        for key in shown:
            if key in errors or key in _CHECKED_BY_SERVICE_ONLY:
                if key in errors:
                    self._set_error(key, errors[key])
                continue
            self._set_error(key, None)
        self._update_override_row()

    def _form_errors(self) -> dict[str, str]:
        """The domain's verdict on the form as it stands (the service checks it again)."""
        areas = [self.area.itemData(i) for i in range(self.area.count()) if self.area.itemData(i)]
        departments = [
            self.stuck_department.itemData(i)
            for i in range(self.stuck_department.count())
            if self.stuck_department.itemData(i) is not None
        ]
        now = self._context.services.clock.now()
        return intake_rules.validate(
            intake_rules.normalized(self.current_form()),
            today=now.date(),
            now=now,
            areas=areas,
            department_ids=departments,
        )

    def _update_override_row(self) -> None:
        """确认理由 shows while a reason is typed or could excuse the number's problem."""
        today = self._context.services.clock.now().date()
        if self.person_radio.isChecked():
            value = self.id_number.text()
            excusable_problem = bool(value.strip()) and (
                validation.check_id_number(value, today) is not None
                and validation.id_number_excusable(value, today)
            )
        else:
            value = self.credit_code.text()
            excusable_problem = bool(value.strip()) and (
                validation.check_credit_code(value) is not None
                and validation.credit_code_excusable(value)
            )
        self._set_row_visible(
            "id_override_reason", bool(self.override_reason.text()) or excusable_problem
        )

    def _banner_link(self, href: str) -> None:
        if href.startswith("open:"):
            self.open_case.emit(int(href.split(":", 1)[1]))
        elif href.startswith("receipt:"):
            self.print_receipt(int(href.split(":", 1)[1]))

    def print_receipt(self, case_id: int) -> SlipPreviewDialog:
        """受理回执 for the complainant, previewed before it is printed."""
        assignments, actor = self._context.services.assignments, self._context.actor
        number = self.last_result.number if self.last_result else ""
        dialog = SlipPreviewDialog(
            self._context,
            lambda: assignments.receipt_pdf(case_id, actor=actor),
            f"受理回执 {number}".strip(),
            self,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.receipt_dialog = dialog
        dialog.open()
        return dialog

    # Known number, another name -----------------------------------------------------------

    def _look_up_name_conflict(self) -> None:
        form = self.current_form()
        if not form.name.strip() or not (form.id_number.strip() or form.credit_code.strip()):
            return
        intake = self._context.services.intake
        Query(
            self._context.runner,
            self,
            lambda: intake.name_conflict(form),
            lambda conflict: self._show_name_conflict(form, conflict),
        ).run()

    def _show_name_conflict(self, asked: IntakeForm, conflict: NameConflict | None) -> None:
        if (asked.name, asked.id_number, asked.credit_code) != (
            self.name.text(),
            self.id_number.text() if self.person_radio.isChecked() else "",
            self.credit_code.text() if not self.person_radio.isChecked() else "",
        ):
            return  # typed on meanwhile: the answer is about a form that is gone
        if conflict is None:
            self._forget_name_conflict()
            return
        if self._name_conflict == conflict and self.name_conflict_panel.isVisible():
            return
        self._name_conflict = conflict
        self._rename_confirmed = False
        cases = f"共 {conflict.case_count} 件事项" + (
            f"，最近一件 {escape(conflict.latest_case)}" if conflict.latest_case else ""
        )
        self.name_conflict_text.setText(
            f"此{conflict.matched_by}已登记为 <b>{escape(conflict.name)}</b>"
            f"（联系电话 {escape(conflict.phone) or '未留'}；"
            f"地址 {escape(conflict.address) or '未留'}；{cases}）。"
            f"本次填写的是 <b>{escape(conflict.typed_name)}</b>。"
            "<br>是同一反映人更名，还是录入错误？更名会改正原事项中的姓名，并记入审计日志。"
        )
        self.typo_button.setText(f"是录入错误：改回“{conflict.name}”")
        self.rename_reason_error.set_message(None)
        self.name_conflict_panel.setVisible(True)

    def _forget_name_conflict(self) -> None:
        self._name_conflict = None
        self._rename_confirmed = False
        self.rename_reason.clear()
        self.rename_reason_error.set_message(None)
        self.name_conflict_panel.setVisible(False)

    def _confirm_rename(self) -> None:
        if not self.rename_reason.text().strip():
            self.rename_reason_error.set_message("请写明更名理由：它记入审计日志和原事项")
            self.rename_reason.setFocus()
            return
        self.rename_reason_error.set_message(None)
        self._rename_confirmed = True
        self.save()

    def _restore_known_name(self) -> None:
        conflict = self._name_conflict
        if conflict is not None:
            self.name.setText(conflict.name)  # the text change puts the question away
            self.name.setFocus()

    # Live checks ---------------------------------------------------------------------------

    def _check_id_now(self) -> None:
        self._check_now("id_number", self.id_number)

    def _check_credit_now(self) -> None:
        self._check_now("credit_code", self.credit_code)

    def _check_phone_now(self) -> None:
        self._check_now("phone", self.phone)

    def _check_now(self, key: str, line: QLineEdit) -> None:
        """On leaving a code field: its message now, not only on saving."""
        message = self._form_errors().get(key) if line.text().strip() else None
        self._set_error(key, message)
        self._update_override_row()

    def _look_up_related(self) -> None:
        form = self.current_form()
        if not (form.id_number.strip() or form.credit_code.strip() or form.phone.strip()):
            return
        intake = self._context.services.intake
        Query(
            self._context.runner, self, lambda: intake.related_cases(form), self._show_related
        ).run()

    def _show_related(self, related: list[RelatedCase]) -> None:
        self.related_list.clear()
        if not related:
            self.related_hint.setText("没有找到此前的事项：这是一位新的反映人。")
            return
        open_count = sum(1 for r in related if r.is_open)
        self.related_hint.setText(
            f"找到 {len(related)} 件此前的事项（{open_count} 件未办结）。"
            "如是同一件事再次来访，请选中后关联，不要重复登记。"
        )
        for case in related:
            text = (
                f"{case.number}　{case.status.label}　{case.received_at:%Y-%m-%d}\n"
                f"{case.title}（{case.matched_by}相同，往返 {case.visits_count} 次）"
            )
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, case)
            if case.is_open:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            self.related_list.addItem(item)

    def _link_selected(self) -> None:
        item = self.related_list.currentItem()
        if item is not None:
            self._set_repeat_of(item.data(Qt.ItemDataRole.UserRole))

    def _set_repeat_of(self, case: RelatedCase | None) -> None:
        self._repeat_of = case
        if case is None:
            self.link_label.setText("")
            return
        what = "记为该事项的再次来访" if case.is_open else "登记为新事项并关联原事项"
        self.link_label.setText(
            f"保存时将{what}：<b>{case.number}</b>　<a href='unlink'>取消关联</a>"
        )
        self.visits_count.setValue(max(self.visits_count.value(), case.visits_count + 1))

    # Other --------------------------------------------------------------------------------

    def _kind_changed(self) -> None:
        person = self.person_radio.isChecked()
        label = self.form.labelForField(self._rows["name"][0])
        assert isinstance(label, QLabel)
        label.setText("姓名" if person else "企业名称")
        self.name.setPlaceholderText("反映人姓名" if person else "企业全称")
        self._set_row_visible("id_number", person)
        self._set_row_visible("credit_code", not person)
        self._set_row_visible("contact_person", not person)
        self._update_override_row()

    def _add_files(self) -> None:
        paths, _filter = QFileDialog.getOpenFileNames(
            self,
            "选择材料",
            "",
            "材料 (*.pdf *.jpg *.jpeg *.png *.tif *.doc *.docx *.xls *.xlsx);;所有文件 (*)",
        )
        self.add_attachments([Path(p) for p in paths])

    def add_attachments(self, paths: list[Path]) -> None:
        for path in paths:
            if path not in self._attachments:
                self._attachments.append(path)
                self.attachment_list.addItem(path.name)

    def _remove_file(self) -> None:
        row = self.attachment_list.currentRow()
        if row >= 0:
            self.attachment_list.takeItem(row)
            del self._attachments[row]

    def _fill_reference(self) -> None:
        site = self._context.services.site
        Query(
            self._context.runner,
            self,
            lambda: (site.areas(), site.departments()),
            self._show_reference,
        ).run()

    def _show_reference(self, reference: tuple[list[str], list[DepartmentInfo]]) -> None:
        areas, departments = reference
        area = self.area.currentData()
        department = self.stuck_department.currentData()
        self.area.clear()
        self.area.addItem("请选择领域", None)
        for name in areas:
            self.area.addItem(name, name)
        self.stuck_department.clear()
        self.stuck_department.addItem("（不涉及具体部门）", None)
        for item in departments:
            self.stuck_department.addItem(item.name, item.id)
        self.area.setCurrentIndex(max(0, self.area.findData(area)))
        self.stuck_department.setCurrentIndex(max(0, self.stuck_department.findData(department)))

    def _on_changed(self, changes: Changes) -> None:
        if changes.departments or changes.settings:
            self._fill_reference()
