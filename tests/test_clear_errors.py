"""Issue 15 item 14: what reached the user as 程序内部错误 (exit 1) is told in Chinese (exit 2),
and nothing is left half-written. The real ``bbcs`` command, in a subprocess, on a real data dir.

Read-only and full places are real: as root (these machines' CI) a tmpfs is mounted for the test
(read-only, or a few MB and filled up), since chmod does not stop root; as another user a folder
is chmod 0500 (read-only) and the full-disk case is skipped. A place under a regular file fails
for everyone.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from desktop_app.documents import slip_pdf
from desktop_app.documents.fonts import missing_glyphs, register_fonts
from desktop_app.domain.vocabulary import Approach, Cause, Nature
from desktop_app.services.app import AppServices
from desktop_app.services.cases import Triage
from desktop_app.services.context import Actor
from tests.helpers.cli import run_bbcs
from tests.helpers.factories import person_form
from tests.helpers.speed import fast_password_hashing  # noqa: F401

ROW = {
    "name": "王芳",
    "phone": "13812345678",
    "title": "医保结算查不到参保信息",
    "description": "在县人民医院办理医保结算时被告知查不到参保信息。",
    "area": "医保社保",
    "channel": "网上",
    "received_at": "2025-06-01 09:00",
}
EXT_B = "\U00020000"  # 𠀀: CJK Extension B, in no font these machines have


def refused(result: CompletedProcess[str], *texts: str) -> None:
    """Exit 2, each text in the message, and no trace of a bug."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "程序内部错误" not in result.stderr and "Traceback" not in result.stderr
    for text in texts:
        assert text in result.stderr, (text, result.stderr)


def receipts_issued(data_dir: Path) -> int:
    connection = sqlite3.connect(data_dir / "bbcs.db")
    try:
        (count,) = connection.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'issue_receipt'"
        ).fetchone()
    finally:
        connection.close()
    return int(count)


def no_font_has(char: str) -> None:
    fonts = register_fonts()
    if not missing_glyphs(char, fonts.chain(fonts.body)):
        pytest.skip(f"this machine has a font with U+{ord(char):04X}")


# --- places that cannot be written -------------------------------------------------------------


def _mount(point: Path, options: str) -> None:
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace')}")


@contextlib.contextmanager
def read_only_folder(tmp_path: Path, name: str, content: Path | None = None) -> Iterator[Path]:
    """A folder that really refuses writes (holding a copy of ``content`` if given)."""
    point = tmp_path / name
    point.mkdir()
    if os.geteuid() != 0:
        if content is not None:
            shutil.copytree(content, point, dirs_exist_ok=True)
        modes = {p: p.stat().st_mode for p in [point, *point.rglob("*")]}
        for path in modes:
            path.chmod(0o500 if path.is_dir() else 0o400)
        try:
            yield point
        finally:
            for path, mode in modes.items():
                path.chmod(mode)
        return
    _mount(point, "size=16m,mode=0700")
    try:
        if content is not None:
            shutil.copytree(content, point, dirs_exist_ok=True)
        subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True)
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


@contextlib.contextmanager
def full_disk(tmp_path: Path, content: Path) -> Iterator[Path]:
    """A copy of the data dir ``content`` on a small file system with not one byte left."""
    if os.geteuid() != 0:
        pytest.skip("filling a disk needs a file system of its own (mounting needs root)")
    point = tmp_path / "满盘"
    point.mkdir()
    _mount(point, "size=8m,mode=0700")
    try:
        target = point / "数据"
        shutil.copytree(content, target)
        with (point / "filler").open("wb", buffering=0) as filler:
            for size in (1 << 16, 1):
                with contextlib.suppress(OSError):
                    while True:
                        filler.write(b"\0" * size)
        assert shutil.disk_usage(point).free == 0
        yield target
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


# --- a character no font has -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "char", "label"),
    [
        ({"name": "李" + EXT_B}, EXT_B, "反映人"),
        ({"title": "医保结算😀查不到"}, "😀", "反映事项"),
        ({"name": "王\ue000"}, "\ue000", "反映人"),
    ],
)
def test_a_receipt_with_a_character_no_font_has_names_field_and_character(
    services: AppServices,
    clerk: Actor,
    data_dir: Path,
    tmp_path: Path,
    changes: dict[str, str],
    char: str,
    label: str,
) -> None:
    no_font_has(char)
    number = services.intake.register(clerk, person_form(**changes)).number
    out_dir = tmp_path / "回执"
    out_dir.mkdir()

    result = run_bbcs("receipt", number, "--out", str(out_dir / "回执.pdf"), data_dir=data_dir)

    refused(result, "无法打印", f"U+{ord(char):04X}", label)
    assert list(out_dir.iterdir()) == []  # no PDF, no temp file
    assert receipts_issued(data_dir) == 0  # not recorded as issued


