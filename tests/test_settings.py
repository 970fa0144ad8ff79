"""Settings are declared once (domain.settings) and read and written through the declaration."""

from __future__ import annotations

import pytest

from desktop_app.domain.deadlines import DEFAULT_DUE_SOON_DAYS, DEFAULT_RULE_DAYS, RuleKey
from desktop_app.domain.settings import (
    AUDIT_HEAD,
    CALENDAR_REVISION,
    DECLARED,
    DUE_SOON_DAYS,
    EXPORT_GENERATION,
    LAST_PRINTER,
    RULE_DAYS,
    SYNC_INBOX,
    SYNC_PERIOD_DAYS,
    WINDOW_PHONE,
    declared,
    reference_applied,
)
from desktop_app.errors import PermissionDenied, ValidationFailed
from desktop_app.services import settings
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from desktop_app.storage.models import Setting
from tests.helpers.speed import fast_password_hashing  # noqa: F401


def test_each_key_is_declared_once_with_a_label_and_who_may_change_it() -> None:
    keys = [s.key for s in DECLARED]
    assert len(keys) == len(set(keys))
    for setting in DECLARED:
        assert setting.label
        assert declared(setting.key) is setting
        if setting.internal:
            assert setting.permission is None
    users = [s for s in DECLARED if not s.internal and s.permission is not None]
    assert {s.key for s in users} >= {
        WINDOW_PHONE.key,
        DUE_SOON_DAYS.key,
        SYNC_PERIOD_DAYS.key,
        SYNC_INBOX.key,
    }
    assert {AUDIT_HEAD, CALENDAR_REVISION, EXPORT_GENERATION} <= {s for s in DECLARED if s.internal}
    assert declared("pref.anything") is not None and declared("no_such_key") is None
    assert declared(reference_applied("410221").key) == reference_applied("410221")


def test_the_defaults_are_the_deadline_rules() -> None:
    assert DUE_SOON_DAYS.default == DEFAULT_DUE_SOON_DAYS == 2
    assert {rule: s.default for rule, s in RULE_DAYS.items()} == DEFAULT_RULE_DAYS


def test_a_bad_or_out_of_range_stored_value_reads_as_the_default(services: AppServices) -> None:
    with services.db.write() as session:
        session.merge(Setting(key=DUE_SOON_DAYS.key, value="三"))
        session.merge(Setting(key=RULE_DAYS[RuleKey.WONT].key, value="999"))
        session.merge(Setting(key=SYNC_PERIOD_DAYS.key, value="14"))
    with services.db.read() as session:
        assert settings.read(session, DUE_SOON_DAYS) == 2
        assert settings.read(session, RULE_DAYS[RuleKey.WONT]) == 5
        assert settings.read(session, SYNC_PERIOD_DAYS) == 14
        assert settings.read(session, SYNC_INBOX) == ""
    assert services.calendar.rules().due_soon_days == 2


def test_writing_checks_the_declared_permission_and_range(
    services: AppServices, admin: Actor, clerk: Actor
) -> None:
    with services.db.write() as session, pytest.raises(PermissionDenied):
        settings.write(session, clerk, SYNC_PERIOD_DAYS, 14)
    with services.db.write() as session, pytest.raises(ValidationFailed) as caught:
        settings.write(session, admin, SYNC_PERIOD_DAYS, 91)
    assert SYNC_PERIOD_DAYS.key in caught.value.errors
    with services.db.write() as session, pytest.raises(ValueError, match="internal"):
        settings.write(session, admin, AUDIT_HEAD, "1:abc")
    with services.db.write() as session:
        settings.write(session, clerk, SYNC_INBOX, "/media/u盘")  # a clerk exchanges data
        settings.write(session, admin, SYNC_PERIOD_DAYS, 14)
        settings.store(session, LAST_PRINTER, "前台打印机")
    with services.db.read() as session:
        assert settings.read_all(session, [SYNC_PERIOD_DAYS]) == {SYNC_PERIOD_DAYS.key: 14}
        assert settings.read(session, SYNC_INBOX) == "/media/u盘"
    assert services.site.preference(LAST_PRINTER) == "前台打印机"


def test_internal_bookkeeping_is_stored_without_an_actor_but_a_site_setting_is_not(
    services: AppServices,
) -> None:
    with services.db.write() as session:
        settings.store(session, EXPORT_GENERATION, 3)
        with pytest.raises(ValueError, match="write"):
            settings.store(session, WINDOW_PHONE, "12345")
    with services.db.read() as session:
        assert settings.read(session, EXPORT_GENERATION) == 3
        assert settings.stored_text(session, [WINDOW_PHONE, EXPORT_GENERATION]) == {
            EXPORT_GENERATION.key: "3"
        }


def test_paper_settings_are_declared_per_kind_of_paper_with_the_seeds_defaults(
    services: AppServices, admin: Actor, clerk: Actor
) -> None:
    from desktop_app.documents.slip_content import PaperKind
    from desktop_app.domain.permissions import Permission
    from desktop_app.domain.settings import (
        DEPARTMENT_PAPERS,
        ISSUING_BODY,
        MASK_ID,
        MASK_PHONE,
        MASTHEAD,
        NUMBER_PREFIX,
        PAPER_SETTINGS,
        REQUIREMENTS_WORDING,
        requirements_wording,
    )

    # Every paper a department receives has its own choice; the department must phone the
    # complainant (both seeds), so the phone is printed in full unless the office says otherwise.
    assert set(DEPARTMENT_PAPERS) == {k.value for k in PaperKind}  # 时限调整通知 too
    assert all(not MASK_PHONE[k].default and MASK_ID[k].default for k in DEPARTMENT_PAPERS)
    for setting in PAPER_SETTINGS:
        assert setting in DECLARED and declared(setting.key) is setting and setting.label
        assert setting.permission is Permission.MANAGE_REFERENCE
    assert (ISSUING_BODY.default, MASTHEAD.default, NUMBER_PREFIX.default) == ("", "", "")
    assert requirements_wording(REQUIREMENTS_WORDING.default, days=5, title="医保") == (
        "请于5个工作日内核实“医保”反映的问题，依法依规办理，并将办理结果书面反馈监督窗口。"
    )
    # 马上办 (0 days): the same day, not "请于0个工作日内" (a walk read it on the demo's papers).
    assert requirements_wording(REQUIREMENTS_WORDING.default, days=0, title="医保") == (
        "请于当日核实“医保”反映的问题，依法依规办理，并将办理结果书面反馈监督窗口。"
    )

    with services.db.write() as session, pytest.raises(PermissionDenied):
        settings.write(session, clerk, MASK_PHONE["assign"], True)
    with services.db.write() as session, pytest.raises(ValidationFailed) as caught:
        settings.write(session, admin, NUMBER_PREFIX, "杞〔纪〕")  # would break the number
    assert "不能含" in caught.value.errors[NUMBER_PREFIX.key]
    with services.db.write() as session:
        settings.write(session, admin, MASK_PHONE["urge"], True)
        settings.write(session, admin, MASK_ID["assign"], False)
        session.merge(Setting(key=MASK_ID["supervise"].key, value="yes"))  # not a flag
    with services.db.read() as session:
        assert settings.stored_text(session, [MASK_PHONE["urge"]]) == {"paper.mask_phone.urge": "1"}
        assert settings.read(session, MASK_PHONE["urge"]) is True
        assert settings.read(session, MASK_ID["assign"]) is False
        assert settings.read(session, MASK_ID["supervise"]) is True  # bad text: the default
