"""审计日志 in the main window (issue 15 item 10), clicked through as the auditor: search by user,
action, case and date, read an entry's before and after, export CSV; the auditor changes
nothing, and other roles do not see the page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QListWidget

from desktop_app.errors import PermissionDenied
from desktop_app.services import audit
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor, FixedClock
from desktop_app.ui.audit_page import AuditPage
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.main_window import MainWindow
from tests.helpers.db import count_rows
from tests.helpers.factories import person_form
from tests.helpers.message_boxes import MessageBoxes
from tests.helpers.speed import fast_password_hashing  # noqa: F401


def open_window(qtbot, services: AppServices, actor: Actor) -> tuple[MainWindow, TaskRunner]:
    runner = TaskRunner()
    main = MainWindow(UiContext(services, actor, ChangeHub(), runner))
    qtbot.addWidget(main)
    main.show()
    qtbot.waitUntil(lambda: not main.ledger.is_loading)
    return main, runner


@pytest.fixture
def auditor_window(
    qtbot, services: AppServices, auditor: Actor, message_boxes: MessageBoxes
) -> Iterator[MainWindow]:
    message_boxes.allow("warning")
    main, runner = open_window(qtbot, services, auditor)
    yield main
    runner.wait()


def page_titles(navigation: QListWidget) -> list[str]:
    return [navigation.item(row).text() for row in range(navigation.count())]


def click_page(qtbot, window: MainWindow, title: str) -> None:
    navigation = window.navigation
    item = navigation.item(page_titles(navigation).index(title))
    rect = navigation.visualItemRect(item)
    qtbot.mouseClick(navigation.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def type_text(widget, text: str) -> None:
    """Text as a Chinese IME delivers it: one committed string (QTest types ASCII only)."""
    widget.setFocus()
    event = QInputMethodEvent("", [])
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def settled(page: AuditPage) -> bool:
    return not page.is_loading and not page.is_exporting


def click_row(qtbot, page: AuditPage, row: int) -> None:
    page.table.scrollTo(page.model.index(row, 0))
    qtbot.waitUntil(lambda: page.model.entry(row) is not None)
    rect = page.table.visualRect(page.model.index(row, 1))
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_only_the_auditor_has_the_audit_page(
    qtbot, services: AppServices, clerk: Actor, leader: Actor, message_boxes: MessageBoxes
) -> None:
    for actor in (clerk, leader):
        main, runner = open_window(qtbot, services, actor)
        assert "审计日志" not in page_titles(main.navigation)
        runner.wait()


def test_the_auditor_searches_reads_and_exports(
    qtbot,
    qtmodeltester,
    services: AppServices,
    clerk: Actor,
    auditor_window: MainWindow,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = services.intake.register(clerk, person_form())
    services.cases.withdraw(clerk, case.case_id, "当事人已自行解决")

    assert "审计日志" in page_titles(auditor_window.navigation)
    click_page(qtbot, auditor_window, "审计日志")
    page = auditor_window.audit
    assert auditor_window.pages.currentWidget() is page
    qtbot.waitUntil(lambda: settled(page) and page.user.count() > 1)
    total = page.model.rowCount()
    assert page.count_label.text() == f"共 {total} 条"
    qtmodeltester.check(page.model)

    # By user: only 张敏's entries.
    page.user.setCurrentIndex(page.user.findData("clerk1"))
    qtbot.waitUntil(lambda: settled(page) and page.model.rowCount() < total)
    assert "张敏（clerk1）" in page.user.currentText()
    rows = page.model.rowCount()
    for row in range(rows):
        qtbot.waitUntil(lambda row=row: page.model.entry(row) is not None)
        entry = page.model.entry(row)
        assert entry is not None and entry.user_name == "clerk1"

    # By action, labelled in Chinese.
    page.action.setCurrentIndex(page.action.findData("withdraw"))
    assert page.action.currentText() == "撤回事项（withdraw）"
    qtbot.waitUntil(lambda: settled(page) and page.model.rowCount() == 1)

    # By case number, typed: its entries, and the before/after of the one clicked.
    click = Qt.MouseButton.LeftButton
    qtbot.mouseClick(page.reset_button, click)
    qtbot.waitUntil(lambda: settled(page) and page.model.rowCount() >= total)
    type_text(page.case_number, case.number)
    qtbot.keyClick(page.case_number, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: settled(page) and page.model.rowCount() < total)
    actions = set()
    for row in range(page.model.rowCount()):
        qtbot.waitUntil(lambda row=row: page.model.entry(row) is not None)
        entry = page.model.entry(row)
        assert entry is not None
        actions.add(entry.action)
    assert {"register", "withdraw"} <= actions
    withdraw_row = next(
        row
        for row in range(page.model.rowCount())
        if (e := page.model.entry(row)) is not None and e.action == "withdraw"
    )
    click_row(qtbot, page, withdraw_row)
    assert "撤回事项" in page.detail_title.text()
    assert case.number in page.detail_title.text()
    fields = {
        page.detail.item(r, 0).text(): (
            page.detail.item(r, 1).text(),
            page.detail.item(r, 2).text(),
        )
        for r in range(page.detail.rowCount())
    }
    assert fields["状态（status）"][1] == "已撤回（withdrawn）"  # in Chinese, the code kept

    # A number no case has: said beside the search, nothing else changes.
    page.case_number.clear()
    type_text(page.case_number, "杞县9999-0001")
    qtbot.mouseClick(page.search_button, click)
    qtbot.waitUntil(lambda: settled(page) and page.error.isVisible())
    assert "没有编号为“杞县9999-0001”的事项" in page.error.text()

    # 导出CSV: the search to a file named in the file dialog.
    page.case_number.clear()
    type_text(page.case_number, case.number)
    qtbot.mouseClick(page.search_button, click)
    qtbot.waitUntil(lambda: settled(page) and not page.error.isVisible())
    shown = page.model.rowCount()
    target = tmp_path / "审计导出"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    qtbot.mouseClick(page.export_button, click)
    qtbot.waitUntil(lambda: settled(page) and "已导出" in page.export_note.text(), timeout=10_000)
    written = target.with_name("审计导出.csv")
    raw = written.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("序号,时间,用户名,姓名,操作")
    assert len(lines) == shown + 1
    # The export is itself on the log, under the auditor.
    qtbot.waitUntil(lambda: settled(page) and page.action.findData("export_audit_log") >= 0)
    page.case_number.clear()
    page.action.setCurrentIndex(page.action.findData("export_audit_log"))
    qtbot.waitUntil(lambda: settled(page) and page.model.rowCount() == 1)
    qtbot.waitUntil(lambda: page.model.entry(0) is not None)
    entry = page.model.entry(0)
    assert entry is not None and entry.user_name == "auditor"


def test_the_auditor_cannot_change_data(
    qtbot, services: AppServices, auditor: Actor, auditor_window: MainWindow
) -> None:
    """The auditor is not shown the intake form (Ctrl+N does nothing), and the service refuses
    a registration all the same."""
    cases_before = count_rows(services, "cases")
    assert "受理登记" not in page_titles(auditor_window.navigation)
    row = auditor_window.navigation.currentRow()
    qtbot.keyClick(auditor_window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert auditor_window.navigation.currentRow() == row
    with pytest.raises(PermissionDenied, match="无权受理登记"):
        services.intake.register(auditor, person_form())
    assert count_rows(services, "cases") == cases_before


def test_a_long_log_is_read_a_page_at_a_time(
    qtbot, services: AppServices, auditor_window: MainWindow, clock: FixedClock
) -> None:
    with services.db.write() as session:
        for n in range(3000):
            audit.record(
                session,
                at=clock.now() - timedelta(seconds=n),
                user_name="clerk1",
                action="update",
                entity="user",
                entity_uuid=f"u{n}",
            )
    click_page(qtbot, auditor_window, "审计日志")
    page = auditor_window.audit
    qtbot.waitUntil(lambda: settled(page) and page.model.rowCount() > 3000)
    qtbot.waitUntil(lambda: page.model.entry(0) is not None)
    assert page.model.cached_pages <= 2  # the rows on screen, not 3,000
    page.table.scrollToBottom()
    last = page.model.rowCount() - 1
    qtbot.waitUntil(lambda: page.model.entry(last) is not None)
    assert page.model.cached_pages <= 4


def test_a_date_bound_left_open_shows_this_month_when_its_calendar_opens(qtbot) -> None:
    """The ledger's and the audit log's 不限 bounds opened their calendars on January 2000."""
    from PySide6.QtCore import QDate, QPoint

    from desktop_app.ui.list_table import NO_DATE, bound_edit

    edit = bound_edit("起始日期")
    qtbot.addWidget(edit)
    edit.show()
    assert edit.date() == NO_DATE
    qtbot.waitExposed(edit)
    arrow = QPoint(edit.width() - 8, edit.height() // 2)  # the drop-down arrow
    qtbot.mouseClick(edit, Qt.MouseButton.LeftButton, pos=arrow)
    calendar = edit.calendarWidget()
    qtbot.waitUntil(calendar.isVisible)
    today = QDate.currentDate()
    assert (calendar.yearShown(), calendar.monthShown()) == (today.year(), today.month())
    assert edit.date() == NO_DATE  # nothing picked yet
