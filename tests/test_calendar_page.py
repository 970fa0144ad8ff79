"""期限日历 offscreen: the month sheet, today's figures, the roster, holidays and rules."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QDate, QRect, Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QWidget

from desktop_app.domain.deadlines import DeadlineKind, RuleKey
from desktop_app.domain.vocabulary import Approach, Cause, Nature
from desktop_app.services.app import AppServices
from desktop_app.services.cases import Triage
from desktop_app.services.context import Actor, Changes, FixedClock
from desktop_app.services.roster import DutyRole, Rotation
from desktop_app.ui.calendar import CalendarPage
from desktop_app.ui.calendar.looks import (
    BLUE,
    HOLIDAY_SHADE,
    OVERDUE_TINT,
    PANEL_DUE_SOON,
    PANEL_DUE_TODAY,
    PANEL_OVERDUE,
    WEEKEND_SHADE,
)
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.theme import RED, YELLOW
from tests.helpers.factories import person_form
from tests.helpers.holidays import complete_year
from tests.helpers.message_boxes import MessageBoxes
from tests.helpers.speed import fast_password_hashing  # noqa: F401

OpenPage = Callable[[Actor], CalendarPage]
WONT_TRIAGE = Triage(
    nature=Nature.WONT, approach=Approach.ORDER, causes=(Cause.ATTITUDE,), area="医保社保"
)


@pytest.fixture
def open_page(qtbot: Any, services: AppServices, message_boxes: MessageBoxes) -> Iterator[OpenPage]:
    # A message box would block an offscreen test forever: any that appears fails it.
    runners: list[TaskRunner] = []

    def open_for(actor: Actor) -> CalendarPage:
        runner = TaskRunner()
        runners.append(runner)
        page = CalendarPage(UiContext(services, actor, ChangeHub(), runner))
        qtbot.addWidget(page)
        page.resize(1150, 720)
        page.show()
        page.refresh()
        settle(qtbot, page)
        return page

    yield open_for
    for runner in runners:
        runner.wait()


def settle(qtbot: Any, page: CalendarPage) -> None:
    qtbot.waitUntil(lambda: not page.is_loading and page.board.view is not None, timeout=5000)


def triaged_case(
    services: AppServices, actor: Actor, clock: FixedClock, on: date, **form: Any
) -> tuple[int, str]:
    """A 不给办 case triaged on ``on``: due 5 working days later."""
    now = clock.at
    clock.at = datetime(on.year, on.month, on.day, 9)
    try:
        result = services.intake.register(actor, person_form(**form))
        services.cases.triage(actor, result.case_id, WONT_TRIAGE)
    finally:
        clock.at = now
    return result.case_id, result.number


def type_into(widget: QWidget, text: str) -> None:
    """Chinese as a Chinese IME delivers it: a committed string."""
    widget.setFocus()
    event = QInputMethodEvent("", [])
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def table_row(table: Any, first_column: str) -> int:
    for row in range(table.rowCount()):
        if table.item(row, 0).text().startswith(first_column):
            return row
    raise AssertionError(f"no row {first_column}")


def list_texts(widget: Any) -> list[str]:
    return [widget.item(row).text() for row in range(widget.count())]


# The board ------------------------------------------------------------------------------------


def test_month_navigation_buttons_keys_and_week_view(
    qtbot: Any, open_page: OpenPage, clerk: Actor
) -> None:
    page = open_page(clerk)
    assert page.tabs.tabText(0) == "期限日历"
    assert page.board.month_title.text() == "2026年11月"
    view = page.board.view
    assert view is not None and (view.year, view.month) == (2026, 11)

    page.board.next_button.click()
    assert page.board.month_title.text() == "2026年12月"
    settle(qtbot, page)
    assert page.board.view.month == 12
    page.board.previous_button.click()
    page.board.previous_button.click()
    assert page.board.month_title.text() == "2026年10月"
    page.board.today_button.click()
    assert page.board.month_title.text() == "2026年11月"

    page.activateWindow()
    page.board.grid.setFocus()
    qtbot.keyClick(page.board.grid, Qt.Key.Key_PageDown)
    assert page.board.month_title.text() == "2026年12月"
    qtbot.keyClick(page.board.grid, Qt.Key.Key_PageUp)
    assert page.board.month_title.text() == "2026年11月"
    settle(qtbot, page)
    assert page.board.view.month == 11

    page.board.week_mode_button.click()
    assert page.board.month_title.text() == "2026年11月23日—11月29日"
    settle(qtbot, page)
    assert page.board.week_board.days[0] == date(2026, 11, 23)
    assert not page.board.side_panel.isVisible()
    page.board.next_button.click()
    assert page.board.month_title.text() == "2026年11月30日—12月6日"
    page.board.month_mode_button.click()
    settle(qtbot, page)
    assert page.board.month_title.text() == "2026年12月"
    assert page.board.side_panel.isVisible()


def test_overdue_red_due_soon_amber_and_today_strip(
    qtbot: Any, open_page: OpenPage, services: AppServices, clerk: Actor, clock: FixedClock
) -> None:
    _, overdue = triaged_case(services, clerk, clock, date(2026, 11, 2), phone="13800000001")
    _, due_today = triaged_case(services, clerk, clock, date(2026, 11, 18), phone="13800000002")
    soon_id, soon = triaged_case(services, clerk, clock, date(2026, 11, 19), phone="13800000003")
    triaged_case(services, clerk, clock, date(2026, 11, 25), phone="13800000004")
    page = open_page(clerk)
    grid = page.board.grid

    red = grid.look(date(2026, 11, 9))
    assert red is not None and red.colour == RED and red.background == OVERDUE_TINT
    assert "超期 1" in grid.cell_text(date(2026, 11, 9))
    today = grid.look(date(2026, 11, 25))
    assert today is not None and today.today and today.colour == YELLOW
    assert grid.look(date(2026, 11, 26)).colour == YELLOW
    assert grid.look(date(2026, 11, 27)).colour == ""  # nothing falls due that day
    later = grid.look(date(2026, 12, 2))  # shown dimmed after the month, not yet pressing
    assert later is not None and later.dimmed and later.colour == BLUE

    strip = page.board.today_strip
    assert strip[PANEL_DUE_TODAY].text() == "今日到期 1"
    assert strip[PANEL_OVERDUE].text() == "已超期 1"
    assert strip[PANEL_DUE_SOON].text() == "即将到期 1（至 11月27日）"
    # Today's own list is shown first.
    assert any(due_today in text for text in list_texts(page.board.side_panel.day_items))

    strip[PANEL_OVERDUE].click()
    qtbot.waitUntil(lambda: "已超期" in page.board.side_panel.panel_title.text())
    settle(qtbot, page)
    texts = list_texts(page.board.side_panel.day_items)
    assert len(texts) == 1 and overdue in texts[0] and "已超期" in texts[0]
    assert "11月9日到期" in texts[0]

    qtbot.mouseClick(grid.cell_widget(date(2026, 11, 26)), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "11月26日" in page.board.side_panel.panel_title.text())
    settle(qtbot, page)
    texts = list_texts(page.board.side_panel.day_items)
    assert len(texts) == 1
    assert soon in texts[0] and "即将到期" in texts[0] and "王芳" in texts[0]

    item = page.board.side_panel.day_items.item(0)
    rect = page.board.side_panel.day_items.visualItemRect(item)
    viewport = page.board.side_panel.day_items.viewport()
    with qtbot.waitSignal(page.open_case, timeout=2000) as blocker:
        # A real double click: press and release first, then the double-click event.
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [soon_id]


def test_filters_week_columns_and_refresh_on_change(
    qtbot: Any,
    open_page: OpenPage,
    services: AppServices,
    clerk: Actor,
    admin: Actor,
    clock: FixedClock,
) -> None:
    medical = services.site.departments()[0]
    _, mine = triaged_case(
        services, clerk, clock, date(2026, 11, 18), stuck_department_id=medical.id
    )
    page = open_page(clerk)
    day = date(2026, 11, 25)
    assert "到期 1" in page.board.grid.cell_text(day)

    # Another user's case arrives through the change hub.
    _, theirs = triaged_case(services, admin, clock, date(2026, 11, 18), phone="13900000009")
    page._context.hub.publish(Changes(cases=True))
    qtbot.waitUntil(lambda: "到期 2" in page.board.grid.cell_text(day))

    page.board.department_filter.setCurrentIndex(page.board.department_filter.findData(medical.id))
    qtbot.waitUntil(lambda: "到期 1" in page.board.grid.cell_text(day))
    page.board.department_filter.setCurrentIndex(0)
    page.board.mine_only.setChecked(True)
    settle(qtbot, page)
    assert "到期 1" in page.board.grid.cell_text(day)
    assert any(mine in text for text in list_texts(page.board.side_panel.day_items))
    assert not any(theirs in text for text in list_texts(page.board.side_panel.day_items))
    page.board.mine_only.setChecked(False)
    page.board.kind_filter.setCurrentIndex(
        page.board.kind_filter.findData(DeadlineKind.VISIT.value)
    )
    settle(qtbot, page)
    assert "到期" not in page.board.grid.cell_text(day)
    page.board.kind_filter.setCurrentIndex(0)

    page.board.set_week_mode(True)
    settle(qtbot, page)
    wednesday = list_texts(page.board.week_board.columns[2])
    assert len(wednesday) == 2 and any(mine in text for text in wednesday)
    assert list_texts(page.board.week_board.columns[5]) == ["休息"]


def test_october_shows_national_day_and_the_makeup_saturday(
    qtbot: Any, open_page: OpenPage, clerk: Actor
) -> None:
    page = open_page(clerk)
    page.show_month(2026, 10)
    settle(qtbot, page)
    national_day = page.board.grid.look(date(2026, 10, 1))
    assert national_day is not None
    assert national_day.note == "国庆节" and national_day.badge == "休"
    assert national_day.background == HOLIDAY_SHADE
    makeup = page.board.grid.look(date(2026, 10, 10))
    assert makeup is not None and makeup.badge == "班" and makeup.note == "调休上班"
    assert makeup.background == "#ffffff"
    sunday = page.board.grid.look(date(2026, 10, 11))
    assert sunday is not None and sunday.badge == "" and sunday.background == WEEKEND_SHADE
    assert not page.board.warnings_label.isVisible()

    page.show_month(2027, 3)
    settle(qtbot, page)
    assert page.board.warnings_label.isVisible()
    assert "2027年的法定节假日安排尚未录入" in page.board.warnings_label.text()


def test_proof_box_shows_why_the_deadline_skips_national_day(
    qtbot: Any, open_page: OpenPage, clerk: Actor
) -> None:
    page = open_page(clerk)
    page.board.side_panel.proof.proof_days.setValue(3)
    page.board.side_panel.proof.proof_date.setDate(QDate(2026, 9, 30))
    qtbot.waitUntil(lambda: "10月10日" in page.board.side_panel.proof.proof_due.text())
    assert "周六" in page.board.side_panel.proof.proof_due.text()
    text = page.board.side_panel.proof.proof_text.toPlainText()
    assert "2026-10-01 周四 国庆节 — 不计" in text
    assert "2026-10-10 周六 调休上班（国庆节） — 第3个工作日" in text


# The roster -----------------------------------------------------------------------------------


def test_roster_generated_for_kaifeng_cycle_then_one_day_swapped(
    qtbot: Any, open_page: OpenPage, services: AppServices, admin: Actor
) -> None:
    page = open_page(admin)
    page.tabs.setCurrentIndex(1)
    for name, title in (("潘险峰", "副主任"), ("刘建华", "副书记")):
        page.roster.staff_role.setCurrentIndex(
            page.roster.staff_role.findData(DutyRole.LEADER.value)
        )
        type_into(page.roster.staff_name, name)
        type_into(page.roster.staff_title, title)
        page.roster.add_staff_button.click()
        qtbot.waitUntil(lambda n=name: f"“{n}”" in page.roster.roster_status.text())
        settle(qtbot, page)
    assert [t.split("　")[0] for t in list_texts(page.roster.staff_lists[DutyRole.LEADER])] == [
        "潘险峰",
        "刘建华",
    ]

    page.roster.generate_role.setCurrentIndex(
        page.roster.generate_role.findData(DutyRole.LEADER.value)
    )
    page.roster.generate_rotation.setCurrentIndex(
        page.roster.generate_rotation.findData(Rotation.CYCLE_14.value)
    )
    assert not page.roster.generate_weekday.isEnabled()
    for row in range(page.roster.generate_people.count()):
        page.roster.generate_people.item(row).setCheckState(Qt.CheckState.Checked)
    page.roster.generate_start.setDate(QDate(2026, 11, 1))
    page.roster.generate_end.setDate(QDate(2026, 12, 31))
    page.roster.generate_button.click()
    qtbot.waitUntil(lambda: "已生成" in page.roster.roster_status.text())
    settle(qtbot, page)

    table = page.roster.roster_table
    assert table.rowCount() == 30
    for row in range(table.rowCount()):
        day = date.fromisoformat(table.item(row, 0).text())
        shift = services.roster.leader_on(day)
        assert table.item(row, 3).text() == (shift.staff_name if shift else "")
    assert table.item(table_row(table, "2026-11-02"), 3).text() == "潘险峰"
    assert table.item(table_row(table, "2026-11-16"), 3).text() == "刘建华"
    assert table.item(table_row(table, "2026-11-01"), 2).text() == "周末"

    table.selectRow(table_row(table, "2026-11-25"))
    assert page.roster.adjust_button.isEnabled()
    page.roster.adjust_button.click()
    dialog = page.roster.shift_dialog
    assert dialog is not None and dialog.person.currentText().startswith("刘建华")
    dialog.person.setCurrentIndex(dialog.person.findText("潘险峰（副主任）"))
    type_into(dialog.note, "与刘建华调班")
    dialog.accept()
    qtbot.waitUntil(lambda: "已调整" in page.roster.roster_status.text())
    settle(qtbot, page)
    today_leader = services.roster.leader_on(date(2026, 11, 25))
    assert today_leader is not None and today_leader.staff_name == "潘险峰"
    assert today_leader.note == "与刘建华调班"
    assert table.item(table_row(table, "2026-11-25"), 3).text() == "潘险峰"
    assert "带班：潘险峰" in page.board.grid.cell_text(date(2026, 11, 25))
    assert page.board.duty_today.text() == "今日带班领导：潘险峰"


# Holidays and rules ---------------------------------------------------------------------------


def test_admin_adds_a_closure_and_the_open_deadline_moves(
    qtbot: Any,
    open_page: OpenPage,
    services: AppServices,
    admin: Actor,
    clerk: Actor,
    clock: FixedClock,
) -> None:
    case_id, number = triaged_case(services, clerk, clock, date(2026, 11, 25))
    assert services.cases.detail(case_id).due_date == date(2026, 12, 2)
    page = open_page(admin)
    page.tabs.setCurrentIndex(2)
    assert not page.holidays.reference_hint.isVisible()
    page.holidays.override_date.setDate(QDate(2026, 11, 30))
    page.holidays.override_working.setCurrentIndex(page.holidays.override_working.findData(False))
    type_into(page.holidays.override_name, "台风停工")
    page.holidays.save_override_button.click()
    qtbot.waitUntil(lambda: "调整为" in page.holidays.recomputed_text.toPlainText())
    settle(qtbot, page)

    assert (
        f"{number} 办理时限由 2026-12-02 调整为 2026-12-03"
        in page.holidays.recomputed_text.toPlainText()
    )
    detail = services.cases.detail(case_id)
    assert detail.due_date == date(2026, 12, 3)
    assert any("节假日安排调整" in entry.summary for entry in detail.timeline)
    assert page.holidays.overrides_table.rowCount() == 1
    assert page.holidays.overrides_table.item(0, 2).text() == "台风停工"
    assert page.holidays.overrides_table.item(0, 1).text() == "休息"
    closure = page.board.grid.look(date(2026, 11, 30))
    assert closure is not None and closure.note == "台风停工" and closure.badge == "休"
    assert "到期 1" in page.board.grid.cell_text(date(2026, 12, 3))

    page.holidays.overrides_table.selectRow(0)
    assert page.holidays.override_name.text() == "台风停工"
    page.holidays.delete_override_button.click()
    qtbot.waitUntil(lambda: "已删除" in page.holidays.calendar_status.text())
    settle(qtbot, page)
    assert services.cases.detail(case_id).due_date == date(2026, 12, 2)
    assert page.holidays.overrides_table.rowCount() == 0


def test_clerk_sees_holidays_rules_and_roster_read_only(
    qtbot: Any, open_page: OpenPage, clerk: Actor
) -> None:
    page = open_page(clerk)
    page.tabs.setCurrentIndex(2)
    assert page.holidays.reference_hint.isVisible()
    assert "只有管理员可以修改节假日和期限规则" in page.holidays.reference_hint.text()
    for widget in (
        page.holidays.save_override_button,
        page.holidays.import_button,
        page.holidays.override_name,
        page.holidays.save_rules_button,
        *page.holidays.rule_spins.values(),
    ):
        assert not widget.isEnabled()
    assert page.holidays.rule_spins[RuleKey.WONT].value() == 5
    page.tabs.setCurrentIndex(1)
    assert (
        not page.roster.generate_button.isVisible() and not page.roster.add_staff_button.isVisible()
    )
    page.roster.roster_table.selectRow(0)
    assert not page.roster.adjust_button.isEnabled()


def test_admin_saves_deadline_rules(
    qtbot: Any, open_page: OpenPage, services: AppServices, admin: Actor
) -> None:
    page = open_page(admin)
    page.tabs.setCurrentIndex(2)
    assert page.holidays.rule_spins[RuleKey.HARD].value() == 10
    page.holidays.rule_spins[RuleKey.WONT].setValue(6)
    page.holidays.due_soon_spin.setValue(3)
    page.holidays.save_rules_button.click()
    qtbot.waitUntil(lambda: "已保存" in page.holidays.rules_status.text())
    rules = services.calendar.rules()
    assert rules.working_days(RuleKey.WONT) == 6 and rules.due_soon_days == 3
    settle(qtbot, page)
    # The yellow horizon follows the rule: three working days after 11月25日.
    assert page.board.today_strip[PANEL_DUE_SOON].text() == "即将到期 0（至 11月30日）"


def test_import_next_years_schedule_from_an_excel_csv(
    qtbot: Any,
    open_page: OpenPage,
    services: AppServices,
    admin: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    message_boxes: MessageBoxes,
) -> None:
    schedule = tmp_path / "2027年节假日安排.csv"
    rows = complete_year(2027, "2027-01-01,休息,元旦", "2027-02-06,休息,春节").splitlines()
    schedule.write_bytes("\r\n".join(rows).encode("gb18030"))  # as Excel saves it in China
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(schedule), ""))
    message_boxes.answer(QMessageBox.StandardButton.Yes)
    page = open_page(admin)
    page.tabs.setCurrentIndex(2)
    page.holidays.complete_year_check.setChecked(True)
    page.holidays.complete_year.setValue(2027)
    page.holidays.import_button.click()
    qtbot.waitUntil(lambda: "已导入" in page.holidays.calendar_status.text())
    (question,) = message_boxes.texts("question")
    assert "并标记 2027 年已完整录入" in question and "没有事项的期限会因此改变" in question
    settle(qtbot, page)
    assert services.calendar.imported_years() == [2027]
    assert "2027年" in page.holidays.years_label.text()
    assert page.holidays.overrides_table.rowCount() == len(rows) - 1  # the header
    assert page.holidays.recomputed_text.toPlainText() == "没有未办结事项的期限因此改变。"
    page.show_month(2027, 1)
    settle(qtbot, page)
    assert not page.board.warnings_label.isVisible()
    assert page.board.grid.look(date(2027, 1, 1)).note == "元旦"


def test_export_month_pdf_runs_on_the_worker_and_says_where(
    qtbot: Any,
    open_page: OpenPage,
    clerk: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[dict[str, Any]] = []

    def render_month_pdf(view: Any, *, site_name: str, generated_at: datetime, out: Path) -> Path:
        calls.append({"view": view, "site_name": site_name, "generated_at": generated_at})
        out.write_bytes(b"%PDF-1.4 fake")
        return out

    fake = types.ModuleType("desktop_app.documents.calendar_pdf")
    fake.render_month_pdf = render_month_pdf  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "desktop_app.documents.calendar_pdf", fake)
    target = tmp_path / "十一月期限"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(target), ""))
    page = open_page(clerk)
    assert page.board.export_button.text() == "导出11月PDF…"
    page.board.export_button.click()
    qtbot.waitUntil(lambda: page.board.last_export is not None)
    saved = tmp_path / "十一月期限.pdf"
    assert page.board.last_export == saved and saved.exists()
    assert str(saved) in page.board.export_status.text()
    assert calls[0]["view"].month == 11
    assert calls[0]["site_name"] == "杞县办不成事监督窗口"
    assert calls[0]["generated_at"] == datetime(2026, 11, 25, 9, 30)


def test_admin_sets_the_urge_notices_feedback_days_in_the_rules_form(
    qtbot: Any, open_page: OpenPage, services: AppServices, admin: Actor
) -> None:
    page = open_page(admin)
    page.tabs.setCurrentIndex(2)
    spin = page.holidays.rule_spins[RuleKey.URGE_FEEDBACK]
    assert spin.value() == 1 and "催办通知" in spin.toolTip()  # issue 14: one working day
    spin.setValue(2)
    qtbot.mouseClick(page.holidays.save_rules_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "已保存" in page.holidays.rules_status.text())
    assert services.calendar.rules().working_days(RuleKey.URGE_FEEDBACK) == 2


def calendar_in_window(
    qtbot: Any, services: AppServices, actor: Actor, width: int, height: int
) -> tuple[Any, TaskRunner]:
    """The real main window at ``width``×``height`` logical pixels with the application's fonts
    and style sheet (they decide the sizes), 期限日历 opened by its key; and its runner."""
    from desktop_app.ui.app import make_application
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.theme import STYLE_SHEET

    app = QApplication.instance()
    if app is not None and app.styleSheet() != STYLE_SHEET:  # type: ignore[attr-defined]
        make_application()
    runner = TaskRunner()
    window = MainWindow(UiContext(services, actor, ChangeHub(), runner))
    qtbot.addWidget(window)
    window.resize(width, height)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: not window.ledger.is_loading)
    qtbot.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)  # 期限日历
    return window, runner


def test_a_six_week_month_fits_a_laptop_screen_under_the_recovery_key_banner(
    qtbot: Any, services: AppServices, admin: Actor, message_boxes: MessageBoxes
) -> None:
    """On a 1366×768 laptop (1366×728 without the taskbar) the page area scrolled and the
    month's last week was below the screen's edge, with the administrator's 恢复密钥 banner
    above: the page took the height its layout would like, not the area's."""
    window, runner = calendar_in_window(qtbot, services, admin, 1366, 728)
    assert window.recovery_banner.isVisible()
    page = window.calendar
    settle(qtbot, page)
    qtbot.waitUntil(lambda: page.board.grid.isVisible())
    grid = page.board.grid
    days = grid.days()
    assert len(days) == 42  # November 2026: six weeks, Monday first
    scroller = window.findChild(QWidget, "pageScroller")
    viewport = scroller.viewport()  # type: ignore[union-attr]
    last = grid.cell_widget(days[-1])
    assert last is not None
    bottom = last.mapTo(viewport, last.rect().bottomLeft()).y()
    assert bottom <= viewport.height(), (bottom, viewport.height())
    assert scroller.verticalScrollBar().maximum() == 0  # type: ignore[union-attr]
    runner.wait()


