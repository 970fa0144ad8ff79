"""Writing a case's timeline: every service adds its events and materials through here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from desktop_app.domain.case_flow import EventKind
from desktop_app.services.attachments import StoredFile
from desktop_app.storage.models import Attachment, CaseEvent


def add_event(
    session: Session,
    case_id: int,
    kind: EventKind,
    summary: str,
    *,
    user_name: str,
    at: datetime,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    event = CaseEvent(
        case_id=case_id,
        at=at,
        kind=kind.value,
        summary=summary,
        data=data or {},
        user_name=user_name,
    )
    session.add(event)
    return event


def attach_files(
    session: Session,
    case_id: int,
    files: Sequence[StoredFile],
    *,
    user_name: str,
    at: datetime,
) -> None:
    """Materials already in the store become the case's attachments, each noted on the timeline."""
    for stored in files:
        session.add(
            Attachment(
                case_id=case_id,
                filename=stored.filename,
                sha256=stored.sha256,
                size=stored.size,
                added_at=at,
                added_by=user_name,
            )
        )
        add_event(
            session,
            case_id,
            EventKind.ATTACHMENT_ADDED,
            f"添加材料：{stored.filename}",
            user_name=user_name,
            at=at,
            data={"sha256": stored.sha256, "size": stored.size},
        )
