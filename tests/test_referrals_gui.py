"""问责线索 screen (issue 16): a referral clicked through as the right users — the clerk proposes,
the duty leader signs the 移交函, 纪检监察 records the decision — with what each role sees."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QCheckBox, QPushButton, QWidget
from sqlalchemy import select

from desktop_app.domain.vocabulary import (
    Approach,
    Cause,
    Conduct,
    Measure,
    Nature,
    ReferralState,
    Role,
)
from desktop_app.services.app import AppServices
from desktop_app.services.cases import Triage
from desktop_app.services.context import Actor
from desktop_app.storage.models import Referral
from desktop_app.ui.case_detail import CaseDetailDialog
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.referral_dialogs import DecideDialog, ProposeDialog, SendDialog
from desktop_app.ui.referrals_page import ReferralsPage, ReferralTableModel
from desktop_app.ui.slip_preview import SlipPreviewDialog
from tests.helpers.factories import person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401

pytestmark = pytest.mark.usefixtures("message_boxes")

# For a person to look at: in the folder BBCS_SCREENSHOTS names (docs/screenshots/ when updating
# them), else in a temporary one, so a test run never rewrites the repository's pictures.
SCREENSHOT = (
    Path(os.environ.get("BBCS_SCREENSHOTS") or tempfile.mkdtemp(prefix="bbcs-shots-"))
    / "16-referrals.png"
)
HARD = Triage(Nature.HARD, Approach.PUSH, (Cause.SHIRKING,), "医保社保")


@pytest.fixture
def discipline(services: AppServices, admin: Actor) -> Actor:
    services.auth.create_user(
        admin, username="jijian", display_name="赵纪检", role=Role.DISCIPLINE, password="Jijian2026"
    )
    return services.auth.login("jijian", "Jijian2026")


@pytest.fixture
def runner() -> Iterator[TaskRunner]:
    runner = TaskRunner()
    yield runner
    runner.wait()


def _page(qtbot, services: AppServices, actor: Actor, runner: TaskRunner) -> ReferralsPage:
    page = ReferralsPage(UiContext(services, actor, ChangeHub(), runner))
    qtbot.addWidget(page)
    page.resize(1366, 768)
    page.show()
    qtbot.waitExposed(page)
    qtbot.waitUntil(lambda: not page.is_loading)
    return page


def type_text(widget: QWidget, text: str) -> None:
    """Text as a Chinese IME delivers it: one committed string (QTest types ASCII only)."""
    widget.setFocus()
    event = QInputMethodEvent("", [])
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def tick(qtbot, box: QCheckBox) -> None:
    """Tick a box from the keyboard (Space), as a clerk tabbing through the form does."""
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Space)
    assert box.isChecked()


def click(qtbot, button: QPushButton) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _case(services: AppServices, clerk: Actor) -> tuple[int, str]:
    registered = services.intake.register(clerk, person_form())
    services.cases.triage(clerk, registered.case_id, HARD)
    return registered.case_id, services.cases.detail(registered.case_id).number


def _state(services: AppServices) -> list[tuple[str, str, str]]:
    with services.db.read() as session:
        return [
            (r.state, r.number, r.measure)
            for r in session.scalars(select(Referral).order_by(Referral.id))
        ]


def test_propose_send_and_decide_clicked_through_as_each_role(
    qtbot,
    services: AppServices,
    clerk: Actor,
    leader: Actor,
    discipline: Actor,
    runner: TaskRunner,
) -> None:
    _case_id, case_number = _case(services, clerk)

    # The clerk proposes from the register, naming the case by its number.
    page = _page(qtbot, services, clerk, runner)
    assert page.model.rowCount() == 0
    assert not page.send_button.isVisible() and not page.decide_button.isVisible()
    click(qtbot, page.propose_button)
    propose = page.dialog
    assert isinstance(propose, ProposeDialog)
    type_text(propose.case_number, case_number)
    qtbot.keyClick(propose.case_number, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: propose.ok_button.isEnabled())
    assert "医保结算查不到参保信息" in propose.facts.toPlainText()  # prefilled from the case
    click(qtbot, propose.ok_button)  # no one named yet: refused beside the fields
    qtbot.waitUntil(lambda: propose.errors["person_name"].isVisible())
    assert propose.errors["conduct"].text() == "请至少选择一项问题表现"
    assert _state(services) == []
    type_text(propose.person_name, "李某")
    type_text(propose.person_unit, "杞县医疗保障局")
    tick(qtbot, propose.conduct[Conduct.SHIRK])
    click(qtbot, propose.ok_button)
    qtbot.waitUntil(lambda: page.model.rowCount() == 1 and not page.is_loading)
    assert page.model.index(0, 2).data() == "李某"
    assert page.model.index(0, 5).data() == "拟移交"
    assert _state(services) == [("proposed", "", "")]

    # The duty leader signs the letter.
    leader_page = _page(qtbot, services, leader, runner)
    leader_page.table.selectRow(0)
    assert not leader_page.decide_button.isVisible()
    click(qtbot, leader_page.send_button)
    send = leader_page.dialog
    assert isinstance(send, SendDialog)
    qtbot.waitUntil(lambda: send.ok_button.isEnabled())
    assert send.number.text() == "杞纪窗移〔2026〕1号"
    type_text(send.recipient_name, "中共杞县纪委 杞县监委")
    click(qtbot, send.ok_button)
    qtbot.waitUntil(
        lambda: (
            leader_page.model.index(0, 0).data() == "杞纪窗移〔2026〕1号"
            and not leader_page.is_loading
        )
    )
    assert leader_page.model.index(0, 5).data() == "已移交"
    assert _state(services) == [("sent", "杞纪窗移〔2026〕1号", "")]

    # 纪检监察 records the decision: a protective outcome needs what the check found.
    jijian = _page(qtbot, services, discipline, runner)
    jijian.table.selectRow(0)
    assert not jijian.propose_button.isVisible() and not jijian.send_button.isVisible()
    click(qtbot, jijian.decide_button)
    decide = jijian.dialog
    assert isinstance(decide, DecideDialog)
    decide.measure.setCurrentIndex(decide.measure.findData(Measure.FAULT_TOLERANCE.value))
    click(qtbot, decide.ok_button)
    qtbot.waitUntil(lambda: decide.errors["note"].isVisible())
    assert _state(services)[0][0] == ReferralState.SENT.value
    type_text(decide.note, "系上级系统故障所致，已按规定告知，予以容错。")
    click(qtbot, decide.ok_button)
    qtbot.waitUntil(lambda: jijian.model.index(0, 6).data() == "容错纠错" and not jijian.is_loading)
    assert jijian.model.index(0, 5).data() == "已处理"
    assert _state(services) == [("decided", "杞纪窗移〔2026〕1号", "fault_tolerance")]
    qtbot.waitUntil(lambda: "容错" in jijian.detail.text())


def test_the_case_detail_proposes_and_the_register_prints_the_letter(
    qtbot,
    services: AppServices,
    clerk: Actor,
    leader: Actor,
    runner: TaskRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from PySide6.QtWidgets import QFileDialog

    case_id, _number = _case(services, clerk)
    context = UiContext(services, clerk, ChangeHub(), runner)
    detail = CaseDetailDialog(context, case_id)
    qtbot.addWidget(detail)
    detail.show()
    qtbot.waitExposed(detail)
    button = detail.propose_referral_button
    click(qtbot, button)
    propose = button.dialog
    assert isinstance(propose, ProposeDialog)
    qtbot.waitUntil(lambda: propose.ok_button.isEnabled())
    type_text(propose.person_name, "王某")
    tick(qtbot, propose.conduct[Conduct.SHIRK])
    click(qtbot, propose.ok_button)
    qtbot.waitUntil(lambda: len(_state(services)) == 1)
    qtbot.waitUntil(
        lambda: any(
            "提出问责线索" in detail.timeline.topLevelItem(i).text(2)
            for i in range(detail.timeline.topLevelItemCount())
        )
    )
    detail.close()

    referral_id = services.referrals.ids(leader)[0]
    from desktop_app.domain.vocabulary import ReferralRecipient

    services.referrals.send(
        leader, referral_id, recipient=ReferralRecipient.UNIT, recipient_name="杞县医疗保障局"
    )
    page = _page(qtbot, services, leader, runner)
    page.table.selectRow(0)
    click(qtbot, page.letter_button)
    preview = page.dialog
    assert isinstance(preview, SlipPreviewDialog)
    qtbot.waitUntil(lambda: preview.save_button.isEnabled(), timeout=15_000)
    target = tmp_path / "移交函.pdf"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    click(qtbot, preview.save_button)
    qtbot.waitUntil(lambda: preview.last_output is not None and not preview.is_loading)
    assert target.read_bytes().startswith(b"%PDF")
    with services.db.read() as session:
        assert session.get(Referral, referral_id).print_count == 1  # type: ignore[union-attr]
    preview.close()


def test_what_each_role_is_offered(
    qtbot, services: AppServices, clerk: Actor, auditor: Actor, discipline: Actor, runner
) -> None:
    case_id, _number = _case(services, clerk)
    for actor in (auditor, discipline):
        page = _page(qtbot, services, actor, runner)
        offered = {
            b.text()
            for b in (
                page.propose_button,
                page.send_button,
                page.drop_button,
                page.decide_button,
            )
            if b.isVisibleTo(page)
        }
        assert offered == ({"登记处理结果…"} if actor is discipline else set())
        detail = CaseDetailDialog(UiContext(services, actor, ChangeHub(), runner), case_id)
        qtbot.addWidget(detail)
        assert not detail.propose_referral_button.isVisibleTo(detail)


def test_the_discipline_role_logs_in_to_the_ledger_and_the_register(
    qtbot, services: AppServices, discipline: Actor, runner: TaskRunner
) -> None:
    from desktop_app.ui.main_window import MainWindow

    window = MainWindow(UiContext(services, discipline, ChangeHub(), runner))
    qtbot.addWidget(window)
    names = [window.navigation.item(i).text() for i in range(window.navigation.count())]
    assert "事项台账" in names and "问责线索" in names
    assert "一类事与预警" not in names and "联席会议" not in names and "审计日志" not in names
    # Nor the forms it could not save: no 受理登记, no 数据交换, and Ctrl+N does nothing.
    assert "受理登记" not in names and "数据交换" not in names
    window.show()
    qtbot.waitExposed(window)
    assert not window.dashboard.new_button.isVisible()
    qtbot.waitUntil(lambda: runner.idle(), timeout=10_000)
    assert not window.dashboard.exchange_banner.isVisible()  # nothing it could act on
    row = window.navigation.currentRow()
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.navigation.currentRow() == row
    qtbot.waitUntil(lambda: runner.idle(), timeout=10_000)


def test_the_auditor_sees_the_exchange_but_not_the_intake_form(
    qtbot, services: AppServices, auditor: Actor, runner: TaskRunner
) -> None:
    from desktop_app.ui.main_window import MainWindow

    window = MainWindow(UiContext(services, auditor, ChangeHub(), runner))
    qtbot.addWidget(window)
    names = [window.navigation.item(i).text() for i in range(window.navigation.count())]
    assert "受理登记" not in names
    assert "数据交换" in names and "审计日志" in names
    qtbot.waitUntil(lambda: runner.idle(), timeout=10_000)


def test_the_model_and_a_screenshot(
    qtbot,
    qtmodeltester,
    qapp,
    services: AppServices,
    clerk: Actor,
    leader: Actor,
    discipline: Actor,
    runner: TaskRunner,
) -> None:
    from desktop_app.domain.vocabulary import ReferralRecipient
    from desktop_app.services.referrals import Proposal

    case_id, _number = _case(services, clerk)
    people = [
        ("李某", "杞县医疗保障局", (Conduct.SHIRK, Conduct.COLD)),
        ("王某", "杞县不动产登记中心", (Conduct.WONT,)),
        ("张某", "杞县市场监督管理局", (Conduct.GRAFT,)),
        ("赵某", "杞县人社局", (Conduct.NO_NOTICE, Conduct.SLOW)),
    ]
    ids = []
    for name, unit, conduct in people:
        referral_id, _ = services.referrals.propose(
            clerk,
            Proposal(
                case_id=case_id,
                person_name=name,
                person_post="窗口工作人员",
                person_unit=unit,
                conduct=conduct,
                facts="当事人多次往返未获办理。",
            ),
        )
        ids.append(referral_id)
    for referral_id in ids[:3]:
        services.referrals.send(
            leader,
            referral_id,
            recipient=ReferralRecipient.DISCIPLINE_ORGAN,
            recipient_name="中共杞县纪委 杞县监委",
        )
    services.referrals.decide(discipline, ids[0], measure=Measure.ADMONITION)
    services.referrals.decide(
        discipline, ids[1], measure=Measure.CLEARED, note="经核查系政策原因，予以澄清正名。"
    )
    model = ReferralTableModel(services.referrals)
    model.set_ids(services.referrals.ids(leader))
    qtmodeltester.check(model)

    from desktop_app.ui.theme import apply_style, install_fonts

    install_fonts(qapp)  # the window's look: the bundled Chinese font, the style sheet
    apply_style(qapp)
    page = _page(qtbot, services, leader, runner)
    page.table.selectRow(3)  # newest first: 李某, proposed first, is last
    qtbot.waitUntil(lambda: "李某" in page.detail.text())
    host: QWidget = page
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    assert host.grab().save(str(SCREENSHOT))
