"""系统设置 → 公文设置: the office's letterhead and what its papers print, with a live preview.

The administrator sets the 发文机关, the 版头 line, the 发文字号 prefix, the default wording of
交办要求 and, per kind of paper, whether the complainant's phone and ID number are masked. A
sample 交办单 is rendered on the worker a moment after typing stops, as papers signed after
saving will print; papers already issued keep what they printed (their content is frozen).
"""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt, QTimer
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.domain.permissions import Permission
from desktop_app.domain.settings import (
    BASIS_WORDING,
    DEPARTMENT_PAPERS,
    ISSUING_BODY,
    MASTHEAD,
    NUMBER_PREFIX,
    REQUIREMENTS_WORDING,
)
from desktop_app.errors import ValidationFailed
from desktop_app.services.context import Changes
from desktop_app.services.site import PaperSettings
from desktop_app.ui.common import FieldError, UiContext
from desktop_app.ui.operations import Action, Query
from desktop_app.ui.scrolling import VerticalScrollArea

# How long after the last keystroke the preview is rendered again (ms).
PREVIEW_DELAY_MS = 400
FORM_WIDTH = 420
# Names that fit the masking grid's first column.
_SHORT_NAMES = {"basis_request": "依据告知单", "adjust": "时限调整通知"}


class PaperSettingsTab(QWidget):
    """The 公文设置 tab: the form on the left, the sample 交办单 on the right."""

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._context = context
        self._site = context.services.site
        self._can_manage = context.actor.can(Permission.MANAGE_REFERENCE)
        self._loading = False
        self.preview_bytes: bytes | None = None
        self.previews_shown = 0  # how many previews arrived (tests wait for the next one)

        outer = QHBoxLayout(self)
        column = QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        if not self._can_manage:
            hint = QLabel("只有管理员可以修改公文设置。如需修改，请联系本站点的管理员。")
            hint.setObjectName("hint")
            hint.setWordWrap(True)
            column.addWidget(hint)

        letterhead = QGroupBox("版头与发文字号")
        letterhead.setFixedWidth(FORM_WIDTH)
        form = QFormLayout(letterhead)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.issuing_body = QLineEdit()
        self.issuing_body.setPlaceholderText("如 杞县纪委监委；留空则用站点名称")
        self.masthead = QLineEdit()
        self.masthead.setPlaceholderText("如 中共杞县纪委 杞县监委“办不成事”监督窗口；留空不印")
        self.number_prefix = QLineEdit()
        self.number_prefix.setPlaceholderText("如 杞纪窗；留空则由站点简称生成")
        self.requirements_wording = QPlainTextEdit()
        self.requirements_wording.setTabChangesFocus(True)
        self.requirements_wording.setFixedHeight(90)
        self.basis_wording = QPlainTextEdit()
        self.basis_wording.setTabChangesFocus(True)
        self.basis_wording.setFixedHeight(90)
        self.errors: dict[str, FieldError] = {
            ISSUING_BODY.key: FieldError(),
            MASTHEAD.key: FieldError(),
            NUMBER_PREFIX.key: FieldError(),
            REQUIREMENTS_WORDING.key: FieldError(),
            BASIS_WORDING.key: FieldError(),
        }
        rows: list[tuple[str, QWidget, str]] = [
            ("发文机关", self.issuing_body, ISSUING_BODY.key),
            ("版头", self.masthead, MASTHEAD.key),
            ("发文字号前缀", self.number_prefix, NUMBER_PREFIX.key),
            ("交办要求默认措辞", self.requirements_wording, REQUIREMENTS_WORDING.key),
            ("依据告知单措辞", self.basis_wording, BASIS_WORDING.key),
        ]
        for label, field, key in rows:
            form.addRow(label, _with_error(field, self.errors[key]))
        wording_hint = QLabel("{天数}、{事项} 在新建交办时换成办理时限的工作日数和反映事项。")
        wording_hint.setObjectName("hint")
        wording_hint.setWordWrap(True)
        form.addRow("", wording_hint)
        column.addWidget(letterhead)

        masking = QGroupBox("反映人号码（签发时固定在纸面上）")
        masking.setFixedWidth(FORM_WIDTH)
        grid = QGridLayout(masking)
        grid.addWidget(QLabel("隐去电话中间四位"), 0, 1)
        grid.addWidget(QLabel("隐去证件号码中间位"), 0, 2)
        self.mask_phone: dict[str, QCheckBox] = {}
        self.mask_id: dict[str, QCheckBox] = {}
        for row, (kind, label) in enumerate(DEPARTMENT_PAPERS.items(), start=1):
            grid.addWidget(QLabel(_SHORT_NAMES.get(kind, label)), row, 0)
            self.mask_phone[kind] = QCheckBox()
            self.mask_id[kind] = QCheckBox()
            self.mask_phone[kind].setAccessibleName(f"{label}隐去电话")
            self.mask_id[kind].setAccessibleName(f"{label}隐去证件号码")
            grid.addWidget(self.mask_phone[kind], row, 1, Qt.AlignmentFlag.AlignHCenter)
            grid.addWidget(self.mask_id[kind], row, 2, Qt.AlignmentFlag.AlignHCenter)
        note = QLabel(
            "承办单位须电话联系反映人，默认印全电话号码；证件号码默认隐去中间位。"
            "受理回执交给反映人本人，不受此设置影响。"
        )
        note.setObjectName("hint")
        note.setWordWrap(True)
        grid.addWidget(note, len(DEPARTMENT_PAPERS) + 1, 0, 1, 3)
        column.addWidget(masking)

        buttons = QHBoxLayout()
        self.status = QLabel("")
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        buttons.addWidget(self.status, 1)
        self.save_button = QPushButton("保存")
        self.save_button.setObjectName("primary")
        buttons.addWidget(self.save_button)
        column.addLayout(buttons)
        column.addStretch(1)
        content = QWidget()
        content.setLayout(column)
        outer.addWidget(VerticalScrollArea(content))

        right = QVBoxLayout()
        right.addWidget(QLabel("预览（示例交办单，保存后签发的纸面按此打印；已签发的不变）"))
        self.document = QPdfDocument(self)
        self._buffer = QBuffer(self)
        self.view = QPdfView(self)
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.SinglePage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        right.addWidget(self.view, 1)
        self.preview_status = QLabel("")
        self.preview_status.setObjectName("hint")
        right.addWidget(self.preview_status)
        outer.addLayout(right, 1)

        for widget in (letterhead, masking, self.save_button):
            widget.setEnabled(self._can_manage)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PREVIEW_DELAY_MS)
        self._timer.timeout.connect(self.refresh_preview)
        for line in (self.issuing_body, self.masthead, self.number_prefix):
            line.textChanged.connect(self._edited)
        self.requirements_wording.textChanged.connect(self._edited)
        self.basis_wording.textChanged.connect(self._edited)
        for box in (*self.mask_phone.values(), *self.mask_id.values()):
            box.toggled.connect(self._edited)
        self.save_button.clicked.connect(self.save)
        context.hub.changed.connect(self._on_changed)
        self.reload()

    # Reading ---------------------------------------------------------------------------------

    def reload(self) -> None:
        Query(self._context.runner, self, self._site.paper_settings, self._show).run()

    def _show(self, settings: PaperSettings) -> None:
        self._loading = True
        self.issuing_body.setText(settings.issuing_body)
        self.masthead.setText(settings.masthead)
        self.number_prefix.setText(settings.number_prefix)
        self.requirements_wording.setPlainText(settings.requirements_wording)
        self.basis_wording.setPlainText(settings.basis_wording)
        for kind, box in self.mask_phone.items():
            box.setChecked(settings.mask_phone.get(kind, False))
        for kind, box in self.mask_id.items():
            box.setChecked(settings.mask_id.get(kind, True))
        self._loading = False
        self.refresh_preview()

    def form(self) -> PaperSettings:
        return PaperSettings(
            issuing_body=self.issuing_body.text(),
            masthead=self.masthead.text(),
            number_prefix=self.number_prefix.text(),
            requirements_wording=self.requirements_wording.toPlainText(),
            basis_wording=self.basis_wording.toPlainText(),
            mask_phone={kind: box.isChecked() for kind, box in self.mask_phone.items()},
            mask_id={kind: box.isChecked() for kind, box in self.mask_id.items()},
        )

    # The preview -----------------------------------------------------------------------------

    def _edited(self) -> None:
        if self._loading:
            return
        self.status.setText("尚未保存。")
        self._timer.start()  # restarted by every keystroke: rendered once typing stops

    def refresh_preview(self) -> None:
        self._timer.stop()
        form, site = self.form(), self._site
        self.preview_status.setText("正在生成预览…")
        Query(
            self._context.runner, self, lambda: site.paper_preview_pdf(form), self._show_preview
        ).failure(self._preview_failed).run()

    def _show_preview(self, data: bytes) -> None:
        self.preview_bytes = bytes(data)
        self.document.close()
        self._buffer.close()
        self._buffer.setData(QByteArray(self.preview_bytes))
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document.load(self._buffer)
        self.previews_shown += 1
        self.preview_status.setText("")

    def _preview_failed(self, exc: Exception) -> None:
        message = getattr(exc, "message", "") or str(exc)
        self.preview_status.setText(f"无法生成预览：{message}")

    # Saving ----------------------------------------------------------------------------------

    def save(self) -> None:
        if not self._can_manage:
            return
        for error in self.errors.values():
            error.set_message(None)
        form, site, actor = self.form(), self._site, self._context.actor

        def saved(_changes: Changes) -> None:
            self.status.setText("已保存：此后签发的纸面按此打印，已签发的不变。")

        Action(self._context, self, lambda: site.save_paper_settings(actor, form)).success(
            saved
        ).on_invalid(self._show_errors).run()

    def _show_errors(self, exc: ValidationFailed) -> None:
        for key, message in exc.errors.items():
            target = self.errors.get(key)
            if target is not None:
                target.set_message(message)
            else:
                self.status.setText(message)
        self.status.setText("未保存：请按提示修改。")

    def _on_changed(self, changes: Changes) -> None:
        if changes.settings and not self.status.text().startswith("尚未保存"):
            self.reload()


def _with_error(field: QWidget, error: FieldError) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(field)
    layout.addWidget(error)
    return box
