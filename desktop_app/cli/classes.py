"""``bbcs classes [--json]`` and ``bbcs warnings [--json]``: classes of matters (一类事) and
early warnings (issue 16)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from desktop_app.domain.early_warning import format_p
from desktop_app.domain.permissions import Permission
from desktop_app.services.classes import CLASS_STATE_LABELS, WARNING_STATE_LABELS

_Row = TypeVar("_Row")


def add_parsers(sub: Any) -> None:
    """Adds ``classes`` and ``warnings`` to the ``bbcs`` parser."""
    p = sub.add_parser("classes", help="列出一类事（共性问题）及其整改")
    p.add_argument("--state", choices=sorted(CLASS_STATE_LABELS), help="按状态筛选")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")

    p = sub.add_parser("warnings", help="列出苗头性、倾向性问题预警")
    p.add_argument("--state", choices=sorted(WARNING_STATE_LABELS), help="按处理状态筛选")
    p.add_argument("--scan", action="store_true", help="先按本月数据扫描一次（需维护权限）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")


def _cmd_classes(args: argparse.Namespace, data_dir: Path) -> int:
    from desktop_app.cli import _services

    with _services(data_dir, args) as services:
        rows = services.classes.list_classes(state=args.state)
    return _listed(
        rows,
        json=args.json,
        record=lambda r: {
            "id": r.id,
            "uuid": r.uuid,
            "title": r.title,
            "area": r.area,
            "causes": list(r.causes),
            "fix_kind": r.fix_kind,
            "fix_description": r.fix_description,
            "owner": r.owner,
            "due_date": r.due_date.isoformat() if r.due_date else None,
            "done_on": r.done_on.isoformat() if r.done_on else None,
            "state": r.state,
            "state_label": r.state_label,
            "cases": r.case_count,
            "departments": r.department_count,
        },
        line=lambda r: (
            f"{r.id}\t{r.state_label}\t{r.case_count}件/{r.department_count}个部门\t"
            f"{r.title}\t{r.fix_kind or '未定整改措施'}"
        ),
        total="个一类事",
    )


def _cmd_warnings(args: argparse.Namespace, data_dir: Path) -> int:
    from desktop_app.cli import _actor, _services

    with _services(data_dir, args, lock=args.scan) as services:
        if args.scan:
            result = services.classes.scan_warnings(_actor(args))
            print(f"{result.month}：新增预警 {result.raised} 条", file=sys.stderr)
        rows = services.classes.warnings(state=args.state)
    return _listed(
        rows,
        json=args.json,
        record=lambda w: {
            "id": w.id,
            "month": w.month,
            "department": w.department,
            "area": w.area,
            "cause": w.cause,
            "cause_label": w.cause_label,
            "count": w.count,
            "baseline": w.baseline,
            "months": w.months,
            "p_value": w.p_value,
            "why": w.why,
            "state": w.state,
            "state_label": w.state_label,
            "note": w.note,
            "issue_class_id": w.issue_class_id,
        },
        line=lambda w: (
            f"{w.month}\t{w.state_label}\t{w.department}\t{w.area}\t{w.cause_label}\t"
            f"{w.count}件\t基准{w.baseline:.1f}\tP{format_p(w.p_value)}"
        ),
        total="条预警",
    )


def _listed(
    rows: Sequence[_Row],
    *,
    json: bool,
    record: Callable[[_Row], dict[str, Any]],
    line: Callable[[_Row], str],
    total: str,
) -> int:
    """Both lists print alike: JSON records, or a tab-separated line a row and the count (on
    stderr, so a script reading the lines gets only rows)."""
    from desktop_app.cli import _print_json

    if json:
        _print_json([record(row) for row in rows])
        return 0
    for row in rows:
        print(line(row))
    print(f"共 {len(rows)} {total}", file=sys.stderr)
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Path], int]] = {
    "classes": _cmd_classes,
    "warnings": _cmd_warnings,
}
PERMISSIONS: dict[str, Permission] = {
    "classes": Permission.VIEW_CASES,
    "warnings": Permission.VIEW_CASES,
}
