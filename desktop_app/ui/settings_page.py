"""系统设置: the people, departments and areas of this window, and facts about this installation.

Everything here calls the services; they check permissions and validate input. The page only
disables what the logged-in role cannot use and shows the services' messages beside the fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from itertools import pairwise

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app import __version__
from desktop_app.domain.permissions import ROLE_PERMISSIONS, Permission
from desktop_app.domain.validation import normalize_text
from desktop_app.domain.vocabulary import Role
from desktop_app.errors import UserError, ValidationFailed
from desktop_app.services.auth import PASSWORD_RULE, UserInfo
from desktop_app.services.context import Changes
from desktop_app.services.maintenance import CheckReport
from desktop_app.services.site import DepartmentInfo, SiteInfo
from desktop_app.ui.backup_page import BackupTab
from desktop_app.ui.common import Card, FieldError, UiContext, heading, show_error
from desktop_app.ui.login_rules import LoginRulesBox
from desktop_app.ui.operations import Action, Query
from desktop_app.ui.paper_settings import PaperSettingsTab
from desktop_app.ui.scrolling import VerticalScrollArea
from desktop_app.ui.theme import GREEN, RED

# (header, width in pixels); None stretches to fill the table.
# 状态 takes what is left: with 姓名 stretched, at 125 % the fixed columns left it one character
# after an unlock, and 电话 and 状态 ran past the table's right edge.
USER_COLUMNS = (("用户名", 90), ("姓名", 80), ("角色", 80), ("电话", 110), ("状态", None))
DEPARTMENT_COLUMNS = (
    ("名称", None),
    ("主要负责人", 120),
    ("联系人", 110),
    ("联系电话", 140),
    ("状态", 70),
)
FORM_WIDTH = 380
MAX_PROBLEMS_SHOWN = 12
_INACTIVE_BRUSH = QBrush(QColor("#7f8c8d"))
_ID_ROLE = Qt.ItemDataRole.UserRole


class SettingsPage(QWidget):
    """The 系统设置 screen: tabs 人员 / 部门 / 领域 / 关于本机 / 公文设置."""

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._context = context
        self._services = context.services
        self._actor = context.actor
        self._can_manage_users = context.actor.can(Permission.MANAGE_USERS)
        self._can_manage_reference = context.actor.can(Permission.MANAGE_REFERENCE)
        self._users: list[UserInfo] = []
        self._departments: list[DepartmentInfo] = []
        self._editing_department_id: int | None = None
        self._reloading_departments = False
        # What to select once the next reload arrives (a row just added or saved).
        self._select_user_id: int | None = None
        self._select_department_id: int | None = None
        self._select_area_name: str | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(heading("系统设置"))
        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_users_tab(), "人员")
        self.tabs.addTab(self._build_departments_tab(), "部门")
        self.tabs.addTab(self._build_areas_tab(), "领域")
        self.tabs.addTab(self._build_about_tab(), "关于本机")
        self.paper_tab = PaperSettingsTab(context)
        self.tabs.addTab(self.paper_tab, "公文设置")
        self.backup_tab = BackupTab(context)
        self.tabs.addTab(self.backup_tab, "备份与恢复")
        # A restored database is read afresh: the program closes (the lock held to the end).
        self.backup_tab.restored.connect(QCoreApplication.quit)
        layout.addWidget(self.tabs, 1)

        context.hub.changed.connect(self._on_changed)
        self.reload_users()
        self.reload_departments()
        self.reload_areas()
        self.reload_about()

    # 人员 ------------------------------------------------------------------------------------

    def _build_users_tab(self) -> QWidget:
        tab = QWidget()
        outer = QVBoxLayout(tab)
        self.users_permission_hint = _permission_hint("只有管理员可以管理人员。")
        self.users_permission_hint.setVisible(not self._can_manage_users)
        outer.addWidget(self.users_permission_hint)
        columns = QHBoxLayout()
        outer.addLayout(columns, 1)

        left = QVBoxLayout()
        self.users_table = _make_table(USER_COLUMNS)
        left.addWidget(self.users_table, 1)
        actions = QHBoxLayout()
        self.toggle_user_button = QPushButton("停用")
        self.reset_password_button = QPushButton("重置密码…")
        self.unlock_user_button = QPushButton("解锁")
        self.unlock_user_button.setToolTip("解除因密码连续输错而锁定的账号")
        self.users_status = _status_label()
        actions.addWidget(self.toggle_user_button)
        actions.addWidget(self.reset_password_button)
        actions.addWidget(self.unlock_user_button)
        actions.addWidget(self.users_status, 1)
        left.addLayout(actions)
        columns.addLayout(left, 1)

        right = _side_column()
        self.add_user_box = QGroupBox("添加人员")
        form = _form_layout(self.add_user_box)
        self.user_username = QLineEdit()
        self.user_username.setPlaceholderText("字母、数字或下划线，如 clerk2")
        self.user_username.setMaxLength(32)
        self.user_display_name = QLineEdit()
        self.user_display_name.setPlaceholderText("如 张敏")
        self.user_role = QComboBox()
        for role in Role:
            self.user_role.addItem(role.label, role.value)
        self.user_role.setCurrentIndex(self.user_role.findData(Role.CLERK.value))
        self.user_phone = QLineEdit()
        self.user_phone.setPlaceholderText("选填")
        self.user_password = QLineEdit()
        self.user_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.user_password.setPlaceholderText(PASSWORD_RULE)
        self.user_errors: dict[str, FieldError] = {
            "username": FieldError(),
            "display_name": FieldError(),
            "password": FieldError(),
        }
        self._user_fields: dict[str, QLineEdit] = {
            "username": self.user_username,
            "display_name": self.user_display_name,
            "password": self.user_password,
        }
        form.addRow("用户名", _with_error(self.user_username, self.user_errors["username"]))
        form.addRow("姓名", _with_error(self.user_display_name, self.user_errors["display_name"]))
        form.addRow("角色", self.user_role)
        form.addRow("电话", self.user_phone)
        form.addRow("初始密码", _with_error(self.user_password, self.user_errors["password"]))
        self.add_user_button = QPushButton("添加人员")
        self.add_user_button.setObjectName("primary")
        form.addRow("", _right_aligned(self.add_user_button))
        self.add_user_box.setEnabled(self._can_manage_users)
        right.addWidget(self.add_user_box)
        self.login_rules_box = LoginRulesBox(self._context, FORM_WIDTH)
        right.addWidget(self.login_rules_box)
        right.addWidget(_note("各角色能做的事", _role_summary()))
        right.addStretch(1)
        columns.addWidget(_scrolled(right))

        QWidget.setTabOrder(self.users_table, self.toggle_user_button)
        _chain_tab_order(
            self.toggle_user_button,
            self.reset_password_button,
            self.unlock_user_button,
            self.user_username,
            self.user_display_name,
            self.user_role,
            self.user_phone,
            self.user_password,
            self.add_user_button,
            *self.login_rules_box.spins,
            self.login_rules_box.save_button,
        )
        for field in (
            self.user_username,
            self.user_display_name,
            self.user_phone,
            self.user_password,
        ):
            field.returnPressed.connect(self.add_user)
        self.add_user_button.clicked.connect(self.add_user)
        self.toggle_user_button.clicked.connect(self.toggle_user_active)
        self.reset_password_button.clicked.connect(self.reset_password)
        self.unlock_user_button.clicked.connect(self.unlock_user)
        self.users_table.itemSelectionChanged.connect(self._update_user_actions)
        return tab

    def reload_users(self) -> None:
        Query(self._context.runner, self, self._services.auth.users, self._show_users).run()

    def _show_users(self, users: list[UserInfo]) -> None:
        selected = self._selected_user()
        self._users = users
        today = self._services.clock.now().date()
        rows = [
            (
                user.id,
                user.active,
                (
                    user.username,
                    user.display_name,
                    user.role.label,
                    user.phone,
                    _user_status_text(user, today),
                ),
            )
            for user in self._users
        ]
        wanted, self._select_user_id = self._select_user_id, None
        _fill_table(self.users_table, rows, wanted or (selected.id if selected else None))
        status_column = len(USER_COLUMNS) - 1
        for row, user in enumerate(self._users):
            item = self.users_table.item(row, status_column)
            if user.locked and item is not None:
                item.setForeground(QBrush(QColor(RED)))
                item.setToolTip("密码连续输错被锁定；到时自动解除，或选中后点“解锁”")
        self._update_user_actions()

    def _selected_user(self) -> UserInfo | None:
        user_id = _selected_id(self.users_table)
        return next((u for u in self._users if u.id == user_id), None)

    def _update_user_actions(self) -> None:
        user = self._selected_user()
        is_self = user is not None and user.id == self._actor.user_id
        self.toggle_user_button.setText("启用" if user is not None and not user.active else "停用")
        self.toggle_user_button.setEnabled(
            self._can_manage_users and user is not None and not is_self
        )
        self.toggle_user_button.setToolTip("不能停用自己的账号" if is_self else "")
        self.reset_password_button.setEnabled(self._can_manage_users and user is not None)
        self.unlock_user_button.setEnabled(
            self._can_manage_users and user is not None and user.locked
        )

    def add_user(self) -> None:
        if not self._can_manage_users:
            return
        _clear_errors(self.user_errors, self._user_fields)
        auth, actor = self._services.auth, self._actor
        username, display_name = self.user_username.text(), self.user_display_name.text()
        role, password = Role(self.user_role.currentData()), self.user_password.text()
        phone = self.user_phone.text().strip()

        def added(result: tuple[UserInfo, Changes]) -> None:
            user = result[0]
            for field in (self.user_username, self.user_display_name, self.user_phone):
                field.clear()
            self.user_password.clear()
            self._select_user_id = user.id
            self.users_status.setText(
                f"已添加{user.role.label}“{user.display_name}”，用户名 {user.username}。"
            )
            self.user_username.setFocus()

        # On the worker: the password is hashed with argon2, which takes a noticeable moment.
        Action(
            self._context,
            self,
            lambda: auth.create_user(
                actor,
                username=username,
                display_name=display_name,
                role=role,
                password=password,
                phone=phone,
            ),
        ).success(added).on_invalid(
            lambda exc: _show_errors(exc, self.user_errors, self._user_fields, fallback="username")
        ).run()

    def toggle_user_active(self) -> None:
        user = self._selected_user()
        if user is None:
            return
        auth, actor = self._services.auth, self._actor
        if user.active:
            done = f"已停用“{user.display_name}”，该账号不能再登录。"
        else:
            done = f"已启用“{user.display_name}”。"
        Action(
            self._context, self, lambda: auth.set_active(actor, user.id, not user.active)
        ).success(lambda _changes: self.users_status.setText(done)).run()

    def reset_password(self) -> None:
        user = self._selected_user()
        if user is None:
            return
        title = "重置密码"
        password, ok = QInputDialog.getText(
            self,
            title,
            f"为“{user.display_name}”（{user.username}）设置新密码：\n{PASSWORD_RULE}",
            QLineEdit.EchoMode.Password,
        )
        if not ok:
            return
        again, ok = QInputDialog.getText(
            self, title, "再输入一次新密码：", QLineEdit.EchoMode.Password
        )
        if not ok:
            return
        if password != again:
            QMessageBox.warning(self, title, "两次输入的密码不一致，密码没有修改。")
            return
        auth, actor = self._services.auth, self._actor
        done = f"已重置“{user.display_name}”的密码，请当面告知本人。"
        Action(self._context, self, lambda: auth.change_password(actor, user.id, password)).success(
            lambda _changes: self.users_status.setText(done)
        ).run()

    def unlock_user(self) -> None:
        user = self._selected_user()
        if user is None or not user.locked:
            return
        auth, actor = self._services.auth, self._actor
        done = f"已解锁“{user.display_name}”，现在可以登录。"
        Action(self._context, self, lambda: auth.unlock(actor, user.id)).success(
            lambda _changes: self.users_status.setText(done)
        ).run()

    # 部门 ------------------------------------------------------------------------------------

    def _build_departments_tab(self) -> QWidget:
        tab = QWidget()
        outer = QVBoxLayout(tab)
        self.departments_permission_hint = _permission_hint("只有管理员可以维护部门。")
        self.departments_permission_hint.setVisible(not self._can_manage_reference)
        outer.addWidget(self.departments_permission_hint)
        columns = QHBoxLayout()
        outer.addLayout(columns, 1)

        left = QVBoxLayout()
        self.departments_table = _make_table(DEPARTMENT_COLUMNS)
        left.addWidget(self.departments_table, 1)
        actions = QHBoxLayout()
        self.toggle_department_button = QPushButton("停用")
        self.departments_status = _status_label()
        actions.addWidget(self.toggle_department_button)
        actions.addWidget(self.departments_status, 1)
        left.addLayout(actions)
        columns.addLayout(left, 1)

        right = _side_column()
        self.department_box = QGroupBox("新建部门")
        form = _form_layout(self.department_box)
        self.department_name = QLineEdit()
        self.department_name.setPlaceholderText("如 杞县医疗保障局")
        self.department_leader = QLineEdit()
        self.department_leader.setPlaceholderText("主要负责人姓名")
        self.department_contact = QLineEdit()
        self.department_contact.setPlaceholderText("日常对接的联系人")
        self.department_phone = QLineEdit()
        self.department_errors: dict[str, FieldError] = {"name": FieldError()}
        self._department_fields: dict[str, QLineEdit] = {"name": self.department_name}
        form.addRow("名称", _with_error(self.department_name, self.department_errors["name"]))
        form.addRow("主要负责人", self.department_leader)
        form.addRow("联系人", self.department_contact)
        form.addRow("联系电话", self.department_phone)
        self.new_department_button = QPushButton("新建")
        self.new_department_button.setToolTip("清空表单，添加一个新部门")
        self.save_department_button = QPushButton("保存")
        self.save_department_button.setObjectName("primary")
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        buttons.addStretch(1)
        buttons.addWidget(self.new_department_button)
        buttons.addWidget(self.save_department_button)
        form.addRow("", buttons)
        self.department_box.setEnabled(self._can_manage_reference)
        right.addWidget(self.department_box)
        right.addWidget(
            _note(
                "说明",
                "在左边选中一个部门即可修改它的信息；点“新建”添加新部门。"
                "停用的部门不再出现在交办时的部门列表里，已交办的事项不受影响。",
            )
        )
        right.addStretch(1)
        columns.addWidget(_scrolled(right))

        QWidget.setTabOrder(self.departments_table, self.toggle_department_button)
        _chain_tab_order(
            self.toggle_department_button,
            self.department_name,
            self.department_leader,
            self.department_contact,
            self.department_phone,
            self.save_department_button,
            self.new_department_button,
        )
        for field in (
            self.department_name,
            self.department_leader,
            self.department_contact,
            self.department_phone,
        ):
            field.returnPressed.connect(self.save_department)
        self.save_department_button.clicked.connect(self.save_department)
        self.new_department_button.clicked.connect(self.new_department)
        self.toggle_department_button.clicked.connect(self.toggle_department_active)
        self.departments_table.itemSelectionChanged.connect(self._on_department_selected)
        return tab

    def reload_departments(self) -> None:
        site = self._services.site
        Query(
            self._context.runner,
            self,
            lambda: site.departments(include_inactive=True),
            self._show_departments,
        ).run()

    def _show_departments(self, departments: list[DepartmentInfo]) -> None:
        selected = self._selected_department()
        self._departments = departments
        rows = [
            (
                d.id,
                d.active,
                (
                    d.name,
                    d.principal_leader,
                    d.contact_person,
                    d.contact_phone,
                    _status_text(d.active),
                ),
            )
            for d in self._departments
        ]
        wanted, self._select_department_id = self._select_department_id, None
        self._reloading_departments = True
        try:
            _fill_table(self.departments_table, rows, wanted or (selected.id if selected else None))
        finally:
            self._reloading_departments = False
        if self._department(self._editing_department_id) is None:
            self._editing_department_id = None
        elif wanted is not None and wanted == self._editing_department_id:
            self._fill_department_form(self._department(wanted))  # as stored: trimmed
        self._update_department_actions()

    def _department(self, department_id: int | None) -> DepartmentInfo | None:
        return next((d for d in self._departments if d.id == department_id), None)

    def _selected_department(self) -> DepartmentInfo | None:
        return self._department(_selected_id(self.departments_table))

    def _on_department_selected(self) -> None:
        self._update_department_actions()
        if self._reloading_departments:
            return
        department = self._selected_department()
        if department is not None and department.id != self._editing_department_id:
            self._fill_department_form(department)

    def _fill_department_form(self, department: DepartmentInfo | None) -> None:
        _clear_errors(self.department_errors, self._department_fields)
        self._editing_department_id = department.id if department else None
        self.department_name.setText(department.name if department else "")
        self.department_leader.setText(department.principal_leader if department else "")
        self.department_contact.setText(department.contact_person if department else "")
        self.department_phone.setText(department.contact_phone if department else "")
        self._update_department_actions()

    def _update_department_actions(self) -> None:
        selected = self._selected_department()
        self.toggle_department_button.setText(
            "启用" if selected is not None and not selected.active else "停用"
        )
        self.toggle_department_button.setEnabled(
            self._can_manage_reference and selected is not None
        )
        editing = self._department(self._editing_department_id)
        self.department_box.setTitle(f"修改部门：{editing.name}" if editing else "新建部门")

    def new_department(self) -> None:
        self.departments_table.clearSelection()
        self._fill_department_form(None)
        self.department_name.setFocus()

    def save_department(self) -> None:
        if not self._can_manage_reference:
            return
        _clear_errors(self.department_errors, self._department_fields)
        editing = self._department(self._editing_department_id)
        site, actor = self._services.site, self._actor
        name, leader = self.department_name.text(), self.department_leader.text()
        contact, phone = self.department_contact.text(), self.department_phone.text()

        def saved(result: tuple[DepartmentInfo, Changes]) -> None:
            department = result[0]
            if editing is None:
                self.new_department()
                self.departments_status.setText(f"已添加部门“{department.name}”。")
            else:
                self._select_department_id = department.id
                self._fill_department_form(department)  # as stored: trimmed, spaces collapsed
                self.departments_status.setText(f"已保存“{department.name}”的修改。")

        Action(
            self._context,
            self,
            lambda: site.save_department(
                actor,
                name=name,
                principal_leader=leader,
                contact_person=contact,
                contact_phone=phone,
                department_id=editing.id if editing else None,
                active=editing.active if editing else True,
            ),
        ).success(saved).on_invalid(
            lambda exc: _show_errors(
                exc, self.department_errors, self._department_fields, fallback="name"
            )
        ).run()

    def toggle_department_active(self) -> None:
        department = self._selected_department()
        if department is None:
            return
        site, actor = self._services.site, self._actor
        done = f"已{'停用' if department.active else '启用'}“{department.name}”。"
        Action(
            self._context,
            self,
            lambda: site.save_department(
                actor,
                name=department.name,
                principal_leader=department.principal_leader,
                contact_person=department.contact_person,
                contact_phone=department.contact_phone,
                department_id=department.id,
                active=not department.active,
            ),
        ).success(lambda _result: self.departments_status.setText(done)).run()

    # 领域 ------------------------------------------------------------------------------------

    def _build_areas_tab(self) -> QWidget:
        tab = QWidget()
        outer = QVBoxLayout(tab)
        self.areas_permission_hint = _permission_hint("只有管理员可以维护领域。")
        self.areas_permission_hint.setVisible(not self._can_manage_reference)
        outer.addWidget(self.areas_permission_hint)
        columns = QHBoxLayout()
        outer.addLayout(columns, 1)

        left = QVBoxLayout()
        self.areas_list = QListWidget()
        self.areas_list.setAlternatingRowColors(True)
        self.areas_list.setStyleSheet("QListWidget::item { padding: 4px 6px; }")
        left.addWidget(self.areas_list, 1)
        self.areas_status = _status_label()
        left.addWidget(self.areas_status)
        columns.addLayout(left, 1)

        right = _side_column()
        self.add_area_box = QGroupBox("添加领域")
        form = _form_layout(self.add_area_box)
        self.new_area = QLineEdit()
        self.new_area.setPlaceholderText("如 交通运输")
        self.area_errors: dict[str, FieldError] = {"name": FieldError()}
        self._area_fields: dict[str, QLineEdit] = {"name": self.new_area}
        form.addRow("名称", _with_error(self.new_area, self.area_errors["name"]))
        self.add_area_button = QPushButton("添加领域")
        self.add_area_button.setObjectName("primary")
        form.addRow("", _right_aligned(self.add_area_button))
        self.add_area_box.setEnabled(self._can_manage_reference)
        right.addWidget(self.add_area_box)
        right.addWidget(
            _note(
                "说明",
                "领域是受理登记时“所属领域”的选项，也是统计报表的分类。新添加的领域排在最后。",
            )
        )
        right.addStretch(1)
        columns.addWidget(_scrolled(right))

        _chain_tab_order(self.areas_list, self.new_area, self.add_area_button)
        self.new_area.returnPressed.connect(self.add_area)
        self.add_area_button.clicked.connect(self.add_area)
        return tab

    def reload_areas(self) -> None:
        Query(self._context.runner, self, self._services.site.areas, self._show_areas).run()

    def _show_areas(self, areas: list[str]) -> None:
        current = self.areas_list.currentItem()
        wanted, self._select_area_name = self._select_area_name, None
        current_name = wanted or (current.text() if current else None)
        self.areas_list.clear()
        self.areas_list.addItems(areas)
        if current_name is not None:
            _select_area(self.areas_list, current_name)

    def add_area(self) -> None:
        if not self._can_manage_reference:
            return
        _clear_errors(self.area_errors, self._area_fields)
        site, actor, text = self._services.site, self._actor, self.new_area.text()
        added = normalize_text(text)

        def done(_changes: Changes) -> None:
            self._select_area_name = added
            self.new_area.clear()
            self.areas_status.setText(f"已添加领域“{added}”。")

        Action(self._context, self, lambda: site.add_area(actor, text)).success(done).on_invalid(
            lambda exc: _show_errors(exc, self.area_errors, self._area_fields, fallback="name")
        ).run()

    # 关于本机 --------------------------------------------------------------------------------

    def _build_about_tab(self) -> QWidget:
        content = QWidget()
        column = QVBoxLayout(content)
        column.setSpacing(12)

        top = QHBoxLayout()
        top.setSpacing(12)
        site_card = Card("本站点")
        site_form = _form_layout()
        site_card.body.addLayout(site_form)
        self.site_code = _value_label()
        self.site_name = _value_label()
        self.site_short_name = _value_label()
        self.site_level = _value_label()
        self.current_user = _value_label()
        site_form.addRow("站点代码", self.site_code)
        site_form.addRow("站点名称", self.site_name)
        site_form.addRow("站点简称", self.site_short_name)
        site_form.addRow("级别", self.site_level)
        site_form.addRow("当前登录", self.current_user)
        top.addWidget(site_card, 1)

        check_card = Card("数据完整性")
        explain = QLabel(
            "检查数据库文件是否损坏、审计日志是否被改动、每件事项的办理记录是否完整、"
            "材料文件是否齐全。数据多时需要几秒钟，检查期间可以继续工作。"
        )
        explain.setWordWrap(True)
        explain.setObjectName("hint")
        check_card.body.addWidget(explain)
        self.check_button = QPushButton("检查数据完整性")
        check_card.body.addWidget(self.check_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.check_result = _value_label()
        self.check_result.setWordWrap(True)
        check_card.body.addWidget(self.check_result)
        check_card.body.addStretch(1)
        top.addWidget(check_card, 1)
        column.addLayout(top)

        data_card = Card("程序与数据")
        data_form = _form_layout()
        data_card.body.addLayout(data_form)
        self.app_version = _value_label()
        self.data_dir = _value_label()
        self.database_file = _value_label()
        self.backups_dir = _value_label()
        data_form.addRow("程序版本", self.app_version)
        data_form.addRow("数据目录", self.data_dir)
        data_form.addRow("数据库文件", self.database_file)
        data_form.addRow("备份文件夹", self.backups_dir)
        self.paper_fonts = _value_label()
        self.paper_fonts.setWordWrap(True)
        data_form.addRow("公文字体", self.paper_fonts)
        self.backup_note = QLabel(
            "每次升级程序时，会先把旧数据库自动备份到上面的备份文件夹；"
            "也可以在命令行运行 bbcs backup 随时备份。"
            "请定期把备份文件夹复制到U盘或另一台电脑上保存；"
            "数据库本身要放在本机硬盘上，不要放在U盘或共享文件夹里。"
        )
        self.backup_note.setWordWrap(True)
        self.backup_note.setObjectName("hint")
        data_card.body.addWidget(self.backup_note)
        column.addWidget(data_card)
        column.addStretch(1)

        self.check_button.clicked.connect(self.run_check)

        return VerticalScrollArea(content)

    def reload_about(self) -> None:
        Query(self._context.runner, self, self._services.site.info, self._show_about).run()
        Query(self._context.runner, self, _paper_fonts_text, self.paper_fonts.setText).run()

    def _show_about(self, site: SiteInfo) -> None:
        self.site_code.setText(site.code)
        self.site_name.setText(site.name)
        self.site_short_name.setText(site.short_name)
        self.site_level.setText(site.level.label + ("（演示站点）" if site.is_demo else ""))
        actor = self._actor
        self.current_user.setText(f"{actor.display_name}（{actor.username}，{actor.role.label}）")
        layout = self._services.layout
        self.app_version.setText(__version__)
        self.data_dir.setText(str(layout.root))
        if self._services.db.url == layout.database_url():
            self.database_file.setText(str(layout.database))
        else:
            self.database_file.setText(self._services.db.display_url)
        self.backups_dir.setText(str(layout.backups))

    def run_check(self) -> None:
        self.check_button.setEnabled(False)
        self._set_check_result("正在检查，请稍候……", None)
        Query(
            self._context.runner, self, self._services.maintenance.check, self._show_check_report
        ).failure(self._check_failed).finished(lambda: self.check_button.setEnabled(True)).run()

    def _show_check_report(self, report: CheckReport) -> None:
        when = self._services.clock.now().strftime("%Y-%m-%d %H:%M")
        if report.ok:
            self._set_check_result(
                f"检查通过（{when}）：数据库完好；{report.audit_entries} 条审计日志前后衔接、"
                f"未被改动；{report.cases} 件事项的办理记录完整；"
                f"{report.attachments} 个材料文件齐全。"
                + "".join(f"\n提示：{note}" for note in report.notes),
                GREEN,
            )
            return
        lines = [f"发现 {len(report.problems)} 个问题（{when}）："]
        lines += [f"· {problem}" for problem in report.problems[:MAX_PROBLEMS_SHOWN]]
        if len(report.problems) > MAX_PROBLEMS_SHOWN:
            lines.append(f"……其余 {len(report.problems) - MAX_PROBLEMS_SHOWN} 个未列出")
        lines += [f"提示：{note}" for note in report.notes]
        lines.append("请先把整个数据目录复制备份，再联系维护人员处理。")
        self._set_check_result("\n".join(lines), RED)

    def _check_failed(self, exc: Exception) -> None:
        if isinstance(exc, UserError):
            self._set_check_result(f"检查没有完成：{exc.message}", RED)
            return
        self._set_check_result("检查没有完成，程序出错。", RED)
        show_error(self, exc)

    def _set_check_result(self, text: str, color: str | None) -> None:
        self.check_result.setText(text)
        self.check_result.setStyleSheet(f"color: {color};" if color else "")

    # Refresh ---------------------------------------------------------------------------------

    def _on_changed(self, changes: Changes) -> None:
        if changes.users:
            self.reload_users()
        if changes.departments:
            self.reload_departments()
        if changes.settings:
            self.reload_areas()
        if changes.site:
            self.reload_about()


# Small widgets and helpers ----------------------------------------------------------------------


def _paper_fonts_text() -> str:
    """Which font prints each part of a paper, and what stands in for a missing one (GB/T 9704).

    Run on the worker: finding and loading the fonts reads the system's font list."""
    from desktop_app.documents.fonts import register_fonts  # reportlab loads on first use

    fonts = register_fonts()
    lines = [choice.describe() for choice in fonts.choices]
    if any(choice.stand_in for choice in fonts.choices):
        lines.append("安装缺少的字体后重新启动程序，之后打印的公文即按国家标准字体排版。")
    return "\n".join(lines)


