"""The front door by clicks (issue 16 part A): intake with an agent (代办人) and the person
complained about, bad input told beside its field, and a matter screened out from the case's
甄别分类 tab with its notice previewed, issued and read back; screenshots at 1366×768."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QCheckBox, QFileDialog, QMessageBox, QWidget
from sqlalchemy import select

from desktop_app.domain.vocabulary import CaseStatus, Conduct, ProperChannel
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from desktop_app.storage.models import AuditEntry, Case
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.intake_page import IntakePage
from desktop_app.ui.screening_dialog import ScreeningDialog
from desktop_app.ui.slip_preview import SlipPreviewDialog
from desktop_app.ui.theme import apply_style, install_fonts
from tests.helpers.db import audit_count, count_rows
from tests.helpers.factories import VALID_ID, id_for, person_form
from tests.helpers.message_boxes import MessageBoxes
from tests.helpers.speed import fast_password_hashing  # noqa: F401
from tests.test_case_detail_gui import choose, click, open_dialog, replace_text

# For a person to look at: the folder BBCS_SCREENSHOTS names (docs/screenshots/ when updating
# them), else a temporary one, so a test run never rewrites the repository's pictures.
SCREENSHOTS = Path(os.environ.get("BBCS_SCREENSHOTS") or tempfile.mkdtemp(prefix="bbcs-shots-"))
AGENT_ID = id_for("王建国")


@pytest.fixture
def context(
    services: AppServices, clerk: Actor, message_boxes: MessageBoxes
) -> Iterator[UiContext]:
    runner = TaskRunner()
    yield UiContext(services, clerk, ChangeHub(), runner)
    runner.wait()


def pdf_text(data: bytes) -> str:
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).replace("\n", "")


def intake_page(qtbot, context: UiContext) -> IntakePage:
    page = IntakePage(context)
    qtbot.addWidget(page)
    page.resize(1366, 700)
    page.show()
    qtbot.waitExposed(page)
    qtbot.waitUntil(lambda: page.area.count() > 1)  # the reference lists were read
    return page


def fill_person(qtbot, page: IntakePage) -> None:
    replace_text(qtbot, page.name, "王芳")
    replace_text(qtbot, page.id_number, VALID_ID)
    replace_text(qtbot, page.phone, "13812345678")
    replace_text(qtbot, page.title, "医保结算查不到参保信息")
    replace_text(qtbot, page.description, "在县人民医院办理医保结算时被告知查不到参保信息。")
    choose(qtbot, page.area, "医保社保")


def tick(qtbot, box: QCheckBox) -> None:
    """A click on the box itself (a form row stretches the widget past its label)."""
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def snapshot(services: AppServices) -> tuple[int, ...]:
    return (
        services.ledger.count(),
        count_rows(services, "complainants"),
        audit_count(services),
    )


@pytest.fixture
def styled(qapp: QApplication) -> Iterator[None]:
    """The application's fonts and style sheet, as a user sees them (set before the widgets
    are built, so their layout is measured in them); the shared application's look put back."""
    font, style, sheet = qapp.font(), qapp.style().name(), qapp.styleSheet()
    install_fonts(qapp)
    apply_style(qapp)
    yield
    qapp.setStyleSheet(sheet)
    qapp.setStyle(style)
    qapp.setFont(font)


