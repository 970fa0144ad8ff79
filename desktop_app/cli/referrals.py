"""``bbcs referrals [--json] [--state S]``: the accountability referral register (issue 16)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop_app.domain.permissions import Permission
from desktop_app.domain.vocabulary import ReferralState


def add_parsers(sub: Any) -> None:
    """Adds ``referrals`` to the ``bbcs`` parser."""
    p = sub.add_parser("referrals", help="列出问责线索（拟移交、已移交、已处理）")
    p.add_argument(
        "--state",
        choices=[s.value for s in ReferralState],
        help="按状态筛选：" + "、".join(f"{s.value}={s.label}" for s in ReferralState),
    )
    p.add_argument("--json", action="store_true", help="以 JSON 输出")


def _cmd_referrals(args: argparse.Namespace, data_dir: Path) -> int:
    from desktop_app.cli import _actor, _print_json, _services
    from desktop_app.services.referrals import ReferralFilter

    referral_filter = ReferralFilter(state=ReferralState(args.state) if args.state else None)
    with _services(data_dir, args) as services:
        rows = services.referrals.register(_actor(args), referral_filter)
    if args.json:
        _print_json([row.as_json() for row in rows])
        return 0
    for row in rows:
        dates = [f"提出 {row.proposed_at:%Y-%m-%d}"]
        if row.sent_at:
            dates.append(f"移交 {row.sent_at:%Y-%m-%d}")
        if row.decided_at:
            dates.append(f"处理 {row.decided_at:%Y-%m-%d}")
        print(
            "\t".join(
                [
                    row.number or "（未编号）",
                    row.case_number,
                    row.person_name,
                    row.person_unit,
                    row.conduct_label,
                    row.state.label,
                    row.measure.label if row.measure else "",
                    "，".join(dates),
                ]
            )
        )
    print(f"共 {len(rows):,} 条", file=sys.stderr)
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Path], int]] = {"referrals": _cmd_referrals}
PERMISSIONS: dict[str, Permission] = {"referrals": Permission.VIEW_REFERRALS}
