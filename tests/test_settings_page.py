"""系统设置 page: what an administrator (and a clerk) sees and can do on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QSpinBox,
    QTableWidget,
)
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from desktop_app.domain.settings import IDLE_LOCK_MINUTES, LOGIN_MAX_FAILURES
from desktop_app.domain.vocabulary import Role
from desktop_app.errors import UserError
from desktop_app.services.app import AppServices
from desktop_app.services.auth import LoginRules
from desktop_app.services.context import Actor
from desktop_app.storage.models import AuditEntry
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.settings_page import SettingsPage
from desktop_app.ui.theme import apply_style, install_fonts
from tests.helpers.factories import USER_PASSWORD
from tests.helpers.message_boxes import MessageBoxes

PageMaker = Callable[[Actor], SettingsPage]

NEW_PASSWORD = "Welcome2026"


@pytest.fixture
def message_boxes(message_boxes: MessageBoxes) -> MessageBoxes:
    """Here every message box is recorded (answered OK) for the test to check what it said."""
    message_boxes.allow("information", "warning", "critical")
    message_boxes.answer_every(QMessageBox.StandardButton.Ok)
    return message_boxes


@pytest.fixture
def make_page(
    qtbot: QtBot, services: AppServices, message_boxes: MessageBoxes
) -> Iterator[PageMaker]:
    runners: list[TaskRunner] = []

    def make(actor: Actor) -> SettingsPage:
        runner = TaskRunner()
        runners.append(runner)
        page = SettingsPage(UiContext(services, actor, ChangeHub(), runner))
        qtbot.addWidget(page)
        page.resize(1100, 700)
        page.show()
        settle(qtbot, page)  # the tables load on the worker
        return page

    yield make
    for runner in runners:  # no worker may touch the database after the fixture closes it
        runner.wait()


def settle(qtbot: QtBot, page: SettingsPage) -> None:
    """Wait for the page's work on the worker and the reloads it caused."""
    qtbot.waitUntil(page._context.runner.idle, timeout=10_000)


def type_text(qtbot: QtBot, field: QLineEdit, text: str) -> None:
    """Key presses for ASCII; Chinese arrives as an input method would commit it (QTest can only
    synthesise ASCII keys)."""
    if text.isascii():
        qtbot.keyClicks(field, text)
    else:
        field.insert(text)


def column_texts(table: QTableWidget, column: int) -> list[str]:
    return [table.item(row, column).text() for row in range(table.rowCount())]


def row_of(table: QTableWidget, first_cell: str) -> int:
    return column_texts(table, 0).index(first_cell)


def fill_user_form(
    qtbot: QtBot, page: SettingsPage, username: str, name: str, role: Role, password: str
) -> None:
    type_text(qtbot, page.user_username, username)
    type_text(qtbot, page.user_display_name, name)
    page.user_role.setCurrentIndex(page.user_role.findText(role.label))
    type_text(qtbot, page.user_phone, "13800001111")
    type_text(qtbot, page.user_password, password)


# 人员 ----------------------------------------------------------------------------------------


def test_admin_adds_a_clerk_who_can_then_log_in(
    qtbot: QtBot, make_page: PageMaker, admin: Actor, services: AppServices
) -> None:
    page = make_page(admin)
    fill_user_form(qtbot, page, "clerk2", "李娜", Role.CLERK, NEW_PASSWORD)

    qtbot.keyClick(page.user_password, Qt.Key.Key_Return)  # Enter in the form saves
    settle(qtbot, page)

    row = row_of(page.users_table, "clerk2")
    cells = [page.users_table.item(row, c).text() for c in range(5)]
    assert cells == ["clerk2", "李娜", "受理员", "13800001111", "在用"]
    assert page.user_username.text() == "" and page.user_password.text() == ""
    assert "李娜" in page.users_status.text()
    actor = services.auth.login("clerk2", NEW_PASSWORD)
    assert actor.role is Role.CLERK


def test_tab_walks_the_user_form_in_reading_order(
    qtbot: QtBot, make_page: PageMaker, admin: Actor
) -> None:
    page = make_page(admin)
    page.activateWindow()
    page.user_username.setFocus()
    qtbot.waitUntil(page.user_username.hasFocus)

    visited = []
    for _ in range(5):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        visited.append(QApplication.focusWidget())

    assert visited == [
        page.user_display_name,
        page.user_role,
        page.user_phone,
        page.user_password,
        page.add_user_button,
    ]


