"""Integrity checks and backups (``bbcs check``, ``bbcs backup``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from desktop_app.domain.case_flow import EventKind, derive_status
from desktop_app.errors import InvalidTransition
from desktop_app.services import audit, integrity
from desktop_app.services.attachments import AttachmentStore
from desktop_app.services.context import Clock
from desktop_app.storage.database import Database
from desktop_app.storage.models import Attachment, Case, CaseEvent


@dataclass
class CheckReport:
    database: str = "ok"
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # worth knowing, not a problem
    audit_entries: int = 0
    cases: int = 0
    attachments: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


class MaintenanceService:
    def __init__(self, db: Database, clock: Clock, attachments: AttachmentStore) -> None:
        self._db = db
        self._clock = clock
        self._attachments = attachments

    def check(self) -> CheckReport:
        """SQLite integrity, foreign keys, the audit chain and its anchor, record digests, case
        numbers, case histories and the materials (PostgreSQL: in the database)."""
        report = CheckReport()
        with self._db.read(snapshot=True) as session:
            if self._db.is_sqlite:
                rows = [r[0] for r in session.execute(text("PRAGMA integrity_check"))]
                if rows != ["ok"]:
                    report.database = "; ".join(rows[:5])
                    report.problems.extend(f"数据库损坏：{r}" for r in rows[:20])
                fk = session.execute(text("PRAGMA foreign_key_check")).all()
                if fk:
                    report.problems.append(f"有 {len(fk)} 条记录引用了不存在的数据")
            report.problems.extend(audit.verify_chain(session))
            # Cases whose timeline was changed behind the program: named once, not again for
            # what replaying the changed lines then says (办理记录不完整 …).
            tampered_cases: set[int] = set()
            report.problems.extend(self._check_tampering(session, tampered_cases))
            report.audit_entries = int(session.scalar(text("SELECT count(*) FROM audit_log")) or 0)
            report.problems.extend(self._check_histories(session, tampered_cases))
            report.cases = int(session.scalar(text("SELECT count(*) FROM cases")) or 0)
            named = session.execute(select(Attachment.sha256, Attachment.size))
            sizes = {sha: size for sha, size in named}
        report.attachments = len(sizes)
        report.problems.extend(self._attachments.problems(sizes))
        waiting = self._attachments.waiting(sizes)
        if waiting:
            report.notes.append(
                f"有 {len(waiting)} 份材料仍只在数据目录的 attachments 文件夹中（完好），尚未存入"
                "数据库，备份中还没有它们：下次启动本程序的窗口时即存入。"
            )
        return report

    def tampered_rules(self) -> list[str]:
        """What the window checks as it starts, besides the file: the records it acts on at
        once (``integrity.RULE_TABLES``: who may sign, the deadline rules, holidays, who is on
        duty) against their digests and seals. A rule lengthened or a holiday deleted by SQL
        was used by every window until someone ran bbcs check."""
        site = integrity.site_of(self._db.engine)
        if site is None:
            return []
        with self._db.read(snapshot=True) as session:
            return [
                *integrity.verify_records(session, site, integrity.RULE_TABLES),
                *integrity.verify_sets(session, site),
                *integrity.recorded_findings(session),
            ]

    def _check_tampering(self, session: Session, tampered_cases: set[int]) -> list[str]:
        """What the keys outside the database show (integrity.py): the audit log against its
        anchor, each audited record against its digest; case and slip numbers without gaps; and
        every record the audit log says was created still there."""
        problems: list[str] = []
        site = integrity.site_of(self._db.engine)
        if site is not None:
            problems.extend(integrity.verify_anchor(session, site))
            problems.extend(integrity.verify_records(session, site))
            problems.extend(integrity.verify_sets(session, site))
            problems.extend(integrity.verify_events(session, site, tampered_cases))
            problems.extend(integrity.recorded_findings(session))
        problems.extend(integrity.missing_case_numbers(session))
        problems.extend(integrity.missing_slip_numbers(session))
        problems.extend(integrity.missing_paper_numbers(session))
        problems.extend(integrity.deleted_records(session))
        return problems

    @staticmethod
    def _check_histories(session: Session, skip: set[int]) -> list[str]:
        problems: list[str] = []
        statuses = dict(session.execute(select(Case.id, Case.status)).all())
        numbers = dict(session.execute(select(Case.id, Case.number)).all())
        kinds: dict[int, list[EventKind]] = {}
        for case_id, kind in session.execute(
            select(CaseEvent.case_id, CaseEvent.kind).order_by(CaseEvent.case_id, CaseEvent.id)
        ):
            if kind in EventKind._value2member_map_:
                kinds.setdefault(case_id, []).append(EventKind(kind))
        for case_id, status in statuses.items():
            if case_id in skip:
                continue
            try:
                derived = derive_status(kinds.get(case_id, []))
            except InvalidTransition as exc:
                problems.append(f"事项 {numbers[case_id]} 的办理记录不完整：{exc.message}")
                continue
            if derived.value != status:
                problems.append(
                    f"事项 {numbers[case_id]} 的状态（{status}）与办理记录（{derived.value}）不一致"
                )
            if len(problems) > 50:
                problems.append("……问题过多，其余未列出")
                break
        return problems