def test_a_schedule_says_which_deadlines_it_moves_before_it_is_imported(
    qtbot: Any,
    open_page: OpenPage,
    services: AppServices,
    admin: Actor,
    clerk: Actor,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    message_boxes: MessageBoxes,
) -> None:
    """Every open deadline across a day the file changes moved at once, with no question (a
    duty leader's walk): the import now says which, and 否 changes nothing."""
    case_id, number = triaged_case(services, clerk, clock, date(2026, 11, 25))
    assert services.cases.detail(case_id).due_date == date(2026, 12, 2)
    schedule = tmp_path / "县城停电.csv"
    schedule.write_text("日期,是否上班,名称\n2026-11-30,休息,县城停电\n", encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(schedule), ""))
    page = open_page(admin)
    page.tabs.setCurrentIndex(2)
    button = page.holidays.import_button

    proof = page.board.side_panel.proof
    qtbot.waitUntil(lambda: "12月2日" in proof.proof_due.text())  # today + 5 working days

    message_boxes.answer(QMessageBox.StandardButton.No)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "未导入" in page.holidays.calendar_status.text())
    (question,) = message_boxes.texts("question")
    assert "将有 1 件事项的 1 个期限随之调整" in question
    assert f"{number} 办理时限 12-02→12-03" in question
    assert services.cases.detail(case_id).due_date == date(2026, 12, 2)  # nothing changed
    assert services.calendar.overrides() == []

    message_boxes.answer(QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "已导入" in page.holidays.calendar_status.text())
    settle(qtbot, page)
    assert services.cases.detail(case_id).due_date == date(2026, 12, 3)
    assert f"{number} 办理时限由 2026-12-02 调整为 2026-12-03" in (
        page.holidays.recomputed_text.toPlainText()
    )
    # The board's 期限计算 counts again across the closure (it kept 12-02 until reopened).
    qtbot.waitUntil(lambda: "12月3日" in proof.proof_due.text())
    assert "县城停电 — 不计" in proof.proof_text.toPlainText()

    # A file refused is said beside the import, not over the last import's moves (it stood at
    # 正在核对… above "以下 1 项期限已随之调整").
    schedule.write_text("日期,是否上班,名称\n2026-13-45,休息,x\n", encoding="utf-8")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "未导入" in page.holidays.calendar_status.text())
    assert "县城停电.csv：第2行" in page.holidays.calendar_status.text()
    assert page.holidays.recomputed_text.toPlainText() == ""


