"""Bringing the office's old Excel 台账 in (issue 17): ``bbcs intake --from F.xlsx`` and 导入旧台账.

The sheet is read with python-calamine (.xlsx, .xls, .ods); the header row is found among the
title rows above it and each column recognised by its header (domain.register_headers), or as
the person maps it (``--map 列名=字段``, the dialog's combos), remembered per file layout.

The cases are historical: their dates kept, the old number kept as 原编号, numbered in a
series of their own (``杞县-LS2021-0001``, counter kind ``case-historical``) so today's series
stays gap-free, in the state their result columns say, with every history entry marked 历史导入
and no deadline computed (a deadline reckoned from a date years ago would only make the case
overdue). Every row is checked by the intake form's own rules first; one wrong row refuses the
whole sheet, each problem told by the row Excel shows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop_app.domain import register_headers as headers
from desktop_app.domain.case_flow import EventKind, advance
from desktop_app.domain.intake_rules import FIELD_LABELS, IntakeForm, normalized
from desktop_app.domain.permissions import Permission
from desktop_app.domain.register_headers import (
    CellProblem,
    HistoricalState,
    VisitRecord,
)
from desktop_app.domain.settings import REGISTER_IMPORT_MAPPINGS
from desktop_app.domain.vocabulary import CaseStatus, Channel, ComplainantKind, chinese_date
from desktop_app.errors import UserError
from desktop_app.services import audit, settings
from desktop_app.services.context import Actor, Changes
from desktop_app.services.intake import (
    BatchValidationFailed,
    IntakeService,
    RowError,
    search_fields,
)
from desktop_app.services.timeline import add_event
from desktop_app.storage import search
from desktop_app.storage.models import Area, Case, Complainant, Site
from desktop_app.storage.numbering import next_number

SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"})
HISTORICAL_SERIES = "case-historical"
HISTORICAL_MARK = "历史导入"
_REMEMBERED_LAYOUTS = 50
_TITLE_FROM_DESCRIPTION = 60
# Old channel words → the program's channels (the exact labels and codes are taken as well).
_CHANNEL_WORDS: tuple[tuple[tuple[str, ...], Channel], ...] = (
    (("来访", "窗口", "现场", "当面"), Channel.WINDOW),
    (("电话", "热线", "12345"), Channel.PHONE),
    (("网上", "网络", "网站", "微信", "邮件", "信箱", "平台"), Channel.ONLINE),
    (("入企",), Channel.ENTERPRISE_VISIT),
    (("小程序", "评价"), Channel.RATING_APP),
    (("转办", "交办", "上级"), Channel.REFERRED),
)
_NUMBER_FIELDS = {"id_number": "身份证号", "credit_code": "统一社会信用代码", "phone": "联系电话"}


FALLBACK_AREA = "其他"  # where a row whose 领域 this site does not list goes
ORIGINAL_AREA = "领域（原台账）"


def historical_number(short_name: str, year: int, seq: int) -> str:
    """杞县-LS2021-0001: a historical case's number, apart from today's 杞县-2021-0001."""
    return f"{short_name}-LS{year}-{seq:04d}"


def field_label(code: str) -> str:
    """A field's Chinese name, as messages and the dialog show it."""
    return FIELD_LABELS.get(code) or headers.FIELDS.get(code, code)


# Reading ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterSheet:
    """One sheet of an old 台账: its header and data rows, each with the row Excel shows."""

    file_name: str
    sheet: str
    sheet_names: tuple[str, ...]
    header_row: int  # as Excel counts (1 = the first row)
    headers: tuple[str, ...]
    rows: tuple[tuple[int, tuple[object, ...]], ...]

    @property
    def signature(self) -> str:
        return headers.signature(self.headers)


