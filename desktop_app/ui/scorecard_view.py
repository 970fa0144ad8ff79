"""部门评分 (issue 17): each department's assignments of a period — received, on time both ways,
late, extended, returned, working days, satisfaction, referrals — sortable by any column, saved
as Excel, and the 量化管理评分表 saved as a PDF to print (of the selected department, or all).

A widget the 统计通报 page embeds as a tab. The numbers come from ``ScorecardService`` on the
worker; this module only shows them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.domain.permissions import Permission
from desktop_app.domain.scoring import WINDOW_ONLY, DepartmentScore, Measure, Scorecard
from desktop_app.domain.settings import RANKING_MIN_VOLUME
from desktop_app.domain.statistics import Rate
from desktop_app.errors import ValidationFailed
from desktop_app.services.context import Changes
from desktop_app.services.scorecards import ScoringSettings
from desktop_app.ui.common import FieldError, UiContext
from desktop_app.ui.list_table import date_edit, list_view, page_hint, picked_date, title_row
from desktop_app.ui.operations import Action, Query

_Index = QModelIndex | QPersistentModelIndex
SORT_ROLE = Qt.ItemDataRole.UserRole + 1


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _rate_key(rate: Rate) -> float:
    return -1.0 if rate.value is None else rate.value  # nothing counted sorts below 0 %


# (header, width, text of a row, sort key of a row)
COLUMNS: tuple[tuple[str, int, Any, Any], ...] = (
    ("排名", 44, lambda r, rank: str(rank) if rank else "—", lambda r, rank: rank or 10**6),
    ("部门", 170, lambda r, rank: r.department, lambda r, rank: r.department),
    ("收到交办", 64, lambda r, rank: str(r.received), lambda r, rank: r.received),
    ("按期办结率", 130, lambda r, rank: r.on_time.text(), lambda r, rank: _rate_key(r.on_time)),
    (
        "按原期限",
        130,
        lambda r, rank: r.on_time_original.text(),
        lambda r, rank: _rate_key(r.on_time_original),
    ),
    ("超期", 44, lambda r, rank: str(r.late), lambda r, rank: r.late),
    ("延期", 44, lambda r, rank: str(r.extended), lambda r, rank: r.extended),
    ("退回", 44, lambda r, rank: str(r.returned), lambda r, rank: r.returned),
    ("催办", 44, lambda r, rank: str(r.urged), lambda r, rank: r.urged),
    (
        "用时中位/90%",
        92,
        lambda r, rank: f"{_days(r.working_days_median)} / {_days(r.working_days_p90)}",
        lambda r, rank: r.working_days_median if r.working_days_median is not None else -1,
    ),
    (
        "满意率",
        130,
        lambda r, rank: r.satisfaction.text(),
        lambda r, rank: _rate_key(r.satisfaction),
    ),
    ("问责", 44, lambda r, rank: str(r.referrals), lambda r, rank: r.referrals),
)
DEPARTMENT_COLUMN = 1


class ScorecardModel(QAbstractTableModel):
    """The rows of one scorecard; ``SORT_ROLE`` gives each cell's value to sort by."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.card: Scorecard | None = None

    def set_card(self, card: Scorecard) -> None:
        self.beginResetModel()
        self.card = card
        self.endResetModel()

    def row_at(self, row: int) -> DepartmentScore | None:
        if self.card is None or not 0 <= row < len(self.card.rows):
            return None
        return self.card.rows[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self.card is None else len(self.card.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index.row()) if index.isValid() else None
        if row is None or self.card is None or not 0 <= index.column() < len(COLUMNS):
            return None
        _header, _width, text_of, key_of = COLUMNS[index.column()]
        rank = self.card.rank_of(row.department)
        if role == Qt.ItemDataRole.DisplayRole:
            return text_of(row, rank)
        if role == SORT_ROLE:
            return key_of(row, rank)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() != DEPARTMENT_COLUMN:
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(COLUMNS)
        ):
            return COLUMNS[section][0]
        return None