def test_the_months_last_week_can_be_scrolled_to_at_125_percent_under_the_warning_strip(
    qtbot: Any, services: AppServices, admin: Actor, message_boxes: MessageBoxes
) -> None:
    """At 125 % (1366×728 is 1093×582 logical pixels) the strip about 2027's schedule wraps
    onto a second line that the page's least height did not count: a six-week month's last
    week stayed under the page area's edge however far it was scrolled."""
    window, runner = calendar_in_window(qtbot, services, admin, 1093, 582)
    page = window.calendar
    settle(qtbot, page)
    page.show_month(2027, 5)  # six weeks, and the strip: 2027's schedule is not in
    settle(qtbot, page)
    assert len(page.board.grid.days()) == 42
    strip = page.board.warnings_label
    assert strip.isVisible() and "2027年" in strip.text()
    assert strip.height() > strip.minimumSizeHint().height()  # wrapped
    scroller = window.findChild(QWidget, "pageScroller")
    bar = scroller.verticalScrollBar()  # type: ignore[union-attr]
    viewport = scroller.viewport()  # type: ignore[union-attr]
    last = page.board.grid.cell_widget(page.board.grid.days()[-1])
    assert last is not None

    def last_week_in_sight() -> bool:
        bar.setValue(bar.maximum())  # as far down as it goes, once the layout has settled
        return last.mapTo(viewport, last.rect().bottomLeft()).y() <= viewport.height()

    qtbot.waitUntil(last_week_in_sight, timeout=3000)
    runner.wait()