def read_sheet(path: Path, sheet: str | None = None) -> RegisterSheet:
    """The named sheet (default: the first whose header is recognised) of an Excel/WPS file."""
    if not path.is_file():
        raise UserError(f"找不到文件：{path}")
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        names = tuple(workbook.sheet_names)
        wanted = [sheet] if sheet else list(names)
        if sheet and sheet not in names:
            raise UserError(f"文件中没有名为“{sheet}”的工作表（有：{'、'.join(names)}）")
        for name in wanted:
            worksheet = workbook.get_sheet_by_name(name)
            cells = worksheet.to_python(skip_empty_area=False)
            found = headers.find_header_row(cells)
            if found is None:
                continue
            merged = worksheet.merged_cell_ranges or []
            return _sheet(path.name, name, names, cells, found, merged)
    except CalamineError as exc:
        raise UserError(f"无法读取表格文件 {path.name}：{exc}。请确认是 Excel/WPS 表格") from exc
    except OSError as exc:
        raise UserError(f"无法读取文件 {path}：{exc.strerror or exc}") from exc
    where = f"工作表“{sheet}”" if sheet else "任何工作表"
    raise UserError(
        f"{where}的前 {headers.HEADER_SEARCH_ROWS} 行中找不到表头（如 序号、受理日期、反映人、"
        "联系电话、反映事项）。请确认选对了工作表"
    )


def sheet_names(path: Path) -> list[str]:
    try:
        return list(CalamineWorkbook.from_path(str(path)).sheet_names)
    except (CalamineError, OSError) as exc:
        raise UserError(f"无法读取表格文件 {path.name}：{exc}") from exc


def _sheet(
    file_name: str,
    name: str,
    names: tuple[str, ...],
    cells: Sequence[Sequence[object]],
    header_index: int,
    merged: Sequence[Any],
) -> RegisterSheet:
    width = max((len(r) for r in cells), default=0)
    grid = [list(r) + [""] * (width - len(r)) for r in cells]
    # A cell merged down over several rows (one 承办单位 for a group) holds its value in the top
    # row only: every row of the group has it.
    for (top, left), (bottom, right) in merged:
        if top <= header_index:
            continue
        value = grid[top][left]
        for r in range(top, min(bottom, len(grid) - 1) + 1):
            for c in range(left, min(right, width - 1) + 1):
                grid[r][c] = value
    header_cells = grid[header_index]
    titles = tuple(
        headers.text_of(c) or f"第{_column_letter(i)}列" for i, c in enumerate(header_cells)
    )
    rows: list[tuple[int, tuple[object, ...]]] = []
    for index in range(header_index + 1, len(grid)):
        row = grid[index]
        filled = [c for c in row if headers.text_of(c)]
        # A blank row, or a footer line (填表人：…, 合计) is no case.
        if len(filled) < 2:
            continue
        rows.append((index + 1, tuple(row)))
    used = [i for i, t in enumerate(titles) if headers.text_of(header_cells[i])]
    used += [i for i in range(width) if i not in used and any(_has(r, i) for _n, r in rows)]
    used.sort()
    return RegisterSheet(
        file_name,
        name,
        names,
        header_index + 1,
        tuple(titles[i] for i in used),
        tuple((n, tuple(r[i] for i in used)) for n, r in rows),
    )


def _has(row: Sequence[object], index: int) -> bool:
    return bool(headers.text_of(row[index]))


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# Mapping ----------------------------------------------------------------------------------------


def parse_map_options(options: Sequence[str]) -> dict[str, str]:
    """``--map 列名=字段`` options as header → field code; UserError names a wrong one."""
    mapping: dict[str, str] = {}
    for option in options:
        header, sep, name = option.partition("=")
        code = headers.field_for(name) if sep else None
        if not header.strip() or code is None:
            known = "、".join(headers.FIELDS.values())
            raise UserError(f"--map {option}：应写成 列名=字段，字段可为：{known}")
        mapping[header.strip()] = code
    return mapping


def recognised(sheet: RegisterSheet) -> list[str]:
    """Per column, the field its header names ("" for a column not recognised)."""
    return [headers.recognise(h) or "" for h in sheet.headers]


def apply_names(sheet: RegisterSheet, base: Sequence[str], named: Mapping[str, str]) -> list[str]:
    """``base`` with the columns ``named`` by their header (``--map``, a remembered layout)."""
    keys = {headers.header_key(h): f for h, f in named.items()}
    return [keys.get(headers.header_key(h), f) for h, f in zip(sheet.headers, base, strict=True)]


def missing_headers(sheet: RegisterSheet, named: Mapping[str, str]) -> list[str]:
    """Headers ``named`` (``--map``) that the sheet does not have."""
    keys = {headers.header_key(h) for h in sheet.headers}
    return [h for h in named if headers.header_key(h) not in keys]


