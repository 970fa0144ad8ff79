"""期限日历 PDF and the shared document fonts: real PDFs, read back with pypdf."""

from __future__ import annotations

import calendar as month_calendar
import io
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from desktop_app.documents.calendar_pdf import render_month_pdf
from desktop_app.documents.fonts import (
    BUNDLED_FONT_NAME,
    FontSet,
    find_official_fonts,
    font_runs,
    missing_glyphs,
    register_fonts,
)
from desktop_app.domain.deadlines import DayCell, DeadlineKind, DeadlineState, MonthView
from desktop_app.domain.workdays import WorkdayCalendar

GENERATED = datetime(2026, 11, 25, 9, 30)
A4_LANDSCAPE = (841.89, 595.28)


def month_view(
    year: int,
    month: int,
    today: date,
    counts: dict[date, dict[DeadlineKind, int]],
    leaders: dict[date, str],
    windows: dict[date, str] | None = None,
    overdue_before: int = 0,
    warnings: tuple[str, ...] = (),
) -> MonthView:
    """A MonthView as DeadlineBoard.month builds it, without a database."""
    calendar = WorkdayCalendar()
    first = date(year, month, 1)
    day = first - timedelta(days=first.weekday())
    last = date(year, month, month_calendar.monthrange(year, month)[1])
    end = last + timedelta(days=6 - last.weekday())
    soon_until = calendar.add(today, 2).due
    weeks: list[tuple[DayCell, ...]] = []
    while day <= end:
        week: list[DayCell] = []
        for _ in range(7):
            info = calendar.day_info(day)
            if day < today:
                state = DeadlineState.OVERDUE
            elif day == today:
                state = DeadlineState.DUE_TODAY
            elif day <= soon_until:
                state = DeadlineState.DUE_SOON
            else:
                state = DeadlineState.NORMAL
            week.append(
                DayCell(
                    day=day,
                    in_month=day.month == month,
                    working=info.working,
                    reason=info.reason,
                    known=info.known,
                    counts=counts.get(day, {}),
                    state=state,
                    leader=leaders.get(day, ""),
                    window=(windows or {}).get(day, ""),
                )
            )
            day += timedelta(days=1)
        weeks.append(tuple(week))
    return MonthView(year, month, today, tuple(weeks), overdue_before, warnings)


CASE, BASIS, VISIT = DeadlineKind.CASE, DeadlineKind.BASIS, DeadlineKind.VISIT


def november() -> MonthView:
    return month_view(
        2026,
        11,
        today=date(2026, 11, 25),
        counts={
            date(2026, 11, 20): {CASE: 2, BASIS: 1},
            date(2026, 11, 24): {VISIT: 1},
            date(2026, 11, 25): {CASE: 3, BASIS: 1, VISIT: 2},
            date(2026, 11, 26): {CASE: 1},
            date(2026, 11, 27): {BASIS: 2},
            date(2026, 12, 3): {CASE: 4, VISIT: 1},
            date(2026, 10, 30): {CASE: 1},
        },
        leaders={
            date(2026, 11, d): name
            for d, name in [(2, "潘险峰"), (3, "李红梅"), (24, "潘险峰"), (25, "潘险峰")]
        }
        | {date(2026, 11, 26): "欧阳建国（上午）、司马晓燕（下午）"},
        windows={date(2026, 11, 25): "张三、李四", date(2026, 11, 26): "王五"},
        overdue_before=7,
    )


def october() -> MonthView:
    return month_view(
        2026,
        10,
        today=date(2026, 10, 12),
        counts={
            date(2026, 9, 30): {CASE: 2},
            date(2026, 10, 9): {CASE: 1, BASIS: 1},
            date(2026, 10, 10): {CASE: 2},  # a make-up Saturday
            date(2026, 10, 12): {CASE: 5, VISIT: 1},
            date(2026, 10, 13): {BASIS: 1},
            date(2026, 10, 20): {CASE: 3, BASIS: 2, VISIT: 4},
        },
        leaders={
            date(2026, 9, 30): "潘险峰",
            date(2026, 10, 9): "张𠀀",  # a rare name the bundled font cannot print
            date(2026, 10, 10): "李红梅",
            date(2026, 10, 12): "潘险峰",
        },
        windows={date(2026, 10, 12): "王芳、赵敏"},
        overdue_before=3,
        warnings=("2027年的法定节假日安排尚未录入，期限按周末推算，仅供参考",),
    )


def read(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(data))
    return reader, reader.pages[0].extract_text()


def flat(text: str) -> str:
    return "".join(text.split())


def fonts_of(reader: PdfReader) -> list[Any]:
    resources = reader.pages[0]["/Resources"]
    return [ref.get_object() for ref in resources["/Font"].values()]


def test_november_sheet_is_one_landscape_a4_page_with_the_month(tmp_path: Path) -> None:
    out = tmp_path / "期限日历 2026-11.pdf"
    data = render_month_pdf(
        november(), site_name="城关镇便民服务中心", generated_at=GENERATED, out=out
    )
    assert out.read_bytes() == data
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temp file left behind
    reader, text = read(data)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(A4_LANDSCAPE, abs=0.1)
    squeezed = flat(text)
    assert "城关镇便民服务中心期限日历2026年11月" in squeezed
    assert all(day in squeezed for day in ("周一", "周三", "周日"))
    assert "办理时限 3 · 依据 1 · 回访 2" in text
    assert "今日到期6件" in squeezed and "已超期3件" in squeezed and "即将到期1件" in squeezed
    assert "带班：潘险峰" in squeezed
    assert "窗口：张三、李四" in squeezed
    assert "欧阳建国（上午）、司马晓燕（下午）" in squeezed  # wrapped, not clipped
    assert "本月之前已超期未办 7 件" in text
    assert "生成时间：2026年11月25日09:30" in squeezed
    assert "国庆节" not in text


