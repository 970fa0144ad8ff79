"""``bbcs bulletin`` and ``bbcs scorecard``: analysis bulletins and department scorecards
(issue 17)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop_app.domain.permissions import Permission
from desktop_app.domain.scoring import DepartmentScore
from desktop_app.domain.statistics import Rate


def add_parsers(sub: Any) -> None:
    """Adds this module's commands to the ``bbcs`` parser."""
    _add_bulletin(sub)
    _add_scorecard_parser(sub)


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
    p.add_argument(
        "--case",
        dest="typical",
        action="append",
        default=[],
        metavar="编号",
        help="列为典型案例的事项编号（可重复；个人姓名只留姓，不印证件号、电话）",
    )
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
            earlier = services.bulletins.issued_for(period, args.site)
            if earlier:
                print(
                    f"注意：本统计期已印发：{'、'.join(earlier)}，本次编为新的一期。",
                    file=sys.stderr,
                )
            issued = services.bulletins.issue(
                actor, period, Path(args.out), site_code=args.site, typical=args.typical
            )
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


# ``bbcs scorecard`` ------------------------------------------------------------------------------


def _add_scorecard_parser(sub: Any) -> None:
    p = sub.add_parser(
        "scorecard",
        help="部门评分：导出各部门交办办理情况（.xlsx），或打印量化管理评分表（.pdf）",
    )
    p.add_argument("--from", dest="date_from", required=True, help="交办签发日期自 YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", required=True, help="交办签发日期至 YYYY-MM-DD")
    p.add_argument("--out", help="输出文件 F.xlsx（部门评分）或 F.pdf（量化管理评分表）")
    p.add_argument(
        "--department", action="append", default=[], help="只打印该部门的评分表（可重复）"
    )
    p.add_argument(
        "--window",
        action="store_true",
        help="改为打印窗口本身的量化管理评分表（.pdf；按统计分析通报的口径，期间为受理日期；"
        "市级每个县区一页）",
    )
    p.add_argument("--site", help="与 --window 同用，市级窗口：只打印这一县区（站点代码）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出各部门的数字")


def _cmd_scorecard(args: argparse.Namespace, data_dir: Path) -> int:
    from desktop_app.cli import _actor, _parse_date, _print_json, _services
    from desktop_app.errors import UserError

    period_from, period_to = _parse_date(args.date_from), _parse_date(args.date_to)
    if args.window:
        if not args.out or args.department or args.json:
            raise UserError("--window 需要 --out F.pdf，不能与 --department、--json 同用")
    elif args.site:
        raise UserError("--site 只与 --window 同用（部门评分按交办统计全部县区）")
    with _services(data_dir, args) as services:
        actor = _actor(args)
        if args.window:
            scorecards = services.scorecards
            out = scorecards.export_window(actor, period_from, period_to, Path(args.out), args.site)
            print(f"已保存：{out}", file=sys.stderr)
            return 0
        card = services.scorecards.scorecard(actor, period_from, period_to)
        wanted = None
        if args.department:
            by_name = {row.department: row.department_id for row in card.rows}
            missing = [name for name in args.department if name not in by_name]
            if missing:
                raise UserError(f"所选期间没有交办给：{'、'.join(missing)}")
            wanted = [by_name[name] for name in args.department]
        if args.out:
            out = services.scorecards.export(actor, card, Path(args.out), wanted)
    if args.json:
        _print_json([_score_json(row, card.rank_of(row.department)) for row in card.rows])
    elif not args.out:
        for row in card.rows:
            rank = card.rank_of(row.department)
            print(
                "\t".join(
                    [
                        str(rank) if rank else "—",
                        row.department,
                        f"交办 {row.received}",
                        f"按期 {row.on_time.text()}",
                        f"超期 {row.late}",
                        f"满意 {row.satisfaction.text()}",
                    ]
                )
            )
    if args.out:
        print(f"已保存：{out}（{len(card.rows)} 个部门）", file=sys.stderr)
    print(
        f"收到交办少于 {card.minimum_volume} 件的部门不参加排名；超期按 {card.today:%Y-%m-%d} 判断",
        file=sys.stderr,
    )
    return 0


def _score_json(row: DepartmentScore, rank: int | None) -> dict[str, Any]:
    def rate(value: Rate) -> dict[str, Any]:
        return {
            "numerator": value.numerator,
            "denominator": value.denominator,
            "text": value.text(),
        }

    return {
        "rank": rank,
        "department": row.department,
        "received": row.received,
        "responded": row.responded,
        "on_time": rate(row.on_time),
        "on_time_original": rate(row.on_time_original),
        "late": row.late,
        "extended": row.extended,
        "returned": row.returned,
        "urged": row.urged,
        "supervised": row.supervised,
        "working_days_median": row.working_days_median,
        "working_days_p90": row.working_days_p90,
        "satisfaction": rate(row.satisfaction),
        "referrals": row.referrals,
    }


COMMANDS: dict[str, Callable[[argparse.Namespace, Path], int]] = {
    "bulletin": _cmd_bulletin,
    "scorecard": _cmd_scorecard,
}
PERMISSIONS: dict[str, Permission] = {
    "bulletin": Permission.VIEW_CASES,
    "scorecard": Permission.VIEW_CASES,
}
