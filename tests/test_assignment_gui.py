"""交办 on screen: draft, sign, print, save, the department's steps, slips and verification."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtPrintSupport import QPrinterInfo
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox
from shiboken6 import isValid

from desktop_app.domain.vocabulary import Approach, Cause, Nature
from desktop_app.services.app import AppServices
from desktop_app.services.cases import Triage
from desktop_app.services.context import Actor
from desktop_app.services.roster import DutyRole
from desktop_app.ui.assignment_panel import AssignmentPanel
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.slip_preview import NO_PRINTER_MESSAGE, SlipPreviewDialog
from desktop_app.ui.slips_page import SlipsPage
from tests.helpers.factories import person_form

FIRST_SLIP = "杞纪窗交〔2026〕1号"
TODAY = date(2026, 11, 25)


@pytest.fixture(autouse=True)
def no_message_boxes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A message box would block an offscreen test forever; any that appears fails the test."""

    def no_dialog(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"unexpected message box: {args[1:3]}")

    for name in ("warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, name, no_dialog)


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


def wait_for_pdf(qtbot, dialog: SlipPreviewDialog) -> None:
    qtbot.waitUntil(lambda: dialog.document.pageCount() >= 1, timeout=15_000)


def test_clerk_drafts_leader_signs_then_preview_save_and_print(
    qtbot,
    contexts: tuple[UiContext, UiContext],
    services: AppServices,
    clerk: Actor,
    admin: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clerk_context, leader_context = contexts
    put_leader_on_duty(services, admin)
    case_id = triaged_case(services, clerk)
    panel = make_panel(qtbot, clerk_context, case_id)
    assert panel.table.rowCount() == 0

    dialog = panel.new_assignment()
    assert dialog is not None
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
    boss.sign_button.click()
    qtbot.waitUntil(lambda: boss.table.item(0, 4).text() == FIRST_SLIP, timeout=10_000)
    assert boss.table.item(0, 2).text() == "已签发"
    assert boss.table.item(0, 5).text() == "潘险峰"
    assert boss.table.item(1, 4).text() == FIRST_SLIP  # the assisting department's slip too
    assert FIRST_SLIP in boss.message.text()
    panel.reload()  # the clerk's panel picks it up too
    qtbot.waitUntil(lambda: panel.table.item(0, 4).text() == FIRST_SLIP)

    boss.table.selectRow(0)
    preview = boss.preview_slip()
    assert isinstance(preview, SlipPreviewDialog)
    wait_for_pdf(qtbot, preview)
    assert preview.pdf_bytes is not None and preview.pdf_bytes.startswith(b"%PDF")
    assert preview.print_button.isEnabled() and preview.save_button.isEnabled()
    assert services.assignments.slip_content(FIRST_SLIP)[0].print_count == 1

    target = tmp_path / "导出" / "交办单"
    target.parent.mkdir()
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(target), "PDF 文件 (*.pdf)")
    )
    preview.save_button.click()
    saved = target.with_name("交办单.pdf")
    assert saved.read_bytes().startswith(b"%PDF")
    assert saved.read_bytes() == preview.pdf_bytes
    assert [p.name for p in saved.parent.iterdir()] == ["交办单.pdf"]  # no temp file left

    shown: list[str] = []
    monkeypatch.setattr(QPrinterInfo, "availablePrinters", staticmethod(lambda: []))
    monkeypatch.setattr(
        QMessageBox, "information", lambda _parent, _title, text, *a: shown.append(text)
    )
    preview.print_button.click()
    assert shown == [NO_PRINTER_MESSAGE]
    assert "本机没有安装打印机，可先另存为PDF" in shown[0]
    preview.close()

    again = boss.preview_slip()  # a second opening is a reprint: the service marks it 补打
    assert again is not None
    wait_for_pdf(qtbot, again)
    assert services.assignments.slip_content(FIRST_SLIP)[0].print_count == 2
    again.close()


def test_receive_extension_and_approval_through_the_panel(
    qtbot,
    contexts: tuple[UiContext, UiContext],
    services: AppServices,
    clerk: Actor,
    leader: Actor,
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
    type_into(dialog.fields["reason"], "需要调取外县参保记录")
    dialog.submit()
    qtbot.waitUntil(lambda: panel.table.item(0, 2).text() == "已签收 · 申请延期5个工作日")
    assert not panel.approve_button.isEnabled()  # the clerk cannot approve
    assert panel.signer_label.text() == "延期申请待带班领导审批"
    before = services.assignments.get(assignment_id).due_date

    boss = make_panel(qtbot, leader_context, case_id)
    boss.select_assignment(assignment_id)
    assert boss.approve_button.isEnabled() and boss.refuse_button.isEnabled()
    boss.approve_button.click()
    qtbot.waitUntil(lambda: boss.table.item(0, 2).text() == "已签收 · 已批准延期")
    after = services.assignments.get(assignment_id).due_date
    assert after > before
    assert boss.table.item(0, 3).text().startswith(f"{after:%Y-%m-%d}")
    assert "原期限" in boss.details.text()


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
    dialog = panel.new_assignment()
    assert dialog is not None
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
    qtbot.waitUntil(lambda: page.table.rowCount() == 1 and not page.is_loading)
    assert page.table.item(0, 0).text() == number
    assert page.table.item(0, 4).text() == "杞县医疗保障局"
    assert page.table.item(0, 7).text() == "未打印"

    with qtbot.waitSignal(page.open_case) as opened:
        page.open_button.click()
    assert opened.args == [case_id]

    preview = page.preview_selected()
    assert preview is not None
    wait_for_pdf(qtbot, preview)
    preview.close()
    qtbot.waitUntil(lambda: page.table.item(0, 6).text() == "1 次" and not page.is_loading)

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
