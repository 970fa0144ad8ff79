"""交办 on screen: draft, sign, print, save, the department's steps, slips and verification."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtPrintSupport import QPrinterInfo
from PySide6.QtWidgets import QApplication, QDateEdit, QFileDialog, QMessageBox
from shiboken6 import isValid

from desktop_app.domain.settings import LAST_PRINTER
from desktop_app.domain.vocabulary import Approach, Cause, Nature, chinese_date
from desktop_app.services.app import AppServices
from desktop_app.services.cases import Triage
from desktop_app.services.context import Actor
from desktop_app.services.roster import DutyRole
from desktop_app.ui.assignment_panel import AssignmentPanel, DraftDialog, StepDialog
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.slip_preview import NO_PRINTER_MESSAGE, SlipPreviewDialog
from desktop_app.ui.slips_page import SlipsPage
from tests.helpers.factories import person_form
from tests.helpers.holidays import complete_year
from tests.helpers.message_boxes import MessageBoxes
from tests.helpers.speed import fast_password_hashing  # noqa: F401

FIRST_SLIP = "杞纪窗交〔2026〕1号"
TODAY = date(2026, 11, 25)


# A message box would block an offscreen test forever; any that appears fails the test.
pytestmark = pytest.mark.usefixtures("message_boxes")


@pytest.fixture
def contexts(
    services: AppServices, clerk: Actor, leader: Actor
) -> Iterator[tuple[UiContext, UiContext]]:
    hub = ChangeHub()
    runners = [TaskRunner(), TaskRunner()]
    yield UiContext(services, clerk, hub, runners[0]), UiContext(services, leader, hub, runners[1])
    for runner in runners:
        runner.wait()


def type_into(widget, text: str) -> None:
    """Chinese as a Chinese IME delivers it: a committed string."""
    widget.setFocus()
    event = QInputMethodEvent("", [])
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def triaged_case(services: AppServices, clerk: Actor) -> int:
    result = services.intake.register(clerk, person_form())
    services.cases.triage(
        clerk,
        result.case_id,
        Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保"),
    )
    return result.case_id


def departments(services: AppServices) -> dict[str, int]:
    return {d.name: d.id for d in services.site.departments()}


def drafted_case(services: AppServices, clerk: Actor) -> int:
    """A triaged case with a 交办 draft to 杞县医疗保障局 waiting for the leader."""
    case_id = triaged_case(services, clerk)
    services.assignments.create(
        clerk,
        case_id,
        department_id=departments(services)["杞县医疗保障局"],
        requirements="请核实并办理，书面反馈监督窗口。",
    )
    return case_id


def issued_case(services: AppServices, clerk: Actor, leader: Actor) -> tuple[int, int, str]:
    case_id = triaged_case(services, clerk)
    ids, _ = services.assignments.create(
        clerk,
        case_id,
        department_id=departments(services)["杞县医疗保障局"],
        requirements="请核实并办理，书面反馈监督窗口。",
    )
    number, _ = services.assignments.issue(leader, ids[0])
    return case_id, ids[0], number


def issued_into_next_year(
    services: AppServices, clerk: Actor, leader: Actor
) -> tuple[int, list[int]]:
    """A slip issued for 30 working days: its deadline lies in 2027, whose holidays are not
    entered yet (暂定)."""
    case_id = triaged_case(services, clerk)
    ids, _ = services.assignments.create(
        clerk,
        case_id,
        department_id=departments(services)["杞县医疗保障局"],
        requirements="请核实并办理，书面反馈监督窗口。",
        working_days=30,
        deadline_note="涉及多年材料",
    )
    services.assignments.issue(leader, ids[0])
    return case_id, ids


def put_leader_on_duty(services: AppServices, admin: Actor) -> None:
    staff, _ = services.roster.save_staff(
        admin, name="潘险峰", duty_role=DutyRole.LEADER, title="副主任"
    )
    services.roster.set_shift(admin, TODAY, DutyRole.LEADER, staff.id)


def make_panel(qtbot, context: UiContext, case_id: int) -> AssignmentPanel:
    panel = AssignmentPanel(context, case_id)
    qtbot.addWidget(panel)
    panel.resize(900, 560)
    panel.show()
    qtbot.waitUntil(lambda: not panel.is_loading)
    return panel


def open_draft(qtbot, panel: AssignmentPanel) -> DraftDialog:
    """新建交办…: what the draft dialog shows is read on the worker, then it opens."""
    panel.new_assignment()
    qtbot.waitUntil(lambda: isinstance(panel.dialog, DraftDialog) and not panel.is_loading)
    assert isinstance(panel.dialog, DraftDialog)
    return panel.dialog


def wait_for_pdf(qtbot, dialog: SlipPreviewDialog) -> None:
    qtbot.waitUntil(lambda: dialog.document.pageCount() >= 1, timeout=15_000)


def pdf_text(data: bytes | None) -> str:
    assert data is not None
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def asked(message_boxes: MessageBoxes) -> list[str]:
    """The questions asked so far (first lines); ``message_boxes.texts("question")`` in full."""
    return [text.split("\n")[0] for text in message_boxes.texts("question")]


def open_slip(qtbot, panel: AssignmentPanel) -> SlipPreviewDialog:
    """Click 预览/打印交办单 as a person does and wait for the page."""
    assert panel.preview_button.isEnabled()
    qtbot.mouseClick(panel.preview_button, Qt.MouseButton.LeftButton)
    dialog = panel.dialog
    assert isinstance(dialog, SlipPreviewDialog)
    qtbot.waitUntil(lambda: not dialog.is_loading, timeout=15_000)
    assert dialog.error.text() == ""
    wait_for_pdf(qtbot, dialog)
    return dialog


def test_clerk_drafts_leader_signs_then_preview_save_and_print(
    qtbot,
    contexts: tuple[UiContext, UiContext],
    services: AppServices,
    clerk: Actor,
    admin: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    message_boxes: MessageBoxes,
) -> None:
    clerk_context, leader_context = contexts
    put_leader_on_duty(services, admin)
    case_id = triaged_case(services, clerk)
    panel = make_panel(qtbot, clerk_context, case_id)
    assert panel.table.rowCount() == 0

    dialog = open_draft(qtbot, panel)
    assert dialog.days.value() == 10  # 很难办: the rule's 10 working days
    template = dialog.requirements.toPlainText()
    assert "10个工作日" in template and "医保结算查不到参保信息" in template
    dialog.department.setCurrentIndex(dialog.department.findText("杞县医疗保障局"))
    for row in range(dialog.assisting.count()):
        item = dialog.assisting.item(row)
        if item.text() == "杞县不动产登记中心":
            item.setCheckState(Qt.CheckState.Checked)
    dialog.days.setValue(8)
    assert "8个工作日" in dialog.requirements.toPlainText()  # the template follows the days
    dialog.submit()
    assert "请填写理由" in dialog.error.text()  # 8 ≠ 10: a reason is required
    type_into(dialog.reason, "当事人就医结算急需，压缩时限")
    dialog.submit()
    qtbot.waitUntil(lambda: not isValid(dialog) or not dialog.isVisible())  # deleted on close
    qtbot.waitUntil(lambda: panel.table.rowCount() == 2 and not panel.is_loading)
    assert panel.table.item(0, 1).text() == "杞县医疗保障局"
    assert panel.table.item(0, 2).text() == "待签发"
    assert panel.table.item(1, 0).text() == "协办"

    panel.table.selectRow(0)
    assert not panel.sign_button.isEnabled()  # a clerk cannot sign
    assert panel.signer_label.text() == "请带班领导 潘险峰 签发"
    assert not panel.preview_button.isEnabled()

    boss = make_panel(qtbot, leader_context, case_id)
    boss.table.selectRow(0)
    assert boss.sign_button.isEnabled()
    assert boss.signer_label.text() == "签发人：潘险峰"
    message_boxes.answer(QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(boss.sign_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: boss.table.item(0, 4).text() == FIRST_SLIP, timeout=10_000)
    assert asked(message_boxes) == [f"将签发为{FIRST_SLIP}，签发后不能修改。确定签发？"]
    assert boss.table.item(0, 2).text() == "已签发"
    assert boss.table.item(0, 5).text() == "潘险峰"
    assert boss.table.item(1, 4).text() == FIRST_SLIP  # the assisting department's slip too
    assert FIRST_SLIP in boss.message.text()
    panel.reload()  # the clerk's panel picks it up too
    qtbot.waitUntil(lambda: panel.table.item(0, 4).text() == FIRST_SLIP)

    boss.table.selectRow(0)
    preview = open_slip(qtbot, boss)
    assert preview.pdf_bytes is not None and preview.pdf_bytes.startswith(b"%PDF")
    assert preview.print_button.isEnabled() and preview.save_button.isEnabled()
    assert services.assignments.slip_content(FIRST_SLIP)[0].print_count == 0  # looking only

    target = tmp_path / "导出" / "交办单"
    target.parent.mkdir()
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(target), "PDF 文件 (*.pdf)")
    )
    qtbot.mouseClick(preview.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not preview.is_loading)
    saved = target.with_name("交办单.pdf")
    assert saved.read_bytes().startswith(b"%PDF")
    assert saved.read_bytes() == preview.last_output
    assert "补打" not in pdf_text(saved.read_bytes())  # the first output is the original
    assert [p.name for p in saved.parent.iterdir()] == ["交办单.pdf"]  # no temp file left
    assert services.assignments.slip_content(FIRST_SLIP)[0].print_count == 1
    assert "补打" in pdf_text(preview.pdf_bytes)  # the view now shows the next output
    assert "已保存到" in preview.status.text()

    monkeypatch.setattr(QPrinterInfo, "availablePrinters", staticmethod(lambda: []))
    message_boxes.allow("information")
    qtbot.mouseClick(preview.print_button, Qt.MouseButton.LeftButton)
    assert message_boxes.texts("information") == [NO_PRINTER_MESSAGE]
    assert "本机没有安装打印机，可先另存为PDF" in message_boxes.texts("information")[0]
    assert services.assignments.slip_content(FIRST_SLIP)[0].print_count == 1  # nothing printed
    preview.close()

    again = open_slip(qtbot, boss)  # opening it again is still not a print
    assert services.assignments.slip_content(FIRST_SLIP)[0].print_count == 1
    again.close()


def test_the_answer_is_dated_the_day_it_came_in(
    qtbot,
    contexts: tuple[UiContext, UiContext],
    services: AppServices,
    clerk: Actor,
    leader: Actor,
    clock,
) -> None:
    """办理反馈 had no date: an answer recorded the day after it came in counted that day."""
    case_id, assignment_id, _number = issued_case(services, clerk, leader)
    services.assignments.receive(
        clerk, assignment_id, received_on=clock.at.date(), received_by="李四"
    )
    clock.at += timedelta(days=2)
    clerk_context, _ = contexts
    panel = make_panel(qtbot, clerk_context, case_id)
    panel.select_assignment(assignment_id)
    qtbot.mouseClick(panel.respond_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: isinstance(panel.dialog, StepDialog) and panel.dialog.isVisible())
    dialog = panel.dialog
    day = dialog.fields["responded_on"]
    assert day.date().toPython() == clock.at.date()  # today unless changed
    day.setFocus()
    day.setSelectedSection(QDateEdit.Section.DaySection)
    qtbot.keyClick(day, Qt.Key.Key_Down)  # the day before
    type_into(dialog.fields["text"], "已恢复参保信息，结算完成")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.table.item(0, 2).text() == "已反馈")
    summary = services.cases.detail(case_id).timeline[-1].summary
    came_in = clock.at.date() - timedelta(days=1)
    assert f"于{chinese_date(came_in)}反馈" in summary


def test_receive_extension_and_approval_through_the_panel(
    qtbot,
    contexts: tuple[UiContext, UiContext],
    services: AppServices,
    clerk: Actor,
    leader: Actor,
    message_boxes: MessageBoxes,
) -> None:
    clerk_context, leader_context = contexts
    case_id, assignment_id, _number = issued_case(services, clerk, leader)
    panel = make_panel(qtbot, clerk_context, case_id)
    panel.select_assignment(assignment_id)
    assert panel.receive_button.isEnabled()
    assert panel.respond_button.isEnabled()
    assert not panel.urge_button.isEnabled()  # not overdue
    assert not panel.void_button.isEnabled()  # only a duty leader voids

    dialog = panel.receive()
    assert dialog is not None
    dialog.submit()
    qtbot.waitUntil(lambda: "签收人" in dialog.error.text())  # the service's own check
    type_into(dialog.fields["received_by"], "李四")
    dialog.submit()
    qtbot.waitUntil(lambda: panel.table.item(0, 2).text() == "已签收")

    dialog = panel.request_extension()
    assert dialog is not None
    dialog.fields["days"].setValue(5)
    due = services.assignments.get(assignment_id).due_date
    extended = services.calendar.calendar().add(due, 5).due
    assert dialog.fields["extended"].text() == f"{chinese_date(extended)}前"  # what it would give
    type_into(dialog.fields["reason"], "需要调取外县参保记录")
    dialog.submit()
    qtbot.waitUntil(lambda: panel.table.item(0, 2).text() == "已签收 · 申请延期5个工作日")
    assert not panel.approve_button.isEnabled()  # the clerk cannot approve
    assert panel.signer_label.text() == "延期申请待带班领导审批"
    before = services.assignments.get(assignment_id).due_date

    boss = make_panel(qtbot, leader_context, case_id)
    boss.select_assignment(assignment_id)
    assert boss.approve_button.isEnabled() and boss.refuse_button.isEnabled()
    message_boxes.answer(QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(boss.approve_button, Qt.MouseButton.LeftButton)
    later = services.calendar.calendar().add(before, 5).due
    assert (
        f"期限由{chinese_date(before)}延至{chinese_date(later)}"
        in (message_boxes.texts("question")[-1])
    )
    qtbot.waitUntil(lambda: boss.table.item(0, 2).text() == "已签收 · 已批准延期")
    after = services.assignments.get(assignment_id).due_date
    assert after > before
    assert boss.table.item(0, 3).text().startswith(f"{after:%Y-%m-%d}")
    assert "+延期5个工作日）" in boss.table.item(0, 3).text()  # not the paper's days alone
    assert "原期限" in boss.details.text()


def test_voiding_the_only_round_names_its_paper_and_asks_for_a_new_one(
    qtbot,
    contexts: tuple[UiContext, UiContext],
    services: AppServices,
    clerk: Actor,
    leader: Actor,
) -> None:
    """A walk voided a case's only 交办单: the dialog did not name the number, and afterwards the
    panel still said 「已签发…请点预览/打印交办单打印」, with nothing about assigning again."""
    _clerk_context, leader_context = contexts
    case_id, assignment_id, number = issued_case(services, clerk, leader)
    boss = make_panel(qtbot, leader_context, case_id)
    boss.select_assignment(assignment_id)
    qtbot.mouseClick(boss.void_button, Qt.MouseButton.LeftButton)
    dialog = boss.dialog
    assert isinstance(dialog, StepDialog) and number in dialog.windowTitle()
    type_into(dialog.fields["reason"], "承办单位选错")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: boss.table.item(0, 2).text() == "已作废")
    assert boss.message.text() == (
        f"已作废 {number}（杞县医疗保障局）。此事项现在没有在办的交办，"
        "请重新甄别承办单位后点“新建交办…”。"
    )


def test_overdue_assignment_is_red_and_can_be_urged(
    qtbot,
    contexts: tuple[UiContext, UiContext],
    services: AppServices,
    clerk: Actor,
    leader: Actor,
    clock,
) -> None:
    from datetime import datetime

    from desktop_app.ui.theme import RED

    clerk_context, _leader_context = contexts
    today = clock.at
    clock.at = datetime(2026, 11, 2, 9, 0)
    case_id, assignment_id, _number = issued_case(services, clerk, leader)
    clock.at = today
    panel = make_panel(qtbot, clerk_context, case_id)
    panel.select_assignment(assignment_id)
    due = panel.table.item(0, 3)
    assert "已超期" in due.text()
    assert due.foreground().color().name() == RED
    assert panel.urge_button.isEnabled() and panel.escalate_button.isEnabled()
    assert not panel.extension_button.isEnabled()  # too late to ask for more time
    panel.urge_button.click()
    qtbot.waitUntil(lambda: "催办通知" in panel.message.text())
    assert "杞纪窗催〔2026〕1号" in panel.message.text()


def test_errors_show_in_the_panel_not_in_a_message_box(
    qtbot, contexts: tuple[UiContext, UiContext], services: AppServices, clerk: Actor
) -> None:
    clerk_context, _ = contexts
    result = services.intake.register(clerk, person_form())  # not triaged yet
    panel = make_panel(qtbot, clerk_context, result.case_id)
    dialog = open_draft(qtbot, panel)
    # No department is chosen for the clerk (the first of the list was): asked for one.
    assert dialog.department.currentIndex() == -1
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.error.text() == "请选择承办单位")
    assert dialog.isVisible() and services.assignments.for_case(result.case_id) == []
    dialog.department.setFocus()
    qtbot.keyClick(dialog.department, Qt.Key.Key_Down)
    assert dialog.department.currentText() == "杞县医疗保障局"
    assert not dialog.error.isVisibleTo(dialog)  # chosen: the message went at once
    dialog.submit()
    qtbot.waitUntil(lambda: "甄别分类" in dialog.error.text())
    assert dialog.isVisible()


def test_slips_page_lists_previews_and_verifies(
    qtbot,
    contexts: tuple[UiContext, UiContext],
    services: AppServices,
    clerk: Actor,
    leader: Actor,
) -> None:
    clerk_context, _ = contexts
    case_id, _assignment_id, number = issued_case(services, clerk, leader)
    page = SlipsPage(clerk_context)
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.show()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1 and not page.is_loading)
    assert page.model.index(0, 0).data() == number
    assert page.model.index(0, 4).data() == "杞县医疗保障局"
    assert page.model.index(0, 7).data() == "未打印"

    with qtbot.waitSignal(page.open_case) as opened:
        page.open_button.click()
    assert opened.args == [case_id]

    preview = page.preview_selected()
    assert preview is not None
    wait_for_pdf(qtbot, preview)
    preview.close()
    qtbot.waitUntil(lambda: not page.is_loading)
    # Opening a slip to look at it is not a print: the count and 未打印 stay.
    assert page.model.index(0, 6).data() == "0 次"
    assert page.model.index(0, 7).data() == "未打印"

    payload = services.assignments.slip_content(number)[1].qr_payload
    page.verify_input.setText(payload)
    page.verify_button.click()
    qtbot.waitUntil(lambda: page.last_check is not None)
    assert page.last_check.valid
    assert "核验通过" in page.verify_result.text() and number in page.verify_result.text()

    parts = payload.split("|")
    digest = parts[3]
    parts[3] = ("0" if digest[0] != "0" else "1") + digest[1:]  # one character changed
    page.last_check = None
    page.verify_input.setText("|".join(parts))
    qtbot.keyClick(page.verify_input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.last_check is not None)
    assert not page.last_check.valid
    assert page.verify_result.text().startswith("✘")


def test_intake_banner_prints_the_receipt_and_case_has_assignment_tab(
    qtbot, services: AppServices, clerk: Actor
) -> None:
    runner = TaskRunner()
    context = UiContext(services, clerk, ChangeHub(), runner)
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    titles = [window.navigation.item(i).text() for i in range(window.navigation.count())]
    assert "交办单" in titles
    window.go_to("交办单")
    assert window.pages.currentWidget() is window.slips

    window.go_to("受理登记")
    page = window.intake
    qtbot.waitUntil(lambda: page.area.findData("医保社保") >= 0)  # the areas load on the worker
    type_into(page.name, "王芳")
    page.phone.setText("13812345678")
    type_into(page.title, "社保卡补办")
    type_into(page.description, "补办社保卡要求回户籍地")
    page.area.setCurrentIndex(page.area.findData("医保社保"))
    page.save()
    qtbot.waitUntil(lambda: page.last_result is not None)
    assert "打印受理回执" in page.banner.text()
    case_id = page.last_result.case_id
    page.banner.linkActivated.emit(f"receipt:{case_id}")
    receipt = page.receipt_dialog
    assert receipt is not None
    wait_for_pdf(qtbot, receipt)
    assert page.last_result.number in receipt.windowTitle()
    receipt.close()

    dialog = window.open_case(case_id)
    assert dialog is not None
    tabs = [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())]
    assert "交办" in tabs
    qtbot.waitUntil(lambda: not dialog.assignments.is_loading)
    assert "甄别分类后" in dialog.assignments.details.text()
    dialog.close()
    runner.wait()


# --- the slip path by mouse and keyboard --------------------------------------------------------


def test_the_preview_button_opens_the_slip_it_names(
    qtbot, contexts: tuple[UiContext, UiContext], services: AppServices, clerk: Actor, leader
) -> None:
    """Blocker: clicked(bool) passed False as the slip number ("预览 — False", an error)."""
    clerk_context, _ = contexts
    case_id, assignment_id, number = issued_case(services, clerk, leader)
    panel = make_panel(qtbot, clerk_context, case_id)
    panel.select_assignment(assignment_id)
    dialog = open_slip(qtbot, panel)
    assert dialog.windowTitle() == f"预览 — {number}"
    assert number in pdf_text(dialog.pdf_bytes)
    assert services.assignments.slip_content(number)[0].print_count == 0
    dialog.close()


def test_the_leader_sees_the_draft_then_signs_under_the_number_named(
    qtbot,
    contexts: tuple[UiContext, UiContext],
    services: AppServices,
    clerk: Actor,
    monkeypatch: pytest.MonkeyPatch,
    message_boxes: MessageBoxes,
) -> None:
    clerk_context, leader_context = contexts
    case_id = triaged_case(services, clerk)
    ids, _ = services.assignments.create(
        clerk,
        case_id,
        department_id=departments(services)["杞县医疗保障局"],
        requirements="请核实并办理，书面反馈监督窗口。",
    )
    # The clerk may look at the draft too; nothing is numbered.
    panel = make_panel(qtbot, clerk_context, case_id)
    assert panel.draft_button.isEnabled() and not panel.preview_button.isEnabled()
    qtbot.mouseClick(panel.draft_button, Qt.MouseButton.LeftButton)
    seen = panel.dialog
    assert isinstance(seen, SlipPreviewDialog)
    wait_for_pdf(qtbot, seen)
    seen.close()

    boss = make_panel(qtbot, leader_context, case_id)
    qtbot.mouseClick(boss.draft_button, Qt.MouseButton.LeftButton)
    draft = boss.dialog
    assert isinstance(draft, SlipPreviewDialog)
    wait_for_pdf(qtbot, draft)
    text = pdf_text(draft.pdf_bytes)
    assert "草" in text and "签发前预览" in text and "〔签发时编号〕" in text
    assert "杞纪窗交" not in text and "潘险峰" in text
    due = services.calendar.calendar().add(TODAY, 10).due
    assert f"{due.year}年{due.month}月{due.day}日前（10个工作日）" in text
    draft.activateWindow()
    qtbot.keyClick(draft, Qt.Key.Key_Escape)  # Esc closes
    qtbot.waitUntil(lambda: not isValid(draft) or not draft.isVisible())
    assert services.assignments.slips_for_case(case_id) == []

    message_boxes.answer(QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(boss.sign_button, Qt.MouseButton.LeftButton)  # …then thinks better of it
    qtbot.waitUntil(lambda: len(asked(message_boxes)) == 1 and not boss.is_loading)
    assert asked(message_boxes) == [f"将签发为{FIRST_SLIP}，签发后不能修改。确定签发？"]
    assert f"{due.year}年{due.month}月{due.day}日前办结" in message_boxes.texts("question")[0]
    assert "杞县医疗保障局" in message_boxes.texts("question")[0]
    assert services.assignments.get(ids[0]).state.label == "待签发"
    assert boss.sign_button.isEnabled()
    qtbot.mouseClick(boss.sign_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: boss.table.item(0, 4).text() == FIRST_SLIP, timeout=10_000)
    assert len(asked(message_boxes)) == 2 and FIRST_SLIP in boss.message.text()
    assert not boss.draft_button.isEnabled() and boss.preview_button.isEnabled()


def test_the_leader_signs_by_keyboard_from_the_case_that_waits(
    qtbot,
    contexts: tuple[UiContext, UiContext],
    services: AppServices,
    clerk: Actor,
    message_boxes: MessageBoxes,
) -> None:
    """A walk could not sign by keyboard: the case opened on 基本信息, and in the 交办 table Tab
    went from cell to cell and never reached 签发. The case now opens on its waiting draft, 签发
    focused; Tab leaves the table; Alt+S signs (after the confirmation, 否 by default)."""
    from desktop_app.ui.case_detail import CaseDetailDialog

    _clerk_context, leader_context = contexts
    case_id = drafted_case(services, clerk)
    dialog = CaseDetailDialog(leader_context, case_id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    panel = dialog.assignments
    qtbot.waitUntil(lambda: dialog.tabs.currentWidget() is panel and not panel.is_loading)
    assert panel.selected() is not None and panel.sign_button.hasFocus()
    panel.table.setFocus()
    qtbot.keyClick(panel.table, Qt.Key.Key_Tab)
    assert not panel.table.hasFocus()  # out of the table, on to the buttons
    message_boxes.answer(QMessageBox.StandardButton.Yes)
    qtbot.keyClick(dialog, Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: panel.table.item(0, 4).text() == FIRST_SLIP, timeout=10_000)
    assert asked(message_boxes) == [f"将签发为{FIRST_SLIP}，签发后不能修改。确定签发？"]
    qtbot.waitUntil(lambda: not panel.is_loading and not dialog.is_loading)


def test_a_leader_not_on_duty_is_told_so_before_signing(
    qtbot,
    contexts: tuple[UiContext, UiContext],
    services: AppServices,
    clerk: Actor,
    admin: Actor,
    leader: Actor,
    message_boxes: MessageBoxes,
) -> None:
    """A walk: a leader not on the roster signed without a word (the seeds: the leader on
    rotation signs and answers for it). The confirmation says who is on duty; signing is still
    theirs to decide."""
    _clerk_context, leader_context = contexts
    staff, _ = services.roster.save_staff(admin, name="韩国栋", duty_role=DutyRole.LEADER)
    services.roster.set_shift(admin, TODAY, DutyRole.LEADER, staff.id)
    case_id = drafted_case(services, clerk)
    boss = make_panel(qtbot, leader_context, case_id)
    boss.select_assignment(services.assignments.for_case(case_id)[0].id)
    message_boxes.answer(QMessageBox.StandardButton.No)
    qtbot.mouseClick(boss.sign_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(asked(message_boxes)) == 1 and not boss.is_loading)
    assert (
        f"今日带班领导是韩国栋，您（{leader.display_name}）不在今日值班表上"
        in (message_boxes.texts("question")[0])
    )
    put_leader_on_duty(services, admin)  # 潘险峰, the leader signing: nothing to add
    message_boxes.answer(QMessageBox.StandardButton.No)
    qtbot.mouseClick(boss.sign_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(asked(message_boxes)) == 2 and not boss.is_loading)
    assert "值班表" not in message_boxes.texts("question")[1]


def test_signing_refuses_when_the_named_number_was_taken_meanwhile(
    qtbot,
    contexts: tuple[UiContext, UiContext],
    services: AppServices,
    clerk: Actor,
    leader: Actor,
    monkeypatch: pytest.MonkeyPatch,
    message_boxes: MessageBoxes,
) -> None:
    _, leader_context = contexts
    case_id = drafted_case(services, clerk)
    boss = make_panel(qtbot, leader_context, case_id)

    def question(_box: object) -> QMessageBox.StandardButton:
        issued_case(services, clerk, leader)  # another leader signs while this one reads
        return QMessageBox.StandardButton.Yes

    message_boxes.answer(question)
    qtbot.mouseClick(boss.sign_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "已被另一次签发占用" in boss.error.text())
    assert "杞纪窗交〔2026〕2号" in boss.error.text()
    assert boss.table.item(0, 2).text() == "待签发"


class FakePrintDialog:
    """The print dialog a person accepts, with a printer that writes a PDF at 100 dpi."""

    def __init__(self, printer, _parent=None) -> None:
        self.printer = printer
        printer.setOutputFormat(printer.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(FakePrintDialog.target))
        if FakePrintDialog.dpi:
            printer.setResolution(FakePrintDialog.dpi)

    target: Path = Path()
    dpi: int | None = 100  # None: the printer's own (1200 dpi, rendered at 600)

    def setWindowTitle(self, _title: str) -> None:
        pass

    def setMinMax(self, _first: int, _last: int) -> None:
        pass

    def exec(self) -> int:
        from PySide6.QtWidgets import QDialog

        return QDialog.DialogCode.Accepted


def test_printing_counts_the_first_as_original_and_then_reprints(
    qtbot,
    contexts: tuple[UiContext, UiContext],
    services: AppServices,
    clerk: Actor,
    leader: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import desktop_app.ui.slip_preview as slip_preview

    clerk_context, _ = contexts
    case_id, assignment_id, number = issued_case(services, clerk, leader)
    monkeypatch.setattr(QPrinterInfo, "availablePrinters", staticmethod(lambda: [QPrinterInfo()]))
    monkeypatch.setattr(slip_preview, "QPrintDialog", FakePrintDialog)
    panel = make_panel(qtbot, clerk_context, case_id)
    panel.select_assignment(assignment_id)
    dialog = open_slip(qtbot, panel)
    assert "补打" not in pdf_text(dialog.pdf_bytes)  # what the first print will be

    FakePrintDialog.target = tmp_path / "first.pdf"
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    qtbot.keyClick(dialog, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)  # Ctrl+P
    qtbot.waitUntil(lambda: dialog.last_output is not None and not dialog.is_loading)
    assert services.assignments.slip_content(number)[0].print_count == 1
    assert "补打" not in pdf_text(dialog.last_output)  # the department's first paper
    assert len(PdfReader(FakePrintDialog.target).pages) == 1
    assert "补打" in pdf_text(dialog.pdf_bytes)  # the view shows the next output
    assert "已送打印机" in dialog.status.text()

    first = dialog.last_output
    FakePrintDialog.target = tmp_path / "second.pdf"
    qtbot.mouseClick(dialog.print_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.last_output != first and not dialog.is_loading)
    assert services.assignments.slip_content(number)[0].print_count == 2
    assert "补打" in pdf_text(dialog.last_output)
    assert FakePrintDialog.target.exists()
    dialog.close()


def test_dialogs_fit_the_smallest_screen_with_their_buttons_in_view(
    qtbot, contexts: tuple[UiContext, UiContext], services: AppServices, clerk: Actor, leader
) -> None:
    from desktop_app.ui.screen import SMALLEST_SCREEN, available_area

    clerk_context, _ = contexts
    case_id, assignment_id, _number = issued_case(services, clerk, leader)
    panel = make_panel(qtbot, clerk_context, case_id)
    panel.select_assignment(assignment_id)
    preview = open_slip(qtbot, panel)
    area = available_area(preview)
    assert preview.width() <= area.width() and preview.height() <= area.height()
    assert preview.minimumSizeHint().width() <= SMALLEST_SCREEN.width()
    assert preview.minimumSizeHint().height() <= SMALLEST_SCREEN.height()
    for button in (preview.print_button, preview.save_button, preview.close_button):
        top_left = button.mapTo(preview, button.rect().topLeft())
        assert preview.rect().contains(top_left) and button.isVisible()
        assert top_left.y() < 120  # above the page, never below the screen's edge
    preview.close()

    draft = open_draft(qtbot, panel)
    step = panel.receive()
    assert step is not None
    for dialog in (draft, step):
        hint = dialog.minimumSizeHint()
        assert hint.width() <= SMALLEST_SCREEN.width()
        assert hint.height() <= SMALLEST_SCREEN.height()
        assert dialog.height() <= area.height() and dialog.width() <= area.width()
        dialog.close()


def test_without_a_leader_on_duty_the_hint_names_where_the_roster_is(
    qtbot, contexts: tuple[UiContext, UiContext], services: AppServices, clerk: Actor
) -> None:
    clerk_context, _ = contexts
    case_id = drafted_case(services, clerk)
    panel = make_panel(qtbot, clerk_context, case_id)
    assert "期限日历 → 值班安排" in panel.signer_label.text()
    assert "系统设置" not in panel.signer_label.text()
    # A clerk cannot change the roster there: told who can.
    assert "请管理员在“期限日历 → 值班安排”中排班" in panel.signer_label.text()


def test_an_assignment_with_several_papers_offers_each_by_its_number(
    qtbot,
    contexts: tuple[UiContext, UiContext],
    services: AppServices,
    clerk: Actor,
    leader: Actor,
    clock,
) -> None:
    from datetime import datetime

    clerk_context, _ = contexts
    today = clock.at
    clock.at = datetime(2026, 11, 2, 9, 0)
    case_id, assignment_id, number = issued_case(services, clerk, leader)
    clock.at = today
    urge_number, _ = services.assignments.urge(clerk, assignment_id)
    panel = make_panel(qtbot, clerk_context, case_id)
    panel.select_assignment(assignment_id)
    qtbot.mouseClick(panel.preview_button, Qt.MouseButton.LeftButton)
    menu = panel.slip_menu
    assert menu is not None
    qtbot.waitUntil(menu.isVisible)
    actions = menu.actions()
    assert [a.text() for a in actions] == [urge_number, number]  # the newest first
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(actions[0]).center())
    dialog = panel.dialog
    assert isinstance(dialog, SlipPreviewDialog)
    assert dialog.windowTitle() == f"预览 — {urge_number}"
    qtbot.waitUntil(lambda: not dialog.is_loading, timeout=15_000)
    assert dialog.error.text() == ""
    assert "催办通知" in pdf_text(dialog.pdf_bytes)
    dialog.close()


def test_a_receipt_prints_at_full_resolution_without_freezing_the_window(
    qtbot,
    contexts: tuple[UiContext, UiContext],
    services: AppServices,
    clerk: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Receipts use the same dialog without counting; a 600 dpi page renders on the worker (the
    heartbeat fixture fails the test if the UI thread stalls)."""
    import desktop_app.ui.slip_preview as slip_preview

    clerk_context, _ = contexts
    case_id = services.intake.register(clerk, person_form()).case_id
    monkeypatch.setattr(QPrinterInfo, "availablePrinters", staticmethod(lambda: [QPrinterInfo()]))
    monkeypatch.setattr(slip_preview, "QPrintDialog", FakePrintDialog)
    monkeypatch.setattr(FakePrintDialog, "target", tmp_path / "回执.pdf")
    monkeypatch.setattr(FakePrintDialog, "dpi", None)
    dialog = SlipPreviewDialog(
        clerk_context, lambda: services.assignments.receipt_pdf(case_id), "受理回执"
    )
    qtbot.addWidget(dialog)
    dialog.show()
    wait_for_pdf(qtbot, dialog)
    qtbot.mouseClick(dialog.print_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: dialog.last_output is not None and not dialog.is_loading, timeout=60_000
    )
    assert dialog.last_output == dialog.pdf_bytes  # a receipt is printed as shown, not counted
    assert len(PdfReader(tmp_path / "回执.pdf").pages) == 1
    assert "已送打印机" in dialog.status.text()