def _status_text(active: bool) -> str:
    return "在用" if active else "停用"


def _user_status_text(user: UserInfo, today: date) -> str:
    """在用 / 停用, or 已锁定 with when the lock runs out (the services say whether it holds)."""
    if user.active and user.locked and user.locked_until is not None:
        until = user.locked_until
        when = f"{until:%H:%M}" if until.date() == today else f"{until:%m-%d %H:%M}"
        return f"已锁定（至 {when}）"
    return _status_text(user.active)


def _make_table(columns: tuple[tuple[str, int | None], ...]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels([title for title, _ in columns])
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(28)
    header = table.horizontalHeader()
    header.setHighlightSections(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    for column, (_, width) in enumerate(columns):
        if width is None:
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        else:
            table.setColumnWidth(column, width)
    return table


def _fill_table(
    table: QTableWidget,
    rows: Sequence[tuple[int, bool, tuple[str, ...]]],
    select_id: int | None,
) -> None:
    """Replace the rows (id, active, cells); keep the row with ``select_id`` selected."""
    table.setRowCount(len(rows))
    for row, (row_id, active, cells) in enumerate(rows):
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setData(_ID_ROLE, row_id)
            if not active:
                item.setForeground(_INACTIVE_BRUSH)
            table.setItem(row, column, item)
    if select_id is not None:
        _select_id(table, select_id)


def _selected_id(table: QTableWidget) -> int | None:
    rows = table.selectionModel().selectedRows()
    if not rows:
        return None
    item = table.item(rows[0].row(), 0)
    return None if item is None else item.data(_ID_ROLE)


def _select_id(table: QTableWidget, row_id: int) -> None:
    for row in range(table.rowCount()):
        item = table.item(row, 0)
        if item is not None and item.data(_ID_ROLE) == row_id:
            table.selectRow(row)
            table.scrollToItem(item)
            return


def _select_area(areas: QListWidget, name: str) -> None:
    for item in areas.findItems(name, Qt.MatchFlag.MatchExactly):
        areas.setCurrentItem(item)
        areas.scrollToItem(item)
        return


def _form_layout(parent: QWidget | None = None) -> QFormLayout:
    form = QFormLayout(parent)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setHorizontalSpacing(10)
    form.setVerticalSpacing(8)
    if isinstance(parent, QGroupBox):
        parent.setFixedWidth(FORM_WIDTH)
        form.setContentsMargins(12, 14, 12, 12)
    return form


def _with_error(field: QWidget, error: FieldError) -> QWidget:
    """The field with its error message right under it; the message takes no room when hidden."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(field)
    layout.addWidget(error)
    return box


def _right_aligned(button: QPushButton) -> QWidget:
    box = QWidget()
    layout = QHBoxLayout(box)
    layout.setContentsMargins(0, 4, 0, 0)
    layout.addStretch(1)
    layout.addWidget(button)
    return box


def _mark_invalid(field: QWidget, invalid: bool) -> None:
    field.setProperty("invalid", invalid)
    field.style().unpolish(field)
    field.style().polish(field)


def _clear_errors(errors: dict[str, FieldError], fields: dict[str, QLineEdit]) -> None:
    for key, error in errors.items():
        error.set_message(None)
        _mark_invalid(fields[key], False)


def _show_errors(
    exc: ValidationFailed,
    errors: dict[str, FieldError],
    fields: dict[str, QLineEdit],
    *,
    fallback: str,
) -> None:
    """Each message beside its field (unknown keys beside ``fallback``); focus the first."""
    messages: dict[str, list[str]] = {}
    for key, message in exc.errors.items():
        messages.setdefault(key if key in errors else fallback, []).append(message)
    first: QLineEdit | None = None
    for key in errors:  # form order
        if key not in messages:
            continue
        errors[key].set_message("；".join(messages[key]))
        field = fields[key]
        _mark_invalid(field, True)
        if first is None:
            first = field
    if first is not None:
        first.setFocus()
        first.selectAll()


def _chain_tab_order(*widgets: QWidget) -> None:
    for before, after in pairwise(widgets):
        QWidget.setTabOrder(before, after)


def _permission_hint(text: str) -> QLabel:
    label = QLabel(text + "如需修改，请联系本站点的管理员。")
    label.setObjectName("hint")
    label.setStyleSheet(
        "background: #fdf2e9; border: 1px solid #f0b27a; border-radius: 4px; padding: 6px 10px;"
    )
    return label


def _status_label() -> QLabel:
    label = QLabel("")
    label.setObjectName("hint")
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _value_label() -> QLabel:
    label = QLabel("")
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _side_column() -> QVBoxLayout:
    """The column of forms and notes beside a tab's table (scrolled by ``_scrolled``)."""
    column = QVBoxLayout()
    column.setContentsMargins(0, 0, 0, 0)
    return column


def _scrolled(column: QVBoxLayout) -> VerticalScrollArea:
    """The side column in a scroll area: on a short screen (1366×768, or 1920×1080 at 150 %) the
    add-user form scrolls instead of growing the window past the screen's bottom edge."""
    content = QWidget()
    content.setLayout(column)
    return VerticalScrollArea(content)


def _note(title: str, text: str) -> QGroupBox:
    box = QGroupBox(title)
    box.setFixedWidth(FORM_WIDTH)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(12, 14, 12, 12)
    label = QLabel(text)
    label.setWordWrap(True)
    label.setObjectName("hint")
    layout.addWidget(label)
    return box


def _role_summary() -> str:
    everything = frozenset(Permission)
    lines = []
    for role in Role:
        permissions = ROLE_PERMISSIONS[role]
        if permissions == everything:
            what = "全部功能，包括管理人员、部门和领域"
        else:
            what = "、".join(p.label for p in Permission if p in permissions)
        lines.append(f"{role.label}：{what}")
    return "\n".join(lines)
