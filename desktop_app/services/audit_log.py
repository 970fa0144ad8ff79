"""Reading the audit log (审计日志): search, a page of rows at a time, export to CSV.

The auditor's screen and any command read the log through here, never through the table: every
call checks ``Permission.VIEW_AUDIT``. A search answers with entry ids (cheap at 100,000+
entries) and rows are read a page at a time, as the case ledger does. Writing entries stays with
:mod:`desktop_app.services.audit`, inside each service's own transaction; the only entry this
module writes is the one saying that the log was exported, and by whom.
"""

from __future__ import annotations

import csv
import errno
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, or_, select
from sqlalchemy.orm import Session

from desktop_app.domain.assignment_flow import AssignmentState
from desktop_app.domain.permissions import Permission
from desktop_app.domain.vocabulary import (
    Approach,
    CaseStatus,
    Channel,
    Nature,
    Outcome,
    ReferralState,
    ReplyMethod,
    VisitGrade,
)
from desktop_app.errors import EnvironmentProblem, UserError, ValidationFailed
from desktop_app.services import audit
from desktop_app.services.context import Actor, Clock
from desktop_app.storage.database import Database
from desktop_app.storage.models import Assignment, AuditEntry, Case, Complainant, Slip, User

EXPORT_ACTION = "export_audit_log"
EXPORT_BATCH = 2000

# What each action means, for people (the log stores the code). An action not listed here (a
# new one, or one made by a newer version) is shown by its code.
ACTION_LABELS: dict[str, str] = {
    "login": "登录",
    "login_failed": "登录失败",
    "lock": "账号锁定",
    "unlock": "解除账号锁定",
    "create": "新建",
    "update": "修改",
    "change_password": "修改密码",
    "change_own_password": "修改本人密码",
    "init_site": "初始化站点",
    "rename": "改名",
    "register": "受理登记",
    "repeat_visit": "再次来访",
    "issue_receipt": "出具受理回执",
    "add_attachment": "添加材料",
    "triage": "甄别分类",
    "conclude": "办结",
    "visit": "回访核查",
    "reopen": "重新办理",
    "withdraw": "撤回事项",
    "onsite": "现场督办",
    "basis_received": "书面依据收到",
    "basis_waived": "免除书面依据",
    "reply": "答复反映人",
    "visit_attempt": "回访未联系上",
    "visit_refused": "拒绝回访（回访结束）",
    "visit_unreached": "多次联系未果（回访结束）",
    "print_notice": "打印告知书",
    "reprint_notice": "补打告知书",
    "close_assignment": "交办随办结关闭",
    "close_assignment_withdrawn": "交办随撤回关闭",
    "correct": "更正",
    "draft_assignment": "拟办交办",
    "issue_slip": "签发交办单",
    "print_slip": "打印交办单",
    "reprint_slip": "补打交办单",
    "receive": "签收",
    "respond": "办理反馈",
    "request_extension": "申请延期",
    "decide_extension": "审批延期",
    "return": "退回",
    "void": "作废",
    "urge": "催办",
    "adjust_deadline": "调整时限",
    "recompute_deadlines": "重算时限",
    "set_window_phone": "设置窗口电话",
    "set_paper_settings": "公文设置",
    "save_scoring_settings": "保存评分表设置",
    "save_deadline_rules": "保存期限规则",
    "save_login_rules": "保存登录规则",
    "set_login_rules": "保存登录规则",
    "set_backup_settings": "保存备份设置",
    "save_override": "调整节假日",
    "delete_override": "删除节假日调整",
    "import_calendar": "导入节假日安排",
    "save_staff": "保存值班人员",
    "set_shift": "排班",
    "generate_roster": "生成值班表",
    "import_bundle": "导入数据包",
    "import_reference": "导入基础数据包",
    "import_ack": "导入回执",
    "export_data_bundle": "导出数据包",
    "export_reference_bundle": "导出基础数据包",
    "export_ack_bundle": "导出回执",
    "trust_site": "登记站点密钥",
    "revoke_site": "吊销站点密钥",
    "rotate_keys": "更换本站密钥",
    "resolve_conflict": "处理冲突",
    "reveal": "查看完整号码",
    "reveal_numbers": "查看完整号码",
    "screen_out": "不予受理/转办",
    "propose_referral": "提出问责线索",
    "send_referral": "签发问题线索移交函",
    "drop_referral": "问责线索不予移交",
    "decide_referral": "登记问责处理结果",
    "print_referral": "打印移交函",
    "reprint_referral": "补打移交函",
    "create_class": "新建一类事",
    "update_class": "修改一类事",
    "classify": "归入一类事",
    "unclassify": "移出一类事",
    "raise_warning": "产生预警",
    "class_warning": "预警转为一类事",
    "dismiss_warning": "排除预警",
    "warning_thresholds": "保存预警条件",
    "record_meeting": "记录联席会议",
    "update_meeting": "修改联席会议",
    "meeting_follow_up": "会议议定事项交办",
    "issue_bulletin": "印发分析通报",
    "export_register": "导出台账",
    "historical_import": "导入旧台账",
    "export_recovery_key": "导出恢复密钥",
    "replace_site_keys": "更新站点密钥",
    "backup": "备份",
    "restore": "恢复备份",
    "digest_tables": "为节假日、值班和设置加校验值",
    "tamper_found": "保存时发现记录被绕过程序改动",
    "demo_generate": "生成演示数据",
    "seat_enroll": "生成席位加入文件",
    "seat_join": "新席位加入",
    EXPORT_ACTION: "导出审计日志",
}

