"""一类事与预警 page: 扫描预警 shows the warning with its numbers, 转为一类事 makes the class with
its cases, and the class is edited there; the page fits a 1366×768 window."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtWidgets import QPushButton, QTableView
from sqlalchemy import select

from desktop_app.services.app import AppServices
from desktop_app.services.classes import WarningState
from desktop_app.services.context import Actor
from desktop_app.storage.models import Case, EarlyWarning, IssueClass
from desktop_app.ui.case_detail import CaseDetailDialog
from desktop_app.ui.classes_page import ClassesPage, ClassTableModel, WarningTableModel
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.main_window import MainWindow
from tests.helpers.navigation import click_page
from tests.test_classes import rising  # noqa: F401  (the cases across months)

pytestmark = pytest.mark.usefixtures("message_boxes")


@pytest.fixture
def window(qtbot, services: AppServices, clerk: Actor) -> Iterator[MainWindow]:
    runner = TaskRunner()
    main = MainWindow(UiContext(services, clerk, ChangeHub(), runner))
    qtbot.addWidget(main)
    main.resize(1366, 768)
    main.show()
    qtbot.waitExposed(main)
    yield main
    runner.wait()


def click(qtbot, button: QPushButton) -> None:
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def click_row(qtbot, table: QTableView, row: int) -> None:
    rect = table.visualRect(table.model().index(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def shown(model: QAbstractItemModel) -> list[list[str]]:
    return [
        [model.index(r, c).data() for c in range(model.columnCount())]
        for r in range(model.rowCount())
    ]


def open_page(qtbot, window: MainWindow) -> ClassesPage:
    click_page(qtbot, window, "一类事与预警")
    page = window.page("一类事与预警")
    assert isinstance(page, ClassesPage)
    qtbot.waitUntil(lambda: page.isVisible() and not page.is_loading, timeout=10_000)
    return page


def settle(qtbot, page: ClassesPage) -> None:
    qtbot.waitUntil(lambda: not page.is_loading, timeout=10_000)


def test_scan_then_turn_the_warning_into_a_class(
    qtbot,
    window: MainWindow,
    services: AppServices,
    rising: dict[str, list[int]],  # noqa: F811
    tmp_path: Path,
) -> None:
    page = open_page(qtbot, window)
    assert page.class_model.rowCount() == 0
    tab_bar = page.tabs.tabBar()
    qtbot.mouseClick(tab_bar, Qt.MouseButton.LeftButton, pos=tab_bar.tabRect(1).center())
    assert page.tabs.currentIndex() == 1
    assert page.warning_model.rowCount() == 0
    assert (page.history_spin.value(), page.p_spin.value(), page.volume_spin.value()) == (6, 10, 5)

    click(qtbot, page.scan_button)
    qtbot.waitUntil(lambda: page.warning_model.rowCount() == 1, timeout=10_000)
    settle(qtbot, page)
    assert page.scan_status.text() == "2026-11 扫描完成：新增预警 1 条"
    assert shown(page.warning_model) == [
        [
            "2026-11",
            "杞县医疗保障局",
            "医保社保",
            "流程不优",
            "7",
            "0.4",
            "<0.0001",
            "本月 7 件，前6个月同期平均 0.4 件，P<0.0001",
            "待研判",
        ]
    ]
    window.grab().save(str(tmp_path / "warnings.png"))

    click_row(qtbot, page.warning_table, 0)
    click(qtbot, page.classify_button)
    qtbot.waitUntil(lambda: page.class_model.rowCount() == 1, timeout=10_000)
    settle(qtbot, page)
    assert page.tabs.currentIndex() == 0
    [row] = page.class_model.rows
    assert (row.title, row.case_count, row.department_count) == (
        "杞县医疗保障局、医保社保、流程不优类问题集中反映",
        7,
        1,
    )
    # The new class is open in the editor, pre-filled, with its cases listed.
    qtbot.waitUntil(lambda: page.cases_list.count() == 7, timeout=10_000)
    assert page.title_edit.text() == row.title
    assert page.cases_label.text().startswith("关联事项 7 件，涉及 1 个部门")
    assert page.warning_model.rows[0].state == WarningState.CLASSED
    assert not page.classify_button.isEnabled()

    # The person completes the fix and saves.
    page.fix_kind.setCurrentIndex(page.fix_kind.findText("出台一次性告知材料清单"))
    page.fix_edit.setFocus()
    qtbot.keyClicks(page.fix_edit, "list v1")
    page.due_edit.clear()
    qtbot.keyClicks(page.due_edit, "2026-12-31")
    click(qtbot, page.save_button)
    qtbot.waitUntil(lambda: page.class_model.rows[0].fix_kind != "", timeout=10_000)
    settle(qtbot, page)
    assert shown(page.class_model)[0][3:6] == ["出台一次性告知材料清单", "2026-12-31", "整改中"]
    assert page.class_model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole) == (
        "责任：杞县医疗保障局\nlist v1"
    )
    window.grab().save(str(tmp_path / "classes.png"))

    # A linked case opens from the list and names its class.
    item = page.cases_list.item(0)
    rect = page.cases_list.visualItemRect(item)
    # A double click as Qt sees one: a click, then the second press.
    qtbot.mouseClick(page.cases_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(page.cases_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: bool(window.findChildren(CaseDetailDialog)), timeout=10_000)
    dialog = window.findChildren(CaseDetailDialog)[0]
    qtbot.waitUntil(
        lambda: not dialog.is_loading and "一类事" in dialog.info_values, timeout=10_000
    )
    assert dialog.info_values["一类事"].text() == row.title
    dialog.close()

    with services.db.read() as session:
        issue_class = session.scalars(select(IssueClass)).one()
        assert (issue_class.fix_kind, issue_class.fix_description) == ("materials_list", "list v1")
        linked = session.scalars(select(Case.id).where(Case.issue_class_id == issue_class.id))
        assert sorted(linked) == sorted(rising["rising"][1:])
        warning = session.scalars(select(EarlyWarning)).one()
        assert (warning.state, warning.issue_class_id) == ("classed", issue_class.id)


def test_a_bad_date_is_told_and_nothing_saved(
    qtbot, window: MainWindow, services: AppServices
) -> None:
    page = open_page(qtbot, window)
    qtbot.keyClicks(page.title_edit, "class A")
    qtbot.keyClicks(page.due_edit, "2026-13-01")
    click(qtbot, page.save_button)
    assert page.class_error.isVisible()
    assert "整改期限“2026-13-01”不是有效日期" in page.class_error.text()
    page.due_edit.clear()
    page.done_edit.setFocus()
    qtbot.keyClicks(page.done_edit, "2026-11-20")
    click(qtbot, page.save_button)
    qtbot.waitUntil(lambda: "整改措施" in page.class_error.text(), timeout=10_000)
    with services.db.read() as session:
        assert session.scalars(select(IssueClass)).all() == []


def test_models_pass_the_qt_model_tester(
    qtmodeltester,
    services: AppServices,
    clerk: Actor,
    rising: dict[str, list[int]],  # noqa: F811
) -> None:
    services.classes.scan_warnings(clerk)
    [warning] = services.classes.warnings()
    services.classes.class_from_warning(clerk, warning.id)
    warnings = WarningTableModel()
    warnings.set_rows(services.classes.warnings())
    qtmodeltester.check(warnings)
    classes = ClassTableModel()
    classes.set_rows(services.classes.list_classes())
    qtmodeltester.check(classes)
