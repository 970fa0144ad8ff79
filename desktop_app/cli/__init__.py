"""The ``bbcs`` command (DESIGN.md §8). Without a subcommand it opens the window.

Subcommands call the same services as the GUI. Bad input prints a Chinese message on stderr and
exits 2; a bug exits 1 after logging its traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from desktop_app import __version__
from desktop_app.domain.permissions import Permission
from desktop_app.errors import EnvironmentProblem, UserError
from desktop_app.logs import setup_logging
from desktop_app.paths import DATA_DIR_ENV, DataLayout, resolve_data_dir

if TYPE_CHECKING:
    from desktop_app.services.context import Actor

log = logging.getLogger("bbcs")

EXIT_USER_ERROR = 2
EXIT_BUG = 1


# argparse's own complaints, in the words the rest of bbcs uses (a walk met "invalid int value").
_ARGPARSE_WORDS: tuple[tuple[str, str], ...] = (
    ("the following arguments are required: ", "缺少参数："),
    ("unrecognized arguments: ", "不认识的参数："),
    ("invalid int value: ", "应为整数，收到 "),
    ("invalid float value: ", "应为数字，收到 "),
    ("invalid choice: ", "无效的选项 "),
    ("(choose from ", "（可选："),
    ("expected one argument", "后面需要一个值"),
    ("not allowed with argument ", "不能与此同用："),
    ("argument ", "参数 "),
)


class _Parser(argparse.ArgumentParser):
    """argparse with its errors in Chinese, as every other bbcs error (exit 2, on stderr)."""

    def error(self, message: str) -> NoReturn:
        for english, chinese in _ARGPARSE_WORDS:
            message = message.replace(english, chinese)
        self.print_usage(sys.stderr)
        self.exit(2, f"错误：{message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="bbcs",
        description="「办不成事」监督窗口工作台。不带子命令时打开图形界面。",
    )
    parser.add_argument("--version", action="version", version=f"bbcs {__version__}")
    parser.add_argument(
        "--data-dir",
        help="数据目录（数据库、材料、备份、密钥）；也可用环境变量 BBCS_DATA_DIR",
    )
    parser.add_argument(
        "--db-url",
        default=os.environ.get("BBCS_DB_URL") or None,
        help="数据库地址（默认为数据目录下的 SQLite；市级可用 "
        "postgresql+psycopg://用户:密码@主机/库名）；也可用环境变量 BBCS_DB_URL",
    )
    parser.add_argument(
        "--user",
        default=os.environ.get("BBCS_USER") or None,
        help="以哪位用户的身份执行（改动数据或显示个人信息的命令须登录）；密码取自环境变量 "
        "BBCS_PASSWORD 或提示输入；也可用环境变量 BBCS_USER",
    )
    sub = parser.add_subparsers(dest="command", metavar="子命令")

    p = sub.add_parser("init", help="初始化站点（管理员密码取自 BBCS_ADMIN_PASSWORD 或提示输入）")
    p.add_argument("--site-code", required=True, help="6位行政区划代码，如 410221")
    p.add_argument("--site-name", required=True, help="站点名称，如 杞县办不成事监督窗口")
    p.add_argument("--short-name", default="", help="站点简称，用于事项编号，如 杞县")
    p.add_argument("--level", required=True, choices=["county", "city"], help="county 或 city")
    p.add_argument("--admin-user", default="admin", help="管理员用户名（默认 admin）")
    p.add_argument("--window-phone", default="", help="窗口咨询电话（印在交办单和回执上）")
    p.add_argument(
        "--recovery-key",
        metavar="FILE",
        help="同时导出恢复密钥到此文件（建议U盘），并在旁边生成可打印的恢复密钥纸（.pdf）",
    )

    p = sub.add_parser("demo", help="生成演示数据（部门、人员、近两年的事项）")
    p.add_argument("--cases", type=int, default=500, help="事项数量（默认 500）")
    p.add_argument("--seed", type=int, default=20261125, help=argparse.SUPPRESS)

    p = sub.add_parser(
        "intake", help="批量受理登记（JSON、CSV，或 Excel 旧台账），全部通过校验才导入"
    )
    p.add_argument(
        "--from", dest="source", required=True, help="文件路径 F.json、F.csv 或旧台账 F.xlsx"
    )
    p.add_argument("--sheet", default="", help="旧台账的工作表名（默认：第一个有表头的）")
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="列名=字段",
        help="旧台账中未能识别的列对应哪一项，如 --map 问题摘要=反映事项；--map 备注=忽略",
    )
    p.add_argument("--json", action="store_true", help="以 JSON 输出结果")

    p = sub.add_parser("cases", help="列出事项")
    p.add_argument("--search", default="", help="按编号、姓名、事项、具体情况中的任意文字查找")
    p.add_argument(
        "--status",
        choices=["registered", "in_progress", "concluded", "visited", "withdrawn", "screened_out"],
        help="按状态筛选",
    )
    p.add_argument("--site", default="", help="只列出某站点（县区）的事项，如 410221（市级用）")
    p.add_argument("--limit", type=int, default=0, help="最多列出多少条（默认全部）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")

    p = sub.add_parser("check", help="检查数据库完整性和审计日志链")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")

    p = sub.add_parser("workdays", help="工作日计算（期限引擎）")
    wsub = p.add_subparsers(dest="workdays_command", metavar="操作", required=True)
    w = wsub.add_parser("add", help="从某日起加 N 个工作日，如 add 2026-09-30 3")
    w.add_argument("start", help="起算日期 YYYY-MM-DD（当天不计）")
    w.add_argument("days", type=int, help="工作日数")
    w.add_argument("--json", action="store_true", help="输出 JSON（含计算依据）")
    w = wsub.add_parser("between", help="两个日期之间的工作日数，如 between 2026-09-30 2026-10-10")
    w.add_argument("start", help="起始日期 YYYY-MM-DD（当天不计）")
    w.add_argument("end", help="截止日期 YYYY-MM-DD（当天计入）")
    w.add_argument("--json", action="store_true", help="输出 JSON（含计算依据）")
    w = wsub.add_parser(
        "import", help="导入节假日安排（CSV：日期,是否上班,名称），如国务院公布的下一年安排"
    )
    w.add_argument("file", help="CSV 文件")
    w.add_argument(
        "--complete-year",
        type=int,
        action="append",
        default=[],
        help="该文件完整包含这一年的安排（可重复）；此后该年的期限不再标为暂定",
    )

    p = sub.add_parser("slip", help="输出事项的交办单 PDF（默认最近签发的一张）")
    p.add_argument("case_number", help="事项编号，如 杞县-2026-0012")
    p.add_argument("--out", required=True, help="输出的 PDF 文件")
    p.add_argument("--slip", default="", help="交办单编号（不填则为该事项最近签发的一张）")

    p = sub.add_parser("receipt", help="输出事项的受理回执 PDF")
    p.add_argument("case_number", help="事项编号")
    p.add_argument("--out", required=True, help="输出的 PDF 文件")

    p = sub.add_parser("verify-slip", help="核验交办单或受理回执的二维码内容")
    p.add_argument("payload", help="扫描二维码得到的文字（BBCS1|…）")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("keys", help="本站点的签名密钥")
    ksub = p.add_subparsers(dest="keys_command", metavar="操作", required=True)
    ksub.add_parser("show", help="显示公钥指纹（可电话核对）")
    k = ksub.add_parser("export", help="导出本站点的公开身份文件")
    k.add_argument("--out", required=True)
    k = ksub.add_parser("trust", help="登记另一站点（市级登记县区，县区登记市级）的身份文件")
    k.add_argument("file", help="对方用 bbcs keys export 导出的身份文件")
    k.add_argument(
        "--replace", action="store_true", help="对方已更换密钥：用新文件替换已登记的公钥"
    )
    k.add_argument(
        "--fingerprint",
        default="",
        help="对方电话告知的指纹（如 3F2A-91C0-5B7E-0D44）：与文件不符则不登记",
    )
    k = ksub.add_parser("revoke", help="吊销已登记的站点：此后拒绝它的数据包")
    k.add_argument("site_code", help="站点代码")
    k.add_argument("--reason", default="", help="吊销原因")
    ksub.add_parser(
        "rotate", help="更换本站点密钥（旧密钥保留用于核验旧交办单），之后须把新身份文件发给对方"
    )
    k = ksub.add_parser("list", help="列出已登记的站点和指纹")
    k.add_argument("--json", action="store_true")

    p = sub.add_parser(
        "export", help="导出数据包：县区导出给市级的数据，市级导出下发各县区的基础数据"
    )
    p.add_argument("--to", required=True, help="目标文件夹：U盘、共享文件夹（\\\\服务器\\共享）等")
    p.add_argument("--json", action="store_true", help="以 JSON 输出结果")

    p = sub.add_parser("import", help="导入数据包或回执（文件，或文件夹中全部未导入的）")
    p.add_argument("path", help="数据包（.bbcs）、回执（.bbcsack）或文件夹")
    p.add_argument("--dry-run", action="store_true", help="只检查，显示将新增、更新、忽略的记录")
    p.add_argument("--json", action="store_true", help="以 JSON 输出结果")

    p = sub.add_parser("backup", help="备份数据库")
    p.add_argument(
        "--to", help="备份到的文件夹（默认数据目录下的 backups；数据目录以外的备份会加密）"
    )

    p = sub.add_parser("restore", help="用备份恢复数据库（当前数据库先另存为恢复前备份）")
    p.add_argument("file", help="备份文件（.db，或 backup --to 写出的加密备份 .bbcsbak）")
    p.add_argument(
        "--other-site", action="store_true", help="允许恢复另一站点代码的备份（迁移站点时用）"
    )
    p.add_argument(
        "--recovery-key",
        help="恢复密钥文件（重装系统或换电脑后，数据目录中没有密钥时用）",
    )
    p.add_argument(
        "--unverified",
        action="store_true",
        help="恢复没有本站点校验值的备份（可能被改动过；仅在确认备份可信时用，审计日志会记下）",
    )

    p = sub.add_parser("recovery-key", help="恢复密钥：数据密钥和站点私钥，硬盘损坏或重装系统后用")
    rsub = p.add_subparsers(dest="recovery_key_command", metavar="操作", required=True)
    r = rsub.add_parser("export", help="导出恢复密钥文件（和可打印的恢复密钥纸），锁好保管")
    r.add_argument("--out", required=True, help="恢复密钥文件（存到U盘）")
    r.add_argument("--pdf", help="可打印的恢复密钥纸（PDF）")

    for module in _extensions():
        module.add_parsers(sub)

    sub.add_parser("gui", help="打开图形界面（与不带子命令相同）")
    sub.add_parser(
        "self-test", help="自检：在临时目录中离屏运行界面、签发并生成交办单，确认安装完整"
    )
    return parser


# Commands in modules of their own (issue 16's supervision): each has ``add_parsers(sub)``,
# ``COMMANDS`` (name -> handler) and ``PERMISSIONS`` (command name -> what the user needs).
# Imported by plain ``from ... import`` statements so that PyInstaller's analysis finds them
# (a name handed to ``importlib`` is invisible to it and the frozen program lacked them).
def _extensions() -> list[Any]:
    from desktop_app.cli import classes, ledger, meetings, referrals, reports, seats

    return [referrals, classes, meetings, ledger, reports, seats]


def _handler(command: str) -> Callable[[argparse.Namespace, Path], int]:
    if command in _COMMANDS:
        return _COMMANDS[command]
    for module in _extensions():
        if command in module.COMMANDS:
            handler: Callable[[argparse.Namespace, Path], int] = module.COMMANDS[command]
            return handler
    raise KeyError(command)


def _permission_for(command: str) -> Permission | None:
    if command in _PERMISSION_FOR:
        return _PERMISSION_FOR[command]
    for module in _extensions():
        permission: Permission | None = module.PERMISSIONS.get(command)
        if permission is not None:
            return permission
    return None


def main(argv: Sequence[str] | None = None) -> int:
    _utf8_console()
    parser = build_parser()
    args = parser.parse_args(argv)
    data_dir = resolve_data_dir(args.data_dir)
    if args.command == "self-test":
        # Never touches a real data dir: everything happens in a temporary folder.
        from desktop_app.ui.self_test import run_self_test

        status: int = run_self_test()
        return status
    if args.command in (None, "gui"):
        from desktop_app.ui.app import run_gui

        chosen = bool(args.data_dir or os.environ.get(DATA_DIR_ENV))
        exit_code: int = run_gui(data_dir, db_url=args.db_url, chosen=chosen)
        return exit_code
    handler = _handler(args.command)
    try:
        needs_site = _needs_site(args)
        if needs_site:
            try:
                _require_site(data_dir, args.db_url)
            except UserError as exc:
                if args.command != "restore":
                    raise
                raise UserError(
                    f"{exc.message}在新电脑上恢复请加 --recovery-key 恢复密钥文件"
                    "（管理员导出并锁进保密柜的那份）。"
                ) from exc
        # A command that needs no site logs in the data dir only if one is there to log in, or
        # it makes one (init; seat join, whose data dir on PostgreSQL holds no database file).
        in_use = (
            needs_site or args.command in ("init", "seat") or DataLayout(data_dir).database.exists()
        )
        setup_logging(data_dir if in_use else None)
        return handler(args, data_dir)
    except UserError as exc:
        print(f"错误：{exc.message}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("已取消", file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:
        # The reader went away (`bbcs cases --json | head`): not an error of ours.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stops the flush at exit failing
        return 0
    except Exception:
        log.exception("bbcs %s failed", args.command)
        print(
            "程序内部错误（已写入日志 logs/bbcs.log）。请把日志发给维护人员。",
            file=sys.stderr,
        )
        return EXIT_BUG


# Commands -----------------------------------------------------------------------------------


def _cmd_init(args: argparse.Namespace, data_dir: Path) -> int:
    from desktop_app.domain.vocabulary import SiteLevel

    password = os.environ.get("BBCS_ADMIN_PASSWORD") or _prompt_new_password()
    with _services(data_dir, args, lock=True, site=False) as services:
        info = services.site.init_site(
            code=args.site_code,
            name=args.site_name,
            short_name=args.short_name,
            level=SiteLevel(args.level),
            admin_password=password,
            admin_username=args.admin_user,
            window_phone=args.window_phone,
        )
        if args.recovery_key:
            out = Path(args.recovery_key)
            admin = services.auth.login(args.admin_user, password)
            services.backups.export_recovery_key(admin, out, out.with_suffix(".pdf"))
    print(f"站点已初始化：{info.code} {info.name}（{info.level.label}）")
    print(f"事项编号形如：{info.short_name}-{date.today().year}-0001")
    print(f"管理员用户名：{args.admin_user}")
    print(f"数据目录：{data_dir}")
    if args.recovery_key:
        print(
            f"恢复密钥已导出：{args.recovery_key}（可打印的恢复密钥纸在旁边，.pdf）。"
            "请打印后锁进保密柜，U盘另行保管。"
        )
    else:
        print(
            "请立即导出恢复密钥（身份证号、电话加密保存，硬盘损坏后没有它就无法打开）："
            "bbcs recovery-key export --out U盘上的文件 --pdf 恢复密钥纸.pdf"
        )
    return 0


def _cmd_demo(args: argparse.Namespace, data_dir: Path) -> int:
    from desktop_app.services.demo import DEMO_PASSWORD, DemoService
    from desktop_app.services.demo.supervision import add_supervision_demo

    if args.cases < 0 or args.cases > 1_000_000:
        raise UserError("--cases 应在 0 到 1000000 之间")
    with _services(data_dir, args, lock=True) as services:
        summary = DemoService(
            services.db, services.clock, services.keys, sealer=services.sealer
        ).generate(args.cases, seed=args.seed)
        supervision = add_supervision_demo(services)
    print(f"已生成演示数据：{summary.cases} 件事项，{summary.departments} 个部门")
    print(
        f"  另有监督办理示例：{supervision.cases} 件事项，{supervision.referrals} 条问责线索，"
        f"{supervision.classes} 个一类事，{supervision.meetings} 次联席会议"
    )
    for status, count in sorted(summary.by_status.items()):
        print(f"  {status}: {count}")
    print(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
    for login in summary.users:
        print(f"  {login.username:10} {login.display_name}（{login.role.label}）")
    return 0


def _cmd_intake(args: argparse.Namespace, data_dir: Path) -> int:
    from desktop_app.services.intake import BatchValidationFailed
    from desktop_app.services.intake_import import check_records, read_records
    from desktop_app.services.register_import import SUFFIXES

    if Path(args.source).suffix.lower() in SUFFIXES:
        return _intake_register(args, data_dir)
    if args.sheet or args.map:
        raise UserError("--sheet 和 --map 只用于 Excel 旧台账（.xlsx、.xls、.ods）")
    records = read_records(Path(args.source))
    with _services(data_dir, args, lock=True) as services:
        departments = {d.name: d.id for d in services.site.departments()}
        forms, errors = check_records(services.intake, records, departments)
        if errors:
            raise BatchValidationFailed(errors)
        _backup_before_import(services, quiet=args.json)
        results = services.intake.register_many(_actor(args), forms)
    if args.json:
        _print_json(
            [
                {"number": r.number, "case_id": r.case_id, "repeat_visit": r.repeat_visit}
                for r in results
            ]
        )
    else:
        print(f"已登记 {len(results)} 件事项：")
        for result in results:
            print(f"  {result.number}")
    return 0


def _intake_register(args: argparse.Namespace, data_dir: Path) -> int:
    """``bbcs intake --from 旧台账.xlsx``: historical cases, all or none (issue 17)."""
    from desktop_app.services.intake import BatchValidationFailed
    from desktop_app.services.register_import import (
        RegisterImportService,
        missing_headers,
        parse_map_options,
        read_sheet,
        unknown_columns,
    )

    named = parse_map_options(args.map)
    sheet = read_sheet(Path(args.source), args.sheet or None)
    missing = missing_headers(sheet, named)
    if missing:
        raise UserError(f"--map 中的列在工作表中找不到：{'、'.join(missing)}")
    with _services(data_dir, args, lock=True) as services:
        importer = RegisterImportService(
            services.db, services.clock, services.attachments, services.sealer
        )
        mapping = importer.mapping_for(sheet, named)
        checked = importer.check_sheet(sheet, mapping)
        if checked.errors:
            raise BatchValidationFailed(checked.errors)
        _backup_before_import(services, quiet=args.json)
        result = importer.import_sheet(_actor(args), sheet, mapping)
    unknown = unknown_columns(sheet, mapping)
    if args.json:
        _print_json(
            [
                {
                    "number": c.number,
                    "case_id": c.case_id,
                    "original_number": c.original_number,
                    "status": c.status.value,
                    "row": c.row,
                }
                for c in result.cases
            ]
        )
    else:
        print(
            f"已从“{sheet.file_name}”工作表“{sheet.sheet}”（表头在第{sheet.header_row}行）"
            f"导入历史事项 {len(result.cases)} 件："
        )
        for case in result.cases:
            old = f"（原编号 {case.original_number}）" if case.original_number else ""
            print(f"  第{case.row}行 → {case.number}{old} {case.status.label}")
    if unknown:
        print(
            f"未识别的列：{'、'.join(unknown)}——其内容已记入各事项的“历史导入”记录；"
            "如需对应到某一项，请用 --map 列名=字段（或 --map 列名=忽略）",
            file=sys.stderr,
        )
    return 0


def _cmd_cases(args: argparse.Namespace, data_dir: Path) -> int:
    from desktop_app.domain.vocabulary import CaseStatus
    from desktop_app.services.ledger import COUNT_CAP, CaseFilter

    case_filter = CaseFilter(
        text=args.search,
        statuses=(CaseStatus(args.status),) if args.status else (),
        site_code=args.site or None,
    )
    limit = args.limit if args.limit > 0 else None
    with _services(data_dir, args) as services:
        services.site.info()
        records = services.ledger.export_records(case_filter, limit)
        total, cap = len(records), None
        if limit is not None and total == limit:
            # The page alone is read; the query's total counted up to COUNT_CAP ("more than"):
            # a common word's exact count at a city costs seconds.
            total, cap = services.ledger.count(case_filter, cap=COUNT_CAP), COUNT_CAP
    if args.json:
        _print_json(records)
        return 0
    for r in records:
        print(
            f"{r['number']}\t{r['status_label']}\t{r['received_at'][:10]}\t"
            f"{r['complainant']}\t{r['title']}"
        )
    print(_count_line(len(records), total, cap), file=sys.stderr)
    return 0


def _count_line(shown: int, total: int, cap: int | None = None) -> str:
    """ "共 3,002 件", or "显示 3 件，共 3,002 件" when --limit cut the list: the total is the
    query's, not the page's; "共 100,000+ 件" when it was counted up to ``cap`` and went past."""
    counted = f"{cap:,}+" if cap is not None and total > cap else f"{total:,}"
    if shown < total:
        return f"显示 {shown:,} 件，共 {counted} 件"
    return f"共 {counted} 件"


def _cmd_check(args: argparse.Namespace, data_dir: Path) -> int:
    from desktop_app.errors import DataDirUnwritable, EnvironmentProblem

    try:
        with _services(data_dir, args) as services:
            report = services.maintenance.check()
    except EnvironmentProblem as exc:
        # A data dir that cannot be written (read-only, full) says so; its file is not damaged.
        unwritable = isinstance(exc, DataDirUnwritable)
        if unwritable or args.db_url or not _report_damage(args, DataLayout(data_dir)):
            raise
        return EXIT_USER_ERROR
    if args.json:
        _print_json(
            {
                "ok": report.ok,
                "database": report.database,
                "cases": report.cases,
                "audit_entries": report.audit_entries,
                "attachments": report.attachments,
                "problems": report.problems,
                "notes": report.notes,
            }
        )
    else:
        print(f"数据库完整性：{report.database}")
        print(f"事项 {report.cases} 件，审计记录 {report.audit_entries} 条", end="")
        print(f"，材料 {report.attachments} 份")
        if report.ok:
            print("检查通过：审计日志链完整，办理记录与状态一致。")
        for problem in report.problems:
            print(f"问题：{problem}")
        for note in report.notes:
            print(f"提示：{note}")
    return 0 if report.ok else EXIT_USER_ERROR


def _report_damage(args: argparse.Namespace, layout: DataLayout) -> bool:
    """``check`` on a database too damaged to open or read through: what SQLite finds in the
    file, and the newest good backup to restore. False if the file itself is sound."""
    from desktop_app.services.health import check_file, newest_good_backup

    found = check_file(layout.database)
    if found.ok:
        return False
    backup = newest_good_backup(layout)
    if args.json:
        _print_json(
            {
                "ok": False,
                "database": "damaged",
                "problems": list(found.problems),
                "newest_good_backup": str(backup) if backup else None,
            }
        )
        return True
    print(f"数据库完整性：已损坏（{layout.database}）")
    for problem in found.problems:
        print(f"问题：{problem}")
    print("请不要继续登记，立即联系维护人员用最近的完好备份恢复。")
    if backup is not None:
        print(f'最近的完好备份：{backup}（恢复：bbcs restore "{backup}"）')
    else:
        print(f"备份文件夹 {layout.backups} 中没有完好的备份。")
    return True


def _cmd_workdays(args: argparse.Namespace, data_dir: Path) -> int:
    from desktop_app.domain.workdays import WorkdayCalendar

    if args.workdays_command == "import":
        return _import_calendar(args, data_dir)
    if args.db_url or DataLayout(data_dir).database.exists():
        # The site's own overrides (local closures, next year's schedule) count too.
        with _services(data_dir, args, site=False) as services:
            calendar = services.calendar.calendar()
    else:
        calendar = WorkdayCalendar()
    start = _parse_date(args.start)
    if args.workdays_command == "add":
        if args.days < 0:
            raise UserError("工作日数不能为负数")
        deadline = calendar.add(start, args.days)
        if args.json:
            _print_json(deadline.to_json() | {"proof": deadline.proof_lines()})
        else:
            print(deadline.due.isoformat())
            for warning in deadline.warnings:
                print(f"注意：{warning}", file=sys.stderr)
        return 0
    end = _parse_date(args.end)
    count = calendar.count_between(start, end)
    if args.json:
        _print_json(count.to_json() | {"proof": count.proof_lines()})
    else:
        print(count.working_days)
        for warning in count.warnings:
            print(f"注意：{warning}", file=sys.stderr)
    return 0


def _import_calendar(args: argparse.Namespace, data_dir: Path) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise UserError(f"找不到文件：{path}")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030")
    with _services(data_dir, args, lock=True) as services:
        services.site.info()
        moved, _changes = services.calendar.import_csv(
            _actor(args), text, complete_years=args.complete_year, source=path.name
        )
    print(f"已导入节假日安排：{path.name}")
    if args.complete_year:
        print(f"已标记完整录入的年份：{'、'.join(map(str, args.complete_year))}")
    print(f"调整了 {len(moved)} 个未到期的期限")
    for item in moved[:50]:
        print(f"  {item.case_number} {item.what}：{item.before} → {item.after}")
    return 0


def _cmd_backup(args: argparse.Namespace, data_dir: Path) -> int:
    with _services(data_dir, args) as services:
        result = services.backups.backup(_actor(args), Path(args.to) if args.to else None)
    print(result.summary())
    return 0


def _cmd_restore(args: argparse.Namespace, data_dir: Path) -> int:
    """Under the writer lock, with nothing of the data dir open: a window must be closed."""
    from desktop_app.services.app import instance_lock
    from desktop_app.services.backup import RecoveryKey, restore
    from desktop_app.services.context import SystemClock

    source = Path(args.file)
    if not source.is_file():
        raise UserError(f"找不到备份文件 {source}。")
    recovery = RecoveryKey.read(Path(args.recovery_key)) if args.recovery_key else None
    lock = instance_lock(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    lock.acquire()
    try:
        actor = _restoring_actor(args, data_dir, recovery is not None)
        result = restore(
            DataLayout(data_dir),
            source,
            actor=actor,
            clock=SystemClock(),
            other_site=args.other_site,
            recovery=recovery,
            unverified=args.unverified,
        )
    finally:
        lock.release()
    if not result.verified:
        print(
            "警告：这份备份没有本站点的校验值（或校验值不符），可能被改动过；"
            "已按 --unverified 恢复，审计日志已记下。",
            file=sys.stderr,
        )
    facts = result.facts
    print(f"已从 {source} 恢复数据库：站点 {facts.site_code} {facts.site_name}")
    print(f"备份中有事项 {facts.cases} 件")
    if result.pre_restore_backup is not None:
        print(f"恢复前的数据库已另存为 {result.pre_restore_backup}")
    if result.migrated:
        print(f"备份的数据库版本为 {facts.schema}，已升级到本程序的版本。")
    if recovery is not None:
        print("已用恢复密钥装回数据密钥和站点密钥。")
    print(f"用时 {result.seconds:.1f} 秒")
    return 0


def _backup_before_import(services: Any, *, quiet: bool) -> None:
    """Every import is preceded by a backup, timed and told apart from the import."""
    result = services.backups.before_import()
    if result is not None:
        print(
            f"导入前已备份：{result.backup.path.name}（备份用时 {result.seconds:.1f} 秒）",
            file=sys.stderr if quiet else sys.stdout,
        )


def _restoring_actor(args: argparse.Namespace, data_dir: Path, with_recovery_key: bool) -> Actor:
    """Who restores, always someone who logged in with the right to (BACKUP_DATA):

    - the current database opens: its user (``--user``), as every command;
    - a fresh machine (no database and no data key): whoever holds the recovery key — the key
      is what the site's administrator locked away, and nothing here could check a password;
    - otherwise (the database damaged beyond opening, moved aside while the keys are still
      here, emptied of its site, or the user's record in it changed behind the program's back,
      so that it refuses the log-in): the user as recorded in the backup being restored, its
      password checked there.
    """
    from desktop_app.domain.vocabulary import Role
    from desktop_app.services.auth import TamperedAccount
    from desktop_app.services.context import Actor
    from desktop_app.services.data_key import DataKey
    from desktop_app.services.site import SiteLost

    layout = DataLayout(data_dir)
    if not layout.database.exists() and not DataKey(layout.keys).exists():
        if not with_recovery_key:
            raise UserError(
                f"数据目录 {data_dir} 中没有数据库和数据密钥：在新电脑上恢复请加 "
                "--recovery-key 恢复密钥文件（管理员导出并锁进保密柜的那份）。"
            )
        return Actor(None, "recovery-key", "恢复密钥持有人", Role.ADMIN)
    if layout.database.exists():
        try:
            with _services(data_dir, args):
                return _actor(args)
        except EnvironmentProblem as exc:  # damaged or unreadable: log in to the backup instead
            log.warning("restoring over a database that cannot be opened: %s", exc.message)
        except TamperedAccount as exc:  # the user's record here was changed: the backup's holds
            log.warning("restoring for a user whose record was changed: %s", exc.message)
        except SiteLost as exc:  # the database lost its site (emptied): the backup has it
            log.warning("restoring over a database without its site: %s", exc.message)
    return _login_to_backup(args, layout, Path(args.file))


def _login_to_backup(args: argparse.Namespace, layout: DataLayout, backup: Path) -> Actor:
    """Check ``--user``'s password against a throw-away copy of the backup (a refusal there
    writes to the copy, never to the backup), and require the right to restore."""
    import shutil
    import tempfile

    from desktop_app.domain.permissions import Permission
    from desktop_app.services.auth import AuthService, production_hasher
    from desktop_app.services.context import SystemClock
    from desktop_app.services.keys import SiteKeys
    from desktop_app.services.stream_crypto import decrypt_stream
    from desktop_app.storage.database import Database

    username, password = _credentials(args)
    with tempfile.TemporaryDirectory(dir=layout.root, prefix=".restore-login-") as scratch:
        copy = Path(scratch) / "bbcs.db"
        try:
            with backup.open("rb") as source, copy.open("wb") as target:
                if backup.suffix == ".db":
                    shutil.copyfileobj(source, target, 1024 * 1024)
                else:
                    identities = list(SiteKeys(layout.keys).decryption_keys().values())
                    decrypt_stream(source, target, identities)
        except OSError as exc:
            raise EnvironmentProblem(f"无法读取备份 {backup}（{exc.strerror or exc}）。") from exc
        db = Database(f"sqlite:///{copy.as_posix()}")
        try:
            db.migrate()  # an older backup's users table as this release reads it
            actor = AuthService(db, SystemClock(), production_hasher()).login(username, password)
        finally:
            db.dispose()
    actor.require(Permission.BACKUP_DATA)
    return actor


def _cmd_recovery_key(args: argparse.Namespace, data_dir: Path) -> int:
    out = Path(args.out)
    pdf = Path(args.pdf) if args.pdf else None
    for path in (out, pdf):
        if path is not None:
            _writable(path)
    with _services(data_dir, args) as services:
        key = services.backups.export_recovery_key(_actor(args), out, pdf)
    print(f"已导出站点 {key.site_code} 的恢复密钥到 {out}")
    if pdf is not None:
        print(f"可打印的恢复密钥纸：{pdf}")
    print("恢复密钥能打开本站点的全部加密数据：请存到U盘、打印后锁进保密柜，不要留在本机上。")
    return 0


def _cmd_slip(args: argparse.Namespace, data_dir: Path) -> int:
    with _services(data_dir, args) as services:
        case_id = services.cases.find_by_number(args.case_number)
        slips = [s for s in services.assignments.slips_for_case(case_id) if not s.voided]
        if args.slip:
            chosen = [s for s in slips if s.number == args.slip.strip()]
            if not chosen:
                raise UserError(f"事项 {args.case_number} 没有编号为“{args.slip}”的有效交办单")
        elif not slips:
            raise UserError(f"事项 {args.case_number} 还没有签发交办单")
        else:
            chosen = [slips[-1]]
        out = Path(args.out)
        _writable(out)
        services.assignments.record_slip_output(  # a file written is an output: it counts
            _actor(args), chosen[0].number, case_id=case_id, out=out
        )
    print(f"已输出 {chosen[0].number} 到 {out}")
    return 0


def _cmd_receipt(args: argparse.Namespace, data_dir: Path) -> int:
    with _services(data_dir, args) as services:
        case_id = services.cases.find_by_number(args.case_number)
        out = Path(args.out)
        _writable(out)
        services.assignments.receipt_pdf(case_id, out=out, actor=_actor(args))
    print(f"已输出受理回执到 {out}")
    return 0


def _cmd_verify_slip(args: argparse.Namespace, data_dir: Path) -> int:
    with _services(data_dir, args) as services:
        check = services.assignments.verify(args.payload)
    if args.json:
        _print_json(
            {
                "valid": check.valid,
                "site_code": check.site_code,
                "slip_number": check.slip_number,
                "message": check.message,
                "voided": check.voided,
                "void_reason": check.void_reason,
                "facts": dict(check.facts),
            }
        )
    else:
        print(check.message)
        for label, value in check.facts:  # what to compare with the paper in hand
            print(f"  {label}：{value}")
    return 0 if check.valid else EXIT_USER_ERROR


def _confirm_fingerprint(actual: str, told: str) -> None:
    """The fingerprint check the window asks for before registering a site: against the one
    given (``--fingerprint``), or asked at the console; a script without either is warned."""

    def bare(text: str) -> str:
        return "".join(c for c in text.upper() if c.isalnum())

    if told:
        if bare(told) != bare(actual):
            raise UserError(
                f"身份文件的指纹是 {actual}，与告知的 {told} 不符，没有登记。"
                "请向对方核实身份文件是否被调换。"
            )
        return
    if not sys.stdin.isatty():
        print(
            f"注意：没有核对指纹就登记了（文件的指纹 {actual}）。"
            "请与对方电话核对；脚本中可用 --fingerprint 指定对方告知的指纹。",
            file=sys.stderr,
        )
        return
    print(f"身份文件的指纹：{actual}")
    try:
        answer = input("请与对方电话核对指纹，一致请输入 y 登记：")
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes", "是"):
        raise UserError("已取消：没有登记。")


def _cmd_keys(args: argparse.Namespace, data_dir: Path) -> int:
    from desktop_app.services import seats

    if args.keys_command == "rotate":
        with _services(data_dir, args, lock=True) as services:
            identity = services.sync.rotate_keys(_actor(args))
            seats.share_site_keys(services.db, services.data_key, services.keys)  # other seats
        print(f"已更换本站点密钥，新指纹 {identity.fingerprint()}。")
        print("请用 bbcs keys export 导出新的身份文件，交对方站点用 keys trust --replace 登记。")
        return 0
    if args.keys_command in ("trust", "revoke"):
        with _services(data_dir, args, lock=True) as services:
            if args.keys_command == "trust":
                identity = services.sync.read_identity(Path(args.file))
                _confirm_fingerprint(identity.fingerprint(), args.fingerprint)
                print(services.sync.trust(_actor(args), identity, replace=args.replace))
            else:
                print(services.sync.revoke(_actor(args), args.site_code, args.reason))
        return 0
    if args.keys_command == "list":
        with _services(data_dir, args) as services:
            sites = services.sync.trusted_sites()
        if args.json:
            _print_json(
                [
                    {
                        "code": s.code,
                        "name": s.name,
                        "level": s.level.value,
                        "fingerprint": s.fingerprint,
                        "state": s.state,
                        "trusted_at": s.trusted_at,
                        "revoked_at": s.revoked_at,
                        "last_bundle_at": s.last_bundle_at,
                    }
                    for s in sites
                ]
            )
        else:
            for s in sites:
                state = "已吊销" if s.state == "revoked" else "已登记"
                print(f"{s.code}\t{s.name}\t{s.level.label}\t{s.fingerprint}\t{state}")
            if not sites:
                print("尚未登记任何站点。", file=sys.stderr)
        return 0
    with _services(data_dir, args) as services:
        site = services.site.info()
        services.keys.ensure()
        identity = services.keys.identity(site.code, site.name, site.level.value)
    if args.keys_command == "show":
        print(f"站点：{identity.site_code} {identity.site_name}")
        print(f"签名公钥（Ed25519）：{identity.signing_public_key}")
        print(f"加密公钥（X25519）：{identity.encryption_public_key}")
        print(f"指纹：{identity.fingerprint()}")
        return 0
    with _services(data_dir, args) as services:
        exported = services.sync.write_identity(Path(args.out))
    print(f"已导出本站点公开身份到 {args.out}（指纹 {exported.fingerprint()}）")
    return 0


def _cmd_export(args: argparse.Namespace, data_dir: Path) -> int:
    with _services(data_dir, args, lock=True) as services:
        result = services.sync.export(_actor(args), Path(args.to))
    if args.json:
        _print_json(
            {
                "path": str(result.path),
                "bundle_id": result.bundle_id,
                "kind": result.kind,
                "counts": result.counts,
                "size": result.size,
                "generation": result.generation,
                "base_generation": result.base_generation,
            }
        )
    else:
        print(result.summary())
    return 0


def _cmd_import(args: argparse.Namespace, data_dir: Path) -> int:
    with _services(data_dir, args, lock=True) as services:
        if not args.dry_run:
            _backup_before_import(services, quiet=args.json)
        reports = services.sync.import_path(_actor(args), Path(args.path), dry_run=args.dry_run)
        services.sync.settle_imports()
    refused = any(r.refused for r in reports)
    if args.json:
        if len(reports) == 1 and not Path(args.path).is_dir():
            _print_json(reports[0].to_json())
        else:
            totals = {
                key: sum(r.totals()[key] for r in reports)
                for key in ("added", "updated", "ignored", "conflicts")
            }
            _print_json(
                {
                    **totals,
                    "refused": sum(1 for r in reports if r.refused),
                    "reason": "；".join(r.reason for r in reports if r.refused),
                    "dry_run": args.dry_run,
                    "bundles": [r.to_json() for r in reports],
                }
            )
    else:
        if not reports:
            print("文件夹中没有未导入的数据包或回执。")
        for r in reports:
            stream = sys.stderr if r.refused else sys.stdout
            print(f"{Path(r.path).name}：{r.summary()}", file=stream)
            for note in r.notes:
                print(f"  {note}", file=stream)
            if r.ack_path:
                print(f"  回执已写到 {r.ack_path}，请带回县区导入。")
    return EXIT_USER_ERROR if refused else 0


def _writable(out: Path) -> None:
    if not out.parent.exists():
        raise UserError(f"输出文件夹不存在：{out.parent}")


_COMMANDS: dict[str, Callable[[argparse.Namespace, Path], int]] = {
    "init": _cmd_init,
    "demo": _cmd_demo,
    "intake": _cmd_intake,
    "cases": _cmd_cases,
    "check": _cmd_check,
    "workdays": _cmd_workdays,
    "backup": _cmd_backup,
    "restore": _cmd_restore,
    "recovery-key": _cmd_recovery_key,
    "slip": _cmd_slip,
    "receipt": _cmd_receipt,
    "verify-slip": _cmd_verify_slip,
    "keys": _cmd_keys,
    "export": _cmd_export,
    "import": _cmd_import,
}


# Helpers ------------------------------------------------------------------------------------


def _needs_site(args: argparse.Namespace) -> bool:
    """Every command but ``init`` and the calendar arithmetic works in an existing site."""
    if args.command == "init" or getattr(args, "seat_command", None) == "join":
        return False  # seat join: a new PC's data dir, the site is on the server
    if args.command == "restore" and args.recovery_key:
        return False  # a fresh machine: the site comes with the backup
    return not (args.command == "workdays" and args.workdays_command in ("add", "between"))


_NO_SITE_HINT = (
    "请检查 --data-dir 或环境变量 BBCS_DATA_DIR 是否写错；"
    "新站点请先运行 bbcs init 或在首次启动时完成设置。"
)


def _require_site(data_dir: Path, db_url: str | None) -> None:
    """Refuses a folder bbcs never used before anything is created in it: a mistyped --data-dir
    would otherwise become an empty data dir that ``bbcs check`` passes.

    A folder with a database or a lock file is bbcs's: the command goes on, so that a running
    window, a too-new database or a site never set up is told as such (``_services``).
    """
    if not data_dir.is_dir():
        raise UserError(f"数据目录 {data_dir} 不存在，站点尚未初始化。{_NO_SITE_HINT}")
    layout = DataLayout(data_dir)
    if db_url is None and not (layout.database.exists() or layout.lock_file.exists()):
        raise UserError(f"数据目录 {data_dir} 中没有站点数据（站点尚未初始化）。{_NO_SITE_HINT}")


@contextlib.contextmanager
def _services(
    data_dir: Path, args: argparse.Namespace, *, lock: bool = False, site: bool = True
) -> Iterator[Any]:
    """The data dir's services, under the writer lock if ``lock``; refused unless it holds a
    site when ``site`` (every command but ``init`` and the calendar arithmetic). In a site, a
    command that needs a user logs in first (``_log_in``); ``_actor(args)`` is then that user."""
    from desktop_app.services.app import instance_lock as lock_for
    from desktop_app.services.app import open_services
    from desktop_app.services.site import KEYS_WITHOUT_SITE, SiteLost

    instance_lock = lock_for(data_dir) if lock else None
    if instance_lock is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        instance_lock.acquire()
    try:
        services = open_services(data_dir, db_url=args.db_url)
        try:
            if site and not services.site.is_initialised():
                if services.site.has_keys_without_site():  # asked only when there is no site
                    raise SiteLost(f"数据目录 {data_dir}：{KEYS_WITHOUT_SITE}")
                raise UserError(f"数据目录 {data_dir} 中站点尚未初始化。{_NO_SITE_HINT}")
            if site and _needs_user(args):
                _log_in(services, args)
            if lock and site:
                services.backups.daily_if_due()  # the day's first start that writes
            yield services
        finally:
            services.close()
    finally:
        if instance_lock is not None:
            instance_lock.release()


# Log-in (issue 15 item 8) -------------------------------------------------------------------

# Commands that change nothing and show no personal data: no user needed.
_NO_USER = frozenset({"init", "gui", "self-test", "workdays add", "workdays between"})
# What the user's role must allow, by command; a command not listed needs a user of any role.
_PERMISSION_FOR: dict[str, Permission] = {
    "demo": Permission.MANAGE_USERS,  # it makes users, and cases by the thousand
    "intake": Permission.REGISTER_CASE,
    "cases": Permission.VIEW_CASES,
    "check": Permission.CHECK_DATA,
    "workdays import": Permission.MANAGE_REFERENCE,
    "backup": Permission.BACKUP_DATA,
    "restore": Permission.BACKUP_DATA,
    "recovery-key export": Permission.BACKUP_DATA,
    "slip": Permission.PRINT_PAPERS,
    "receipt": Permission.PRINT_PAPERS,
    "verify-slip": Permission.VIEW_CASES,  # a receipt's check names the complainant
    "keys export": Permission.EXCHANGE_DATA,
    "keys trust": Permission.TRUST_SITES,
    "keys revoke": Permission.TRUST_SITES,
    "keys rotate": Permission.TRUST_SITES,
    "export": Permission.EXCHANGE_DATA,
    "import": Permission.EXCHANGE_DATA,
}
_LOGIN_HINT = (
    "请用 --user 用户名（或环境变量 BBCS_USER）指定用户，"
    "密码在提示时输入（脚本可用环境变量 BBCS_PASSWORD）"
)


def _command_name(args: argparse.Namespace) -> str:
    """The command with its operation, e.g. "keys trust", as ``_PERMISSION_FOR`` names it."""
    name = str(args.command)
    operation = getattr(args, f"{name.replace('-', '_')}_command", None)
    return f"{name} {operation}" if operation else name


def _needs_user(args: argparse.Namespace) -> bool:
    return _command_name(args) not in _NO_USER


def _log_in(services: Any, args: argparse.Namespace) -> Actor:
    """Log in as ``--user`` (once per command) and check the command's permission; the actor is
    kept on ``args`` for ``_actor``. A wrong password or a locked account is the service's
    UserError (exit 2), audited by it."""
    actor: Actor | None = getattr(args, "actor", None)
    if actor is None:
        username, password = _credentials(args)
        actor = services.auth.login(username, password)
        args.actor = actor
    permission = _permission_for(_command_name(args))
    if permission is not None:
        actor.require(permission)
    return actor


def _actor(args: argparse.Namespace) -> Actor:
    """The user this command acts for: logged in by ``_services`` before the command ran."""
    actor: Actor | None = getattr(args, "actor", None)
    if actor is None:
        raise RuntimeError(f"bbcs {_command_name(args)} acts for a user but did not log in")
    return actor


def _credentials(args: argparse.Namespace) -> tuple[str, str]:
    interactive = sys.stdin.isatty()
    try:
        username = (args.user or "").strip()
        if not username and interactive:
            username = input("用户名：").strip()
        if not username:
            raise UserError(f"此命令需要登录。{_LOGIN_HINT}")
        password = os.environ.get("BBCS_PASSWORD") or ""
        if not password and interactive:
            password = getpass.getpass(f"{username} 的密码：")
    except EOFError:
        raise UserError("已取消") from None
    if not password:
        raise UserError(f"此命令需要用户“{username}”的密码。{_LOGIN_HINT}")
    return username, password


def _prompt_new_password() -> str:
    if not sys.stdin.isatty():
        raise UserError("请通过环境变量 BBCS_ADMIN_PASSWORD 提供管理员密码")
    first = getpass.getpass("管理员密码：")
    second = getpass.getpass("再输入一次：")
    if first != second:
        raise UserError("两次输入的密码不一致")
    return first


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip().replace("/", "-"))
    except ValueError as exc:
        raise UserError(f"“{text}”不是有效日期，请写成 YYYY-MM-DD") from exc


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _utf8_console() -> None:
    # A Windows console or a pipe may default to a legacy code page; Chinese must survive.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):
                reconfigure(encoding="utf-8", errors="replace")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
