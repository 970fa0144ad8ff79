"""What fits a column: a text longer than its column is refused with the field's name, here,
before it is stored — SQLite would keep it, and then the city would refuse every later bundle
of the county as malformed (PostgreSQL refuses the save itself)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from desktop_app.domain.validation import normalize_text


def length_errors(fields: Mapping[str, tuple[str, Any, str]]) -> dict[str, str]:
    """Per form field ``name: (value, mapped column, Chinese label)``, the message for a value
    longer than the column holds (as it will be stored: normalized)."""
    errors: dict[str, str] = {}
    for name, (value, column, label) in fields.items():
        limit = getattr(column.type, "length", None)
        length = len(normalize_text(value))
        if limit is not None and length > limit:
            errors[name] = f"{label}最多{limit}字（现为{length}字）"
    return errors
