"""The case dialog by clicks and keys: 更正…, triage and the return visit with no pre-selected
answer, the saved-triage line, errors that leave as soon as a field is right, and the fit on a
1366×768 laptop."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QComboBox, QScrollArea, QWidget

from desktop_app.domain.vocabulary import (
    Approach,
    CaseStatus,
    Cause,
    Nature,
    Outcome,
    ReplyMethod,
    Role,
)
from desktop_app.services.app import AppServices
from desktop_app.services.cases import Triage
from desktop_app.services.context import Actor
from desktop_app.services.ledger import CaseFilter
from desktop_app.ui.case_detail import CaseDetailDialog
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.correction_dialog import CorrectionDialog
from desktop_app.ui.screen import SMALLEST_SCREEN
from tests.helpers.factories import person_form
from tests.helpers.message_boxes import MessageBoxes
from tests.helpers.speed import fast_password_hashing  # noqa: F401


@pytest.fixture
def context(
    services: AppServices, clerk: Actor, message_boxes: MessageBoxes
) -> Iterator[UiContext]:
    runner = TaskRunner()
    yield UiContext(services, clerk, ChangeHub(), runner)
    runner.wait()


def open_dialog(qtbot, context: UiContext, case_id: int) -> CaseDetailDialog:
    dialog = CaseDetailDialog(context, case_id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: not dialog.is_loading)  # the case is read on the worker
    return dialog


def concluded_case(services: AppServices, clerk: Actor, *, reply_text: str) -> int:
    """A matter registered and concluded on the spot (办成, answered by phone)."""
    case_id = services.intake.register(clerk, person_form()).case_id
    services.cases.conclude(
        clerk,
        case_id,
        outcome=Outcome.DONE,
        what_was_done="当场补录参保信息",
        reply_method=ReplyMethod.PHONE,
        reply_text=reply_text,
    )
    return case_id


def click(qtbot, widget: QWidget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def replace_text(qtbot, widget: QWidget, text: str) -> None:
    """Select all and type over it: ASCII as key presses, Chinese as an IME commits it."""
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    if text.isascii():
        qtbot.keyClicks(widget, text)
        return
    event = QInputMethodEvent("", [])
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def choose(qtbot, combo: QComboBox, label: str) -> None:
    """Pick an item by keyboard, as a clerk does: focus, then ↓ until it shows."""
    combo.setFocus()
    for _ in range(combo.count() + 1):
        if combo.currentIndex() >= 0 and combo.currentText().startswith(label):
            return
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    raise AssertionError(f"{label} not in the list")


def open_correction(qtbot, dialog: CaseDetailDialog) -> CorrectionDialog:
    dialog.tabs.setCurrentIndex(0)
    click(qtbot, dialog.correct_button)
    qtbot.waitUntil(lambda: dialog.correction_dialog is not None)
    correction = dialog.correction_dialog
    assert correction is not None
    qtbot.waitExposed(correction)
    return correction


def info_text(dialog: CaseDetailDialog) -> str:
    grid = dialog.info_grid
    return " ".join(
        grid.itemAt(i).widget().text()
        for i in range(grid.count())
        if grid.itemAt(i).widget() is not None
    )


def test_correcting_the_complainants_name_by_clicks(
    qtbot, context: UiContext, services: AppServices, clerk: Actor
) -> None:
    earlier = services.intake.register(clerk, person_form(name="张三"))
    case_id = services.intake.register(
        clerk, person_form(name="张三", title="社保卡补办要求回户籍地")
    ).case_id
    dialog = open_dialog(qtbot, context, case_id)
    published: list[object] = []
    context.hub.changed.connect(published.append)

    correction = open_correction(qtbot, dialog)
    assert correction.name.text() == "张三"  # pre-filled
    assert earlier.number in correction.shared_label.text()
    replace_text(qtbot, correction.name, "张珊")
    replace_text(qtbot, correction.reason, "身份证上是“珊”，登记时录错")
    click(qtbot, correction.save_button)

    qtbot.waitUntil(lambda: dialog.detail.complainant_name == "张珊")
    assert "张珊" in info_text(dialog) and "张三" not in info_text(dialog)
    last = dialog.timeline.topLevelItem(dialog.timeline.topLevelItemCount() - 1)
    assert last.text(1) == "更正" and "张三→张珊" in last.text(2)
    assert published and set(published[-1].case_ids) == {earlier.case_id, case_id}
    assert set(services.ledger.ids(CaseFilter(text="张珊"))) == {earlier.case_id, case_id}
    assert services.ledger.ids(CaseFilter(text="张三")) == []


def test_a_bad_id_is_refused_beside_the_field_and_nothing_changes(
    qtbot, context: UiContext, services: AppServices, clerk: Actor
) -> None:
    case_id = services.intake.register(clerk, person_form()).case_id
    before = services.cases.detail(case_id)
    dialog = open_dialog(qtbot, context, case_id)
    correction = open_correction(qtbot, dialog)

    replace_text(qtbot, correction.id_number, "110105194912310021")  # wrong check digit
    click(qtbot, correction.save_button)
    error = correction.errors["id_number"]
    qtbot.waitUntil(lambda: error.isVisibleTo(correction))
    assert "校验" in error.text()
    assert "更正原因" in correction.errors["reason"].text()
    assert correction.isVisible() and correction.saved is None
    assert services.cases.detail(case_id) == before

    # The message leaves as soon as the field is right, and the form keeps its place.
    reason_at = correction.reason.mapTo(correction, QPoint(0, 0))
    qtbot.keyClick(correction.id_number, Qt.Key.Key_Backspace)
    assert error.isVisibleTo(correction)  # 17 characters: still wrong
    qtbot.keyClicks(correction.id_number, "X")
    assert not error.isVisibleTo(correction)
    assert correction.reason.mapTo(correction, QPoint(0, 0)) == reason_at
    replace_text(qtbot, correction.reason, "已核对原件")
    assert not correction.errors["reason"].isVisibleTo(correction)
    click(qtbot, correction.cancel_button)
    assert services.cases.detail(case_id) == before


def test_a_corrected_name_on_an_issued_slip_shows_in_the_case(
    qtbot, context: UiContext, services: AppServices, clerk: Actor, leader: Actor
) -> None:
    case_id = services.intake.register(clerk, person_form(name="张三")).case_id
    services.cases.triage(
        clerk, case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.POLICY,), "医保社保")
    )
    department = services.site.departments()[0]
    ids, _ = services.assignments.create(
        clerk, case_id, department_id=department.id, requirements="请于规定时限内办理并反馈。"
    )
    number, _ = services.assignments.issue(leader, ids[0])
    dialog = open_dialog(qtbot, context, case_id)
    assert not dialog.printed_banner.isVisibleTo(dialog)

    correction = open_correction(qtbot, dialog)
    replace_text(qtbot, correction.name, "张珊")
    replace_text(qtbot, correction.reason, "登记时录错")
    click(qtbot, correction.save_button)

    qtbot.waitUntil(lambda: dialog.printed_banner.isVisibleTo(dialog))
    assert dialog.printed_banner.text().startswith(
        f"交办单 {number} 签发后，反映人姓名已更正（张三→张珊）"
    )
    assert "纸面内容不变，如需可由带班领导作废后重新交办。" in dialog.printed_banner.text()
    qtbot.waitUntil(lambda: not dialog.assignments._loading)


def test_triage_starts_empty_requires_a_choice_and_says_it_was_saved(
    qtbot, context: UiContext, services: AppServices, clerk: Actor
) -> None:
    case_id = services.intake.register(clerk, person_form()).case_id
    dialog = open_dialog(qtbot, context, case_id)
    dialog.tabs.setCurrentIndex(1)
    assert dialog.nature.currentIndex() == -1 and dialog.nature.currentText() == ""
    assert dialog.approach.currentIndex() == -1
    assert dialog.nature.placeholderText() == "请选择…"

    click(qtbot, dialog.triage_button)
    nature_error = dialog._field_errors["nature"][0]
    assert nature_error.text() == "请选择问题性质" and nature_error.isVisibleTo(dialog)
    assert dialog._field_errors["approach"][0].text() == "请选择处置方式"
    assert dialog._field_errors["causes"][0].text() == "请至少选择一项受阻原因"
    assert services.cases.detail(case_id).nature is None  # nothing was saved

    button_at = dialog.triage_button.mapTo(dialog, QPoint(0, 0))
    choose(qtbot, dialog.nature, "很难办")
    assert not nature_error.isVisibleTo(dialog)  # gone as soon as a nature is chosen
    assert dialog._field_errors["approach"][0].isVisibleTo(dialog)
    choose(qtbot, dialog.approach, "推动办")
    click(qtbot, dialog.cause_boxes[Cause.PROCESS])
    assert not dialog._field_errors["causes"][0].isVisibleTo(dialog)
    assert dialog.triage_button.mapTo(dialog, QPoint(0, 0)) == button_at  # no jump
    click(qtbot, dialog.triage_button)

    qtbot.waitUntil(lambda: dialog.triage_saved.text() != "")
    detail = services.cases.detail(case_id)
    assert detail.nature is Nature.HARD and detail.approach is Approach.PUSH
    assert detail.due_date is not None
    assert dialog.triage_saved.text() == (
        f"✔ 已保存甄别分类：很难办、推动办，期限至 {detail.due_date.year}年"
        f"{detail.due_date.month}月{detail.due_date.day}日"
    )
    qtbot.waitUntil(lambda: not dialog.assignments._loading)
    dialog.close()

    again = open_dialog(qtbot, context, case_id)  # a triaged case shows its stored values
    assert again.nature.currentData() == Nature.HARD.value
    assert again.approach.currentData() == Approach.PUSH.value
    qtbot.waitUntil(lambda: not again.assignments._loading)

    # Saved again unchanged (a walk double-clicked and found it twice in 办理记录): the same
    # ✔, and no second entry.
    entries = len(services.cases.detail(case_id).timeline)
    again.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: again.cause_boxes.loaded)
    click(qtbot, again.triage_button)
    qtbot.waitUntil(
        lambda: again.triage_saved.text().startswith("✔ 已保存甄别分类：很难办、推动办")
    )
    assert len(services.cases.detail(case_id).timeline) == entries
    qtbot.waitUntil(lambda: not again.is_loading and not again.assignments._loading)


def test_the_return_visit_has_no_preselected_grade(
    qtbot, context: UiContext, services: AppServices, clerk: Actor
) -> None:
    case_id = concluded_case(services, clerk, reply_text="已补录")
    dialog = open_dialog(qtbot, context, case_id)
    dialog.tabs.setCurrentIndex(3)
    assert dialog.grade.currentIndex() == -1
    click(qtbot, dialog.visit_button)
    grade_error = dialog._field_errors["grade"][0]
    assert grade_error.text() == "请选择回访评价"
    assert services.cases.detail(case_id).status is CaseStatus.CONCLUDED

    choose(qtbot, dialog.grade, "满意")
    assert not grade_error.isVisibleTo(dialog)
    click(qtbot, dialog.visit_button)
    qtbot.waitUntil(lambda: dialog.detail.status is CaseStatus.VISITED)
    qtbot.waitUntil(lambda: not dialog.assignments._loading)


def test_a_triage_saved_over_a_newer_one_from_another_seat_is_refused_and_shown(
    qtbot, context: UiContext, services: AppServices, clerk: Actor, message_boxes: MessageBoxes
) -> None:
    """Two seats have the case open; the other one saves its 甄别分类 first. This dialog's
    save would have recorded over it without a word (a 不给办 with its 问责线索, over a 很难办):
    it is refused, said plainly, and the dialog shows what the other seat saved."""
    message_boxes.allow("warning", "critical", "information")
    case_id = services.intake.register(clerk, person_form()).case_id
    dialog = open_dialog(qtbot, context, case_id)
    qtbot.waitUntil(lambda: dialog.cause_boxes.loaded)
    dialog.tabs.setCurrentIndex(1)
    services.cases.triage(  # the other seat, after this dialog read the case
        clerk, case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
    )
    choose(qtbot, dialog.nature, "不给办")
    choose(qtbot, dialog.approach, "责成办")
    click(qtbot, dialog.cause_boxes[Cause.PROCESS])
    click(qtbot, dialog.triage_button)

    qtbot.waitUntil(lambda: any("已被修改" in text for text in message_boxes.texts()))
    detail = services.cases.detail(case_id)
    assert (detail.nature, detail.approach) == (Nature.HARD, Approach.PUSH)  # kept
    assert services.referrals.for_case(clerk, case_id) == []  # no 不给办 referral either
    qtbot.waitUntil(lambda: dialog.nature.currentData() == Nature.HARD.value)  # read again
    assert dialog.triage_saved.text() == ""

    choose(qtbot, dialog.approach, "监督办")  # now it saves, over what it has seen
    click(qtbot, dialog.triage_button)
    qtbot.waitUntil(lambda: dialog.triage_saved.text() != "")
    assert services.cases.detail(case_id).approach is Approach.SUPERVISE
    qtbot.waitUntil(lambda: not dialog.assignments._loading)


def test_the_case_dialog_fits_the_smallest_screen(
    qtbot, context: UiContext, services: AppServices, clerk: Actor
) -> None:
    case_id = services.intake.register(clerk, person_form()).case_id
    dialog = open_dialog(qtbot, context, case_id)
    hint = dialog.minimumSizeHint()
    assert hint.width() <= SMALLEST_SCREEN.width() and hint.height() <= SMALLEST_SCREEN.height()
    assert dialog.width() <= dialog.screen().availableGeometry().width()
    assert dialog.height() <= dialog.screen().availableGeometry().height()
    assert isinstance(dialog.tabs.widget(3), QScrollArea)  # 办结与回访 scrolls
    correction = open_correction(qtbot, dialog)
    hint = correction.minimumSizeHint()
    assert hint.width() <= SMALLEST_SCREEN.width() and hint.height() <= SMALLEST_SCREEN.height()
    click(qtbot, correction.cancel_button)
    qtbot.waitUntil(lambda: not dialog.assignments._loading)


def _bottom_in(widget: QWidget, page: QWidget) -> int:
    return widget.mapTo(page, QPoint(0, widget.height())).y()


def _top_in(widget: QWidget, page: QWidget) -> int:
    return widget.mapTo(page, QPoint(0, 0)).y()


def test_the_triage_tab_scrolls_only_for_what_it_holds(
    qtbot, context: UiContext, services: AppServices, clerk: Actor
) -> None:
    """The cause boxes wrap into as many rows as the width needs, and the tab is as tall as
    those rows: at the dialog's usual width nothing to scroll (it showed a scroll bar over
    empty space, the boxes' height counted one box to a row), narrower the rows grow and the
    tab holds them all, the next field below the last row. Each row starts at the left."""
    case_id = services.intake.register(clerk, person_form()).case_id
    dialog = open_dialog(qtbot, context, case_id)
    qtbot.waitUntil(lambda: dialog.cause_boxes.loaded)
    dialog.tabs.setCurrentIndex(1)
    scroll = dialog.tabs.currentWidget()
    assert isinstance(scroll, QScrollArea)
    page = scroll.widget()
    boxes = list(dialog.cause_boxes.values())

    dialog.resize(980, 700)
    qtbot.waitUntil(lambda: dialog.cause_boxes.width() > 800)
    assert scroll.verticalScrollBar().maximum() == 0
    # The tab asks no more height than its fields take (a shorter screen scrolls sooner).
    assert page.minimumSizeHint().height() <= _bottom_in(dialog.screen_out_button, page) + 12
    rows = {_top_in(box, page) for box in boxes}
    assert 1 < len(rows) <= 3
    assert _bottom_in(boxes[-1], page) <= _top_in(dialog.triage_area, page)
    lefts = sorted({box.mapTo(page, QPoint(0, 0)).x() for box in boxes})
    assert boxes[-1].mapTo(page, QPoint(0, 0)).x() < dialog.cause_boxes.width() // 2 + lefts[0]

    dialog.resize(600, 450)
    qtbot.waitUntil(lambda: dialog.cause_boxes.width() < 600)
    assert len({_top_in(box, page) for box in boxes}) > len(rows)
    assert max(_bottom_in(box, page) for box in boxes) <= _top_in(dialog.triage_area, page)
    assert _bottom_in(dialog.triage_button, page) <= page.height()  # scrolled to, not cut
    qtbot.waitUntil(lambda: not dialog.assignments._loading)


def test_the_ledger_shows_the_corrected_name_after_saving(
    qtbot, context: UiContext, services: AppServices, clerk: Actor
) -> None:
    from desktop_app.services.ledger import SortKey
    from desktop_app.ui.case_table import COLUMNS
    from desktop_app.ui.main_window import MainWindow

    case_id = services.intake.register(clerk, person_form(name="张三")).case_id
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    ledger = window.ledger
    window.go_to("事项台账")
    qtbot.waitUntil(lambda: not ledger.is_loading and ledger.model.rowCount() == 1)
    name_column = [key for key, _ in COLUMNS].index(SortKey.COMPLAINANT)
    assert ledger.model.data(ledger.model.index(0, name_column)) == "张三"

    dialog = window.open_case(case_id)
    assert dialog is not None
    qtbot.waitUntil(lambda: not dialog.is_loading)
    correction = open_correction(qtbot, dialog)
    replace_text(qtbot, correction.name, "张珊")
    replace_text(qtbot, correction.reason, "登记时录错")
    qtbot.keyClick(correction.reason, Qt.Key.Key_Return)  # Enter saves, as in the intake form

    qtbot.waitUntil(
        lambda: (
            ledger.model.data(ledger.model.index(0, name_column)) == "张珊"
            and not ledger.is_loading
        )
    )
    assert dialog.detail.complainant_name == "张珊"
    qtbot.waitUntil(lambda: not dialog.assignments._loading)
    dialog.close()


def test_correcting_is_offered_only_where_the_case_may_be_changed(
    qtbot, tmp_path, clock, services: AppServices, clerk: Actor, auditor: Actor
) -> None:
    from tests.helpers.exchange import ADMIN, CITY, QIXIAN, open_site, trust_each_other

    case_id = services.intake.register(clerk, person_form()).case_id
    as_auditor = UiContext(services, auditor, ChangeHub(), TaskRunner())
    dialog = open_dialog(qtbot, as_auditor, case_id)
    assert not dialog.correct_button.isEnabled()  # an auditor reads
    qtbot.waitUntil(lambda: not dialog.assignments._loading)

    with (
        open_site(tmp_path, CITY, clock) as city,
        open_site(tmp_path, QIXIAN, clock) as qixian,
    ):
        trust_each_other(qixian, city, tmp_path / "ids")
        usb = tmp_path / "U盘"
        usb.mkdir()
        county_clerk = Actor(None, "clerk1", "张敏", Role.CLERK)
        drafted = qixian.services.intake.register(ADMIN, person_form()).case_id
        qixian.services.cases.triage(
            county_clerk, drafted, Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
        )
        department = qixian.services.site.departments()[0].id
        qixian.services.assignments.create(
            county_clerk, drafted, department_id=department, assisting_ids=[], requirements="办理"
        )
        city.sync.import_file(ADMIN, qixian.sync.export(ADMIN, usb).path)
        at_city = UiContext(city.services, ADMIN, ChangeHub(), TaskRunner())
        county_case = city.services.ledger.ids(CaseFilter(site_code=QIXIAN[0]))[0]
        dialog = open_dialog(qtbot, at_city, county_case)
        assert dialog.read_only_banner.isVisibleTo(dialog)
        assert not dialog.correct_button.isEnabled()  # only the county corrects its case
        # Nor proposes a referral on it (the form opened, and refused only at 确定).
        assert not dialog.propose_referral_button.isEnabled()
        assert "只能查看" in dialog.propose_referral_button.toolTip()
        # Its draft waits for the county's leader, not for a roster the city cannot keep.
        qtbot.waitUntil(lambda: dialog.assignments.table.model().rowCount() == 1)
        dialog.assignments.table.selectRow(0)
        assert dialog.assignments.signer_label.text() == "此草稿由登记本事项的窗口签发"
        qtbot.waitUntil(lambda: not dialog.assignments._loading)
        dialog.close()
        at_city.runner.wait()


def test_a_long_title_is_cut_in_the_header_and_whole_on_the_first_tab(
    qtbot, context: UiContext, services: AppServices, clerk: Actor
) -> None:
    """A title of 120 characters (of the 200 allowed) wrapped to five lines over every tab."""
    long_title = "医保异地就医备案后仍不能直接结算" * 7 + "需要回原籍报销"
    case_id = services.intake.register(clerk, person_form(title=long_title[:120])).case_id
    dialog = open_dialog(qtbot, context, case_id)
    header = dialog.title_label.text()
    assert header.endswith("…") and len(header) < 60
    assert dialog.title_label.toolTip() == long_title[:120]
    assert dialog.info_values["反映事项"].text() == long_title[:120]
    dialog.close()

    short = services.intake.register(clerk, person_form(title="医保结算查不到参保信息")).case_id
    dialog = open_dialog(qtbot, context, short)
    assert dialog.title_label.text().endswith("医保结算查不到参保信息")
    assert "反映事项" not in dialog.info_values


def test_a_concluded_case_shows_what_its_conclusion_recorded(
    qtbot, context: UiContext, services: AppServices, clerk: Actor
) -> None:
    """办理结果 showed 办成 above empty 办理情况 and 答复内容 boxes once the dialog was opened
    again."""
    case_id = concluded_case(services, clerk, reply_text="已电话告知")
    dialog = open_dialog(qtbot, context, case_id)
    dialog.tabs.setCurrentIndex(3)
    assert dialog.outcome.currentText() == "办成"
    assert dialog.what_done.toPlainText() == "当场补录参保信息"
    assert dialog.reply_text.text() == "已电话告知"
    assert dialog.reply_method.currentText() == "电话答复"


def test_the_conclusion_keeps_the_way_the_complainant_was_answered(
    qtbot, context: UiContext, services: AppServices, clerk: Actor, leader: Actor
) -> None:
    """Answered by phone, then concluded with 答复方式 untouched: 当面答复 was preset and saved."""
    case_id = services.intake.register(clerk, person_form()).case_id
    services.cases.triage(
        clerk, case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
    )
    lead = services.site.departments()[0].id
    ids, _ = services.assignments.create(
        clerk, case_id, department_id=lead, assisting_ids=[], requirements="请依法办理并反馈。"
    )
    services.assignments.issue(leader, ids[0])
    services.cases.record_reply(clerk, case_id, method=ReplyMethod.PHONE, text="已电话告知进展")
    dialog = open_dialog(qtbot, context, case_id)
    dialog.tabs.setCurrentIndex(3)
    assert dialog.reply_method.currentText() == "电话答复"
    # A choice the clerk makes stays through a reload (a step elsewhere, another seat's change).
    choose(qtbot, dialog.reply_method, "书面答复")
    dialog.reload()
    qtbot.waitUntil(lambda: not dialog.is_loading)
    assert dialog.reply_method.currentText() == "书面答复"
    dialog.reply_method.setFocus()
    qtbot.keyClick(dialog.reply_method, Qt.Key.Key_Up)  # back to 电话答复
    assert dialog.reply_method.currentText() == "电话答复"
    choose(qtbot, dialog.outcome, "办成")
    replace_text(qtbot, dialog.what_done, "医保局已办结")
    replace_text(qtbot, dialog.reply_text, "已电话告知办理结果")
    replace_text(qtbot, dialog.close_reason, "部门已电话反馈办结，书面反馈随后补交")
    click(qtbot, dialog.conclude_button)
    qtbot.waitUntil(lambda: dialog.detail.status is CaseStatus.CONCLUDED)
    assert services.cases.detail(case_id).reply_method is ReplyMethod.PHONE


def test_after_a_reopening_visit_the_next_conclusion_and_visit_start_unchosen(
    qtbot, context: UiContext, services: AppServices, clerk: Actor
) -> None:
    case_id = services.intake.register(clerk, person_form()).case_id
    dialog = open_dialog(qtbot, context, case_id)
    dialog.tabs.setCurrentIndex(3)
    assert dialog.outcome.currentIndex() == -1  # 办理结果 is chosen, not defaulted
    assert dialog.reply_method.currentIndex() == -1  # so is the way of replying
    replace_text(qtbot, dialog.what_done, "当场补录参保信息")
    click(qtbot, dialog.conclude_button)
    # Everything missing in one round: both choices and the empty reply (the service says so).
    outcome_error = dialog._field_errors["outcome"][0]
    qtbot.waitUntil(lambda: outcome_error.text() != "")
    assert outcome_error.text() == "请选择办理结果"
    assert dialog._field_errors["reply_method"][0].text() == "请选择答复方式"
    assert dialog._field_errors["reply_text"][0].text() == "请填写答复当事人的内容"
    assert not dialog._field_errors["what_was_done"][0].text()
    assert services.cases.detail(case_id).status is CaseStatus.REGISTERED
    choose(qtbot, dialog.outcome, "办成")
    assert not outcome_error.isVisibleTo(dialog)
    choose(qtbot, dialog.reply_method, "电话答复")
    replace_text(qtbot, dialog.reply_text, "已电话告知")
    click(qtbot, dialog.conclude_button)
    qtbot.waitUntil(lambda: dialog.detail.status is CaseStatus.CONCLUDED)

    choose(qtbot, dialog.grade, "不满意")
    replace_text(qtbot, dialog.visit_note, "医院仍说查不到")
    click(qtbot, dialog.visit_button)
    qtbot.waitUntil(lambda: dialog.detail.status is CaseStatus.IN_PROGRESS)  # 重办
    assert dialog.grade.currentIndex() == -1 and dialog.visit_note.text() == ""
    assert dialog.outcome.currentIndex() == -1 and dialog.reply_method.currentIndex() == -1
    # The new round's boxes are empty too, as a freshly opened dialog shows them.
    assert dialog.what_done.toPlainText() == "" and dialog.reply_text.text() == ""

    choose(qtbot, dialog.outcome, "办成")
    replace_text(qtbot, dialog.what_done, "医保局重新推送参保信息，医院已能结算")
    choose(qtbot, dialog.reply_method, "电话答复")
    replace_text(qtbot, dialog.reply_text, "已电话告知可以结算")
    click(qtbot, dialog.conclude_button)
    qtbot.waitUntil(lambda: dialog.detail.status is CaseStatus.CONCLUDED)
    assert dialog.grade.currentIndex() == -1  # not the last visit's 不满意
    click(qtbot, dialog.visit_button)
    assert dialog._field_errors["grade"][0].text() == "请选择回访评价"
    assert services.cases.detail(case_id).status is CaseStatus.CONCLUDED

    choose(qtbot, dialog.grade, "满意")
    click(qtbot, dialog.visit_button)
    qtbot.waitUntil(lambda: dialog.detail.status is CaseStatus.VISITED)
    assert dialog.grade.currentText() == "满意"  # a visited case shows its grade
    qtbot.waitUntil(lambda: not dialog.assignments._loading)


def test_the_correction_and_the_printed_differences_are_read_on_the_worker(
    qtbot, context: UiContext, services: AppServices, clerk: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reads that may be slow (every slip's JSON, the complainant's other cases) stay off the
    UI thread."""
    ui_thread = threading.get_ident()
    threads: dict[str, list[int]] = {}

    def watched(name: str, read: Callable[..., object]) -> Callable[..., object]:
        def call(*args: object, **kwargs: object) -> object:
            threads.setdefault(name, []).append(threading.get_ident())
            return read(*args, **kwargs)

        return call

    corrections = services.corrections
    for name in ("printed_differences", "current", "shared_cases"):
        monkeypatch.setattr(corrections, name, watched(name, getattr(corrections, name)))
    case_id = services.intake.register(clerk, person_form(name="张三")).case_id

    dialog = open_dialog(qtbot, context, case_id)
    correction = open_correction(qtbot, dialog)
    assert correction.name.text() == "张三"
    click(qtbot, correction.cancel_button)
    qtbot.waitUntil(lambda: not dialog.assignments._loading)

    assert set(threads) == {"printed_differences", "current", "shared_cases"}
    assert all(t != ui_thread for seen in threads.values() for t in seen), threads


