"""The 台账 out (issue 17): the cases of a ledger filter as the register offices keep in Excel.

One row per case with the columns offices keep, milestone dates taken from the record and its
history, and a second sheet of the assignments; written as xlsx (XlsxWriter, constant memory, so
100,000 rows never sit in memory), CSV (UTF-8 with BOM, which Excel and WPS need to read Chinese)
or the printed 登记簿 (documents/register_book.py). Rows are read a chunk at a time.

Personal numbers: the phone is masked unless the caller asked for it in clear and the role may
reveal numbers (the same permission as ``CaseService.reveal_numbers``); an export with clear
numbers is on the audit log, like a reveal.
"""

from __future__ import annotations

import csv
import re
import tempfile
import zipfile
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, suppress
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import xlsxwriter
from sqlalchemy import BindParameter, and_, bindparam, func, select
from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.utility import xl_col_to_name

from desktop_app.documents.register_book import (
    BookLine,
    RegisterBookContent,
    page_count,
    render_register_book,
)
from desktop_app.domain.assignment_flow import AssignmentKind, AssignmentState, ExtensionState
from desktop_app.domain.case_flow import EventKind
from desktop_app.domain.papers import PaperKind
from desktop_app.domain.permissions import Permission
from desktop_app.domain.validation import mask_phone
from desktop_app.domain.vocabulary import (
    Approach,
    CaseStatus,
    Channel,
    LabelledEnum,
    Nature,
    Outcome,
    ReferralState,
    VisitGrade,
    chinese_date,
)
from desktop_app.errors import EnvironmentProblem, UserError, ValidationFailed, cannot_write
from desktop_app.files import written_beside
from desktop_app.services import audit
from desktop_app.services.cases import REVEAL_PERMISSION
from desktop_app.services.context import Actor, Clock
from desktop_app.services.ledger import CaseFilter, LedgerService, SortKey
from desktop_app.services.sealing import PHONE_COLUMN, Sealer
from desktop_app.storage.database import Database
from desktop_app.storage.models import (
    Assignment,
    Case,
    CaseEvent,
    Complainant,
    Department,
    Referral,
    Site,
    Slip,
)

# (done, total): rows written so far; the caller's cancel is a separate check (``cancelled``).
Progress = Callable[[int, int], None]

_CHUNK = 1000
_Chunk = TypeVar("_Chunk")
EXPORT_PERMISSION = Permission.VIEW_CASES


class RegisterFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"

    @classmethod
    def for_path(cls, path: Path) -> RegisterFormat:
        """The format a file name asks for; anything else is the user's mistake."""
        suffix = path.suffix.lower().lstrip(".")
        for member in cls:
            if member.value == suffix:
                return member
        raise UserError(f"“{path.name}”：台账可导出为 .xlsx 或 .csv 文件")


class ExportCancelled(UserError):
    """The user cancelled: nothing was written (the partial file is removed)."""

    def __init__(self) -> None:
        super().__init__("已取消导出，没有写出文件")


@dataclass(frozen=True)
class RegisterLine:
    """One case as the register shows it: plain values, dates as dates."""

    number: str
    original_number: str  # 原编号 of a case brought in from an old Excel 台账, else ""
    county: str  # the 县区 whose case it is (its site's short name): a city's register merges them
    received_on: date
    channel: str
    complainant: str
    phone: str
    area: str
    title: str
    nature: str
    approach: str
    triaged_on: date | None
    department: str  # 受阻部门: where the person was stuck
    lead_departments: str  # 承办单位: those the matter was assigned to (交办, 督办), in turn
    slip_numbers: str
    assigned_on: date | None
    due_date: date | None
    replied_on: date | None
    concluded_on: date | None
    status: str
    outcome: str
    visited_on: date | None
    visit_grade: str
    referrals: str


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    width: int
    is_date: bool = False


