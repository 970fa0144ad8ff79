"""Render each main screen with demo data to PNG (``python tasks.py screenshots``).

Runs offscreen, logs in as the demo clerk (or the administrator), and waits for the worker so
the pictures show real figures, not "loading". Every picture is the whole screen of the commonest
office laptop, 1366×768: the main window fills it, and a dialog is shown where it opens, centred
over the window, at the size it takes on that screen.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QEventLoop, QPoint, QSize, QTimer
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication, QWidget

from desktop_app.domain.assignment_flow import AssignmentKind, AssignmentState
from desktop_app.domain.intake_rules import IntakeForm
from desktop_app.domain.vocabulary import CaseStatus, Role
from desktop_app.services.app import AppServices, open_services
from desktop_app.services.context import Actor
from desktop_app.services.ledger import CaseFilter
from desktop_app.ui.app import make_application
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext

# The commonest office laptop's screen, all of it (a picture has no taskbar).
SCREEN = QSize(1366, 768)
SIZE = (SCREEN.width(), SCREEN.height())
DESKTOP = QColor("#5d6d7e")  # behind the log-in dialog, where the desktop would be
DIM = QColor(0, 0, 0, 40)  # the window behind a modal dialog


def use_laptop_screen() -> None:
    """Make the offscreen platform's one screen 1366×768 (call before the QApplication exists),
    so that dialogs size themselves to it as they would on the laptop."""
    if QApplication.instance() is not None or os.name == "nt":
        return  # the platform is chosen; a Windows path cannot go into its argument
    if os.environ.get("QT_QPA_PLATFORM", "offscreen") != "offscreen":
        return
    screen = {"name": "1366x768", "x": 0, "y": 0, "width": SCREEN.width()}
    screen |= {"height": SCREEN.height(), "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}
    config = Path(tempfile.gettempdir()) / "bbcs-screenshots-screen.json"
    config.write_text(json.dumps({"screens": [screen], "windowFrameMargins": False}))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"


def settle(runner: TaskRunner | None = None, rounds: int = 6) -> None:
    """Let queued work finish and results paint."""
    for _ in range(rounds):
        if runner is not None:
            runner.wait(10_000)
        loop = QEventLoop()
        QTimer.singleShot(30, loop.quit)
        loop.exec()
        QCoreApplication.processEvents()


def fill_screen(window: QWidget) -> None:
    """The main window as large as the laptop's screen."""
    window.resize(*SIZE)