def test_weak_password_is_shown_beside_the_field_and_nothing_is_created(
    qtbot: QtBot, make_page: PageMaker, admin: Actor, services: AppServices
) -> None:
    page = make_page(admin)
    before = len(services.auth.users())
    fill_user_form(qtbot, page, "clerk3", "王五", Role.CLERK, "short1")

    qtbot.mouseClick(page.add_user_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page)

    error = page.user_errors["password"]
    assert error.isVisible()
    assert error.text() == "密码至少需要 8 位"
    assert not page.user_errors["username"].isVisible()
    assert len(services.auth.users()) == before
    assert "clerk3" not in column_texts(page.users_table, 0)
    assert page.user_username.text() == "clerk3"  # what was typed stays to be corrected


def test_missing_name_and_bad_username_show_beside_their_fields(
    qtbot: QtBot, make_page: PageMaker, admin: Actor
) -> None:
    page = make_page(admin)
    type_text(qtbot, page.user_username, "张三")
    type_text(qtbot, page.user_password, NEW_PASSWORD)

    qtbot.mouseClick(page.add_user_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page)

    assert page.user_errors["username"].text() == "用户名只能由字母、数字和下划线组成"
    assert page.user_errors["display_name"].text() == "请填写姓名"
    assert not page.user_errors["password"].isVisible()


def test_duplicate_username_is_refused_beside_the_username(
    qtbot: QtBot, make_page: PageMaker, admin: Actor, services: AppServices
) -> None:
    page = make_page(admin)
    before = services.auth.users()
    fill_user_form(qtbot, page, "clerk1", "另一个张敏", Role.CLERK, NEW_PASSWORD)

    qtbot.mouseClick(page.add_user_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page)

    assert page.user_errors["username"].text() == "用户名“clerk1”已被使用"
    assert services.auth.users() == before


def test_deactivate_and_reactivate_a_user(
    qtbot: QtBot, make_page: PageMaker, admin: Actor, services: AppServices
) -> None:
    page = make_page(admin)
    page.users_table.selectRow(row_of(page.users_table, "clerk1"))
    assert page.toggle_user_button.text() == "停用"

    qtbot.mouseClick(page.toggle_user_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page)

    row = row_of(page.users_table, "clerk1")
    assert page.users_table.item(row, 4).text() == "停用"
    assert page.toggle_user_button.text() == "启用"  # the selection survives the refresh
    with pytest.raises(UserError):
        services.auth.login("clerk1", USER_PASSWORD)

    qtbot.mouseClick(page.toggle_user_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page)
    assert page.users_table.item(row, 4).text() == "在用"
    services.auth.login("clerk1", USER_PASSWORD)


def test_admin_cannot_deactivate_own_account(make_page: PageMaker, admin: Actor) -> None:
    page = make_page(admin)
    page.users_table.selectRow(row_of(page.users_table, "admin"))
    assert not page.toggle_user_button.isEnabled()


def test_reset_password(
    qtbot: QtBot,
    make_page: PageMaker,
    admin: Actor,
    services: AppServices,
    monkeypatch: pytest.MonkeyPatch,
    message_boxes: MessageBoxes,
) -> None:
    page = make_page(admin)
    asked: list[QLineEdit.EchoMode] = []

    def answer(*args: object) -> tuple[str, bool]:
        asked.append(args[3])  # type: ignore[arg-type]
        return NEW_PASSWORD, True

    monkeypatch.setattr(QInputDialog, "getText", staticmethod(answer))
    page.users_table.selectRow(row_of(page.users_table, "clerk1"))

    page.reset_password_button.click()
    settle(qtbot, page)

    assert asked == [QLineEdit.EchoMode.Password] * 2  # typed twice, never shown
    assert message_boxes.shown == []
    assert services.auth.login("clerk1", NEW_PASSWORD).username == "clerk1"


def test_reset_password_with_a_weak_password_says_why(
    qtbot: QtBot,
    make_page: PageMaker,
    admin: Actor,
    services: AppServices,
    monkeypatch: pytest.MonkeyPatch,
    message_boxes: MessageBoxes,
) -> None:
    page = make_page(admin)
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *_: ("12345678", True)))
    page.users_table.selectRow(row_of(page.users_table, "clerk1"))

    page.reset_password_button.click()
    settle(qtbot, page)

    assert message_boxes.titles_and_texts() == [
        ("无法完成", "密码需包含大写字母、小写字母、数字、符号中的至少3种")
    ]
    services.auth.login("clerk1", USER_PASSWORD)  # unchanged