CASE_COLUMNS: tuple[Column, ...] = (
    Column("编号", "number", 16),
    Column("原编号", "original_number", 14),
    Column("县区", "county", 8),
    Column("受理日期", "received_on", 11, True),
    Column("渠道", "channel", 8),
    Column("反映人", "complainant", 12),
    Column("联系电话", "phone", 14),
    Column("领域", "area", 10),
    Column("事项", "title", 30),
    Column("性质", "nature", 8),
    Column("处置方式", "approach", 10),
    Column("甄别日期", "triaged_on", 11, True),
    Column("受阻部门", "department", 16),
    Column("承办单位", "lead_departments", 16),
    Column("交办单号", "slip_numbers", 20),
    Column("交办日期", "assigned_on", 11, True),
    Column("时限", "due_date", 11, True),
    Column("答复日期", "replied_on", 11, True),
    Column("办结日期", "concluded_on", 11, True),
    Column("状态", "status", 8),
    Column("结果", "outcome", 12),
    Column("回访日期", "visited_on", 11, True),
    Column("满意度", "visit_grade", 10),
    Column("问责", "referrals", 16),
)

ASSIGNMENT_COLUMNS: tuple[Column, ...] = (
    Column("交办单号", "slip_number", 20),
    Column("事项编号", "case_number", 16),
    Column("类型", "kind", 6),
    Column("承办单位", "department", 16),
    Column("状态", "state", 10),
    Column("签发日期", "issued_on", 11, True),
    Column("原定时限", "original_due_date", 11, True),
    Column("时限", "due_date", 11, True),
    Column("延期", "extension", 12),
    Column("签收日期", "received_on", 11, True),
    Column("反馈日期", "responded_on", 11, True),
    Column("退回原因", "returned_reason", 20),
    Column("催办日期", "urged_on", 11, True),
)


@dataclass(frozen=True)
class _AssignmentsRead:
    """A chunk's assignments (``_ASSIGNMENTS``' columns, in issue order) and each one's valid
    slip numbers (oldest first): read once for both sheets of the xlsx."""

    rows: Sequence[Any]
    slips: dict[int, list[str]]


@dataclass(frozen=True)
class RegisterExport:
    """What was written: where, how many rows, and whether the numbers were in clear."""

    path: Path
    cases: int
    assignments: int
    numbers_clear: bool

    @property
    def counts(self) -> str:
        """What it holds, as the clerk is told: a CSV is the cases' sheet alone (it said
        "交办 0 条" of a register whose cases had hundreds)."""
        if RegisterFormat.for_path(self.path) is RegisterFormat.CSV:
            return f"事项 {self.cases:,} 件；CSV 只含事项台账，交办情况请导出 .xlsx"
        return f"事项 {self.cases:,} 件，交办 {self.assignments:,} 条"


@dataclass(frozen=True)
class RegisterBook:
    path: Path
    cases: int
    pages: int
    numbers_clear: bool