def unknown_columns(sheet: RegisterSheet, mapping: Sequence[str]) -> list[str]:
    """Columns neither recognised nor mapped: their text goes into each case's 历史导入 entry."""
    return [h for h, f in zip(sheet.headers, mapping, strict=True) if not f]


# Checking ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoricalRow:
    """One old case as read: the intake form, and what only history has."""

    row: int
    form: IntakeForm
    original_number: str = ""
    state: HistoricalState = HistoricalState.OPEN
    concluded_at: datetime | None = None
    visit: VisitRecord = field(default_factory=lambda: VisitRecord(False, None))
    department: str = ""
    result: str = ""
    extras: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SheetCheck:
    """The rows read and every problem, by the row Excel shows (nothing written)."""

    rows: tuple[HistoricalRow, ...]
    errors: tuple[RowError, ...]
    unknown: tuple[str, ...]

    def errors_of(self, row: int) -> list[RowError]:
        return [e for e in self.errors if e.row == row]


def _channel(text: str) -> Channel:
    try:
        return Channel.from_label(text)
    except ValueError:
        pass
    for words, channel in _CHANNEL_WORDS:
        if any(word in text for word in words):
            return channel
    raise CellProblem(f"“{text[:40]}”不是有效渠道（{'、'.join(c.label for c in Channel)}）")


class _Cells:
    """One row's cells by field, and the problems of reading them."""

    def __init__(self, row: int) -> None:
        self.row = row
        self.values: dict[str, list[object]] = {}
        self.problems: list[RowError] = []

    def problem(self, code: str, message: str) -> None:
        self.problems.append(RowError(self.row, code, message))

    def has_problem(self, code: str) -> bool:
        return any(e.field == code for e in self.problems)

    def text(self, code: str) -> str:
        """The field's text (columns mapped to the same field joined with ；)."""
        parts = [headers.text_of(c) for c in self.values.get(code, [])]
        return "；".join(p for p in parts if p)

    def words(self, code: str) -> str:
        """A field that is words (a name): a cell holding a number or a tick box is told, not
        made text — a TRUE became a complainant called 是, 12345 one called 12345 (the JSON
        and CSV intake refuse both)."""
        for cell in self.values.get(code, []):
            if isinstance(cell, int | float):  # bool is an int too
                self.problem(code, "这一格是数字或“是/否”，不是文字，请核对")
                return ""
        return self.text(code)

    def number(self, code: str) -> str:
        for cell in self.values.get(code, []):
            try:
                found = headers.number_text(cell, field_label(code))
            except CellProblem as exc:
                self.problem(code, str(exc))
                return ""
            if found:
                return found
        return ""

    def date(self, code: str) -> datetime | None:
        for cell in self.values.get(code, []):
            try:
                found = headers.date_of(cell)
            except CellProblem as exc:
                self.problem(code, str(exc))
                return None
            if found is not None:
                return found
        return None


def read_rows(
    sheet: RegisterSheet, mapping: Sequence[str]
) -> tuple[list[HistoricalRow], list[RowError]]:
    """The sheet's rows as historical rows, and the problems of reading their cells."""
    rows: list[HistoricalRow] = []
    errors: list[RowError] = []
    for number, row_cells in sheet.rows:
        cells = _Cells(number)
        extras: list[tuple[str, str]] = []
        for header, code, cell in zip(sheet.headers, mapping, row_cells, strict=True):
            if code in headers.SKIPPED_FIELDS:
                continue
            if not code:
                if headers.text_of(cell):
                    extras.append((header, headers.text_of(cell)))
                continue
            cells.values.setdefault(code, []).append(cell)
        rows.append(_historical_row(cells, tuple(extras)))
        errors.extend(cells.problems)
    return rows, errors


