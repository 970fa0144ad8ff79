"""The referral steps as forms (issue 16, 问责): 提出问责, 签发移交函, 不予移交, 登记处理结果.

Each form sends its step to ReferralService on the worker (``Action``); a refusal of the input
shows beside its field and nothing is saved. :func:`propose_button` is the 提出问责… button the
case detail shows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.domain.permissions import Permission
from desktop_app.domain.vocabulary import Conduct, Measure, ReferralRecipient
from desktop_app.errors import ValidationFailed
from desktop_app.services.referrals import Proposal
from desktop_app.ui.common import FieldError, UiContext, heading
from desktop_app.ui.operations import Action, Query


class _StepDialog(QDialog):
    """A form with errors beside its fields and 确定/取消; ``save`` runs the step."""

    def __init__(self, context: UiContext, title: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self._context = context
        self.busy = False
        self.setWindowTitle(title)
        self.setMinimumWidth(560)
        self.layout_ = QVBoxLayout(self)
        self.layout_.addWidget(heading(title, 13))
        self.form = QFormLayout()
        self.layout_.addLayout(self.form)
        self.errors: dict[str, FieldError] = {}
        self.general_error = FieldError()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("确定")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self._buttons = buttons

    def add_row(self, key: str, label: str, field: QWidget) -> None:
        self.form.addRow(label, field)
        error = FieldError()
        self.form.addRow("", error)
        self.errors[key] = error

    def finish_layout(self) -> None:
        self.layout_.addWidget(self.general_error)
        self.layout_.addWidget(self._buttons)

    def save(self) -> None:
        raise NotImplementedError

    def run(self, work: Callable[[], object]) -> None:
        if self.busy:
            return
        for error in (*self.errors.values(), self.general_error):
            error.set_message(None)
        self.busy = True
        self.ok_button.setEnabled(False)
        Action(self._context, self, work).success(lambda _r: self.accept()).on_invalid(
            self._invalid
        ).finished(self._finished).run()

    def _invalid(self, exc: ValidationFailed) -> None:
        shown = False
        for key, message in exc.errors.items():
            error = self.errors.get(key)
            if error is not None:
                error.set_message(message)
                shown = True
        if not shown:
            self.general_error.set_message(exc.message)

    def _finished(self) -> None:
        self.busy = False
        self.ok_button.setEnabled(True)


class ProposeDialog(_StepDialog):
    """提出问责: who (prefilled from the case's 被反映人), what they did, the facts."""

    def __init__(
        self, context: UiContext, case_id: int | None, parent: QWidget | None = None
    ) -> None:
        """``case_id`` None (from the register): the clerk types the case's number first."""
        super().__init__(context, "提出问责线索", parent)
        self.case_id = case_id
        self.loading = case_id is not None
        hint = QLabel(
            "证据材料（办理记录、超期、催办督办、延期未批准、回访结果）由系统从事项记录中"
            "自动汇集，签发移交函时固定。"
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        self.layout_.insertWidget(1, hint)
        self.case_number = QLineEdit()
        self.case_number.setPlaceholderText("输入事项编号后按 Enter，如 杞县-2026-0001")
        self.case_number.returnPressed.connect(self._find_case)
        if case_id is None:
            self.add_row("case", "事项编号", self.case_number)
        self.person_name = QLineEdit()
        self.person_name.setPlaceholderText("被反映的干部或窗口人员姓名")
        self.person_post = QLineEdit()
        self.person_unit = QLineEdit()
        self.add_row("person_name", "被反映人", self.person_name)
        self.add_row("person_post", "职务", self.person_post)
        self.add_row("person_unit", "单位", self.person_unit)
        box = QWidget()
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        self.conduct: dict[Conduct, QCheckBox] = {}
        for index, item in enumerate(Conduct):
            check = QCheckBox(item.label)
            self.conduct[item] = check
            grid.addWidget(check, index // 4, index % 4)
        self.add_row("conduct", "问题表现", box)
        self.facts = QPlainTextEdit()
        self.facts.setPlaceholderText("主要问题事实：时间、经过、当事人的遭遇")
        self.facts.setFixedHeight(110)
        self.add_row("facts", "主要事实", self.facts)
        self.finish_layout()
        self.ok_button.setEnabled(False)
        if case_id is not None:
            self._prefill(case_id)

    def _prefill(self, case_id: int) -> None:
        self.case_id = case_id
        self.loading = True
        referrals, actor = self._context.services.referrals, self._context.actor
        Query(
            self._context.runner, self, lambda: referrals.prefill(actor, case_id), self._prefilled
        ).run()

    def _find_case(self) -> None:
        cases, number = self._context.services.cases, self.case_number.text()
        self.errors["case"].set_message(None)

        def not_found(exc: Exception) -> None:
            self.errors["case"].set_message(getattr(exc, "message", str(exc)))

        Query(
            self._context.runner, self, lambda: cases.find_by_number(number), self._prefill
        ).failure(not_found).run()

    def _prefilled(self, proposal: Proposal) -> None:
        self.loading = False
        self.person_name.setText(proposal.person_name)
        self.person_post.setText(proposal.person_post)
        self.person_unit.setText(proposal.person_unit)
        for item in proposal.conduct:
            self.conduct[item].setChecked(True)
        self.facts.setPlainText(proposal.facts)
        self.ok_button.setEnabled(True)

    def proposal(self) -> Proposal:
        assert self.case_id is not None  # 确定 is enabled once the case is known
        return Proposal(
            case_id=self.case_id,
            person_name=self.person_name.text(),
            person_post=self.person_post.text(),
            person_unit=self.person_unit.text(),
            conduct=tuple(c for c, check in self.conduct.items() if check.isChecked()),
            facts=self.facts.toPlainText(),
        )

    def save(self) -> None:
        referrals, actor = self._context.services.referrals, self._context.actor
        proposal = self.proposal()
        self.run(lambda: referrals.propose(actor, proposal))


class SendDialog(_StepDialog):
    """签发移交函: to whom; the number it takes is shown and confirmed."""

    def __init__(
        self, context: UiContext, referral_id: int, summary: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(context, "签发问题线索移交函", parent)
        self.referral_id = referral_id
        self.expected_number: str | None = None
        about = QLabel(summary)
        about.setWordWrap(True)
        self.layout_.insertWidget(1, about)
        self.number = QLabel("正在取号…")
        self.form.addRow("移交函编号", self.number)
        self.recipient = QComboBox()
        for item in ReferralRecipient:
            self.recipient.addItem(item.label, item.value)
        self.add_row("recipient", "移交至", self.recipient)
        self.recipient_name = QLineEdit()
        self.recipient_name.setPlaceholderText("如：中共杞县纪委 杞县监委")
        self.add_row("recipient_name", "接收机关或单位", self.recipient_name)
        self.finish_layout()
        self.ok_button.setText("签发")
        self.ok_button.setEnabled(False)
        referrals = context.services.referrals
        Query(context.runner, self, referrals.next_number, self._numbered).run()

    def _numbered(self, number: str) -> None:
        self.expected_number = number
        self.number.setText(number)
        self.ok_button.setEnabled(True)

    def save(self) -> None:
        referrals, actor = self._context.services.referrals, self._context.actor
        referral_id, expected = self.referral_id, self.expected_number
        recipient = ReferralRecipient(self.recipient.currentData())
        name = self.recipient_name.text()
        self.run(
            lambda: referrals.send(
                actor,
                referral_id,
                recipient=recipient,
                recipient_name=name,
                expected_number=expected,
            )
        )


class DropDialog(_StepDialog):
    """不予移交, with the reason."""

    def __init__(
        self, context: UiContext, referral_id: int, summary: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(context, "不予移交", parent)
        self.referral_id = referral_id
        about = QLabel(summary)
        about.setWordWrap(True)
        self.layout_.insertWidget(1, about)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("如：经核实系系统故障所致，不属个人作风问题")
        self.add_row("reason", "理由", self.reason)
        self.finish_layout()

    def save(self) -> None:
        referrals, actor = self._context.services.referrals, self._context.actor
        referral_id, reason = self.referral_id, self.reason.text()
        self.run(lambda: referrals.drop(actor, referral_id, reason))


class DecideDialog(_StepDialog):
    """登记处理结果 (纪检监察): the measure, when, by whom, a note."""

    def __init__(
        self, context: UiContext, referral_id: int, summary: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(context, "登记问责处理结果", parent)
        self.referral_id = referral_id
        about = QLabel(summary)
        about.setWordWrap(True)
        self.layout_.insertWidget(1, about)
        self.measure = QComboBox()
        for item in Measure:
            label = f"{item.label}（保护性结果）" if item.protects else item.label
            self.measure.addItem(label, item.value)
        self.add_row("measure", "处理结果", self.measure)
        today = context.services.clock.now().date()
        self.decided_on = QDateEdit(QDate(today.year, today.month, today.day))
        self.decided_on.setCalendarPopup(True)
        self.decided_on.setDisplayFormat("yyyy-MM-dd")
        self.add_row("decided_on", "处理日期", self.decided_on)
        self.decided_by = QLineEdit()
        self.decided_by.setPlaceholderText(
            f"作出处理的机关或人员（空着即为{context.actor.display_name}）"
        )
        self.add_row("decided_by", "处理机关", self.decided_by)
        self.note = QPlainTextEdit()
        self.note.setPlaceholderText("核查情况和处理依据；容错纠错、澄清正名等须写明核查情况")
        self.note.setFixedHeight(90)
        self.add_row("note", "说明", self.note)
        self.finish_layout()

    def save(self) -> None:
        referrals, actor = self._context.services.referrals, self._context.actor
        referral_id = self.referral_id
        measure = Measure(self.measure.currentData())
        picked = self.decided_on.date()
        day = date(picked.year(), picked.month(), picked.day())
        by, note = self.decided_by.text(), self.note.toPlainText()
        self.run(
            lambda: referrals.decide(
                actor, referral_id, measure=measure, decided_on=day, decided_by=by, note=note
            )
        )


class ProposeButton(QPushButton):
    """The case detail's 提出问责… button: opens :class:`ProposeDialog` for the case shown
    (hidden from a role that may not propose)."""

    def __init__(
        self,
        context: UiContext,
        case_id: Callable[[], int],
        parent: QWidget,
        after: Callable[[], object] | None = None,
    ) -> None:
        """``after``: run once a proposal is saved (the detail reads its timeline again)."""
        super().__init__("提出问责…", parent)
        self._context = context
        self._case_id = case_id
        self._after = after
        self.dialog: ProposeDialog | None = None
        self.setToolTip("对推诿扯皮、不给办等问题的责任人提出问责线索，由带班领导签发移交")
        self.setVisible(context.actor.can(Permission.PROPOSE_REFERRAL))
        self.clicked.connect(lambda _checked=False: self.open_dialog())

    def open_dialog(self) -> ProposeDialog:
        self.dialog = ProposeDialog(self._context, self._case_id(), self.window())
        after = self._after
        if after is not None:
            self.dialog.accepted.connect(lambda: after())
        self.dialog.open()
        return self.dialog
