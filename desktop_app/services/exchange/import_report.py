"""What an import did, or for a dry run would do: counts per table and a line in Chinese."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ImportReport:
    """What an import did (or, for a dry run, would do). ``refused`` carries the reason."""

    path: str
    kind: str = ""
    bundle_id: str = ""
    from_site: str = ""
    from_name: str = ""
    created_at: str = ""
    dry_run: bool = False
    added: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    ignored: Counter[str] = field(default_factory=Counter)
    conflicts: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    refused: bool = False
    code: str = ""
    reason: str = ""
    ack_path: str = ""
    notes: list[str] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        return {
            "added": sum(self.added.values()),
            "updated": sum(self.updated.values()),
            "ignored": sum(self.ignored.values()),
            "conflicts": sum(self.conflicts.values()),
        }

    def to_json(self) -> dict[str, Any]:
        totals = self.totals()
        return {
            "path": self.path,
            "kind": self.kind,
            "bundle_id": self.bundle_id,
            "from_site": self.from_site,
            "from_name": self.from_name,
            "created_at": self.created_at,
            "dry_run": self.dry_run,
            **totals,
            "refused": self.refused,
            "code": self.code,
            "reason": self.reason,
            "by_table": {
                name: {
                    "added": self.added[name],
                    "updated": self.updated[name],
                    "ignored": self.ignored[name],
                    "conflicts": self.conflicts[name],
                }
                for name in sorted(
                    set(self.added) | set(self.updated) | set(self.ignored) | set(self.conflicts)
                )
            },
            "ignored_reasons": dict(self.reasons),
            "ack_path": self.ack_path,
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        """One line in Chinese for the screen and the console."""
        if self.refused:
            return f"拒绝导入：{self.reason}"
        if self.kind == "ack":
            if self.updated:
                return f"{self.from_name}已确认收到数据包，下次导出将从此之后的变化开始"
            # Why: imported before, or a newer one's in (it said 已导入过 of one never seen).
            why = "；".join(self.reasons) or "回执已导入过"
            return f"{self.from_name}的这份回执未做更改：{why}"
        t = self.totals()
        verb = "预检（未导入）" if self.dry_run else "已导入"
        who = f"{self.from_name or self.from_site}" if self.from_site else ""
        text = (
            f"{verb}{who}：新增 {t['added']} 条，更新 {t['updated']} 条，"
            f"忽略 {t['ignored']} 条，冲突 {t['conflicts']} 条"
        )
        if self.reasons:
            text += (
                "（忽略原因：" + "；".join(f"{r} {n} 条" for r, n in self.reasons.items()) + "）"
            )
        return text