def _historical_row(cells: _Cells, extras: tuple[tuple[str, str], ...]) -> HistoricalRow:
    problem, text, number_of, date_of = cells.problem, cells.text, cells.number, cells.date
    received_at = date_of("received_at")
    if received_at is None and not cells.has_problem("received_at"):
        problem("received_at", "请填写受理日期（历史事项按原日期导入）")
    concluded_at = date_of("concluded_on")
    try:
        state = headers.state_of(text("result"), concluded_at is not None)
    except CellProblem as exc:
        problem("result", str(exc))
        state = HistoricalState.OPEN
    try:
        visit = headers.visit_of(text("visit"))
    except CellProblem as exc:
        problem("visit", str(exc))
        visit = VisitRecord(False, None)
    if state is HistoricalState.OPEN:
        if visit.visited:
            problem("visit", "办理中的事项不能已回访；已办结请在办理结果中写明")
        concluded_at = None  # a date without a result saying 办结 is not a conclusion
    elif concluded_at is None and not cells.has_problem("concluded_on"):
        problem("concluded_on", f"办理结果为“{text('result')[:20]}”，请填写办结日期")
    elif received_at and concluded_at and concluded_at.date() < received_at.date():
        problem("concluded_on", "办结日期早于受理日期")
    if state is HistoricalState.WITHDRAWN and visit.visited:
        problem("visit", "已撤回的事项没有回访")
    kind_text = text("complainant_type")
    credit_code = number_of("credit_code")
    try:
        kind = (
            ComplainantKind.from_label(kind_text)
            if kind_text
            else (ComplainantKind.ENTERPRISE if credit_code else ComplainantKind.PERSON)
        )
    except ValueError:
        problem("complainant_type", f"“{kind_text[:20]}”应为 个人 或 企业")
        kind = ComplainantKind.PERSON
    channel_text = text("channel")
    channel = Channel.WINDOW
    if channel_text:
        try:
            channel = _channel(channel_text)
        except CellProblem as exc:
            problem("channel", str(exc))
    visits = 1
    visits_text = number_of("visits_count")
    if visits_text:
        if visits_text.isdigit() and len(visits_text) <= 3:
            visits = int(visits_text)
        else:
            problem("visits_count", "往返次数应为1到99的整数")
    title, description = text("title"), text("description")
    # Many old sheets have one of the two: the matter in a few words, or the whole story.
    if not description:
        description = title
    if not title and description:
        title = description[:_TITLE_FROM_DESCRIPTION]
    form = IntakeForm(
        complainant_kind=kind,
        name=cells.words("name"),
        id_number=number_of("id_number"),
        id_override_reason=text("id_override_reason"),
        credit_code=credit_code,
        contact_person=text("contact_person"),
        phone=number_of("phone"),
        address=text("address"),
        title=title,
        description=description,
        area=text("area"),
        channel=channel,
        stuck_at=text("stuck_at"),
        visits_count=visits,
        received_at=received_at,
        respondent_name=text("respondent_name"),
        respondent_unit=text("respondent_unit"),
        campaign=text("campaign"),
    )
    return HistoricalRow(
        cells.row,
        form,
        text("original_number"),
        state,
        concluded_at,
        visit,
        text("department"),
        text("result"),
        extras,
    )


# The service ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportedCase:
    case_id: int
    number: str
    original_number: str
    status: CaseStatus
    row: int


@dataclass(frozen=True)
class RegisterImportResult:
    cases: tuple[ImportedCase, ...]
    unknown: tuple[str, ...]
    changes: Changes = field(default_factory=Changes)