ENTITY_LABELS: dict[str, str] = {
    "case": "事项",
    "complainant": "反映人",
    "assignment": "交办",
    "slip": "交办单",
    "user": "用户",
    "site": "站点",
    "settings": "设置",
    "department": "部门",
    "area": "领域",
    "calendar": "节假日安排",
    "duty_staff": "值班人员",
    "duty_roster": "值班表",
    "bundle": "数据包",
    "audit_log": "审计日志",
    "seat": "席位",
    "referral": "问责线索",
    "issue_class": "一类事",
    "early_warning": "预警",
    "meeting": "联席会议",
    "bulletin": "分析通报",
    "register": "台账",
    "database": "数据库",
}

CSV_HEADERS = (
    "序号",
    "时间",
    "用户名",
    "姓名",
    "操作",
    "操作代码",
    "对象",
    "对象标识",
    "事项编号",
    "修改前",
    "修改后",
)


# The fields entries name most, for the auditor's screen (a field not listed shows its code).
FIELD_LABELS: dict[str, str] = {
    "state": "状态",
    "status": "状态",
    "number": "编号",
    "note": "说明",
    "reason": "理由",
    "print_count": "打印次数",
    "output": "输出方式",
    "file": "文件",
    "due_date": "期限",
    "extension": "延期",
    "nature": "问题性质",
    "approach": "处置方式",
    "causes": "受阻原因",
    "area": "领域",
    "title": "事项",
    "name": "名称",
    "role": "角色",
    "active": "启用",
    "summary": "内容",
    "case": "事项",
    "content_hash": "内容摘要值",
    "department": "部门",
    "working_days": "工作日数",
    "requirements": "交办要求",
    "grade": "评价",
    "method": "方式",
    "outcome": "办理结果",
    "reply_method": "答复方式",
    "replied_at": "答复时间",
    "visit_grade": "回访评价",
    "channel": "来源渠道",
    "locked_until": "锁定至",
    "failed_logins": "连续输错次数",
    "concluded_at": "办结时间",
    "what_was_done": "办理情况",
    "reply_text": "答复内容",
}
# Coded values shown with their words, the code after them (the CSV keeps the code): a walk's
# auditor read "outcome done", "reply_method phone".
_VALUE_LABELS: dict[str, dict[str, str]] = {
    "outcome": {v.value: v.label for v in Outcome},
    "reply_method": {v.value: v.label for v in ReplyMethod},
    "method": {v.value: v.label for v in ReplyMethod},
    "visit_grade": {v.value: v.label for v in VisitGrade},
    "grade": {v.value: v.label for v in VisitGrade},
    "channel": {v.value: v.label for v in Channel},
    "nature": {v.value: v.label for v in Nature},
    "approach": {v.value: v.label for v in Approach},
}
_STATE_LABELS: dict[str, dict[str, str]] = {
    "assignment": {s.value: s.label for s in AssignmentState},
    "case": {s.value: s.label for s in CaseStatus},
    "referral": {s.value: s.label for s in ReferralState},
}


