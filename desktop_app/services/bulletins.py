"""分析通报 (issue 17): a period's statistics as a numbered bulletin.

The figures are services/statistics.py's; this module words them, lays them out as
documents/bulletin_pdf.py content and numbers the bulletin 〔年〕第N期, gap-free per site and
year through NumberSequence like the slips: a preview takes no number, issuing takes the next
one in the transaction that audits it, so a failed render leaves no gap.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop_app.documents.bulletin_pdf import (
    BulletinChart,
    BulletinContent,
    BulletinSection,
    BulletinTable,
    render_bulletin,
)
from desktop_app.documents.minutes_pdf import numeral
from desktop_app.domain.permissions import Permission
from desktop_app.domain.statistics import Rate
from desktop_app.domain.vocabulary import ComplainantKind, Outcome
from desktop_app.errors import NotFound
from desktop_app.services import audit
from desktop_app.services.context import Actor, Clock
from desktop_app.services.site import read_paper_settings
from desktop_app.services.statistics import (
    Breakdown,
    Period,
    PeriodStatistics,
    StatisticsService,
    format_change,
)
from desktop_app.storage.database import Database
from desktop_app.storage.models import AuditEntry, Case, Complainant, NumberSequence, Site
from desktop_app.storage.numbering import next_number

SEQUENCE = "bulletin"  # its NumberSequence kind
ISSUE_ACTION = "issue_bulletin"  # its audit entries: the issued numbers and their periods
TITLE = "“办不成事”反映问题分析通报"
TOP_ROWS = 12  # a breakdown table's rows before the rest are summed as 其他

NOTES = (
    "按期办结率 =（按期限办结的交办轮次）÷（已办结轮次 + 尚未办结且已超过期限的轮次）；"
    "期限指经批准延期、节假日顺延后的现行期限；未到期的在办轮次不计入。",
    "按原定期限计算的按期办结率用同一公式，以交办时的原定期限为准。",
    "重办事项每轮交办分别计算，各以本轮期限为准；退回、协办、督办不单独计为轮次。",
    "办结用时为受理次日至办结日的工作日数（扣除周末、法定节假日，计调休上班日），"
    "中位数与第90百分位数按最近秩法取实际出现的数值。",
    "回访率 = 已回访 ÷ 已办结；满意率 =（非常满意 + 满意 + 基本满意）÷ 已评价。",
    "每项比率后括号内为分子/分母，便于核对；本通报不含个人身份证号、电话等信息。",
)


@dataclass(frozen=True)
class IssuedBulletin:
    number: str
    path: Path | None
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


class BulletinService:
    def __init__(self, db: Database, clock: Clock, statistics: StatisticsService) -> None:
        self.db = db
        self.clock = clock
        self.statistics = statistics

    def next_number(self) -> str:
        """The number issuing now would take (shown on a preview, not taken)."""
        year = self.clock.now().year
        with self.db.read() as session:
            row = session.get(NumberSequence, (SEQUENCE, year))
            return bulletin_number(year, (row.last_value if row else 0) + 1)

    def as_of_today(self, period: Period) -> Period:
        """``period``, cut at today if it ends later."""
        today = self.clock.now().date()
        return Period(period.start, today) if period.end > today >= period.start else period

    def issued_for(self, period: Period, site_code: str | None = None) -> list[str]:
        """The numbers already issued for this very period (and county): a second issue takes
        the next number, and the one issuing should know the period has one. Matched on the
        period asked for (November, issued on the 25th and looked at again in December)."""
        with self.db.read() as session:
            entries = session.scalars(
                select(AuditEntry.after)
                .where(AuditEntry.action == ISSUE_ACTION)
                .order_by(AuditEntry.id)
            )
            return [
                str(after["number"])
                for after in entries
                if isinstance(after, dict)
                and after.get("from") == period.start.isoformat()
                and after.get("asked_to", after.get("to")) == period.end.isoformat()
                and (after.get("site_code") or "") == (site_code or "")
            ]

    def content(
        self,
        actor: Actor,
        period: Period,
        *,
        site_code: str | None = None,
        number: str | None = None,
        typical: Sequence[str] = (),
    ) -> BulletinContent:
        """The bulletin for ``period``; without ``number`` a preview under the next one.
        ``typical``: the numbers of the cases the user picked as 典型案例. A period not over
        yet is the part of it up to today, and says so: numbered as the whole quarter on its
        ninth week, it read as the quarter's figures, compared with the whole quarter before."""
        cut = self.as_of_today(period)
        # Cut at today, it is compared with the same first stretch of the period before it
        # (November 1–25 with October 1–25, not with the 25 days just before).
        earlier = None
        if cut != period:
            whole = period.previous()
            end = min(whole.start + timedelta(days=cut.days - 1), whole.end)
            earlier = Period(whole.start, end)
        period = cut
        stats = self.statistics.period_statistics(
            actor, period, site_code=site_code, previous=earlier
        )
        with self.db.read() as session:
            examples = typical_cases(session, typical)
            office = read_paper_settings(session)
            site = session.scalar(select(Site).where(Site.is_local.is_(True)))
            site_name = site.name if site is not None else ""
        return BulletinContent(
            number=number or self.next_number(),
            issuer=office.issuer(site_name),
            masthead=office.masthead,
            title=TITLE,
            period_text=period.text(),
            issued_at=self.clock.now(),
            sections=sections(stats) + examples,
            notes=NOTES,
            preview=number is None,
        )

    def preview_pdf(
        self,
        actor: Actor,
        period: Period,
        *,
        site_code: str | None = None,
        typical: Sequence[str] = (),
    ) -> bytes:
        """The bulletin as it would be issued now, marked 预览; takes no number."""
        return render_bulletin(self.content(actor, period, site_code=site_code, typical=typical))

    def issue(
        self,
        actor: Actor,
        period: Period,
        out: Path | None = None,
        *,
        site_code: str | None = None,
        deliver: Callable[[bytes], None] | None = None,
        typical: Sequence[str] = (),
    ) -> IssuedBulletin:
        """Number the bulletin, write it to ``out`` or hand it to ``deliver`` (the printer) and
        audit it, all or nothing: a failed render, write or print takes no number."""
        actor.require(Permission.VIEW_CASES)
        now = self.clock.now()
        # Read before the write lock is taken.
        asked = period
        period = self.as_of_today(period)
        draft = self.content(actor, asked, site_code=site_code, typical=typical)
        with self.db.write() as session:
            seq = next_number(session, SEQUENCE, now.year)
            number = bulletin_number(now.year, seq)
            content = replace(draft, number=number, preview=False)
            data = render_bulletin(content, out=out)  # raises before the number is kept
            if deliver is not None:
                deliver(data)
            audit.record(
                session,
                at=now,
                user_name=actor.username,
                action=ISSUE_ACTION,
                entity="bulletin",
                entity_uuid=str(uuid.uuid4()),
                after={
                    "number": number,
                    "from": period.start.isoformat(),
                    "to": period.end.isoformat(),
                    "asked_to": asked.end.isoformat(),  # the period as chosen, before the cut
                    "site_code": site_code or "",
                    "file": out.name if out is not None else "",
                },
            )
        return IssuedBulletin(number=number, path=out, data=data)