def test_clerk_sees_people_but_cannot_change_anything(make_page: PageMaker, clerk: Actor) -> None:
    page = make_page(clerk)

    assert "admin" in column_texts(page.users_table, 0)
    assert page.users_permission_hint.isVisible()
    assert "只有管理员可以管理人员" in page.users_permission_hint.text()
    assert not page.add_user_button.isEnabled()
    assert not page.user_username.isEnabled()
    page.users_table.selectRow(0)
    assert not page.toggle_user_button.isEnabled()
    assert not page.reset_password_button.isEnabled()

    page.tabs.setCurrentIndex(1)
    assert page.departments_permission_hint.isVisible()
    assert not page.save_department_button.isEnabled()
    assert not page.department_name.isEnabled()
    page.tabs.setCurrentIndex(2)
    assert page.areas_permission_hint.isVisible()
    assert not page.add_area_button.isEnabled()


def test_admin_sees_no_permission_hints(make_page: PageMaker, admin: Actor) -> None:
    page = make_page(admin)
    assert not page.users_permission_hint.isVisible()
    assert page.add_user_button.isEnabled()


def test_service_refusal_is_shown(
    qtbot: QtBot,
    make_page: PageMaker,
    auditor: Actor,
    services: AppServices,
    message_boxes: MessageBoxes,
) -> None:
    """Even if a control were reachable, the service's PermissionDenied reaches the user."""
    page = make_page(auditor)
    page.users_table.selectRow(row_of(page.users_table, "clerk1"))

    page.toggle_user_active()
    settle(qtbot, page)

    assert len(message_boxes.shown) == 1
    assert "无权管理用户" in message_boxes.shown[0].text
    assert all(u.active for u in services.auth.users())


# 部门 ----------------------------------------------------------------------------------------


def test_add_then_edit_a_department(
    qtbot: QtBot, make_page: PageMaker, admin: Actor, services: AppServices
) -> None:
    page = make_page(admin)
    page.tabs.setCurrentIndex(1)
    assert page.department_box.title() == "新建部门"
    type_text(qtbot, page.department_name, "杞县人力资源和社会保障局")
    type_text(qtbot, page.department_leader, "赵局长")
    type_text(qtbot, page.department_contact, "钱科长")
    type_text(qtbot, page.department_phone, "0378-2211333")
    qtbot.keyClick(page.department_phone, Qt.Key.Key_Return)
    settle(qtbot, page)

    added = next(d for d in services.site.departments() if d.name == "杞县人力资源和社会保障局")
    assert (added.principal_leader, added.contact_person, added.contact_phone) == (
        "赵局长",
        "钱科长",
        "0378-2211333",
    )
    assert "杞县人力资源和社会保障局" in column_texts(page.departments_table, 0)
    assert page.department_name.text() == ""  # ready for the next one

    page.departments_table.selectRow(row_of(page.departments_table, "杞县医疗保障局"))
    assert page.department_name.text() == "杞县医疗保障局"
    assert page.department_leader.text() == "王主任"
    assert page.department_box.title() == "修改部门：杞县医疗保障局"
    page.department_leader.clear()
    type_text(qtbot, page.department_leader, "孙局长")
    qtbot.mouseClick(page.save_department_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page)

    edited = next(d for d in services.site.departments() if d.name == "杞县医疗保障局")
    assert edited.principal_leader == "孙局长"
    assert len(services.site.departments()) == 3
    row = row_of(page.departments_table, "杞县医疗保障局")
    assert page.departments_table.item(row, 1).text() == "孙局长"

    qtbot.mouseClick(page.new_department_button, Qt.MouseButton.LeftButton)
    assert page.department_name.text() == ""
    assert page.department_box.title() == "新建部门"


def test_department_name_clash_and_blank_name_show_beside_the_name(
    qtbot: QtBot, make_page: PageMaker, admin: Actor, services: AppServices
) -> None:
    page = make_page(admin)
    page.save_department()
    settle(qtbot, page)
    assert page.department_errors["name"].text() == "请填写部门名称"

    type_text(qtbot, page.department_name, "杞县不动产登记中心")
    page.save_department()
    settle(qtbot, page)
    assert page.department_errors["name"].text() == "部门“杞县不动产登记中心”已存在"
    assert len(services.site.departments()) == 2


