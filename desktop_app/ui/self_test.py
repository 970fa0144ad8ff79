"""``bbcs self-test``: prove an installation has everything it needs, without a person.

Runs offscreen against a throw-away data dir: sets up a site (keys included), registers and
triages a case, signs a 交办单 and renders it with the bundled fonts, verifies its QR payload,
exports a bundle that a throw-away city site imports and acknowledges, then opens the main
window and every screen, the case dialog and the slip preview. Meant for a
packaged build (a missing Qt plugin, font, translation or migration shows up here), and cheap
enough to run in CI.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

STEP_OK = "✔"
STEP_FAILED = "✘"


def run_self_test(out: Callable[[str], None] = print) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bbcs-self-test-") as folder:
        try:
            _run(Path(folder) / "数据 目录", out)
        except Exception:  # report which step broke, with the traceback, and fail
            out(f"{STEP_FAILED} 自检失败：")
            out(traceback.format_exc())
            return 1
    out(f"{STEP_OK} 自检通过（{time.perf_counter() - started:.1f} 秒）")
    return 0


def _exchange(services: object, folder: Path, step: Callable[[str], None]) -> None:
    """Export a bundle for a throw-away city site, import it there, and bring the ack back."""
    from desktop_app.domain.vocabulary import SiteLevel
    from desktop_app.services.app import AppServices, open_services

    assert isinstance(services, AppServices)
    actor = services.auth.login("admin", "SelfTest2026")  # both sites' administrator is "admin"
    city = open_services(folder / "市级 自检")
    try:
        city.site.init_site(
            code="410200",
            name="自检市级站点",
            short_name="市自检",
            level=SiteLevel.CITY,
            admin_password="SelfTest2026",
        )
        ids = folder / "ids"
        ids.mkdir()
        for site, other in ((services, city), (city, services)):
            path = ids / f"{site.site.info().code}.json"
            site.sync.write_identity(path)  # as 导出本站身份文件 / bbcs keys export
            other.sync.trust(actor, other.sync.read_identity(path))
        stick = folder / "U盘"
        stick.mkdir()
        sent = services.sync.export(actor, stick)
        report = city.sync.import_file(actor, sent.path)
        if report.refused or report.added["cases"] != 1:
            raise RuntimeError(f"the city did not import the bundle: {report.summary()}")
        again = city.sync.import_file(actor, sent.path)
        if again.totals()["added"] or again.totals()["updated"]:
            raise RuntimeError("importing the same bundle twice changed something")
        ack = services.sync.import_file(actor, Path(report.ack_path))
        if ack.refused or services.sync.status().last_acked_at is None:
            raise RuntimeError(f"the acknowledgement did not close the loop: {ack.summary()}")
    finally:
        city.close()
    step(f"数据包导出、市级导入与回执（{sent.size // 1024} KB，签名加密）")


def _run(data_dir: Path, out: Callable[[str], None]) -> None:
    from PySide6.QtCore import QEventLoop, QTimer, qVersion

    from desktop_app.domain.intake_rules import IntakeForm
    from desktop_app.domain.vocabulary import (
        Approach,
        Cause,
        Channel,
        ComplainantKind,
        Nature,
        Role,
        SiteLevel,
    )
    from desktop_app.services.app import open_services
    from desktop_app.services.cases import Triage
    from desktop_app.services.ledger import CaseFilter
    from desktop_app.ui.app import make_application
    from desktop_app.ui.common import ChangeHub, TaskRunner, UiContext
    from desktop_app.ui.theme import install_fonts

    def step(text: str) -> None:
        out(f"{STEP_OK} {text}")

    app = make_application()
    family = install_fonts(app)
    step(f"Qt {qVersion()}，界面字体：{family}")

    services = open_services(data_dir)
    try:
        services.site.init_site(
            code="410221",
            name="自检站点",
            short_name="自检",
            level=SiteLevel.COUNTY,
            admin_password="SelfTest2026",
            window_phone="0378-2961234",
        )
        step("数据库迁移、站点初始化、签名密钥")
        admin = services.auth.login("admin", "SelfTest2026")
        services.auth.create_user(
            admin,
            username="leader",
            display_name="带班领导",
            role=Role.DUTY_LEADER,
            password="SelfTest2026",
        )
        leader = services.auth.login("leader", "SelfTest2026")
        department, _ = services.site.save_department(admin, name="自检县医疗保障局")
        form = IntakeForm(
            complainant_kind=ComplainantKind.PERSON,
            name="王芳",
            id_number="11010519491231002X",
            phone="13812345678",
            title="医保结算查不到参保信息",
            description="自检：办理医保结算时被告知查不到参保信息，已往返三次。",
            area="医保社保",
            channel=Channel.WINDOW,
        )
        result = services.intake.register(admin, replace(form))
        found = services.ledger.ids(CaseFilter(text="王芳"))
        if found != [result.case_id]:
            raise RuntimeError(f"search did not find the case: {found}")
        step(f"受理登记与检索：{result.number}")
        services.cases.triage(
            admin, result.case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
        )
        ids, _ = services.assignments.create(
            admin,
            result.case_id,
            department_id=department.id,
            requirements="自检：请于规定时限内办理并书面反馈。",
        )
        number, _ = services.assignments.issue(leader, ids[0])
        pdf = services.assignments.slip_pdf(leader, number)
        if not pdf.startswith(b"%PDF"):
            raise RuntimeError("the slip is not a PDF")
        _info, content = services.assignments.slip_content(number)
        check = services.assignments.verify(content.qr_payload)
        if not check.valid:
            raise RuntimeError(check.message)
        receipt = services.assignments.receipt_pdf(result.case_id)
        step(f"交办单 {number}（{len(pdf) // 1024} KB）、受理回执、二维码核验")
        due = services.calendar.calendar().add(date(2026, 9, 30), 3).due
        if due != date(2026, 10, 10):
            raise RuntimeError(f"working-day calendar is wrong: {due}")
        step("工作日计算（国庆节与调休）")
        _exchange(services, data_dir.parent, step)

        from desktop_app.ui.main_window import MainWindow
        from desktop_app.ui.slip_preview import SlipPreviewDialog

        context = UiContext(services, leader, ChangeHub(), TaskRunner())

        def settle() -> None:
            for _ in range(3):
                context.runner.wait(10_000)
                loop = QEventLoop()
                QTimer.singleShot(20, loop.quit)
                loop.exec()

        window = MainWindow(context)
        window.show()
        settle()
        for row in range(window.navigation.count()):
            window.navigation.setCurrentRow(row)
            settle()
        step(f"主窗口与 {window.navigation.count()} 个页面")
        dialog = window.open_case(result.case_id)
        if dialog is None:
            raise RuntimeError("the case dialog did not open")
        settle()
        dialog.close()
        preview = SlipPreviewDialog(context, receipt, "受理回执")
        preview.show()
        settle()
        pages = preview.document.pageCount()
        preview.close()
        if pages < 1:
            raise RuntimeError("QtPdf could not show the receipt")
        step("事项详情、PDF 预览（QtPdf）")
        window.close()
        settle()
    finally:
        services.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run_self_test())