def test_october_sheet_shows_holidays_and_make_up_days() -> None:
    data = render_month_pdf(october(), site_name="城关镇便民服务中心", generated_at=GENERATED)
    reader, text = read(data)
    squeezed = flat(text)
    assert len(reader.pages) == 1
    assert "期限日历2026年10月" in squeezed
    assert "国庆节" in squeezed
    assert "中秋节" in squeezed or "国庆节" in squeezed
    assert "调休上班（国庆节）" in squeezed
    assert "班" in squeezed
    assert "带班：李红梅" in squeezed  # on the make-up Saturday
    assert "本月之前已超期未办 3 件" in text
    assert "2027年的法定节假日安排尚未录入" in squeezed
    assert "办理时限 3 · 依据 2 · 回访 4" in text
    fonts = register_fonts()
    if missing_glyphs("𠀀", fonts.chain(fonts.title)):
        # The rare character is printed as its code and named under the grid, never dropped.
        assert "张[U+20000]" in squeezed
        assert "本机字体缺少以下字符" in squeezed and "U+20000" in squeezed
    else:  # Windows with 宋体-ExtB (simsunb.ttf)
        assert "张𠀀" in squeezed and "本机字体缺少" not in squeezed


def test_the_sheet_embeds_subset_truetype_fonts() -> None:
    reader, _ = read(render_month_pdf(october(), site_name="测试", generated_at=GENERATED))
    fonts = fonts_of(reader)
    assert fonts
    for font in fonts:
        descriptor = font["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor, font["/BaseFont"]
        assert str(font["/BaseFont"])[7:8] == "+"  # e.g. /AAAAAA+DroidSansFallback


def test_same_input_same_bytes() -> None:
    """(Its speed is measured by ``python tasks.py bench``: calendar_pdf_warm_ms.)"""
    view = november()
    first = render_month_pdf(view, site_name="测试", generated_at=GENERATED)
    second = render_month_pdf(view, site_name="测试", generated_at=GENERATED)
    assert first == second


def test_a_failed_write_leaves_no_file(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        render_month_pdf(
            november(),
            site_name="测试",
            generated_at=GENERATED,
            out=tmp_path / "无此目录" / "x.pdf",
        )
    assert list(tmp_path.iterdir()) == []


def test_register_fonts_is_cached_and_uses_the_bundled_font_off_windows() -> None:
    fonts = register_fonts()
    assert register_fonts() is fonts
    assert isinstance(fonts, FontSet)
    assert fonts.paths[fonts.title].is_file() and fonts.paths[fonts.body].is_file()
    assert fonts.chain(fonts.body)[0] == fonts.body
    assert BUNDLED_FONT_NAME in fonts.chain(fonts.title)  # the last resort for CJK, everywhere
    if sys.platform != "win32":
        assert fonts.title == fonts.body == BUNDLED_FONT_NAME
        assert fonts.paths[fonts.body].name == "DroidSansFallbackFull.ttf"


def test_missing_glyphs_names_the_rare_character() -> None:
    fonts = register_fonts()
    body = fonts.body if sys.platform != "win32" else BUNDLED_FONT_NAME
    assert missing_glyphs("张𠀀", [body]) == ["𠀀"]  # Droid Sans Fallback has no Ext. B
    assert missing_glyphs("张三", [body]) == []
    assert missing_glyphs(" 张\u3000三\n", [body]) == []  # whitespace is not a glyph
    assert missing_glyphs("𠀀张𠀀", [body]) == ["𠀀"]  # each once
    # The bundled CJK font has no digits; the chain's Latin fallback has.
    assert missing_glyphs("2026年", [BUNDLED_FONT_NAME]) == ["2", "0", "6"]
    assert missing_glyphs("2026年", fonts.chain(fonts.body)) == []
    assert missing_glyphs("张a", ["no-such-font"]) == ["张", "a"]
    assert missing_glyphs("a", ["Helvetica"]) == []  # a standard Type 1 font: WinAnsi


def test_font_runs_pick_a_font_per_glyph() -> None:
    chain = register_fonts().chain(BUNDLED_FONT_NAME)
    runs = font_runs("张三 2026年𠀀", chain)
    assert "".join(run for _, run in runs) == "张三 2026年𠀀"
    assert runs[0] == (BUNDLED_FONT_NAME, "张三 ")
    assert all(font is not None for font, _ in runs[:-1])
    if sys.platform != "win32":  # no font has Ext. B: a run without a font, for the caller to flag
        assert runs[-1] == (None, "𠀀")


def test_find_official_fonts_in_a_windows_like_folder(tmp_path: Path) -> None:
    for name in ("SIMHEI.TTF", "simfang.ttf", "simsun.ttc", "msyh.ttc", "arial.ttf"):
        (tmp_path / name).write_bytes(b"dummy")
    (tmp_path / "simsunb.ttf").mkdir()  # a folder is not a font
    assert find_official_fonts(tmp_path) == {
        "simhei": tmp_path / "SIMHEI.TTF",
        "simfang": tmp_path / "simfang.ttf",
        "simsun": tmp_path / "simsun.ttc",
    }
    assert find_official_fonts(tmp_path / "missing") == {}
