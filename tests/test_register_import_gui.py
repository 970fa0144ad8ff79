"""导入旧台账 by clicks (issue 17): from the intake page, a sheet with a bad row is shown row by
row and cannot be imported; the right one is mapped, previewed and imported; a screenshot at
1366×768 for a person to look at."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtWidgets import QComboBox, QFileDialog

from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from desktop_app.services.register_import import RegisterImportService, read_sheet
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.register_import_dialog import RegisterImportDialog
from tests.helpers.message_boxes import MessageBoxes
from tests.helpers.speed import fast_password_hashing  # noqa: F401
from tests.test_case_detail_gui import choose, click
from tests.test_front_door_gui import intake_page, shoot, styled  # noqa: F401
from tests.test_register_import import HEADER, ROWS, office_sheet


@pytest.fixture
def context(
    services: AppServices, clerk: Actor, message_boxes: MessageBoxes
) -> Iterator[UiContext]:
    runner = TaskRunner()
    yield UiContext(services, clerk, ChangeHub(), runner)
    runner.wait()


@pytest.mark.usefixtures("styled")
def test_import_the_old_register_by_clicks(
    qtbot, context: UiContext, services: AppServices, tmp_path: Path, monkeypatch
) -> None:
    bad_rows = [list(r) for r in ROWS]
    bad_rows[1][1] = "去年六月"
    bad = office_sheet(tmp_path / "有错.xlsx", bad_rows)
    good = office_sheet(tmp_path / "旧台账.xlsx")
    chosen = [bad]
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(chosen[0]), "")
    )
    page = intake_page(qtbot, context)
    click(qtbot, page.import_register_button)
    dialog = page.findChild(RegisterImportDialog)
    assert dialog is not None
    qtbot.waitExposed(dialog)

    click(qtbot, dialog.file_button)
    qtbot.waitUntil(lambda: "未通过检查" in dialog.status.text())
    assert not dialog.import_button.isEnabled()
    assert dialog.preview.item(1, 0).text() == "5"  # the row Excel shows
    assert "“去年六月”不是有效日期" in dialog.preview.item(1, 1).text()
    assert dialog.preview.item(0, 1).text() == "✓ 可导入"

    chosen[0] = good
    click(qtbot, dialog.file_button)
    qtbot.waitUntil(dialog.import_button.isEnabled)
    assert "表头在第3行，共 4 行事项" in dialog.summary.text()
    assert "未识别的列（内容记入历史记录）：备注" in dialog.summary.text()
    # 备注 is told to be left out: by keyboard on its combo.
    row = HEADER.index("备注")
    combo = dialog.columns.cellWidget(row, 1)
    assert isinstance(combo, QComboBox)
    choose(qtbot, combo, "忽略")
    qtbot.waitUntil(lambda: "未识别" not in dialog.summary.text())
    qtbot.waitUntil(dialog.import_button.isEnabled)
    shoot(dialog, "register_import_dialog.png")

    before = services.ledger.count()
    click(qtbot, dialog.import_button)
    qtbot.waitUntil(lambda: dialog.imported is not None, timeout=20_000)
    assert services.ledger.count() == before + 4
    assert "已导入 4 件历史事项（杞县-LS2023-0001 至 杞县-LS2023-0004）" in dialog.status.text()
    assert not dialog.import_button.isEnabled()  # not twice
    # The layout's mapping is kept for the next file with these headers.
    importer = RegisterImportService(
        services.db, services.clock, services.attachments, services.sealer
    )
    assert importer.remembered(read_sheet(good))["备注"] == "ignore"
    click(qtbot, dialog.close_button)


@pytest.mark.usefixtures("styled")
def test_a_few_hundred_rows_go_in_with_a_progress_bar_that_reaches_its_end(
    qtbot, context: UiContext, services: AppServices, tmp_path: Path, monkeypatch
) -> None:
    """The service's row count reaches a determinate bar through a queued signal while the
    import runs on the worker (the heartbeat fixture fails the test if the window freezes)."""
    count = 300
    rows = [
        [
            n,
            datetime(2023, 1, 2) + timedelta(days=n),
            "王芳",
            "",
            f"1390000{n:04d}",
            f"医保结算查不到参保信息（{n}）",
            "",
            "医保社保",
            "窗口来访",
            "县医保局",
            "办理中",
            "",
            "",
            f"QX2023-{n:03d}",
            "",
        ]
        for n in range(1, count + 1)
    ]
    sheet = office_sheet(tmp_path / "三百行.xlsx", rows)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(sheet), ""))
    page = intake_page(qtbot, context)
    click(qtbot, page.import_register_button)
    dialog = page.findChild(RegisterImportDialog)
    assert dialog is not None
    qtbot.waitExposed(dialog)
    click(qtbot, dialog.file_button)
    qtbot.waitUntil(dialog.import_button.isEnabled, timeout=20_000)
    assert not dialog.progress.isVisible()
    seen: list[tuple[int, int]] = []
    dialog.progress.valueChanged.connect(
        lambda value: seen.append((value, dialog.progress.maximum()))
    )

    before = services.ledger.count()
    click(qtbot, dialog.import_button)
    assert dialog.progress.isVisible() and not dialog.file_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.imported is not None, timeout=60_000)

    assert services.ledger.count() == before + count
    assert dialog.progress.isVisible()
    assert (dialog.progress.value(), dialog.progress.maximum()) == (count, count)
    # Counted up by the service as the rows went in, against the sheet's total, not set at once.
    counted = [value for value, maximum in seen if maximum == count]
    assert counted[-1] == count and len(counted) > 10 and counted == sorted(counted)
    assert f"已导入 {count} 件历史事项" in dialog.status.text()
    shoot(dialog, "register_import_progress.png")
    click(qtbot, dialog.close_button)