def test_deactivated_department_stays_listed_as_停用(
    qtbot: QtBot, make_page: PageMaker, admin: Actor, services: AppServices
) -> None:
    page = make_page(admin)
    page.departments_table.selectRow(row_of(page.departments_table, "杞县医疗保障局"))

    qtbot.mouseClick(page.toggle_department_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page)

    assert [d.name for d in services.site.departments()] == ["杞县不动产登记中心"]
    inactive = services.site.departments(include_inactive=True)[0]
    assert (inactive.name, inactive.active, inactive.principal_leader) == (
        "杞县医疗保障局",
        False,
        "王主任",
    )
    row = row_of(page.departments_table, "杞县医疗保障局")
    assert page.departments_table.item(row, 4).text() == "停用"
    assert page.toggle_department_button.text() == "启用"

    # Editing an inactive department keeps it inactive.
    page.department_contact.setText("周干事")
    page.save_department()
    settle(qtbot, page)
    assert not services.site.departments(include_inactive=True)[0].active


# 领域 ----------------------------------------------------------------------------------------


def test_add_an_area(
    qtbot: QtBot, make_page: PageMaker, admin: Actor, services: AppServices
) -> None:
    page = make_page(admin)
    page.tabs.setCurrentIndex(2)
    count = page.areas_list.count()
    type_text(qtbot, page.new_area, "交通运输")

    qtbot.mouseClick(page.add_area_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page)

    assert services.site.areas()[-1] == "交通运输"
    assert page.areas_list.count() == count + 1
    assert page.areas_list.currentItem().text() == "交通运输"
    assert page.new_area.text() == ""

    type_text(qtbot, page.new_area, "交通运输")
    qtbot.keyClick(page.new_area, Qt.Key.Key_Return)
    settle(qtbot, page)
    assert page.area_errors["name"].text() == "领域“交通运输”已存在"
    assert page.areas_list.count() == count + 1


# Refresh and 关于本机 -----------------------------------------------------------------------


def test_changes_published_elsewhere_refresh_the_tables(
    qtbot: QtBot, make_page: PageMaker, admin: Actor, services: AppServices
) -> None:
    page = make_page(admin)
    _, user_changes = services.auth.create_user(
        admin, username="leader2", display_name="周领导", role=Role.DUTY_LEADER, password="Abc12345"
    )
    _, department_changes = services.site.save_department(admin, name="杞县税务局")
    area_changes = services.site.add_area(admin, "税务")
    assert "leader2" not in column_texts(page.users_table, 0)

    for changes in (user_changes, department_changes, area_changes):
        page._context.hub.publish(changes)
    settle(qtbot, page)

    assert "leader2" in column_texts(page.users_table, 0)
    assert "杞县税务局" in column_texts(page.departments_table, 0)
    assert page.areas_list.item(page.areas_list.count() - 1).text() == "税务"


def test_about_shows_site_and_paths(
    make_page: PageMaker, admin: Actor, services: AppServices
) -> None:
    page = make_page(admin)
    assert page.site_code.text() == "410221"
    assert page.site_name.text() == "杞县办不成事监督窗口"
    assert page.site_level.text() == "县区窗口"
    assert page.data_dir.text() == str(services.layout.root)
    assert page.database_file.text() == str(services.layout.database)
    assert page.backups_dir.text() == str(services.layout.backups)


def test_integrity_check_runs_on_the_worker_and_passes(
    qtbot: QtBot, make_page: PageMaker, admin: Actor
) -> None:
    page = make_page(admin)
    page.tabs.setCurrentIndex(3)

    qtbot.mouseClick(page.check_button, Qt.MouseButton.LeftButton)

    assert not page.check_button.isEnabled()
    qtbot.waitUntil(lambda: "检查通过" in page.check_result.text(), timeout=10_000)
    assert page.check_button.isEnabled()


def test_integrity_check_that_cannot_finish_says_so(
    qtbot: QtBot,
    make_page: PageMaker,
    admin: Actor,
    services: AppServices,
    monkeypatch: pytest.MonkeyPatch,
    message_boxes: MessageBoxes,
) -> None:
    def locked() -> None:
        raise UserError("数据库正被另一个程序使用，请稍后再试。")

    monkeypatch.setattr(services.maintenance, "check", locked)
    page = make_page(admin)

    page.check_button.click()

    qtbot.waitUntil(lambda: "检查没有完成" in page.check_result.text(), timeout=10_000)
    assert "另一个程序" in page.check_result.text()
    assert page.check_button.isEnabled()
    assert message_boxes.shown == []


