"""Reference data, city → counties: the city's departments, areas, cause codes, holiday changes
and deadline rules, written as one signed (not encrypted) bundle for every county it trusts,
and applied at a county (DESIGN.md §6)."""

from __future__ import annotations

import json
import re
import uuid as uuid_module
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from desktop_app.domain.deadlines import RuleKey, validate_rule_days
from desktop_app.domain.settings import (
    DEADLINE_RULE_SETTINGS,
    DUE_SOON_DAYS,
    RULE_DAYS,
    declared,
    reference_applied,
)
from desktop_app.services import audit, settings
from desktop_app.services.calendar import bump_revision, calendar_in, recompute_open_deadlines
from desktop_app.services.context import Actor, Clock
from desktop_app.services.exchange import bundle_file as bf
from desktop_app.services.exchange.export import ExportResult, Progress, record_export
from desktop_app.services.exchange.folders import check_target, size_of, write_bundle_file
from desktop_app.services.exchange.import_report import ImportReport
from desktop_app.services.exchange.manifest import header, manifest, parse_time
from desktop_app.services.exchange.merge import RecordMerger, incompatible
from desktop_app.services.exchange.records_tables import SPECS
from desktop_app.services.exchange.records_write import write_records
from desktop_app.services.exchange.refusals import BundleRefused, RefusalCode
from desktop_app.services.exchange.scratch import new_records_file, open_records, records_session
from desktop_app.services.exchange.sites import SiteView, local_site
from desktop_app.services.keys import SiteKeys
from desktop_app.storage.database import Database
from desktop_app.storage.models import (
    Area,
    Bundle,
    CalendarYear,
    CauseCode,
    HolidayOverride,
)