def test_the_leader_signs_from_the_drafts_preview(
    qtbot,
    contexts: tuple[UiContext, UiContext],
    services: AppServices,
    clerk: Actor,
    monkeypatch: pytest.MonkeyPatch,
    message_boxes: MessageBoxes,
) -> None:
    clerk_context, leader_context = contexts
    case_id = drafted_case(services, clerk)
    panel = make_panel(qtbot, clerk_context, case_id)
    qtbot.mouseClick(panel.draft_button, Qt.MouseButton.LeftButton)
    assert panel.sign_from_preview is None  # a clerk only looks
    assert isinstance(panel.dialog, SlipPreviewDialog)
    panel.dialog.close()

    boss = make_panel(qtbot, leader_context, case_id)
    qtbot.mouseClick(boss.draft_button, Qt.MouseButton.LeftButton)
    draft = boss.dialog
    assert isinstance(draft, SlipPreviewDialog) and boss.sign_from_preview is not None
    wait_for_pdf(qtbot, draft)
    message_boxes.answer(QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(boss.sign_from_preview, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: boss.table.item(0, 4).text() == FIRST_SLIP, timeout=10_000)
    assert asked(message_boxes) == [f"将签发为{FIRST_SLIP}，签发后不能修改。确定签发？"]
    assert not isValid(draft) or not draft.isVisible()


def test_a_failed_print_counts_nothing_and_the_next_print_is_the_original(
    qtbot,
    contexts: tuple[UiContext, UiContext],
    services: AppServices,
    clerk: Actor,
    leader: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    message_boxes: MessageBoxes,
) -> None:
    import desktop_app.ui.slip_preview as slip_preview

    clerk_context, _ = contexts
    case_id, assignment_id, number = issued_case(services, clerk, leader)
    monkeypatch.setattr(QPrinterInfo, "availablePrinters", staticmethod(lambda: [QPrinterInfo()]))
    monkeypatch.setattr(slip_preview, "QPrintDialog", FakePrintDialog)
    monkeypatch.setattr(FakePrintDialog, "target", tmp_path / "first.pdf")
    real_print = slip_preview.print_pdf

    def jammed(_data: bytes, _printer: object) -> None:
        raise slip_preview.PrintFailed("打印机没有响应。")

    monkeypatch.setattr(slip_preview, "print_pdf", jammed)
    message_boxes.allow("warning")
    panel = make_panel(qtbot, clerk_context, case_id)
    panel.select_assignment(assignment_id)
    dialog = open_slip(qtbot, panel)
    qtbot.mouseClick(dialog.print_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: message_boxes.titles("warning") == ["无法打印"] and not dialog.is_loading
    )
    assert services.assignments.slip_content(number)[0].print_count == 0  # nothing came out
    assert dialog.print_button.isEnabled()

    monkeypatch.setattr(slip_preview, "print_pdf", real_print)  # the paper is put right
    qtbot.mouseClick(dialog.print_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.last_output is not None and not dialog.is_loading)
    assert services.assignments.slip_content(number)[0].print_count == 1
    assert "补打" not in pdf_text(dialog.last_output)  # the department's original
    dialog.close()


def test_the_printer_preference_is_read_and_written_off_the_ui_thread(
    qtbot,
    contexts: tuple[UiContext, UiContext],
    services: AppServices,
    clerk: Actor,
    leader: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A BEGIN IMMEDIATE for the preference could wait behind a worker's write: never on the
    UI thread."""
    import threading

    import desktop_app.ui.slip_preview as slip_preview

    clerk_context, _ = contexts
    case_id, assignment_id, _number = issued_case(services, clerk, leader)
    services.site.set_preference(LAST_PRINTER, "前台打印机")
    threads: list[tuple[str, bool]] = []
    site = services.site
    read, write = site.preference, site.set_preference

    def preference(key: str) -> str:
        threads.append(("read", threading.current_thread() is threading.main_thread()))
        return read(key)

    def set_preference(key: str, value: str) -> None:
        threads.append(("write", threading.current_thread() is threading.main_thread()))
        write(key, value)

    monkeypatch.setattr(site, "preference", preference)
    monkeypatch.setattr(site, "set_preference", set_preference)
    monkeypatch.setattr(QPrinterInfo, "availablePrinters", staticmethod(lambda: [QPrinterInfo()]))
    monkeypatch.setattr(slip_preview, "QPrintDialog", FakePrintDialog)
    monkeypatch.setattr(FakePrintDialog, "target", tmp_path / "printed.pdf")
    panel = make_panel(qtbot, clerk_context, case_id)
    panel.select_assignment(assignment_id)
    dialog = open_slip(qtbot, panel)
    qtbot.mouseClick(dialog.print_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.last_output is not None and not dialog.is_loading)
    assert [kind for kind, _ in threads] == ["read", "write"]
    assert not any(on_ui for _, on_ui in threads)
    dialog.close()


def test_the_signing_confirmation_names_the_services_deadline_and_says_when_it_is_provisional(
    qtbot,
    contexts: tuple[UiContext, UiContext],
    services: AppServices,
    clerk: Actor,
    monkeypatch: pytest.MonkeyPatch,
    message_boxes: MessageBoxes,
) -> None:
    _, leader_context = contexts
    case_id = triaged_case(services, clerk)
    ids, _ = services.assignments.create(
        clerk,
        case_id,
        department_id=departments(services)["杞县医疗保障局"],
        requirements="请核实并办理，书面反馈监督窗口。",
        working_days=30,
        deadline_note="涉及多年材料",
    )
    expected = services.calendar.calendar().add(TODAY, 30)
    assert expected.provisional  # into 2027, whose holidays are not known here
    boss = make_panel(qtbot, leader_context, case_id)
    message_boxes.answer(QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(boss.sign_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: boss.table.item(0, 4).text() == FIRST_SLIP, timeout=10_000)
    assert len(asked(message_boxes)) == 1
    due = expected.due
    assert f"{due.year}年{due.month}月{due.day}日前办结" in message_boxes.texts("question")[0]
    assert "暂定" in message_boxes.texts("question")[0]
    assert services.assignments.get(ids[0]).due_date == due
    assert services.cases.detail(case_id).due_provisional


def test_a_draft_on_a_withdrawn_case_is_not_offered_for_signing(
    qtbot,
    contexts: tuple[UiContext, UiContext],
    services: AppServices,
    clerk: Actor,
) -> None:
    _, leader_context = contexts
    case_id = drafted_case(services, clerk)
    services.cases.withdraw(clerk, case_id, "群众来电撤回诉求")
    boss = make_panel(qtbot, leader_context, case_id)
    # The withdrawal closed the draft with the case (issue 16): nothing is left to sign.
    assert boss.selected() is not None and boss.table.item(0, 2).text() == "随撤回关闭"
    assert not boss.sign_button.isEnabled()
    assert not boss.draft_button.isEnabled()  # a closed draft has no paper to come


def test_the_drafts_preview_offers_signing_even_while_the_panel_is_busy(
    qtbot,
    contexts: tuple[UiContext, UiContext],
    services: AppServices,
    clerk: Actor,
    monkeypatch: pytest.MonkeyPatch,
    message_boxes: MessageBoxes,
) -> None:
    """Whether 签发… is offered follows role, draft and case, not the panel's button (disabled
    while a step runs on the worker)."""
    import threading

    _, leader_context = contexts
    case_id = drafted_case(services, clerk)
    boss = make_panel(qtbot, leader_context, case_id)
    release = threading.Event()
    real = services.assignments.next_slip_number

    def slow(assignment_id: int) -> str:  # the peek still on the worker
        release.wait(10)
        return real(assignment_id)

    monkeypatch.setattr(services.assignments, "next_slip_number", slow)
    message_boxes.answer(QMessageBox.StandardButton.No)
    qtbot.mouseClick(boss.sign_button, Qt.MouseButton.LeftButton)
    try:
        assert boss.is_loading and not boss.sign_button.isEnabled()
        rect = boss.table.visualItemRect(boss.table.item(0, 1))
        qtbot.mouseClick(boss.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(boss.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        draft = boss.dialog
        assert isinstance(draft, SlipPreviewDialog)
        assert boss.sign_from_preview is not None
    finally:
        release.set()
    qtbot.waitUntil(lambda: len(asked(message_boxes)) == 1 and not boss.is_loading, timeout=10_000)
    draft.close()


def test_the_preview_says_which_font_stands_in(
    qtbot, contexts: tuple[UiContext, UiContext], services: AppServices, clerk: Actor
) -> None:
    """Under the preview, what stands in for a missing GB/T 9704 font (issue 14 item 8)."""
    from desktop_app.documents.fonts import font_notice, register_fonts

    clerk_context, _ = contexts
    case_id = services.intake.register(clerk, person_form()).case_id
    dialog = SlipPreviewDialog(
        clerk_context, lambda: services.assignments.receipt_pdf(case_id), "受理回执"
    )
    qtbot.addWidget(dialog)
    dialog.show()
    wait_for_pdf(qtbot, dialog)
    notice = font_notice(register_fonts())
    if not notice:
        pytest.skip("every GB/T 9704 font is installed here")
    assert notice in dialog.status.text() and "代替" in dialog.status.text()
    dialog.close()


def test_a_moved_deadline_shows_paper_and_current_and_the_leader_issues_an_adjustment_notice(
    qtbot,
    contexts: tuple[UiContext, UiContext],
    services: AppServices,
    clerk: Actor,
    leader: Actor,
    admin: Actor,
    message_boxes: MessageBoxes,
) -> None:
    clerk_context, leader_context = contexts
    case_id, ids = issued_into_next_year(services, clerk, leader)
    before = services.assignments.get(ids[0]).due_date
    boss = make_panel(qtbot, leader_context, case_id)
    assert "暂定" in boss.table.item(0, 3).text()  # into 2027, whose holidays are not known
    assert boss.adjust_button.isHidden()  # the paper says what the deadline is

    services.calendar.import_csv(
        admin, complete_year(2027, f"{before.isoformat()},否,元旦"), complete_years=[2027]
    )
    after = services.assignments.get(ids[0]).due_date
    boss.reload()
    qtbot.waitUntil(lambda: not boss.is_loading)
    assert "纸面时限" in boss.details.text() and "现行时限" in boss.details.text()
    assert f"{before:%Y-%m-%d}（暂定）" in boss.details.text()
    assert f"现行时限：{after:%Y-%m-%d}" in boss.details.text()
    assert f"{after:%Y-%m-%d}" in boss.table.item(0, 3).text()
    clerk_panel = make_panel(qtbot, clerk_context, case_id)
    assert not clerk_panel.adjust_button.isHidden()
    assert not clerk_panel.adjust_button.isEnabled()  # a leader signs the notice
    assert "带班领导" in clerk_panel.signer_label.text()

    assert boss.adjust_button.isVisible() and boss.adjust_button.isEnabled()
    message_boxes.answer(QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(boss.adjust_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "杞纪窗调〔2026〕1号" in boss.message.text(), timeout=10_000)
    question = message_boxes.texts("question")[0]
    assert question.startswith("向杞县医疗保障局签发时限调整通知？")
    assert f"{before.year}年{before.month}月{before.day}日" in question
    qtbot.waitUntil(lambda: not boss.is_loading)
    assert "纸面时限" not in boss.details.text()
    assert boss.adjust_button.isHidden()
    assert boss.selected() is not None
    assert "杞纪窗调〔2026〕1号" in boss.selected().slip_numbers  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("nature", "asks_for"),
    [
        (Nature.CANT, "不能办理的理由，列明所依据的法律法规、政策文件的名称、文号和条款"),
        (Nature.HARD, "反映的问题，依法依规办理，并将办理结果书面反馈监督窗口"),
    ],
)
def test_a_new_draft_starts_from_the_wording_of_its_paper(
    qtbot,
    contexts: tuple[UiContext, UiContext],
    services: AppServices,
    clerk: Actor,
    nature: Nature,
    asks_for: str,
) -> None:
    """A 办不了 matter's paper is the 依据告知单: its draft asks for the written basis (seed 002),
    in 3 working days; any other asks for the matter to be handled."""
    case_id = services.intake.register(clerk, person_form()).case_id
    services.cases.triage(
        clerk, case_id, Triage(nature, Approach.SUPERVISE, (Cause.PROCESS,), "医保社保")
    )
    panel = make_panel(qtbot, contexts[0], case_id)

    qtbot.mouseClick(panel.new_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: isinstance(panel.dialog, DraftDialog) and not panel.is_loading)

    dialog = panel.dialog
    assert isinstance(dialog, DraftDialog)
    text = dialog.requirements.toPlainText()
    assert asks_for in text
    if nature is Nature.CANT:
        assert text.startswith("请于3个工作日内书面说明")
    dialog.reject()


def test_a_confirmed_deadline_is_noted_without_an_adjustment_prompt(
    qtbot,
    contexts: tuple[UiContext, UiContext],
    services: AppServices,
    clerk: Actor,
    admin: Actor,
    leader: Actor,
) -> None:
    """The year's schedule keeps the date and lifts only 暂定: no 时限调整 is prompted."""
    clerk_context, leader_context = contexts
    case_id, ids = issued_into_next_year(services, clerk, leader)
    before = services.assignments.get(ids[0]).due_date
    services.calendar.import_csv(admin, complete_year(2027), complete_years=[2027])
    assert services.assignments.get(ids[0]).due_date == before
    boss = make_panel(qtbot, leader_context, case_id)
    assert "时限已确认，不再暂定" in boss.details.text()
    assert "纸面时限" not in boss.details.text()
    assert "纸面" not in boss.table.item(0, 3).text() and "暂定" not in boss.table.item(0, 3).text()
    assert boss.adjust_button.isHidden()
    clerk_panel = make_panel(qtbot, clerk_context, case_id)
    assert clerk_panel.adjust_button.isHidden()
    assert "期限已调整" not in clerk_panel.signer_label.text()


def test_a_receipt_printed_from_the_intake_form_is_audited_as_its_clerk(
    qtbot, services: AppServices, clerk: Actor
) -> None:
    """The 受理回执's issue is on the audit log under the clerk who printed it."""
    from sqlalchemy import select

    from desktop_app.services.receipts import ISSUE_ACTION
    from desktop_app.storage.models import AuditEntry

    runner = TaskRunner()
    context = UiContext(services, clerk, ChangeHub(), runner)
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    window.go_to("受理登记")
    page = window.intake
    qtbot.waitUntil(lambda: page.area.findData("医保社保") >= 0)
    type_into(page.name, "王芳")
    page.phone.setText("13812345678")
    type_into(page.title, "社保卡补办")
    type_into(page.description, "补办社保卡要求回户籍地")
    page.area.setCurrentIndex(page.area.findData("医保社保"))
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.last_result is not None)
    # A QLabel does not say where its link is drawn: the link is followed as a click would.
    page.banner.linkActivated.emit(f"receipt:{page.last_result.case_id}")
    wait_for_pdf(qtbot, page.receipt_dialog)
    page.receipt_dialog.close()
    runner.wait()
    with services.db.read() as session:
        users = list(
            session.scalars(select(AuditEntry.user_name).where(AuditEntry.action == ISSUE_ACTION))
        )
    assert users == ["clerk1"]