def typical_cases(session: Session, numbers: Sequence[str]) -> tuple[BulletinSection, ...]:
    """六、典型案例: each picked case told without personal data — a person's name cut to
    the surname and 某 (an enterprise keeps its name), no ID or phone number."""
    wanted = [number.strip() for number in numbers if number.strip()]
    if not wanted:
        return ()
    rows = {
        case.number: (case, person)
        for case, person in session.execute(
            select(Case, Complainant)
            .join(Complainant, Case.complainant_id == Complainant.id)
            .where(Case.number.in_(wanted))
        )
    }
    missing = [number for number in wanted if number not in rows]
    if missing:
        raise NotFound(f"没有找到这些事项编号：{'、'.join(missing)}")
    blocks: list[str] = []
    for index, number in enumerate(wanted, start=1):
        case, person = rows[number]
        who = person.name
        if person.kind == ComplainantKind.PERSON.value:
            who = f"{person.name[:1]}某"
        outcome = f"办理结果：{Outcome(case.outcome).label}。" if case.outcome else ""
        blocks.append(
            f"（{numeral(index)}）{case.title}。{case.received_at:%Y年%m月%d日}，{who}反映"
            f"（{case.area}领域，事项编号{case.number}）：{case.description}{outcome}"
        )
    return (BulletinSection("六、典型案例", tuple(blocks)),)


def bulletin_number(year: int, seq: int) -> str:
    return f"〔{year}〕第{seq}期"


# Wording -------------------------------------------------------------------------------------