class ReferenceData:
    def __init__(self, db: Database, clock: Clock, keys: SiteKeys) -> None:
        self._db = db
        self._clock = clock
        self._keys = keys

    def export(self, actor: Actor, target_dir: Path, progress: Progress | None) -> ExportResult:
        """The city's reference bundle, for every county it trusts."""
        check_target(target_dir)
        bundle_id = str(uuid_module.uuid4())
        now = self._clock.now()
        writer = bf.PayloadWriter()
        try:
            with new_records_file(self._db) as (session, records_path, attached):
                local_code = local_site(session).code
                counts = write_records(
                    session,
                    records_path,
                    [(SPECS["departments"], None)],
                    local_code,
                    attached=attached,
                )
                session.commit()
                writer.add_packed_file(bf.RECORDS_MEMBER, records_path)
            with self._db.write() as session:  # committed, not rolled back: ``local`` stays loaded
                local = local_site(session)
                areas = [
                    [a.name, a.position, a.active]
                    for a in session.scalars(select(Area).order_by(Area.position, Area.id))
                ]
                writer.add_bytes(
                    "records/areas.jsonl", _jsonl("areas", ["name", "position", "active"], areas)
                )
                counts["areas"] = len(areas)
                causes = [
                    [c.code, c.label, c.position, c.active]
                    for c in session.scalars(
                        select(CauseCode).order_by(CauseCode.position, CauseCode.id)
                    )
                ]
                writer.add_bytes(
                    "records/cause_codes.jsonl", _jsonl("cause_codes", _CAUSE_COLUMNS, causes)
                )
                counts["cause_codes"] = len(causes)
                holidays = [
                    [h.uuid, h.version, h.day.isoformat(), h.working, h.name]
                    for h in session.scalars(select(HolidayOverride).order_by(HolidayOverride.day))
                ]
                writer.add_bytes(
                    "records/holiday_overrides.jsonl",
                    _jsonl(
                        "holiday_overrides", ["uuid", "version", "day", "working", "name"], holidays
                    ),
                )
                counts["holiday_overrides"] = len(holidays)
                years = [[y.year, y.source] for y in session.scalars(select(CalendarYear))]
                writer.add_bytes(
                    "records/calendar_years.jsonl",
                    _jsonl("calendar_years", ["year", "source"], years),
                )
                stored_rules = settings.stored_text(session, DEADLINE_RULE_SETTINGS)
                rules = [[key, value] for key, value in sorted(stored_rules.items())]
                writer.add_bytes("records/rules.jsonl", _jsonl("rules", ["key", "value"], rules))
                counts["rules"] = len(rules)
                signed = manifest(
                    "reference",
                    bundle_id,
                    now,
                    {"code": local.code, "name": local.name, "level": local.level},
                    {"code": "*", "name": "所辖各县区"},
                    counts=counts,
                    algorithms={"signature": bf.SIGNATURE_ALGORITHM, "hash": bf.HASH_ALGORITHM},
                )
                payload = writer.finish(signed, self._keys.sign)
            name = f"bbcs-{local.code}-ref-{now:%Y%m%d-%H%M%S}{bf.BUNDLE_SUFFIX}"
            if progress:
                progress("写入", 1, 1)
            sealed = bf.seal_payload(header(signed), payload, None, self._keys)
            path, size, sha = write_bundle_file(target_dir, name, sealed)
        finally:
            writer.close()
        record_export(
            self._db,
            actor,
            Bundle(
                bundle_id=bundle_id,
                direction="out",
                kind="reference",
                peer_code="*",
                created_at=now,
                file_name=path.name,
                location=str(target_dir),
                size=size,
                sha256=sha,
                counts=counts,
                user_name=actor.username,
            ),
        )
        return ExportResult(path, bundle_id, "reference", counts, size, 0, 0)

    def apply(
        self,
        actor: Actor,
        path: Path,
        bundle: bf.Header,
        payload: bf.Payload,
        signed: dict[str, Any],
        sender: SiteView,
        report: ImportReport,
        dry_run: bool,
    ) -> None:
        """Apply a reference bundle whose signature holds, all or nothing."""
        now = self._clock.now()
        members = set(payload.member_names())

        def rows_of(name: str, columns: Sequence[str]) -> list[dict[str, Any]]:
            member = f"records/{name}.jsonl"
            if member not in members:
                return []
            lines = list(bf.read_lines(payload.read_member(member), member))
            if (
                not lines
                or not isinstance(lines[0], dict)
                or lines[0].get("table") != name
                or lines[0].get("columns") != list(columns)
            ):
                raise BundleRefused(RefusalCode.BAD_CONTENT, f"数据包中“{member}”的格式不正确。")
            out = []
            for line in lines[1:]:
                if not isinstance(line, list) or len(line) != len(columns):
                    raise BundleRefused(
                        RefusalCode.BAD_CONTENT, f"数据包中“{member}”的格式不正确。"
                    )
                out.append(dict(zip(columns, line, strict=True)))
            return out

        areas = rows_of("areas", ["name", "position", "active"])
        causes = rows_of("cause_codes", _CAUSE_COLUMNS)
        holidays = rows_of("holiday_overrides", ["uuid", "version", "day", "working", "name"])
        years = rows_of("calendar_years", ["year", "source"])
        rules = rows_of("rules", ["key", "value"])
        departments = SPECS["departments"]
        with (
            open_records(payload, path.name) as records,
            records_session(self._db, records.path, write=True) as (session, attached),
        ):
            if any(spec is not departments for spec in records.tables()):
                raise BundleRefused(
                    RefusalCode.BAD_CONTENT, "基础数据包中只应有部门等基础数据，拒绝导入。"
                )
            importer = RecordMerger(
                session,
                sender.code,
                bundle.bundle_id,
                now,
                report,
                local_code=local_site(session).code,
                attached=attached,
            )
            try:
                columns = records.known_columns()
                records.check_values(columns)  # a few hundred departments: before any copy
                importer.merge_file(records, columns, lambda: None)
            except (IntegrityError, DataError) as exc:
                raise incompatible(exc) from exc
            existing_areas = set(session.scalars(select(Area.name)))
            position = session.scalar(select(func.max(Area.position))) or 0
            for row in areas:
                name = row["name"]
                if not isinstance(name, str) or not name.strip() or len(name) > 40:
                    raise BundleRefused(RefusalCode.BAD_CONTENT, "数据包中的领域名称不正确。")
                if name in existing_areas:
                    report.ignored["areas"] += 1
                    report.reasons["领域已存在"] += 1
                else:
                    position += 1
                    session.add(Area(name=name, position=position, active=True))
                    existing_areas.add(name)
                    report.added["areas"] += 1
            _apply_cause_codes(session, causes, report)
            calendar_changed = False
            for row in holidays:
                try:
                    day = date.fromisoformat(row["day"])
                    working = bool(row["working"])
                    version = int(row["version"])
                    name = str(row["name"])[:40]
                    the_uuid = str(row["uuid"])
                except (TypeError, ValueError, KeyError):
                    raise BundleRefused(
                        RefusalCode.BAD_CONTENT, "数据包中的节假日安排格式不正确。"
                    ) from None
                local_row = session.scalar(
                    select(HolidayOverride).where(HolidayOverride.day == day)
                )
                if local_row is None:
                    session.add(
                        HolidayOverride(
                            uuid=the_uuid,
                            version=version,
                            day=day,
                            working=working,
                            name=name,
                            created_at=now,
                            created_by=sender.name[:40],
                        )
                    )
                    report.added["holiday_overrides"] += 1
                    calendar_changed = True
                elif local_row.uuid != the_uuid:
                    report.ignored["holiday_overrides"] += 1
                    report.reasons["本站点已有该日的安排"] += 1
                elif local_row.version < version:
                    local_row.working = working
                    local_row.name = name
                    local_row.version = version
                    report.updated["holiday_overrides"] += 1
                    calendar_changed = True
                else:
                    report.ignored["holiday_overrides"] += 1
                    report.reasons["已是最新"] += 1
            for row in years:
                year = row.get("year")
                if not isinstance(year, int) or not 2000 <= year <= 2100:
                    raise BundleRefused(RefusalCode.BAD_CONTENT, "数据包中的年份不正确。")
                if session.get(CalendarYear, year) is None:
                    session.add(
                        CalendarYear(year=year, source=f"{sender.name}下发", imported_at=now)
                    )
                    calendar_changed = True
            # Rules carry no version: an older reference bundle (a stale stick) must not undo
            # newer ones, so they are applied only from a bundle newer than the last applied.
            applied = reference_applied(sender.code)
            created = str(signed.get("created_at", ""))
            newest = settings.read(session, applied)
            if rules and newest and created <= newest:
                report.ignored["rules"] += len(rules)
                report.reasons["比已导入的基础数据包更早"] += len(rules)
                rules = []
            elif created:
                settings.store(session, applied, created)
            if rules:
                stored = settings.stored_text(session, DEADLINE_RULE_SETTINGS)
                incoming = {}
                for row in rules:
                    key, value = row["key"], row["value"]
                    if (
                        not isinstance(key, str)
                        or not isinstance(value, str)
                        or not re.fullmatch(r"[0-9]{1,4}", value)
                    ):
                        raise BundleRefused(RefusalCode.BAD_CONTENT, "数据包中的期限规则不正确。")
                    incoming[key] = value
                days = {
                    rule: int(incoming[RULE_DAYS[rule].key])
                    for rule in RuleKey
                    if RULE_DAYS[rule].key in incoming
                }
                due_soon = int(incoming.get(DUE_SOON_DAYS.key, str(DUE_SOON_DAYS.default)))
                if validate_rule_days(days, due_soon):
                    raise BundleRefused(RefusalCode.BAD_CONTENT, "数据包中的期限规则超出允许范围。")
                rule_keys = {s.key for s in DEADLINE_RULE_SETTINGS}
                for key, value in incoming.items():
                    setting = declared(key)
                    if setting is None or key not in rule_keys:
                        continue  # a setting this version does not take from the city
                    if stored.get(key) == value:
                        report.ignored["rules"] += 1
                        report.reasons["已是最新"] += 1
                    else:
                        settings.adopt(session, setting, value)
                        report.updated["rules"] += 1
            if dry_run:
                session.rollback()
                return
            if calendar_changed:
                bump_revision(session)
                moved = recompute_open_deadlines(
                    session, calendar_in(session), actor.display_name, now
                )
                if moved:
                    report.notes.append(f"节假日调整后 {len(moved)} 个未到期期限已重新计算。")
            session.add(
                Bundle(
                    bundle_id=bundle.bundle_id,
                    direction="in",
                    kind="reference",
                    peer_code=sender.code,
                    created_at=parse_time(signed.get("created_at")) or now,
                    file_name=path.name,
                    location=str(path.parent),
                    size=size_of(path),
                    counts=report.totals(),
                    processed_at=now,
                    user_name=actor.username,
                )
            )
            audit.record(
                session,
                at=now,
                user_name=actor.username,
                action="import_reference",
                entity="bundle",
                entity_uuid=bundle.bundle_id,
                after={"file": path.name, "from": sender.code, **report.totals()},
            )


