"""``bbcs meetings [--json]``: joint meetings and their minutes (issue 16).

``bbcs meetings --minutes 杞纪窗纪〔2026〕1号 --out 纪要.pdf`` saves one meeting's 会议纪要.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop_app.domain.permissions import Permission
from desktop_app.errors import UserError


def add_parsers(sub: Any) -> None:
    """Adds ``meetings`` to the ``bbcs`` parser."""
    p = sub.add_parser("meetings", help="列出联席会议，或保存一次会议的会议纪要（PDF）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出（含研究事项和会后交办）")
    p.add_argument("--minutes", metavar="纪要编号", help="保存这次会议的会议纪要，须同时给出 --out")
    p.add_argument("--out", type=Path, metavar="文件.pdf", help="会议纪要 PDF 的保存位置")


def _cmd_meetings(args: argparse.Namespace, data_dir: Path) -> int:
    from desktop_app.cli import _actor, _print_json, _services

    if bool(args.minutes) != bool(args.out):
        raise UserError("保存会议纪要请同时给出 --minutes 纪要编号 和 --out 文件.pdf")
    with _services(data_dir, args) as services:
        actor = _actor(args)
        rows = services.meetings.register(actor)
        if args.minutes:
            wanted = args.minutes.strip()
            found = [row for row in rows if row.number == wanted]
            if not found:
                raise UserError(f"找不到编号为“{wanted}”的会议纪要")
            services.meetings.minutes_pdf(actor, found[0].id, out=args.out)
            print(f"已保存会议纪要 {wanted}：{args.out}")
            return 0
        details = [services.meetings.get(actor, row.id) for row in rows] if args.json else []
    if args.json:
        _print_json([_as_json(detail) for detail in details])
        return 0
    for row in rows:
        print(
            "\t".join(
                [
                    row.number,
                    f"{row.held_at:%Y-%m-%d %H:%M}",
                    row.chair,
                    row.topic,
                    f"研究{row.matters}项",
                    f"会后交办{row.follow_ups}项",
                ]
            )
        )
    print(f"共 {len(rows):,} 次会议", file=sys.stderr)
    return 0


def _as_json(detail: Any) -> dict[str, Any]:
    return {
        "number": detail.number,
        "held_at": detail.held_at.isoformat(timespec="minutes"),
        "place": detail.place,
        "chair": detail.chair,
        "attendees": list(detail.attendees),
        "topic": detail.topic,
        "summary": detail.summary,
        "recorder": detail.recorder,
        "items": [
            {
                "case": item.case_number or None,
                "class": item.class_title or None,
                "discussion": item.discussion,
                "decision": item.decision,
                "department": item.department or None,
                "working_days": item.working_days,
                "assignment_state": item.assignment_state or None,
                "slip": item.slip_number or None,
                "due_date": item.due_date.isoformat() if item.due_date else None,
            }
            for item in detail.items
        ],
    }


COMMANDS: dict[str, Callable[[argparse.Namespace, Path], int]] = {"meetings": _cmd_meetings}
PERMISSIONS: dict[str, Permission] = {"meetings": Permission.VIEW_CASES}
