"""Reading batch intake files (``bbcs intake --from``): JSON lists or CSV tables.

Parsing problems are reported per row like validation problems, and nothing is imported when any
row is wrong.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from desktop_app.domain.intake_rules import IntakeForm
from desktop_app.domain.vocabulary import Channel, ComplainantKind
from desktop_app.errors import UserError
from desktop_app.services.intake import RowError

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
}


def read_records(path: Path) -> list[dict[str, Any]]:
    """Rows of a .json (a list of objects) or .csv (header row; UTF-8 or GBK, as Excel saves)."""
    if not path.is_file():
        raise UserError(f"找不到文件：{path}")
    raw = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UserError(f"JSON 文件格式不正确：{exc}") from exc
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise UserError('JSON 文件应为对象列表，例如 [{"name": "王芳", …}]')
        return data
    if suffix == ".csv":
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                content = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:  # pragma: no cover - gb18030 decodes any byte string
            raise UserError("CSV 文件编码无法识别，请另存为 UTF-8")
        reader = csv.DictReader(io.StringIO(content))
        return [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in reader]
    raise UserError("只支持 .json 或 .csv 文件")


def forms_from_records(
    records: list[dict[str, Any]], departments: dict[str, int]
) -> tuple[list[IntakeForm], list[RowError]]:
    """IntakeForms for the rows, and the rows' parsing errors (to report with validation's)."""
    errors: list[RowError] = []
    forms: list[IntakeForm] = []
    for row, record in enumerate(records, start=1):
        row_errors: list[RowError] = []

        def text(key: str, record: dict[str, Any] = record) -> str:
            value = record.get(key)
            return "" if value is None else str(value)

        kind_text = text("complainant_type") or "person"
        try:
            kind = ComplainantKind.from_label(kind_text)
        except ValueError:
            row_errors.append(
                RowError(
                    row, "complainant_type", f"“{kind_text}”应为 person/个人 或 enterprise/企业"
                )
            )
            kind = ComplainantKind.PERSON
        channel_text = text("channel") or Channel.ONLINE.value
        try:
            channel = Channel.from_label(channel_text)
        except ValueError:
            allowed = "、".join(c.label for c in Channel)
            row_errors.append(
                RowError(row, "channel", f"“{channel_text}”不是有效渠道（{allowed}）")
            )
            channel = Channel.ONLINE
        received_at: datetime | None = None
        if text("received_at"):
            try:
                received_at = datetime.fromisoformat(text("received_at").replace("/", "-"))
            except ValueError:
                row_errors.append(
                    RowError(row, "received_at", f"“{text('received_at')}”不是有效日期时间")
                )
        visits = 1
        if text("visits_count"):
            try:
                visits = int(text("visits_count"))
            except ValueError:
                row_errors.append(RowError(row, "visits_count", "往返次数应为整数"))
        department_id: int | None = None
        if text("stuck_department"):
            department_id = departments.get(text("stuck_department").strip())
            if department_id is None:
                row_errors.append(
                    RowError(row, "stuck_department_id", f"部门“{text('stuck_department')}”不存在")
                )
        errors.extend(row_errors)
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
            )
        )
    return forms, errors