def test_a_slip_issued_where_a_font_had_the_character_is_refused_here(
    services: AppServices,
    clerk: Actor,
    leader: Actor,
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A slip signed on a PC with 宋体-ExtB, printed on one without it (or at the city)."""
    no_font_has(EXT_B)
    result = services.intake.register(clerk, person_form(name="李" + EXT_B))
    services.cases.triage(
        clerk, result.case_id, Triage(Nature.HARD, Approach.PUSH, (Cause.PROCESS,), "医保社保")
    )
    ids, _ = services.assignments.create(
        clerk,
        result.case_id,
        department_id=services.site.departments()[0].id,
        requirements="请核实并办理，书面反馈监督窗口。",
    )
    with monkeypatch.context() as patched:  # the issuing PC had a font with every character
        patched.setattr(slip_pdf, "unprintable_fields", lambda content: [])
        slip_number, _ = services.assignments.issue(leader, ids[0])
    out_dir = tmp_path / "交办单"
    out_dir.mkdir()

    done = run_bbcs("slip", result.number, "--out", str(out_dir / "单.pdf"), data_dir=data_dir)

    refused(done, "无法打印", "U+20000", "反映人")
    assert list(out_dir.iterdir()) == []
    assert services.assignments.slip_content(slip_number)[0].print_count == 0


# --- writing a file where it cannot go ------------------------------------------------------------


def test_a_receipt_onto_a_read_only_place_is_refused_and_not_recorded(
    services: AppServices, clerk: Actor, data_dir: Path, tmp_path: Path
) -> None:
    number = services.intake.register(clerk, person_form()).number
    with read_only_folder(tmp_path, "只读") as folder:
        result = run_bbcs("receipt", number, "--out", str(folder / "回执.pdf"), data_dir=data_dir)
        refused(result, "只读", "PDF 文件未写出")
        assert list(folder.iterdir()) == []
    assert receipts_issued(data_dir) == 0


@pytest.mark.parametrize(
    "command",
    [
        ("ledger", "--out", "台账.xlsx"),
        ("ledger", "--out", "台账.csv"),
        ("scorecard", "--from", "2026-01-01", "--to", "2026-11-30", "--out", "评分.xlsx"),
    ],
)
def test_a_register_or_scorecard_onto_a_read_only_place_is_refused_plainly(
    services: AppServices, clerk: Actor, data_dir: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    """A walk met 程序内部错误 (exit 1) for both: the register's clean-up of its half file
    failed again on the read-only place, over the first error; the scorecard's xlsxwriter error
    was not an OSError."""
    services.intake.register(clerk, person_form())
    with read_only_folder(tmp_path, "只读") as folder:
        *head, name = command
        result = run_bbcs(*head, str(folder / name), data_dir=data_dir)
        refused(result, "只读")
        assert "程序内部错误" not in result.stderr and list(folder.iterdir()) == []


@pytest.mark.parametrize(
    "command",
    [
        ("scorecard", "--from", "2026-01-01", "--to", "2026-11-30", "--out", "评分.xlsx"),
        ("ledger", "--out", "台账.xlsx"),
    ],
    ids=["scorecard", "ledger"],
)
def test_an_xlsx_onto_a_full_disk_leaves_no_file_and_no_traceback(
    services: AppServices, clerk: Actor, data_dir: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    """The scorecard printed a traceback and left a 0-byte 评分.xlsx; the ledger said 空间已满
    and then printed xlsxwriter's "Exception ignored in ZipFile.__del__" at exit."""
    if os.geteuid() != 0:
        pytest.skip("filling a disk needs a file system of its own (mounting needs root)")
    services.intake.register(clerk, person_form())
    point = tmp_path / "满"
    point.mkdir()
    _mount(point, "size=1m,mode=0700")
    try:
        with (point / "filler").open("wb", buffering=0) as filler:
            for size in (1 << 16, 1):
                with contextlib.suppress(OSError):
                    while True:
                        filler.write(b"\0" * size)
        *head, name = command
        result = run_bbcs(*head, str(point / name), data_dir=data_dir)
        refused(result, "空间已满")
        assert "Traceback" not in result.stderr and "Exception" not in result.stderr
        assert sorted(p.name for p in point.iterdir()) == ["filler"]
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def test_a_receipt_under_a_file_is_refused(
    services: AppServices, clerk: Actor, data_dir: Path, tmp_path: Path
) -> None:
    number = services.intake.register(clerk, person_form()).number
    a_file = tmp_path / "不是文件夹.txt"
    a_file.write_text("x", encoding="utf-8")
    result = run_bbcs("receipt", number, "--out", str(a_file / "回执.pdf"), data_dir=data_dir)
    refused(result, "不是文件夹")
    assert receipts_issued(data_dir) == 0


def test_keys_export_to_a_read_only_place_names_the_identity_file(
    services: AppServices, data_dir: Path, tmp_path: Path
) -> None:
    with read_only_folder(tmp_path, "只读") as folder:
        result = run_bbcs("keys", "export", "--out", str(folder / "身份.json"), data_dir=data_dir)
        refused(result, "只读", "公开身份文件未写出")
        assert "数据包" not in result.stderr
        assert list(folder.iterdir()) == []


# --- a data dir that cannot be written ------------------------------------------------------


@pytest.mark.parametrize("command", [("cases",), ("check",), ("keys", "show"), ("intake",)])
def test_a_data_dir_on_a_read_only_mount_says_so(
    services: AppServices, data_dir: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    services.close()
    source = tmp_path / "b.json"
    source.write_text(json.dumps([ROW], ensure_ascii=False), encoding="utf-8")
    args = (*command, "--from", str(source)) if command == ("intake",) else command
    with read_only_folder(tmp_path, "只读盘", content=data_dir) as copy:
        before = sorted(p.name for p in copy.iterdir())
        result = run_bbcs(*args, data_dir=copy)
        refused(result, f"数据目录 {copy} 是只读的")
        assert "已损坏" not in result.stdout  # a sound file on a read-only disk is not damage
        assert sorted(p.name for p in copy.iterdir()) == before


@pytest.mark.parametrize("command", ["cases", "check"])
def test_a_completely_full_disk_says_so(
    services: AppServices, clerk: Actor, data_dir: Path, tmp_path: Path, command: str
) -> None:
    services.intake.register(clerk, person_form())
    services.close()
    with full_disk(tmp_path, data_dir) as copy:
        result = run_bbcs(command, data_dir=copy)
        refused(result, "磁盘空间已满")
        assert "已损坏" not in result.stdout


# --- intake files no form could have produced ------------------------------------------------


def _json_with(text: str) -> str:
    good = json.dumps(ROW, ensure_ascii=False)
    return f"[{good[:-1]}, {text}}}]"


@pytest.mark.parametrize(
    ("name", "content", "texts"),
    [
        ("deep.json", "[" * 100_000 + "]" * 100_000, ("嵌套层数过多",)),
        ("number.json", _json_with('"visits_count": ' + "9" * 5000), ("第1行", "往返次数")),
        ("surrogate.json", _json_with('"name": "\\ud800王芳"'), ("第1行", "姓名", "U+D800")),
        (
            "cell.csv",
            ",".join(ROW) + "\n" + ",".join(ROW.values()) + ',"' + "长" * 140_000 + '"\n',
            ("第2行有一格超过",),
        ),
    ],
)
def test_an_intake_file_no_form_could_produce_is_refused_plainly(
    services: AppServices,
    data_dir: Path,
    tmp_path: Path,
    name: str,
    content: str,
    texts: tuple[str, ...],
) -> None:
    source = tmp_path / name
    source.write_text(content, encoding="utf-8")
    result = run_bbcs("intake", "--from", str(source), data_dir=data_dir)
    refused(result, *texts)
    assert services.ledger.count() == 0


def test_errno_of_a_read_only_place_is_what_the_tests_above_meet(tmp_path: Path) -> None:
    """The simulation is real: the folder refuses a write with EROFS (root) or EACCES."""
    with read_only_folder(tmp_path, "只读") as folder, pytest.raises(OSError) as raised:
        (folder / "x").write_bytes(b"x")
    assert raised.value.errno in (errno.EROFS, errno.EACCES)


def test_a_register_of_a_reversed_period_is_refused_not_written_empty(
    services: AppServices, clerk: Actor, data_dir: Path, tmp_path: Path
) -> None:
    """It wrote an empty workbook with exit 0 (the bulletin and scorecards refuse it)."""
    services.intake.register(clerk, person_form())
    out = tmp_path / "台账.xlsx"
    period = ("--from", "2026-12-01", "--to", "2026-01-01")
    result = run_bbcs("ledger", "--out", str(out), *period, data_dir=data_dir)
    refused(result, "结束日期早于开始日期")
    assert not out.exists()


def test_a_mistyped_command_line_is_answered_in_chinese(data_dir: Path) -> None:
    """argparse's own complaints were English ("invalid int value")."""
    result = run_bbcs("workdays", "add", "2026-12-01", "abc", data_dir=data_dir)
    assert result.returncode == 2
    assert "错误：参数 days: 应为整数" in result.stderr and "invalid" not in result.stderr
    missing = run_bbcs("workdays", "add", data_dir=data_dir)
    assert missing.returncode == 2 and "缺少参数" in missing.stderr
