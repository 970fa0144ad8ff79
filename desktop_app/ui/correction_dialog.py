"""更正…: the case's and its complainant's fields, pre-filled, put right with a reason.

The complainant's record is shared by all their cases, so the dialog lists the other cases a
correction of the person reaches. Errors appear beside the fields (intake's own rules, checked by
the service) and nothing is saved until every field is right.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop_app.domain import validation
from desktop_app.domain.vocabulary import Channel, ComplainantKind, Conduct
from desktop_app.errors import ValidationFailed
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from desktop_app.services.corrections import (
    CaseFields,
    ComplainantFields,
    CorrectionForm,
    CorrectionResult,
    SharedCase,
)
from desktop_app.services.site import DepartmentInfo
from desktop_app.ui.common import FieldError, UiContext, show_error
from desktop_app.ui.operations import Action
from desktop_app.ui.screen import size_to_screen

# Fields that must not be left empty (as at intake), and the reason.
_REQUIRED = frozenset({"name", "title", "contact_person", "reason"})
# 被反映问题's boxes per row (the longest label, 一次性告知不到位, fits a third of the column).
_CONDUCT_COLUMNS = 3


def steady_error() -> FieldError:
    """A FieldError that keeps its line when empty, so the form does not jump as errors come
    and go."""
    error = FieldError()
    policy = error.sizePolicy()
    policy.setRetainSizeWhenHidden(True)
    error.setSizePolicy(policy)
    return error


def mark_invalid(widget: QWidget, invalid: bool) -> None:
    widget.setProperty("invalid", invalid)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


@dataclass(frozen=True)
class CorrectionData:
    """What the dialog shows, read in one go on the worker (``load``) before it opens."""

    stored: CorrectionForm
    number: str
    areas: list[str]
    departments: list[DepartmentInfo]
    shared_cases: list[SharedCase]

    @staticmethod
    def load(services: AppServices, actor: Actor, case_id: int) -> CorrectionData:
        return CorrectionData(
            # The full numbers, to be corrected: a reveal on the audit log.
            stored=services.corrections.open_for_correction(actor, case_id),
            number=services.cases.detail(case_id).number,
            areas=services.site.areas(),
            departments=services.site.departments(include_inactive=True),
            shared_cases=services.corrections.shared_cases(case_id),
        )


class CorrectionDialog(QDialog):
    """Opened from the case dialog's 基本信息 tab; ``saved`` is set once a correction is saved."""

    def __init__(
        self,
        context: UiContext,
        case_id: int,
        data: CorrectionData,
        parent: QWidget | None = None,
    ) -> None:
        """``data`` as ``CorrectionData.load`` reads it on the worker (the case dialog does)."""
        super().__init__(parent)
        self._context = context
        self.case_id = case_id
        self.saved: CorrectionResult | None = None
        self._saving = False
        self._stored = data.stored
        self._kind = self._stored.complainant.kind
        self.setWindowTitle(f"更正 — 事项 {data.number}")
        size_to_screen(self, 1040, 700)

        outer = QVBoxLayout(self)
        intro = QLabel(
            "把登记时录错的内容改正过来。每次更正都写明原因，记入办理记录和审计日志；"
            "已签发的交办单等纸面文书不随之改变。"
        )
        intro.setWordWrap(True)
        intro.setObjectName("hint")
        outer.addWidget(intro)

        # The matter beside the person: on a laptop both fit without scrolling; on a smaller
        # area the two scroll together.
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        host = QWidget()
        self.scroll_area.setWidget(host)
        outer.addWidget(self.scroll_area, 1)
        body = QHBoxLayout(host)
        body.setContentsMargins(0, 0, 0, 0)
        self.errors: dict[str, FieldError] = {}
        self.fields: dict[str, QWidget] = {}

        # The matter ---------------------------------------------------------------------------
        matter = QGroupBox("事项信息")
        self._matter_form = QFormLayout(matter)
        self._matter_form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self._matter_form.setVerticalSpacing(2)
        # Each column at its natural height, the spare room below: the longer right column must
        # not spread the matter's rows apart.
        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.addWidget(matter)
        body.addLayout(left, 1)
        case = self._stored.case
        self.title = QLineEdit(case.title)
        self._add(self._matter_form, "title", "反映事项", self.title)
        self.description = QPlainTextEdit(case.description)
        self.description.setTabChangesFocus(True)
        self.description.setMinimumHeight(80)
        self.description.setMaximumHeight(90)  # room for the agent below
        self._add(self._matter_form, "description", "具体情况", self.description)
        self.area = QComboBox()
        areas = list(data.areas)
        if case.area not in areas:  # a retired area stays selectable for the case that has it
            areas.append(case.area)
        for area in areas:
            self.area.addItem(area, area)
        self.area.setCurrentIndex(self.area.findData(case.area))
        self._add(self._matter_form, "area", "领域", self.area)
        self.channel = QComboBox()
        for channel in Channel:
            self.channel.addItem(channel.label, channel.value)
        self.channel.setCurrentIndex(self.channel.findData(case.channel.value))
        self._add(self._matter_form, "channel", "来源渠道", self.channel)
        self.stuck_department = QComboBox()
        self.stuck_department.addItem("（不涉及具体部门）", None)
        for department in data.departments:
            if department.active or department.id == case.stuck_department_id:
                self.stuck_department.addItem(department.name, department.id)
        self.stuck_department.setCurrentIndex(
            max(0, self.stuck_department.findData(case.stuck_department_id))
        )
        self._add(self._matter_form, "stuck_department_id", "受阻部门", self.stuck_department)
        self.stuck_at = QLineEdit(case.stuck_at)
        self._add(self._matter_form, "stuck_at", "受阻环节", self.stuck_at)
        # PySide6 converts a datetime; its stubs only list QDate/QTime overloads.
        received = QDateTime(case.received_at)  # type: ignore[call-overload]
        self.received_at = QDateTimeEdit(received)
        self.received_at.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.received_at.setCalendarPopup(True)
        self._add(self._matter_form, "received_at", "反映时间", self.received_at)

        # The complainant ----------------------------------------------------------------------
        person_box = QGroupBox("反映人信息（同一反映人的所有事项共用）")
        person_layout = QVBoxLayout(person_box)
        self.shared_cases = data.shared_cases
        shared = QLabel(self._shared_text())
        shared.setWordWrap(True)
        shared.setObjectName("hint")
        self.shared_label = shared
        person_layout.addWidget(shared)
        self._person_form = QFormLayout()
        self._person_form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self._person_form.setVerticalSpacing(2)
        person_layout.addLayout(self._person_form)
        # The person above who is complained about: the matter's column is the longer one.
        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(person_box)
        body.addLayout(right, 1)
        person = self._stored.complainant
        is_person = self._kind is ComplainantKind.PERSON
        self.name = QLineEdit(person.name)
        self._add(self._person_form, "name", "姓名" if is_person else "企业名称", self.name)
        self.id_number = QLineEdit(person.id_number)
        self.id_number.setMaxLength(20)
        self.credit_code = QLineEdit(person.credit_code)
        self.credit_code.setMaxLength(20)
        self.contact_person = QLineEdit(person.contact_person)
        if is_person:
            self._add(self._person_form, "id_number", "身份证号", self.id_number)
        else:
            self._add(self._person_form, "credit_code", "统一社会信用代码", self.credit_code)
            self._add(self._person_form, "contact_person", "联系人", self.contact_person)
        self.override_reason = QLineEdit(person.id_override_reason)
        self.override_reason.setPlaceholderText(
            "证件号校验不通过但确认无误时，写明理由（如：旧证）"
        )
        self._add(self._person_form, "id_override_reason", "证件号确认理由", self.override_reason)
        self.phone = QLineEdit(person.phone)
        self._add(self._person_form, "phone", "联系电话", self.phone)
        self.address = QLineEdit(person.address)
        self._add(self._person_form, "address", "地址", self.address)
        self._build_agent(left)  # under the matter: the right column is the longer one
        left.addStretch(1)
        self._build_respondent(right)
        right.addStretch(1)

        # Why: always in sight, beside the buttons ---------------------------------------------
        why = QFormLayout()
        why.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("必填，如：登记时姓名录错，已核对身份证")
        self._add(why, "reason", "更正原因", self.reason)
        outer.addLayout(why)

        self.form_error = steady_error()
        self.errors["form"] = self.form_error
        outer.addWidget(self.form_error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.save_button = QPushButton("保存更正")
        self.save_button.setObjectName("primary")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self._save_clicked)
        self.cancel_button = QPushButton("取消")
        self.cancel_button.clicked.connect(self.reject)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.cancel_button)
        outer.addLayout(buttons)
        self.title.setFocus()
        self._initial = self.current_form()  # what "unsaved input" is measured against

    def _build_agent(self, column: QVBoxLayout) -> None:
        """代办人: who came for the person, often put right or learnt after intake (a relative
        who gave the wrong phone). Linked as intake links one; all boxes cleared: none."""
        case = self._stored.case
        box = QGroupBox("代办人（替反映人来办的人；没有代办人则全部清空）")
        form = QFormLayout(box)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setVerticalSpacing(2)
        self.agent_name = QLineEdit(case.agent_name)
        self.agent_name.setPlaceholderText("姓名")
        self.agent_relation = QLineEdit(case.agent_relation)
        self.agent_relation.setPlaceholderText("与反映人关系，如：舅舅")
        self.agent_phone = QLineEdit(case.agent_phone)
        self.agent_phone.setPlaceholderText("联系电话")
        self.agent_id_number = QLineEdit(case.agent_id_number)
        self.agent_id_number.setPlaceholderText("身份证号（可不填）")
        self.agent_id_number.setMaxLength(20)
        self.remove_agent_button = QPushButton("清空")
        self.remove_agent_button.setToolTip("本人来访、并无代办人时，清空代办人的全部信息")
        self.remove_agent_button.clicked.connect(self._clear_agent)
        self._add_row(
            form,
            "代办人",
            (("agent_name", self.agent_name, 2), ("agent_relation", self.agent_relation, 3)),
            self.remove_agent_button,
        )
        self._add_row(
            form,
            "电话/证件",
            (("agent_phone", self.agent_phone, 2), ("agent_id_number", self.agent_id_number, 3)),
        )
        column.addWidget(box)

    def _clear_agent(self) -> None:
        for widget in (
            self.agent_name,
            self.agent_relation,
            self.agent_phone,
            self.agent_id_number,
        ):
            widget.clear()

    def _add_row(
        self,
        form: QFormLayout,
        label: str,
        boxes: tuple[tuple[str, QLineEdit, int], ...],
        extra: QWidget | None = None,
    ) -> None:
        """Several boxes on one row (as intake lays them out); a message opens a line under
        the row for the box it is about."""
        host = QWidget()
        stack = QVBoxLayout(host)
        stack.setContentsMargins(0, 0, 0, 0)
        stack.setSpacing(0)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        stack.addLayout(row)
        for key, widget, stretch in boxes:
            row.addWidget(widget, stretch)
            error = FieldError()
            stack.addWidget(error)
            self.errors[key] = error
            self.fields[key] = widget
            widget.textChanged.connect(lambda _text, k=key: self._field_edited(k))
        if extra is not None:
            row.addWidget(extra)
        form.addRow(label, host)

    def _build_respondent(self, column: QVBoxLayout) -> None:
        """被反映对象: often named only after intake (seed 002: the clerk who refused came out
        at the 现场督办); a 问责 referral proposed from the case is prefilled from it."""
        case = self._stored.case
        box = QGroupBox("被反映对象（受理后查明的，可在此补充）")
        form = QFormLayout(box)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setVerticalSpacing(2)
        # Name, post and unit on one row, as at intake; a message (only a too-long entry is
        # possible) opens a line under the row.
        self.respondent_name = QLineEdit(case.respondent_name)
        self.respondent_name.setPlaceholderText("姓名（不知道可不填）")
        self.respondent_post = QLineEdit(case.respondent_post)
        self.respondent_post.setPlaceholderText("职务/岗位")
        self.respondent_unit = QLineEdit(case.respondent_unit)
        self.respondent_unit.setPlaceholderText("单位，如：县人民医院")
        self._add_row(
            form,
            "被反映人",
            (
                ("respondent_name", self.respondent_name, 2),
                ("respondent_post", self.respondent_post, 3),
                ("respondent_unit", self.respondent_unit, 3),
            ),
        )
        conduct_host = QWidget()
        grid = QGridLayout(conduct_host)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(2)
        self.conduct_boxes: dict[Conduct, QCheckBox] = {}
        for index, conduct in enumerate(Conduct):
            check = QCheckBox(conduct.label)
            check.setChecked(conduct.value in case.respondent_conduct)
            check.toggled.connect(lambda _on: self._field_edited("respondent_conduct"))
            self.conduct_boxes[conduct] = check
            grid.addWidget(check, *divmod(index, _CONDUCT_COLUMNS))
        self._add(form, "respondent_conduct", "被反映问题", conduct_host)
        column.addWidget(box)

    def _add(self, form: QFormLayout, key: str, label: str, widget: QWidget) -> None:
        host = QWidget()
        box = QVBoxLayout(host)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(widget)
        error = steady_error()
        box.addWidget(error)
        self.errors[key] = error
        self.fields[key] = widget
        form.addRow(label, host)
        # The message leaves as soon as the field is right; the service judges all on save.
        if isinstance(widget, QLineEdit):
            widget.textChanged.connect(lambda _text, k=key: self._field_edited(k))
        elif isinstance(widget, QPlainTextEdit):
            widget.textChanged.connect(lambda k=key: self._field_edited(k))
        elif isinstance(widget, QComboBox):
            widget.currentIndexChanged.connect(lambda _index, k=key: self._field_edited(k))
        elif isinstance(widget, QDateTimeEdit):
            widget.dateTimeChanged.connect(lambda _value, k=key: self._field_edited(k))

    def _shared_text(self) -> str:
        if not self.shared_cases:
            return "该反映人只有本件事项。"
        listed = "；".join(f"{c.number}（{c.title}）" for c in self.shared_cases[:8])
        more = f" 等 {len(self.shared_cases)} 件" if len(self.shared_cases) > 8 else ""
        return (
            f"更正反映人信息将同时改到该反映人的另外 {len(self.shared_cases)} 件事项，"
            f"并记入它们的办理记录：{listed}{more}。"
        )

    def _field_edited(self, key: str) -> None:
        self.form_error.set_message(None)
        if key == "id_override_reason":
            if self.override_reason.text().strip():  # a reason excuses a doubtful number
                self._field_edited("id_number" if "id_number" in self.fields else "credit_code")
            return
        if self.errors[key].isHidden() or not self._field_ok(key):
            return
        self.errors[key].set_message(None)
        mark_invalid(self.fields[key], False)

    def _field_ok(self, key: str) -> bool:
        """Whether ``key`` now passes the check intake makes as one types (the rest is judged
        by the service on save)."""
        excused = bool(self.override_reason.text().strip())
        if key == "id_number":
            value = self.id_number.text().strip()
            today = self._context.services.clock.now().date()
            return not value or excused or validation.check_id_number(value, today) is None
        if key == "credit_code":
            value = self.credit_code.text().strip()
            return not value or excused or validation.check_credit_code(value) is None
        if key == "phone":
            value = self.phone.text().strip()
            return bool(value) and validation.check_phone(value) is None
        if key == "agent_phone":
            value = self.agent_phone.text().strip()
            return not value or validation.check_phone(value) is None
        if key == "agent_id_number":
            value = self.agent_id_number.text().strip()
            today = self._context.services.clock.now().date()
            return not value or validation.check_id_number(value, today) is None
        if key == "agent_name":  # needed only while another of the agent's boxes is filled
            others = (self.agent_relation, self.agent_phone, self.agent_id_number)
            return bool(self.agent_name.text().strip()) or not any(w.text().strip() for w in others)
        widget = self.fields[key]
        if isinstance(widget, QLineEdit) and key in _REQUIRED:
            return bool(widget.text().strip())
        if isinstance(widget, QPlainTextEdit):
            return bool(widget.toPlainText().strip())
        return True  # a choice from a list, a date, an optional field

    # Saving ---------------------------------------------------------------------------------

    def current_form(self) -> CorrectionForm:
        received = self.received_at.dateTime().toPython()
        assert isinstance(received, datetime)
        return CorrectionForm(
            case=CaseFields(
                title=self.title.text(),
                description=self.description.toPlainText(),
                area=self.area.currentData() or "",
                channel=Channel(self.channel.currentData()),
                stuck_at=self.stuck_at.text(),
                stuck_department_id=self.stuck_department.currentData(),
                received_at=received,
                respondent_name=self.respondent_name.text(),
                respondent_post=self.respondent_post.text(),
                respondent_unit=self.respondent_unit.text(),
                respondent_conduct=self._conduct_codes(),
                agent_name=self.agent_name.text(),
                agent_phone=self.agent_phone.text(),
                agent_id_number=self.agent_id_number.text(),
                agent_relation=self.agent_relation.text(),
            ),
            complainant=ComplainantFields(
                kind=self._kind,
                name=self.name.text(),
                id_number=self.id_number.text(),
                credit_code=self.credit_code.text(),
                contact_person=self.contact_person.text(),
                phone=self.phone.text(),
                address=self.address.text(),
                id_override_reason=self.override_reason.text(),
            ),
            reason=self.reason.text(),
        )

    def _conduct_codes(self) -> tuple[str, ...]:
        """The ticked codes, and any the case holds that this version does not know (kept)."""
        known = tuple(c.value for c, box in self.conduct_boxes.items() if box.isChecked())
        unknown = tuple(
            c for c in self._stored.case.respondent_conduct if c not in Conduct._value2member_map_
        )
        return known + unknown

    def _save_clicked(self) -> None:
        self.save()

    @property
    def busy(self) -> bool:
        """A save is running on the worker (the main window waits for it when switching)."""
        return self._saving

    def has_unsaved_input(self) -> bool:
        """Whether anything was changed or a reason typed since the dialog opened."""
        return self.current_form() != self._initial

    def submit(self) -> None:
        """保存更正, as the main window's 保存 on switching user asks of every open step."""
        self.save()

    def save(self) -> None:
        if self._saving:
            return
        self._saving = True
        self.save_button.setEnabled(False)
        form = self.current_form()
        services, actor, case_id = self._context.services, self._context.actor, self.case_id
        Action(
            self._context, self, lambda: services.corrections.correct(actor, case_id, form)
        ).success(self._saved).failure(self._failed).run()

    def _saved(self, result: CorrectionResult) -> None:
        self.saved = result
        self.accept()

    def reject(self) -> None:
        """Esc, 取消 or the window's close while 保存更正 runs: the save goes on and closes the
        dialog when it is done. (Enter then Esc closed it meanwhile: the correction was saved
        but the case behind kept showing the old values, under "changed elsewhere".)"""
        if self._saving:
            return
        super().reject()

    def _failed(self, exc: Exception) -> None:
        self._saving = False
        self.save_button.setEnabled(True)
        if isinstance(exc, ValidationFailed):
            self.show_errors(exc.errors)
            return
        show_error(self, exc)

    def show_errors(self, errors: dict[str, str]) -> None:
        shown = set()
        for key, label in self.errors.items():
            label.set_message(errors.get(key))
            if key in self.fields:
                mark_invalid(self.fields[key], key in errors)
            if key in errors:
                shown.add(key)
        unplaced = [message for key, message in errors.items() if key not in shown]
        if unplaced:  # e.g. a field this kind of complainant has no row for
            self.form_error.set_message("；".join(unplaced))
        first = next((key for key in self.fields if key in errors), None)
        if first is not None:
            self.scroll_area.ensureWidgetVisible(self.fields[first])
            self.fields[first].setFocus()
