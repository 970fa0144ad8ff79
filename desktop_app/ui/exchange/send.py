"""导出数据包（上报市级） (county) / 下发基础数据 (city): a bundle written to a stick or share.

Nothing on the hub concerns it (the drives are looked for when the page is shown, or on 刷新);
after an export it says ``exchanged`` so the page reloads its figures and the history.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QPushButton, QVBoxLayout, QWidget

from desktop_app.domain.permissions import Permission
from desktop_app.services.exchange import ExportResult
from desktop_app.ui.common import Card, UiContext
from desktop_app.ui.exchange.data import Progress, export_to
from desktop_app.ui.exchange.targets import TargetChooser
from desktop_app.ui.exchange.widgets import (
    Busy,
    FileDialogs,
    hint,
    message_label,
    run_with_progress,
    show_message,
    tell_failure,
)


class SendCard(QWidget):
    """Where to, and the export button; the outcome (or why not) under them."""

    exchanged = Signal()  # a bundle was written: the status and the history show it

    def __init__(self, context: UiContext, busy: Busy, is_city: bool, dialogs: FileDialogs) -> None:
        super().__init__()
        self._context = context
        self._busy = busy
        self.is_city = is_city
        self._can_exchange = context.actor.can(Permission.EXCHANGE_DATA)
        self.last_export: ExportResult | None = None

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        card = Card("下发基础数据" if is_city else "导出数据包（上报市级）")
        outer.addWidget(card)
        card.body.addWidget(
            hint(
                "把本级的部门、领域、节假日调整和期限规则写成签名的数据包，交各县区导入。"
                if is_city
                else "数据包包含市级上次确认以来的全部变化（丢失U盘也不会漏报），"
                "经签名并加密，只有市级站点能打开。"
            )
        )
        self.target = TargetChooser(context, dialogs)
        self.export_button = QPushButton("导出基础数据（下发各县区）" if is_city else "导出数据包")
        self.export_button.setObjectName("primary")
        self.export_button.clicked.connect(self.export_bundle)
        self.target.row.addSpacing(12)
        self.target.row.addWidget(self.export_button)
        card.body.addWidget(self.target)
        self.export_message = message_label()
        card.body.addWidget(self.export_message)
        busy.changed.connect(self._busy_changed)
        self.update_buttons()

    def update_buttons(self) -> None:
        self.export_button.setEnabled(self._can_exchange and not self._busy.active)

    def _busy_changed(self, _active: bool) -> None:
        self.update_buttons()

    def export_bundle(self) -> None:
        if self._busy.active:
            return
        target = self.target.target()
        if not target:
            show_message(
                self.export_message,
                False,
                "请先选择保存位置：插入U盘后点“刷新”，或点“选择文件夹…”。",
            )
            return
        services, actor = self._context.services, self._context.actor
        show_message(self.export_message, True, "")
        what = "基础数据包" if self.is_city else "数据包"

        def work(progress: Progress) -> tuple[ExportResult, str]:
            return export_to(services, actor, target, progress)

        run_with_progress(
            self._context,
            self,
            self._busy,
            f"正在导出{what}到 {target} …",
            work,
            self._exported,
            tell_failure(self, self.export_message, f"{what}未能导出"),
        )

    def _exported(self, outcome: tuple[ExportResult, str]) -> None:
        result, place = outcome
        self.last_export = result
        where = place or str(result.path.parent)
        then = (
            "请将数据包交各县区导入。"
            if self.is_city
            else "请把数据包交市级窗口导入，并把生成的回执文件（.bbcsack）带回导入。"
        )
        show_message(self.export_message, True, f"{result.summary()}\n保存在 {where}。{then}")
        self.exchanged.emit()