def _field_label(name: str) -> str:
    label = FIELD_LABELS.get(name)
    return f"{label}（{name}）" if label else name


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def entity_label(entity: str) -> str:
    return ENTITY_LABELS.get(entity, entity)


@dataclass(frozen=True)
class AuditFilter:
    """What the auditor searches by; every field left empty matches everything."""

    user_name: str | None = None
    action: str | None = None
    case_number: str = ""  # the case's own entries and those of its complainant, papers
    date_from: date | None = None
    date_to: date | None = None  # inclusive

    def described(self) -> dict[str, str]:
        """The conditions that narrow the search, as the export's audit entry records them."""
        shown = {
            "user_name": self.user_name or "",
            "action": self.action or "",
            "case_number": self.case_number.strip(),
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
        }
        return {key: value for key, value in shown.items() if value}


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    user_name: str
    user_display: str  # the user's name today; "" for a name no user has (e.g. cli)
    action: str
    entity: str
    entity_uuid: str
    case_number: str  # the case the entry belongs to, when it belongs to one
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @property
    def action_label(self) -> str:
        return action_label(self.action)

    @property
    def entity_label(self) -> str:
        return entity_label(self.entity)

    @property
    def who(self) -> str:
        return f"{self.user_display}（{self.user_name}）" if self.user_display else self.user_name

    def changed_fields(self) -> list[tuple[str, str, str]]:
        """(field, before, after) for every field either side names, in a stable order; the
        common fields named in Chinese and a state by its label (the auditor read
        "state draft→voided"), the code after it, as the CSV keeps it."""
        before, after = self.before or {}, self.after or {}
        names = list(dict.fromkeys([*before, *after]))
        states = _STATE_LABELS.get(self.entity, {})

        def shown(name: str, value: Any) -> str:
            text = _text(value)
            words = states if name in ("state", "status") else _VALUE_LABELS.get(name, {})
            label = words.get(text)
            return f"{label}（{text}）" if label else text

        return [(_field_label(n), shown(n, before.get(n)), shown(n, after.get(n))) for n in names]


@dataclass(frozen=True)
class Choice:
    """A value to filter by and how the screen names it."""

    value: str
    label: str


@dataclass(frozen=True)
class AuditExport:
    path: Path
    count: int


