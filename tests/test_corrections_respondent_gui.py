"""更正… names who is complained about, by clicks: the case dialog then shows it (issue 16)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, Qt

from desktop_app.domain.vocabulary import Conduct
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from tests.helpers.factories import person_form
from tests.helpers.message_boxes import MessageBoxes
from tests.helpers.speed import fast_password_hashing  # noqa: F401
from tests.test_case_detail_gui import click, info_text, open_correction, open_dialog, replace_text


@pytest.fixture
def context(
    services: AppServices, clerk: Actor, message_boxes: MessageBoxes
) -> Iterator[UiContext]:
    runner = TaskRunner()
    yield UiContext(services, clerk, ChangeHub(), runner)
    runner.wait()


def test_naming_the_respondent_after_intake_by_clicks(
    qtbot, context: UiContext, services: AppServices, clerk: Actor
) -> None:
    case_id = services.intake.register(
        clerk, person_form(respondent_unit="县人民医院", respondent_conduct=("cold",))
    ).case_id
    dialog = open_dialog(qtbot, context, case_id)
    correction = open_correction(qtbot, dialog)
    assert correction.respondent_unit.text() == "县人民医院"  # pre-filled
    assert correction.conduct_boxes[Conduct.COLD].isChecked()

    replace_text(qtbot, correction.respondent_name, "刘某")
    replace_text(qtbot, correction.respondent_post, "医保结算窗口工作人员")
    for conduct in (Conduct.COLD, Conduct.SHIRK):  # untick one, tick another
        box = correction.conduct_boxes[conduct]
        correction.scroll_area.ensureWidgetVisible(box)
        qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    assert not correction.conduct_boxes[Conduct.COLD].isChecked()
    assert correction.conduct_boxes[Conduct.SHIRK].isChecked()
    replace_text(qtbot, correction.reason, "现场督办时查明经办人")
    click(qtbot, correction.save_button)

    qtbot.waitUntil(lambda: correction.saved is not None)
    qtbot.waitUntil(lambda: "刘某" in info_text(dialog))
    assert "刘某 · 医保结算窗口工作人员 · 县人民医院；推诿扯皮" in info_text(dialog)
    last = dialog.timeline.topLevelItem(dialog.timeline.topLevelItemCount() - 1)
    assert last.text(1) == "更正" and "被反映人姓名：（空）→刘某" in last.text(2)
    assert services.referrals.prefill(clerk, case_id).person_name == "刘某"
