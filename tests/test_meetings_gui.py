"""联席会议 screen: recording a meeting by clicking — two cases found by number or title, a
follow-up assignment — then the list, the matters, the minutes; a form with no chair or topic is
refused in Chinese and saves nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QListWidget, QWidget
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from desktop_app.domain.assignment_flow import AssignmentState
from desktop_app.domain.case_flow import EventKind
from desktop_app.domain.vocabulary import Approach, Cause, Nature
from desktop_app.services.app import AppServices
from desktop_app.services.cases import Triage
from desktop_app.services.context import Actor, Changes
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.meeting_dialog import MeetingDialog
from desktop_app.ui.meetings_page import MeetingsPage
from desktop_app.ui.operations import alive
from tests.helpers.factories import person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401

pytestmark = pytest.mark.usefixtures("message_boxes")


@pytest.fixture
def context(services: AppServices, clerk: Actor) -> Iterator[UiContext]:
    runner = TaskRunner()
    yield UiContext(services, clerk, ChangeHub(), runner)
    runner.wait()


def type_into(widget: QWidget, text: str) -> None:
    """Chinese as a Chinese IME delivers it: a committed string."""
    widget.setFocus()
    event = QInputMethodEvent("", [])
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def _triaged(services: AppServices, clerk: Actor, name: str, title: str) -> int:
    case_id = services.intake.register(clerk, person_form(name=name, title=title)).case_id
    services.cases.triage(
        clerk, case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
    )
    return case_id


def _page(qtbot: QtBot, context: UiContext) -> MeetingsPage:
    page = MeetingsPage(context)
    qtbot.addWidget(page)
    page.resize(1366, 768)
    page.show()
    qtbot.waitUntil(lambda: page.count_label.text().startswith("共"))
    return page


def _open_dialog(qtbot: QtBot, page: MeetingsPage) -> MeetingDialog:
    qtbot.mouseClick(page.record_button, Qt.MouseButton.LeftButton)
    dialog = page.dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.loaded)
    return dialog


def _check(qtbot: QtBot, attendees: QListWidget, row: int) -> None:
    rect = attendees.visualItemRect(attendees.item(row))
    qtbot.mouseClick(attendees.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.keyClick(attendees, Qt.Key.Key_Space)


def _add_case(qtbot: QtBot, dialog: MeetingDialog, text: str) -> None:
    dialog.case_search.clear()
    type_into(dialog.case_search, text)
    qtbot.mouseClick(dialog.find_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.case_choices.count() > 0 and dialog.find_button.isEnabled())
    assert text in dialog.case_choices.currentText()
    qtbot.mouseClick(dialog.add_case_button, Qt.MouseButton.LeftButton)


def test_recording_a_meeting_with_a_follow_up_by_clicking(
    qtbot: QtBot,
    qtmodeltester: ModelTester,
    services: AppServices,
    clerk: Actor,
    leader: Actor,
    context: UiContext,
) -> None:
    first = _triaged(services, clerk, "王芳", "医保结算查不到参保信息")
    second = _triaged(services, clerk, "李娜", "异地就医备案办不下来")
    first_number = services.cases.detail(first).number
    page = _page(qtbot, context)
    assert page.count_label.text() == "共 0 次会议"
    dialog = _open_dialog(qtbot, page)

    type_into(dialog.place, "县纪委监委三楼会议室")
    type_into(dialog.chair, "潘险峰")
    type_into(dialog.topic, "医保结算问题会商")
    _check(qtbot, dialog.attendees, 0)
    _check(qtbot, dialog.attendees, 1)

    _add_case(qtbot, dialog, first_number)
    type_into(dialog.discussion, "医保局说明参保信息迁移未完成。")
    type_into(dialog.decision, "医保局5个工作日内完成迁移并答复群众。")
    dialog.department.setFocus()
    qtbot.keyClick(dialog.department, Qt.Key.Key_Down)  # the first department
    assert dialog.department.currentText() == "杞县医疗保障局"
    for _ in range(6):  # from 按期限规则 (-1) up to 5
        qtbot.keyClick(dialog.days, Qt.Key.Key_Up)
    assert dialog.days.value() == 5

    _add_case(qtbot, dialog, "异地就医")
    type_into(dialog.decision, "并入第一项处理，窗口跟踪。")
    assert dialog.matter_list.count() == 2

    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.count_label.text() == "共 1 次会议")
    qtmodeltester.check(page.model)

    (row,) = services.meetings.register(clerk)
    assert row.number == "杞纪窗纪〔2026〕1号" and row.follow_ups == 1
    detail = services.meetings.get(clerk, row.id)
    assert detail.attendees == ("杞县医疗保障局", "杞县不动产登记中心")
    assert detail.place == "县纪委监委三楼会议室"
    follow, plain = detail.items
    assert (follow.case_id, follow.working_days, follow.department) == (
        first,
        5,
        "杞县医疗保障局",
    )
    assert follow.assignment_state == AssignmentState.DRAFT.value
    assert plain.case_id == second and plain.assignment_id is None
    kinds = [e.kind for e in services.cases.detail(second).timeline]
    assert EventKind.MEETING.value in kinds

    # What the user sees: the meeting selected, its matters and the draft waiting to be signed.
    model = page.model
    assert model.data(model.index(0, 0)) == "杞纪窗纪〔2026〕1号"
    qtbot.waitUntil(lambda: page.item_model.rowCount() == 2)
    qtmodeltester.check(page.item_model)
    items = page.item_model
    assert items.data(items.index(0, 2)) == "杞县医疗保障局，5个工作日"
    assert items.data(items.index(0, 3)).startswith("待签发")

    # The leader signs the draft like any other; the list then shows the slip number.
    services.assignments.issue(leader, follow.assignment_id or 0)
    context.hub.publish(Changes(cases=True))  # as the case page's 签发 publishes it
    qtbot.waitUntil(lambda: "杞纪窗交〔2026〕1号" in str(items.data(items.index(0, 3))))

    # Open the case from the matters, and the minutes.
    opened: list[int] = []
    page.open_case.connect(opened.append)
    rect = page.items.visualRect(items.index(1, 0))
    qtbot.mouseClick(page.items.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseClick(page.open_button, Qt.MouseButton.LeftButton)
    assert opened == [second]
    qtbot.mouseClick(page.minutes_button, Qt.MouseButton.LeftButton)
    preview = page.preview
    assert preview is not None
    qtbot.waitUntil(lambda: preview.document.pageCount() >= 1, timeout=15_000)
    preview.close()


def test_a_meeting_without_chair_or_topic_is_refused_and_nothing_saved(
    qtbot: QtBot,
    services: AppServices,
    clerk: Actor,
    context: UiContext,
) -> None:
    _triaged(services, clerk, "王芳", "医保结算查不到参保信息")
    page = _page(qtbot, context)
    dialog = _open_dialog(qtbot, page)
    _add_case(qtbot, dialog, "医保结算")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.error.isVisible() and dialog.save_button.isEnabled())
    message = dialog.error.text()
    for expected in (
        "请填写会议主持人",
        "请填写会议议题",
        "请选择参会单位",
        "第1项：请填写会议决定",
    ):
        assert expected in message
    assert dialog.isVisible()
    assert services.meetings.register(clerk) == []

    # Put right, the same form saves.
    type_into(dialog.chair, "潘险峰")
    type_into(dialog.topic, "会商")
    _check(qtbot, dialog.attendees, 0)
    type_into(dialog.decision, "限期办结")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.count_label.text() == "共 1 次会议")
    assert not alive(dialog)  # closed (and deleted) once saved
