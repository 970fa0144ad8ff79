"""Where a bundle goes: a detected U盘 or network drive, a chosen folder, or a typed share."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from desktop_app.ui.common import UiContext
from desktop_app.ui.exchange.data import Target, detected_targets
from desktop_app.ui.exchange.widgets import FileDialogs
from desktop_app.ui.operations import Query

log = logging.getLogger(__name__)


class TargetChooser(QWidget):
    """A combo of the drives found (looked for on the worker) and the folders chosen."""

    def __init__(
        self, context: UiContext, dialogs: FileDialogs, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._context = context
        self._dialogs = dialogs
        self._chosen: list[Target] = []
        self._loading = False
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.addWidget(QLabel("保存到"))
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.combo.setMinimumWidth(320)
        line_edit = self.combo.lineEdit()
        assert line_edit is not None  # the combo is editable
        line_edit.setPlaceholderText(
            r"插入U盘后点“刷新”，或选择文件夹，或输入共享路径 \\服务器\共享\文件夹"
        )
        self.row.addWidget(self.combo, 1)
        self.refresh_button = QPushButton("刷新")
        self.refresh_button.setToolTip("重新检测U盘和网络驱动器")
        self.refresh_button.clicked.connect(self.refresh)
        self.row.addWidget(self.refresh_button)
        self.browse_button = QPushButton("选择文件夹…")
        self.browse_button.clicked.connect(self.browse)
        self.row.addWidget(self.browse_button)

    @property
    def is_loading(self) -> bool:
        return self._loading

    def refresh(self) -> None:
        if self._loading:
            return
        self._loading = True
        self.refresh_button.setEnabled(False)
        Query(self._context.runner, self, detected_targets, self._detected).failure(
            self._detection_failed
        ).finished(self._detection_finished).run()

    def _detected(self, drives: list[Target]) -> None:
        current = self.target()
        self.combo.clear()
        for target in [*drives, *self._chosen]:
            self.combo.addItem(target.text, target.path)
            self.combo.setItemData(
                self.combo.count() - 1, target.tooltip or target.path, Qt.ItemDataRole.ToolTipRole
            )
        index = self.combo.findData(current) if current else -1
        if index >= 0:
            self.combo.setCurrentIndex(index)
        elif current:
            self.combo.setEditText(current)
        elif self.combo.count():
            self.combo.setCurrentIndex(0)

    def _detection_failed(self, exc: Exception) -> None:
        log.warning("drive detection failed: %s", exc)

    def _detection_finished(self) -> None:
        self._loading = False
        self.refresh_button.setEnabled(True)

    def browse(self) -> None:
        folder = self._dialogs.directory(
            self, "选择保存数据包的文件夹（U盘、共享文件夹或本地文件夹）"
        )
        if folder:
            self.set_folder(folder)

    def set_folder(self, folder: str) -> None:
        index = self.combo.findData(folder)
        if index < 0:
            self._chosen = [t for t in self._chosen if t.path != folder]
            self._chosen.append(Target(folder, folder))
            self.combo.addItem(folder, folder)
            index = self.combo.count() - 1
        self.combo.setCurrentIndex(index)

    def target(self) -> str:
        """The chosen place as a path, or "" when nothing is chosen."""
        index = self.combo.currentIndex()
        text = self.combo.currentText().strip()
        if index >= 0 and text == self.combo.itemText(index):
            return str(self.combo.itemData(index))
        return text
