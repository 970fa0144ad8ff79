"""``bbcs bulletin`` and ``bbcs scorecard``: analysis bulletins and department scorecards
(issue 17)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop_app.domain.permissions import Permission


def add_parsers(sub: Any) -> None:
    """Adds this module's commands to the ``bbcs`` parser."""
    _add_bulletin(sub)


# bbcs bulletin ---------------------------------------------------------------------------------


def _add_bulletin(sub: Any) -> None:
    p = sub.add_parser(
        "bulletin",
        help="统计分析通报：统计期内的受理、办理、回访、问责数字；--out 生成编号的通报 PDF",
    )
    p.add_argument(
        "--from", dest="start", required=True, help="统计期开始日期 YYYY-MM-DD（受理日期）"
    )
    p.add_argument("--to", dest="end", required=True, help="统计期结束日期 YYYY-MM-DD（含当天）")
    p.add_argument("--out", help="生成通报 PDF 到此文件（取下一个期号：〔年〕第N期）")
    p.add_argument("--site", help="市级窗口：只统计这一县区（站点代码）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出统计数字")


def _cmd_bulletin(args: argparse.Namespace, data_dir: Path) -> int:
    from desktop_app.cli import _actor, _parse_date, _print_json, _services
    from desktop_app.errors import UserError
    from desktop_app.services.statistics import Period

    try:
        period = Period(_parse_date(args.start), _parse_date(args.end))
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    with _services(data_dir, args) as services:
        actor = _actor(args)
        if args.out:
            issued = services.bulletins.issue(actor, period, Path(args.out), site_code=args.site)
            if args.json:
                _print_json({"number": issued.number, "path": str(issued.path)})
            else:
                print(f"已生成分析通报 {issued.number}：{issued.path}")
            return 0
        stats = services.statistics.period_statistics(actor, period, site_code=args.site)
    if args.json:
        _print_json(statistics_json(stats))
        return 0
    totals = stats.totals
    print(f"统计期：{period.text()}")
    print(
        f"受理 {totals.received}，不予受理/转办 {totals.screened_out}，已办结 {totals.concluded}"
        f"（办成 {totals.resolved}，不能办 {totals.explained}），撤回 {totals.withdrawn}，"
        f"在办 {totals.open}（超期 {totals.overdue}）"
    )
    print(f"按期办结率 {stats.on_time.text()}；按原定期限 {stats.on_time_original.text()}")
    print(f"回访率 {stats.visit_rate.text()}；满意率 {stats.satisfied_rate.text()}")
    print("生成通报 PDF：加 --out 文件.pdf", file=sys.stderr)
    return 0


def statistics_json(stats: Any) -> dict[str, Any]:
    """The statistics as plain JSON: every rate with its numerator, denominator and text."""
    import dataclasses

    from desktop_app.domain.statistics import Rate

    def plain(value: Any) -> Any:
        if isinstance(value, Rate):
            return {
                "numerator": value.numerator,
                "denominator": value.denominator,
                "text": value.text(),
            }
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, dict):
            return {str(key): plain(item) for key, item in value.items()}
        if isinstance(value, tuple | list):
            return [plain(item) for item in value]
        return value

    return dict(plain(stats))


COMMANDS: dict[str, Callable[[argparse.Namespace, Path], int]] = {"bulletin": _cmd_bulletin}
PERMISSIONS: dict[str, Permission] = {"bulletin": Permission.VIEW_CASES}
