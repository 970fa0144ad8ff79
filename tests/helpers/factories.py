"""Builders for valid test input; tests change one field to make it wrong."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from desktop_app.domain.intake_rules import IntakeForm
from desktop_app.domain.vocabulary import Channel, ComplainantKind
from tests.helpers.ids import id_number

ADMIN_PASSWORD = "Admin12345"
USER_PASSWORD = "Test12345"

# Published sample numbers with correct check characters.
VALID_ID = "11010519491231002X"
VALID_CREDIT_CODE = "91350100M000100Y43"


def id_for(name: str) -> str:
    """A valid 身份证号 of its own for each name (born 1980–1999 in 杞县), so that people of
    different names are different people, as intake requires."""
    digest = int(hashlib.sha256(name.encode()).hexdigest(), 16)
    birth = f"{1980 + digest % 20}{1 + digest // 20 % 12:02d}{1 + digest // 240 % 28:02d}"
    return id_number(f"410221{birth}{digest // 6720 % 1000:03d}")


def person_form(**changes: Any) -> IntakeForm:
    """王芳 with the sample ID; another ``name`` without an ``id_number`` gets an ID of its own
    (one ID number is one person: intake refuses the same number under another name)."""
    if "name" in changes and changes["name"] and "id_number" not in changes:
        changes["id_number"] = id_for(changes["name"])
    form = IntakeForm(
        complainant_kind=ComplainantKind.PERSON,
        name="王芳",
        id_number=VALID_ID,
        phone="13812345678",
        title="医保结算查不到参保信息",
        description="在县人民医院办理外甥女的医保结算时被告知查不到参保信息，多次往返县卫健委、乡政府无果。",
        area="医保社保",
        channel=Channel.WINDOW,
        stuck_at="县人民医院医保结算窗口",
        visits_count=3,
    )
    return replace(form, **changes)


def enterprise_form(**changes: Any) -> IntakeForm:
    form = IntakeForm(
        complainant_kind=ComplainantKind.ENTERPRISE,
        name="杞县丰源农业科技有限公司",
        credit_code=VALID_CREDIT_CODE,
        contact_person="李强",
        phone="0378-2345678",
        title="药品零售经营许可证反复要求补充材料",
        description="来回跑了多次，每次都被审批窗口告知需要补充材料，没有一次性告知。",
        area="市场准入许可",
        channel=Channel.ONLINE,
    )
    return replace(form, **changes)
