"""The intake form (受理登记) and its rules — the same for the window form and batch import."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from desktop_app.domain import validation
from desktop_app.domain.vocabulary import Channel, ComplainantKind, Conduct
from desktop_app.domain.workdays import FIRST_YEAR

MAX_TITLE = 200
MAX_DESCRIPTION = 5000
MAX_VISITS = 99
# The earliest 反映时间 taken: the first year the deadline engine computes working days for
# (2004, the holiday tables' first), so every case taken can be given its deadline. Anything
# earlier (0001-01-01, 1900) is a typing or export error, not a paper record being entered late.
EARLIEST_RECEIVED = date(FIRST_YEAR, 1, 1)
# The form's text boxes, each checked for characters no box can hold (validation.text_problem).
TEXT_FIELDS = (
    "name",
    "id_number",
    "credit_code",
    "contact_person",
    "phone",
    "address",
    "title",
    "description",
    "area",
    "stuck_at",
    "id_override_reason",
    "confirm_name_change",
    "agent_name",
    "agent_phone",
    "agent_id_number",
    "agent_relation",
    "respondent_name",
    "respondent_post",
    "respondent_unit",
    "campaign",
)
# Lengths the case's columns hold (migration 0012).
MAX_AGENT_RELATION = 40
MAX_RESPONDENT_NAME = 40
MAX_RESPONDENT_POST = 60
MAX_RESPONDENT_UNIT = 100
MAX_CAMPAIGN = 40

FIELD_LABELS: dict[str, str] = {
    "complainant_kind": "反映人类型",
    "name": "姓名/名称",
    "id_number": "身份证号",
    "credit_code": "统一社会信用代码",
    "contact_person": "联系人",
    "phone": "联系电话",
    "address": "地址",
    "title": "反映事项",
    "description": "具体情况",
    "area": "领域",
    "channel": "来源渠道",
    "stuck_at": "受阻环节",
    "stuck_department_id": "受阻部门",
    "visits_count": "往返次数",
    "received_at": "反映时间",
    "attachments": "材料",
    "id_override_reason": "证件号确认理由",
    "confirm_name_change": "更名理由",
    "agent_name": "代办人姓名",
    "agent_phone": "代办人电话",
    "agent_id_number": "代办人身份证号",
    "agent_relation": "代办人与反映人关系",
    "respondent_name": "被反映人姓名",
    "respondent_post": "被反映人职务/岗位",
    "respondent_unit": "被反映人单位",
    "respondent_conduct": "被反映问题",
    "campaign": "专项活动",
}


@dataclass(frozen=True)
class IntakeForm:
    """What the clerk fills in. Strings are taken as typed; :func:`normalized` cleans them."""

    complainant_kind: ComplainantKind = ComplainantKind.PERSON
    name: str = ""
    id_number: str = ""
    credit_code: str = ""
    contact_person: str = ""
    phone: str = ""
    address: str = ""
    title: str = ""
    description: str = ""
    area: str = ""
    channel: Channel = Channel.WINDOW
    stuck_at: str = ""
    stuck_department_id: int | None = None
    visits_count: int = 1
    received_at: datetime | None = None
    attachments: tuple[Path, ...] = field(default=())
    # A wrong-looking but real ID or credit code is accepted only with a reason, which is kept.
    id_override_reason: str = ""
    # Link to an earlier case of the same complainant about the same matter (repeat visit).
    repeat_of_case_id: int | None = None
    # A known ID or credit code under another name renames its complainant (on every earlier
    # case) only when the clerk confirms it is the same person and says why (issue 14 item 13).
    confirm_name_change: str = ""
    # Who came for the person concerned (代办人, e.g. an uncle for his niece, seed 002): kept
    # apart from the person, whose case it is (duplicate checks and visits go to the person).
    agent_name: str = ""
    agent_phone: str = ""
    agent_id_number: str = ""
    agent_relation: str = ""  # 舅舅、子女、委托代理人 …
    # Who is complained about: the official or window named, and what they did (Conduct codes).
    respondent_name: str = ""
    respondent_post: str = ""
    respondent_unit: str = ""
    respondent_conduct: tuple[str, ...] = ()
    campaign: str = ""  # 专项活动 (DEFAULT_CAMPAIGNS or the site's own)

    @property
    def has_agent(self) -> bool:
        return any((self.agent_name, self.agent_phone, self.agent_id_number, self.agent_relation))


def normalized(form: IntakeForm) -> IntakeForm:
    person = form.complainant_kind is ComplainantKind.PERSON
    id_number = validation.normalize_id_number(form.id_number) if person else ""
    credit_code = "" if person else validation.normalize_credit_code(form.credit_code)
    phone = validation.normalize_code(form.phone)
    if phone and validation.check_phone(phone) is None:
        phone = validation.normalize_phone(phone)
    return replace(
        form,
        name=validation.normalize_text(form.name),
        id_number=id_number,
        credit_code=credit_code,
        contact_person=validation.normalize_text(form.contact_person) if not person else "",
        phone=phone,
        address=validation.normalize_text(form.address),
        title=validation.normalize_text(form.title),
        description=form.description.strip(),
        area=form.area.strip(),
        stuck_at=validation.normalize_text(form.stuck_at),
        id_override_reason=validation.normalize_text(form.id_override_reason),
        confirm_name_change=validation.normalize_text(form.confirm_name_change),
        agent_name=validation.normalize_text(form.agent_name),
        agent_phone=_normalized_phone(form.agent_phone),
        agent_id_number=validation.normalize_id_number(form.agent_id_number),
        agent_relation=validation.normalize_text(form.agent_relation),
        respondent_name=validation.normalize_text(form.respondent_name),
        respondent_post=validation.normalize_text(form.respondent_post),
        respondent_unit=validation.normalize_text(form.respondent_unit),
        respondent_conduct=tuple(dict.fromkeys(c.strip() for c in form.respondent_conduct if c)),
        campaign=validation.normalize_text(form.campaign),
    )


def _normalized_phone(value: str) -> str:
    phone = validation.normalize_code(value)
    if phone and validation.check_phone(phone) is None:
        phone = validation.normalize_phone(phone)
    return phone


OVERRIDE_HINT = "如确认无误，请填写确认理由后保存"
# A batch row has no 确认理由 box: it names the column that carries the reason (item 15).
BATCH_OVERRIDE_HINT = "如确认无误，请在该行“确认理由”列（id_override_reason）写明确认理由"
# Only a wrong check character may be excused; the message says so briefly (one line).
NOT_EXCUSABLE = "号码本身有误，不能凭确认理由保存"


def number_needs_reason(form: IntakeForm, today: date) -> bool:
    """Whether the form's ID number (a person) or credit code (an enterprise) fails its check,
    so that a recorded reason is what lets it through. ``form`` normalized."""
    if form.complainant_kind is ComplainantKind.PERSON:
        return bool(form.id_number) and bool(validation.check_id_number(form.id_number, today))
    return bool(form.credit_code) and bool(validation.check_credit_code(form.credit_code))


def override_message(
    problem: str, *, excusable: bool, overridden: bool, batch: bool = False
) -> str | None:
    """The message for a wrong-looking ID or credit code, or None when a recorded reason
    excuses it: a reason excuses only a wrong check character on a real card (DESIGN.md, issue
    12 item 10), never a wrong length, date or characters."""
    if excusable:
        if overridden:
            return None
        return f"{problem}；{BATCH_OVERRIDE_HINT if batch else OVERRIDE_HINT}"
    return f"{problem}；{NOT_EXCUSABLE}" if overridden else problem


def identity_label(form: IntakeForm) -> str:
    """What makes a complainant the same one across visits: the ID number or credit code."""
    return "身份证号" if form.complainant_kind is ComplainantKind.PERSON else "统一社会信用代码"


def name_conflict_message(
    form: IntakeForm, known_name: str, *, batch: bool = False, earlier_row: int | None = None
) -> str:
    """A known ID or credit code typed with another name: one of the names is mistyped, or the
    person (enterprise) was renamed. Never decided silently: the clerk answers (the form asks,
    a batch row carries ``confirm_name_change``). ``earlier_row``: the name comes from an
    earlier row of the same batch, not the database."""
    label = identity_label(form)
    where = f"在第{earlier_row}行为" if earlier_row is not None else "已登记为"
    mismatch = f"该{label}{where}“{known_name}”，与所填“{form.name}”不一致"
    if batch:
        return (
            f"{mismatch}：如是录入错误，请改正姓名；"
            "如确是同一人更名，请在该行 confirm_name_change 列写明更名理由"
        )
    return (
        f"{mismatch}：请确认是录入错误还是同一人更名"
        "（更名须写明理由；原登记有误也可在其事项中“更正…”）"
    )


def validate(
    form: IntakeForm,
    *,
    today: date,
    areas: Collection[str],
    department_ids: Collection[int] = (),
    batch: bool = False,
    now: datetime | None = None,
) -> dict[str, str]:
    """Field name → Chinese message, for every field that is wrong. Empty means savable.

    ``form`` should already be :func:`normalized`; ``batch``: a row of a batch file, told which
    column to fill instead of which box; ``now``: the time no matter can have come in after (a
    time later today, saved, left the reply impossible to record: a reply is never earlier
    than the matter it answers, nor later than now).
    """
    errors: dict[str, str] = {}
    person = form.complainant_kind is ComplainantKind.PERSON
    if not form.name:
        errors["name"] = "请填写反映人姓名" if person else "请填写企业名称"
    elif len(form.name) > 100:
        errors["name"] = "姓名/名称过长（最多100字）"
    override = bool(form.id_override_reason)
    if person and form.id_number:
        problem = validation.check_id_number(form.id_number, today)
        if problem:
            excusable = validation.id_number_excusable(form.id_number, today)
            message = override_message(
                problem, excusable=excusable, overridden=override, batch=batch
            )
            if message:
                errors["id_number"] = message
    if not person:
        if form.credit_code:
            problem = validation.check_credit_code(form.credit_code)
            if problem:
                excusable = validation.credit_code_excusable(form.credit_code)
                message = override_message(
                    problem, excusable=excusable, overridden=override, batch=batch
                )
                if message:
                    errors["credit_code"] = message
        if not form.contact_person:
            errors["contact_person"] = "请填写企业联系人"
    if not form.phone:
        errors["phone"] = "请填写联系电话（回访需要）"
    else:
        problem = validation.check_phone(form.phone)
        if problem:
            errors["phone"] = problem
    if not form.title:
        errors["title"] = "请填写反映事项（一句话概括）"
    elif len(form.title) > MAX_TITLE:
        errors["title"] = f"反映事项最多{MAX_TITLE}字，详细情况请写在“具体情况”中"
    if not form.description:
        errors["description"] = "请填写具体情况：办什么事、卡在哪里、已跑了几次"
    elif len(form.description) > MAX_DESCRIPTION:
        errors["description"] = f"具体情况最多{MAX_DESCRIPTION}字"
    if not form.area:
        errors["area"] = "请选择领域"
    elif form.area not in areas:
        errors["area"] = f"领域“{form.area}”不在本站点的领域列表中"
    if form.stuck_department_id is not None and form.stuck_department_id not in department_ids:
        errors["stuck_department_id"] = "所选部门不存在或已停用"
    if not 1 <= form.visits_count <= MAX_VISITS:
        errors["visits_count"] = f"往返次数应在1到{MAX_VISITS}之间"
    if form.received_at is not None and form.received_at.date() > today:
        errors["received_at"] = "反映时间不能晚于今天"
    elif (
        form.received_at is not None
        and now is not None
        and form.received_at.replace(second=0, microsecond=0) > now
    ):  # by the minute, as the form shows it (a file's 09:00:30 at 09:00:10 is this minute)
        errors["received_at"] = f"反映时间不能晚于现在（{now:%H:%M}）"
    elif form.received_at is not None and form.received_at.date() < EARLIEST_RECEIVED:
        errors["received_at"] = (
            f"反映时间 {form.received_at.date().isoformat()} 早于{EARLIEST_RECEIVED.year}年，"
            "请检查是否写错"
        )
    errors.update(_agent_errors(form, today))
    errors.update(_respondent_errors(form))
    if len(form.campaign) > MAX_CAMPAIGN:
        errors["campaign"] = f"专项活动名称最多{MAX_CAMPAIGN}字"
    for name in TEXT_FIELDS:  # the most basic problem: it replaces any other said of the field
        problem = validation.text_problem(getattr(form, name))
        if problem:
            errors[name] = problem
    return errors


def _agent_errors(form: IntakeForm, today: date) -> dict[str, str]:
    """The agent's fields, checked as the person's are (no 确认理由: the agent's own ID is not
    what identifies the case, so a doubtful one is simply left out)."""
    errors: dict[str, str] = {}
    if not form.has_agent:
        return errors
    if not form.agent_name:
        errors["agent_name"] = "填写了代办人信息，请同时填写代办人姓名"
    elif len(form.agent_name) > 100:
        errors["agent_name"] = "代办人姓名过长（最多100字）"
    if form.agent_phone:
        problem = validation.check_phone(form.agent_phone)
        if problem:
            errors["agent_phone"] = problem
    if form.agent_id_number:
        problem = validation.check_id_number(form.agent_id_number, today)
        if problem:
            errors["agent_id_number"] = problem
    if len(form.agent_relation) > MAX_AGENT_RELATION:
        errors["agent_relation"] = f"关系最多{MAX_AGENT_RELATION}字，如：舅舅、委托代理人"
    return errors


def _respondent_errors(form: IntakeForm) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, most, label in (
        ("respondent_name", MAX_RESPONDENT_NAME, "被反映人姓名"),
        ("respondent_post", MAX_RESPONDENT_POST, "职务/岗位"),
        ("respondent_unit", MAX_RESPONDENT_UNIT, "单位"),
    ):
        if len(getattr(form, name)) > most:
            errors[name] = f"{label}最多{most}字"
    unknown = [c for c in form.respondent_conduct if c not in Conduct._value2member_map_]
    if unknown:
        allowed = "、".join(f"{c.value}/{c.label}" for c in Conduct)
        errors["respondent_conduct"] = f"“{'、'.join(unknown)[:40]}”不是有效的问题类型（{allowed}）"
    return errors