_CAUSE_COLUMNS: Final = ["code", "label", "position", "active"]
_CAUSE_CODE = re.compile(r"[A-Za-z0-9_-]{1,12}")


def _apply_cause_codes(session: Session, rows: list[dict[str, Any]], report: ImportReport) -> None:
    """The city's list of causes (issue 16): its codes are the ones counties report in, so a
    code the city sends sets the label, place and whether it is in use here; a county's own
    extra codes stay as they are (its old cases keep them)."""
    existing = {c.code: c for c in session.scalars(select(CauseCode))}
    for row in rows:
        code, label, position, active = (row.get(k) for k in _CAUSE_COLUMNS)
        if (
            not isinstance(code, str)
            or not _CAUSE_CODE.fullmatch(code)
            or not isinstance(label, str)
            or not label.strip()
            or len(label) > 40
            or not isinstance(position, int)
            or not isinstance(active, bool | int)
        ):
            raise BundleRefused(RefusalCode.BAD_CONTENT, "数据包中的问题成因代码不正确。")
        local = existing.get(code)
        if local is None:
            session.add(CauseCode(code=code, label=label, position=position, active=bool(active)))
            report.added["cause_codes"] += 1
        elif (local.label, local.position, local.active) != (label, position, bool(active)):
            local.label, local.position, local.active = label, position, bool(active)
            report.updated["cause_codes"] += 1
        else:
            report.ignored["cause_codes"] += 1
            report.reasons["已是最新"] += 1


def _jsonl(table: str, columns: list[str], rows: Iterable[list[Any]]) -> bytes:
    """A reference member, headed like the records members (``{"table", "columns"}``)."""
    lines = [json.dumps({"table": table, "columns": columns}, ensure_ascii=False)]
    lines += [json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")
