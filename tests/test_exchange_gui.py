"""数据交换 on screen: a county and a city in temp dirs, bundles carried on a "stick" folder."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QInputDialog,
    QMessageBox,
    QProgressDialog,
    QTableWidget,
)
from pytestqt.qtbot import QtBot

from desktop_app.domain.vocabulary import SiteLevel
from desktop_app.services.app import AppServices, open_services
from desktop_app.services.backup import list_backups
from desktop_app.services.context import Actor, Changes, FixedClock
from desktop_app.services.keys import PublicIdentity
from desktop_app.services.ledger import CaseFilter
from desktop_app.system import drives
from desktop_app.system.drives import Drive
from desktop_app.ui.calendar import CalendarPage
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.exchange import ExchangePage, FileDialogs, data, receive
from desktop_app.ui.exchange.data import Imported, Progress
from desktop_app.ui.main_window import MainWindow
from tests.helpers.factories import ADMIN_PASSWORD, person_form
from tests.helpers.message_boxes import MessageBoxes
from tests.helpers.speed import CHEAP_HASHER, fast_password_hashing  # noqa: F401
from tests.helpers.spies import record_calls

CITY_CODE = "410200"
CITY_NAME = "开封市办不成事监督窗口"


class FakeDialogs(FileDialogs):
    """Answers the page's file choosers with paths the test set beforehand."""

    def __init__(self) -> None:
        self.files: list[Path] = []
        self.folder: Path | None = None
        self.save_to: Path | None = None

    def open_files(self, parent: object, caption: str, name_filter: str) -> list[str]:
        return [str(f) for f in self.files]

    def open_file(self, parent: object, caption: str, name_filter: str) -> str:
        return str(self.files[0]) if self.files else ""

    def directory(self, parent: object, caption: str) -> str:
        return str(self.folder) if self.folder else ""

    def save_file(self, parent: object, caption: str, suggested: str, name_filter: str) -> str:
        return str(self.save_to) if self.save_to else ""


@pytest.fixture
def message_boxes(message_boxes: MessageBoxes) -> MessageBoxes:
    """Here every message box is recorded (answered OK) for the test to check what it said."""
    message_boxes.allow("information", "warning", "critical")
    message_boxes.answer_every(QMessageBox.StandardButton.Ok)
    return message_boxes


def make_city(path: Path, clock: FixedClock) -> AppServices:
    city = open_services(path, clock=clock, hasher=CHEAP_HASHER)
    city.site.init_site(
        code=CITY_CODE,
        name=CITY_NAME,
        short_name="开封市",
        level=SiteLevel.CITY,
        admin_password=ADMIN_PASSWORD,
    )
    return city


@pytest.fixture
def city(tmp_path: Path, clock: FixedClock) -> Iterator[AppServices]:
    services = make_city(tmp_path / "市级 数据", clock)
    yield services
    services.close()


@pytest.fixture
def city_admin(city: AppServices) -> Actor:
    return city.auth.login("admin", ADMIN_PASSWORD)


def identity_of(services: AppServices) -> PublicIdentity:
    site = services.site.info()
    return services.keys.identity(site.code, site.name, site.level.value)


@pytest.fixture
def paired(services: AppServices, admin: Actor, city: AppServices, city_admin: Actor) -> None:
    """The county and the city trust each other (as after `bbcs keys trust` at both ends)."""
    services.sync.trust(admin, identity_of(city))
    city.sync.trust(city_admin, identity_of(services))


@pytest.fixture
def stick(tmp_path: Path) -> Path:
    path = tmp_path / "U盘 KINGSTON"
    path.mkdir()
    return path


PageMaker = Callable[[AppServices, Actor], ExchangePage]


@pytest.fixture
def make_page(qtbot: QtBot, message_boxes: MessageBoxes) -> Iterator[PageMaker]:
    runners: list[TaskRunner] = []

    def make(services: AppServices, actor: Actor) -> ExchangePage:
        runner = TaskRunner()
        runners.append(runner)
        page = ExchangePage(UiContext(services, actor, ChangeHub(), runner), dialogs=FakeDialogs())
        qtbot.addWidget(page)
        page.resize(1100, 760)
        page.show()
        qtbot.waitUntil(lambda: not page.is_busy and page.loaded)
        return page

    yield make
    for runner in runners:  # no worker may touch a database after its fixture closes it
        runner.wait()


