"""Reading batch intake files (``bbcs intake --from``): JSON lists or CSV tables.

A batch row takes only what the intake form could hold: text where the form has a text box (a
JSON number, list, ``true`` or object is refused, never stored as Python's text of it), and the
form's own rules (:func:`desktop_app.domain.intake_rules.validate`) for the rest. Parsing
problems are reported per row like validation problems, each naming the row a person finds it
at (a CSV's spreadsheet row, the header being row 1), and nothing is imported when any row is
wrong. A file no form could have produced (nested a thousand deep, a cell of a megabyte, a
5,000-digit number) is refused with a plain message, never a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from desktop_app.domain.intake_rules import FIELD_LABELS, IntakeForm
from desktop_app.domain.register_headers import CellProblem, date_of, recognise
from desktop_app.domain.vocabulary import Channel, ComplainantKind, Conduct
from desktop_app.errors import UserError
from desktop_app.services.intake import IntakeService, RowError

KNOWN_KEYS = {
    "complainant_type",
    "name",
    "id_number",
    "credit_code",
    "contact_person",
    "phone",
    "address",
    "title",
    "description",
    "area",
    "channel",
    "stuck_at",
    "stuck_department",
    "visits_count",
    "received_at",
    # Reasons the form asks for in a box, one column each here (issue 14 items 13 and 15).
    "id_override_reason",
    "confirm_name_change",
    # Who came for the person concerned, and who is complained about (issue 16).
    "agent_name",
    "agent_phone",
    "agent_id_number",
    "agent_relation",
    "respondent_name",
    "respondent_post",
    "respondent_unit",
    "respondent_conduct",  # codes or labels, separated by 、 , ; or a JSON list
    "campaign",
}
# A CSV's header may name the columns as the form does (反映人, 联系电话 …), or as an office's
# register does (the old register's aliases: 姓名, 电话, 反映问题 …): a sheet saved from Excel by a
# clerk rather than an export of a system (a walk's 姓名,电话 header was refused).
_FORM_WORDS: dict[str, str] = {
    **{label: key for key, label in FIELD_LABELS.items() if key in KNOWN_KEYS},
    FIELD_LABELS["stuck_department_id"]: "stuck_department",
}


def header_field(name: str) -> str:
    """The field a CSV column names: its key, the form's label, or a register's usual header
    for a field batch intake takes; otherwise the name as it is (told as unknown)."""
    name = name.strip()
    if name in KNOWN_KEYS:
        return name
    if name in _FORM_WORDS:
        return _FORM_WORDS[name]
    field = recognise(name)
    return field if field in KNOWN_KEYS else name


_CONDUCT_SEPARATORS = re.compile(r"[、,，;；/\s]+")
# Longer than anything a form box holds (具体情况: 5,000 characters) by far, and below the csv
# module's own limit (131,072), so an overlong cell is told by its row, not as csv.Error.
MAX_CELL = 100_000
# A number longer than this is nothing a form holds; Python refuses to convert 4,300 digits.
_MAX_NUMBER_DIGITS = 30
_VISITS_RE = re.compile(r"\d{1,3}", re.ASCII)


@dataclass(frozen=True)
class Record:
    """One row of a batch file: its values and the row a person finds it at (a CSV's spreadsheet
    row, counting the header as 1; a JSON list's position, counting from 1)."""

    row: int
    values: dict[str, Any]


@dataclass(frozen=True)
class _HugeNumber:
    """A JSON number too long for anything a form holds (kept only to be refused by its row)."""

    digits: int


def _parse_int(text: str) -> int | _HugeNumber:
    if len(text.lstrip("-")) > _MAX_NUMBER_DIGITS:
        return _HugeNumber(len(text))
    return int(text)


def read_records(path: Path) -> list[Record]:
    """Rows of a .json (a list of objects) or .csv (header row; UTF-8 or GBK, as Excel saves)."""
    if not path.is_file():
        raise UserError(f"找不到文件：{path}")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"无法读取文件 {path}：{exc.strerror or exc}") from exc
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _json_records(raw)
    if suffix == ".csv":
        return _csv_records(raw)
    raise UserError("只支持 .json 或 .csv 文件")


def _json_records(raw: bytes) -> list[Record]:
    try:
        data = json.loads(raw.decode("utf-8-sig"), parse_int=_parse_int)
    except UnicodeDecodeError as exc:
        raise UserError(
            f"JSON 文件不是 UTF-8 编码（第 {exc.start + 1} 个字节），请另存为 UTF-8"
        ) from exc
    except json.JSONDecodeError as exc:
        raise UserError(
            f"JSON 文件格式不正确：第 {exc.lineno} 行第 {exc.colno} 列附近（{exc.msg}）"
        ) from exc
    except RecursionError as exc:
        raise UserError(
            'JSON 文件嵌套层数过多，不是受理登记的格式。应为对象列表，例如 [{"name": "王芳", …}]'
        ) from exc
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise UserError('JSON 文件应为对象列表，例如 [{"name": "王芳", …}]')
    return [Record(row, values) for row, values in enumerate(data, start=1)]


