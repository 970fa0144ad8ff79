"""部门评分 view (issue 17), clicked: a period counted, sorted by a column, the Excel and the
selected department's 量化管理评分表 saved; the model checked and the view looked at."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QDate, QPoint, Qt
from PySide6.QtWidgets import QFileDialog
from python_calamine import CalamineWorkbook

from desktop_app.documents.scorecard_xlsx import SHEET_NAME
from desktop_app.domain.scoring import DEFAULT_WINDOW_TEMPLATE_TEXT
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.scorecard_view import (
    DEPARTMENT_COLUMN,
    ScorecardModel,
    ScorecardView,
    ScoringSettingsDialog,
)
from tests.helpers.scorecard_cases import NOVEMBER, Departments, build_departments
from tests.helpers.speed import fast_password_hashing  # noqa: F401

pytestmark = pytest.mark.usefixtures("message_boxes")

SCREENSHOT = (
    Path(os.environ.get("BBCS_SCREENSHOTS") or tempfile.mkdtemp(prefix="bbcs-shots-"))
    / "17-scorecards.png"
)
ON_TIME_COLUMN = 3


@pytest.fixture
def runner() -> Iterator[TaskRunner]:
    runner = TaskRunner()
    yield runner
    runner.wait()


@pytest.fixture
def office(services: AppServices, clerk: Actor) -> Departments:
    return build_departments(services, clerk)


def _view(qtbot, services: AppServices, actor: Actor, runner: TaskRunner) -> ScorecardView:
    view = ScorecardView(UiContext(services, actor, ChangeHub(), runner))
    qtbot.addWidget(view)
    view.resize(1366 - 200, 768 - 40 - 80)  # a laptop's page area (tests/test_page_fit.py)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: not view.is_loading)
    return view


def _november(qtbot, view: ScorecardView) -> None:
    view.from_edit.setDate(QDate(*NOVEMBER[0].timetuple()[:3]))
    view.to_edit.setDate(QDate(*NOVEMBER[1].timetuple()[:3]))
    qtbot.mouseClick(view.refresh_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view.is_loading and view.model.rowCount() == 2)


def _departments(view: ScorecardView) -> list[str]:
    return [view.proxy.index(row, DEPARTMENT_COLUMN).data() for row in range(view.proxy.rowCount())]


def test_count_sort_and_save_clicked(
    qtbot,
    monkeypatch: pytest.MonkeyPatch,
    services: AppServices,
    clerk: Actor,
    office: Departments,
    runner: TaskRunner,
    tmp_path: Path,
) -> None:
    view = _view(qtbot, services, clerk, runner)
    _november(qtbot, view)
    assert view.count.text() == "2 个部门"
    assert "少于 5 件" in view.note.text()
    # Ranked first (A, ranked 1) then the unranked; by on-time rate, B's 100 % sorts last.
    assert _departments(view) == [office.a.name, office.b.name]
    header = view.table.horizontalHeader()
    x = header.sectionViewportPosition(ON_TIME_COLUMN) + header.sectionSize(ON_TIME_COLUMN) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))
    sorted_once = _departments(view)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))
    assert {tuple(sorted_once), tuple(_departments(view))} == {
        (office.a.name, office.b.name),
        (office.b.name, office.a.name),
    }
    row = _departments(view).index(office.a.name)
    rect = view.table.visualRect(view.proxy.index(row, DEPARTMENT_COLUMN))
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.selected_department_id() == office.a.id

    pdf = tmp_path / "评分表.pdf"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(pdf), ""))
    )
    qtbot.mouseClick(view.sheet_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view.is_loading and "已保存" in view.note.text(), timeout=10_000)
    assert len(PdfReader(str(pdf)).pages) == 1  # the selected department only
    assert office.a.name in (PdfReader(str(pdf)).pages[0].extract_text() or "").replace(" ", "")

    xlsx = tmp_path / "评分.xlsx"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(xlsx), ""))
    )
    qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view.is_loading and "评分.xlsx" in view.note.text(), timeout=10_000)
    rows = CalamineWorkbook.from_path(str(xlsx)).get_sheet_by_name(SHEET_NAME).to_python()
    assert {r[1] for r in rows[1:3]} == {office.a.name, office.b.name}


def test_an_empty_period_offers_nothing_to_save(
    qtbot, services: AppServices, clerk: Actor, runner: TaskRunner
) -> None:
    view = _view(qtbot, services, clerk, runner)
    assert view.model.rowCount() == 0 and view.count.text() == "0 个部门"
    assert not view.export_button.isEnabled() and not view.sheet_button.isEnabled()


def test_the_model_and_a_screenshot(
    qtbot,
    qtmodeltester,
    qapp,
    services: AppServices,
    clerk: Actor,
    office: Departments,
    runner: TaskRunner,
) -> None:
    model = ScorecardModel()
    model.set_card(services.scorecards.scorecard(clerk, *NOVEMBER))
    qtmodeltester.check(model)

    from desktop_app.ui.theme import apply_style, install_fonts

    install_fonts(qapp)
    apply_style(qapp)
    view = _view(qtbot, services, clerk, runner)
    _november(qtbot, view)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    assert view.grab().save(str(SCREENSHOT))


def test_the_administrator_edits_the_scoring_settings(
    qtbot, services: AppServices, clerk: Actor, admin: Actor, runner: TaskRunner
) -> None:
    assert not _view(qtbot, services, clerk, runner).settings_button.isVisible()
    assert _view(qtbot, services, admin, runner).settings_button.isVisible()
    dialog = ScoringSettingsDialog(
        UiContext(services, admin, ChangeHub(), runner), services.scorecards.scoring_settings()
    )
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.template_edit.selectAll()
    qtbot.keyClicks(dialog.template_edit, "abc|x|")  # QTest types ASCII only: a bad score
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.save_button.isEnabled(), timeout=10_000)
    assert "不是数字" in dialog.template_error.text() and dialog.isVisible()
    dialog.template_edit.selectAll()
    qtbot.keyClicks(dialog.template_edit, "Files|5|")
    qtbot.keyClick(dialog.template_edit, Qt.Key.Key_Return)
    qtbot.keyClicks(dialog.template_edit, "On time|20|on_time")
    dialog.volume_spin.selectAll()
    qtbot.keyClicks(dialog.volume_spin, "2")
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    saved = services.scorecards.scoring_settings()
    assert saved.template == "Files|5|\nOn time|20|on_time" and saved.minimum_volume == 2
    assert saved.window_template == DEFAULT_WINDOW_TEMPLATE_TEXT  # its own tab, untouched


def test_the_window_sheet_tab_is_edited_and_the_windows_own_sheet_saved(
    qtbot,
    monkeypatch: pytest.MonkeyPatch,
    services: AppServices,
    admin: Actor,
    runner: TaskRunner,
    tmp_path: Path,
) -> None:
    """The window's own template on its tab of 评分设置, and 窗口评分表… saving its sheet."""
    from desktop_app.documents.scoring_sheet import WINDOW_TITLE

    view = _view(qtbot, services, admin, runner)
    assert view.window_sheet_button.isEnabled()  # with no department counted too
    pdf = tmp_path / "窗口评分表.pdf"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(pdf), ""))
    )
    qtbot.mouseClick(view.window_sheet_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view.is_loading and "已保存" in view.note.text(), timeout=10_000)
    text = (PdfReader(str(pdf)).pages[0].extract_text() or "").replace(" ", "")
    assert WINDOW_TITLE in text and "抽查回访记录" in text

    dialog = ScoringSettingsDialog(
        UiContext(services, admin, ChangeHub(), runner), services.scorecards.scoring_settings()
    )
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    tab_bar = dialog.templates.tabBar()
    qtbot.mouseClick(tab_bar, Qt.MouseButton.LeftButton, pos=tab_bar.tabRect(1).center())
    assert dialog.templates.currentWidget() is dialog.window_template_edit
    dialog.window_template_edit.selectAll()
    qtbot.keyClicks(dialog.window_template_edit, "Visits|40|visited")
    qtbot.keyClick(dialog.window_template_edit, Qt.Key.Key_Return)
    qtbot.keyClicks(dialog.window_template_edit, "Desk|60|")
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert services.scorecards.scoring_settings().window_template == "Visits|40|visited\nDesk|60|"