def dialogs_of(page: ExchangePage) -> FakeDialogs:
    assert isinstance(page.dialogs, FakeDialogs)
    return page.dialogs


def cells(table: QTableWidget, row: int) -> list[str]:
    return [table.item(row, c).text() for c in range(table.columnCount())]


def wait_idle(qtbot: QtBot, page: ExchangePage) -> None:
    qtbot.waitUntil(lambda: not page.is_busy, timeout=10_000)


def import_through_preview(qtbot: QtBot, page: ExchangePage, files: list[Path]) -> None:
    """Choose files, wait for the dry run's dialog, confirm it, wait for the import."""
    dialogs_of(page).files = files
    qtbot.mouseClick(page.receive.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.receive.import_preview is not None, timeout=10_000)
    preview = page.receive.import_preview
    assert preview is not None and preview.confirm_button.isEnabled()
    qtbot.mouseClick(preview.confirm_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, page)


def city_case_count(city: AppServices) -> int:
    return len(city.ledger.ids(CaseFilter(), limit=1000))


def test_export_at_county_import_at_city_then_ack_closes_the_loop(
    qtbot: QtBot,
    make_page: PageMaker,
    services: AppServices,
    clerk: Actor,
    city: AppServices,
    city_admin: Actor,
    paired: None,
    stick: Path,
    message_boxes: MessageBoxes,
) -> None:
    for title in ("医保结算查不到参保信息", "不动产证办理被要求重复提交材料", "公积金提取被拒"):
        services.intake.register(clerk, person_form(title=title))

    county_page = make_page(services, clerk)
    assert "上级：开封市办不成事监督窗口（410200）" in county_page.status.status_label.text()
    assert "待上报记录" in county_page.status.status_label.text()
    assert "尚未向市级上报过数据" in county_page.status.reminder_label.text()

    dialogs_of(county_page).folder = stick
    qtbot.mouseClick(county_page.send.target.browse_button, Qt.MouseButton.LeftButton)
    assert county_page.send.target.target() == str(stick)
    qtbot.mouseClick(county_page.send.export_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, county_page)

    bundles = list(stick.glob("*.bbcs"))
    assert len(bundles) == 1
    assert bundles[0].name in county_page.send.export_message.text()
    assert "事项 3" in county_page.send.export_message.text()
    row = cells(county_page.history.history_table, 0)
    assert row[1:3] == ["发出", "上报数据"]
    assert row[4] == bundles[0].name
    assert row[7] == "待确认"

    # The city: a dry run changes nothing until it is confirmed.
    city_page = make_page(city, city_admin)
    published: list[Changes] = []
    city_page._context.hub.changed.connect(published.append)
    dialogs_of(city_page).files = bundles
    qtbot.mouseClick(city_page.receive.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: city_page.receive.import_preview is not None, timeout=10_000)
    preview = city_page.receive.import_preview
    assert preview is not None
    dry = cells(preview.table, 0)
    assert dry[0] == bundles[0].name
    assert dry[1] == "杞县办不成事监督窗口"
    assert int(dry[3]) > 0 and dry[7].startswith("可以导入")
    assert "尚未导入" in preview.summary.text()
    assert city_case_count(city) == 0
    assert not list(stick.glob("*.bbcsack"))

    qtbot.mouseClick(preview.confirm_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, city_page)

    assert city_case_count(city) == 3
    acks = list(stick.glob("*.bbcsack"))
    assert len(acks) == 1
    result = cells(city_page.receive.results_table, 0)
    assert result[7].startswith("已导入") and str(acks[0]) in result[7]
    assert "回执" in city_page.receive.import_message.text()
    # The window backs the database up first, as `bbcs import` does, and says how long it took.
    assert "导入前已备份数据库" in city_page.receive.import_message.text()
    assert [b.kind for b in list_backups(city.layout.backups)] == ["import"]
    assert any(c.cases for c in published)
    assert cells(city_page.history.history_table, 0)[1:4] == [
        "收到",
        "上报数据",
        "杞县办不成事监督窗口（410221）",
    ]
    assert "已登记县区 1 个" in city_page.status.status_label.text()

    # The stick's folder again (a copy of the bundle beside it): nothing new, said so, and the
    # last import's row no longer stands under it as if it were this one's.
    shutil.copy2(bundles[0], stick / f"副本-{bundles[0].name}")
    dialogs_of(city_page).folder = stick
    qtbot.mouseClick(city_page.receive.import_folder_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "没有找到尚未导入" in city_page.receive.import_message.text())
    assert "副本" in city_page.receive.import_message.text()
    assert city_page.receive.results_table.rowCount() == 0
    assert city_case_count(city) == 3

    # Back at the county: the acknowledgement says the city has it.
    import_through_preview(qtbot, county_page, acks)
    assert cells(county_page.receive.results_table, 0)[7] == "市级已确认收到"
    assert "市级已确认到：2026-11-25 09:30" in county_page.status.status_label.text()
    assert "待上报记录 0 条" in county_page.status.status_label.text()
    assert cells(county_page.history.history_table, 0)[7] == "已确认 2026-11-25 09:30"
    assert not county_page.status.reminder_label.isVisible()
    assert services.sync.status().reminder() == ""
    assert message_boxes.shown == []


