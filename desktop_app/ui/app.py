"""Starting the window: one instance per data dir, migrate, set up or log in, main window."""

from __future__ import annotations

import logging
import shutil
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QMessageBox

from desktop_app import APP_TITLE, __version__
from desktop_app.errors import UserError
from desktop_app.logs import setup_logging
from desktop_app.paths import resources_dir
from desktop_app.services.app import AppServices, instance_lock, open_services
from desktop_app.services.site import KEYS_WITHOUT_SITE
from desktop_app.system.memory import return_large_blocks_when_freed
from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
from desktop_app.ui.startup import LoginDialog, SetupDialog
from desktop_app.ui.theme import apply_style, install_fonts, install_translations
from desktop_app.ui.wheel_guard import install_wheel_guard

log = logging.getLogger(__name__)


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication with Chinese translations, fonts and style (reused if one exists)."""
    return_large_blocks_when_freed()  # or an import's memory stays with the window (Linux)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv or sys.argv[:1])
    app.setApplicationName("bbcs")
    app.setApplicationDisplayName(APP_TITLE)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("bbcs")
    icon = resources_dir() / "icons" / "bbcs.png"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    install_translations(app)
    install_fonts(app)
    apply_style(app)
    install_wheel_guard(app)
    return app


def _install_excepthook() -> None:
    """A bug in a slot is logged and shown; it does not silently kill the window."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        log.error("uncaught: %s", "".join(traceback.format_exception(kind, exc, tb)))
        if QApplication.instance() is not None:
            QMessageBox.critical(
                None,
                "程序错误",
                "程序遇到了一个意外错误，已保存的数据不受影响。\n"
                f"详情已写入日志，请发给维护人员。\n\n{kind.__name__}: {exc}",
            )

    sys.excepthook = hook


OPENING_NOTICE_AFTER_MS = 500


def open_showing_progress(data_dir: Path, *, db_url: str | None = None) -> AppServices:
    """``open_services`` on a thread of its own while the event loop runs.

    Opening is quick, except the first time after an upgrade: the numbers already stored are
    sealed, every record digested and the old history masked (about a minute at 100,000 cases).
    After half a second a small window says so, and the program answers meanwhile.
    """
    opened: list[AppServices] = []
    failed: list[BaseException] = []

    def work() -> None:
        try:
            opened.append(open_services(data_dir, db_url=db_url))
        except BaseException as exc:  # handed back to the caller on the UI thread
            failed.append(exc)

    worker = threading.Thread(target=work, name="bbcs-open", daemon=True)
    notice = QLabel(
        "正在打开数据库……\n\n升级到新版本后第一次打开时，要加密已有的身份证号和电话、"
        "校验每一条记录，事项多时需要一两分钟，请勿关闭。"
    )
    notice.setWindowTitle(APP_TITLE)
    notice.setWordWrap(True)
    notice.setMargin(24)
    notice.setMinimumWidth(420)
    # Closing the notice (the only window yet) must not quit the program half-way through opening.
    notice.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)
    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(50)
    poll.timeout.connect(lambda: None if worker.is_alive() else loop.quit())

    def show_notice() -> None:
        if worker.is_alive():
            notice.show()

    QTimer.singleShot(OPENING_NOTICE_AFTER_MS, show_notice)
    worker.start()
    poll.start()
    loop.exec()
    poll.stop()
    worker.join()
    notice.close()
    if failed:
        raise failed[0]
    return opened[0]


def run_gui(data_dir: Path, *, db_url: str | None = None, chosen: bool = False) -> int:
    """The window on ``data_dir``; ``chosen``: named by --data-dir or BBCS_DATA_DIR (not the
    installation's default), so a folder not there is asked about before anything is made."""
    from desktop_app.ui.xcb_check import check as check_xcb

    problem = check_xcb()  # before Qt's own misleading "xcb-cursor0 is needed"
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    created = not data_dir.exists()
    app = make_application()
    if created and chosen and db_url is None and not _make_new_site_here(data_dir):
        return 2
    setup_logging(data_dir)
    _install_excepthook()
    lock = instance_lock(data_dir)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except (UserError, OSError) as exc:
        message = exc.message if isinstance(exc, UserError) else f"无法使用数据目录：{exc}"
        QMessageBox.warning(None, APP_TITLE, message)
        return 2
    services: AppServices | None = None
    try:
        try:
            services = open_showing_progress(data_dir, db_url=db_url)
        except UserError as exc:
            QMessageBox.critical(None, APP_TITLE, exc.message)
            return 2
        if not services.site.is_initialised():
            if services.site.has_keys_without_site():  # not a new site: a lost database
                QMessageBox.critical(None, APP_TITLE, KEYS_WITHOUT_SITE)
                return 2
            if SetupDialog(services).exec() != QDialog.DialogCode.Accepted:
                if created:  # made by this run for a site not set up: nothing is left behind
                    services.close()
                    services = None
                    lock.release()
                    _remove_unused(data_dir)
                return 0
        runner = TaskRunner()
        login = LoginDialog(services, runner=runner)  # the password is checked on the worker
        if login.exec() != QDialog.DialogCode.Accepted or login.actor is None:
            runner.wait()
            return 0
        from desktop_app.ui.main_window import MainWindow

        context = UiContext(services, login.actor, ChangeHub(), runner)
        window = MainWindow(context)
        window.logged_out.connect(app.quit)  # 注销, then the log-in cancelled
        if not services.db.is_sqlite:  # other seats' changes reach this window's views
            from desktop_app.ui.seat_watch import SeatWatch

            SeatWatch(
                services.change_watcher, runner, lambda c: window.context.hub.publish(c), window
            )
        if window.starts_maximized:
            window.showMaximized()
        else:
            window.show()
        return app.exec()
    finally:
        if services is not None:
            services.close()
        lock.release()


def _make_new_site_here(data_dir: Path) -> bool:
    """Asked when the data dir named on the command line is not there: a mistyped path made a
    new empty site (its database, keys, anchor), and on a disaster day a second site with the
    same code. 否 by default; nothing is made then."""
    answer = QMessageBox.question(
        None,
        APP_TITLE,
        f"数据文件夹“{data_dir}”不存在。\n\n要在这里新建一个站点吗？"
        "如果是路径写错了，请点“否”，改正 --data-dir 后重新打开。",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def _remove_unused(data_dir: Path) -> None:
    """The data dir this run made for a site whose setup was cancelled: removed (it holds no
    site: a database without one, an unused key, logs)."""
    root = logging.getLogger()
    for handler in list(root.handlers):  # its log file is in it (Windows cannot delete an
        name = getattr(handler, "baseFilename", "")  # open file)
        if name and Path(name).is_relative_to(data_dir.resolve()):
            root.removeHandler(handler)
            handler.close()
    shutil.rmtree(data_dir, ignore_errors=True)