def _csv_records(raw: bytes) -> list[Record]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            content = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise UserError("CSV 文件编码无法识别，请另存为 UTF-8")
    reader = csv.reader(io.StringIO(content, newline=""))
    # No cell can be longer than the file: the csv module's own limit (131,072) then never cuts
    # in, and an overlong cell is told by its row below. The limit is the process's; put back.
    limit = csv.field_size_limit(max(len(content) + 1, csv.field_size_limit()))
    records: list[Record] = []
    header: list[str] | None = None
    # A spreadsheet shows each record as one row, however many lines its quoted cells span, and
    # a blank line as an empty row: row numbers count records, blank ones included.
    row = 0
    try:
        for cells in reader:
            row += 1
            if not any(cell.strip() for cell in cells):
                continue  # a blank line, or Excel's trailing rows of commas only
            for cell in cells:
                if len(cell) > MAX_CELL:
                    raise UserError(
                        f"CSV 文件第{row}行有一格超过 {MAX_CELL:,} 个字，"
                        "不是受理登记的内容（具体情况最多 5,000 字）。请检查文件是否正确"
                    )
            if header is None:
                header = [header_field(name) for name in cells]
                if not KNOWN_KEYS & set(header):
                    raise UserError(
                        f"CSV 文件第{row}行应为列名（表头），如 反映人,联系电话,反映事项,具体情况,"
                        "领域,来源渠道,反映时间（或 name,phone,title,description,area,channel,"
                        "received_at）；请在第一行加上列名后重试"
                    )
                continue
            extra = [cell for cell in cells[len(header) :] if cell.strip()]
            if extra:  # most often a comma in the text, unquoted: every cell after it moved
                raise UserError(
                    f"CSV 文件第{row}行比表头多出 {len(extra)} 格（“{extra[0][:20]}”）："
                    "可能是某格的文字中有逗号而没有加引号，后面各格都错了位。"
                    "请用表格软件另存为 CSV 后重试"
                )
            values = {
                name: (cells[i] if i < len(cells) else "").strip()
                for i, name in enumerate(header)
                if name
            }
            records.append(Record(row, values))
    except csv.Error as exc:  # e.g. a quote left open at the end of the file
        raise UserError(f"CSV 文件第{row + 1}行格式不正确，请用表格软件另存为 CSV") from exc
    finally:
        csv.field_size_limit(limit)
    return records


def _describe(value: object) -> str:
    """What a JSON value is, as a clerk would call it."""
    if isinstance(value, bool):
        return "是/否值"
    if isinstance(value, int | float | _HugeNumber):
        return "数字"
    if isinstance(value, list):
        return "列表"
    if isinstance(value, dict):
        return "对象"
    return "非文字的值"