# What a person sees ---------------------------------------------------------------------------


@pytest.fixture
def themed_app(qapp: QApplication) -> Iterator[QApplication]:
    """The real fonts and style sheet for the screenshots, put back afterwards."""
    font, sheet, style = qapp.font(), qapp.styleSheet(), qapp.style().name()
    install_fonts(qapp)
    apply_style(qapp)
    yield qapp
    qapp.setStyleSheet(sheet)
    qapp.setStyle(style)
    qapp.setFont(font)


@pytest.mark.parametrize(
    ("index", "name"),
    [
        (0, "people"),
        (1, "departments"),
        (2, "areas"),
        (3, "about"),
        (4, "paper"),
        (1, "departments_clerk"),
    ],
)
def test_render_each_tab(
    qtbot: QtBot,
    themed_app: QApplication,
    make_page: PageMaker,
    admin: Actor,
    clerk: Actor,
    index: int,
    name: str,
) -> None:
    page = make_page(clerk if name.endswith("_clerk") else admin)
    page.tabs.setCurrentIndex(index)
    if name == "people":
        page.users_table.selectRow(row_of(page.users_table, "clerk1"))
        page.add_user()  # an empty form: shows the messages beside the fields
        settle(qtbot, page)
    if name == "departments":
        page.departments_table.selectRow(0)
    if name == "paper":
        qtbot.waitUntil(lambda: page.paper_tab.previews_shown >= 1, timeout=10_000)
    if name == "about":
        page.check_button.click()
        qtbot.waitUntil(lambda: "检查通过" in page.check_result.text(), timeout=10_000)
    qtbot.wait(50)

    image = page.grab()
    path = Path(f"/tmp/settings_{name}.png")
    assert image.save(str(path))
    assert (image.width(), image.height()) == (1100, 700)


def test_about_names_the_paper_fonts_and_what_stands_in(
    qtbot: QtBot, make_page: PageMaker, admin: Actor
) -> None:
    """GB/T 9704 fonts (issue 14 item 8): a missing one is never replaced silently."""
    from desktop_app.documents.fonts import register_fonts

    page = make_page(admin)
    qtbot.waitUntil(lambda: page.paper_fonts.text() != "", timeout=10_000)
    text = page.paper_fonts.text()
    assert "标题：" in text and "正文和发文字号：" in text
    for choice in register_fonts().choices:
        assert choice.describe() in text
        if choice.stand_in:
            assert f"本机未安装{choice.wanted}，以{choice.used}代替" in text


# 公文设置 ------------------------------------------------------------------------------------


def _issue_a_slip(services: AppServices, clerk: Actor, leader: Actor) -> str:
    from desktop_app.domain.vocabulary import Approach, Cause, Nature
    from desktop_app.services.cases import Triage
    from tests.helpers.factories import person_form

    case_id = services.intake.register(clerk, person_form()).case_id
    services.cases.triage(
        clerk, case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.POLICY,), "医保社保")
    )
    ids, _ = services.assignments.create(
        clerk,
        case_id,
        department_id=services.site.departments()[0].id,
        requirements="请于规定时限内办理并反馈。",
    )
    return services.assignments.issue(leader, ids[0])[0]


