"""What the 数据交换 sections read and write on the worker, and the texts they show (no Qt here).

Each section asks for its own: the status card for the exchange's standing, the history and the
sites tabs for their lists, the conflicts tab for the open conflicts. The long work (export, dry
run, import) is here too, reporting its progress through a plain callback, so the widgets only
start it and show what comes back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from desktop_app.domain.vocabulary import SiteLevel
from desktop_app.errors import UserError
from desktop_app.files import size_text
from desktop_app.services.app import AppServices
from desktop_app.services.backup import BackupResult
from desktop_app.services.context import Actor, Changes
from desktop_app.services.exchange import (
    TABLE_LABELS,
    BundleRecord,
    ConflictInfo,
    ExportResult,
    ImportReport,
    SyncStatus,
    TrustedSite,
)
from desktop_app.services.keys import PublicIdentity

log = logging.getLogger(__name__)

HISTORY_LIMIT = 200
HISTORY_COLUMNS = ("时间", "方向", "类型", "对方站点", "文件", "大小", "记录数", "确认/导入")
RESULT_COLUMNS = ("文件", "来自", "类型", "新增", "更新", "忽略", "冲突", "结果")
SITE_COLUMNS = ("站点代码", "站点名称", "级别", "指纹", "状态", "登记时间", "最近数据包")
CONFLICT_COLUMNS = ("发现时间", "县区", "记录", "本地版本", "县区版本", "原因")
DIRECTION_LABELS = {"out": "发出", "in": "收到"}
KIND_LABELS = {"data": "上报数据", "reference": "基础数据", "ack": "回执"}
BUNDLE_FILTER = "数据包和回执 (*.bbcs *.bbcsack);;所有文件 (*)"
IDENTITY_FILTER = "站点身份文件 (*.json);;所有文件 (*)"
# What an import that took anything in changed: cases, and with reference data the departments,
# holidays and rules, and the sites' last bundles.
IMPORTED = Changes(cases=True, departments=True, settings=True, site=True)

Progress = Callable[[str, int, int], None]


def time_text(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value is not None else ""


def record_count(counts: dict[str, Any]) -> int:
    return sum(n for n in counts.values() if isinstance(n, int) and not isinstance(n, bool))


# Reads ----------------------------------------------------------------------------------------


def load_fingerprint(services: AppServices) -> str:
    site = services.site.info()
    return services.keys.identity(site.code, site.name, site.level.value).fingerprint()


@dataclass(frozen=True)
class StatusData:
    """The exchange's standing; at the city also the counties and the bundles received."""

    status: SyncStatus
    sites: list[TrustedSite]
    history: list[BundleRecord]


def load_status(services: AppServices, is_city: bool) -> StatusData:
    status = services.sync.status()
    if not is_city:
        return StatusData(status, [], [])
    return StatusData(status, services.sync.trusted_sites(), services.sync.history(HISTORY_LIMIT))


@dataclass(frozen=True)
class ConflictsData:
    conflicts: list[ConflictInfo]
    site_names: dict[str, str]


def load_conflicts(services: AppServices) -> ConflictsData:
    names = {s.code: s.name for s in services.sync.trusted_sites()}
    return ConflictsData(services.sync.conflicts(), names)


def load_inbox(services: AppServices) -> str:
    """The city's shared inbox ("" when none is set); the records are not counted for it."""
    return services.sync.status(count_pending=False).inbox


def read_identity_to_trust(
    services: AppServices, path: Path
) -> tuple[PublicIdentity, TrustedSite | None]:
    """An identity file, and the site of the same code already registered (if any)."""
    identity = services.sync.read_identity(path)
    known = {s.code: s for s in services.sync.trusted_sites()}
    return identity, known.get(identity.site_code)


# Where a bundle goes --------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A place a bundle can be written: a detected drive or a folder the user chose."""

    text: str
    path: str
    tooltip: str = ""


def detected_targets() -> list[Target]:
    """U盘 and network drives, in that order (on the worker: a sleeping share can take
    seconds to answer)."""
    from desktop_app.system import drives

    order = {"removable": 0, "network": 1, "fixed": 2}
    targets = []
    for drive in sorted(drives.list_removable_drives(), key=lambda d: order.get(d.kind, 3)):
        free = drive.free_bytes
        tooltip = f"{drive.path}，可用 {size_text(free)}" if free is not None else drive.path
        targets.append(Target(drive.describe(), drive.path, tooltip))
    return targets