class ScorecardView(QWidget):
    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._context = context
        self._scorecards = context.services.scorecards
        self.is_loading = False
        today = context.services.clock.now().date()

        layout = QVBoxLayout(self)
        self.count = title_row(layout, "部门评分")
        layout.addWidget(
            page_hint(
                "按交办单签发日期统计各部门收到的交办；按期办结率的分母含未反馈且已过期限的交办。"
                "点列标题排序。"
            )
        )
        controls = QHBoxLayout()
        controls.addWidget(QLabel("签发日期 自"))
        self.from_edit = date_edit(today.replace(month=1, day=1))
        controls.addWidget(self.from_edit)
        controls.addWidget(QLabel("至"))
        self.to_edit = date_edit(today)
        controls.addWidget(self.to_edit)
        self.refresh_button = QPushButton("统计")
        self.refresh_button.clicked.connect(self.reload)
        controls.addWidget(self.refresh_button)
        controls.addStretch(1)
        self.export_button = QPushButton("导出Excel…")
        self.export_button.clicked.connect(self._export_xlsx)
        controls.addWidget(self.export_button)
        self.sheet_button = QPushButton("评分表（PDF）…")
        self.sheet_button.setToolTip("所选部门的量化管理评分表；未选部门时为全部部门")
        self.sheet_button.clicked.connect(self._export_sheets)
        controls.addWidget(self.sheet_button)
        self.window_sheet_button = QPushButton("窗口评分表…")
        self.window_sheet_button.setToolTip(
            "本窗口自身的量化管理评分表（PDF），按统计分析通报的口径，期间按受理日期；"
            "市级另有各县区窗口各一页"
        )
        self.window_sheet_button.clicked.connect(self._export_window_sheet)
        controls.addWidget(self.window_sheet_button)
        self.settings_button = QPushButton("评分设置…")
        self.settings_button.setToolTip("评分表的项目、分值和计算项，参加排名的最少交办件数")
        self.settings_button.clicked.connect(self._edit_settings)
        self.settings_button.setVisible(context.actor.can(Permission.MANAGE_REFERENCE))
        controls.addWidget(self.settings_button)
        layout.addLayout(controls)

        self.model = ScorecardModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = list_view(QTableView(), self.proxy, [c[1] for c in COLUMNS])
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        layout.addWidget(self.table, 1)
        self.note = QLabel("")
        self.note.setObjectName("hint")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self._set_buttons()
        self.reload()

    # --- loading ---------------------------------------------------------------------------

    def _period(self) -> tuple[date, date]:
        return picked_date(self.from_edit), picked_date(self.to_edit)

    def reload(self) -> None:
        period_from, period_to = self._period()
        actor = self._context.actor
        self.is_loading = True
        self._set_buttons()
        Query(
            self._context.runner,
            self,
            lambda: self._scorecards.scorecard(actor, period_from, period_to),
            self._show,
        ).finished(self._loaded).run()

    def _loaded(self) -> None:
        self.is_loading = False
        self._set_buttons()

    def _show(self, card: Scorecard) -> None:
        self.model.set_card(card)
        self.count.setText(f"{len(card.rows)} 个部门")
        self.note.setText(
            f"收到交办少于 {card.minimum_volume} 件的部门不参加排名（排名显示“—”）；"
            f"超期按 {card.today:%Y-%m-%d} 判断。"
        )

    def _set_buttons(self) -> None:
        has_rows = self.model.rowCount() > 0
        self.refresh_button.setEnabled(not self.is_loading)
        self.export_button.setEnabled(not self.is_loading and has_rows)
        self.sheet_button.setEnabled(not self.is_loading and has_rows)
        self.window_sheet_button.setEnabled(not self.is_loading)

    def _edit_settings(self) -> None:
        """The stored settings are read on the worker, then the dialog opens with them."""
        Query(
            self._context.runner,
            self,
            self._context.services.scorecards.scoring_settings,
            self._open_settings,
        ).run()

    def _open_settings(self, current: ScoringSettings) -> None:
        dialog = ScoringSettingsDialog(self._context, current, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.reload()

    # --- out -------------------------------------------------------------------------------

    def selected_department_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        row = self.model.row_at(self.proxy.mapToSource(rows[0]).row())
        return row.department_id if row else None

    def _export_xlsx(self) -> None:
        card = self.model.card
        if card is None:
            return
        name = f"部门评分_{card.period_from:%Y%m%d}-{card.period_to:%Y%m%d}.xlsx"
        path, _selected = QFileDialog.getSaveFileName(
            self, "导出部门评分", name, "Excel 文件 (*.xlsx)"
        )
        if path:
            self._save(card, Path(path).with_suffix(".xlsx"), None)

    def _export_sheets(self) -> None:
        card = self.model.card
        if card is None:
            return
        department_id = self.selected_department_id()
        wanted = [department_id] if department_id is not None else None
        name = f"量化管理评分表_{card.period_from:%Y%m%d}-{card.period_to:%Y%m%d}.pdf"
        path, _selected = QFileDialog.getSaveFileName(
            self, "保存量化管理评分表", name, "PDF 文件 (*.pdf)"
        )
        if path:
            self._save(card, Path(path).with_suffix(".pdf"), wanted)

    def _export_window_sheet(self) -> None:
        period_from, period_to = self._period()
        name = f"窗口量化管理评分表_{period_from:%Y%m%d}-{period_to:%Y%m%d}.pdf"
        path, _selected = QFileDialog.getSaveFileName(
            self, "保存窗口量化管理评分表", name, "PDF 文件 (*.pdf)"
        )
        if not path:
            return
        out = Path(path).with_suffix(".pdf")
        actor = self._context.actor
        self._write(out, lambda: self._scorecards.export_window(actor, period_from, period_to, out))

    def _save(self, card: Scorecard, out: Path, wanted: list[int] | None) -> None:
        actor = self._context.actor
        self._write(out, lambda: self._scorecards.export(actor, card, out, wanted))

    def _write(self, out: Path, write: Callable[[], Path]) -> None:
        """Write ``out`` on the worker, the buttons off meanwhile and the note saying so."""
        self.is_loading = True
        self._set_buttons()
        self.note.setText(f"正在保存 {out.name}…")
        Query(
            self._context.runner,
            self,
            write,
            lambda saved: self.note.setText(f"已保存：{saved}"),
        ).finished(self._loaded).run()


class ScoringSettingsDialog(QDialog):
    """评分设置: the 量化管理评分表's items (one a line: 名称|分值|计算项) and the ranking's
    minimum volume, saved by whoever maintains the reference data, audited."""

    def __init__(
        self, context: UiContext, current: ScoringSettings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._context = context
        self.setWindowTitle("评分设置")
        layout = QVBoxLayout(self)
        codes = "、".join(f"{m.value}（{m.label}）" for m in Measure)
        window_only = "、".join(m.value for m in Measure if m in WINDOW_ONLY)
        hint = QLabel(
            f"每行一项：项目名称|分值|计算项。计算项可空（由检查人员评定），或为：{codes}"
            f"（{window_only} 只用于窗口评分表，部门评分表上为“不适用”）。"
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.template_edit = QPlainTextEdit(current.template)
        self.template_edit.setMinimumSize(520, 200)
        self.window_template_edit = QPlainTextEdit(current.window_template)
        self.templates = QTabWidget()
        self.templates.addTab(self.template_edit, "部门评分表")
        self.templates.addTab(self.window_template_edit, "窗口评分表")
        layout.addWidget(self.templates, 1)
        self.template_error = FieldError()
        layout.addWidget(self.template_error)
        form = QFormLayout()
        self.volume_spin = QSpinBox()
        self.volume_spin.setRange(
            RANKING_MIN_VOLUME.minimum or 1, RANKING_MIN_VOLUME.maximum or 1000
        )
        self.volume_spin.setValue(current.minimum_volume)
        self.volume_spin.setSuffix(" 件")
        form.addRow(RANKING_MIN_VOLUME.label, self.volume_spin)
        layout.addLayout(form)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText("保存")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _save(self) -> None:
        chosen = ScoringSettings(
            self.template_edit.toPlainText(),
            self.volume_spin.value(),
            self.window_template_edit.toPlainText(),
        )
        actor = self._context.actor
        scorecards = self._context.services.scorecards
        self.template_error.set_message(None)
        self.save_button.setEnabled(False)
        Action(
            self._context, self, lambda: scorecards.save_scoring_settings(actor, chosen)
        ).success(self._saved).on_invalid(self._invalid).finished(
            lambda: self.save_button.setEnabled(True)
        ).run()

    def _saved(self, _changes: Changes) -> None:
        self.accept()

    def _invalid(self, error: ValidationFailed) -> None:
        self.template_error.set_message(error.message)