def forms_from_records(
    records: Sequence[Record], departments: dict[str, int]
) -> tuple[list[IntakeForm], list[RowError]]:
    """IntakeForms for the rows, and the rows' parsing errors (to report with validation's)."""
    errors: list[RowError] = []
    forms: list[IntakeForm] = []
    for record in records:
        row, values = record.row, record.values
        row_errors: list[RowError] = []

        def text(
            key: str,
            values: dict[str, Any] = values,
            row: int = row,
            row_errors: list[RowError] = row_errors,
        ) -> str:
            """The cell as text; a value no text box holds is refused (once per field)."""
            value = values.get(key)
            if value is None or isinstance(value, str):
                return value or ""
            field = "stuck_department_id" if key == "stuck_department" else key
            if not any(e.field == field for e in row_errors):
                row_errors.append(
                    RowError(row, field, f'应为文字（加引号，如 "…"），不能是{_describe(value)}')
                )
            return ""

        kind_text = text("complainant_type") or "person"
        try:
            kind = ComplainantKind.from_label(kind_text)
        except ValueError:
            row_errors.append(
                RowError(
                    row,
                    "complainant_type",
                    f"“{kind_text[:40]}”应为 person/个人 或 enterprise/企业",
                )
            )
            kind = ComplainantKind.PERSON
        channel_text = text("channel") or Channel.ONLINE.value
        try:
            channel = Channel.from_label(channel_text)
        except ValueError:
            allowed = "、".join(c.label for c in Channel)
            row_errors.append(
                RowError(row, "channel", f"“{channel_text[:40]}”不是有效渠道（{allowed}）")
            )
            channel = Channel.ONLINE
        received_at: datetime | None = None
        received_text = text("received_at").strip()
        if received_text:
            try:
                received_at = _received_at(received_text)
            except ValueError:
                row_errors.append(
                    RowError(
                        row,
                        "received_at",
                        f"“{received_text[:40]}”不是有效日期时间"
                        "（可写 2026-12-03 09:30、2026/12/3 9:30、2026年12月3日）",
                    )
                )
        visits = 1
        visits_value = values.get("visits_count")
        if isinstance(visits_value, int) and not isinstance(visits_value, bool):
            visits = visits_value  # the form's rule (1 to 99) is validate()'s
        elif isinstance(visits_value, str) and _VISITS_RE.fullmatch(visits_value.strip()):
            visits = int(visits_value)
        elif visits_value not in (None, ""):
            row_errors.append(RowError(row, "visits_count", "往返次数应为1到99的整数"))
        department_id: int | None = None
        department = text("stuck_department").strip()
        if department:
            department_id = departments.get(department)
            if department_id is None:
                row_errors.append(
                    RowError(row, "stuck_department_id", f"部门“{department[:40]}”不存在")
                )
        conduct = _conduct_codes(values.get("respondent_conduct"), row, row_errors)
        forms.append(
            IntakeForm(
                complainant_kind=kind,
                name=text("name"),
                id_number=text("id_number"),
                credit_code=text("credit_code"),
                contact_person=text("contact_person"),
                phone=text("phone"),
                address=text("address"),
                title=text("title"),
                description=text("description"),
                area=text("area"),
                channel=channel,
                stuck_at=text("stuck_at"),
                stuck_department_id=department_id,
                visits_count=visits,
                received_at=received_at,
                id_override_reason=text("id_override_reason"),
                confirm_name_change=text("confirm_name_change"),
                agent_name=text("agent_name"),
                agent_phone=text("agent_phone"),
                agent_id_number=text("agent_id_number"),
                agent_relation=text("agent_relation"),
                respondent_name=text("respondent_name"),
                respondent_post=text("respondent_post"),
                respondent_unit=text("respondent_unit"),
                respondent_conduct=conduct,
                campaign=text("campaign"),
            )
        )
        errors.extend(row_errors)
    return forms, errors


def _conduct_codes(value: object, row: int, row_errors: list[RowError]) -> tuple[str, ...]:
    """The cell's conducts as codes: a JSON list or a text of codes or labels (不给办、冷硬推);
    one that is neither is refused by its row."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        parts = [p for p in _CONDUCT_SEPARATORS.split(value.strip()) if p]
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        parts = [v.strip() for v in value if v.strip()]
    else:
        row_errors.append(
            RowError(row, "respondent_conduct", f"应为文字或文字列表，不能是{_describe(value)}")
        )
        return ()
    codes: list[str] = []
    for part in parts:
        try:
            codes.append(Conduct.from_label(part).value)
        except ValueError:
            allowed = "、".join(c.label for c in Conduct)
            row_errors.append(
                RowError(row, "respondent_conduct", f"“{part[:40]}”不是有效的问题类型（{allowed}）")
            )
            return ()
    return tuple(codes)


def check_records(
    intake: IntakeService, records: Sequence[Record], departments: dict[str, int]
) -> tuple[list[IntakeForm], list[RowError]]:
    """The rows as forms and every error of the batch, by the row a person finds it at: the
    parser's, then the form's rules (a field the parser already refused is not told twice)."""
    forms, parse_errors = forms_from_records(records, departments)
    cleaned, check_errors = intake.check_many(forms)
    # A row that repeats one above or a case already here (a file imported twice).
    check_errors += intake.repeats(cleaned, {e.row for e in check_errors})
    rows = [record.row for record in records]
    seen = {(e.row, e.field) for e in parse_errors}
    renumbered = [RowError(rows[e.row - 1], e.field, e.message) for e in check_errors]
    merged = parse_errors + [e for e in renumbered if (e.row, e.field) not in seen]
    return forms, sorted(merged, key=lambda e: e.row)


# China keeps one time all year (UTC+8, no summer time): a time given with its zone (an online
# channel's export: 2026-12-01T09:00:00+08:00, or …Z) is kept as the hall's clock reads it.
_BEIJING = timezone(timedelta(hours=8))


def _received_at(text: str) -> datetime:
    """A 反映时间 as a file gives it: ISO 8601 (with a zone or without), or as offices write a
    date (2026/12/3 9:30, 2026年12月3日: the old register's rules); ValueError otherwise."""
    try:
        found = datetime.fromisoformat(text.replace("/", "-"))
    except ValueError:
        try:
            written = date_of(text)
        except CellProblem as exc:
            raise ValueError(text) from exc
        if written is None:
            raise ValueError(text) from None
        return written
    if found.tzinfo is not None:
        return found.astimezone(_BEIJING).replace(tzinfo=None)
    return found
