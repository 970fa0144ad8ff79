"""The intake form of a demo matter: a person at the window with a valid ID number, written once
for the demo's front door, case path and classes."""

from __future__ import annotations

from desktop_app.domain.intake_rules import IntakeForm
from desktop_app.domain.validation import id_check_char
from desktop_app.services.site import DepartmentInfo


def id_number(first17: str) -> str:
    """A valid ID number: ``first17`` and its check character (intake refuses a wrong one)."""
    return first17 + id_check_char(first17)


def window_form(
    *,
    name: str,
    first17: str,
    phone: str,
    title: str,
    description: str,
    area: str,
    department: DepartmentInfo | None = None,
    visits_count: int = 1,
) -> IntakeForm:
    """A person's matter brought to the window, stuck at ``department`` when one is named."""
    return IntakeForm(
        name=name,
        id_number=id_number(first17),
        phone=phone,
        title=title,
        description=description,
        area=area,
        stuck_at=department.name if department else "",
        stuck_department_id=department.id if department else None,
        visits_count=visits_count,
    )
