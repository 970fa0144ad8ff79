"""The recovery key (issue 15 item 12): exported by the administrator (audited), it brings a site
back on a fresh machine — the data key, the site keys, and an encrypted backup opened."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from desktop_app.errors import PermissionDenied, UserError
from desktop_app.services.app import AppServices, open_services
from desktop_app.services.backup import RecoveryKey
from desktop_app.services.context import Actor
from tests.helpers.cli import run_bbcs, subprocess_env
from tests.helpers.factories import ADMIN_PASSWORD, person_form
from tests.helpers.ids import id_number
from tests.helpers.speed import fast_password_hashing  # noqa: F401

INIT = ("init", "--site-code", "410221", "--site-name", "杞县办不成事监督窗口", "--level", "county")


def test_a_site_comes_back_on_a_fresh_machine_with_its_recovery_key(tmp_path: Path) -> None:
    old_pc = tmp_path / "旧电脑" / "数据 目录"
    stick = tmp_path / "U盘"
    stick.mkdir()
    done = run_bbcs(*INIT, data_dir=old_pc, env=subprocess_env(BBCS_ADMIN_PASSWORD=ADMIN_PASSWORD))
    assert done.returncode == 0, done.stderr
    batch = tmp_path / "事项.json"
    batch.write_text(
        json.dumps(
            [
                {
                    "complainant_type": "person",
                    "name": name,
                    "id_number": id_number(f"41022119800101{seed:03d}"),
                    "phone": "13812345678",
                    "title": f"{name}反映的事项",
                    "description": "在县人民医院办理医保结算时被告知查不到参保信息。",
                    "area": "医保社保",
                    "channel": "网上",
                    "received_at": "2025-06-01 09:00",
                }
                for seed, name in enumerate(("王芳", "李娜"))
            ],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    assert run_bbcs("intake", "--from", str(batch), data_dir=old_pc).returncode == 0
    done = run_bbcs("backup", "--to", str(stick), data_dir=old_pc)
    assert done.returncode == 0, done.stderr
    (encrypted,) = stick.glob("*.bbcsbak")
    key_file, sheet = stick / "恢复密钥.json", stick / "恢复密钥.pdf"
    done = run_bbcs(
        "recovery-key", "export", "--out", str(key_file), "--pdf", str(sheet), data_dir=old_pc
    )
    assert done.returncode == 0, done.stderr
    assert sheet.read_bytes().startswith(b"%PDF")
    fingerprint = run_bbcs("keys", "show", data_dir=old_pc).stdout.splitlines()[-1]
    data_key = json.loads((old_pc / "keys" / "data.key").read_text(encoding="utf-8"))["key"]

    shutil.rmtree(tmp_path / "旧电脑")  # the disk died
    new_pc = tmp_path / "新电脑" / "数据 目录"
    without_key = run_bbcs("restore", str(encrypted), data_dir=new_pc)
    assert without_key.returncode == 2
    done = run_bbcs("restore", str(encrypted), "--recovery-key", str(key_file), data_dir=new_pc)
    assert done.returncode == 0, done.stderr
    assert "已用恢复密钥装回" in done.stdout

    cases = run_bbcs("cases", "--json", data_dir=new_pc)
    assert cases.returncode == 0, cases.stderr
    assert sorted(c["title"] for c in json.loads(cases.stdout)) == [
        "李娜反映的事项",
        "王芳反映的事项",
    ]
    assert run_bbcs("keys", "show", data_dir=new_pc).stdout.splitlines()[-1] == fingerprint
    restored_key = json.loads((new_pc / "keys" / "data.key").read_text(encoding="utf-8"))["key"]
    assert restored_key == data_key
    connection = sqlite3.connect(new_pc / "bbcs.db")
    actions = [a for (a,) in connection.execute("SELECT action FROM audit_log ORDER BY id")]
    connection.close()
    assert "restore" in actions


def test_a_material_comes_back_with_the_backup_on_a_fresh_machine(
    services: AppServices, clerk: Actor, admin: Actor, data_dir: Path, tmp_path: Path
) -> None:
    """A walk restored a backup on a new PC and the department head's signed 书面依据 was
    gone: materials lived in the data dir's folder, which no backup held. They are kept in the
    database now, so the backup carries them."""
    content = b"%PDF-1.4 the principal leader's signed written basis"
    scan = tmp_path / "不能办理书面依据.pdf"
    scan.write_bytes(content)
    case_id = services.intake.register(clerk, person_form(attachments=(scan,))).case_id
    stick = tmp_path / "U盘"
    stick.mkdir()
    key_file = stick / "恢复密钥.json"
    services.backups.export_recovery_key(admin, key_file)
    services.close()
    done = run_bbcs("backup", "--to", str(stick), data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    (encrypted,) = stick.glob("*.bbcsbak")

    shutil.rmtree(data_dir)  # the disk died
    new_pc = tmp_path / "新电脑"
    done = run_bbcs("restore", str(encrypted), "--recovery-key", str(key_file), data_dir=new_pc)
    assert done.returncode == 0, done.stderr
    restored = open_services(new_pc)
    try:
        (material,) = restored.cases.detail(case_id).attachments
        opened = restored.attachments.readable_copy(material.sha256, material.filename, tmp_path)
        assert opened.read_bytes() == content
        assert restored.maintenance.check().ok
    finally:
        restored.close()


def test_export_is_audited_and_for_administrators_only(
    services: AppServices, admin: Actor, clerk: Actor, tmp_path: Path
) -> None:
    out = tmp_path / "恢复密钥.json"
    with pytest.raises(PermissionDenied):
        services.backups.export_recovery_key(clerk, out)
    assert not out.exists()
    key = services.backups.export_recovery_key(admin, out)
    assert RecoveryKey.read(out) == key
    assert key.data_key == services.data_key.secret()
    connection = sqlite3.connect(services.layout.database)
    (entry,) = connection.execute(
        "SELECT user_name FROM audit_log WHERE action = 'export_recovery_key'"
    ).fetchall()
    connection.close()
    assert entry == ("admin",)


def test_the_sheet_text_reads_back_and_a_typo_is_caught(
    services: AppServices, admin: Actor, tmp_path: Path
) -> None:
    key = services.backups.export_recovery_key(admin, tmp_path / "k.json")
    sheet = key.sheet()
    typed = tmp_path / "typed.txt"
    # Typed in from the paper: the prefix, then the groups with spaces and line breaks.
    typed.write_text(
        f"BBCSRK1-{sheet.site_code}-\n" + " ".join(sheet.groups).lower(), encoding="utf-8"
    )
    back = RecoveryKey.read(typed)
    assert (back.data_key, back.signing, back.encryption) == (
        key.data_key,
        key.signing,
        key.encryption,
    )
    # Read off the paper with its look-alikes: O as 0, I as 1, B as 8 (none is base32), and
    # full-width (a walk was refused "含有不该有的字符").
    looked = " ".join(sheet.groups).translate(str.maketrans({"O": "0", "I": "1", "B": "8"}))
    typed.write_text(f"ＢＢＣＳＲＫ１-{sheet.site_code}-\n{looked}", encoding="utf-8")
    assert RecoveryKey.read(typed).data_key == key.data_key
    wrong = list(sheet.groups)
    wrong[3] = wrong[3][::-1] if wrong[3] != wrong[3][::-1] else "AAAA"
    typed.write_text(f"BBCSRK1-{sheet.site_code}-" + "".join(wrong), encoding="utf-8")
    with pytest.raises(UserError, match="校验不符"):
        RecoveryKey.read(typed)


def test_a_changed_recovery_key_file_is_refused(
    services: AppServices, admin: Actor, tmp_path: Path
) -> None:
    out = tmp_path / "k.json"
    services.backups.export_recovery_key(admin, out)
    body = json.loads(out.read_text(encoding="utf-8"))
    body["site_code"] = "410222"
    out.write_text(json.dumps(body), encoding="utf-8")
    with pytest.raises(UserError, match="不是有效的恢复密钥"):
        RecoveryKey.read(out)


def test_the_sheet_prints(services: AppServices, admin: Actor, tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.pdf"
    services.backups.export_recovery_key(admin, tmp_path / "k.json", sheet)
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed")
    text = subprocess.run(
        ["pdftotext", str(sheet), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "恢复密钥" in text and "410221" in text and "BBCSRK1-" in text


def test_init_exports_the_recovery_key_at_setup_or_says_to(tmp_path: Path) -> None:
    stick = tmp_path / "U盘"
    stick.mkdir()
    env = subprocess_env(BBCS_ADMIN_PASSWORD=ADMIN_PASSWORD)
    key_file = stick / "恢复密钥.json"
    done = run_bbcs(*INIT, "--recovery-key", str(key_file), data_dir=tmp_path / "a", env=env)
    assert done.returncode == 0, done.stderr
    assert "恢复密钥已导出" in done.stdout
    assert RecoveryKey.read(key_file).site_code == "410221"
    assert key_file.with_suffix(".pdf").read_bytes().startswith(b"%PDF")

    done = run_bbcs(*INIT, data_dir=tmp_path / "b", env=env)
    assert done.returncode == 0, done.stderr
    assert "请立即导出恢复密钥" in done.stdout and "bbcs recovery-key export" in done.stdout


def test_the_printed_sheet_shows_the_site_code_date_and_command(
    services: AppServices, admin: Actor, tmp_path: Path
) -> None:
    """Latin letters and digits are drawn too (the bundled Chinese font has none of them)."""
    from pypdf import PdfReader

    sheet = tmp_path / "恢复密钥.pdf"
    services.backups.export_recovery_key(admin, tmp_path / "恢复密钥.json", sheet)
    text = PdfReader(sheet).pages[0].extract_text()
    assert "410221" in text and "2026-11-25" in text
    assert "bbcs restore" in text and "--recovery-key" in text