class AuditLogService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def ids(self, actor: Actor, audit_filter: AuditFilter = AuditFilter()) -> list[int]:
        """Ids of the matching entries, newest first."""
        actor.require(Permission.VIEW_AUDIT)
        with self._db.read() as session:
            query = _filtered(session, select(AuditEntry.id), audit_filter)
            # Straight from the DBAPI cursor, as the ledger does: 100,000 ids in one list are
            # cheap, SQLAlchemy's per-row processing of them is not.
            result = session.connection().execute(query.order_by(AuditEntry.id.desc()))
            return [row[0] for row in result.cursor.fetchall()]

    def rows(self, actor: Actor, ids: Sequence[int]) -> list[AuditRow]:
        """The entries ``ids``, in the same order (ids no longer present are left out)."""
        actor.require(Permission.VIEW_AUDIT)
        if not ids:
            return []
        with self._db.read() as session:
            entries = session.scalars(select(AuditEntry).where(AuditEntry.id.in_(list(ids))))
            by_id = {e.id: e for e in entries}
            ordered = [by_id[i] for i in ids if i in by_id]
            return _rows(session, ordered)

    def users(self, actor: Actor) -> list[Choice]:
        """Everyone who has an entry, and every user: the user filter's choices."""
        actor.require(Permission.VIEW_AUDIT)
        with self._db.read() as session:
            names = dict(session.execute(select(User.username, User.display_name)).all())
            logged = session.scalars(select(AuditEntry.user_name).distinct()).all()
        everyone = sorted(set(names) | {n for n in logged if n})
        return [Choice(n, f"{names[n]}（{n}）" if n in names else n) for n in everyone]

    def actions(self, actor: Actor) -> list[Choice]:
        """Every action in the log (and every one this version writes), labelled."""
        actor.require(Permission.VIEW_AUDIT)
        with self._db.read() as session:
            logged = set(session.scalars(select(AuditEntry.action).distinct()))
        known = [Choice(a, f"{label}（{a}）") for a, label in ACTION_LABELS.items() if a in logged]
        unknown = [Choice(a, a) for a in sorted(logged - set(ACTION_LABELS))]
        return known + unknown

    def export_csv(self, actor: Actor, audit_filter: AuditFilter, target: Path) -> AuditExport:
        """The search's entries (newest first) as CSV that Excel opens (UTF-8 with a BOM).

        Written whole or not at all: a temp file beside ``target`` replaces it only once every
        row is on disk, inside the transaction that audits the export — a failed export leaves
        neither a file nor an entry, and no export goes unrecorded.
        """
        actor.require(Permission.VIEW_AUDIT)
        target = Path(target)
        count = 0
        try:
            if target.is_dir():
                raise UserError(f"“{target}”是一个文件夹，请输入要保存的文件名。")
            if not target.parent.is_dir():
                raise UserError(f"文件夹“{target.parent}”不存在，请选择另一个位置。")
            handle, temp_name = tempfile.mkstemp(
                prefix=f".{target.name}.", suffix=".part", dir=target.parent
            )
        except OSError as exc:
            raise _write_problem(exc, target) from exc
        try:
            with os.fdopen(handle, "w", encoding="utf-8-sig", newline="") as stream:
                writer = csv.writer(stream)
                writer.writerow(CSV_HEADERS)
                for row in self._all_rows(audit_filter):
                    writer.writerow(_csv_record(row))
                    count += 1
                stream.flush()
                os.fsync(stream.fileno())
            with self._db.write() as session:
                audit.record(
                    session,
                    at=self._clock.now(),
                    user_name=actor.username,
                    action=EXPORT_ACTION,
                    entity="audit_log",
                    entity_uuid="audit_log",
                    after={**audit_filter.described(), "count": count, "file": target.name},
                )
                session.flush()
                os.replace(temp_name, target)
        except OSError as exc:
            with suppress(OSError):
                os.unlink(temp_name)
            raise _write_problem(exc, target) from exc
        except BaseException:
            with suppress(OSError):
                os.unlink(temp_name)
            raise
        return AuditExport(target, count)

    def _all_rows(self, audit_filter: AuditFilter) -> Iterator[AuditRow]:
        """Every matching entry, newest first, read in batches (keyset on the id)."""
        last: int | None = None
        while True:
            with self._db.read() as session:
                query = _filtered(session, select(AuditEntry), audit_filter)
                if last is not None:
                    query = query.where(AuditEntry.id < last)
                batch = list(
                    session.scalars(query.order_by(AuditEntry.id.desc()).limit(EXPORT_BATCH))
                )
                rows = _rows(session, batch)
            if not rows:
                return
            yield from rows
            last = rows[-1].id


def _filtered(session: Session, query: Select[Any], audit_filter: AuditFilter) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = []
    if audit_filter.user_name:
        conditions.append(AuditEntry.user_name == audit_filter.user_name)
    if audit_filter.action:
        conditions.append(AuditEntry.action == audit_filter.action)
    if audit_filter.date_from is not None:
        conditions.append(AuditEntry.at >= datetime.combine(audit_filter.date_from, time.min))
    if audit_filter.date_to is not None:
        end = datetime.combine(audit_filter.date_to + timedelta(days=1), time.min)
        conditions.append(AuditEntry.at < end)
    number = audit_filter.case_number.strip()
    if number:
        conditions.append(_about_case(session, number))
    return query.where(*conditions)


