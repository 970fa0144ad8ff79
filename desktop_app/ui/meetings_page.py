"""联席会议 (issue 16): 联席会议（会商）记录、会议纪要和会后交办。

The list of meetings (newest first) over the matters the selected one took up, with what each
follow-up assignment has become (草稿 → 已签发, its slip number). 登记会议 and 修改 open
:class:`MeetingDialog`; 会议纪要 previews the minutes to print or save; 打开事项 opens the case.
"""

from __future__ import annotations

from PySide6.QtCore import (
    Qt,
    Signal,
)
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop_app.domain.assignment_flow import AssignmentState
from desktop_app.domain.permissions import Permission
from desktop_app.domain.vocabulary import chinese_date
from desktop_app.services.context import Changes
from desktop_app.services.meetings import MeetingDetail, MeetingItemInfo, MeetingRow
from desktop_app.ui.common import UiContext, heading
from desktop_app.ui.list_table import RowsTableModel, list_view
from desktop_app.ui.meeting_dialog import MeetingDialog
from desktop_app.ui.operations import Query
from desktop_app.ui.slip_preview import SlipPreviewDialog


class MeetingTableModel(RowsTableModel[MeetingRow]):
    headers = ("纪要编号", "会议时间", "会议议题", "主持人", "参会单位", "研究事项", "会后交办")

    def cells(self, row: MeetingRow) -> tuple[str, ...]:
        return (
            row.number,
            f"{row.held_at:%Y-%m-%d %H:%M}",
            row.topic,
            row.chair,
            "、".join(row.attendees),
            f"{row.matters}项",
            f"{row.follow_ups}项" if row.follow_ups else "—",
        )


class MeetingItemModel(RowsTableModel[MeetingItemInfo]):
    headers = ("研究事项", "会议决定", "会后交办", "交办情况")

    def cells(self, item: MeetingItemInfo) -> tuple[str, ...]:
        return (item.matter, item.decision, _follow_up(item), _progress(item))


def _follow_up(item: MeetingItemInfo) -> str:
    if not item.department:
        return "—"
    days = "按期限规则" if item.working_days is None else f"{item.working_days}个工作日"
    return f"{item.department}，{days}"


def _progress(item: MeetingItemInfo) -> str:
    if not item.department:
        return ""
    if item.assignment_id is None:
        return "交办待生成（再次保存会议记录即重试）"
    state = AssignmentState(item.assignment_state)
    if item.slip_number:
        due = f"，{chinese_date(item.due_date)}前办结" if item.due_date else ""
        return f"{state.label} {item.slip_number}{due}"
    return f"{state.label}（值班领导在事项的“交办”页中签发）"