def screen_image(window: QWidget | None, dialog: QWidget | None = None) -> QImage:
    """What the laptop's screen shows: the window filling it, and ``dialog`` (if any) centred
    over it at the size it opened at."""
    image = QImage(SCREEN, QImage.Format.Format_RGB32)
    image.fill(DESKTOP)
    painter = QPainter(image)
    if window is not None:
        painter.drawPixmap(QPoint(0, 0), window.grab())
    if dialog is not None:
        if window is not None:
            painter.fillRect(image.rect(), DIM)
        picture = dialog.grab()
        corner = QPoint(
            max(0, (SCREEN.width() - picture.width()) // 2),
            max(0, (SCREEN.height() - picture.height()) // 2),
        )
        painter.fillRect(picture.rect().translated(corner + QPoint(3, 4)), QColor(0, 0, 0, 70))
        painter.drawPixmap(corner, picture)
        painter.setPen(QColor("#34495e"))
        painter.drawRect(picture.rect().translated(corner).adjusted(-1, -1, 0, 0))
    painter.end()
    return image


def misfits(window: QWidget | None, dialog: QWidget | None = None) -> list[str]:
    """What does not fit the screen: a dialog larger than it, a window that is not all of it."""
    found = []
    if dialog is not None and (
        dialog.width() > SCREEN.width() or dialog.height() > SCREEN.height()
    ):
        found.append(f"对话框 {dialog.width()}×{dialog.height()}")
    if window is not None and window.size() != SCREEN:
        found.append(f"主窗口 {window.width()}×{window.height()}")
    return found


# Pictures whose window or dialog did not fit the screen (named at the end, and the run fails).
too_big: list[str] = []


def save(window: QWidget | None, path: Path, dialog: QWidget | None = None) -> None:
    """Save the screen as it looks; note a window or dialog that does not fit it."""
    too_big.extend(f"{path.name}: {problem}" for problem in misfits(window, dialog))
    screen_image(window, dialog).save(str(path))
    print(f"  {path}")


def log_in(services: AppServices) -> Actor:
    from desktop_app.errors import UserError
    from desktop_app.services.demo import DEMO_PASSWORD

    for username, password in (("clerk1", DEMO_PASSWORD), ("admin", "Admin12345")):
        try:
            return services.auth.login(username, password)
        except UserError:
            continue
    raise SystemExit("No demo login works on this data dir; run `python tasks.py run` first.")


def render(data_dir: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    app = make_application()
    services = open_services(data_dir)
    actor = log_in(services)
    context = UiContext(services, actor, ChangeHub(), TaskRunner())

    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.startup import LoginDialog

    login = LoginDialog(services)
    login.username.setText("clerk1")
    login.show()
    settle()
    save(None, out / "00-login.png", login)
    login.close()

    window = MainWindow(context)
    fill_screen(window)
    window.show()
    window.wait_for_workers()  # the dashboard's charts come from a worker of their own
    settle(context.runner)

    shots: list[tuple[str, str, Callable[[], None]]] = [
        ("01-dashboard.png", "工作台", lambda: None),
        ("02-intake.png", "受理登记", lambda: _fill_intake(window)),
        ("03-intake-errors.png", "受理登记", lambda: _intake_errors(window)),
        ("04-ledger.png", "事项台账", lambda: window.ledger.reset_filters()),
        ("05-ledger-search.png", "事项台账", lambda: _search(window, "医保")),
        ("06-calendar.png", "期限日历", lambda: window.calendar.show_list("due_today")),
        ("06-calendar-overdue.png", "期限日历", lambda: window.calendar.show_list("overdue")),
        ("06-calendar-october.png", "期限日历", lambda: window.calendar.show_month(2026, 10)),
        ("06-calendar-roster.png", "期限日历", lambda: window.calendar.tabs.setCurrentIndex(1)),
        ("06-calendar-holidays.png", "期限日历", lambda: window.calendar.tabs.setCurrentIndex(2)),
        ("07-settings.png", "系统设置", lambda: None),
    ]
    for filename, page, prepare in shots:
        window.go_to(page)
        if page == "期限日历":
            window.calendar.tabs.setCurrentIndex(0)
            window.calendar.go_today()
            settle(context.runner)
        prepare()
        settle(context.runner)
        save(window, out / filename)

    window.go_to("事项台账")
    window.ledger.reset_filters()
    settle(context.runner)
    case_id = _richest_case(services)
    dialog = window.open_case(case_id)
    if dialog is not None:
        settle(context.runner)
        for index in range(dialog.tabs.count()):
            dialog.tabs.setCurrentIndex(index)
            settle(context.runner)
            save(window, out / f"08-case-{index}-{dialog.tabs.tabText(index)}.png", dialog)
            if dialog.tabs.tabText(index) == "办理记录":  # the README's picture of a case
                save(window, out / "08-case-timeline.png", dialog)
        dialog.close()
        settle(context.runner)

    open_case = _case_with_open_assignment(services)
    if open_case is not None:
        dialog = window.open_case(open_case)
        if dialog is not None:
            settle(context.runner)
            dialog.tabs.setCurrentIndex(dialog.tabs.indexOf(dialog.assignments))
            settle(context.runner)
            save(window, out / "09-case-assignments.png", dialog)
            dialog.close()
            settle(context.runner)
        _slip_preview(context, window, out)

    window.go_to("交办单")
    settle(context.runner)
    save(window, out / "11-slips.png")
    window.close()
    settle(context.runner)
    services.close()
    _exchange(data_dir, out)
    app.quit()
    if too_big:
        raise SystemExit("Larger than the 1366×768 screen:\n  " + "\n  ".join(too_big))


# 数据交换 --------------------------------------------------------------------------------------

DEMO_CITY = {"code": "410200", "name": "开封市办不成事监督窗口", "short_name": "开封市"}
DEMO_CITY_PASSWORD = "Admin12345"


def _exchange(data_dir: Path, out: Path) -> None:
    """The 数据交换 screens of the demo county and of a demo city that trusts it.

    Works on a copy of the demo county in a temporary folder, so taking screenshots never
    changes the demo data: the copy and a new city exchange real bundles on a "U盘" folder.
    """
    from desktop_app.domain.vocabulary import SiteLevel
    from desktop_app.ui.main_window import MainWindow

    with tempfile.TemporaryDirectory(prefix="bbcs-exchange-") as temp:
        root = Path(temp)
        shutil.copytree(
            data_dir, root / "county", ignore=shutil.ignore_patterns("*.lock", "logs", "backups")
        )
        county = open_services(root / "county")
        city = open_services(root / "city")
        try:
            city.site.init_site(
                **DEMO_CITY, level=SiteLevel.CITY, admin_password=DEMO_CITY_PASSWORD, is_demo=True
            )
            stick, inbox = root / "U盘", root / "收件箱"
            stick.mkdir()
            inbox.mkdir()
            ack = _exchange_history(county, city, stick)

            county_context = UiContext(county, log_in(county), ChangeHub(), TaskRunner())
            window = MainWindow(county_context)
            fill_screen(window)
            window.show()
            window.go_to("数据交换")
            page = window.exchange
            settle(county_context.runner)
            # the city's acknowledgement, brought back on the stick
            page.receive.start_import([ack])
            settle(county_context.runner)
            if page.receive.import_preview is not None:
                page.receive.import_preview.confirm_button.click()
                settle(county_context.runner)
            page.send.target.set_folder(str(stick))
            page.send.export_bundle()  # a second bundle, not acknowledged yet
            settle(county_context.runner)
            save(window, out / "12-exchange-county.png")
            page.tabs.setCurrentIndex(page.tabs.count() - 2)
            settle(county_context.runner)
            save(window, out / "12-exchange-county-history.png")
            window.close()
            settle(county_context.runner)

            pending = sorted(stick.glob("*.bbcs"))[-1]
            county.sync.export(_admin(), inbox)  # waiting in the city's shared inbox
            tampered = stick / "bbcs-410221-损坏.bbcs"
            data = bytearray(pending.read_bytes())
            data[len(data) // 2] ^= 0x01
            tampered.write_bytes(bytes(data))
            city.sync.set_inbox(_admin(), str(inbox))
            city.sync.export(_admin(), stick)  # reference data for the counties

            city_actor = city.auth.login("admin", DEMO_CITY_PASSWORD)
            city_context = UiContext(city, city_actor, ChangeHub(), TaskRunner())
            window = MainWindow(city_context)
            fill_screen(window)
            window.show()
            window.go_to("数据交换")
            page = window.exchange
            settle(city_context.runner)
            page.receive.start_import([pending, tampered])
            settle(city_context.runner)
            if page.receive.import_preview is not None:
                preview = page.receive.import_preview
                save(window, out / "13-exchange-city-preview.png", preview)
                preview.confirm_button.click()
                settle(city_context.runner)
            save(window, out / "13-exchange-city.png")
            page.tabs.setCurrentIndex(page.tabs.count() - 1)
            settle(city_context.runner)
            save(window, out / "13-exchange-city-sites.png")
            window.close()
            settle(city_context.runner)
        finally:
            county.close()
            city.close()


def _admin() -> Actor:
    """Either demo site's administrator (services check the role and audit the name)."""
    return Actor(None, "admin", "管理员", Role.ADMIN)


def _exchange_history(county: AppServices, city: AppServices, stick: Path) -> Path:
    """Pair the sites and send one bundle up; returns the city's acknowledgement file."""
    admin = _admin()
    for services, other in ((county, city), (city, county)):
        info = other.site.info()
        identity = other.keys.identity(info.code, info.name, info.level.value)
        current = services.sync.status().city
        if current is not None and current.code != info.code:
            services.sync.revoke(admin, current.code, "截图用的演示市级站点")
        services.sync.trust(admin, identity, replace=True)
    bundle = county.sync.export(admin, stick)
    report = city.sync.import_file(admin, bundle.path)
    county.intake.register(admin, _new_case())  # something new for the next bundle
    return Path(report.ack_path)


def _new_case() -> IntakeForm:
    from desktop_app.domain.vocabulary import Channel

    return IntakeForm(
        name="赵秀兰",
        phone="13937812345",
        title="新生儿落户被要求开具无法开具的证明",
        description="为孩子办理落户时，派出所要求提供出生医学证明补发记录，医院称无法开具。",
        area="其他",
        channel=Channel.WINDOW,
    )


def _fill_intake(window: object) -> None:
    from desktop_app.ui.main_window import MainWindow

    assert isinstance(window, MainWindow)
    page = window.intake
    page.clear()
    page.name.setText("王芳")
    page.id_number.setText("11010519491231002X")
    page.phone.setText("138 1234 5678")
    page.title.setText("医保结算查不到参保信息")
    page.description.setPlainText(
        "在县人民医院为外甥女办理住院医保结算时，被告知查不到参保信息；"
        "先后去县卫健委、乡政府咨询，均未解决，已往返三次。"
    )
    page.area.setCurrentIndex(page.area.findData("医保社保"))
    page.visits_count.setValue(3)
    page.stuck_at.setText("县人民医院医保结算窗口")
    page._look_up_related()


def _intake_errors(window: object) -> None:
    from desktop_app.ui.main_window import MainWindow

    assert isinstance(window, MainWindow)
    page = window.intake
    page.clear()
    page.name.setText("李强")
    page.id_number.setText("110105194912310021")
    page.phone.setText("2345678")
    page.save()


def _search(window: object, text: str) -> None:
    from desktop_app.ui.main_window import MainWindow

    assert isinstance(window, MainWindow)
    window.ledger.show_filter(CaseFilter(text=text))


def _case_with_open_assignment(services: AppServices) -> int | None:
    """The case of the newest slip whose lead department has signed for it (已签收)."""
    seen: set[int] = set()
    for _slip, case_id, _number, _title in services.assignments.recent_slips(limit=100):
        if case_id in seen:
            continue
        seen.add(case_id)
        for assignment in services.assignments.for_case(case_id):
            if (
                assignment.kind is AssignmentKind.ASSIGN
                and assignment.state is AssignmentState.RECEIVED
            ):
                return case_id
    return None


def _slip_preview(context: UiContext, window: QWidget, out: Path) -> None:
    """The real slip PDF in the preview dialog (rendered from the stored content, so taking
    the screenshot does not count as a print)."""
    from desktop_app.documents.slip_content import PaperKind
    from desktop_app.documents.slip_pdf import render_slip
    from desktop_app.ui.slip_preview import SlipPreviewDialog

    assignments = context.services.assignments
    slips = [slip for slip, *_case in assignments.recent_slips(limit=100)]
    number = next((slip.number for slip in slips if slip.kind is PaperKind.ASSIGN), None)
    if number is None:
        return
    _info, content = assignments.slip_content(number)
    preview = SlipPreviewDialog(context, render_slip(content), content.number, window)
    preview.show()
    settle(context.runner)
    save(window, out / "10-slip-preview.png", preview)
    preview.close()


def _richest_case(services: AppServices) -> int:
    """A case with a long history (reopened after a visit, if the demo has one): the longest
    timeline among the newest visited and open cases."""
    candidates: list[int] = []
    for status in (CaseStatus.IN_PROGRESS, CaseStatus.VISITED, CaseStatus.CONCLUDED):
        candidates += services.ledger.ids(CaseFilter(statuses=(status,)), limit=80)
    if not candidates:
        candidates = services.ledger.ids(limit=1)
    if not candidates:
        raise SystemExit("The demo data dir has no cases.")
    lengths = {case_id: len(services.cases.detail(case_id).timeline) for case_id in candidates}
    return max(candidates, key=lambda case_id: (lengths[case_id], case_id))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render bbcs screens to PNG")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--out", default="screenshots")
    args = parser.parse_args(argv)
    print(f"Rendering screens at {SCREEN.width()}×{SCREEN.height()} to {args.out}:")
    use_laptop_screen()
    render(Path(args.data_dir), Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