def test_opening_and_reloading_the_case_reads_on_the_worker(
    qtbot, context: UiContext, services: AppServices, clerk: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The case, its deadline proof and the 领域 choices are read off the UI thread, when the
    dialog opens and when it reloads after a step."""
    ui_thread = threading.get_ident()
    threads: dict[str, list[int]] = {}

    def watch(owner: object, name: str) -> None:
        read = getattr(owner, name)

        def call(*args: object, **kwargs: object) -> object:
            threads.setdefault(name, []).append(threading.get_ident())
            return read(*args, **kwargs)

        monkeypatch.setattr(owner, name, call)

    case_id = services.intake.register(clerk, person_form()).case_id
    watch(services.cases, "detail")
    watch(services.cases, "deadline_proof")
    watch(services.site, "areas")

    dialog = open_dialog(qtbot, context, case_id)
    dialog.tabs.setCurrentIndex(1)
    choose(qtbot, dialog.nature, "很难办")
    choose(qtbot, dialog.approach, "推动办")
    click(qtbot, dialog.cause_boxes[Cause.PROCESS])
    choose(qtbot, dialog.triage_area, "医保社保")
    click(qtbot, dialog.triage_button)
    qtbot.waitUntil(lambda: dialog.triage_saved.text() != "")
    qtbot.waitUntil(lambda: not dialog.is_loading)

    assert len(threads["deadline_proof"]) == 2  # opened, then reloaded after the triage
    assert set(threads) == {"detail", "deadline_proof", "areas"}
    assert all(t != ui_thread for seen in threads.values() for t in seen), threads


def test_a_material_no_program_opens_is_said_with_where_its_copy_is(
    qtbot,
    context: UiContext,
    services: AppServices,
    clerk: Actor,
    message_boxes: MessageBoxes,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path,
) -> None:
    """打开 on a material this PC has no program for: the system says no (nothing happened,
    not a word, on a seat without a viewer); the clerk is told, with the copy's place."""
    from desktop_app.ui import case_detail

    message_boxes.allow("warning", "critical", "information")
    material = tmp_path / "现场照片.heic"
    material.write_bytes(b"\x00heic" * 100)
    case_id = services.intake.register(clerk, person_form()).case_id
    services.cases.add_attachments(clerk, case_id, [material])
    asked: list[str] = []

    def no_program(url) -> bool:  # the OS: nothing registered for the file's kind
        asked.append(url.toLocalFile())
        return False

    monkeypatch.setattr(case_detail.QDesktopServices, "openUrl", no_program)
    dialog = open_dialog(qtbot, context, case_id)
    dialog.tabs.setCurrentIndex(4)
    qtbot.waitUntil(lambda: dialog.materials.count() == 1)
    dialog.materials.setCurrentRow(0)
    click(qtbot, dialog.open_material_button)
    qtbot.waitUntil(lambda: any("没有能打开" in text for text in message_boxes.texts()))
    assert asked and asked[0].endswith("现场照片.heic")
    assert asked[0] in message_boxes.texts()[-1]
    qtbot.waitUntil(lambda: not dialog.assignments._loading)
