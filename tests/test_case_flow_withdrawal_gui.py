"""撤回事项 by clicks: the case's received assignment then reads 随撤回关闭 on the 交办 tab and
on the timeline (issue 16: it read 随办结关闭, as if the case had concluded)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from tests.helpers.message_boxes import MessageBoxes
from tests.helpers.speed import fast_password_hashing  # noqa: F401
from tests.test_case_detail_gui import click, open_dialog, replace_text
from tests.test_case_path import assigned


@pytest.fixture
def context(
    services: AppServices, clerk: Actor, message_boxes: MessageBoxes
) -> Iterator[UiContext]:
    runner = TaskRunner()
    yield UiContext(services, clerk, ChangeHub(), runner)
    runner.wait()


def test_withdrawing_by_clicks_shows_the_assignment_closed_with_the_withdrawal(
    qtbot, context: UiContext, services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id, _assignment_id = assigned(services, clerk, leader)
    dialog = open_dialog(qtbot, context, case_id)
    panel = dialog.assignments
    qtbot.waitUntil(lambda: not panel.is_loading)
    assert panel.table.item(0, 2).text() == "已签收"

    dialog.tabs.setCurrentWidget(dialog.withdraw_button.parentWidget())
    replace_text(qtbot, dialog.withdraw_reason, "当事人已自行办妥")
    click(qtbot, dialog.withdraw_button)

    qtbot.waitUntil(lambda: panel.table.item(0, 2).text() == "随撤回关闭", timeout=10_000)
    last = dialog.timeline.topLevelItem(dialog.timeline.topLevelItemCount() - 1)
    assert last.text(1) == "撤回" and "随撤回关闭" in last.text(2)
    assert "随办结关闭" not in last.text(2)
