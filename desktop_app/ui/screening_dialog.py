"""不予受理/转办…: ending a matter out of scope at screening, with the notice for the person.

The clerk chooses 不予受理 or 转办, the proper channel, and writes why; 预览告知书 shows the paper
as it would be issued (its number still to come), 确认 ends the case and numbers the notice,
which then opens to be printed or saved for the person.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.documents.screening_notice import CHANNEL_GUIDANCE, ScreeningNotice
from desktop_app.domain.permissions import Permission
from desktop_app.domain.vocabulary import CaseStatus, ProperChannel, ScreeningDecision
from desktop_app.errors import ValidationFailed
from desktop_app.services.cases import CaseDetail
from desktop_app.services.context import Actor
from desktop_app.services.screening import ScreeningResult
from desktop_app.ui.common import FieldError, UiContext, heading
from desktop_app.ui.operations import Action
from desktop_app.ui.slip_preview import Recorder, SlipPreviewDialog

EXPLANATION = (
    "属于信访、诉讼、仲裁、12345热线受理范围，或不是办事中遇到的问题的，"
    "在甄别时不予受理或转办，并向反映人出具书面告知。已交办的事项不能再不予受理。"
)


class ScreeningDialog(QDialog):
    """Opened from the case's 甄别分类 tab for a registered case nothing was assigned from."""

    screened = Signal(object)  # ScreeningResult

    def __init__(
        self, context: UiContext, case_id: int, case_number: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._context = context
        self.case_id = case_id
        self.case_number = case_number
        self.screening_result: ScreeningResult | None = None
        self.preview_dialog: SlipPreviewDialog | None = None
        self._busy = False
        self.setWindowTitle(f"不予受理/转办 — {case_number}")
        self.resize(720, 520)
        layout = QVBoxLayout(self)
        layout.addWidget(heading("不予受理 / 转办", 14))
        hint = QLabel(EXPLANATION)
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        layout.addWidget(hint)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        decisions = QHBoxLayout()
        self.decision_group = QButtonGroup(self)
        self.decision_radios: dict[ScreeningDecision, QRadioButton] = {}
        for decision in ScreeningDecision:
            radio = QRadioButton(decision.label)
            self.decision_group.addButton(radio)
            self.decision_radios[decision] = radio
            decisions.addWidget(radio)
        decisions.addStretch(1)
        self.decision_radios[ScreeningDecision.NOT_ACCEPTED].setChecked(True)
        form.addRow("处理结果", decisions)
        self.channel = QComboBox()
        for channel in ProperChannel:
            self.channel.addItem(channel.label, channel.value)
        form.addRow("应循渠道", self.channel)
        self.reason = QPlainTextEdit()
        self.reason.setTabChangesFocus(True)
        self.reason.setPlaceholderText("为什么不属于本窗口受理范围，如：属于与邻居的宅基地权属纠纷")
        self.reason.setMinimumHeight(72)
        self.reason.setMaximumHeight(90)
        self.reason_error = FieldError()
        reason_host = QWidget()
        reason_box = QVBoxLayout(reason_host)
        reason_box.setContentsMargins(0, 0, 0, 0)
        reason_box.setSpacing(2)
        reason_box.addWidget(self.reason)
        reason_box.addWidget(self.reason_error)
        form.addRow("理由", reason_host)
        self.guidance = QPlainTextEdit()
        self.guidance.setTabChangesFocus(True)
        self.guidance.setMinimumHeight(72)
        self.guidance.setMaximumHeight(90)
        self.guidance_error = FieldError()
        guidance_host = QWidget()
        guidance_box = QVBoxLayout(guidance_host)
        guidance_box.setContentsMargins(0, 0, 0, 0)
        guidance_box.setSpacing(2)
        guidance_box.addWidget(self.guidance)
        guidance_box.addWidget(self.guidance_error)
        hint_line = QLabel("不填则印出灰字所示的默认说明")
        hint_line.setObjectName("hint")
        guidance_box.addWidget(hint_line)
        form.addRow("办理途径", guidance_host)
        layout.addLayout(form)
        layout.addStretch(1)

        buttons = QHBoxLayout()
        self.preview_button = QPushButton("预览告知书")
        self.confirm_button = QPushButton("确认并出具告知书")
        self.confirm_button.setObjectName("primary")
        self.cancel_button = QPushButton("取消")
        buttons.addStretch(1)
        buttons.addWidget(self.preview_button)
        buttons.addWidget(self.confirm_button)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)

        self.channel.currentIndexChanged.connect(self._channel_changed)
        self.preview_button.clicked.connect(self.preview)
        self.confirm_button.clicked.connect(self.confirm)
        self.cancel_button.clicked.connect(self.reject)
        self.reason.textChanged.connect(lambda: self.reason_error.set_message(None))
        self._channel_changed()
        self.reason.setFocus()

    # Input -------------------------------------------------------------------------------------

    def decision(self) -> ScreeningDecision:
        return next(d for d, radio in self.decision_radios.items() if radio.isChecked())

    def channel_value(self) -> ProperChannel:
        return ProperChannel(self.channel.currentData())

    def _channel_changed(self) -> None:
        """What to do in the chosen channel, as the notice will print it unless the clerk
        writes their own."""
        self.guidance.setPlaceholderText(CHANNEL_GUIDANCE[self.channel_value()])

    # Actions -----------------------------------------------------------------------------------

    def preview(self) -> SlipPreviewDialog:
        """The notice as it would be issued now (its number comes on 确认); nothing is saved."""
        screening = self._context.services.screening
        case_id, decision, channel = self.case_id, self.decision(), self.channel_value()
        reason, guidance = self.reason.toPlainText(), self.guidance.toPlainText()
        return self._show(
            lambda: screening.preview_pdf(case_id, decision, channel, reason, guidance),
            f"告知书预览 {self.case_number}",
        )

    def confirm(self) -> None:
        if self._busy:
            return
        if not self.reason.toPlainText().strip():
            self.reason_error.set_message("请写明不属于受理范围的理由，告知书上会印出")
            self.reason.setFocus()
            return
        decision = self.decision()
        answer = QMessageBox.question(
            self,
            decision.label,
            f"确定对事项 {self.case_number} {decision.label}吗？确认后事项结束，"
            "并生成编号的告知书，不能撤销。",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        services, actor = self._context.services, self._context.actor
        case_id, channel = self.case_id, self.channel_value()
        reason, guidance = self.reason.toPlainText(), self.guidance.toPlainText()
        self._busy = True
        self.confirm_button.setEnabled(False)
        Action(
            self._context,
            self,
            lambda: services.screening.screen_out(
                actor, case_id, decision, channel, reason, guidance=guidance
            ),
        ).success(self._done).on_invalid(self._invalid).finished(self._ended).run()

    def _invalid(self, exc: ValidationFailed) -> None:
        self.reason_error.set_message(exc.errors.get("reason"))
        self.guidance_error.set_message(exc.errors.get("guidance"))

    def _ended(self) -> None:
        self._busy = False
        self.confirm_button.setEnabled(self.screening_result is None)

    def _done(self, result: ScreeningResult) -> None:
        self.screening_result = result
        self.screened.emit(result)
        for widget in (self.preview_button, self.confirm_button):
            widget.setEnabled(False)
        self.cancel_button.setText("关闭")
        self._show(*notice_paper(self._context, self.case_id, result.notice))

    def _show(
        self, source: Callable[[], bytes], title: str, record: Recorder | None = None
    ) -> SlipPreviewDialog:
        dialog = SlipPreviewDialog(self._context, source, title, self, record=record)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.preview_dialog = dialog
        dialog.open()
        return dialog


def notice_paper(
    context: UiContext, case_id: int, notice: ScreeningNotice
) -> tuple[Callable[[], bytes], str, Recorder]:
    """The issued notice for the preview: its source, title, and the recorder that audits each
    printed or saved copy (打印告知书, then 补打告知书)."""
    services, actor = context.services, context.actor
    return (
        lambda: services.screening.notice_pdf(case_id),
        f"{notice.title} {notice.number}",
        lambda out, deliver: services.screening.record_notice_output(
            actor, case_id, out=out, deliver=deliver
        ),
    )


def may_screen_out(actor: Actor, status: CaseStatus) -> bool:
    """Whether the button is offered: a registered case, for whoever triages (the service also
    refuses a case something was assigned from)."""
    return status is CaseStatus.REGISTERED and actor.can(Permission.TRIAGE_CASE)


class ScreenOutButton(QPushButton):
    """不予受理/转办… beside the triage: opens the dialog for the case shown, and has the case
    read again once it ends (the hub tells the other screens)."""

    def __init__(
        self,
        context: UiContext,
        parent: QWidget,
        detail: Callable[[], CaseDetail | None],
        reload: Callable[[], None],
    ) -> None:
        super().__init__("不予受理/转办…", parent)
        self.setToolTip("不属于受理范围的事项：不予受理或转办，并出具告知书")
        self._context = context
        self._detail = detail
        self._reload = reload
        self.dialog: ScreeningDialog | None = None
        self.setEnabled(False)  # until the case has been read
        self.clicked.connect(self._open)

    def _open(self) -> None:
        shown = self._detail()
        if shown is None:
            return
        dialog = ScreeningDialog(self._context, shown.id, shown.number, self.window())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.screened.connect(lambda _result: self._reload())
        self.dialog = dialog
        dialog.open()