class RegisterExportService:
    """Reads the register a chunk at a time and writes it; owns its read sessions."""

    def __init__(self, db: Database, clock: Clock, sealer: Sealer, ledger: LedgerService) -> None:
        self._db = db
        self._clock = clock
        self._sealer = sealer
        self._ledger = ledger

    def clear_numbers_allowed(self, actor: Actor) -> bool:
        """Whether this user may take the numbers out unmasked."""
        return actor.can(REVEAL_PERMISSION)

    def case_ids(self, case_filter: CaseFilter) -> list[int]:
        """The filter's cases in register order (oldest first, as a register book runs)."""
        return self._ledger.ids(case_filter, sort=SortKey.RECEIVED, descending=False)

    def export(
        self,
        actor: Actor,
        path: Path,
        case_filter: CaseFilter,
        *,
        masked: bool = True,
        progress: Progress | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> RegisterExport:
        """Write the filter's cases to ``path`` (.xlsx or .csv); written to a temporary file
        beside it and moved into place at the end, so a cancel or a failure leaves no half file.
        """
        actor.require(EXPORT_PERMISSION)
        refuse_reversed_dates(case_filter)
        kind = RegisterFormat.for_path(path)
        clear = not masked and self.clear_numbers_allowed(actor)
        ids = self.case_ids(case_filter)
        if kind is RegisterFormat.XLSX and len(ids) > EXCEL_ROWS - 1:
            raise UserError(
                f"共 {len(ids):,} 件，超过 Excel 一张表最多 {EXCEL_ROWS - 1:,} 行的上限："
                "请按日期或县区分几次导出，或导出为 CSV"
            )
        report = progress or (lambda _done, _total: None)
        stop = cancelled or (lambda: False)
        path = path.resolve()
        if not path.parent.is_dir():
            raise UserError(f"文件夹“{path.parent}”不存在")
        # Named beside the target (so the move is a rename) and made like any new file there.
        try:
            with written_beside(path) as temporary:
                if kind is RegisterFormat.XLSX:
                    counted = self._write_xlsx(temporary, ids, clear, report, stop)
                else:
                    counted = self._write_csv(temporary, ids, clear, report, stop)
        except OSError as exc:
            raise EnvironmentProblem(cannot_write(exc, path, "台账文件")) from exc
        except FileCreateError as exc:  # xlsxwriter's, around the OSError of a read-only place
            raise EnvironmentProblem(cannot_write(_os_error(exc), path, "台账文件")) from exc
        if clear:
            self._audit_clear_export(actor, path, len(ids))
        return RegisterExport(path, len(ids), counted, clear)

    def book(
        self,
        actor: Actor,
        path: Path,
        case_filter: CaseFilter,
        *,
        issuer: str,
        masked: bool = False,
    ) -> RegisterBook:
        """The 登记簿 of the filter's cases as an A3 PDF: inspectors phone the complainants back
        from it, so the phone is in clear for a role allowed it unless ``masked``."""
        actor.require(EXPORT_PERMISSION)
        refuse_reversed_dates(case_filter)
        clear = not masked and self.clear_numbers_allowed(actor)
        ids = self.case_ids(case_filter)
        lines = tuple(
            BookLine(
                number=line.number,
                original_number=line.original_number,
                received_on=line.received_on.isoformat(),
                complainant=line.complainant,
                phone=line.phone,
                title=line.title,
                department=line.lead_departments,
                due_date=line.due_date.isoformat() if line.due_date else "",
                status=line.status,
                concluded_on=line.concluded_on.isoformat() if line.concluded_on else "",
                visit_grade=line.visit_grade,
            )
            for chunk in self.lines(ids, clear=clear)
            for line in chunk
        )
        content = RegisterBookContent(
            issuer=issuer,
            period=_period(case_filter),
            printed_at=self._clock.now(),
            lines=lines,
            numbers_masked=not clear,
        )
        render_register_book(content, out=path)
        if clear:
            self._audit_clear_export(actor, path, len(ids))
        return RegisterBook(path, len(ids), page_count(len(ids)), clear)

    def lines(self, ids: Sequence[int], *, clear: bool = False) -> Iterator[list[RegisterLine]]:
        """The register lines of ``ids``, in their order, a chunk at a time."""
        for chunk in self._case_chunks(ids, clear):
            yield [RegisterLine(*values) for values in chunk]

    def _case_chunks(self, ids: Sequence[int], clear: bool) -> Iterator[list[tuple[Any, ...]]]:
        for start in range(0, len(ids), _CHUNK):
            yield self._case_values(ids[start : start + _CHUNK], clear)

    def _both_chunks(
        self, ids: Sequence[int], clear: bool
    ) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            read = self._read_assignments(chunk)
            yield self._case_values(chunk, clear, read), self._assignment_values(chunk, read)

    # Writers ----------------------------------------------------------------------------

    def _write_xlsx(
        self,
        path: Path,
        ids: Sequence[int],
        clear: bool,
        report: Progress,
        stop: Callable[[], bool],
    ) -> int:
        # Its row files in a folder of the export's own, removed however it ends (xlsxwriter
        # leaves them behind when packing fails, e.g. on a full disk); a file Windows still
        # holds open then must not hide the disk's own error.
        with tempfile.TemporaryDirectory(
            prefix="bbcs-register-", ignore_cleanup_errors=True
        ) as scratch:
            workbook = xlsxwriter.Workbook(
                str(path),
                {
                    "constant_memory": True,
                    "tmpdir": scratch,
                    # A complainant's text starting with "=" stays text, never a formula or a link.
                    "strings_to_formulas": False,
                    "strings_to_urls": False,
                    "default_date_format": "yyyy-mm-dd",
                },
            )
            header = workbook.add_format({"bold": True, "bg_color": "#DDE4EE", "border": 1})
            dates = workbook.add_format({"num_format": "yyyy-mm-dd"})
            total = len(ids)
            assignments = 0
            try:
                cases_sheet = _sheet(workbook, "事项台账", CASE_COLUMNS, header, dates)
                assignment_sheet = _sheet(workbook, "交办情况", ASSIGNMENT_COLUMNS, header, dates)
                case_rows = _RowWriter(cases_sheet, CASE_DATES, dates)
                assignment_rows = _RowWriter(assignment_sheet, ASSIGNMENT_DATES, dates)
                row = 0
                # Both sheets a chunk of cases at a time (each sheet has a row file of its own), so
                # the progress covers the assignments too.
                with closing(_read_ahead(self._both_chunks(ids, clear))) as chunks:
                    for case_chunk, assignment_chunk in chunks:
                        if stop():
                            raise ExportCancelled()
                        row = case_rows.write(row + 1, case_chunk)
                        assignments = assignment_rows.write(assignments + 1, assignment_chunk)
                        report(row, total)
                if stop():  # the packing that follows cannot be stopped: the last chance
                    raise ExportCancelled()
                _finish_sheet(cases_sheet, row, CASE_COLUMNS)
                _finish_sheet(assignment_sheet, assignments, ASSIGNMENT_COLUMNS)
            finally:
                try:
                    workbook.close()
                except FileCreateError as exc:  # XlsxWriter's wrapper of the OSError (disk full …)
                    _drop_open_zip(exc)
                    context = exc.__context__
                    raise (context if isinstance(context, OSError) else OSError(str(exc))) from exc
            return assignments

    def _write_csv(
        self,
        path: Path,
        ids: Sequence[int],
        clear: bool,
        report: Progress,
        stop: Callable[[], bool],
    ) -> int:
        """The cases only (a CSV has one sheet); dates as YYYY-MM-DD."""
        done = 0
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow([column.header for column in CASE_COLUMNS])
            with closing(_read_ahead(self._case_chunks(ids, clear))) as chunks:
                for chunk in chunks:
                    if stop():
                        raise ExportCancelled()
                    writer.writerows([_csv_cell(value) for value in values] for values in chunk)
                    done += len(chunk)
                    report(done, len(ids))
        return 0

    # Reading ----------------------------------------------------------------------------

    def _case_values(
        self, chunk: Sequence[int], clear: bool, read: _AssignmentsRead | None = None
    ) -> list[tuple[Any, ...]]:
        """The cells of the cases ``chunk``, in its order: tuples, as 100,000 lines were
        a second of building and reading back dataclasses. The slips and the first issue come
        from ``read`` when the chunk's assignments were read already (the xlsx)."""
        ids = {"ids": list(chunk)}
        with self._db.read() as session:
            rows = session.execute(_CASES, ids).all()
            slips: dict[int, list[str]] = {}
            assigned: dict[int, datetime] = {}
            leads: dict[int, list[str]] = {}
            issues: Sequence[Any]
            if read is None:
                issues = session.execute(_CASE_SLIPS, ids).all()
            else:  # the same rows: each assignment's issuing slip, in issue order
                issues = [
                    (r[1], number, r[6], r[3], r[4], r[5])
                    for r in read.rows
                    for number in read.slips.get(r[0], (None,))
                ]
            for case_id, number, issued_at, department_name, kind, state in issues:
                if number:
                    slips.setdefault(case_id, []).append(number)
                if issued_at is not None and (
                    case_id not in assigned or issued_at < assigned[case_id]
                ):
                    assigned[case_id] = issued_at
                # Not one voided after signing, nor one sent back as not its matter.
                if issued_at is not None and kind in _LEAD_KINDS and state not in _NOT_ITS_MATTER:
                    names = leads.setdefault(case_id, [])
                    if department_name not in names:
                        names.append(department_name)
            visited: dict[int, datetime] = dict(session.execute(_VISITS, ids).all())
            counties: dict[str, str] = {
                code: short for code, short in session.execute(select(Site.code, Site.short_name))
            }
            referrals: dict[int, list[str]] = {}
            for case_id, state, number in session.execute(_REFERRALS, ids):
                label = _REFERRAL_STATES[state]
                referrals.setdefault(case_id, []).append(f"{number} {label}" if number else label)
        open_phone = self._sealer.open
        by_id: dict[int, tuple[Any, ...]] = {}
        for (
            case_id,
            number,
            original_number,
            received_at,
            channel,
            complainant,
            phone_sealed,
            area,
            title,
            nature,
            approach,
            department,
            due_date,
            replied_at,
            concluded_at,
            status,
            outcome,
            visit_grade,
            triaged_at,
            site_code,
        ) in rows:
            phone = open_phone(phone_sealed, PHONE_COLUMN)
            by_id[case_id] = (  # CASE_COLUMNS' order
                number,
                original_number,
                counties.get(site_code, site_code),
                received_at.date(),
                _CHANNELS[channel],
                complainant,
                phone if clear or not phone else _masked_phone(phone),
                area,
                title,
                _NATURES[nature] if nature else "",
                _APPROACHES[approach] if approach else "",
                triaged_at.date() if triaged_at else None,
                department or "",
                # A case from an old 台账 kept its 承办单位 as the department (register_import).
                "、".join(leads.get(case_id, ())) or (department or "" if original_number else ""),
                "、".join(slips.get(case_id, ())),
                assigned[case_id].date() if case_id in assigned else None,
                due_date,
                replied_at.date() if replied_at else None,
                concluded_at.date() if concluded_at else None,
                _CASE_STATUSES[status],
                _OUTCOMES[outcome] if outcome else "",
                visited[case_id].date() if case_id in visited else None,
                _VISIT_GRADES[visit_grade] if visit_grade else "",
                "；".join(referrals.get(case_id, ())),
            )
        return [by_id[case_id] for case_id in chunk if case_id in by_id]

    def _read_assignments(self, chunk: Sequence[int]) -> _AssignmentsRead:
        ids = {"ids": list(chunk)}
        with self._db.read() as session:
            # Columns, not entities: 100,000 ORM objects would cost more than the query.
            rows = session.execute(_ASSIGNMENTS, ids).all()
            slips: dict[int, list[str]] = {}
            for assignment_id, number in session.execute(_ASSIGNMENT_SLIPS, ids):
                slips.setdefault(assignment_id, []).append(number)
        return _AssignmentsRead(rows, slips)

    def _assignment_values(
        self, chunk: Sequence[int], read: _AssignmentsRead
    ) -> list[tuple[Any, ...]]:
        """The assignment sheet's cells of the cases ``chunk``: case order, then issue order."""
        order = {case_id: position for position, case_id in enumerate(chunk)}
        rows = read.rows
        # The paper that issued each (a 交办单 or 督办单; reminders and notices are not listed).
        numbers = {assignment_id: slips[-1] for assignment_id, slips in read.slips.items()}
        lines = [
            (
                order[case_id],
                (  # ASSIGNMENT_COLUMNS' order
                    # A 协办 is signed on its lead's paper (the window shows that number).
                    numbers.get(assignment_id) or numbers.get(parent_id, ""),
                    case_number,
                    _ASSIGNMENT_KINDS[kind],
                    department,
                    _ASSIGNMENT_STATES[state],
                    issued_at.date() if issued_at else None,
                    original_due_date,
                    due_date,
                    _extension(extension_state, extension_days),
                    received_on,
                    responded_at.date() if responded_at else None,
                    returned_reason,
                    urged_at.date() if urged_at else None,
                ),
            )
            for (
                assignment_id,
                case_id,
                case_number,
                department,
                kind,
                state,
                issued_at,
                original_due_date,
                due_date,
                extension_state,
                extension_days,
                received_on,
                responded_at,
                returned_reason,
                urged_at,
                parent_id,
            ) in rows
        ]
        lines.sort(key=lambda pair: pair[0])  # stable: issue order within a case
        return [line for _, line in lines]

    def _audit_clear_export(self, actor: Actor, path: Path, count: int) -> None:
        with self._db.write() as session:
            audit.record(
                session,
                at=self._clock.now(),
                user_name=actor.username,
                action="export_register",
                entity="register",
                entity_uuid="",
                after={"file": path.name, "cases": count, "fields": ["phone"]},
            )


# The reads of a chunk, built once: an expanding parameter takes the chunk's ids as one list
# (``in_(ids)`` coerced every id of every chunk, 600,000 times for 100,000 cases).
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_CASES = (
    select(
        Case.id,
        Case.number,
        Case.original_number,
        Case.received_at,
        Case.channel,
        Complainant.name,
        Complainant.phone_sealed,
        Case.area,
        Case.title,
        Case.nature,
        Case.approach,
        Department.name,
        Case.due_date,
        Case.replied_at,
        Case.concluded_at,
        Case.status,
        Case.outcome,
        Case.visit_grade,
        Case.triaged_at,
        Case.site_code,
    )
    .join(Complainant, Case.complainant_id == Complainant.id)
    .outerjoin(Department, Case.stuck_department_id == Department.id)
    .where(Case.id.in_(_IDS))
)
# The papers that issue an assignment (not a 催办通知, 依据告知单 or 时限调整通知 on it).
_ISSUING_PAPERS = (PaperKind.ASSIGN.value, PaperKind.SUPERVISE.value)
_LEAD_KINDS = frozenset({AssignmentKind.ASSIGN.value, AssignmentKind.SUPERVISE.value})
_NOT_ITS_MATTER = frozenset({AssignmentState.VOIDED.value, AssignmentState.RETURNED.value})
_CASE_SLIPS = (
    select(
        Assignment.case_id,
        Slip.number,
        Assignment.issued_at,
        Department.name,
        Assignment.kind,
        Assignment.state,
    )
    .join(Department, Department.id == Assignment.department_id)
    .outerjoin(
        Slip,
        and_(
            Slip.assignment_id == Assignment.id,
            Slip.voided.is_(False),
            Slip.kind.in_(_ISSUING_PAPERS),
        ),
    )
    .where(Assignment.case_id.in_(_IDS))
    .order_by(Assignment.id, Slip.id)
)
_VISITS = (
    select(CaseEvent.case_id, func.max(CaseEvent.at))
    .where(CaseEvent.case_id.in_(_IDS), CaseEvent.kind == EventKind.VISITED.value)
    .group_by(CaseEvent.case_id)
)
_REFERRALS = (
    select(Referral.case_id, Referral.state, Referral.number)
    .where(Referral.case_id.in_(_IDS))
    .order_by(Referral.id)
)
_ASSIGNMENTS = (
    select(
        Assignment.id,
        Assignment.case_id,
        Case.number,
        Department.name,
        Assignment.kind,
        Assignment.state,
        Assignment.issued_at,
        Assignment.original_due_date,
        Assignment.due_date,
        Assignment.extension_state,
        Assignment.extension_days,
        Assignment.received_on,
        Assignment.responded_at,
        Assignment.returned_reason,
        Assignment.urged_at,
        Assignment.parent_id,  # last: the rows are read by position elsewhere
    )
    .join(Case, Case.id == Assignment.case_id)
    .join(Department, Department.id == Assignment.department_id)
    .where(Assignment.case_id.in_(_IDS))
    .order_by(Assignment.id)
)
_ASSIGNMENT_SLIPS = (
    select(Slip.assignment_id, Slip.number)
    .join(Assignment, Assignment.id == Slip.assignment_id)
    .where(Assignment.case_id.in_(_IDS), Slip.voided.is_(False), Slip.kind.in_(_ISSUING_PAPERS))
    .order_by(Slip.id)
)


class _Labels(dict[str, str]):
    """Code → label of one vocabulary: a dict look-up a cell where calling the enum cost about
    2 µs (800,000 calls at 100,000 cases); an unknown code fails as the enum call did."""

    def __init__(self, vocabulary: type[LabelledEnum]) -> None:
        super().__init__((member.value, member.label) for member in vocabulary)
        self._vocabulary = vocabulary

    def __missing__(self, code: str) -> str:
        return self._vocabulary(code).label


_CHANNELS = _Labels(Channel)
_NATURES = _Labels(Nature)
_APPROACHES = _Labels(Approach)
_CASE_STATUSES = _Labels(CaseStatus)
_OUTCOMES = _Labels(Outcome)
_VISIT_GRADES = _Labels(VisitGrade)
_REFERRAL_STATES = _Labels(ReferralState)
_ASSIGNMENT_KINDS = _Labels(AssignmentKind)
_ASSIGNMENT_STATES = _Labels(AssignmentState)
_EXTENSION_STATES = _Labels(ExtensionState)
_MOBILE = re.compile(r"1[3-9][0-9]{9}", re.ASCII)


def _masked_phone(phone: str) -> str:
    """``mask_phone`` with a short way for a stored mobile (11 ASCII digits), nearly every
    number: ``mask_phone`` parses each number in full first (15 µs)."""
    if _MOBILE.fullmatch(phone):
        return phone[:3] + "****" + phone[-4:]
    return mask_phone(phone)


def _read_ahead(chunks: Iterator[_Chunk]) -> Generator[_Chunk, None, None]:
    """``chunks`` read one ahead on a thread of their own: SQLite reads without holding the GIL,
    so the next chunk's reading overlaps this chunk's writing on the second core. Closed (a
    cancel, a failure), it waits for the chunk being read and leaves no thread behind."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="register-read") as pool:
        following = pool.submit(next, chunks, None)
        while (chunk := following.result()) is not None:
            following = pool.submit(next, chunks, None)
            yield chunk


EXCEL_ROWS = 1_048_576  # rows of one worksheet, the header's included (Excel 2007 and later)


def _period(case_filter: CaseFilter) -> str:
    start, end = case_filter.received_from, case_filter.received_to
    if start and end:
        return f"{chinese_date(start)}至{chinese_date(end)}"
    if start:
        return f"{chinese_date(start)}起"
    if end:
        return f"至{chinese_date(end)}"
    return "全部"


def _extension(state: str, days: int | None) -> str:
    if not state:
        return ""
    label = _EXTENSION_STATES[state]
    return f"{label}{days}个工作日" if days else label


def _sheet(workbook: Any, name: str, columns: Sequence[Column], header: Any, dates: Any) -> Any:
    sheet = workbook.add_worksheet(name)
    for index, column in enumerate(columns):
        sheet.set_column(index, index, column.width, dates if column.is_date else None)
    sheet.freeze_panes(1, 0)
    sheet.write_row(0, 0, [column.header for column in columns], header)
    return sheet


_EXCEL_EPOCH = date(1899, 12, 30)  # day 0 of Excel's (and LibreOffice's) 1900 date system
CASE_DATES = frozenset(i for i, column in enumerate(CASE_COLUMNS) if column.is_date)
ASSIGNMENT_DATES = frozenset(i for i, column in enumerate(ASSIGNMENT_COLUMNS) if column.is_date)


def _write_cells(
    sheet: Any, row: int, values: Sequence[Any], date_columns: frozenset[int], dates: Any
) -> None:
    """One row, each cell by its type: an empty value leaves the cell out, a date is its day
    number with the date format (what ``write_datetime`` stores, without its conversions), text
    is text. About twice as fast as ``write_row``'s guessing at 100,000 rows."""
    for column, value in enumerate(values):
        if value is None or value == "":
            continue
        if column in date_columns:
            sheet.write_number(row, column, (value - _EXCEL_EPOCH).days, dates)
        else:
            sheet.write_string(row, column, value)


# Text XlsxWriter would change on the way out (control characters, its own _xHHHH_ escapes,
# markup characters, leading or trailing space for xml:space) or cut (over 32,767 UTF-16 units).
# A row's texts are searched at once, set apart by a private-use character.
_APART = "\ue000"
_NOT_PLAIN = re.compile(r"[\x00-\x08\x0b-\x1f&<>\ufffe\uffff]|_x[0-9a-fA-F]{4}_|\s\ue000|\ue000\s")
_PLAIN_MAX = 16_383


class _RowWriter:
    """Rows of text and dates into a constant-memory XlsxWriter sheet, a chunk at a time.

    XlsxWriter's per-cell calls (checks, a tuple per cell, attribute lists, three regular
    expressions) cost about 6 µs a cell, two thirds of a 100,000-case export of 3.3 million
    cells. For the cells the register has (plain text, dates with the date format, empty left
    out) this writes the very XML XlsxWriter 3.3 writes for them into the sheet's row file
    (``tests/test_register_export.py`` compares the sheets byte for byte); a row with text it
    would escape or cut goes through ``_write_cells`` as before. The sheet's header, written
    by XlsxWriter across every column, already gave the sheet its columns: rows only add length.
    """

    def __init__(self, sheet: Any, date_columns: frozenset[int], dates: Any) -> None:
        if sheet.dim_colmin != 0:
            raise ValueError("the header row spans the sheet's columns from the first")
        self._sheet = sheet
        self._dates = dates
        self._date_style: int | None = None
        # Each column: whether it holds dates, and how its cells begin ('<c r="A').
        self._columns = [
            (column in date_columns, f'<c r="{xl_col_to_name(column)}')
            for column in range(sheet.dim_colmax + 1)
        ]
        self._date_columns = date_columns
        self._pending: list[str] = []
        self._last_with_cells = -1

    def write(self, first_row: int, rows: Sequence[Sequence[Any]]) -> int:
        """Writes ``rows`` from ``first_row`` (zero-based) on; returns the last row written."""
        sheet = self._sheet
        row = first_row - 1
        for row, values in enumerate(rows, first_row):
            if row >= EXCEL_ROWS:
                # XlsxWriter drops such a row without a word; a register missing its tail is
                # worse than none (the temporary file is removed as for a cancel).
                raise UserError(
                    f"“{sheet.name}”超过 Excel 一张表最多 {EXCEL_ROWS - 1:,} 行的上限："
                    "请按日期或县区分几次导出，或导出为 CSV"
                )
            if not self._pending:
                # The row XlsxWriter holds (the header, a row written by it) goes out first,
                # as it would, and so its styles are numbered in XlsxWriter's order.
                sheet._write_single_row(row)
            fits = row < sheet.xls_rowmax and len(values) <= len(self._columns)
            xml = self._row_xml(row, values) if fits else None
            if xml is None:
                self._flush()
                _write_cells(sheet, row, values, self._date_columns, self._dates)
            elif xml:
                self._pending.append(xml)
                self._last_with_cells = row
        self._flush()
        return row

    def _row_xml(self, row: int, values: Sequence[Any]) -> str | None:
        """The row's XML; "" for a row without cells (XlsxWriter writes none), None when a
        text needs XlsxWriter's own handling."""
        number = str(row + 1)
        cells = ['<row r="', number, '">']
        texts = []
        for (is_date, start), value in zip(self._columns, values, strict=False):
            if value is None or value == "":
                continue
            if is_date:
                if self._date_style is None:
                    self._date_style = self._dates._get_xf_index()
                days = str((value - _EXCEL_EPOCH).days)
                cells += (start, number, f'" s="{self._date_style}"><v>', days, "</v></c>")
            else:
                texts.append(value)
                cells += (start, number, '" t="inlineStr"><is><t>', value, "</t></is></c>")
        if len(cells) == 3:
            return ""
        text = _APART.join(texts)
        if (
            _NOT_PLAIN.search(text)
            or text[:1].isspace()
            or text[-1:].isspace()
            or (len(text) > _PLAIN_MAX and any(len(piece) > _PLAIN_MAX for piece in texts))
        ):
            return None
        cells.append("</row>")
        return "".join(cells)

    def _flush(self) -> None:
        """The held rows into the sheet's row file, and their extent told to XlsxWriter (its
        dimension element comes from it)."""
        if not self._pending:
            return
        sheet = self._sheet
        sheet.fh.write("".join(self._pending))
        self._pending.clear()
        sheet._check_dimensions(self._last_with_cells, 0)


def _finish_sheet(sheet: Any, last_row: int, columns: Sequence[Column]) -> None:
    sheet.autofilter(0, 0, max(last_row, 1), len(columns) - 1)


def _csv_cell(value: Any) -> Any:
    """A value for the CSV: dates ISO; text Excel would run as a formula gets a leading "'"."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def refuse_reversed_dates(case_filter: CaseFilter) -> None:
    """A 受理日期 range that ends before it starts holds no case: said, not written as an empty
    register (the bulletin and the scorecards refuse it the same way)."""
    start, end = case_filter.received_from, case_filter.received_to
    if start is not None and end is not None and end < start:
        raise ValidationFailed({"period": "结束日期早于开始日期"})


def _drop_open_zip(exc: FileCreateError) -> None:
    """A failed ``Workbook.close`` leaves its ZIP file open in a frame of the traceback: when it
    is collected its ``__del__`` writes again, fails again and prints that at the program's
    exit ("Exception ignored in ZipFile.__del__", after the clear message). Close its file now
    (the error it would repeat is the one reported) and leave it nothing to write."""
    for error in (exc, exc.__context__):
        frames = error.__traceback__ if error is not None else None
        while frames is not None:
            for value in frames.tb_frame.f_locals.values():
                if isinstance(value, zipfile.ZipFile) and value.fp is not None:
                    with suppress(OSError):
                        value.fp.close()
                    value.fp = None
            frames = frames.tb_next


def _os_error(exc: FileCreateError) -> OSError:
    """The OSError behind xlsxwriter's FileCreateError (raised while handling it, or its first
    argument), or a plain one."""
    for inner in (exc.__context__, exc.args[0] if exc.args else None):
        if isinstance(inner, OSError):
            return inner
    return OSError(str(exc))
