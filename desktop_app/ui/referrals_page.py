"""问责线索 (issue 16): the register of referrals — 拟移交、已移交、已处理、不予移交 — filtered by
state, measure, unit, date and text, with each role's step: the window proposes, the duty leader
signs the 移交函 (or drops the proposal), 纪检监察 records the decision; the letter is previewed
and printed like a slip.

The list is a lazy model over the ids of the current query, loaded on the worker.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop_app.domain.permissions import Permission
from desktop_app.domain.vocabulary import Measure, ReferralState
from desktop_app.errors import UserError
from desktop_app.services.context import Changes
from desktop_app.services.referrals import (
    EVIDENCE_LABELS,
    ReferralDetail,
    ReferralFilter,
    ReferralRow,
    ReferralService,
)
from desktop_app.ui.common import FieldError, UiContext, show_error
from desktop_app.ui.list_table import (
    column_header,
    date_edit,
    list_view,
    page_hint,
    picked_date,
    search_field,
    title_row,
)
from desktop_app.ui.operations import Query
from desktop_app.ui.paged_model import PagedIdsModel
from desktop_app.ui.referral_dialogs import DecideDialog, DropDialog, ProposeDialog, SendDialog
from desktop_app.ui.slip_preview import Deliver, SlipPreviewDialog
from desktop_app.ui.theme import GREEN, RED

COLUMNS = (
    "移交函编号",
    "事项编号",
    "被反映人",
    "单位",
    "问题表现",
    "状态",
    "处理结果",
    "提出日期",
    "移交日期",
)
COLUMN_WIDTHS = (170, 120, 80, 150, 170, 70, 130, 90, 90)
UNIT_COLUMN, CONDUCT_COLUMN, STATE_COLUMN, MEASURE_COLUMN = 3, 4, 5, 6
SEARCH_DELAY_MS = 250
_PENDING = "pending"  # the state box's 待处理: proposed or sent (PENDING_STATES)
_Index = QModelIndex | QPersistentModelIndex
_Dialog = TypeVar("_Dialog", bound=QDialog)


class ReferralTableModel(PagedIdsModel):
    def __init__(self, referrals: ReferralService, parent: QObject | None = None) -> None:
        super().__init__(referrals.rows, len(COLUMNS), parent)

    def referral(self, row: int) -> ReferralRow | None:
        if not 0 <= row < len(self._ids):
            return None
        found: ReferralRow | None = self._row(row)
        return found

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        return column_header(COLUMNS, section, orientation, role)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        if role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
            Qt.ItemDataRole.ForegroundRole,
        ):
            return None
        row = self.referral(index.row())
        if row is None:
            return "…" if role == Qt.ItemDataRole.DisplayRole else None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return _display(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 1:
                return f"{row.case_number}：{row.case_title}"
            if column in (UNIT_COLUMN, CONDUCT_COLUMN):
                return _display(row, column)
            return None
        if column == STATE_COLUMN and row.state is ReferralState.PROPOSED:
            return QBrush(QColor(RED))
        if column == MEASURE_COLUMN and row.measure is not None and row.measure.protects:
            return QBrush(QColor(GREEN))
        if row.state is ReferralState.DROPPED:
            return QBrush(QColor("#909497"))
        return None


def _display(row: ReferralRow, column: int) -> str:
    values = (
        row.number or "（未编号）",
        row.case_number,
        row.person_name,
        row.person_unit,
        row.conduct_label,
        row.state.label,
        row.measure.label if row.measure else "",
        f"{row.proposed_at:%Y-%m-%d}",
        f"{row.sent_at:%Y-%m-%d}" if row.sent_at else "",
    )
    return values[column] if 0 <= column < len(values) else ""


class ReferralsPage(QWidget):
    open_case = Signal(int)

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self._loading = False
        self._reload_again = False
        self._stale = True
        self._keep: int | None = None
        self.dialog: QDialog | None = None  # the step or preview dialog last opened
        self.model = ReferralTableModel(context.services.referrals, self)
        actor = context.actor

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        self.count_label = title_row(layout, "问责线索")
        layout.addWidget(
            page_hint(
                "对推诿扯皮、不给办等问题责任人的问责线索：窗口提出，带班领导签发问题线索移交函，"
                "纪检监察人员登记处理结果（含容错纠错、澄清正名、关爱回访）。“不给办”的事项"
                "甄别时自动提出。"
            )
        )

        filters = QHBoxLayout()
        self.search = search_field("搜索：编号、被反映人、单位、事项编号或标题")
        filters.addWidget(self.search, 2)
        self.state = QComboBox()
        self.state.addItem("全部状态", None)
        self.state.addItem("待处理（拟移交、已移交）", _PENDING)
        for state in ReferralState:
            self.state.addItem(state.label, state.value)
        filters.addWidget(self.state)
        self.measure = QComboBox()
        self.measure.addItem("全部处理结果", None)
        for measure in Measure:
            self.measure.addItem(measure.label, measure.value)
        filters.addWidget(self.measure)
        self.unit = QLineEdit()
        self.unit.setPlaceholderText("单位")
        self.unit.setClearButtonEnabled(True)
        filters.addWidget(self.unit, 1)
        self.by_date = QCheckBox("提出日期")
        filters.addWidget(self.by_date)
        today = context.services.clock.now().date()
        self.date_from = date_edit(date(today.year, 1, 1))
        self.date_to = date_edit(today)
        filters.addWidget(self.date_from)
        filters.addWidget(QLabel("至"))
        filters.addWidget(self.date_to)
        layout.addLayout(filters)

        self.table = QTableView()
        list_view(self.table, self.model, COLUMN_WIDTHS)
        self.table.horizontalHeader().setSectionResizeMode(
            CONDUCT_COLUMN, QHeaderView.ResizeMode.Stretch
        )
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda _index: self.open_selected_case())
        layout.addWidget(self.table, 1)

        self.detail = QLabel("")
        self.detail.setWordWrap(True)
        self.detail.setObjectName("referralDetail")
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.detail.setMinimumHeight(116)
        self.detail.setStyleSheet("background:#fbfcfc;border:1px solid #d5d8dc;padding:6px;")
        layout.addWidget(self.detail)

        buttons = QHBoxLayout()
        self.propose_button = QPushButton("提出问责…")
        self.send_button = QPushButton("签发移交函…")
        self.drop_button = QPushButton("不予移交…")
        self.decide_button = QPushButton("登记处理结果…")
        self.letter_button = QPushButton("预览/打印移交函…")
        self.open_button = QPushButton("打开事项")
        self.refresh_button = QPushButton("刷新")
        self.propose_button.setVisible(actor.can(Permission.PROPOSE_REFERRAL))
        self.send_button.setVisible(actor.can(Permission.SEND_REFERRAL))
        self.drop_button.setVisible(actor.can(Permission.SEND_REFERRAL))
        self.decide_button.setVisible(actor.can(Permission.DECIDE_REFERRAL))
        self.propose_button.clicked.connect(lambda _c=False: self.propose())
        self.send_button.clicked.connect(lambda _c=False: self.send_selected())
        self.drop_button.clicked.connect(lambda _c=False: self.drop_selected())
        self.decide_button.clicked.connect(lambda _c=False: self.decide_selected())
        self.letter_button.clicked.connect(lambda _c=False: self.preview_letter())
        self.open_button.clicked.connect(lambda _c=False: self.open_selected_case())
        self.refresh_button.clicked.connect(lambda _c=False: self.reload())
        for button in (
            self.propose_button,
            self.send_button,
            self.drop_button,
            self.decide_button,
            self.letter_button,
            self.open_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)
        layout.addLayout(buttons)
        self.error = FieldError()
        layout.addWidget(self.error)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.reload)
        for line in (self.search, self.unit):
            line.textChanged.connect(lambda _text: self._search_timer.start())
            line.returnPressed.connect(self.reload)
        for combo in (self.state, self.measure):
            combo.currentIndexChanged.connect(lambda _index: self.reload())
        self.by_date.toggled.connect(self._dates_toggled)
        for edit in (self.date_from, self.date_to):
            edit.dateChanged.connect(lambda _day: self.reload())
        self.date_from.setEnabled(False)
        self.date_to.setEnabled(False)
        context.hub.changed.connect(self._on_changed)
        self._update_buttons()

    # Loading -------------------------------------------------------------------------------

    @property
    def is_loading(self) -> bool:
        return self._loading or self._search_timer.isActive()

    def show_pending(self) -> None:
        """The referrals waiting for someone, as the dashboard's 问责线索待处理 counts them."""
        self.state.setCurrentIndex(self.state.findData(_PENDING))

    def current_filter(self) -> ReferralFilter:
        state, measure = self.state.currentData(), self.measure.currentData()
        dated = self.by_date.isChecked()
        return ReferralFilter(
            text=self.search.text().strip(),
            state=ReferralState(state) if state and state != _PENDING else None,
            pending=state == _PENDING,
            measure=Measure(measure) if measure else None,
            unit=self.unit.text().strip(),
            proposed_from=picked_date(self.date_from) if dated else None,
            proposed_to=picked_date(self.date_to) if dated else None,
        )

    def _dates_toggled(self, on: bool) -> None:
        self.date_from.setEnabled(on)
        self.date_to.setEnabled(on)
        self.reload()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload()

    def _on_changed(self, changes: Changes) -> None:
        # A case triaged 不给办 proposes a referral: a change of cases may add one.
        if not (changes.referrals or changes.cases):
            return
        self._stale = True
        if self.isVisible():
            self.reload()

    def reload(self) -> None:
        self._search_timer.stop()
        if self._loading:
            self._reload_again = True
            return
        self._loading = True
        self._stale = False
        self.count_label.setText("正在查询…")
        referrals, actor = self.context.services.referrals, self.context.actor
        chosen = self.current_filter()
        Query(
            self.context.runner, self, lambda: referrals.ids(actor, chosen), self._loaded
        ).failure(self._failed).run()

    def _loaded(self, ids: list[int]) -> None:
        self._loading = False
        if self._reload_again:
            self._reload_again = False
            self.reload()
            return
        keep = self._keep
        self.model.set_ids(ids)
        self.error.set_message(None)
        self.count_label.setText(f"共 {len(ids):,} 条")
        row = self.model.row_of(keep) if keep is not None else -1
        if row < 0 and ids:
            row = 0
        if row >= 0:
            self.table.selectRow(row)
        else:
            self.detail.setText("")
        self._update_buttons()

    def _failed(self, exc: Exception) -> None:
        self._loading = False
        self._reload_again = False
        self.count_label.setText("查询失败")
        self.error.set_message(exc.message if isinstance(exc, UserError) else "问责线索读取失败")
        if not isinstance(exc, UserError):
            show_error(self, exc)

    def selected(self) -> ReferralRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.referral(rows[0].row()) if rows else None

    def _selection_changed(self) -> None:
        row = self.selected()
        if row is not None:
            self._keep = row.id
            referrals, actor, referral_id = (
                self.context.services.referrals,
                self.context.actor,
                row.id,
            )
            Query(
                self.context.runner,
                self,
                lambda: referrals.detail(actor, referral_id),
                self._show_detail,
            ).run()
        self._update_buttons()

    def _show_detail(self, detail: ReferralDetail) -> None:
        row = detail.row
        lines = [f"<b>{row.person_name}</b>（{row.person_unit} {row.person_post}）：{detail.facts}"]
        if row.sent_at:
            lines.append(
                f"移交：{row.sent_at:%Y-%m-%d} 移交至{row.recipient_name}，签发人{row.signer_name}"
            )
        if row.decided_at and row.measure:
            lines.append(
                f"处理：{row.decided_at:%Y-%m-%d} {row.decided_by}，{row.measure.label}"
                + (f"；{detail.decision_note}" if detail.decision_note else "")
            )
        if detail.dropped_reason:
            lines.append(f"不予移交：{detail.dropped_reason}")
        kinds: dict[str, int] = {}
        for item in detail.evidence:
            label = EVIDENCE_LABELS.get(item["kind"], item["kind"])
            kinds[label] = kinds.get(label, 0) + 1
        evidence = "、".join(f"{label}{count}项" for label, count in kinds.items())
        lines.append(f"证据材料：{evidence or '暂无'}" + ("（已固定）" if row.sent_at else ""))
        self.detail.setText("<br>".join(lines))

    def _update_buttons(self) -> None:
        row = self.selected()
        state = row.state if row else None
        self.send_button.setEnabled(state is ReferralState.PROPOSED)
        self.drop_button.setEnabled(state is ReferralState.PROPOSED)
        self.decide_button.setEnabled(state is ReferralState.SENT)
        self.letter_button.setEnabled(state in (ReferralState.SENT, ReferralState.DECIDED))
        self.open_button.setEnabled(row is not None)

    # Actions -------------------------------------------------------------------------------

    def open_selected_case(self) -> None:
        row = self.selected()
        if row is not None:
            self.open_case.emit(row.case_id)

    def propose(self) -> ProposeDialog:
        dialog = ProposeDialog(self.context, None, self)
        return self._open(dialog)

    def send_selected(self) -> SendDialog | None:
        row = self.selected()
        if row is None or row.state is not ReferralState.PROPOSED:
            return None
        return self._open(SendDialog(self.context, row.id, _summary(row), self))

    def drop_selected(self) -> DropDialog | None:
        row = self.selected()
        if row is None or row.state is not ReferralState.PROPOSED:
            return None
        return self._open(DropDialog(self.context, row.id, _summary(row), self))

    def decide_selected(self) -> DecideDialog | None:
        row = self.selected()
        if row is None or row.state is not ReferralState.SENT:
            return None
        return self._open(DecideDialog(self.context, row.id, _summary(row), self))

    def preview_letter(self) -> SlipPreviewDialog | None:
        row = self.selected()
        if row is None or not row.number:
            return None
        referrals, actor, referral_id = self.context.services.referrals, self.context.actor, row.id

        def render() -> bytes:
            return referrals.letter_pdf(actor, referral_id)

        def record(out: Path | None, deliver: Deliver | None) -> bytes:
            return referrals.record_letter_output(actor, referral_id, out=out, deliver=deliver)

        dialog = SlipPreviewDialog(
            self.context,
            render,
            f"问题线索移交函 {row.number}",
            self,
            record=record,
            changes=Changes(referrals=True),
        )
        return self._open(dialog)

    def _open(self, dialog: _Dialog) -> _Dialog:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dialog
        dialog.open()
        return dialog


def _summary(row: ReferralRow) -> str:
    unit = "，".join(x for x in (row.person_unit, row.person_post) if x)
    return (
        f"事项 {row.case_number}“{row.case_title}”：{row.person_name}"
        + (f"（{unit}）" if unit else "")
        + f"，{row.conduct_label}"
    )
