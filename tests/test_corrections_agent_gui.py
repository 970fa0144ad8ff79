"""更正… puts right who came for the person (代办人), by clicks: the case dialog then shows the
agent as corrected, their numbers masked; 清空 removes the agent (issue 16)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt

from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from tests.helpers.factories import id_for, person_form
from tests.helpers.message_boxes import MessageBoxes
from tests.helpers.speed import fast_password_hashing  # noqa: F401
from tests.test_case_detail_gui import click, info_text, open_correction, open_dialog, replace_text

AGENT = {"agent_name": "王建国", "agent_phone": "13900001111", "agent_relation": "舅舅"}


@pytest.fixture
def context(
    services: AppServices, clerk: Actor, message_boxes: MessageBoxes
) -> Iterator[UiContext]:
    runner = TaskRunner()
    yield UiContext(services, clerk, ChangeHub(), runner)
    runner.wait()


def test_correcting_the_agent_s_phone_and_id_by_clicks(
    qtbot, context: UiContext, services: AppServices, clerk: Actor
) -> None:
    case_id = services.intake.register(clerk, person_form(**AGENT)).case_id
    dialog = open_dialog(qtbot, context, case_id)
    correction = open_correction(qtbot, dialog)
    assert correction.agent_name.text() == "王建国"  # pre-filled, the number in full
    assert correction.agent_phone.text() == "13900001111"

    replace_text(qtbot, correction.agent_phone, "13900002222")
    replace_text(qtbot, correction.agent_id_number, id_for("王建国"))
    replace_text(qtbot, correction.reason, "代办人电话录错，补登身份证")
    click(qtbot, correction.save_button)

    qtbot.waitUntil(lambda: correction.saved is not None)
    qtbot.waitUntil(lambda: "139****2222" in info_text(dialog))
    assert "13900002222" not in info_text(dialog)
    last = dialog.timeline.topLevelItem(dialog.timeline.topLevelItemCount() - 1)
    assert last.text(1) == "更正"
    assert "代办人电话：139****1111→139****2222" in last.text(2)
    assert services.corrections.current(case_id).case.agent_id_number == id_for("王建国")


def test_a_wrong_agent_phone_is_told_beside_its_box(
    qtbot, context: UiContext, services: AppServices, clerk: Actor
) -> None:
    case_id = services.intake.register(clerk, person_form()).case_id
    dialog = open_dialog(qtbot, context, case_id)
    correction = open_correction(qtbot, dialog)
    replace_text(qtbot, correction.agent_name, "王建国")
    replace_text(qtbot, correction.agent_phone, "1390000")
    replace_text(qtbot, correction.reason, "补登代办人")
    click(qtbot, correction.save_button)

    qtbot.waitUntil(lambda: correction.errors["agent_phone"].isVisible())
    assert correction.saved is None
    assert services.corrections.current(case_id).case.agent_name == ""


def test_clearing_the_agent_by_clicks_removes_them(
    qtbot, context: UiContext, services: AppServices, clerk: Actor
) -> None:
    case_id = services.intake.register(clerk, person_form(**AGENT)).case_id
    dialog = open_dialog(qtbot, context, case_id)
    assert "王建国" in info_text(dialog)
    correction = open_correction(qtbot, dialog)

    correction.scroll_area.ensureWidgetVisible(correction.remove_agent_button)
    click(qtbot, correction.remove_agent_button)
    assert correction.agent_name.text() == correction.agent_phone.text() == ""
    replace_text(qtbot, correction.reason, "本人来访，并无代办人")
    click(qtbot, correction.save_button)

    qtbot.waitUntil(lambda: correction.saved is not None)
    qtbot.waitUntil(lambda: "王建国" not in info_text(dialog))
    assert services.corrections.current(case_id).case.agent_name == ""


def test_enter_then_esc_saves_the_correction_and_the_case_shows_it(
    qtbot, context: UiContext, services: AppServices, clerk: Actor, monkeypatch
) -> None:
    """Esc right after Enter closed the dialog while the save ran on the worker: the
    correction was saved, but the case dialog behind kept the old name under its banner
    "此事项刚在其他席位或窗口被修改". The dialog now stays until the save is done."""
    import time

    case_id = services.intake.register(clerk, person_form(**AGENT)).case_id
    dialog = open_dialog(qtbot, context, case_id)
    correction = open_correction(qtbot, dialog)
    correct = services.corrections.correct

    def slow_correct(*args, **kwargs):  # the worker still busy when Esc comes
        time.sleep(0.3)
        return correct(*args, **kwargs)

    monkeypatch.setattr(services.corrections, "correct", slow_correct)
    replace_text(qtbot, correction.agent_phone, "13900002222")
    replace_text(qtbot, correction.reason, "代办人电话录错")
    qtbot.keyClick(correction.reason, Qt.Key.Key_Return)
    qtbot.keyClick(correction, Qt.Key.Key_Escape)
    assert correction.isVisible()  # not closed while saving

    qtbot.waitUntil(lambda: correction.saved is not None)
    qtbot.waitUntil(lambda: "139****2222" in info_text(dialog))
    assert not dialog.stale_banner.isVisible()