def _pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_paper_settings_are_typed_previewed_and_saved_for_later_slips_only(
    qtbot: QtBot,
    make_page: PageMaker,
    services: AppServices,
    admin: Actor,
    clerk: Actor,
    leader: Actor,
) -> None:
    earlier = _issue_a_slip(services, clerk, leader)
    earlier_pdf = services.assignments.slip_pdf(leader, earlier)
    page = make_page(admin)
    tab = page.paper_tab
    page.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.previews_shown >= 1, timeout=10_000)
    assert tab.mask_id["assign"].isChecked() and not tab.mask_phone["assign"].isChecked()
    shown = tab.previews_shown

    type_text(qtbot, tab.issuing_body, "杞县纪委监委")
    type_text(qtbot, tab.masthead, "杞县纪委监委 杞县政务服务中心")
    type_text(qtbot, tab.number_prefix, "杞纪监")
    tab.mask_phone["assign"].setFocus()
    qtbot.keyClick(tab.mask_phone["assign"], Qt.Key.Key_Space)
    assert tab.mask_phone["assign"].isChecked()

    # The preview follows a moment after typing stops, before anything is saved.
    qtbot.waitUntil(
        lambda: (
            tab.previews_shown > shown and "杞县政务服务中心" in _pdf_text(tab.preview_bytes or b"")
        ),
        timeout=10_000,
    )
    preview = _pdf_text(tab.preview_bytes or b"")
    assert "杞纪监交〔2026〕1号" in preview and "138****5678" in preview
    assert tab.document.pageCount() == 1
    assert services.site.paper_settings().masthead == ""  # typed, not saved yet

    qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page)
    assert "已保存" in tab.status.text()

    later = _issue_a_slip(services, clerk, leader)
    assert later.startswith("杞纪监交")
    later_text = _pdf_text(services.assignments.slip_pdf(leader, later))
    assert "杞县纪委监委 杞县政务服务中心" in later_text and "138****5678" in later_text
    assert services.assignments.slip_content(later)[1].issuer == "杞县纪委监委"
    # The slip signed before the change prints as it did.
    assert services.assignments.slip_pdf(leader, earlier) == earlier_pdf
    assert "杞县政务服务中心" not in _pdf_text(earlier_pdf)
    assert "13812345678" in _pdf_text(earlier_pdf)  # the department's copy: the full number


def test_a_bad_prefix_is_shown_beside_its_field_and_a_clerk_cannot_change_anything(
    qtbot: QtBot, make_page: PageMaker, services: AppServices, admin: Actor, clerk: Actor
) -> None:
    page = make_page(admin)
    tab = page.paper_tab
    page.tabs.setCurrentWidget(tab)
    type_text(qtbot, tab.number_prefix, "杞〔纪〕")
    qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page)
    assert "不能含" in tab.errors["paper.number_prefix"].text()
    assert services.site.paper_settings().number_prefix == ""

    clerk_page = make_page(clerk)
    assert not clerk_page.paper_tab.save_button.isEnabled()
    assert not clerk_page.paper_tab.masthead.isEnabled()


def test_the_saved_requirements_wording_starts_each_new_draft(
    qtbot: QtBot, make_page: PageMaker, services: AppServices, admin: Actor, clerk: Actor
) -> None:
    from desktop_app.domain.vocabulary import Approach, Cause, Nature
    from desktop_app.services.cases import Triage
    from desktop_app.ui.assignment_panel import DraftData, DraftDialog
    from tests.helpers.factories import person_form

    page = make_page(admin)
    tab = page.paper_tab
    page.tabs.setCurrentWidget(tab)
    tab.requirements_wording.selectAll()
    tab.requirements_wording.insertPlainText("请在{天数}个工作日内办结“{事项}”，并电话告知反映人。")
    qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page)

    case_id = services.intake.register(clerk, person_form()).case_id
    services.cases.triage(
        clerk, case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.POLICY,), "医保社保")
    )
    dialog = DraftDialog(page._context, case_id, DraftData.load(services, case_id))
    qtbot.addWidget(dialog)
    title = services.cases.detail(case_id).title
    assert dialog.requirements.toPlainText() == (
        f"请在{dialog.days.value()}个工作日内办结“{title}”，并电话告知反映人。"
    )


def test_a_letterhead_no_font_can_print_is_shown_beside_its_field_and_not_saved(
    qtbot: QtBot, make_page: PageMaker, services: AppServices, admin: Actor
) -> None:
    """发文机关 with 𠀀 would make every later 签发 fail: refused at 保存, beside the field."""
    from desktop_app.documents.fonts import missing_glyphs, register_fonts

    fonts = register_fonts()
    if not missing_glyphs("\U00020000", fonts.chain(fonts.body)):
        pytest.skip("this machine has a font with U+20000")
    page = make_page(admin)
    tab = page.paper_tab
    page.tabs.setCurrentWidget(tab)
    type_text(qtbot, tab.issuing_body, "杞县\U00020000纪委")
    qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page)
    error = tab.errors["paper.issuing_body"].text()
    assert "U+20000" in error and "无法打印" in error and "同音字" not in error
    assert services.site.paper_settings().issuing_body == ""


# 人员 → 锁定与登录规则 (issue 15 item 9) --------------------------------------------------------


def _lock_out(services: AppServices, username: str) -> None:
    """Five wrong passwords through the service, as at the log-in window."""
    for _ in range(5):
        with pytest.raises(UserError):
            services.auth.login(username, "Wrong12345")


