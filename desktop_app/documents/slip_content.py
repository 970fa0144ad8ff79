"""The stored, immutable content of issued papers (交办单, 督办单, 催办通知, 依据告知单, 回执).

An issued paper is never edited: what was printed is kept as one of these objects (as JSON), and a
reprint draws the same object again, marked 补打 (DESIGN.md §5). The QR code on a slip carries a
signature over :meth:`SlipContent.content_hash`, so any site can check that a paper in someone's
hand is the one that was issued.

Plain frozen dataclasses: no database, no Qt, no reportlab. Dates travel as ISO strings.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Self

from desktop_app.domain.papers import PaperKind

__all__ = ["PaperKind", "ReceiptContent", "SlipContent"]


def _to_json_value(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_to_json_value(item) for item in value]
    return value


def _check_keys(cls: type, data: dict[str, Any]) -> None:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:  # stored content must round-trip exactly, or its hash would not match
        raise ValueError(f"{cls.__name__}: unknown fields {unknown}")


def _sha256_of(data: dict[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SlipContent:
    """One issued 交办单 / 督办单 / 催办通知 / 不能办依据告知单, exactly as printed."""

    kind: PaperKind
    number: str  # e.g. "杞纪窗交〔2026〕12号"
    issuer: str  # issuing organ, e.g. "中共杞县纪委 杞县监委“办不成事”监督窗口"
    case_number: str  # e.g. "杞县-2026-0012"
    lead_department: str  # 承办单位
    assisting_departments: tuple[str, ...]  # 协办单位
    complainant: str  # 反映人 (the enterprise's name for an enterprise)
    complainant_contact: str  # contact person + phone, "李强 13812345678" or "李强 138****5678"
    complainant_id_masked: str  # "410221********123X" (in full if so set), a credit code, or ""
    matter_title: str  # 反映事项
    matter_description: str  # 具体情况, may be several hundred characters
    requirements: str  # 交办要求 / 督办要求 / 催办内容
    due_date: date
    working_days: int
    signer: str  # 签发人 (the duty leader)
    issued_at: datetime
    window_phone: str
    qr_payload: str  # opaque, signed elsewhere; not part of the hashed content
    earlier_number: str = ""  # 督办 / 催办: the number of the slip it follows up
    # The deadline passes through a year whose holidays were not known at signing: printed 暂定.
    due_provisional: bool = False
    # Added by issue 14; left out of the stored JSON (and so of the hash) while at their
    # default, so a paper issued before keeps its content hash (see _LATER_FIELDS).
    nature: str = ""  # 问题性质: 不给办 / 很难办 / 办不了
    approach: str = ""  # 处置方式: 马上办 / 推动办 / 责成办 / 监督办
    visits: int = 0  # 往返次数 the complainant made before coming to the window; 0: not printed
    masthead: str = ""  # 版头 line above the title (系统设置 → 公文设置); empty: none
    # How the office's masking setting stood at signing (True for every earlier paper).
    phone_masked: bool = True
    id_masked: bool = True

    def __post_init__(self) -> None:
        # Accept a list for the departments and a plain string for the kind (e.g. from a
        # caller that built the object by hand); the stored form is always the same.
        object.__setattr__(self, "kind", PaperKind(self.kind))
        object.__setattr__(self, "assisting_departments", tuple(self.assisting_departments))

    def to_json(self) -> dict[str, Any]:
        return {
            f.name: _to_json_value(getattr(self, f.name))
            for f in fields(self)
            if not (f.name in _LATER_FIELDS and getattr(self, f.name) == f.default)
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        _check_keys(cls, data)
        values = dict(data)
        values["kind"] = PaperKind(values["kind"])
        values["assisting_departments"] = tuple(values["assisting_departments"])
        values["due_date"] = date.fromisoformat(values["due_date"])
        values["issued_at"] = datetime.fromisoformat(values["issued_at"])
        return cls(**values)

    def content_hash(self) -> str:
        """SHA-256 (hex) of the canonical JSON without ``qr_payload``: what the QR signs."""
        data = self.to_json()
        del data["qr_payload"]
        return _sha256_of(data)


_LATER_FIELDS = frozenset(
    {"nature", "approach", "visits", "masthead", "phone_masked", "id_masked", "due_provisional"}
)


@dataclass(frozen=True)
class ReceiptContent:
    """A 受理回执 handed to the complainant at intake."""

    issuer: str
    case_number: str
    complainant: str
    matter_title: str
    received_at: datetime
    clerk: str  # 受理人
    window_phone: str
    next_steps: str
    # When the complainant hears back: the deadline, or 甄别后告知 with the rules' working days.
    reply: str = ""
    qr_payload: str = ""

    def to_json(self) -> dict[str, Any]:
        return {f.name: _to_json_value(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        _check_keys(cls, data)
        values = dict(data)
        values["received_at"] = datetime.fromisoformat(values["received_at"])
        return cls(**values)

    def content_hash(self) -> str:
        """SHA-256 (hex) of the canonical JSON without ``qr_payload``."""
        data = self.to_json()
        del data["qr_payload"]
        return _sha256_of(data)
