"""The case path after assignment in the case window (issue 16): the visit calls and the 待重拨
list, 不满意 reopening with a proposed assignment, concluding over an open assignment, the
written basis and 现场督办 — clicked as a clerk or leader would, checked on screen and in the
database."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QWidget

from desktop_app.domain.assignment_flow import AssignmentState
from desktop_app.domain.vocabulary import (
    Approach,
    CaseStatus,
    Cause,
    Nature,
    Outcome,
    ReplyMethod,
    VisitReason,
)
from desktop_app.services.app import AppServices
from desktop_app.services.cases import Triage
from desktop_app.services.context import Actor
from desktop_app.services.ledger import CaseFilter
from desktop_app.ui.basis_dialog import BasisDialog
from desktop_app.ui.case_detail import CaseDetailDialog
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.onsite_dialog import OnsiteDialog
from desktop_app.ui.reply_dialog import ReplyDialog
from desktop_app.ui.theme import apply_style, install_fonts
from tests.conftest import NOW
from tests.helpers.factories import person_form
from tests.helpers.message_boxes import MessageBoxes
from tests.helpers.speed import fast_password_hashing  # noqa: F401
from tests.test_case_detail_gui import choose, click, open_dialog, replace_text

# For a person to look at: the folder BBCS_SCREENSHOTS names (docs/screenshots/ when updating
# them), else a temporary one, so a test run never rewrites the repository's pictures.
SCREENSHOTS = Path(os.environ.get("BBCS_SCREENSHOTS") or tempfile.mkdtemp(prefix="bbcs-shots-"))
HANDLING_TAB = 3


@pytest.fixture
def context(
    services: AppServices, clerk: Actor, message_boxes: MessageBoxes
) -> Iterator[UiContext]:
    runner = TaskRunner()
    yield UiContext(services, clerk, ChangeHub(), runner)
    runner.wait()


def assigned(
    services: AppServices, clerk: Actor, leader: Actor, nature: Nature = Nature.HARD
) -> tuple[int, int]:
    """A case whose lead assignment is signed and received: (case id, assignment id)."""
    case_id = services.intake.register(clerk, person_form()).case_id
    approach = Approach.ORDER if nature is Nature.WONT else Approach.PUSH
    services.cases.triage(clerk, case_id, Triage(nature, approach, (Cause.PROCESS,), "医保社保"))
    ids, _ = services.assignments.create(
        clerk,
        case_id,
        department_id=services.site.departments()[0].id,
        requirements="请核实并依法办理，书面反馈。",
    )
    services.assignments.issue(leader, ids[0])
    services.assignments.receive(clerk, ids[0], received_on=NOW.date(), received_by="王科长")
    return case_id, ids[0]


def concluded(services: AppServices, clerk: Actor, leader: Actor) -> tuple[int, int]:
    case_id, assignment_id = assigned(services, clerk, leader)
    services.assignments.respond(clerk, assignment_id, "已补录参保信息")
    services.cases.conclude(
        clerk,
        case_id,
        outcome=Outcome.DONE,
        what_was_done="医保局已补录",
        reply_method=ReplyMethod.PHONE,
        reply_text="已电话告知",
    )
    return case_id, assignment_id


def step_dialog(qtbot, dialog: CaseDetailDialog, button: QWidget) -> QWidget:
    dialog.step_dialog = None
    click(qtbot, button)
    qtbot.waitUntil(lambda: dialog.step_dialog is not None)
    form = dialog.step_dialog
    assert form is not None
    qtbot.waitExposed(form)
    return form


def test_unreached_goes_to_the_retry_list_then_dissatisfied_reopens_with_a_proposal(
    qtbot, context: UiContext, services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id, first_assignment = concluded(services, clerk, leader)
    dialog = open_dialog(qtbot, context, case_id)
    dialog.tabs.setCurrentIndex(HANDLING_TAB)

    choose(qtbot, dialog.contact, "无人接听")
    assert not dialog.grade.isEnabled()
    assert dialog.visit_button.text() == "记录未联系上（待重拨）"
    click(qtbot, dialog.visit_button)
    qtbot.waitUntil(lambda: dialog.detail is not None and dialog.detail.visit_attempts == 1)

    assert services.ledger.ids(CaseFilter(visit_retry_due=True)) == [case_id]
    assert "2026年11月26日再次回访" in dialog.path_status.text()
    assert services.cases.detail(case_id).status is CaseStatus.CONCLUDED
    assert dialog.contact.currentText() == "已联系上"  # the next call starts as reached

    choose(qtbot, dialog.grade, "不满意")
    click(qtbot, dialog.reason_boxes[VisitReason.NOT_SOLVED])
    replace_text(qtbot, dialog.visit_note, "医院仍说查不到参保信息")
    click(qtbot, dialog.visit_button)
    qtbot.waitUntil(
        lambda: dialog.detail is not None and dialog.detail.status is CaseStatus.IN_PROGRESS
    )

    detail = services.cases.detail(case_id)
    assert detail.visit_reasons == (VisitReason.NOT_SOLVED,)
    assert services.ledger.ids(CaseFilter(visit_retry_due=True)) == []
    proposed = services.assignments.for_case(case_id)[-1]
    assert proposed.id != first_assignment and proposed.state is AssignmentState.DRAFT
    assert proposed.department == services.assignments.get(first_assignment).department
    # The proposal waits in the 交办 tab for the leader's signature.
    qtbot.waitUntil(lambda: not dialog.assignments.is_loading)
    qtbot.waitUntil(lambda: dialog.assignments.table.rowCount() == 2)
    assert dialog.assignments.table.item(1, 2).text() == "待签发"
    assert case_id in services.ledger.ids(CaseFilter(awaiting_signature=True))


def test_concluding_over_an_open_assignment_needs_a_reason(
    qtbot, context: UiContext, services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id, assignment_id = assigned(services, clerk, leader)
    department = services.assignments.get(assignment_id).department
    dialog = open_dialog(qtbot, context, case_id)
    dialog.tabs.setCurrentIndex(HANDLING_TAB)
    assert dialog.close_reason.isVisibleTo(dialog)
    assert f"{department}（交办，已签收）" in dialog.path_status.text()

    choose(qtbot, dialog.outcome, "办成")
    replace_text(qtbot, dialog.what_done, "当事人已在外地办成")
    choose(qtbot, dialog.reply_method, "电话答复")
    replace_text(qtbot, dialog.reply_text, "已电话确认")
    click(qtbot, dialog.conclude_button)
    error = dialog._field_errors["close_reason"][0]
    qtbot.waitUntil(lambda: error.isVisibleTo(dialog))
    assert f"{department}（交办，已签收）尚未办结" in error.text()
    assert services.cases.detail(case_id).status is CaseStatus.IN_PROGRESS
    assert services.assignments.get(assignment_id).state is AssignmentState.RECEIVED

    replace_text(qtbot, dialog.close_reason, "当事人已在外地办成，部门无需再办")
    assert not error.isVisibleTo(dialog)
    click(qtbot, dialog.conclude_button)
    qtbot.waitUntil(
        lambda: dialog.detail is not None and dialog.detail.status is CaseStatus.CONCLUDED
    )
    assert services.assignments.get(assignment_id).state is AssignmentState.CLOSED
    assert "部门无需再办" in dialog.timeline.topLevelItem(
        dialog.timeline.topLevelItemCount() - 1
    ).text(2)
    assert not dialog.close_reason.isVisibleTo(dialog)  # nothing open any more
    qtbot.waitUntil(lambda: not dialog.assignments.is_loading)


def test_the_basis_received_with_its_scan_then_the_calendar_forgets_it(
    qtbot, context: UiContext, services: AppServices, clerk: Actor, leader: Actor, tmp_path
) -> None:
    case_id, _ = assigned(services, clerk, leader, Nature.CANT)
    dialog = open_dialog(qtbot, context, case_id)
    dialog.tabs.setCurrentIndex(HANDLING_TAB)
    assert "尚未收到" in dialog.path_status.text()

    form = step_dialog(qtbot, dialog, dialog.basis_button)
    assert isinstance(form, BasisDialog)
    assert not form.waived.isEnabled()  # a clerk does not waive
    click(qtbot, form.ok_button)
    assert form.error.text() == "请选择部门书面依据的扫描件"
    scan = tmp_path / "书面依据.pdf"
    scan.write_bytes(b"%PDF-1.4 basis")
    form.set_scan(scan)  # what the file chooser hands back
    replace_text(qtbot, form.signed_by, "李局长")
    click(qtbot, form.ok_button)
    qtbot.waitUntil(lambda: dialog.detail is not None and not dialog.detail.basis_missing)

    detail = services.cases.detail(case_id)
    assert detail.basis_signed_by == "李局长"
    assert [a.filename for a in detail.attachments] == ["书面依据.pdf"]
    assert "李局长签字" in dialog.path_status.text()
    assert not dialog.basis_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.assignments.is_loading)


def test_a_leader_waives_the_basis_with_a_reason(
    qtbot, services: AppServices, clerk: Actor, leader: Actor, message_boxes: MessageBoxes
) -> None:
    case_id, _ = assigned(services, clerk, leader, Nature.CANT)
    runner = TaskRunner()
    as_leader = UiContext(services, leader, ChangeHub(), runner)
    dialog = open_dialog(qtbot, as_leader, case_id)
    dialog.tabs.setCurrentIndex(HANDLING_TAB)
    form = step_dialog(qtbot, dialog, dialog.basis_button)
    assert isinstance(form, BasisDialog)
    click(qtbot, form.waived)
    assert not form.signed_by.isEnabled()
    replace_text(qtbot, form.reason, "省厅文件已公开，无需另出依据")
    click(qtbot, form.ok_button)
    qtbot.waitUntil(lambda: dialog.detail is not None and not dialog.detail.basis_missing)
    assert services.cases.detail(case_id).basis_waived_by == "潘险峰"
    assert "已由潘险峰免除" in dialog.path_status.text()
    qtbot.waitUntil(lambda: not dialog.assignments.is_loading)
    runner.wait()


def test_onsite_supervision_and_a_reply_from_the_case_window(
    qtbot, services: AppServices, clerk: Actor, leader: Actor, message_boxes: MessageBoxes
) -> None:
    case_id, _ = assigned(services, clerk, leader, Nature.CANT)
    runner = TaskRunner()
    as_leader = UiContext(services, leader, ChangeHub(), runner)
    dialog = open_dialog(qtbot, as_leader, case_id)
    dialog.tabs.setCurrentIndex(HANDLING_TAB)

    form = step_dialog(qtbot, dialog, dialog.onsite_button)
    assert isinstance(form, OnsiteDialog)
    department = services.site.departments()[0].name
    assert form.leader.text() == "潘险峰"  # the duty leader goes himself
    assert form.department.currentText() == department  # the department the case is with
    assert form.place.text() == f"{department}窗口"
    replace_text(qtbot, form.result_text, "当场协调补录参保信息，下午办结")
    click(qtbot, form.ok_button)
    qtbot.waitUntil(
        lambda: dialog.detail is not None and dialog.detail.timeline[-1].label == "现场督办"
    )
    assert "当场协调补录参保信息" in dialog.detail.timeline[-1].summary

    form = step_dialog(qtbot, dialog, dialog.reply_button)
    assert isinstance(form, ReplyDialog)
    choose(qtbot, form.method, "短信答复")
    replace_text(qtbot, form.text, "已现场督办，今日下午办结")
    click(qtbot, form.ok_button)
    qtbot.waitUntil(lambda: dialog.detail is not None and dialog.detail.replied_at is not None)
    assert dialog.detail.reply_method is ReplyMethod.SMS
    assert "最近答复" in dialog.path_status.text()

    qtbot.waitUntil(lambda: not dialog.is_loading)
    shoot(dialog, HANDLING_TAB, "16-case-path.png")
    shoot(dialog, dialog.tabs.count() - 2, "16-case-path-timeline.png")  # 办理记录
    runner.wait()


def shoot(dialog: CaseDetailDialog, tab: int, name: str) -> None:
    """The dialog at 1366×768 in the application's font and style, as a user sees it; the
    shared test application's look is put back afterwards."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    font, style, sheet = app.font(), app.style().name(), app.styleSheet()
    try:
        install_fonts(app)
        apply_style(app)
        dialog.resize(1366, 768)
        dialog.tabs.setCurrentIndex(tab)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        dialog.grab().save(str(SCREENSHOTS / name))
    finally:
        app.setStyleSheet(sheet)
        app.setStyle(style)
        app.setFont(font)