class MeetingsPage(QWidget):
    open_case = Signal(int)

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self._stale = True
        self._loading = False
        self._keep: int | None = None  # the selected meeting, selected again after a reload
        self.detail: MeetingDetail | None = None
        self.dialog: MeetingDialog | None = None
        self.preview: SlipPreviewDialog | None = None
        may_record = context.actor.can(Permission.MANAGE_MEETINGS)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        title_row = QHBoxLayout()
        title_row.addWidget(heading("联席会议"))
        title_row.addStretch(1)
        self.count_label = QLabel("")
        self.count_label.setObjectName("hint")
        title_row.addWidget(self.count_label)
        layout.addLayout(title_row)
        hint = QLabel(
            "联席会议（会商）研究的事项和一类事、会议决定和会后交办。会后交办生成交办草稿，"
            "由值班领导在事项的“交办”页中签发，与其他交办单一样编号。"
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        layout.addWidget(hint)

        buttons = QHBoxLayout()
        self.record_button = QPushButton("登记会议…")
        self.record_button.setObjectName("primary")
        self.record_button.clicked.connect(lambda _checked=False: self.record_meeting())
        self.edit_button = QPushButton("修改…")
        self.edit_button.clicked.connect(lambda _checked=False: self.edit_meeting())
        self.minutes_button = QPushButton("会议纪要…")
        self.minutes_button.setToolTip("预览会议纪要，打印或另存为PDF")
        self.minutes_button.clicked.connect(lambda _checked=False: self.show_minutes())
        self.open_button = QPushButton("打开事项")
        self.open_button.clicked.connect(lambda _checked=False: self.open_selected_case())
        for button in (self.record_button, self.edit_button):
            button.setVisible(may_record)
            buttons.addWidget(button)
        buttons.addWidget(self.minutes_button)
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        layout.addLayout(buttons)

        splitter = QSplitter(Qt.Orientation.Vertical)
        self.model = MeetingTableModel(self)
        self.table = list_view(QTableView(), self.model, (170, 136, 300, 80, 260, 70))
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selected())
        self.table.doubleClicked.connect(lambda _index: self.edit_meeting())
        splitter.addWidget(self.table)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 6, 0, 0)
        self.detail_label = QLabel("选择一次会议，查看研究事项和会后交办")
        self.detail_label.setObjectName("hint")
        self.detail_label.setWordWrap(True)
        lower_layout.addWidget(self.detail_label)
        self.item_model = MeetingItemModel(self)
        self.items = list_view(QTableView(), self.item_model, (300, 380, 220))
        self.items.horizontalHeader().setStretchLastSection(True)
        self.items.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.items.doubleClicked.connect(lambda _index: self.open_selected_case())
        lower_layout.addWidget(self.items, 1)
        splitter.addWidget(lower)
        splitter.setSizes([300, 260])
        layout.addWidget(splitter, 1)

        context.hub.changed.connect(self._changed)
        self._update_buttons()

    # Loading --------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload()

    def _changed(self, changes: Changes) -> None:
        if changes.meetings or changes.cases:
            self._stale = True
            if self.isVisible():
                self.reload()

    def reload(self) -> None:
        self._stale = False
        if self._loading:
            self._stale = True
            return
        self._loading = True
        services, actor = self.context.services, self.context.actor
        Query(
            self.context.runner, self, lambda: services.meetings.register(actor), self._loaded
        ).finished(self._load_finished).run()

    def _load_finished(self) -> None:
        self._loading = False
        if self._stale and self.isVisible():
            self.reload()

    def _loaded(self, rows: list[MeetingRow]) -> None:
        keep = self._keep if self._keep is not None else self._selected_id()
        self.model.set_rows(rows)
        self.count_label.setText(f"共 {len(rows):,} 次会议")
        self._keep = None
        for index, row in enumerate(rows):
            if row.id == keep:
                self.table.selectRow(index)
                break
        else:
            self._show(None)

    def _selected_id(self) -> int | None:
        row = self.model.selected(self.table)
        return row.id if row is not None else None

    def _selected(self) -> None:
        meeting_id = self._selected_id()
        if meeting_id is None:
            self._show(None)
            return
        services, actor = self.context.services, self.context.actor
        Query(
            self.context.runner, self, lambda: services.meetings.get(actor, meeting_id), self._show
        ).run()

    def _show(self, detail: MeetingDetail | None) -> None:
        if detail is not None and detail.id != self._selected_id():
            return  # another meeting was selected meanwhile
        self.detail = detail
        self.item_model.set_rows(list(detail.items) if detail else [])
        if detail is None:
            self.detail_label.setText("选择一次会议，查看研究事项和会后交办")
        else:
            place = f"，{detail.place}" if detail.place else ""
            recorder = f"；记录：{detail.recorder}" if detail.recorder else ""
            self.detail_label.setText(
                f"{detail.number}：{chinese_date(detail.held_at, parts='date_time')}{place}，"
                f"{detail.chair}主持；参会：{'、'.join(detail.attendees)}{recorder}"
            )
        self._update_buttons()

    def _update_buttons(self) -> None:
        has = self.detail is not None
        self.edit_button.setEnabled(has)
        self.minutes_button.setEnabled(has)
        item = self.item_model.selected(self.items)
        self.open_button.setEnabled(item is not None and item.case_id is not None)

    # Actions --------------------------------------------------------------------------------

    def record_meeting(self) -> MeetingDialog:
        return self._open_dialog(None)

    def edit_meeting(self) -> MeetingDialog | None:
        if self.detail is None or not self.context.actor.can(Permission.MANAGE_MEETINGS):
            return None
        return self._open_dialog(self.detail)

    def _open_dialog(self, detail: MeetingDetail | None) -> MeetingDialog:
        dialog = MeetingDialog(self.context, self, detail)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._dialog_saved(dialog))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _dialog_saved(self, dialog: MeetingDialog) -> None:
        self._keep = dialog.saved_id
        self.reload()

    def show_minutes(self) -> SlipPreviewDialog | None:
        if self.detail is None:
            return None
        services, actor, detail = self.context.services, self.context.actor, self.detail
        dialog = SlipPreviewDialog(
            self.context,
            lambda: services.meetings.minutes_pdf(actor, detail.id),
            f"会议纪要 {detail.number}",
            self,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.preview = dialog
        dialog.open()
        return dialog

    def open_selected_case(self) -> None:
        item = self.item_model.selected(self.items)
        if item is not None and item.case_id is not None:
            self.open_case.emit(item.case_id)