def describe_target(path: str) -> str:
    """Where ``path`` is, e.g. "U盘 KINGSTON (E:)\\报送"; "" when it cannot be told."""
    from desktop_app.system import drives

    try:
        return drives.describe_target(path)
    except Exception:  # a description is a nicety; never fail a finished export over it
        log.warning("could not describe %s", path, exc_info=True)
        return ""


# Long work ------------------------------------------------------------------------------------


def export_to(
    services: AppServices, actor: Actor, target: str, progress: Progress
) -> tuple[ExportResult, str]:
    """Write a bundle to ``target``; with it, where that is in words ("" if it cannot be told)."""
    result = services.sync.export(actor, Path(target), progress=progress)
    return result, describe_target(target)


def dry_run(
    services: AppServices, actor: Actor, paths: Sequence[Path], progress: Progress
) -> list[ImportReport]:
    """What importing ``paths`` would do (a folder means its files not imported yet)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(services.sync.pending_in_folder(path))
        elif not path.exists():
            raise UserError(f"找不到文件：{path}（U盘是否已拔出？）")
        else:
            files.append(path)
    reports = []
    for number, file in enumerate(files, 1):

        def report(
            what: str, done: int, total: int, n: int = number, name: str = file.name
        ) -> None:
            progress(f"{n}/{len(files)} {name}：{what}", done, total)

        reports.append(services.sync.import_file(actor, file, dry_run=True, progress=report))
    return reports


@dataclass(frozen=True)
class Imported:
    """What the import did, and what it changed (nothing when every file was refused)."""

    reports: list[ImportReport]
    changes: Changes | None
    backup: BackupResult | None = None  # the copy taken first, timed apart from the import


def import_files(
    services: AppServices, actor: Actor, paths: Sequence[Path], progress: Progress
) -> Imported:
    """Every import is preceded by a backup of the database (as ``bbcs import`` is)."""
    progress("导入前备份数据库……", 0, 0)
    backup = services.backups.before_import()
    reports = []
    for number, path in enumerate(paths, 1):

        def report(
            what: str, done: int, total: int, n: int = number, name: str = path.name
        ) -> None:
            progress(f"{n}/{len(paths)} {name}：{what}", done, total)

        reports.append(services.sync.import_file(actor, path, progress=report))
    changes = IMPORTED if any(not r.refused for r in reports) else None
    return Imported(reports, changes, backup)


# Texts ----------------------------------------------------------------------------------------


def status_text(data: StatusData, is_city: bool) -> str:
    status = data.status
    if is_city:
        counties = [s for s in data.sites if s.level is SiteLevel.COUNTY]
        active = [s for s in counties if s.state != "revoked"]
        received = [b for b in data.history if b.direction == "in" and b.kind == "data"]
        parts = [
            f"已登记县区 {len(active)} 个",
            f"已收到数据包 {len(received)} 个"
            + (f"（最近 {time_text(received[0].created_at)}）" if received else ""),
            f"待处理冲突 {status.open_conflicts} 条",
        ]
    else:
        city = status.city
        parts = [
            f"上级：{city.name}（{city.code}）" if city else "上级：尚未登记市级站点",
            f"上次导出：{time_text(status.last_export_at) or '从未导出'}",
            f"市级已确认到：{time_text(status.last_acked_at) or '尚无回执'}",
            f"待上报记录 {status.pending_records:,} 条",
        ]
    return "；".join(parts)


def history_values(record: BundleRecord) -> list[str]:
    if record.direction == "out":
        if record.kind == "reference":
            done = "（下发，无回执）"
        else:
            done = f"已确认 {time_text(record.acked_at)}" if record.acked_at else "待确认"
    else:
        done = f"已导入 {time_text(record.processed_at)}" if record.processed_at else ""
    peer = record.peer_name or record.peer_code
    if record.peer_code not in ("", "*") and record.peer_name:
        peer = f"{record.peer_name}（{record.peer_code}）"
    return [
        time_text(record.created_at),
        DIRECTION_LABELS.get(record.direction, record.direction),
        KIND_LABELS.get(record.kind, record.kind),
        peer,
        record.file_name,
        size_text(record.size),
        f"{record_count(record.counts):,}",
        done,
    ]


def counts_text(record: BundleRecord) -> str:
    return "；".join(
        f"{TABLE_LABELS.get(k, k)} {n}"
        for k, n in record.counts.items()
        if isinstance(n, int) and n
    )


def history_summary(history: Sequence[BundleRecord]) -> str:
    sent = sum(1 for r in history if r.direction == "out")
    return (
        f"发出 {sent} 个，收到 {len(history) - sent} 个"
        + (f"（只显示最近 {HISTORY_LIMIT} 个）" if len(history) >= HISTORY_LIMIT else "")
        + "。把鼠标停在文件名上可看到保存位置。"
    )


def site_values(site: TrustedSite) -> list[str]:
    revoked = site.state == "revoked"
    return [
        site.code,
        site.name,
        site.level.label,
        site.fingerprint,
        f"已吊销 {time_text(site.revoked_at)}" if revoked else "已登记",
        time_text(site.trusted_at),
        time_text(site.last_bundle_at) or "—",
    ]


def conflict_values(conflict: ConflictInfo, site_names: dict[str, str]) -> list[str]:
    entity = TABLE_LABELS.get(conflict.entity, conflict.entity)
    return [
        time_text(conflict.created_at),
        site_names.get(conflict.site_code, conflict.site_code),
        f"{entity} {conflict.title}".strip(),
        str(conflict.local_version),
        str(conflict.incoming_version),
        conflict.reason,
    ]


def result_values(report: ImportReport) -> list[str]:
    """A bundle's or acknowledgement's row in the results: its counts and what became of it."""
    totals = report.totals()
    if report.refused:
        outcome = f"拒绝：{report.reason}"
    elif report.dry_run:
        outcome = "；".join(["可以导入", *report.notes])
    elif report.kind == "ack":
        why = "；".join(report.reasons) or "回执已导入过"
        outcome = "市级已确认收到" if totals["updated"] else f"未做更改：{why}"
    else:
        outcome = "；".join(["已导入", *report.notes])
        if report.ack_path:
            outcome += f"；回执：{report.ack_path}"
    if report.reasons and not report.refused and report.kind != "ack":
        outcome += "（" + "；".join(f"{r} {n} 条" for r, n in report.reasons.items()) + "）"
    return [
        Path(report.path).name,
        report.from_name or report.from_site,
        KIND_LABELS.get(report.kind, report.kind),
        *(str(totals[k]) for k in ("added", "updated", "ignored", "conflicts")),
        outcome,
    ]


def preview_text(reports: Sequence[ImportReport]) -> str:
    """The dry run's summary above its table: nothing is imported yet."""
    importable = [r for r in reports if not r.refused]
    refused = len(reports) - len(importable)
    totals = {k: 0 for k in ("added", "updated", "ignored", "conflicts")}
    for report in importable:
        for key, value in report.totals().items():
            totals[key] += value
    text = (
        f"预检了 {len(reports)} 个文件（尚未导入任何数据）：可导入 {len(importable)} 个，"
        f"将新增 {totals['added']} 条、更新 {totals['updated']} 条、"
        f"忽略 {totals['ignored']} 条、冲突 {totals['conflicts']} 条。"
    )
    if refused:
        text += f"\n有 {refused} 个文件被拒绝，不会导入（原因见“结果”列）。"
    if totals["conflicts"]:
        text += "\n冲突的记录不会覆盖本地数据，将放入“数据冲突”由人工处理。"
    return text


def import_summary(reports: Sequence[ImportReport]) -> tuple[bool, str]:
    """Whether the import went through without refusals, and the sentence that says so."""
    done = [r for r in reports if not r.refused]
    refused = len(reports) - len(done)
    parts = [f"导入完成：{len(done)} 个文件已导入"]
    if refused:
        parts.append(f"{refused} 个被拒绝")
    acks = [r.ack_path for r in done if r.ack_path]
    if acks:
        parts.append(f"已生成 {len(acks)} 个回执文件（{Path(acks[0]).parent}），请交还县区导入")
    conflicts = sum(r.totals()["conflicts"] for r in done)
    if conflicts:
        parts.append(f"{conflicts} 条冲突待人工处理（见“数据冲突”）")
    return not refused, "；".join(parts) + "。"
