"""Windows-only code paths tested anywhere: font discovery in a faked %WINDIR%\\Fonts, and data
dirs whose path has Chinese characters and spaces, end to end through the ``bbcs`` command."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from desktop_app.documents import fonts
from desktop_app.paths import DataLayout, resolve_data_dir
from tests.helpers.cli import run_bbcs, subprocess_env
from tests.helpers.factories import ADMIN_PASSWORD

CHINESE_DIR = Path("数据 目录") / "办 事"


def make_fonts_dir(folder: Path, *names: str) -> Path:
    folder.mkdir(parents=True)
    for name in names:
        (folder / name).write_bytes(b"\0\1\0\0")  # only names matter for discovery
    return folder


def test_official_fonts_are_found_whatever_the_case_of_their_names(tmp_path: Path) -> None:
    folder = make_fonts_dir(
        tmp_path / "Windows 目录" / "Fonts", "SIMHEI.TTF", "simfang.ttf", "SimSun.ttc", "arial.ttf"
    )
    found = fonts.find_official_fonts(folder)
    assert found == {
        "simhei": folder / "SIMHEI.TTF",
        "simfang": folder / "simfang.ttf",
        "simsun": folder / "SimSun.ttc",
    }


def test_a_missing_fonts_folder_finds_nothing(tmp_path: Path) -> None:
    assert fonts.find_official_fonts(tmp_path / "没有") == {}


def test_windows_font_folders_system_then_per_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WINDIR", str(tmp_path / "Win dows"))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "用户 王芳" / "AppData" / "Local"))
    assert fonts._windows_font_dirs() == (
        tmp_path / "Win dows" / "Fonts",
        tmp_path / "用户 王芳" / "AppData" / "Local" / "Microsoft" / "Windows" / "Fonts",
    )
    monkeypatch.delenv("WINDIR")
    monkeypatch.delenv("LOCALAPPDATA")
    assert fonts._windows_font_dirs() == (Path(r"C:\Windows") / "Fonts", None)


def test_installed_fonts_prefer_the_system_folder_and_add_per_user_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    windir = tmp_path / "Windows"
    system = make_fonts_dir(windir / "Fonts", "simhei.ttf", "simsun.ttc")
    local = tmp_path / "王芳 的资料" / "Local"
    user = make_fonts_dir(local / "Microsoft" / "Windows" / "Fonts", "simhei.ttf", "SIMFANG.TTF")
    monkeypatch.setenv("WINDIR", str(windir))
    monkeypatch.setenv("LOCALAPPDATA", str(local))
    system_dir, user_dir = fonts._windows_font_dirs()
    first: dict[str, Path] = {}
    for font in fonts.windows_fonts(system_dir, user_dir, lambda: []):
        first.setdefault(font.family, font.path)
    assert first == {
        fonts._LABELS["simhei"]: system / "simhei.ttf",
        fonts._LABELS["simsun"]: system / "simsun.ttc",
        fonts._LABELS["simfang"]: user / "SIMFANG.TTF",
    }
    monkeypatch.setattr(sys, "platform", "linux")  # Linux never looks in Windows' folders
    assert all(windir not in font.path.parents for font in fonts.installed_fonts())


def test_data_dir_with_chinese_and_spaces_is_kept_verbatim(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / CHINESE_DIR
    assert resolve_data_dir(str(folder)) == folder.resolve()
    monkeypatch.setenv("BBCS_DATA_DIR", str(folder))
    assert resolve_data_dir() == folder.resolve()
    layout = DataLayout(folder)
    assert layout.database.parent == folder
    assert layout.database_url() == f"sqlite:///{folder.as_posix()}/bbcs.db"


def test_bbcs_works_in_a_data_dir_with_chinese_and_spaces(tmp_path: Path) -> None:
    data_dir = tmp_path / CHINESE_DIR
    env = subprocess_env(BBCS_ADMIN_PASSWORD=ADMIN_PASSWORD)
    init = run_bbcs(
        "init",
        "--site-code",
        "410221",
        "--site-name",
        "杞县办不成事监督窗口",
        "--level",
        "county",
        data_dir=data_dir,
        env=env,
    )
    assert init.returncode == 0, init.stderr
    intake = tmp_path / "网上 反映.json"
    intake.write_text(
        json.dumps(
            [
                {
                    "complainant_type": "person",
                    "name": "王芳",
                    "id_number": "11010519491231002X",
                    "phone": "13812345678",
                    "title": "医保结算查不到参保信息",
                    "description": "办理医保结算时被告知查不到参保信息，已往返三次。",
                    "area": "医保社保",
                    "channel": "网上",
                    "received_at": "2026-11-02 09:30",
                }
            ],
            ensure_ascii=False,
        ),
        "utf-8",
    )
    added = run_bbcs("intake", "--from", str(intake), data_dir=data_dir)
    assert added.returncode == 0, added.stderr
    listed = run_bbcs("cases", "--json", data_dir=data_dir)
    assert listed.returncode == 0, listed.stderr
    cases = json.loads(listed.stdout)
    assert [c["complainant"] for c in cases] == ["王芳"]
    assert (data_dir / "bbcs.db").is_file()
    backup = run_bbcs("backup", data_dir=data_dir)
    assert backup.returncode == 0, backup.stderr
    assert any((data_dir / "backups").iterdir())
