"""One case: all its fields, triage, conclusion, return visit, materials and the timeline."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.documents.screening_notice import ScreeningNotice
from desktop_app.domain.permissions import Permission
from desktop_app.domain.vocabulary import (
    APPROACH_HINTS,
    NATURE_HINTS,
    Approach,
    CaseStatus,
    ComplainantKind,
    Nature,
    Outcome,
    ReplyMethod,
    VisitContact,
    VisitGrade,
    VisitReason,
    chinese_date,
)
from desktop_app.errors import ChangedElsewhere, UserError, ValidationFailed
from desktop_app.services.cases import (
    REVEAL_PERMISSION,
    CaseDetail,
    RevealedNumbers,
    Triage,
)
from desktop_app.services.context import Changes
from desktop_app.services.site import DepartmentInfo
from desktop_app.ui.assignment_panel import AssignmentPanel
from desktop_app.ui.basis_dialog import BasisDialog
from desktop_app.ui.case_table import STATUS_COLOURS
from desktop_app.ui.cause_boxes import CauseBoxes
from desktop_app.ui.common import FieldError, UiContext, heading, show_error
from desktop_app.ui.correction_dialog import (
    CorrectionData,
    CorrectionDialog,
    mark_invalid,
    steady_error,
)
from desktop_app.ui.flow_layout import FlowLayout
from desktop_app.ui.onsite_dialog import OnsiteDialog
from desktop_app.ui.operations import Action, Query
from desktop_app.ui.referral_dialogs import ProposeButton
from desktop_app.ui.reply_dialog import ReplyDialog
from desktop_app.ui.screen import size_to_screen
from desktop_app.ui.screening_dialog import ScreenOutButton, may_screen_out
from desktop_app.ui.theme import GREEN

PLEASE_CHOOSE = "请选择…"
BANNER_STYLE = "background:#fff4e5;color:#8a4b00;border:1px solid #f0c27b;padding:6px 10px;"


def _scrolling(page: QWidget) -> QScrollArea:
    """``page`` in a frameless scroll area: a long tab scrolls on a small screen."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    scroll.setWidget(page)
    return scroll


def _deadline_text(d: CaseDetail) -> str:
    if d.due_date is None:
        return "未甄别，尚无期限"
    text = chinese_date(d.due_date)
    if d.due_rule is not None:
        text += f"（{d.due_rule.label}）"
    if d.due_provisional:
        text += "，暂定：该年节假日安排尚未录入"
    return text


def _basis_text(d: CaseDetail) -> str:
    if d.basis_received_on is not None:
        return f"{chinese_date(d.basis_received_on)}收到，{d.basis_signed_by}签字"
    if d.basis_waived_reason:
        return f"已由{d.basis_waived_by}免除：{d.basis_waived_reason}"
    return "尚未收到（办结后仍在期限日历上，直至收到或免除）"


def _visit_attempts_text(d: CaseDetail) -> str:
    text = f"{d.visit_attempts} 次"
    if d.visit_retry_on is not None and d.status is CaseStatus.CONCLUDED:
        text += f"，未联系上，{chinese_date(d.visit_retry_on)}再次回访"
    return text


def _path_status(d: CaseDetail) -> str:
    """One line per thing still owed on the case path, or done."""
    lines: list[str] = []
    if d.basis_due_date is not None:
        lines.append(f"书面依据（{chinese_date(d.basis_due_date)}前）：{_basis_text(d)}")
    if d.replied_at is not None:
        method = d.reply_method.label if d.reply_method else "答复"
        lines.append(f"最近答复：{chinese_date(d.replied_at, parts='date_time')}，{method}")
    elif d.status is CaseStatus.IN_PROGRESS:
        lines.append("尚未答复反映人")
    if d.visit_attempts:
        lines.append(f"回访：{_visit_attempts_text(d)}")
    if d.open_assignments:
        lines.append(f"未办结的交办：{'、'.join(d.open_assignments)}")
    return "\n".join(lines)


@dataclass(frozen=True)
class _CaseRead:
    """What the dialog shows, read on the worker in one go."""

    detail: CaseDetail
    deadline_proof: list[str]
    areas: list[str] | None  # the 领域 choices: read once, when the dialog opens
    stamp: tuple[int, int, int]  # CaseService.stamp_of as it was read


# The most of a case's title its dialog's header shows (two lines at its first width).
HEADER_TITLE_CHARS = 40