def test_a_long_holiday_name_is_cut_with_an_ellipsis_and_whole_in_the_tooltip(
    qtbot: Any, open_page: OpenPage, services: AppServices, admin: Actor, clerk: Actor
) -> None:
    """A walk found a closure's name cut off at the cell's edge with nothing to say so."""
    name = "县城自来水管网改造全城停水大厅闭厅"
    services.calendar.save_override(admin, date(2026, 12, 30), working=False, name=name)
    page = open_page(clerk)
    page.show_month(2026, 12)
    settle(qtbot, page)
    cell = page.board.grid.cell_widget(date(2026, 12, 30))
    assert cell is not None and cell.look is not None and cell.look.note == name
    assert cell.shown_note.endswith("…") and name.startswith(cell.shown_note[:-1])
    assert name in cell.toolTip()
    narrow = cell.shown_note
    page.resize(1900, 720)  # wider: more of the name
    qtbot.waitUntil(lambda: len(cell.shown_note) > len(narrow), timeout=2000)


def test_a_case_number_too_wide_for_a_week_column_breaks_after_its_sites_name(
    qtbot: Any, open_page: OpenPage, services: AppServices, clerk: Actor, clock: FixedClock
) -> None:
    """At 125 % on a laptop a week column broke 杞县-2026-0020 after 杞."""
    _, number = triaged_case(services, clerk, clock, date(2026, 11, 18))  # due on 11-25
    prefix, _dash, rest = number.partition("-")
    page = open_page(clerk)
    page.board.week_mode_button.click()
    settle(qtbot, page)
    wednesday = page.board.week_board.columns[2]
    assert wednesday.item(0).text().startswith(f"{number}\n")  # wide enough: whole
    page.resize(640, 720)
    qtbot.waitUntil(lambda: wednesday.item(0).text().startswith(f"{prefix}-\n{rest}\n"))
    # The card is as tall as its wrapped lines at the column's width (at 125 % its last line
    # was cut with "…", the column empty below it).
    card = wednesday.item(0)
    needed = wednesday.fontMetrics().boundingRect(
        QRect(0, 0, wednesday.viewport().width() - 12, 100_000),
        int(Qt.TextFlag.TextWordWrap),
        card.text(),
    )
    assert card.sizeHint().height() >= needed.height()
    page.resize(1150, 720)
    qtbot.waitUntil(lambda: wednesday.item(0).text().startswith(f"{number}\n"))
