"""Finding the GB/T 9704 fonts (小标宋 title, 仿宋 body) and saying what stands in for one missing.

Windows cannot run here: its discovery is tested against a fake fonts folder and a fake registry
reader (unverified on real Windows). The fake fonts are the bundled Droid Sans Fallback copied
under the official fonts' names — never a real, non-redistributable font.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from desktop_app.documents.fonts import (
    BUNDLED_FONT_FILE,
    BUNDLED_FONT_NAME,
    InstalledFont,
    choose_fonts,
    font_notice,
    linux_fonts,
    register_fonts,
    truetype_faces,
    windows_fonts,
)
from desktop_app.paths import resources_dir

DROID = resources_dir() / "fonts" / BUNDLED_FONT_FILE


def fake_font(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    shutil.copyfile(DROID, path)
    return path


def fake_cff_font(folder: Path, name: str) -> Path:
    """An OpenType font with CFF outlines, as its header tells (reportlab cannot embed it)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"OTTO" + b"\0" * 60)
    return path


def test_truetype_faces_tells_glyf_from_cff_and_counts_a_collection(tmp_path: Path) -> None:
    assert truetype_faces(DROID) == 1
    assert truetype_faces(fake_cff_font(tmp_path, "NotoSerifCJK.otf")) == 0
    assert truetype_faces(tmp_path / "missing.ttf") == 0
    # A .ttc of two TrueType faces: the header, two offsets, each pointing at a glyf sfnt.
    ttc = tmp_path / "simsun.ttc"
    face = b"\x00\x01\x00\x00" + b"\0" * 8
    ttc.write_bytes(
        b"ttcf\x00\x01\x00\x00\x00\x00\x00\x02" + (20).to_bytes(4) + (32).to_bytes(4) + face + face
    )
    assert truetype_faces(ttc) == 2


def test_windows_finds_official_fonts_by_registry_name_in_the_system_and_user_folders(
    tmp_path: Path,
) -> None:
    system = tmp_path / "Windows" / "Fonts"
    user = tmp_path / "Users" / "clerk" / "AppData" / "Local" / "Microsoft" / "Windows" / "Fonts"
    title = fake_font(system, "FZXBSJW.TTF")
    body = fake_font(user, "仿宋_GB2312.ttf")  # installed "for this user only"
    fake_cff_font(system, "SourceHanSerifSC-Bold.otf")
    registry = [
        ("方正小标宋简体 (TrueType)", "FZXBSJW.TTF"),  # HKLM: a file name in %WINDIR%\Fonts
        ("思源宋体 Bold (OpenType)", "SourceHanSerifSC-Bold.otf"),
        ("仿宋_GB2312 (TrueType)", str(body)),  # HKCU: the full path
        ("SimSun & NSimSun (TrueType)", "simsun.ttc"),  # not there: ignored when choosing
    ]
    found = windows_fonts(system, user, lambda: registry)
    assert InstalledFont("方正小标宋简体", title) in found
    assert InstalledFont("仿宋_GB2312", body) in found
    assert InstalledFont("NSimSun", system / "simsun.ttc", 1) in found
    fonts = choose_fonts(found)
    assert fonts.paths[fonts.title] == title
    assert fonts.paths[fonts.body] == body
    by_role = {choice.role: choice for choice in fonts.choices}
    assert by_role["标题"].used == "方正小标宋简体" and not by_role["标题"].stand_in
    assert by_role["正文和发文字号"].used == "仿宋_GB2312"
    assert not by_role["正文和发文字号"].stand_in
    # No 黑体 installed: the labels' font stands in, and says so.
    assert by_role["表格栏目"].stand_in and fonts.heading == BUNDLED_FONT_NAME
    assert (
        font_notice(fonts)
        == "字体：表格栏目：本机未安装黑体，以Droid Sans Fallback（程序自带）代替。"
    )


def test_windows_falls_back_to_file_names_when_the_registry_cannot_be_read(
    tmp_path: Path,
) -> None:
    system = tmp_path / "Fonts"
    simfang = fake_font(system, "SIMFANG.TTF")
    simhei = fake_font(system, "simhei.ttf")

    def broken_registry() -> list[tuple[str, str]]:
        raise OSError("拒绝访问")

    fonts = choose_fonts(windows_fonts(system, None, broken_registry))
    assert fonts.paths[fonts.body] == simfang  # 仿宋 for 仿宋_GB2312: the standard allows it
    assert fonts.paths[fonts.title] == simhei  # 黑体 stands in for 小标宋, and it is said
    notice = font_notice(fonts)
    assert "标题：本机未安装方正小标宋简体，以黑体代替" in notice
    assert "正文" not in notice


def test_linux_uses_fontconfig_and_passes_over_cff_fonts(tmp_path: Path) -> None:
    cff = fake_cff_font(tmp_path, "FZXiaoBiaoSong.otf")
    fang = fake_font(tmp_path, "fangsong.ttf")
    listing = f"{cff}\t0\t方正小标宋简体,FZXiaoBiaoSong-B05S\n{fang}\t0\tFangSong,仿宋\nbad line\n"
    found = linux_fonts(lambda: listing)
    assert InstalledFont("仿宋", fang) in found
    fonts = choose_fonts(found)
    assert fonts.paths[fonts.body] == fang
    # The 小标宋 .otf is CFF, which reportlab cannot embed: 仿宋 stands in, and it is said.
    assert fonts.paths[fonts.title] == fang
    assert "标题：本机未安装方正小标宋简体，以仿宋代替" in font_notice(fonts)


def test_linux_without_fontconfig_scans_the_font_folders(tmp_path: Path) -> None:
    fang = fake_font(tmp_path / "local" / "share" / "fonts" / "chinese", "simfang.ttf")
    found = linux_fonts(lambda: "", [tmp_path / "local" / "share" / "fonts", tmp_path / "none"])
    assert found == [InstalledFont("仿宋", fang)]


def test_this_machine_says_what_stands_in() -> None:
    fonts = register_fonts()
    roles = [choice.role for choice in fonts.choices]
    assert roles == ["标题", "正文和发文字号", "表格栏目"]
    if any(choice.stand_in for choice in fonts.choices):
        notice = font_notice(fonts)
        assert notice.startswith("字体：") and "代替" in notice
    else:
        pytest.skip("every GB/T 9704 font is installed here")


def test_a_rare_character_font_is_found_by_its_linux_name_too(tmp_path: Path) -> None:
    """A walk installed 花園明朝 B (HanaMinB, with 𪚥) for fontconfig and the receipt was still
    refused: only 宋体-ExtB's Windows names were looked for. It is the Ext. B fallback now."""
    hana = fake_font(tmp_path, "HanaMinB.ttf")
    fonts = choose_fonts(linux_fonts(lambda: f"{hana}\t0\tHanaMinB,花園明朝B\n"))
    assert hana in fonts.paths.values()


def test_the_advice_for_a_character_no_font_has_fits_the_character() -> None:
    from desktop_app.documents.fonts import font_advice

    assert "花园明朝 HanaMinB" in font_advice("𪚥") and "宋体-ExtB" in font_advice("𪚥")
    assert "表情符号" in font_advice("😀") and "宋体-ExtB" not in font_advice("😀")
