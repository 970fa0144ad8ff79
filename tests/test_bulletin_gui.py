"""统计通报 screen (issue 17): choosing November by clicking, the figures beside October's, the
bulletin previewed without a number and saved as 〔2026〕第1期."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.reports_page import ReportsPage
from tests.helpers.speed import fast_password_hashing  # noqa: F401
from tests.test_statistics import build_period

pytestmark = pytest.mark.usefixtures("message_boxes")


@pytest.fixture
def context(services: AppServices, clerk: Actor) -> Iterator[UiContext]:
    runner = TaskRunner()
    yield UiContext(services, clerk, ChangeHub(), runner)
    runner.wait()


def test_count_november_and_save_the_bulletin(
    qtbot: QtBot,
    context: UiContext,
    services: AppServices,
    clerk: Actor,
    leader: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    build_period(services, clerk, leader)
    page = ReportsPage(context)
    qtbot.addWidget(page)
    page.resize(1366, 768)
    page.show()
    tab = page.bulletin
    # The fixed clock's today is 2026-11-25: last month is offered first.
    assert tab.start.date() == QDate(2026, 10, 1)
    tab.start.setDate(QDate(2026, 11, 1))
    tab.end.setDate(QDate(2026, 11, 30))
    qtbot.mouseClick(tab.count_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.table.rowCount() > 0)
    cells = {
        tab.table.item(row, 0).text(): (
            tab.table.item(row, 1).text(),
            tab.table.item(row, 2).text(),
        )
        for row in range(tab.table.rowCount())
    }
    assert cells["受理反映事项"] == ("9", "1")
    assert cells["按期办结率（现行期限）"][0] == "50.0%（2/4）"
    assert "按原定期限 25.0%（1/4）" in tab.summary.text()

    qtbot.mouseClick(tab.preview_button, Qt.MouseButton.LeftButton)
    preview = tab.preview
    assert preview is not None
    qtbot.waitUntil(lambda: preview.document.pageCount() >= 1, timeout=15_000)
    assert services.bulletins.next_number() == "〔2026〕第1期"  # a preview takes no number
    target = tmp_path / "通报.pdf"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    qtbot.mouseClick(preview.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: target.exists() and not preview.busy, timeout=15_000)
    assert services.bulletins.next_number() == "〔2026〕第2期"
    assert "已印发" not in preview.windowTitle()
    preview.close()
    # The same period again: the preview says it has its number already (a second issue
    # took the next one without a word); the month not over is said to run to today.
    qtbot.mouseClick(tab.preview_button, Qt.MouseButton.LeftButton)
    again = tab.preview
    assert again is not None and again is not preview
    qtbot.waitUntil(lambda: "本统计期已印发：〔2026〕第1期" in again.windowTitle())
    assert "2026年11月25日" in again.windowTitle()
    qtbot.waitUntil(lambda: again.document.pageCount() >= 1, timeout=15_000)
    again.close()
    assert page.tabs.tabText(1) == "部门评分"


def test_render_the_page(
    qtbot: QtBot,
    context: UiContext,
    services: AppServices,
    clerk: Actor,
    leader: Actor,
    tmp_path: Path,
) -> None:
    """Renders the page at 1166×688 (the main window's page area on a 1366×768 screen) to a
    PNG for a person to look at; asserts only that it was drawn."""
    build_period(services, clerk, leader)
    page = ReportsPage(context)
    qtbot.addWidget(page)
    page.resize(1166, 688)
    page.show()
    tab = page.bulletin
    tab.start.setDate(QDate(2026, 11, 1))
    tab.end.setDate(QDate(2026, 11, 30))
    qtbot.mouseClick(tab.count_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.table.rowCount() > 0)
    image = page.grab()
    assert not image.isNull()
    assert image.save(str(tmp_path / "reports_page.png"))