class CaseDetailDialog(QDialog):
    """Opens at once and shows the case when it has been read on the worker (``is_loading``)."""

    def __init__(self, context: UiContext, case_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._context = context
        self.case_id = case_id
        self.detail: CaseDetail | None = None  # None until the first read arrives
        self._stamp: tuple[int, int, int] | None = None  # what it showed was read at
        self._compare_after_read = False  # a change was told while a read was under way
        self._reads = 0  # reads of the case asked of the worker and not answered yet
        self._shown_status: CaseStatus | None = None  # the status the 办结/回访 inputs are for
        self._printed_request = 0  # the latest printed_differences asked of the worker
        self._correction_loading = False  # 更正…'s data is being read on the worker
        self.correction_dialog: CorrectionDialog | None = None
        # Field key → (its error line, the widget it is about), per action on the case.
        self._field_errors: dict[str, tuple[FieldError, QWidget]] = {}
        size_to_screen(self, 980, 700)
        layout = QVBoxLayout(self)
        header = QHBoxLayout()
        self.title_label = heading("正在读取……")
        self.title_label.setWordWrap(True)
        header.addWidget(self.title_label, 1)
        self.status_label = QLabel("")
        self.status_label.setStyleSheet("font-size:13pt;font-weight:bold;padding:4px 10px;")
        header.addWidget(self.status_label)
        layout.addLayout(header)
        # At the city, a county's case: shown in full, changed only by the county.
        self.read_only_banner = QLabel("")
        self.read_only_banner.setObjectName("warningBanner")
        self.read_only_banner.setStyleSheet(BANNER_STYLE)
        self.read_only_banner.setWordWrap(True)
        self.read_only_banner.setVisible(False)
        layout.addWidget(self.read_only_banner)
        # Another seat (or window) changed the case while it is open here: said, not read over
        # what the clerk may be typing; 刷新 reads it again.
        self.stale_banner = QWidget()
        stale = QHBoxLayout(self.stale_banner)
        stale.setContentsMargins(0, 0, 0, 0)
        stale_text = QLabel("此事项刚在其他席位或窗口被修改，这里显示的不是最新情况。")
        stale_text.setStyleSheet(BANNER_STYLE)
        stale_text.setWordWrap(True)
        stale.addWidget(stale_text, 1)
        self.refresh_button = QPushButton("刷新")
        self.refresh_button.clicked.connect(self._refresh_clicked)
        stale.addWidget(self.refresh_button)
        self.stale_banner.setVisible(False)
        layout.addWidget(self.stale_banner)
        context.hub.changed.connect(self._changed_somewhere)

        self.tabs = QTabWidget()
        layout.addWidget(self.tabs, 1)
        self.tabs.addTab(self._build_info(), "基本信息")
        self.tabs.addTab(_scrolling(self._build_triage()), "甄别分类")
        # The case is asked for before the panel asks for its assignments: one worker answers in
        # order, so the header is there before the 交办 tab fills.
        self._read(with_areas=True)
        self.assignments = AssignmentPanel(context, case_id)
        self.assignments.set_read_only(True)  # until the case says whether it may be changed
        # The panel reloads itself after its own steps; the case header and timeline follow.
        self.assignments.changed.connect(lambda _changes: self.reload(assignments=False))
        self.assignments.awaiting_signature.connect(self._show_draft_to_sign)
        self.tabs.addTab(self.assignments, "交办")
        self.tabs.addTab(_scrolling(self._build_handling()), "办结与回访")
        self.tabs.addTab(self._build_materials(), "材料")
        self.timeline = QTreeWidget()
        self.timeline.setHeaderLabels(["时间", "环节", "内容", "经办人"])
        self.timeline.setRootIsDecorated(False)
        self.timeline.setWordWrap(True)
        self.timeline.setColumnWidth(0, 140)
        self.timeline.setColumnWidth(1, 80)
        self.timeline.setColumnWidth(2, 560)
        self.tabs.addTab(self.timeline, "办理记录")
        self.proof = QPlainTextEdit()
        self.proof.setReadOnly(True)
        self.tabs.addTab(self.proof, "期限依据")

        close = QPushButton("关闭（Esc）")
        close.clicked.connect(self.accept)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(close)
        layout.addLayout(bottom)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        escape.activated.connect(self.accept)
        # Nothing is offered until the case has been read.
        for button in (
            self.correct_button,
            self.triage_button,
            self.conclude_button,
            self.visit_button,
            self.withdraw_button,
            self.add_material_button,
            self.onsite_button,
            self.basis_button,
            self.reply_button,
        ):
            button.setEnabled(False)
        self.step_dialog: QDialog | None = None  # the open 现场督办/书面依据/答复 form, if any
        self.notice_dialog: QDialog | None = None  # the 告知书 of a matter screened out

    # Building ------------------------------------------------------------------------------

    def _build_info(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        # Papers issued before a correction print what was wrong: said here, never rewritten.
        self.printed_banner = QLabel("")
        self.printed_banner.setObjectName("printedBanner")
        self.printed_banner.setStyleSheet(BANNER_STYLE)
        self.printed_banner.setWordWrap(True)
        self.printed_banner.setVisible(False)
        layout.addWidget(self.printed_banner)
        self.info = QWidget()
        self.info_grid = QGridLayout(self.info)
        self.info_values: dict[str, QLabel] = {}  # each row's value, by its label
        layout.addWidget(_scrolling(self.info), 1)
        row = QHBoxLayout()
        self.correct_button = QPushButton("更正…")
        self.correct_button.setToolTip("改正登记时录错的事项或反映人信息（需写明原因）")
        self.correct_button.clicked.connect(self._correct_clicked)
        row.addWidget(self.correct_button)
        # The numbers are shown masked; the full ones for those allowed, on the audit log.
        self.reveal_button = QPushButton("显示完整号码")
        self.reveal_button.setToolTip("显示反映人完整的证件号码和联系电话（此操作记入审计日志）")
        self.reveal_button.clicked.connect(self._reveal_clicked)
        self.reveal_button.setEnabled(False)
        row.addWidget(self.reveal_button)
        self.propose_referral_button = ProposeButton(
            self._context, lambda: self.case_id, self, after=self.reload
        )
        row.addWidget(self.propose_referral_button)  # 提出问责… (issue 16, ui/referral_dialogs)
        row.addStretch(1)
        layout.addLayout(row)
        return page

    def _build_triage(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setVerticalSpacing(2)
        # No pre-selected answer: a hurried click must not record 不给办 / 马上办.
        self.nature = QComboBox()
        self.nature.setPlaceholderText(PLEASE_CHOOSE)
        for nature in Nature:
            self.nature.addItem(f"{nature.label}　— {NATURE_HINTS[nature]}", nature.value)
        self.nature.setCurrentIndex(-1)
        self.approach = QComboBox()
        self.approach.setPlaceholderText(PLEASE_CHOOSE)
        for approach in Approach:
            self.approach.addItem(f"{approach.label}　— {APPROACH_HINTS[approach]}", approach.value)
        self.approach.setCurrentIndex(-1)
        causes_host = self.cause_boxes = CauseBoxes(self._context)  # the site's cause codes
        self.cause_boxes.toggled.connect(lambda: self._field_edited("causes"))
        self.triage_area = QComboBox()
        self.triage_area.setPlaceholderText(PLEASE_CHOOSE)  # filled when the case is read
        self.triage_note = QLineEdit()
        self.triage_note.setPlaceholderText("甄别说明（可不填）")
        self.triage_error = steady_error()
        self.triage_saved = QLabel("")
        self.triage_saved.setObjectName("savedLine")
        self.triage_saved.setStyleSheet(f"color:{GREEN};font-weight:bold;")
        self.triage_saved.setWordWrap(True)
        self.triage_button = QPushButton("保存甄别分类")
        self.triage_button.setObjectName("primary")
        self.triage_button.clicked.connect(self._save_triage_clicked)
        self._field_row(form, "nature", "问题性质", self.nature)
        self._field_row(form, "approach", "处置方式", self.approach)
        self._field_row(form, "causes", "受阻原因", causes_host)
        self._field_row(form, "area", "领域", self.triage_area)
        form.addRow("说明", self.triage_note)
        form.addRow("", self.triage_error)
        form.addRow("", self.triage_button)
        self.screen_out_button = ScreenOutButton(
            self._context, self, lambda: self.detail, self.reload
        )
        form.addRow("", self.screen_out_button)
        # A matter screened out has its notice: shown again here, and printed as a 补打.
        self.notice_button = QPushButton("告知书（查看、补打）…")
        self.notice_button.clicked.connect(self._notice_clicked)
        self.notice_button.setVisible(False)
        form.addRow("", self.notice_button)
        form.addRow("", self.triage_saved)
        return page

    def _show_draft_to_sign(self) -> None:
        """A duty leader opening a case whose draft waits for them (待签发): its 交办 tab, the
        draft selected, 签发 focused (Enter or Alt+S asks to confirm)."""
        if self.tabs.currentIndex() == 0:  # not if the user has gone elsewhere meanwhile
            self.tabs.setCurrentWidget(self.assignments)
            self.assignments.sign_button.setFocus()

    def _notice_clicked(self) -> None:
        self.open_notice()

    def open_notice(self) -> None:
        """The issued 告知书 in the preview (read on the worker); each copy is audited."""
        from desktop_app.ui.screening_dialog import notice_paper
        from desktop_app.ui.slip_preview import SlipPreviewDialog

        case_id, screening = self.case_id, self._context.services.screening

        def show(notice: ScreeningNotice) -> None:
            source, title, record = notice_paper(self._context, case_id, notice)
            dialog = SlipPreviewDialog(self._context, source, title, self, record=record)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.notice_dialog = dialog
            dialog.open()

        Query(self._context.runner, self, lambda: screening.notice(case_id), show).run()

    def _field_row(self, form: QFormLayout, key: str, label: str, widget: QWidget) -> None:
        """A form row with its own error line beneath, which keeps its place when empty."""
        host = QWidget()
        box = QVBoxLayout(host)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(widget)
        error = steady_error()
        box.addWidget(error)
        self._field_errors[key] = (error, widget)
        form.addRow(label, host)
        if isinstance(widget, QComboBox):
            widget.currentIndexChanged.connect(lambda _index: self._field_edited(key))
        elif isinstance(widget, QLineEdit):
            widget.textChanged.connect(lambda _text: self._field_edited(key))
        elif isinstance(widget, QPlainTextEdit):
            widget.textChanged.connect(lambda: self._field_edited(key))

    def _build_handling(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        # Steps of their own (issue 16): each opens a small form and lands on the timeline.
        layout.addWidget(heading("督办、书面依据与答复", 11))
        steps = QHBoxLayout()
        self.onsite_button = QPushButton("现场督办…")
        self.onsite_button.setToolTip("记录带班领导到部门窗口现场督办：时间、地点、结果")
        self.onsite_button.clicked.connect(self._onsite_clicked)
        self.basis_button = QPushButton("书面依据…")
        self.basis_button.setToolTip("“办不了”的事项：登记部门书面依据已收到，或由带班领导免除")
        self.basis_button.clicked.connect(self._basis_clicked)
        self.reply_button = QPushButton("答复反映人…")
        self.reply_button.setToolTip("记录一次答复当事人：时间、方式、内容（办结前后均可）")
        self.reply_button.clicked.connect(self._reply_clicked)
        for button in (self.onsite_button, self.basis_button, self.reply_button):
            steps.addWidget(button)
        steps.addStretch(1)
        layout.addLayout(steps)
        self.path_status = QLabel("")
        self.path_status.setObjectName("pathStatus")
        self.path_status.setWordWrap(True)
        layout.addWidget(self.path_status)

        layout.addWidget(heading("办结（当场办结、解释答疑或部门办理完毕后）", 11))
        conclude = QFormLayout()
        conclude.setVerticalSpacing(2)
        # No pre-selected outcome either: 已办结 or 解释答疑 is chosen for this case.
        self.outcome = QComboBox()
        self.outcome.setPlaceholderText(PLEASE_CHOOSE)
        for outcome in (Outcome.DONE, Outcome.EXPLAINED):
            self.outcome.addItem(outcome.label, outcome.value)
        self.outcome.setCurrentIndex(-1)
        self.what_done = QPlainTextEdit()
        self.what_done.setTabChangesFocus(True)
        self.what_done.setMaximumHeight(70)
        self.what_done.setPlaceholderText("办理情况：做了什么、结果如何")
        # Nor a pre-selected way of replying (当面答复 was saved for a reply made by phone): the
        # one recorded with 答复反映人… if there is one, else chosen.
        self.reply_method = QComboBox()
        self.reply_method.setPlaceholderText(PLEASE_CHOOSE)
        for method in ReplyMethod:
            self.reply_method.addItem(method.label, method.value)
        self.reply_method.setCurrentIndex(-1)
        self.reply_text = QLineEdit()
        self.reply_text.setPlaceholderText("答复当事人的内容")
        self.conclude_error = FieldError()
        self.conclude_button = QPushButton("办结")
        self.conclude_button.clicked.connect(self._conclude_clicked)
        self._field_row(conclude, "outcome", "办理结果", self.outcome)
        self._field_row(conclude, "what_was_done", "办理情况", self.what_done)
        self._field_row(conclude, "reply_method", "答复方式", self.reply_method)
        self._field_row(conclude, "reply_text", "答复内容", self.reply_text)
        # Offered only while an assignment is open: concluding over it needs a reason.
        self.close_reason = QLineEdit()
        self.close_reason.setPlaceholderText(
            "仍有交办未办结；确需办结，请写明理由（交办将随办结关闭）"
        )
        self._field_row(conclude, "close_reason", "办结理由", self.close_reason)
        self._conclude_form = conclude
        close_reason_row = self.close_reason.parentWidget()
        assert close_reason_row is not None
        self._close_reason_row = close_reason_row
        conclude.setRowVisible(close_reason_row, False)
        conclude.addRow("", self.conclude_error)
        conclude.addRow("", self.conclude_button)
        layout.addLayout(conclude)

        layout.addWidget(heading("回访核查", 11))
        visit = QFormLayout()
        visit.setVerticalSpacing(2)
        # Each call is recorded: an unreached person goes on the 待重拨 list.
        self.contact = QComboBox()
        for contact in VisitContact:
            self.contact.addItem(contact.label, contact.value)
        self.contact.currentIndexChanged.connect(self._contact_changed)
        visit.addRow("联系情况", self.contact)
        # No pre-selected grade: 非常满意 must be what the complainant said, not the default.
        self.grade = QComboBox()
        self.grade.setPlaceholderText(PLEASE_CHOOSE)
        for grade in VisitGrade:
            self.grade.addItem(grade.label, grade.value)
        self.grade.setCurrentIndex(-1)
        self.visit_note = QLineEdit()
        self.visit_note.setPlaceholderText("回访情况；不满意时写明原因（将重办）")
        self.visit_error = FieldError()
        self.visit_button = QPushButton("记录回访")
        self.visit_button.clicked.connect(self._visit_clicked)
        self._field_row(visit, "grade", "评价", self.grade)
        reasons_host = QWidget()
        reasons = FlowLayout(reasons_host, last_to_right=False, scrolled=True)
        reasons.setContentsMargins(0, 0, 0, 0)
        self.reason_boxes: dict[VisitReason, QCheckBox] = {}
        for reason in VisitReason:
            box = QCheckBox(reason.label)
            self.reason_boxes[reason] = box
            reasons.addWidget(box)
        visit.addRow("评价原因", reasons_host)
        self._field_row(visit, "note", "说明", self.visit_note)
        visit.addRow("", self.visit_error)
        visit.addRow("", self.visit_button)
        layout.addLayout(visit)

        layout.addWidget(heading("撤回", 11))
        withdraw = QHBoxLayout()
        self.withdraw_reason = QLineEdit()
        self.withdraw_reason.setPlaceholderText("当事人撤回的原因")
        self.withdraw_button = QPushButton("撤回事项")
        self.withdraw_button.clicked.connect(self._withdraw_clicked)
        self.withdraw_error = FieldError()
        self.withdraw_reason.textChanged.connect(
            lambda text: self.withdraw_error.set_message(None) if text.strip() else None
        )
        withdraw.addWidget(self.withdraw_reason, 1)
        withdraw.addWidget(self.withdraw_button)
        layout.addLayout(withdraw)
        layout.addWidget(self.withdraw_error)
        layout.addStretch(1)
        return page

    def _build_materials(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.materials = QListWidget()
        self.materials.itemDoubleClicked.connect(self._open_material)
        layout.addWidget(self.materials, 1)
        row = QHBoxLayout()
        self.open_material_button = QPushButton("打开")
        self.open_material_button.clicked.connect(
            lambda: self._open_material(self.materials.currentItem())
        )
        self.add_material_button = QPushButton("添加材料…")
        self.add_material_button.clicked.connect(self._add_material_clicked)
        row.addWidget(self.open_material_button)
        row.addWidget(self.add_material_button)
        row.addStretch(1)
        layout.addLayout(row)
        return page

    # Rendering -----------------------------------------------------------------------------

    def _render(self, d: CaseDetail, deadline_proof: list[str]) -> None:
        self.read_only_banner.setText(d.read_only_reason)
        self.read_only_banner.setVisible(bool(d.read_only_reason))
        self.assignments.set_read_only(bool(d.read_only_reason))
        self.setWindowTitle(f"事项 {d.number}")
        # A title of up to 200 characters wrapped to five lines over every tab: cut in the
        # header (whole in its tooltip and on 基本信息).
        cut = len(d.title) > HEADER_TITLE_CHARS
        shown = d.title[: HEADER_TITLE_CHARS - 1] + "…" if cut else d.title
        self.title_label.setText(f"{d.number}　{shown}")
        self.title_label.setToolTip(d.title if cut else "")
        self.status_label.setText(d.status.label)
        colour = STATUS_COLOURS[d.status].name()
        self.status_label.setStyleSheet(
            f"font-size:13pt;font-weight:bold;padding:4px 10px;color:white;"
            f"background:{colour};border-radius:4px;"
        )
        person = d.complainant_kind is ComplainantKind.PERSON
        rows: list[tuple[str, str]] = [("反映事项", d.title)] if cut else []
        rows += [
            ("反映人", f"{d.complainant_name}（{d.complainant_kind.label}）"),
            (
                "身份证号" if person else "统一社会信用代码",
                d.id_number_masked or d.credit_code or "—",
            ),
        ]
        if not person:
            rows.append(("联系人", d.contact_person or "—"))
        rows += [
            ("联系电话", d.phone),
            ("地址", d.address or "—"),
            ("反映时间", chinese_date(d.received_at, parts="date_time")),
            ("来源渠道", d.channel.label),
            ("往返次数", f"{d.visits_count} 次"),
            ("领域", d.area),
            ("受阻部门", d.stuck_department or "—"),
            ("受阻环节", d.stuck_at or "—"),
            ("问题性质", d.nature.label if d.nature else "未甄别"),
            ("处置方式", d.approach.label if d.approach else "未甄别"),
            ("受阻原因", "、".join(self.cause_boxes.label(c) for c in d.causes) or "—"),
            ("办理时限", _deadline_text(d)),
            ("办理结果", d.outcome.label if d.outcome else "—"),
            ("回访评价", d.visit_grade.label if d.visit_grade else "—"),
        ]
        if d.basis_due_date:
            rows.append(("书面依据期限", chinese_date(d.basis_due_date)))
            rows.append(("书面依据", _basis_text(d)))
        if d.replied_at:
            method = d.reply_method.label if d.reply_method else "答复"
            rows.append(("最近答复", f"{chinese_date(d.replied_at, parts='date_time')}{method}"))
        if d.visit_attempts:
            rows.append(("回访次数", _visit_attempts_text(d)))
        if d.visit_due_date and d.status is CaseStatus.CONCLUDED:
            rows.append(("回访期限", chinese_date(d.visit_due_date)))
        if d.linked_case_number:
            rows.append(("关联原事项", d.linked_case_number))
        if d.id_override_reason:
            rows.append(("证件号确认理由", d.id_override_reason))
        rows += d.front_door  # 代办人、被反映对象、专项活动、甄别结论 (issue 16)
        if d.issue_class:
            rows.append(("一类事", d.issue_class))
        while self.info_grid.count():
            old = self.info_grid.takeAt(0)
            old_widget = old.widget() if old is not None else None
            if old_widget is not None:
                old_widget.deleteLater()
        self.info_values = {}
        for index, (label, value) in enumerate(rows):
            row, column = divmod(index, 2)
            name = QLabel(f"{label}：")
            name.setObjectName("hint")
            text = QLabel(value)
            self.info_values[label] = text
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            text.setWordWrap(True)
            self.info_grid.addWidget(name, row, column * 2, Qt.AlignmentFlag.AlignRight)
            self.info_grid.addWidget(text, row, column * 2 + 1)
        description_row = (len(rows) + 1) // 2
        description_label = QLabel("具体情况：")
        description_label.setObjectName("hint")
        self.info_grid.addWidget(description_label, description_row, 0, Qt.AlignmentFlag.AlignTop)
        description = QLabel(d.description)
        description.setWordWrap(True)
        description.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.info_grid.addWidget(description, description_row, 1, 1, 3)
        self.info_grid.setColumnStretch(1, 1)
        self.info_grid.setColumnStretch(3, 1)
        self.info_grid.setRowStretch(description_row + 1, 1)

        if d.nature:
            self.nature.setCurrentIndex(self.nature.findData(d.nature.value))
        if d.approach:
            self.approach.setCurrentIndex(self.approach.findData(d.approach.value))
        self.cause_boxes.set_checked(d.causes)
        self.triage_area.setCurrentIndex(self.triage_area.findData(d.area))
        # The 办结/回访 inputs show the stored answer once given; when the status changes (a
        # 不满意 visit reopens the case, it is concluded again) they start empty, so the next
        # visit's grade is what the complainant says then, not the last one.
        status_changed = d.status is not self._shown_status
        self._shown_status = d.status
        if d.status is CaseStatus.VISITED and d.visit_grade:
            self.grade.setCurrentIndex(self.grade.findData(d.visit_grade.value))
            for reason, box in self.reason_boxes.items():
                box.setChecked(reason in d.visit_reasons)
        elif status_changed:
            self.grade.setCurrentIndex(-1)
            self.visit_note.clear()
            for box in self.reason_boxes.values():
                box.setChecked(False)
        if status_changed or d.visit_retry_on is not None:
            self.contact.setCurrentIndex(0)  # 已联系上: each call starts as one that got through
        self._conclude_form.setRowVisible(self._close_reason_row, bool(d.open_assignments))
        self.close_reason.setToolTip("、".join(d.open_assignments))
        self.path_status.setText(_path_status(d))
        if d.status in (CaseStatus.CONCLUDED, CaseStatus.VISITED) and d.outcome:
            self.outcome.setCurrentIndex(self.outcome.findData(d.outcome.value))
            # With what was recorded beside it, not empty boxes under a chosen 办成.
            what_was_done, reply_text = d.conclusion_texts
            if what_was_done or reply_text:
                self.what_done.setPlainText(what_was_done)
                self.reply_text.setText(reply_text)
        elif status_changed:  # a new round (重办) starts empty, as a freshly opened dialog
            self.outcome.setCurrentIndex(-1)
            self.what_done.clear()
            self.reply_text.clear()
        # The way the complainant was last answered, unless the clerk has chosen one: a reload
        # (a step on the 交办 tab, another seat's change) must not undo the choice.
        if status_changed or self.reply_method.currentIndex() < 0:
            self.reply_method.setCurrentIndex(
                self.reply_method.findData(d.reply_method.value) if d.reply_method else -1
            )

        self._load_printed_differences()

        self.materials.clear()
        for attachment in d.attachments:
            material = QListWidgetItem(
                f"{attachment.filename}　{attachment.size / 1024:.0f} KB　"
                f"{attachment.added_at:%Y-%m-%d %H:%M}　{attachment.added_by}"
            )
            material.setData(Qt.ItemDataRole.UserRole, (attachment.sha256, attachment.filename))
            self.materials.addItem(material)
        if not d.attachments:
            self.materials.addItem("（暂无材料）")

        self.proof.setPlainText(
            "\n".join(deadline_proof)
            if deadline_proof
            else "尚未甄别分类，还没有办理时限。甄别后按期限规则计算。"
        )
        self.timeline.clear()
        for entry in d.timeline:
            step = QTreeWidgetItem(
                [entry.at.strftime("%Y-%m-%d %H:%M"), entry.label, entry.summary, entry.user_name]
            )
            step.setToolTip(2, entry.summary)
            self.timeline.addTopLevelItem(step)

        actor = self._context.actor
        writable = not d.read_only_reason
        open_case = writable and d.status in (CaseStatus.REGISTERED, CaseStatus.IN_PROGRESS)
        self.triage_button.setEnabled(open_case and actor.can(Permission.TRIAGE_CASE))
        self.screen_out_button.setEnabled(open_case and may_screen_out(actor, d.status))
        self.notice_button.setVisible(d.status is CaseStatus.SCREENED_OUT)
        self.conclude_button.setEnabled(open_case and actor.can(Permission.CONCLUDE_CASE))
        self.visit_button.setEnabled(
            writable and d.status is CaseStatus.CONCLUDED and actor.can(Permission.VISIT_CASE)
        )
        self.withdraw_button.setEnabled(open_case and actor.can(Permission.WITHDRAW_CASE))
        self.onsite_button.setEnabled(open_case and actor.can(Permission.TRIAGE_CASE))
        self.basis_button.setEnabled(
            writable
            and d.basis_missing
            and d.status in (CaseStatus.IN_PROGRESS, CaseStatus.CONCLUDED, CaseStatus.VISITED)
            and (actor.can(Permission.TRIAGE_CASE) or actor.can(Permission.WAIVE_BASIS))
        )
        self.reply_button.setEnabled(
            writable
            and d.status in (CaseStatus.IN_PROGRESS, CaseStatus.CONCLUDED, CaseStatus.VISITED)
            and actor.can(Permission.CONCLUDE_CASE)
        )
        self.add_material_button.setEnabled(writable and actor.can(Permission.REGISTER_CASE))
        # At the city a county's case is only read: its referrals are the county's to propose.
        self.propose_referral_button.setEnabled(writable)
        if not writable:
            self.propose_referral_button.setToolTip(d.read_only_reason)
        self._render_correct_button()
        self._render_reveal_button()

    def _render_reveal_button(self) -> None:
        d = self.detail
        self.reveal_button.setEnabled(
            d is not None
            and bool(d.id_number_masked or d.phone)
            and self._context.actor.can(REVEAL_PERMISSION)
        )

    def _reveal_clicked(self) -> None:
        cases, actor, case_id = self._context.services.cases, self._context.actor, self.case_id
        self.reveal_button.setEnabled(False)
        Action(self._context, self, lambda: cases.reveal_numbers(actor, case_id)).success(
            self._show_revealed
        ).run()

    def _show_revealed(self, shown: RevealedNumbers) -> None:
        """The full numbers in place of the masked ones, until the case is read again."""
        if shown.id_number and "身份证号" in self.info_values:
            self.info_values["身份证号"].setText(shown.id_number)
        if shown.phone and "联系电话" in self.info_values:
            self.info_values["联系电话"].setText(shown.phone)

    def _render_correct_button(self) -> None:
        self.correct_button.setEnabled(
            not self._correction_loading
            and self.detail is not None
            and not self.detail.read_only_reason
            and self._context.actor.can(Permission.REGISTER_CASE)
        )

    def _load_printed_differences(self) -> None:
        """What changed since each slip was printed: every slip's JSON is read, so on the
        worker; only the latest request's answer is shown."""
        self._printed_request += 1
        request = self._printed_request
        corrections, case_id = self._context.services.corrections, self.case_id

        def show(printed: list[str]) -> None:
            if request != self._printed_request:  # a later request's answer is coming
                return
            self.printed_banner.setText("\n".join(printed))
            self.printed_banner.setVisible(bool(printed))

        Query(
            self._context.runner, self, lambda: corrections.printed_differences(case_id), show
        ).run()

    @property
    def is_loading(self) -> bool:
        """A read of the case or of its assignments has not been answered yet."""
        return self._reads > 0 or self.assignments.is_loading

    def reload(self, *, assignments: bool = True, then: Callable[[], None] | None = None) -> None:
        """Reads the case again on the worker; ``then`` runs once it is shown."""
        self._read(with_areas=False, then=then)
        if assignments:
            self.assignments.reload()

    def _read(self, *, with_areas: bool, then: Callable[[], None] | None = None) -> None:
        cases, site, case_id = (
            self._context.services.cases,
            self._context.services.site,
            self.case_id,
        )

        def read() -> _CaseRead:
            stamp = cases.stamp_of(case_id)  # first: a change after it shows as one
            return _CaseRead(
                cases.detail(case_id),
                cases.deadline_proof(case_id),
                site.areas() if with_areas else None,
                stamp,
            )

        def show(answer: _CaseRead) -> None:
            if answer.areas is not None:
                for area in answer.areas:
                    self.triage_area.addItem(area, area)
            self.detail = answer.detail
            self._stamp = answer.stamp
            self.stale_banner.setVisible(False)
            if self._compare_after_read:
                self._compare_after_read = False
                self._compare_stamp()
            self._render(answer.detail, answer.deadline_proof)
            if then is not None:
                then()

        def failed(exc: Exception) -> None:
            show_error(self, exc)
            if self.detail is None:  # nothing to show: the case could not be read
                self.reject()

        self._reads += 1
        Query(self._context.runner, self, read, show).failure(failed).finished(
            self._read_answered
        ).run()

    def _read_answered(self) -> None:
        self._reads -= 1

    def _changed_somewhere(self, changes: Changes) -> None:
        """A change published for this case (by a step here, or found by the seat watch): the
        banner, if the case's version is no longer the one shown."""
        if self.case_id not in changes.case_ids:
            return
        if self._stamp is None or self.is_loading:
            # Compared once the read under way is shown: the change may have come after it.
            self._compare_after_read = True
            return
        self._compare_stamp()

    def _compare_stamp(self) -> None:
        if self._stamp is None:
            return
        cases, case_id, shown = self._context.services.cases, self.case_id, self._stamp

        def compare(stamp: tuple[int, int, int]) -> None:
            if not self.is_loading and self._stamp == shown:
                self.stale_banner.setVisible(stamp != shown)

        Query(self._context.runner, self, lambda: cases.stamp_of(case_id), compare).run()

    def _refresh_clicked(self) -> None:
        self.reload()

    # Actions -------------------------------------------------------------------------------
    # Buttons connect to these small slots: ``clicked(bool)`` must never reach a method that
    # takes optional arguments.

    def _save_triage_clicked(self) -> None:
        self.save_triage()

    def _conclude_clicked(self) -> None:
        self.conclude()

    def _visit_clicked(self) -> None:
        self.record_visit()

    def _onsite_clicked(self) -> None:
        self.open_onsite()

    def _basis_clicked(self) -> None:
        self.open_step(BasisDialog(self._context, self.case_id, self))

    def _reply_clicked(self) -> None:
        self.open_step(ReplyDialog(self._context, self.case_id, self))

    def open_onsite(self) -> None:
        """现场督办…: the departments are read on the worker, then the form opens; the
        department the case is with is chosen to begin with."""
        site, d = self._context.services.site, self.detail
        lead = next(
            (a.department_id for a in reversed(self.assignments.assignments) if a.outstanding),
            None,
        )

        def loaded(departments: list[DepartmentInfo]) -> None:
            if not self.isVisible():
                return
            named = lead
            if named is None and d is not None and d.stuck_department:
                named = next((x.id for x in departments if x.name == d.stuck_department), None)
            self.open_step(OnsiteDialog(self._context, self.case_id, departments, named, self))

        Query(self._context.runner, self, site.departments, loaded).run()

    def open_step(self, dialog: QDialog) -> None:
        """A step's form over this dialog; the case is read again once it is saved."""
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.reload())
        self.step_dialog = dialog
        dialog.open()

    def _contact_changed(self) -> None:
        """An unreached call has no grade or reasons: only the attempt is recorded."""
        reached = self.contact.currentData() == VisitContact.REACHED.value
        self.grade.setEnabled(reached)
        for box in self.reason_boxes.values():
            box.setEnabled(reached)
        refused = self.contact.currentData() == VisitContact.REFUSED.value
        if reached:
            self.visit_button.setText("记录回访")
        elif refused:
            self.visit_button.setText("记录拒绝回访（回访结束）")
        else:
            self.visit_button.setText("记录未联系上（待重拨）")

    def _withdraw_clicked(self) -> None:
        self.withdraw()

    def _add_material_clicked(self) -> None:
        self._add_material()

    def _correct_clicked(self) -> None:
        self.open_correction()

    def open_correction(self) -> None:
        """更正…: what the correction dialog shows is read on the worker, then the dialog opens
        over this one; the case reloads when it is saved."""
        if self._correction_loading:
            return
        self._correction_loading = True
        self.correct_button.setEnabled(False)
        services, actor, case_id = self._context.services, self._context.actor, self.case_id

        def loaded(data: CorrectionData) -> None:
            self._correction_loaded()
            if not self.isVisible():
                return
            dialog = CorrectionDialog(self._context, self.case_id, data, self)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.accepted.connect(self._corrected)
            self.correction_dialog = dialog
            dialog.open()

        Query(
            self._context.runner,
            self,
            lambda: CorrectionData.load(services, actor, case_id),
            loaded,
        ).finished(self._correction_loaded).run()

    def _correction_loaded(self) -> None:
        self._correction_loading = False
        self._render_correct_button()

    def _corrected(self) -> None:
        self.reload()
        self.tabs.setCurrentIndex(0)

    def save_triage(self) -> None:
        errors: dict[str, str] = {}
        if self.nature.currentIndex() < 0:
            errors["nature"] = "请选择问题性质"
        if self.approach.currentIndex() < 0:
            errors["approach"] = "请选择处置方式"
        if not any(box.isChecked() for box in self.cause_boxes.values()):
            errors["causes"] = "请至少选择一项受阻原因"
        if self.triage_area.currentIndex() < 0:
            errors["area"] = "请选择领域"
        self.triage_saved.clear()
        if errors:
            self._show_field_errors(("nature", "approach", "causes", "area"), errors)
            return
        triage = Triage(
            nature=Nature(self.nature.currentData()),
            approach=Approach(self.approach.currentData()),
            causes=tuple(c for c, box in self.cause_boxes.items() if box.isChecked()),
            area=self.triage_area.currentData() or "",
            note=self.triage_note.text(),
        )
        cases, actor, case_id = self._context.services.cases, self._context.actor, self.case_id
        seen = self._seen_version()
        self._run(
            lambda: cases.triage(actor, case_id, triage, seen_version=seen),
            self.triage_error,
            ("nature", "approach", "causes", "area"),
            on_done=self._triage_saved,
        )

    def _triage_saved(self) -> None:
        d = self.detail
        if d is None:
            return
        what = "、".join(x.label for x in (d.nature, d.approach) if x is not None)
        due = f"，期限至 {chinese_date(d.due_date)}" if d.due_date else ""
        self.triage_saved.setText(f"✔ 已保存甄别分类：{what}{due}")

    def conclude(self) -> None:
        """办结, the service naming every part missing (a choice not made goes as None)."""
        outcome = Outcome(self.outcome.currentData()) if self.outcome.currentIndex() >= 0 else None
        method = (
            ReplyMethod(self.reply_method.currentData())
            if self.reply_method.currentIndex() >= 0
            else None
        )
        what = self.what_done.toPlainText()
        reply = self.reply_text.text()
        close_reason = self.close_reason.text()
        cases, actor, case_id = self._context.services.cases, self._context.actor, self.case_id
        seen = self._seen_version()
        self._run(
            lambda: cases.conclude(
                actor,
                case_id,
                outcome=outcome,
                what_was_done=what,
                reply_method=method,
                reply_text=reply,
                close_reason=close_reason,
                seen_version=seen,
            ),
            self.conclude_error,
            ("outcome", "what_was_done", "reply_method", "reply_text", "close_reason"),
        )

    def record_visit(self) -> None:
        contact = VisitContact(self.contact.currentData())
        cases, actor, case_id = self._context.services.cases, self._context.actor, self.case_id
        seen = self._seen_version()
        if contact is not VisitContact.REACHED:
            note = self.visit_note.text()
            self._run(
                lambda: cases.record_visit_attempt(
                    actor, case_id, contact=contact, note=note, seen_version=seen
                ),
                self.visit_error,
                ("note",),
            )
            return
        if self.grade.currentIndex() < 0:
            self._show_field_errors(("grade", "note"), {"grade": "请选择回访评价"})
            return
        grade = VisitGrade(self.grade.currentData())
        note = self.visit_note.text()
        reasons = tuple(r for r, box in self.reason_boxes.items() if box.isChecked())
        self._run(
            lambda: cases.record_visit(
                actor, case_id, grade=grade, note=note, reasons=reasons, seen_version=seen
            ),
            self.visit_error,
            ("grade", "note"),
        )

    def withdraw(self) -> None:
        reason = self.withdraw_reason.text()
        cases, actor, case_id = self._context.services.cases, self._context.actor, self.case_id
        seen = self._seen_version()
        self._run(
            lambda: cases.withdraw(actor, case_id, reason, seen_version=seen), self.withdraw_error
        )

    def _field_edited(self, key: str) -> None:
        """A field's message leaves as soon as the field is right."""
        if key in ("nature", "approach", "causes", "area"):
            self.triage_saved.clear()
        error, widget = self._field_errors[key]
        if error.isHidden() or not self._field_ok(key):
            return
        error.set_message(None)
        mark_invalid(widget, False)

    def _field_ok(self, key: str) -> bool:
        if key == "causes":
            return any(box.isChecked() for box in self.cause_boxes.values())
        if key == "what_was_done":
            return bool(self.what_done.toPlainText().strip())
        if key == "reply_text":
            return bool(self.reply_text.text().strip())
        if key == "reply_method":
            return self.reply_method.currentIndex() >= 0
        if key == "note":
            return bool(self.visit_note.text().strip())
        if key == "close_reason":
            return bool(self.close_reason.text().strip())
        combo = {
            "nature": self.nature,
            "approach": self.approach,
            "area": self.triage_area,
            "grade": self.grade,
            "outcome": self.outcome,
        }.get(key)
        return combo is not None and combo.currentIndex() >= 0

    def _show_field_errors(self, keys: tuple[str, ...], errors: dict[str, str]) -> None:
        for key in keys:
            error, widget = self._field_errors[key]
            error.set_message(errors.get(key))
            mark_invalid(widget, key in errors)
        first = next((key for key in keys if key in errors), None)
        if first is not None:
            self._field_errors[first][1].setFocus()

    def _run(
        self,
        work: Callable[[], Changes],
        error_label: FieldError,
        fields: tuple[str, ...] = (),
        on_done: Callable[[], None] | None = None,
    ) -> None:
        """A step on the case: its form errors beside the fields, the case read again after."""
        error_label.set_message(None)

        def invalid(exc: ValidationFailed) -> None:
            placed = {k: v for k, v in exc.errors.items() if k in fields}
            if fields:
                self._show_field_errors(fields, placed)
            rest = [v for k, v in exc.errors.items() if k not in placed]
            error_label.set_message("；".join(rest) if rest else None)

        def failed(exc: Exception) -> None:
            show_error(self, exc)
            if isinstance(exc, ChangedElsewhere):
                self.reload()  # what the other seat recorded, before anything else is tried

        Action(self._context, self, work).success(
            lambda _changes: self.reload(then=on_done)
        ).on_invalid(invalid).failure(failed).run()

    def _seen_version(self) -> int | None:
        """The case's version as this dialog shows it: a save is refused if it changed since."""
        return self.detail.version if self.detail is not None else None

    def _add_material(self) -> None:
        paths, _filter = QFileDialog.getOpenFileNames(self, "选择材料")
        if paths:
            self.add_materials([Path(p) for p in paths])

    def add_materials(self, paths: list[Path]) -> None:
        cases, actor, case_id = self._context.services.cases, self._context.actor, self.case_id
        self._run(lambda: cases.add_attachments(actor, case_id, paths), self.withdraw_error)

    def _open_material(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        stored = item.data(Qt.ItemDataRole.UserRole)
        if not stored:
            return
        sha256, filename = stored
        folder = Path(tempfile.gettempdir()) / "bbcs-materials"
        attachments = self._context.services.attachments

        def open_copy(path: Path) -> None:
            if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
                # No program on this PC opens the kind of file: say where the copy is.
                show_error(
                    self,
                    UserError(
                        f"这台电脑上没有能打开“{filename}”的程序。材料已取出到 {path}，"
                        "可以用能打开它的程序从那里打开，或复制到别处。"
                    ),
                )

        # Copying a large file takes a moment: on the worker, then the system opens it.
        Query(
            self._context.runner,
            self,
            lambda: attachments.readable_copy(sha256, filename, folder),
            open_copy,
        ).run()