class RegisterImportService(IntakeService):
    """Intake's own paths (checks, complainant matching, sealing, search, audit) for rows that
    happened years ago: an IntakeService whose save keeps the row's dates and state."""

    # Layouts ------------------------------------------------------------------------------

    def remembered(self, sheet: RegisterSheet) -> dict[str, str]:
        """The mapping last used for a file with these headers (header → field), or {}."""
        with self._db.read() as session:
            stored = _layouts(settings.read(session, REGISTER_IMPORT_MAPPINGS))
        found = stored.get(sheet.signature, {})
        return {h: f for h, f in found.items() if f in headers.FIELDS or f == ""}

    def mapping_for(self, sheet: RegisterSheet, named: Mapping[str, str] = {}) -> list[str]:
        """Per column: recognised, then the remembered layout, then what ``named`` says."""
        base = apply_names(sheet, recognised(sheet), self.remembered(sheet))
        return apply_names(sheet, base, named)

    def remember(self, sheet: RegisterSheet, mapping: Sequence[str]) -> None:
        """Keep ``mapping`` for files with this layout (a preference, not audited)."""
        with self._db.write() as session:
            _remember(session, sheet, mapping)

    # Checking -----------------------------------------------------------------------------

    def check_sheet(self, sheet: RegisterSheet, mapping: Sequence[str]) -> SheetCheck:
        """Every row read and checked by the intake form's rules; nothing written."""
        rows, errors = read_rows(sheet, mapping)
        rows = self._with_known_areas(rows)
        _cleaned, form_errors = self.check_many([r.form for r in rows])
        seen = {(e.row, e.field) for e in errors}
        for error in form_errors:
            row = rows[error.row - 1].row
            if (row, error.field) not in seen:
                errors.append(RowError(row, error.field, error.message))
        errors.extend(self._number_errors(rows))
        errors.extend(self._repeat_errors(rows))
        today = self._clock.now().date()
        errors.extend(
            RowError(r.row, "concluded_on", "办结日期不能晚于今天")
            for r in rows
            if r.concluded_at is not None and r.concluded_at.date() > today
        )
        # History is what came before this program: a matter received since the site was set
        # up is registered, triaged and concluded here, by those allowed to (review item 3).
        with self._db.read() as session:
            started = session.scalar(select(Site.created_at).where(Site.is_local.is_(True)))
        if started is not None:
            errors.extend(
                RowError(
                    r.row,
                    "received_at",
                    f"受理日期在本站点启用（{chinese_date(started.date())}）之后，不是历史事项："
                    "请在“受理登记”中登记",
                )
                for r in rows
                if r.form.received_at is not None and r.form.received_at.date() >= started.date()
            )
        labelled = [RowError(e.row, _error_field(e.field), e.message) for e in errors]
        return SheetCheck(
            tuple(rows),
            tuple(sorted(labelled, key=lambda e: e.row)),
            tuple(unknown_columns(sheet, mapping)),
        )

    def _with_known_areas(self, rows: list[HistoricalRow]) -> list[HistoricalRow]:
        """Old sheets name areas their own way (社保, 房产) or not at all: such a row goes under
        this site's 其他, and its own word is kept in the 历史导入 entry; without a 其他 the
        form's rule tells the row to be corrected."""
        with self._db.read() as session:
            areas = set(session.scalars(select(Area.name).where(Area.active.is_(True))))
        if FALLBACK_AREA not in areas:
            return rows
        moved: list[HistoricalRow] = []
        for row in rows:
            area = row.form.area.strip()
            if area in areas:
                moved.append(row)
                continue
            extras = (*row.extras, (ORIGINAL_AREA, area)) if area else row.extras
            moved.append(replace(row, form=replace(row.form, area=FALLBACK_AREA), extras=extras))
        return moved

    def _number_errors(self, rows: Sequence[HistoricalRow]) -> list[RowError]:
        """An old number imported before, or twice in the sheet, for the same year is a sheet
        brought in twice (offices that number 1, 2, 3 … each year use the numbers again next
        year; a county's cases at the city are not this site's). Too long a number is refused
        by its row, not by the database."""
        longest = Case.original_number.type.length or 60
        errors = [
            RowError(r.row, "original_number", f"原编号最多{longest}个字")
            for r in rows
            if len(r.original_number) > longest
        ]
        numbers = sorted({r.original_number for r in rows if r.original_number})
        known: dict[tuple[str, int], str] = {}
        with self._db.read() as session:
            for start in range(0, len(numbers), 500):
                chunk = numbers[start : start + 500]
                for original, year, number in session.execute(
                    select(Case.original_number, Case.year, Case.number).where(
                        Case.original_number.in_(chunk), Case.origin_site == ""
                    )
                ):
                    known.setdefault((original, year), number)
        first: dict[tuple[str, int], int] = {}
        for row in rows:
            if not row.original_number or row.form.received_at is None:
                continue
            key = (row.original_number, row.form.received_at.year)
            if key in known:
                errors.append(
                    RowError(
                        row.row,
                        "original_number",
                        f"原编号 {row.original_number} 已导入过（{known[key]}）",
                    )
                )
            elif key in first:
                errors.append(
                    RowError(
                        row.row,
                        "original_number",
                        f"原编号 {row.original_number} 与第{first[key]}行重复",
                    )
                )
            first.setdefault(key, row.row)
        return errors

    def _repeat_errors(self, rows: Sequence[HistoricalRow]) -> list[RowError]:
        """A row without 原编号 that matches a historical case imported before (same 受理日期,
        反映人 and 反映事项) is most likely the same sheet brought in again: refused, naming
        the case, so a second click does not double the ledger."""
        keyed = []
        for r in rows:
            if not r.original_number and r.form.received_at is not None:
                form = normalized(r.form)
                keyed.append((r, (r.form.received_at.date(), form.name, form.title)))
        if not keyed:
            return []
        first = min(key[0] for _, key in keyed)
        last = max(key[0] for _, key in keyed)
        known: dict[tuple[Any, str, str], str] = {}
        with self._db.read() as session:
            for received, name, title, number in session.execute(
                select(Case.received_at, Complainant.name, Case.title, Case.number)
                .join(Complainant, Complainant.id == Case.complainant_id)
                .where(
                    Case.seq < 0,  # the historical series
                    Case.received_at >= datetime.combine(first, time.min),
                    Case.received_at < datetime.combine(last + timedelta(days=1), time.min),
                )
            ):
                known.setdefault((received.date(), name, title), number)
        return [
            RowError(
                row.row,
                "received_at",
                f"与已导入的历史事项 {known[key]} 相同（受理日期、反映人、反映事项一致），"
                "这份台账可能已导入过",
            )
            for row, key in keyed
            if key in known
        ]

    # Importing ----------------------------------------------------------------------------

    def import_sheet(
        self,
        actor: Actor,
        sheet: RegisterSheet,
        mapping: Sequence[str],
        progress: Callable[[int, int], None] | None = None,
    ) -> RegisterImportResult:
        """All rows or none: checked first (BatchValidationFailed names every problem), then
        written in one transaction; the mapping is remembered for this layout."""
        actor.require(Permission.REGISTER_CASE)
        if not sheet.rows:
            raise UserError("工作表中没有可导入的记录")
        checked = self.check_sheet(sheet, mapping)
        if checked.errors:
            raise BatchValidationFailed(checked.errors)
        now = self._clock.now()
        imported: list[ImportedCase] = []
        with self._db.write() as session:
            site = session.scalar(select(Site).where(Site.is_local.is_(True)))
            if site is None:
                raise UserError("站点尚未初始化")
            for index, row in enumerate(checked.rows):
                imported.append(self._save_historical(session, actor, site, sheet, row, now))
                if progress is not None:
                    progress(index + 1, len(checked.rows))
            _remember(session, sheet, mapping)
        ids = tuple(c.case_id for c in imported)
        return RegisterImportResult(
            tuple(imported), checked.unknown, Changes(cases=True, case_ids=ids)
        )

    def _save_historical(
        self,
        session: Session,
        actor: Actor,
        site: Site,
        sheet: RegisterSheet,
        row: HistoricalRow,
        now: datetime,
    ) -> ImportedCase:
        form = _cleaned(row.form)
        received = form.received_at
        assert received is not None  # checked
        complainant = self._complainant_for(session, actor, form, now)
        seq = next_number(session, HISTORICAL_SERIES, received.year)
        outcome = row.state.outcome
        case = Case(
            site_code=site.code,
            year=received.year,
            seq=-seq,  # see Case.original_number: apart from today's series
            number=historical_number(site.short_name, received.year, seq),
            original_number=row.original_number,
            complainant_id=complainant.id,
            title=form.title,
            description=form.description,
            area=form.area,
            channel=form.channel.value,
            stuck_at=form.stuck_at,
            visits_count=form.visits_count,
            received_at=received,
            status=CaseStatus.REGISTERED.value,
            causes=[],
            created_by_id=actor.user_id,
            updated_at=now,
            respondent_name=form.respondent_name,
            respondent_unit=form.respondent_unit,
            respondent_conduct=[],
            campaign=form.campaign,
            outcome=outcome.value if outcome is not None else None,
            concluded_at=row.concluded_at,
            visit_grade=row.visit.grade.value if row.visit.grade is not None else None,
        )
        session.add(case)
        session.flush()
        where = {"historical_import": True, "file": sheet.file_name, "sheet": sheet.sheet}
        where["row"] = row.row
        status = self._history(session, actor, case, row, where)
        case.status = status.value
        search.reindex_case(session, case.id, search_fields(case, complainant))
        audit.record(
            session,
            at=now,
            user_name=actor.username,
            action="historical_import",
            entity="case",
            entity_uuid=case.uuid,
            after={
                "number": case.number,
                "original_number": row.original_number,
                "complainant": complainant.uuid,
                "title": case.title,
                "area": case.area,
                "channel": case.channel,
                "received_at": received,
                "status": case.status,
                "outcome": case.outcome,
                "concluded_at": case.concluded_at,
                "visit_grade": case.visit_grade,
                "department": row.department,
                "source": f"{sheet.file_name}·{sheet.sheet}·第{row.row}行",
            },
        )
        return ImportedCase(case.id, case.number, row.original_number, status, row.row)

    def _history(
        self,
        session: Session,
        actor: Actor,
        case: Case,
        row: HistoricalRow,
        where: dict[str, Any],
    ) -> CaseStatus:
        """The case's timeline as the old 台账 tells it, every entry marked 历史导入."""
        received = case.received_at
        lines = [f"{HISTORICAL_MARK}：受理登记（原台账 {where['file']} 第{row.row}行"]
        lines[0] += f"，原编号 {row.original_number}）" if row.original_number else "）"
        lines.append(f"来源：{Channel(case.channel).label}")
        if row.department:
            lines.append(f"承办单位：{row.department}")
        if row.state is HistoricalState.OPEN and row.result:
            lines.append(f"原台账办理情况：{row.result}")
        lines.extend(f"{header}：{text}" for header, text in row.extras)
        status = advance(None, EventKind.REGISTERED)
        add_event(
            session,
            case.id,
            EventKind.REGISTERED,
            "；".join(lines),
            user_name=actor.display_name,
            at=received,
            data=where | {"department": row.department, "extras": dict(row.extras)},
        )
        concluded = row.concluded_at or received
        if row.state is HistoricalState.WITHDRAWN:
            status = advance(status, EventKind.WITHDRAWN)
            add_event(
                session,
                case.id,
                EventKind.WITHDRAWN,
                f"{HISTORICAL_MARK}：撤回（原台账：{row.result}）",
                user_name=actor.display_name,
                at=concluded,
                data=where,
            )
        elif row.state is not HistoricalState.OPEN:
            status = advance(status, EventKind.CONCLUDED)
            outcome = row.state.outcome
            label = outcome.label if outcome is not None else ""
            add_event(
                session,
                case.id,
                EventKind.CONCLUDED,
                f"{HISTORICAL_MARK}：办结，{label}（原台账：{row.result or '办结'}）",
                user_name=actor.display_name,
                at=concluded,
                data=where | {"outcome": outcome.value if outcome is not None else None},
            )
        if row.visit.visited:
            status = advance(status, EventKind.VISITED)
            grade = row.visit.grade
            add_event(
                session,
                case.id,
                EventKind.VISITED,
                f"{HISTORICAL_MARK}：回访核查"
                + (f"，{grade.label}" if grade is not None else "（原台账未记满意度）"),
                user_name=actor.display_name,
                at=concluded,
                data=where | {"grade": grade.value if grade is not None else None},
            )
        return status


def _cleaned(form: IntakeForm) -> IntakeForm:
    """The form as intake saves it (ID and phone in their standard form)."""
    return normalized(form)


def _error_field(code: str) -> str:
    """A RowError's field as its message names it: the form's fields keep their code (their
    label is intake's), the historical ones are named in Chinese."""
    return code if code in FIELD_LABELS else field_label(code)


def _layouts(text: str) -> dict[str, dict[str, str]]:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(k): {str(h): str(f) for h, f in v.items()}
        for k, v in data.items()
        if isinstance(v, dict)
    }


def _remember(session: Session, sheet: RegisterSheet, mapping: Sequence[str]) -> None:
    stored = _layouts(settings.read(session, REGISTER_IMPORT_MAPPINGS))
    stored.pop(sheet.signature, None)
    stored[sheet.signature] = dict(zip(sheet.headers, mapping, strict=True))
    while len(stored) > _REMEMBERED_LAYOUTS:  # the oldest layouts go first
        stored.pop(next(iter(stored)))
    settings.store(session, REGISTER_IMPORT_MAPPINGS, json.dumps(stored, ensure_ascii=False))