def shoot(widget: QWidget, name: str) -> None:
    """Saved for a person to look at (in SCREENSHOTS, see above)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    QApplication.processEvents()  # the layout settles after the last change
    assert widget.grab().save(str(SCREENSHOTS / name))


def test_intake_with_an_agent_and_a_respondent(
    qtbot, context: UiContext, services: AppServices, styled: None
) -> None:
    page = intake_page(qtbot, context)
    assert not page.agent_name.isVisibleTo(page)  # the rows show only when asked for
    assert not page.respondent_name.isVisibleTo(page)
    fill_person(qtbot, page)

    tick(qtbot, page.agent_box)
    assert page.agent_name.isVisibleTo(page)
    replace_text(qtbot, page.agent_name, "王建国")
    replace_text(qtbot, page.agent_relation, "舅舅")
    replace_text(qtbot, page.agent_phone, "13900001111")
    replace_text(qtbot, page.agent_id_number, AGENT_ID)
    tick(qtbot, page.respondent_box)
    replace_text(qtbot, page.respondent_name, "李某")
    replace_text(qtbot, page.respondent_post, "结算窗口工作人员")
    replace_text(qtbot, page.respondent_unit, "县人民医院")
    tick(qtbot, page.conduct_boxes[Conduct.INDIFFERENT])
    tick(qtbot, page.conduct_boxes[Conduct.SHIRK])
    campaign = page.campaign.lineEdit()
    assert campaign is not None
    replace_text(qtbot, campaign, "我为群众办实事")
    page.resize(1366, 768)
    page.form_scroll.ensureWidgetVisible(page.conduct_boxes[Conduct.NO_RESPONSIBILITY])
    shoot(page, "20-intake-agent-respondent.png")

    click(qtbot, page.save_button)
    qtbot.waitUntil(lambda: page.last_result is not None)
    result = page.last_result
    assert result is not None and result.number in page.banner.text()
    assert page.agent_name.text() == "" and not page.agent_box.isChecked()  # ready for the next
    with services.db.read() as session:
        case = session.get(Case, result.case_id)
        assert case is not None and case.agent is not None
        assert case.complainant.name == "王芳"
        assert (case.agent.name, case.agent_relation) == ("王建国", "舅舅")
        assert services.sealer.phone(case.agent) == "13900001111"
        assert (case.respondent_name, case.respondent_post, case.respondent_unit) == (
            "李某",
            "结算窗口工作人员",
            "县人民医院",
        )
        assert case.respondent_conduct == ["shirk", "indifferent"]  # in the list's order
        assert case.campaign == "我为群众办实事"


def test_a_second_press_of_save_keeps_the_number_just_given(
    qtbot, context: UiContext, services: AppServices
) -> None:
    """A walk double-clicked 保存登记 (and pressed Enter twice): the case was saved, then the
    second press checked the emptied form, and its red 请填写… replaced the green ✔ with the
    number — the clerk would register the matter again."""
    page = intake_page(qtbot, context)
    fill_person(qtbot, page)
    before = services.ledger.count()
    click(qtbot, page.save_button)
    qtbot.waitUntil(lambda: page.last_result is not None)
    result = page.last_result
    assert result is not None
    qtbot.mouseDClick(page.save_button, Qt.MouseButton.LeftButton)
    qtbot.keyClick(page.title, Qt.Key.Key_Return)
    qtbot.wait(50)
    assert page.banner.isVisible() and result.number in page.banner.text()
    assert page.errors["name"].text() == ""
    assert services.ledger.count() == before + 1
    replace_text(qtbot, page.name, "李")  # the next visitor: a save checks the form again
    click(qtbot, page.save_button)
    qtbot.waitUntil(lambda: page.errors["phone"].text() != "")
    assert services.ledger.count() == before + 1


def test_a_wrong_agent_phone_is_told_beside_it_and_nothing_saved(
    qtbot, context: UiContext, services: AppServices
) -> None:
    page = intake_page(qtbot, context)
    fill_person(qtbot, page)
    tick(qtbot, page.agent_box)
    replace_text(qtbot, page.agent_relation, "舅舅")
    replace_text(qtbot, page.agent_phone, "1390000")
    before = snapshot(services)
    click(qtbot, page.save_button)
    qtbot.waitUntil(lambda: not page.is_saving)
    assert page.errors["agent_name"].text() == "填写了代办人信息，请同时填写代办人姓名"
    assert page.errors["agent_phone"].text()
    assert page.errors["agent_phone"].isVisibleTo(page)
    assert page.last_result is None
    assert snapshot(services) == before
    # Unticking the box leaves the agent out: the matter saves without one.
    tick(qtbot, page.agent_box)
    click(qtbot, page.save_button)
    qtbot.waitUntil(lambda: page.last_result is not None)
    with services.db.read() as session:
        case = session.get(Case, page.last_result.case_id)
        assert case is not None and case.agent_id is None


def printed(services: AppServices, action: str) -> int:
    with services.db.read() as session:
        return len(session.scalars(select(AuditEntry.id).where(AuditEntry.action == action)).all())


def test_screening_out_from_the_case_with_its_notice(
    qtbot,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    context: UiContext,
    services: AppServices,
    clerk: Actor,
    message_boxes: MessageBoxes,
    styled: None,
) -> None:
    case_id = services.intake.register(clerk, person_form()).case_id
    dialog = open_dialog(qtbot, context, case_id)
    dialog.tabs.setCurrentIndex(1)  # 甄别分类
    assert dialog.screen_out_button.isEnabled()
    assert dialog.cause_boxes.loaded and "作风不实" in [
        b.text() for b in dialog.cause_boxes.values()
    ]
    click(qtbot, dialog.screen_out_button)
    screening = dialog.screen_out_button.dialog
    assert isinstance(screening, ScreeningDialog)
    qtbot.waitExposed(screening)

    # No reason: told beside the box, nothing asked, nothing saved.
    click(qtbot, screening.confirm_button)
    assert screening.reason_error.text() == "请写明不属于受理范围的理由，告知书上会印出"
    assert services.cases.detail(case_id).status is CaseStatus.REGISTERED

    choose(qtbot, screening.channel, ProperChannel.LITIGATION.label)
    replace_text(
        qtbot, screening.reason, "属于与邻居的宅基地权属纠纷，是民事争议，不是办事中遇到的问题"
    )
    screening.resize(900, 560)
    shoot(screening, "20-screening-dialog.png")
    click(qtbot, screening.preview_button)
    preview = screening.preview_dialog
    assert preview is not None
    qtbot.waitUntil(lambda: preview.pdf_bytes is not None)
    assert preview.pdf_bytes is not None
    draft = pdf_text(preview.pdf_bytes)
    assert "不予受理告知书" in draft and "编号在确认后生成" in draft and "人民法院" in draft
    preview.close()
    assert services.cases.detail(case_id).status is CaseStatus.REGISTERED  # looking only

    message_boxes.answer(QMessageBox.StandardButton.Yes)
    click(qtbot, screening.confirm_button)
    qtbot.waitUntil(lambda: screening.screening_result is not None)
    assert "不予受理" in message_boxes.shown[-1].text
    issued = screening.preview_dialog
    assert issued is not None and issued is not preview
    qtbot.waitUntil(lambda: issued.pdf_bytes is not None)
    assert issued.pdf_bytes is not None
    text = pdf_text(issued.pdf_bytes)
    assert "杞纪窗告〔2026〕1号" in text and "王芳：" in text
    assert "138****5678" in text and "13812345678" not in text
    assert not screening.confirm_button.isEnabled()
    # Saved from the preview: the copy is audited (打印告知书); a second is a 补打.
    target = tmp_path / "告知书.pdf"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    for expected in ("print_notice", "reprint_notice"):
        qtbot.waitUntil(lambda: issued.save_button.isEnabled(), timeout=15_000)
        click(qtbot, issued.save_button)
        qtbot.waitUntil(lambda: issued.last_output is not None and not issued.busy)
        qtbot.waitUntil(lambda e=expected: printed(services, e) == 1)
    assert "补　打" in pdf_text(target.read_bytes())

    qtbot.waitUntil(lambda: dialog.status_label.text() == CaseStatus.SCREENED_OUT.label)
    assert not dialog.screen_out_button.isEnabled()
    assert not dialog.triage_button.isEnabled()
    assert "不予受理（应循诉讼渠道）" in dialog.info_values["甄别结论"].text()
    assert services.cases.detail(case_id).status is CaseStatus.SCREENED_OUT
    issued.close()
    screening.close()
    # Later, from the case: the notice again, and each copy a 补打.
    assert dialog.notice_button.isVisibleTo(dialog)
    click(qtbot, dialog.notice_button)
    qtbot.waitUntil(lambda: dialog.notice_dialog is not None)
    again = dialog.notice_dialog
    assert isinstance(again, SlipPreviewDialog)
    qtbot.waitUntil(lambda: again.save_button.isEnabled(), timeout=15_000)
    click(qtbot, again.save_button)
    qtbot.waitUntil(lambda: printed(services, "reprint_notice") == 2)
    again.close()
    dialog.close()