def _about_case(session: Session, number: str) -> ColumnElement[bool]:
    """Entries about the case numbered ``number``: the case itself, its complainant, its
    交办 and their 交办单."""
    case = session.execute(
        select(Case.id, Case.uuid, Case.complainant_id).where(Case.number == number)
    ).first()
    if case is None:
        raise ValidationFailed({"case_number": f"没有编号为“{number}”的事项，请核对编号。"})
    case_id, case_uuid, complainant_id = case
    complainant_uuid = session.scalar(
        select(Complainant.uuid).where(Complainant.id == complainant_id)
    )
    assignments = dict(
        session.execute(
            select(Assignment.id, Assignment.uuid).where(Assignment.case_id == case_id)
        ).all()
    )
    slips = list(
        session.scalars(select(Slip.uuid).where(Slip.assignment_id.in_(list(assignments))))
    )
    related = [
        and_(AuditEntry.entity == "case", AuditEntry.entity_uuid == case_uuid),
        and_(AuditEntry.entity == "complainant", AuditEntry.entity_uuid == complainant_uuid)
        if complainant_uuid
        else false(),
    ]
    if assignments:
        related.append(
            and_(
                AuditEntry.entity == "assignment",
                AuditEntry.entity_uuid.in_(list(assignments.values())),
            )
        )
    if slips:
        related.append(and_(AuditEntry.entity == "slip", AuditEntry.entity_uuid.in_(slips)))
    return or_(*related)


def _rows(session: Session, entries: Sequence[AuditEntry]) -> list[AuditRow]:
    """Rows for ``entries``, with each user's name and each entry's case number looked up once
    per page (a few small queries, not one per row)."""
    names = dict(
        session.execute(
            select(User.username, User.display_name).where(
                User.username.in_({e.user_name for e in entries})
            )
        ).all()
    )
    numbers = _case_numbers(session, entries)
    return [
        AuditRow(
            id=e.id,
            at=e.at,
            user_name=e.user_name,
            user_display=names.get(e.user_name, ""),
            action=e.action,
            entity=e.entity,
            entity_uuid=e.entity_uuid,
            case_number=numbers.get((e.entity, e.entity_uuid), ""),
            before=e.before,
            after=e.after,
        )
        for e in entries
    ]


def _case_numbers(session: Session, entries: Sequence[AuditEntry]) -> dict[tuple[str, str], str]:
    wanted: dict[str, set[str]] = {"case": set(), "assignment": set(), "slip": set()}
    for entry in entries:
        if entry.entity in wanted:
            wanted[entry.entity].add(entry.entity_uuid)
    found: dict[tuple[str, str], str] = {}
    if wanted["case"]:
        rows = session.execute(select(Case.uuid, Case.number).where(Case.uuid.in_(wanted["case"])))
        found.update({("case", uuid): number for uuid, number in rows})
    if wanted["assignment"]:
        rows = session.execute(
            select(Assignment.uuid, Case.number)
            .join(Case, Assignment.case_id == Case.id)
            .where(Assignment.uuid.in_(wanted["assignment"]))
        )
        found.update({("assignment", uuid): number for uuid, number in rows})
    if wanted["slip"]:
        rows = session.execute(
            select(Slip.uuid, Case.number)
            .join(Assignment, Slip.assignment_id == Assignment.id)
            .join(Case, Assignment.case_id == Case.id)
            .where(Slip.uuid.in_(wanted["slip"]))
        )
        found.update({("slip", uuid): number for uuid, number in rows})
    return found


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _json(value: dict[str, Any] | None) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _cell(value: str) -> str:
    """A cell Excel shows as text: one starting like a formula (=, +, -, @) is prefixed with an
    apostrophe, so a name typed as ``=HYPERLINK(…)`` is not run when the file is opened."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _csv_record(row: AuditRow) -> list[str | int]:
    return [
        row.id,
        row.at.strftime("%Y-%m-%d %H:%M:%S"),
        _cell(row.user_name),
        _cell(row.user_display),
        row.action_label,
        row.action,
        row.entity_label,
        _cell(row.entity_uuid),
        _cell(row.case_number),
        _cell(_json(row.before)),
        _cell(_json(row.after)),
    ]


def _write_problem(exc: OSError, target: Path) -> EnvironmentProblem:
    if exc.errno == errno.ENOSPC:
        return EnvironmentProblem(
            f"磁盘空间已满，审计日志未能导出到“{target}”。请清理磁盘或换一个位置。"
        )
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return EnvironmentProblem(f"“{target.parent}”不可写，审计日志未能导出。请换一个位置。")
    return EnvironmentProblem(f"导出审计日志到“{target}”时出错：{exc.strerror or exc}。")
