"""The real widgets, offscreen: type into the intake form, save, find the case in the ledger."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QDateTimeEdit, QLabel, QMessageBox

from desktop_app.domain.vocabulary import (
    Approach,
    CaseStatus,
    Cause,
    Nature,
    Outcome,
    ReplyMethod,
)
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor, FixedClock
from desktop_app.services.ledger import CaseFilter, SortKey
from desktop_app.ui.case_table import COLUMNS, CaseTableModel
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.startup import LoginDialog, SetupDialog
from tests.helpers.factories import ADMIN_PASSWORD, VALID_ID, enterprise_form, person_form
from tests.helpers.message_boxes import MessageBoxes


@pytest.fixture
def context(services: AppServices, clerk: Actor) -> Iterator[UiContext]:
    runner = TaskRunner()
    yield UiContext(services, clerk, ChangeHub(), runner)
    runner.wait()


@pytest.fixture
def window(qtbot, context: UiContext, message_boxes: MessageBoxes) -> MainWindow:
    # A message box would block an offscreen test forever: any that appears fails it.
    main = MainWindow(context)
    qtbot.addWidget(main)
    main.resize(1280, 800)
    main.show()
    qtbot.waitUntil(lambda: not main.ledger.is_loading)
    return main


def type_into(qtbot, widget, text: str) -> None:
    """ASCII as key presses; Chinese as a Chinese IME delivers it: a committed string."""
    widget.setFocus()
    if text.isascii():
        qtbot.keyClicks(widget, text)
        return
    event = QInputMethodEvent("", [])
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def test_intake_typed_saved_and_found_in_ledger(qtbot, window: MainWindow) -> None:
    window.go_to("受理登记")
    page = window.intake
    type_into(qtbot, page.name, "赵𠀀明")
    type_into(qtbot, page.id_number, "11010519491231002X")
    type_into(qtbot, page.phone, "13912345678")
    type_into(qtbot, page.title, "不动产权证办不下来")
    type_into(qtbot, page.description, "集资房未做土地分割，办不了不动产权证，已往返五次。")
    page.area.setCurrentIndex(page.area.findData("不动产登记"))
    page.visits_count.setValue(5)
    qtbot.keyClick(page.title, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: page.last_result is not None)
    number = page.last_result.number
    assert number == "杞县-2026-0001"
    assert number in page.banner.text()
    assert page.name.text() == ""  # the form is ready for the next person

    window.go_to("事项台账")
    ledger = window.ledger
    type_into(qtbot, ledger.search, "𠀀明")
    qtbot.waitUntil(lambda: ledger.model.rowCount() == 1 and not ledger.is_loading, timeout=5000)
    index = ledger.model.index(0, 0)
    assert ledger.model.data(index) == number
    title_column = [key for key, _ in COLUMNS].index(SortKey.TITLE)
    assert ledger.model.data(ledger.model.index(0, title_column)) == "不动产权证办不下来"
    assert "1 件" in ledger.count_label.text()


def _fill_a_matter(qtbot, page) -> None:
    type_into(qtbot, page.name, "王芳")
    type_into(qtbot, page.id_number, VALID_ID)
    type_into(qtbot, page.phone, "13912345678")
    type_into(qtbot, page.title, "医保结算查不到参保信息")
    type_into(qtbot, page.description, "多次往返未果")
    page.area.setCurrentIndex(page.area.findData("医保社保"))


def test_the_time_follows_the_clock_until_the_clerk_sets_it(
    qtbot, window: MainWindow, services: AppServices, clock: FixedClock
) -> None:
    """A form cleared at 09:00 and filled at 09:07 saved (and printed) 09:00: the time shown
    stays with the clock until the clerk sets it, and what the clerk sets is kept."""
    window.go_to("受理登记")
    page = window.intake
    start = clock.at
    clock.at = start + timedelta(minutes=7, seconds=40)
    _fill_a_matter(qtbot, page)
    page.save_button.click()
    qtbot.waitUntil(lambda: page.last_result is not None)
    first_id = page.last_result.case_id
    first = services.cases.detail(first_id)
    assert first.received_at == (start + timedelta(minutes=7)).replace(second=0)

    # The next visitor came at 08:30 and is registered now: the time the clerk types is kept,
    # though the clock moves on meanwhile.
    clock.at += timedelta(minutes=5)
    page.received_at.setFocus()
    page.received_at.setSelectedSection(QDateTimeEdit.Section.HourSection)
    qtbot.keyClicks(page.received_at, "08")
    page.received_at.setSelectedSection(QDateTimeEdit.Section.MinuteSection)
    qtbot.keyClicks(page.received_at, "30")
    clock.at += timedelta(minutes=3)
    page._clock_timer.timeout.emit()  # the timer ticks: a time the clerk set stays
    _fill_a_matter(qtbot, page)
    page.save_button.click()
    qtbot.waitUntil(lambda: page.last_result.case_id != first_id)
    second = services.cases.detail(page.last_result.case_id)
    assert (second.received_at.hour, second.received_at.minute) == (8, 30)


def test_a_time_later_today_is_refused_and_nothing_is_saved(
    qtbot, window: MainWindow, services: AppServices, clock: FixedClock
) -> None:
    """A later hour today was taken, and the reply (never before the matter, never after now)
    could then not be recorded."""
    window.go_to("受理登记")
    page = window.intake
    _fill_a_matter(qtbot, page)
    page.save_button.click()
    qtbot.waitUntil(lambda: page.last_result is not None)
    assert page.banner.isVisible()  # ✔ 已登记 the first visitor's matter
    _fill_a_matter(qtbot, page)
    page.received_at.setFocus()
    page.received_at.setSelectedSection(QDateTimeEdit.Section.HourSection)
    later = (clock.at + timedelta(hours=2)).hour
    qtbot.keyClicks(page.received_at, f"{later:02d}")
    page.save_button.click()
    qtbot.waitUntil(lambda: not page.is_saving)
    assert f"反映时间不能晚于现在（{clock.at:%H:%M}）" == page.errors["received_at"].text()
    assert not page.banner.isVisible()  # not above the next visitor's errors
    assert page.errors["received_at"].isVisible()
    assert services.ledger.count() == 1


def test_intake_errors_show_beside_fields_and_nothing_is_saved(
    qtbot, window: MainWindow, services: AppServices
) -> None:
    window.go_to("受理登记")
    page = window.intake
    type_into(qtbot, page.name, "李强")
    type_into(qtbot, page.id_number, "110105194912310021")  # wrong check digit
    type_into(qtbot, page.phone, "2345678")  # no area code
    page.save_button.click()
    qtbot.waitUntil(lambda: not page.is_saving)
    assert "校验位" in page.errors["id_number"].text()
    assert page.errors["id_number"].isVisible()
    assert "区号" in page.errors["phone"].text()
    assert page.errors["title"].text()
    assert page.errors["area"].text()
    assert services.ledger.count() == 0

    # A wrong-looking but real ID is accepted with a recorded reason.
    assert page.override_reason.isVisible()
    type_into(qtbot, page.override_reason, "旧版身份证，经核对原件无误")
    page.phone.clear()
    type_into(qtbot, page.phone, "0378-2345678")
    type_into(qtbot, page.title, "医保结算查不到参保信息")
    type_into(qtbot, page.description, "多次往返未果")
    page.area.setCurrentIndex(page.area.findData("医保社保"))
    page.save_button.click()
    qtbot.waitUntil(lambda: page.last_result is not None)
    detail = services.cases.detail(page.last_result.case_id)
    assert detail.id_override_reason == "旧版身份证，经核对原件无误"


def fill_matter(qtbot, page) -> None:
    type_into(qtbot, page.phone, "13912345678")
    type_into(qtbot, page.title, "公积金提取证明开不出来")
    type_into(qtbot, page.description, "多次往返未果")
    page.area.setCurrentIndex(page.area.findData("医保社保"))


def test_a_known_id_under_another_name_asks_and_a_confirmed_rename_is_recorded(
    qtbot, window: MainWindow, services: AppServices, clerk: Actor
) -> None:
    """Issue 14 item 13: the form shows the record on file and asks; nothing is renamed
    until the clerk says it is the same person and why."""
    first = services.intake.register(clerk, person_form(address="杞县城关镇")).case_id
    window.go_to("受理登记")
    page = window.intake
    type_into(qtbot, page.name, "王方")
    type_into(qtbot, page.id_number, VALID_ID)
    fill_matter(qtbot, page)
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: page.name_conflict_panel.isVisible() and not page.is_saving)
    shown = page.name_conflict_text.text()
    assert "王芳" in shown and "王方" in shown and "杞县城关镇" in shown and "1 件事项" in shown
    assert "王芳" in page.errors["name"].text()
    assert services.ledger.count() == 1

    # No reason, no rename.
    qtbot.mouseClick(page.rename_button, Qt.MouseButton.LeftButton)
    assert "更名理由" in page.rename_reason_error.text()
    assert not page.is_saving and services.ledger.count() == 1

    reason = "本人已更名，核对户口簿无误"
    type_into(qtbot, page.rename_reason, reason)
    qtbot.mouseClick(page.rename_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.last_result is not None)

    assert "改为“王方”" in page.banner.text()
    assert not page.name_conflict_panel.isVisible()
    assert services.cases.detail(first).complainant_name == "王方"
    assert services.cases.detail(page.last_result.case_id).complainant_name == "王方"
    assert reason in services.cases.detail(first).timeline[-1].summary


def test_a_known_id_under_another_name_was_a_typing_error(
    qtbot, window: MainWindow, services: AppServices, clerk: Actor
) -> None:
    first = services.intake.register(clerk, person_form()).case_id
    window.go_to("受理登记")
    page = window.intake
    type_into(qtbot, page.name, "王方")
    type_into(qtbot, page.id_number, VALID_ID)
    qtbot.keyClick(page.id_number, Qt.Key.Key_Tab)  # leaving the number asks at once
    qtbot.waitUntil(page.name_conflict_panel.isVisible)
    fill_matter(qtbot, page)

    qtbot.mouseClick(page.typo_button, Qt.MouseButton.LeftButton)

    assert page.name.text() == "王芳"
    assert not page.name_conflict_panel.isVisible()
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.last_result is not None)
    assert services.cases.detail(page.last_result.case_id).complainant_name == "王芳"
    assert [e.label for e in services.cases.detail(first).timeline] == ["受理登记"]


def test_enterprise_fields_switch_and_related_cases_link_a_repeat_visit(
    qtbot, window: MainWindow, services: AppServices, clerk: Actor
) -> None:
    earlier = services.intake.register(clerk, enterprise_form())
    window.go_to("受理登记")
    page = window.intake
    page.enterprise_radio.setChecked(True)
    assert page.credit_code.isVisible() and not page.id_number.isVisible()
    type_into(qtbot, page.credit_code, "91350100M000100Y43")
    page._look_up_related()
    qtbot.waitUntil(lambda: page.related_list.count() == 1)
    assert earlier.number in page.related_list.item(0).text()
    page.related_list.setCurrentRow(0)
    page.link_button.click()
    assert earlier.number in page.link_label.text()
    type_into(qtbot, page.name, "杞县丰源农业科技有限公司")
    type_into(qtbot, page.contact_person, "李强")
    type_into(qtbot, page.phone, "0378-2345678")
    type_into(qtbot, page.title, "许可证仍未办下来")
    type_into(qtbot, page.description, "第二次来窗口反映")
    page.area.setCurrentIndex(page.area.findData("市场准入许可"))
    page.save()
    qtbot.waitUntil(lambda: page.last_result is not None)
    assert page.last_result.repeat_visit
    assert page.last_result.number == earlier.number
    assert services.ledger.count() == 1
    assert services.cases.detail(earlier.case_id).visits_count == 2


def test_case_detail_triage_and_conclude(
    qtbot, window: MainWindow, services: AppServices, clerk: Actor
) -> None:
    result = services.intake.register(clerk, person_form())
    dialog = window.open_case(result.case_id)  # owned by the window, deleted on close
    assert dialog is not None
    qtbot.waitUntil(lambda: not dialog.is_loading)  # the case is read on the worker
    assert result.number in dialog.title_label.text()
    dialog.nature.setCurrentIndex(dialog.nature.findData(Nature.HARD.value))
    dialog.approach.setCurrentIndex(dialog.approach.findData(Approach.PUSH.value))
    dialog.cause_boxes[Cause.PROCESS].setChecked(True)
    dialog.triage_button.click()
    qtbot.waitUntil(lambda: dialog.detail.nature is Nature.HARD)
    assert [e.label for e in dialog.detail.timeline][-1] == "甄别分类"
    assert dialog.timeline.topLevelItemCount() == 2

    type_into(qtbot, dialog.what_done, "督促县医保局切换参保信息，当天完成报销")
    type_into(qtbot, dialog.reply_text, "已电话告知报销完成")
    dialog.outcome.setCurrentIndex(dialog.outcome.findData(Outcome.DONE.value))  # none chosen yet
    dialog.reply_method.setCurrentIndex(dialog.reply_method.findData(ReplyMethod.PHONE.value))
    dialog.conclude_button.click()
    qtbot.waitUntil(lambda: dialog.detail.status is CaseStatus.CONCLUDED)
    assert dialog.visit_button.isEnabled()
    assert not dialog.conclude_button.isEnabled()
    dialog.close()


def test_dashboard_figure_opens_filtered_ledger(
    qtbot, window: MainWindow, services: AppServices, clerk: Actor
) -> None:
    for _ in range(3):
        services.intake.register(clerk, person_form())
    window.context.hub.publish(services.intake.register(clerk, enterprise_form()).changes)
    button, _filter = window.dashboard.figures["awaiting_triage"]
    qtbot.waitUntil(lambda: button.number.text() == "4")
    button.click()
    assert window.pages.currentWidget() is window.ledger
    qtbot.waitUntil(lambda: window.ledger.model.rowCount() == 4 and not window.ledger.is_loading)
    assert window.ledger.status.currentData() == "untriaged"


def test_case_model_is_lazy_and_passes_qt_model_tester(
    qtbot, qtmodeltester, services: AppServices, clerk: Actor
) -> None:
    # One visitor, 450 cases, saved in one transaction. (A new phone number at each visit made
    # every save re-index all of the visitor's earlier cases: 100,000 re-indexings, half a
    # minute, spent on what this test is not about.)
    services.intake.register_many(clerk, [person_form()] * 450)
    model = CaseTableModel(services.ledger)
    model.set_ids(model.load_ids())
    assert model.rowCount() == 450
    assert model.cached_pages == 0  # nothing fetched until a row is shown
    assert model.data(model.index(449, 0))  # last row: fetches only its page
    assert model.cached_pages == 1
    qtmodeltester.check(model)

    model.sort([k for k, _ in COLUMNS].index(SortKey.NUMBER), Qt.SortOrder.AscendingOrder)
    model.set_ids(model.load_ids())
    assert model.data(model.index(0, 0)) == "杞县-2026-0001"
    model.set_filter(CaseFilter(text="0450"))
    model.set_ids(model.load_ids())
    assert model.rowCount() == 1


def test_login_dialog_rejects_wrong_password_and_accepts_right_one(
    qtbot, services: AppServices
) -> None:
    dialog = LoginDialog(services)
    qtbot.addWidget(dialog)
    dialog.username.setText("admin")
    dialog.password.setText("wrong-password1")
    dialog.try_login()
    assert dialog.actor is None
    assert "不正确" in dialog.error.text()
    dialog.password.setText(ADMIN_PASSWORD)
    dialog.try_login()
    assert dialog.actor is not None and dialog.actor.username == "admin"


def test_setup_dialog_validates_then_creates_the_site(qtbot, bare_services: AppServices) -> None:
    dialog = SetupDialog(bare_services)
    qtbot.addWidget(dialog)
    dialog.code.setText("99999")
    dialog.name.setText("测试窗口")
    # The hint states the rule the password is held to (it said 含字母和数字, and abcd1234,
    # which follows that, was refused).
    assert "至少3种" in dialog.password.placeholderText()
    dialog.password.setText("short")
    dialog.password_again.setText("short")
    dialog.save()
    assert "6位" in dialog.errors["code"].text()
    assert "密码" in dialog.errors["admin_password"].text()
    assert not bare_services.site.is_initialised()
    dialog.code.setText("410221")
    dialog.short_name.setText("杞县")
    dialog.password.setText("Secret2026")
    dialog.password_again.setText("Secret2026")
    dialog.save()
    assert bare_services.site.is_initialised()
    assert bare_services.site.info().short_name == "杞县"


def test_qt_dialogs_speak_chinese(qtbot) -> None:
    from desktop_app.ui.app import make_application

    app = make_application()
    assert isinstance(app, QApplication)
    box = QMessageBox(QMessageBox.Icon.Question, "t", "t", QMessageBox.StandardButton.Cancel)
    qtbot.addWidget(box)
    assert box.button(QMessageBox.StandardButton.Cancel).text() == "取消"


def test_bundled_font_draws_chinese(qtbot) -> None:
    from PySide6.QtGui import QFont, QFontMetrics

    from desktop_app.ui.app import make_application
    from desktop_app.ui.theme import install_fonts

    app = make_application()
    family = install_fonts(app)
    assert family in app.font().families()
    metrics = QFontMetrics(QFont(family))
    assert all(metrics.inFontUcs4(ord(ch)) for ch in "办不成事监督窗口受理登记贰")


def test_font_chain_ends_with_installed_rare_character_fonts() -> None:
    """A name with an Extension B character (𠅤) is drawn from 宋体-ExtB where Windows has it."""
    from desktop_app.ui.theme import font_families

    windows = {"Microsoft YaHei UI", "SimSun", "SimSun-ExtB", "Arial"}
    assert font_families(["Microsoft YaHei UI"], windows) == ["Microsoft YaHei UI", "SimSun-ExtB"]
    eleven = windows | {"SimSun-ExtG"}
    assert font_families(["SimSun"], eleven) == ["SimSun", "SimSun-ExtB", "SimSun-ExtG"]
    assert font_families(["DejaVu Sans", "Droid Sans Fallback"], {"DejaVu Sans"}) == [
        "DejaVu Sans",
        "Droid Sans Fallback",
    ]
    assert font_families(["SimSun-ExtB"], windows) == ["SimSun-ExtB"]


def test_main_window_status_bar_and_pages(window: MainWindow) -> None:
    assert "410221" in window.site_label.text()
    assert "张敏" in window.user_label.text()
    titles = [window.navigation.item(i).text() for i in range(window.navigation.count())]
    assert titles[:3] == ["工作台", "受理登记", "事项台账"]
    assert "系统设置" in titles and "期限日历" in titles


def test_attachment_from_gui_is_stored_and_listed(
    qtbot, window: MainWindow, services: AppServices, tmp_path: Path
) -> None:
    scan = tmp_path / "身份证 复印件.png"
    scan.write_bytes(b"\x89PNG fake scan")
    window.go_to("受理登记")
    page = window.intake
    page.add_attachments([scan])
    type_into(qtbot, page.name, "王芳")
    type_into(qtbot, page.phone, "13812345678")
    type_into(qtbot, page.title, "社保卡补办")
    type_into(qtbot, page.description, "补办社保卡要求回户籍地")
    page.area.setCurrentIndex(page.area.findData("医保社保"))
    page.save()
    qtbot.waitUntil(lambda: page.last_result is not None)
    detail = services.cases.detail(page.last_result.case_id)
    assert [a.filename for a in detail.attachments] == ["身份证 复印件.png"]
    assert detail.attachments[0].path.read_bytes() == b"\x89PNG fake scan"


def test_overdue_deadline_is_red_in_the_ledger_and_proven_in_the_case(
    qtbot, window: MainWindow, services: AppServices, clerk: Actor, clock
) -> None:
    from datetime import datetime

    from PySide6.QtGui import QBrush

    from desktop_app.services.cases import Triage
    from desktop_app.ui.theme import RED

    today = clock.at
    clock.at = datetime(2026, 11, 2, 9, 0)  # triaged three weeks ago: 不给办, 5 working days
    result = services.intake.register(clerk, person_form())
    services.cases.triage(
        clerk,
        result.case_id,
        Triage(Nature.WONT, Approach.ORDER, (Cause.ATTITUDE,), "医保社保"),
    )
    clock.at = today
    window.context.hub.publish(result.changes)
    ledger = window.ledger
    qtbot.waitUntil(lambda: ledger.model.rowCount() == 1 and not ledger.is_loading)
    due_column = [key for key, _ in COLUMNS].index(SortKey.DUE)
    index = ledger.model.index(0, due_column)
    assert ledger.model.data(index) == "2026-11-09"
    brush = ledger.model.data(index, Qt.ItemDataRole.ForegroundRole)
    assert isinstance(brush, QBrush) and brush.color().name() == RED
    assert ledger.model.data(index, Qt.ItemDataRole.ToolTipRole) == "已超期"

    dialog = window.open_case(result.case_id)
    assert dialog is not None
    qtbot.waitUntil(lambda: not dialog.is_loading)  # the case is read on the worker
    proof = dialog.proof.toPlainText()
    assert "5 个工作日" in proof and "2026-11-07 周六 周末" in proof
    assert "第5个工作日" in proof
    dialog.close()


def test_qt_bindings_do_not_leak_references_to_none(qtbot) -> None:
    """PySide6 6.12.0 on Python 3.11 decrements None's refcount on every void call; a window
    that runs all day would abort with "none_dealloc". pyproject.toml caps the version."""
    import sys

    from PySide6.QtWidgets import QLabel

    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(2000):
        label.setText("办")
    assert sys.getrefcount(None) - before > -100


# Issue 12: the ledger from the keyboard, 待签发, messages that leave, what a reason excuses ----


def test_down_from_the_ledger_search_reaches_the_results_and_enter_opens_the_case(
    qtbot, window: MainWindow, services: AppServices, clerk: Actor
) -> None:
    first = services.intake.register(clerk, person_form(phone="13900000001"))
    second = services.intake.register(clerk, person_form(phone="13900000002"))
    window.context.hub.publish(second.changes)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.go_to("事项台账")
    ledger = window.ledger
    qtbot.keyClick(ledger, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert ledger.search.hasFocus()
    type_into(qtbot, ledger.search, "2026-0001")
    qtbot.waitUntil(lambda: ledger.model.rowCount() == 1 and not ledger.is_loading)

    qtbot.keyClick(ledger.search, Qt.Key.Key_Down)
    assert ledger.table.hasFocus()
    assert ledger.table.selectionModel().selectedRows()[0].row() == 0
    qtbot.keyClick(ledger.table, Qt.Key.Key_Up)  # ↑ from the first row: back to the search
    assert ledger.search.hasFocus()
    qtbot.keyClick(ledger.search, Qt.Key.Key_Down)
    assert ledger.table.hasFocus()
    opened: list[int] = []
    ledger.open_case.connect(opened.append)
    with qtbot.waitSignal(ledger.open_case):
        qtbot.keyClick(ledger.table, Qt.Key.Key_Return)
    assert opened == [first.case_id]
    from desktop_app.ui.case_detail import CaseDetailDialog

    dialogs = [d for d in window.findChildren(CaseDetailDialog) if d.isVisible()]
    qtbot.waitUntil(lambda: not dialogs[0].is_loading)  # the case is read on the worker
    assert len(dialogs) == 1 and first.number in dialogs[0].title_label.text()
    dialogs[0].close()


def test_more_filters_fold_away_and_say_when_they_narrow_the_list(
    qtbot, window: MainWindow, services: AppServices, clerk: Actor
) -> None:
    window.context.hub.publish(services.intake.register(clerk, person_form()).changes)
    window.go_to("事项台账")
    ledger = window.ledger
    qtbot.waitUntil(lambda: ledger.model.rowCount() == 1 and not ledger.is_loading)
    assert not ledger.area.isVisible()
    assert ledger.more_button.text() == "更多筛选 ▾"

    qtbot.mouseClick(ledger.more_button, Qt.MouseButton.LeftButton)
    assert ledger.area.isVisible()
    ledger.area.setFocus()
    while ledger.area.currentData() != "不动产登记":
        qtbot.keyClick(ledger.area, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: ledger.model.rowCount() == 0 and not ledger.is_loading)
    qtbot.mouseClick(ledger.more_button, Qt.MouseButton.LeftButton)
    assert not ledger.area.isVisible()
    assert "（1）" in ledger.more_button.text()  # a hidden filter is narrowing the list

    qtbot.mouseClick(ledger.reset_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ledger.model.rowCount() == 1 and not ledger.is_loading)
    assert ledger.more_button.text() == "更多筛选 ▾"

    # A dashboard figure that filters by date opens the ledger with the dates in view.
    window.go_to("工作台")
    today, _filter = window.dashboard.figures["registered_today"]
    qtbot.mouseClick(today, Qt.MouseButton.LeftButton)
    assert window.pages.currentWidget() is ledger
    assert ledger.date_from.isVisible() and ledger.date_from.text() == "2026-11-25"
    assert "（1）" in ledger.more_button.text()
    qtbot.waitUntil(lambda: ledger.model.rowCount() == 1 and not ledger.is_loading)


def test_awaiting_signature_tile_opens_the_ledger_on_the_drafts(
    qtbot, window: MainWindow, services: AppServices, clerk: Actor
) -> None:
    from desktop_app.services.cases import Triage

    waiting = services.intake.register(clerk, person_form(phone="13900000001"))
    services.intake.register(clerk, person_form(phone="13900000002"))
    services.cases.triage(
        clerk, waiting.case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
    )
    _ids, changes = services.assignments.create(
        clerk,
        waiting.case_id,
        department_id=services.site.departments()[0].id,
        requirements="请核实并办理，书面反馈监督窗口。",
    )
    window.context.hub.publish(changes)
    button, _filter = window.dashboard.figures["awaiting_signature"]
    assert "待签发" in button.caption.text()
    qtbot.waitUntil(lambda: button.number.text() == "1")

    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    ledger = window.ledger
    assert window.pages.currentWidget() is ledger
    qtbot.waitUntil(lambda: ledger.model.rowCount() == 1 and not ledger.is_loading)
    assert ledger.status.currentText().startswith("待签发")
    assert ledger.model.data(ledger.model.index(0, 0)) == waiting.number

    # The same filter from the ledger's status list.
    qtbot.mouseClick(ledger.reset_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ledger.model.rowCount() == 2 and not ledger.is_loading)
    ledger.status.setFocus()
    while ledger.status.currentData() != "unsigned":
        qtbot.keyClick(ledger.status, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: ledger.model.rowCount() == 1 and not ledger.is_loading)


def test_messages_leave_as_soon_as_the_field_is_right_and_the_form_does_not_jump(
    qtbot, window: MainWindow
) -> None:
    window.go_to("受理登记")
    page = window.intake
    type_into(qtbot, page.name, "李强")
    type_into(qtbot, page.id_number, "11010519491231002")  # the X still to come
    type_into(qtbot, page.phone, "13912345678")
    form_host = page.title.parentWidget().parentWidget()
    title_at = page.title.mapTo(form_host, page.title.rect().topLeft())
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(page.errors["area"].text()))
    assert "17位" in page.errors["id_number"].text()
    assert page.errors["area"].text() == "请选择领域"
    assert page.title.mapTo(form_host, page.title.rect().topLeft()) == title_at  # no jump

    qtbot.keyClicks(page.id_number, "X")
    assert page.errors["id_number"].text() == ""
    assert not page.id_number.property("invalid")
    page.area.setFocus()
    qtbot.keyClick(page.area, Qt.Key.Key_Down)
    assert page.area.currentData()
    assert page.errors["area"].text() == ""
    assert page.errors["title"].text()  # still wrong: still said
    type_into(qtbot, page.title, "医保结算查不到参保信息")
    assert page.errors["title"].text() == ""
    assert page.title.mapTo(form_host, page.title.rect().topLeft()) == title_at


def test_a_reason_cannot_save_a_number_that_is_no_id(
    qtbot, window: MainWindow, services: AppServices
) -> None:
    window.go_to("受理登记")
    page = window.intake
    type_into(qtbot, page.name, "李强")
    type_into(qtbot, page.id_number, "123456")
    qtbot.keyClick(page.id_number, Qt.Key.Key_Tab)  # leaving the field checks it
    assert "6位" in page.errors["id_number"].text()
    assert not page.override_reason.isVisible()  # no reason can excuse it: none is offered

    # A wrong check digit on a real card may be excused…
    page.id_number.clear()
    type_into(qtbot, page.id_number, "110105194912310021")
    qtbot.keyClick(page.id_number, Qt.Key.Key_Tab)
    assert "校验位" in page.errors["id_number"].text()
    assert page.override_reason.isVisible()
    type_into(qtbot, page.override_reason, "test")
    assert page.errors["id_number"].text() == ""
    # …but the reason does not carry over to a number that cannot be an ID.
    page.id_number.clear()
    type_into(qtbot, page.id_number, "123456")
    type_into(qtbot, page.phone, "13912345678")
    type_into(qtbot, page.title, "医保结算查不到参保信息")
    type_into(qtbot, page.description, "多次往返未果")
    page.area.setCurrentIndex(page.area.findData("医保社保"))
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(page.errors["id_number"].text()))
    assert "不能凭确认理由保存" in page.errors["id_number"].text()
    assert page.last_result is None
    assert services.ledger.count() == 0


def test_the_status_bar_names_todays_duty_leader_read_on_the_worker(
    qtbot, window: MainWindow, services: AppServices, admin: Actor
) -> None:
    from desktop_app.services.context import Changes
    from desktop_app.services.roster import DutyRole

    qtbot.waitUntil(lambda: window.duty_label.text() == "今日带班领导：未排班")
    staff, _ = services.roster.save_staff(
        admin, name="潘险峰", duty_role=DutyRole.LEADER, title="副主任"
    )
    today = services.clock.now().date()
    services.roster.set_shift(admin, today, DutyRole.LEADER, staff.id)

    window.context.hub.publish(Changes(settings=True))  # as the roster's save publishes

    qtbot.waitUntil(lambda: window.duty_label.text() == "今日带班领导：潘险峰（副主任）")


def test_a_demo_sites_log_in_does_not_state_a_password_it_does_not_know(
    qtbot, bare_services: AppServices
) -> None:
    """The demo's own accounts share the demo's password; the administrator's is whatever the
    site was set up with (the hint said Admin12345 to a site set up with another)."""
    from desktop_app.domain.vocabulary import SiteLevel
    from desktop_app.services.demo import DEMO_PASSWORD

    bare_services.site.init_site(
        code="410221",
        name="杞县办不成事监督窗口",
        short_name="杞县",
        level=SiteLevel.COUNTY,
        admin_password="Other-Pass-2026",
        is_demo=True,
    )
    dialog = LoginDialog(bare_services)
    qtbot.addWidget(dialog)
    hint = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert DEMO_PASSWORD in hint and "clerk1" in hint
    assert "Admin12345" not in hint and "admin" in hint


def test_tabbing_on_after_a_suspect_credit_code_does_not_fall_into_its_reason(
    qtbot, window: MainWindow, services: AppServices
) -> None:
    """企业 with a code whose check digit is suspect: 确认理由 appears right under the code
    once it is left, and Tab goes on 联系人 → 联系电话 as on the 个人 form (it came after 联系人
    and the phone typed on went into it, the warning gone)."""
    window.go_to("受理登记")
    page = window.intake
    qtbot.mouseClick(page.enterprise_radio, Qt.MouseButton.LeftButton)
    type_into(qtbot, page.name, "杞县某商贸有限公司")
    type_into(qtbot, page.credit_code, "91410221MA9XK3L2PK")
    qtbot.keyClick(page.credit_code, Qt.Key.Key_Tab)
    assert page.contact_person.hasFocus() and page.override_reason.isVisible()
    type_into(qtbot, page.contact_person, "张经理")
    qtbot.keyClick(page.contact_person, Qt.Key.Key_Tab)
    assert page.phone.hasFocus()
    type_into(qtbot, page.phone, "13912345678")
    assert page.override_reason.text() == "" and page.errors["credit_code"].text() != ""
    code, reason, contact = (
        w.mapTo(page, QPoint(0, 0)).y()
        for w in (page.credit_code, page.override_reason, page.contact_person)
    )
    assert code < reason < contact  # right under the code