def _audit_actions(services: AppServices) -> list[tuple[str, str]]:
    with services.db.read() as session:
        rows = session.execute(select(AuditEntry.action, AuditEntry.user_name))
        return [(action, user) for action, user in rows]


def _retype(qtbot: QtBot, spin: QSpinBox, text: str) -> None:
    """Select what the spin box holds and type over it (an empty ``text`` clears it)."""
    spin.setFocus()
    qtbot.keyClick(spin, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(spin, Qt.Key.Key_Backspace)
    if text:
        qtbot.keyClicks(spin, text)


def test_admin_sees_a_locked_account_and_unlocks_it(
    qtbot: QtBot, make_page: PageMaker, admin: Actor, services: AppServices
) -> None:
    _lock_out(services, "clerk1")
    page = make_page(admin)
    row = row_of(page.users_table, "clerk1")
    assert page.users_table.item(row, 4).text() == "已锁定（至 10:00）"
    page.users_table.selectRow(row_of(page.users_table, "leader1"))
    assert not page.unlock_user_button.isEnabled()  # nothing to unlock
    page.users_table.selectRow(row)
    assert page.unlock_user_button.isEnabled()

    qtbot.mouseClick(page.unlock_user_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page)

    assert page.users_table.item(row_of(page.users_table, "clerk1"), 4).text() == "在用"
    assert not page.unlock_user_button.isEnabled()
    assert "已解锁“张敏”" in page.users_status.text()
    assert services.auth.login("clerk1", USER_PASSWORD).username == "clerk1"
    assert ("unlock", "admin") in _audit_actions(services)


def test_admin_changes_the_login_rules_and_they_read_back(
    qtbot: QtBot, make_page: PageMaker, admin: Actor, services: AppServices
) -> None:
    page = make_page(admin)
    box = page.login_rules_box
    assert [s.value() for s in box.spins] == [5, 30, 15]
    assert (box.max_failures.minimum(), box.max_failures.maximum()) == (3, 20)
    assert (box.idle_minutes.minimum(), box.idle_minutes.maximum()) == (1, 120)

    _retype(qtbot, box.max_failures, "3")
    _retype(qtbot, box.lock_minutes, "10")
    _retype(qtbot, box.idle_minutes, "5")
    qtbot.mouseClick(box.save_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page)

    assert services.auth.login_rules() == LoginRules(3, 10, 5)
    assert "已保存" in box.status.text()
    assert ("set_login_rules", "admin") in _audit_actions(services)
    reopened = make_page(admin)  # kept: a page dropped at once may take its boxes with it
    assert [s.value() for s in reopened.login_rules_box.spins] == [3, 10, 5]


def test_a_rule_out_of_range_or_empty_is_refused_beside_its_field(
    qtbot: QtBot, make_page: PageMaker, admin: Actor, services: AppServices
) -> None:
    page = make_page(admin)
    box = page.login_rules_box
    before = _audit_actions(services)

    _retype(qtbot, box.max_failures, "1")  # below the least the declaration allows
    qtbot.mouseClick(box.save_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page)

    error = box.errors[LOGIN_MAX_FAILURES.key]
    assert error.isVisible()
    assert error.text() == "连续输错密码锁定账号的次数应在3到20之间"
    assert services.auth.login_rules() == LoginRules()

    _retype(qtbot, box.idle_minutes, "")
    qtbot.keyClick(box.idle_minutes, Qt.Key.Key_Return)  # Enter in a rule saves too
    settle(qtbot, page)

    error = box.errors[IDLE_LOCK_MINUTES.key]
    assert error.isVisible() and error.text() == "请填写1到120之间的整数"
    assert "没有保存" in box.status.text()
    assert services.auth.login_rules() == LoginRules()
    assert _audit_actions(services) == before


def test_a_clerk_can_neither_unlock_nor_change_the_login_rules(
    qtbot: QtBot, make_page: PageMaker, clerk: Actor, services: AppServices
) -> None:
    _lock_out(services, "leader1")
    page = make_page(clerk)
    page.users_table.selectRow(row_of(page.users_table, "leader1"))

    assert not page.unlock_user_button.isEnabled()
    assert not page.login_rules_box.isEnabled()
    assert not any(spin.isEnabled() for spin in page.login_rules_box.spins)
    assert not page.login_rules_box.save_button.isEnabled()
    qtbot.mouseClick(page.login_rules_box.save_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page)
    assert services.auth.login_rules() == LoginRules()