def test_the_progress_names_each_table_while_a_bundle_is_checked_and_imported(
    qtbot: QtBot,
    make_page: PageMaker,
    services: AppServices,
    clerk: Actor,
    city: AppServices,
    city_admin: Actor,
    paired: None,
    stick: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A county's first upload spends a minute merging at a city on PostgreSQL: the dialog says
    which records go in, for the preview and the import, and ends on the save."""
    services.intake.register(clerk, person_form(title="医保结算查不到参保信息"))
    sent = services.sync.export(clerk, stick)
    shown = record_calls(monkeypatch, QProgressDialog, "setLabelText")

    import_through_preview(qtbot, make_page(city, city_admin), [sent.path])

    assert city_case_count(city) == 1
    labels = [label for _dialog, label in shown]
    checked = [label for label in labels if label.startswith("正在预检")]
    imported = [label for label in labels if label.startswith("正在导入")]
    assert any(f"1/1 {sent.path.name}：合并事项（" in label for label in checked)
    assert any(f"1/1 {sent.path.name}：合并事项（" in label for label in imported)
    assert f"1/1 {sent.path.name}：保存（" in imported[-1]


def test_the_progress_dialogs_text_and_bar_show_the_same_step(
    qtbot: QtBot,
    make_page: PageMaker,
    services: AppServices,
    clerk: Actor,
    city: AppServices,
    city_admin: Actor,
    paired: None,
    stick: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two steps reported while the window was busy: the shown dialog's setValue() handles the
    second inside the first's update, and the text set after it showed the step before."""
    services.intake.register(clerk, person_form())
    sent = services.sync.export(clerk, stick)
    go, finish = threading.Event(), threading.Event()

    def slow_import(
        site: AppServices, actor: Actor, paths: list[Path], progress: Progress
    ) -> Imported:
        progress("解开记录", 0, 3)  # the bar at its minimum: the dialog shows itself in 400 ms
        go.wait(5)
        progress("合并事项", 1, 3)
        progress("合并交办", 2, 3)
        finish.wait(5)
        return data.import_files(site, actor, paths, lambda *_step: None)

    monkeypatch.setattr(receive, "import_files", slow_import)
    page = make_page(city, city_admin)
    dialogs_of(page).files = [sent.path]
    qtbot.mouseClick(page.receive.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.receive.import_preview is not None, timeout=10_000)
    preview = page.receive.import_preview
    assert preview is not None
    qtbot.mouseClick(preview.confirm_button, Qt.MouseButton.LeftButton)

    def dialog() -> QProgressDialog | None:
        found = [d for d in page.findChildren(QProgressDialog) if d.isVisible()]
        return found[0] if found else None

    qtbot.waitUntil(lambda: dialog() is not None, timeout=5_000)
    showing = dialog()
    assert showing is not None
    go.set()
    time.sleep(0.3)  # the window busy: both steps wait in its queue
    qtbot.waitUntil(lambda: showing.value() == 2)
    assert showing.labelText().endswith("合并交办（2/3）")
    finish.set()
    wait_idle(qtbot, page)
    assert city_case_count(city) == 1


def test_tampered_bundle_is_refused_with_its_reason_and_nothing_is_imported(
    qtbot: QtBot,
    make_page: PageMaker,
    services: AppServices,
    admin: Actor,
    city: AppServices,
    city_admin: Actor,
    paired: None,
    stick: Path,
) -> None:
    services.intake.register(admin, person_form())
    bundle = services.sync.export(admin, stick).path
    data = bytearray(bundle.read_bytes())
    data[len(data) // 2] ^= 0x01
    bundle.write_bytes(bytes(data))

    page = make_page(city, city_admin)
    dialogs_of(page).files = [bundle]
    qtbot.mouseClick(page.receive.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.receive.import_preview is not None, timeout=10_000)
    preview = page.receive.import_preview
    assert preview is not None

    assert not preview.confirm_button.isEnabled()
    assert preview.cancel_button.text() == "关闭"
    reason = cells(page.receive.results_table, 0)[7]
    assert reason.startswith("拒绝：")
    assert page.receive.results_table.item(0, 7).foreground().color().name() == "#c0392b"
    assert cells(preview.table, 0)[7] == reason
    assert "没有导入任何数据" in page.receive.import_message.text()
    qtbot.mouseClick(preview.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.receive.import_preview is None)

    assert city_case_count(city) == 0
    assert city.sync.history() == []
    assert not list(stick.glob("*.bbcsack"))


def test_trusting_a_site_shows_its_fingerprint_and_a_changed_key_needs_confirmation(
    qtbot: QtBot,
    make_page: PageMaker,
    services: AppServices,
    admin: Actor,
    city: AppServices,
    tmp_path: Path,
    clock: FixedClock,
) -> None:
    # The city hands over its identity file; the county's administrator registers it.
    city_page = make_page(city, city.auth.login("admin", ADMIN_PASSWORD))
    city_file = tmp_path / "开封市-身份.json"
    dialogs_of(city_page).save_to = city_file
    qtbot.mouseClick(city_page.identity.export_identity_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: city_file.exists())
    old = identity_of(city).fingerprint()
    assert old in city_page.identity.fingerprint_label.text()

    page = make_page(services, admin)
    dialogs_of(page).files = [city_file]
    qtbot.mouseClick(page.identity.trust_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.identity.trust_prompt is not None)
    prompt = page.identity.trust_prompt
    assert prompt is not None and old in prompt.text() and "电话" in prompt.text()
    prompt.buttons()[0].click()  # 核对无误，登记
    qtbot.waitUntil(lambda: page.sites.sites_table.rowCount() == 1)
    assert cells(page.sites.sites_table, 0)[:5] == [CITY_CODE, CITY_NAME, "市级窗口", old, "已登记"]

    # The city reinstalled and made new keys: the county must confirm the new fingerprint.
    moved = make_city(tmp_path / "市级 新电脑", clock)
    try:
        new_file = tmp_path / "开封市-新身份.json"
        moved_page = make_page(moved, moved.auth.login("admin", ADMIN_PASSWORD))
        dialogs_of(moved_page).save_to = new_file
        qtbot.mouseClick(moved_page.identity.export_identity_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: new_file.exists())
        wait_idle(qtbot, moved_page)
        new = identity_of(moved).fingerprint()
    finally:
        moved.close()
    assert new != old

    dialogs_of(page).files = [new_file]
    qtbot.mouseClick(page.identity.trust_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.identity.trust_prompt is not None)
    prompt = page.identity.trust_prompt
    assert prompt is not None
    assert old in prompt.text() and new in prompt.text() and "电话" in prompt.text()
    cancel = next(b for b in prompt.buttons() if b.text() == "取消")
    cancel.click()
    qtbot.waitUntil(lambda: page.identity.trust_prompt is None)
    wait_idle(qtbot, page)
    assert services.sync.trusted_sites()[0].fingerprint == old

    qtbot.mouseClick(page.identity.trust_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.identity.trust_prompt is not None)
    prompt = page.identity.trust_prompt
    assert prompt is not None
    replace = next(b for b in prompt.buttons() if b.text() == "核对无误，替换")
    replace.click()
    qtbot.waitUntil(lambda: cells(page.sites.sites_table, 0)[3] == new)
    assert services.sync.trusted_sites()[0].fingerprint == new
    assert "已更新" in page.identity.identity_message.text()


def test_city_inbox_lists_pending_bundles_without_importing_them(
    qtbot: QtBot,
    make_page: PageMaker,
    services: AppServices,
    admin: Actor,
    city: AppServices,
    city_admin: Actor,
    paired: None,
    tmp_path: Path,
) -> None:
    inbox = tmp_path / "共享 收件箱"
    inbox.mkdir()
    services.intake.register(admin, person_form())
    services.sync.export(admin, inbox)

    page = make_page(city, city_admin)
    assert page.receive.inbox_label.text() == ""
    dialogs_of(page).folder = inbox
    qtbot.mouseClick(page.receive.inbox_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.receive.inbox_label.text() == "收件箱有 1 个待导入的数据包")
    wait_idle(qtbot, page)
    assert page.receive.inbox_path.text() == str(inbox)
    assert city.sync.status().inbox == str(inbox)
    assert city_case_count(city) == 0  # listed, not imported

    # A county drops another bundle on the share: the watcher notices and the count goes up.
    services.sync.export(admin, inbox)
    qtbot.waitUntil(
        lambda: page.receive.inbox_label.text() == "收件箱有 2 个待导入的数据包", timeout=5_000
    )
    assert city_case_count(city) == 0

    qtbot.mouseClick(page.receive.import_inbox_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.receive.import_preview is not None, timeout=10_000)
    preview = page.receive.import_preview
    assert preview is not None and preview.table.rowCount() == 2
    qtbot.mouseClick(preview.confirm_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, page)
    assert city_case_count(city) == 1
    qtbot.waitUntil(
        lambda: page.receive.inbox_label.text() == "收件箱没有待导入的数据包", timeout=5_000
    )


def test_export_without_a_reachable_target_says_so_and_writes_nothing(
    qtbot: QtBot,
    make_page: PageMaker,
    services: AppServices,
    admin: Actor,
    city: AppServices,
    paired: None,
    tmp_path: Path,
    message_boxes: MessageBoxes,
) -> None:
    page = make_page(services, admin)
    page.send.target.combo.setEditText("")
    qtbot.mouseClick(page.send.export_button, Qt.MouseButton.LeftButton)
    assert "请先选择保存位置" in page.send.export_message.text()

    gone = tmp_path / "已拔出的U盘"
    page.send.target.combo.setEditText(str(gone))
    qtbot.mouseClick(page.send.export_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, page)
    assert message_boxes.shown and message_boxes.shown[0].title == "无法完成"
    assert page.send.export_message.text() == message_boxes.shown[0].text
    assert not gone.exists()
    assert services.sync.history() == []


def test_dashboard_reminds_to_upload_and_opens_the_exchange_page(
    qtbot: QtBot, services: AppServices, clerk: Actor, message_boxes: MessageBoxes
) -> None:
    context = UiContext(services, clerk, ChangeHub(), TaskRunner())
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    banner = window.dashboard.exchange_banner
    qtbot.waitUntil(banner.isVisible)
    assert "尚未登记市级站点" in banner.text()

    qtbot.mouseClick(banner, Qt.MouseButton.LeftButton)
    assert isinstance(window.pages.currentWidget(), ExchangePage)
    page = window.exchange
    qtbot.waitUntil(lambda: not page.is_busy and page.loaded)
    assert "上级：尚未登记市级站点" in page.status.status_label.text()
    assert not page.identity.trust_button.isEnabled()  # a clerk cannot register sites
    context.runner.wait()


def test_detected_sticks_and_shares_are_offered_as_targets(
    qtbot: QtBot,
    make_page: PageMaker,
    services: AppServices,
    clerk: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    found = [
        Drive("\\\\server\\bbcs", "server/bbcs", "network"),
        Drive("E:\\", "KINGSTON", "removable", 7_500_000_000),
    ]
    monkeypatch.setattr(drives, "list_removable_drives", lambda: found)
    page = make_page(services, clerk)
    qtbot.mouseClick(page.send.target.refresh_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, page)

    combo = page.send.target.combo
    texts = [combo.itemText(i) for i in range(combo.count())]
    assert texts == ["U盘 KINGSTON (E:)", "网络共享 \\\\server\\bbcs"]
    assert page.send.target.target() == "E:\\"
    assert "7.0 GB" in combo.itemData(0, Qt.ItemDataRole.ToolTipRole)
    combo.setEditText("\\\\server\\bbcs\\杞县")  # a share path typed in
    assert page.send.target.target() == "\\\\server\\bbcs\\杞县"


def test_administrator_revokes_a_site_after_giving_a_reason(
    qtbot: QtBot,
    make_page: PageMaker,
    city: AppServices,
    city_admin: Actor,
    paired: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[str] = []

    def get_text(_parent: object, _title: str, label: str, *_args: object) -> tuple[str, bool]:
        asked.append(label)
        return "县区电脑丢失", True

    monkeypatch.setattr(QInputDialog, "getText", staticmethod(get_text))
    page = make_page(city, city_admin)
    page.tabs.setCurrentIndex(page.tabs.count() - 1)
    assert not page.sites.revoke_button.isEnabled()
    page.sites.sites_table.selectRow(0)
    qtbot.mouseClick(page.sites.revoke_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: cells(page.sites.sites_table, 0)[4].startswith("已吊销"))

    assert "杞县办不成事监督窗口" in asked[0]
    assert city.sync.trusted_sites()[0].state == "revoked"
    assert "不再接受" in page.identity.identity_message.text()


def shown_calendar(qtbot: QtBot, context: UiContext) -> CalendarPage:
    """The 期限日历 page shown, its filters and first month read."""
    calendar = CalendarPage(context)
    qtbot.addWidget(calendar)
    calendar.show()
    qtbot.waitUntil(lambda: calendar.board.filter_choices is not None and not calendar.is_loading)
    return calendar


def test_the_city_ledger_offers_a_filter_by_registered_county(
    qtbot: QtBot,
    services: AppServices,
    admin: Actor,
    city: AppServices,
    city_admin: Actor,
    paired: None,
    stick: Path,
) -> None:
    from desktop_app.ui.ledger_page import LedgerPage

    county_ledger = LedgerPage(UiContext(services, admin, ChangeHub(), TaskRunner()))
    qtbot.addWidget(county_ledger)
    assert not county_ledger.site.isVisibleTo(county_ledger)  # a county has only its own
    context = UiContext(city, city_admin, ChangeHub(), TaskRunner())
    ledger = LedgerPage(context)
    qtbot.addWidget(ledger)
    services.intake.register(admin, person_form())
    city.intake.register(city_admin, person_form(name="赵六"))
    city.sync.import_file(city_admin, services.sync.export(admin, stick).path)
    context.hub.publish(Changes(cases=True, site=True))
    assert ledger.site.isVisibleTo(ledger)
    labels = [ledger.site.itemText(i) for i in range(ledger.site.count())]
    assert labels == ["全部县区", CITY_NAME, "杞县办不成事监督窗口"]
    ledger.site.setCurrentIndex(labels.index("杞县办不成事监督窗口"))
    assert ledger.current_filter().site_code == "410221"
    qtbot.waitUntil(lambda: ledger.model.rowCount() == 1)
    context.runner.wait()

    calendar = shown_calendar(qtbot, context)
    assert calendar.board.site_filter.isVisibleTo(calendar)
    calendar.board.site_filter.setCurrentIndex(calendar.board.site_filter.findData("410221"))
    assert calendar.board.board_filter().site_code == "410221"
    qtbot.waitUntil(lambda: not calendar.is_loading)
    context.runner.wait()


def test_the_city_ledger_and_calendar_filter_by_a_countys_department(
    qtbot: QtBot,
    services: AppServices,
    admin: Actor,
    city: AppServices,
    city_admin: Actor,
    paired: None,
    stick: Path,
) -> None:
    """The department filters offered only the city's own list (the ones it assigns to), so a
    case stuck at 杞县不动产登记中心 could not be found by its department at the city."""
    from desktop_app.ui.ledger_page import LedgerPage

    stuck = next(d for d in services.site.departments() if d.name == "杞县不动产登记中心")
    services.intake.register(admin, person_form(stuck_department_id=stuck.id))
    services.intake.register(admin, person_form(name="李四"))
    city.intake.register(city_admin, person_form(name="赵六"))
    context = UiContext(city, city_admin, ChangeHub(), TaskRunner())
    ledger = LedgerPage(context)
    qtbot.addWidget(ledger)
    ledger.show()
    city.sync.import_file(city_admin, services.sync.export(admin, stick).path)
    context.hub.publish(Changes(cases=True, departments=True, site=True))
    qtbot.waitUntil(lambda: ledger.model.rowCount() == 3)
    ledger.department.setFocus()
    for _step in range(ledger.department.count()):  # down the list, as with the arrow keys
        if ledger.department.currentText() == "杞县不动产登记中心":
            break
        qtbot.keyClick(ledger.department, Qt.Key.Key_Down)
    assert ledger.department.currentText() == "杞县不动产登记中心"
    qtbot.waitUntil(lambda: ledger.model.rowCount() == 1)
    only = city.ledger.ids(ledger.current_filter())
    assert [city.cases.detail(i).stuck_department for i in only] == ["杞县不动产登记中心"]
    context.runner.wait()

    calendar = shown_calendar(qtbot, context)
    names = [
        calendar.board.department_filter.itemText(i)
        for i in range(calendar.board.department_filter.count())
    ]
    assert "杞县不动产登记中心" in names and "杞县医疗保障局" in names
    context.runner.wait()


def test_a_countys_case_opens_read_only_at_the_city(
    qtbot: QtBot,
    services: AppServices,
    admin: Actor,
    city: AppServices,
    city_admin: Actor,
    paired: None,
    stick: Path,
) -> None:
    from desktop_app.ui.case_detail import CaseDetailDialog

    services.intake.register(admin, person_form())
    city.sync.import_file(city_admin, services.sync.export(admin, stick).path)
    case_id = city.ledger.ids(CaseFilter(site_code="410221"))[0]
    context = UiContext(city, city_admin, ChangeHub(), TaskRunner())
    dialog = CaseDetailDialog(context, case_id)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: not dialog.is_loading)  # the case is read on the worker
    assert dialog.read_only_banner.isVisibleTo(dialog)
    assert "杞县办不成事监督窗口" in dialog.read_only_banner.text()
    for button in (dialog.triage_button, dialog.withdraw_button, dialog.add_material_button):
        assert not button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.assignments._loading)
    assert not dialog.assignments.new_button.isEnabled()
    context.runner.wait()


def test_a_conflict_is_shown_and_the_countys_version_can_be_taken(
    qtbot: QtBot,
    make_page: PageMaker,
    services: AppServices,
    admin: Actor,
    city: AppServices,
    city_admin: Actor,
    paired: None,
    stick: Path,
    tmp_path: Path,
    clock: FixedClock,
) -> None:
    """The county restored a backup and redid a triage differently: same version, other area."""
    import shutil

    from desktop_app.domain.vocabulary import Approach, Cause, Nature
    from desktop_app.services.cases import Triage

    case_id = services.intake.register(admin, person_form()).case_id
    backup = services.db.backup_to(tmp_path / "backup.db")
    triage = Triage(Nature.HARD, Approach.PUSH, (Cause.POLICY,), "医保社保")
    services.cases.triage(admin, case_id, triage)
    city.sync.import_file(city_admin, services.sync.export(admin, stick).path)
    restored_dir = tmp_path / "恢复后"
    restored_dir.mkdir()
    shutil.copy(backup, restored_dir / "bbcs.db")
    shutil.copytree(services.layout.keys, restored_dir / "keys")
    restored = open_services(restored_dir, clock=clock)
    try:
        restored.cases.triage(
            admin, case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "教育就学")
        )
        city.sync.import_file(city_admin, restored.sync.export(admin, stick).path)
    finally:
        restored.close()

    page = make_page(city, city_admin)
    table = page.conflicts.conflicts_table
    assert table.rowCount() == 1
    assert "同一版本的内容不同" in cells(table, 0)[-1]
    assert page.tabs.tabText(1).startswith("数据冲突（1）")
    table.selectRow(0)
    assert page.conflicts.take_incoming_button.isEnabled()
    qtbot.mouseClick(page.conflicts.take_incoming_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.is_busy and page.conflicts.conflicts_table.rowCount() == 0)
    number = services.cases.detail(case_id).number
    found = city.ledger.export_records(CaseFilter(text=number))
    assert [r["area"] for r in found] == ["教育就学"]


def test_the_city_calendar_with_its_county_filter_fits_the_smallest_screen(
    qtbot: QtBot,
    services: AppServices,
    admin: Actor,
    city: AppServices,
    city_admin: Actor,
    paired: None,
    stick: Path,
    clock: FixedClock,
) -> None:
    """At the city the calendar's toolbar also offers 全部县区, and 此前还有…已超期 when cases
    are overdue from an earlier month: on a 1280×680 screen (1080×600 for a page) it wraps onto
    a second row instead of widening the window, and every filter and the export button stay on
    the page."""
    from PySide6.QtCore import QRect, QSize

    from desktop_app.domain.vocabulary import Approach, Cause, Nature
    from desktop_app.services.cases import Triage
    from desktop_app.ui.app import make_application
    from desktop_app.ui.calendar import CalendarPage
    from desktop_app.ui.screen import SMALLEST_SCREEN
    from desktop_app.ui.theme import STYLE_SHEET

    if QApplication.instance().styleSheet() != STYLE_SHEET:
        make_application()  # the application's fonts and style sheet decide the sizes
    page_area = QSize(SMALLEST_SCREEN.width() - 200, SMALLEST_SCREEN.height() - 80)
    city.site.save_department(
        city_admin, name="开封市人力资源和社会保障局劳动保障监察支队", principal_leader="王主任"
    )
    services.intake.register(admin, person_form())
    city.sync.import_file(city_admin, services.sync.export(admin, stick).path)
    now = clock.at
    clock.at = datetime(2026, 10, 9, 9, 30)  # a case triaged in October, overdue since
    late = city.intake.register(city_admin, person_form(name="赵六"))
    triage = Triage(Nature.WONT, Approach.ORDER, (Cause.ATTITUDE,), "医保社保")
    city.cases.triage(city_admin, late.case_id, triage)
    clock.at = now
    context = UiContext(city, city_admin, ChangeHub(), TaskRunner())
    calendar = CalendarPage(context)
    qtbot.addWidget(calendar)
    calendar.resize(page_area)
    calendar.show()
    qtbot.waitUntil(lambda: calendar.board.filter_choices is not None and not calendar.is_loading)
    qtbot.waitUntil(lambda: calendar.board.site_filter.isVisibleTo(calendar))
    qtbot.waitUntil(lambda: calendar.board.earlier_button.isVisibleTo(calendar))

    hint = calendar.minimumSizeHint()
    assert hint.width() <= page_area.width() and hint.height() <= page_area.height(), hint
    calendar.resize(page_area)
    qtbot.waitUntil(lambda: calendar.size() == page_area)
    shown = QRect(0, 0, page_area.width(), page_area.height())
    for widget in (
        calendar.board.site_filter,
        calendar.board.department_filter,
        calendar.board.kind_filter,
        calendar.board.mine_only,
        calendar.board.export_button,
        calendar.board.next_button,
    ):
        corner = widget.mapTo(calendar, widget.rect().topLeft())
        assert shown.contains(QRect(corner, widget.size())), widget
    context.runner.wait()


def test_the_file_choosers_open_where_the_last_one_chose_not_in_the_programs_folder(
    qtbot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """They opened in the working folder (the program's): a clerk saved the identity file
    there. At first the user's documents; then wherever the last choice was (the stick)."""
    import os

    from PySide6.QtWidgets import QFileDialog, QWidget

    from desktop_app.ui.exchange.widgets import FileDialogs

    parent = QWidget()
    qtbot.addWidget(parent)
    asked: list[str] = []
    stick = tmp_path / "U盘"
    stick.mkdir()

    def save(_parent, _caption, start, _filter):  # what a person picks in the dialog
        asked.append(start)
        return str(stick / Path(start).name), ""

    def open_files(_parent, _caption, start, _filter):
        asked.append(start)
        return [str(stick / "杞县.bbcs")], ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save))
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(open_files))
    dialogs = FileDialogs()
    chosen = dialogs.save_file(parent, "导出本站身份文件", "410200-身份.json", "*.json")
    assert chosen == str(stick / "410200-身份.json")
    assert Path(asked[0]).name == "410200-身份.json"
    start = Path(asked[0]).parent
    assert start.is_absolute() and start != Path(os.getcwd())  # not the program's folder
    dialogs.open_files(parent, "选择县区数据包", "*.bbcs")
    assert asked[1] == str(stick)  # where the last choice was
