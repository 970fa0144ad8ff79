"""``bbcs ledger --out F.xlsx|F.csv|F.pdf``: the 台账 out to Excel, or the 登记簿 (issue 17)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop_app.domain.permissions import Permission
from desktop_app.domain.vocabulary import CaseStatus


def add_parsers(sub: Any) -> None:
    """Adds ``ledger`` to the ``bbcs`` parser."""
    p = sub.add_parser(
        "ledger",
        help="导出事项台账（Excel .xlsx 或 .csv），或打印用的登记簿（.pdf，A3 横向）",
    )
    p.add_argument("--out", required=True, help="输出文件 F.xlsx、F.csv 或 F.pdf（登记簿）")
    p.add_argument("--from", dest="date_from", help="受理日期自 YYYY-MM-DD（含）")
    p.add_argument("--to", dest="date_to", help="受理日期至 YYYY-MM-DD（含）")
    p.add_argument(
        "--status",
        choices=[s.value for s in CaseStatus],
        help="按状态筛选：" + "、".join(f"{s.value}={s.label}" for s in CaseStatus),
    )
    p.add_argument("--site", default="", help="只导出某站点（县区）的事项，如 410221（市级用）")
    p.add_argument(
        "--masked",
        action="store_true",
        help="联系电话遮挡中间几位（无权查看完整号码的角色总是遮挡）",
    )


def _cmd_ledger(args: argparse.Namespace, data_dir: Path) -> int:
    from desktop_app.cli import _actor, _parse_date, _services
    from desktop_app.services.ledger import CaseFilter
    from desktop_app.services.register_export import RegisterExportService

    case_filter = CaseFilter(
        statuses=(CaseStatus(args.status),) if args.status else (),
        site_code=args.site or None,
        received_from=_parse_date(args.date_from) if args.date_from else None,
        received_to=_parse_date(args.date_to) if args.date_to else None,
    )
    out = Path(args.out)
    with _services(data_dir, args) as services:
        exporter = RegisterExportService(
            services.db, services.clock, services.sealer, services.ledger
        )
        if out.suffix.lower() == ".pdf":
            book = exporter.book(
                _actor(args),
                out,
                case_filter,
                issuer=services.site.info().name,
                masked=args.masked,
            )
            print(f"登记簿已生成：{book.path}（{book.cases:,} 件，{book.pages} 页）")
            return 0
        result = exporter.export(_actor(args), out, case_filter, masked=args.masked)
    print(
        f"台账已导出：{result.path}（{result.counts}；"
        f"联系电话{'完整' if result.numbers_clear else '已遮挡'}）"
    )
    if not args.masked and not result.numbers_clear:
        print("你的角色无权查看完整号码，联系电话已遮挡", file=sys.stderr)
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Path], int]] = {"ledger": _cmd_ledger}
PERMISSIONS: dict[str, Permission] = {"ledger": Permission.VIEW_CASES}