def sections(stats: PeriodStatistics) -> tuple[BulletinSection, ...]:
    totals, previous = stats.totals, stats.previous
    prior = previous.totals if previous is not None else None

    def compared(label: str, now: int, before: int | None) -> tuple[str, str, str, str]:
        if before is None:
            return (label, str(now), "—", "—")
        return (label, str(now), str(before), format_change(now, before))

    total_rows = tuple(
        compared(label, getattr(totals, key), getattr(prior, key) if prior else None)
        for label, key in (
            ("受理反映事项", "received"),
            ("甄别不予受理/转办", "screened_out"),
            ("已办结", "concluded"),
            ("其中：办成", "resolved"),
            ("其中：不能办（已解释）", "explained"),
            ("撤回", "withdrawn"),
            ("在办", "open"),
            ("其中：超期", "overdue"),
        )
    )
    summary = (
        f"本期共受理反映事项{totals.received}件"
        + (
            f"（上期{prior.received}件，{format_change(totals.received, prior.received)}）"
            if prior
            else ""
        )
        + f"，其中甄别不予受理或转办{totals.screened_out}件；已办结{totals.concluded}件"
        f"（办成{totals.resolved}件，不能办已解释{totals.explained}件），撤回{totals.withdrawn}件，"
        f"在办{totals.open}件，其中超期{totals.overdue}件。"
    )
    overview: list[str | BulletinTable | BulletinChart] = [
        summary,
        BulletinTable(("指标", "本期", "上期", "变化"), total_rows, "表1 总体情况", (3, 1, 1, 1)),
    ]
    if len(stats.trend) > 1:
        overview.append(
            BulletinChart(
                "line",
                "各月受理数量",
                tuple(month for month, _ in stats.trend),
                tuple(float(count) for _, count in stats.trend),
            )
        )
    distribution: list[str | BulletinTable | BulletinChart] = []
    nature = stats.breakdowns["nature"]
    if nature.rows:
        distribution.append(_chart("pie", "问题性质分布", nature))
    table_number = 2
    for key in ("area", "department", "cause", "approach", "channel", "campaign", "county"):
        breakdown = stats.breakdowns.get(key)
        if breakdown is None or not breakdown.rows:
            continue
        if key == "area":
            distribution.append(_chart("bar", "各领域反映数量", _top(breakdown, 10)))
        # A city's bulletin names every county (15 of them: the 12th to 15th were summed as 其他).
        rows = None if key == "county" else TOP_ROWS
        distribution.append(_share_table(breakdown, f"表{table_number} {breakdown.title}", rows))
        table_number += 1
    if not distribution:
        distribution.append("本期无反映事项。")
    handling = stats.handling
    days = (
        f"办结用时中位数{_days(stats.working_days_median)}，"
        f"第90百分位数{_days(stats.working_days_p90)}。"
        if stats.working_days_median is not None
        else "本期暂无办结事项，不计办结用时。"
    )
    quality: list[str | BulletinTable | BulletinChart] = [
        f"交办轮次{stats.rounds}个，按期办结率{stats.on_time.text()}，"
        f"按原定期限计算为{stats.on_time_original.text()}；窗口办理时限按期率"
        f"{stats.case_on_time.text()}。{days}"
        f"申请延期{handling.extensions_requested}次（批准{handling.extensions_approved}次），"
        f"退回{handling.returns}次，催办{handling.urged}次，督办{handling.supervised}次。",
        BulletinTable(
            ("指标", "本期", "上期"),
            tuple(
                (label, now.text(), before.text() if previous else "—")
                for label, now, before in _rates(stats, previous)
            ),
            f"表{table_number} 办理质效",
            (3, 2, 2),
        ),
    ]
    table_number += 1
    visits: list[str | BulletinTable | BulletinChart] = [
        f"已办结事项回访率{stats.visit_rate.text()}，满意率{stats.satisfied_rate.text()}。"
    ]
    if stats.satisfaction.total:
        visits.append(_chart("pie", "回访满意度分布", stats.satisfaction))
    supervision = stats.supervision
    accountability: list[str | BulletinTable | BulletinChart] = [
        f"本期提出问责线索{supervision.referrals}条；新立一类事{supervision.classes_opened}个，"
        f"完成整改{supervision.classes_fixed}个；系统预警{supervision.warnings_raised}条。"
    ]
    if supervision.measures.rows:
        accountability.append(
            _share_table(supervision.measures, f"表{table_number} 问责线索处理方式")
        )
    return (
        BulletinSection("一、总体情况", tuple(overview)),
        BulletinSection("二、问题分布", tuple(distribution)),
        BulletinSection("三、办理质效", tuple(quality)),
        BulletinSection("四、回访与满意度", tuple(visits)),
        BulletinSection("五、监督问责与整改", tuple(accountability)),
    )


def _rates(
    stats: PeriodStatistics, previous: PeriodStatistics | None
) -> list[tuple[str, Rate, Rate]]:
    before = previous or stats
    return [
        ("按期办结率（现行期限）", stats.on_time, before.on_time),
        ("按期办结率（原定期限）", stats.on_time_original, before.on_time_original),
        ("窗口办理时限按期率", stats.case_on_time, before.case_on_time),
        ("回访率", stats.visit_rate, before.visit_rate),
        ("满意率", stats.satisfied_rate, before.satisfied_rate),
    ]


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:g}个工作日"


def _top(breakdown: Breakdown, limit: int) -> Breakdown:
    """The largest ``limit`` rows, the rest summed as 其他."""
    if len(breakdown.rows) <= limit:
        return breakdown
    rest = sum(count for _, count in breakdown.rows[limit - 1 :])
    return Breakdown(breakdown.title, (*breakdown.rows[: limit - 1], ("其他", rest)))


def _chart(kind: str, title: str, breakdown: Breakdown) -> BulletinChart:
    return BulletinChart(
        kind,
        title,
        tuple(label for label, _ in breakdown.rows),
        tuple(float(count) for _, count in breakdown.rows),
    )


def _share_table(breakdown: Breakdown, caption: str, limit: int | None = TOP_ROWS) -> BulletinTable:
    """Each row's count and share; beyond ``limit`` rows (None: no limit) the rest as 其他."""
    total = breakdown.total
    shown = breakdown if limit is None else _top(breakdown, limit)
    rows = tuple(
        (label, str(count), Rate(count, total).text().split("（")[0]) for label, count in shown.rows
    )
    return BulletinTable(("类别", "件数", "占比"), rows, caption, (3, 1, 1))
