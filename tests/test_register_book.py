"""The 登记簿 (issue 17): A3 landscape, one line per case with the phone, page totals, the
signature line; read back with pypdf and rendered with pdftoppm to be looked at."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from desktop_app.documents.register_book import (
    BookLine,
    RegisterBookContent,
    render_register_book,
    rows_per_page,
)
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor
from desktop_app.services.ledger import CaseFilter
from desktop_app.services.register_export import RegisterExportService
from tests.helpers.cli import run_bbcs
from tests.helpers.supervision_cases import Office, concluded, open_case

A3_LANDSCAPE = (1190.55, 841.89)


def _line(n: int) -> BookLine:
    return BookLine(
        number=f"杞县-2026-{n:04d}",
        original_number="" if n % 2 else f"旧台账-{n}",
        received_on="2026-11-02",
        complainant="王芳",
        phone=f"1381234{n:04d}",
        title="医保结算查不到参保信息，多次往返县卫健委、乡政府无果，要求尽快解决" * (n % 2 + 1),
        department="杞县医疗保障局",
        due_date="2026-11-09",
        status="已办结",
        concluded_on="2026-11-08",
        visit_grade="满意",
    )


def _text(pdf: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(pdf).pages]


def test_the_book_is_a3_landscape_with_page_totals_and_a_signature_line(tmp_path: Path) -> None:
    count = rows_per_page() + 3  # two pages
    out = tmp_path / "登记簿.pdf"
    render_register_book(
        RegisterBookContent(
            issuer="杞县“办不成事”监督窗口",
            period="2026年11月1日至2026年11月30日",
            printed_at=datetime(2026, 11, 25, 9, 0),
            lines=tuple(_line(n) for n in range(1, count + 1)),
            numbers_masked=False,
        ),
        out=out,
    )
    reader = PdfReader(out)
    assert len(reader.pages) == 2
    box = reader.pages[0].mediabox
    assert (round(float(box.width), 2), round(float(box.height), 2)) == A3_LANDSCAPE
    first, second = _text(out)
    assert "登记簿" in first and "联系电话" in first and "回访电话记录" in first
    assert "13812340001" in first and "杞县-2026-0001" in first
    assert "原编号" in first and "旧台账-2" in first  # right after 编号, empty for others
    assert f"本页 {rows_per_page()} 件，累计 {rows_per_page()} 件，共 {count} 件" in first
    assert f"本页 3 件，累计 {count} 件，共 {count} 件" in second
    assert "核查人" in second and "核查人" not in first
    assert "联系电话" in second  # the header repeats
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(out), str(tmp_path / "p")],
            check=True,
        )
        assert list(tmp_path.glob("p*.png"))


def test_the_service_prints_the_period_with_phones_for_those_allowed(
    services: AppServices, clerk: Actor, leader: Actor, auditor: Actor, tmp_path: Path
) -> None:
    office = Office(services, clerk, leader)
    office.case("open", **open_case(received_at=datetime(2026, 11, 2, 9, 30)))
    office.case("done", **concluded(received_at=datetime(2026, 11, 3, 9, 30)))
    office.case("earlier", received_at=datetime(2026, 10, 3, 9, 30))
    exporter = RegisterExportService(services.db, services.clock, services.sealer, services.ledger)
    november = CaseFilter(received_from=datetime(2026, 11, 1).date())
    book = exporter.book(clerk, tmp_path / "clerk.pdf", november, issuer="杞县监督窗口")
    assert (book.cases, book.pages, book.numbers_clear) == (2, 1, True)
    (text,) = _text(tmp_path / "clerk.pdf")
    assert "13900000003" in text and "2026年11月1日起" in text
    assert "本页 2 件" in text
    masked = exporter.book(auditor, tmp_path / "auditor.pdf", november, issuer="杞县监督窗口")
    assert not masked.numbers_clear
    (text,) = _text(tmp_path / "auditor.pdf")
    assert "13900000003" not in text and "****" in text and "联系电话已遮挡" in text


@pytest.mark.parametrize("suffix", [".pdf"])
def test_the_command_line_prints_the_book(
    services: AppServices, clerk: Actor, leader: Actor, data_dir: Path, tmp_path: Path, suffix: str
) -> None:
    Office(services, clerk, leader).case("one")
    services.close()
    out = tmp_path / f"登记簿{suffix}"
    result = run_bbcs("ledger", "--out", str(out), "--masked", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert "登记簿已生成" in result.stdout and "1 件，1 页" in result.stdout
    assert "****" in _text(out)[0]


def test_a_character_no_font_has_is_printed_as_the_missing_glyph_mark(tmp_path: Path) -> None:
    """A register is not refused for one rare character in one name (a slip would be)."""
    rare = "\U0010fffd"  # a private-use character: no font draws it
    line = _line(1)
    named = BookLine(**{**line.__dict__, "complainant": f"王{rare}"})
    out = tmp_path / "登记簿.pdf"
    render_register_book(
        RegisterBookContent(
            issuer="杞县监督窗口",
            period="全部",
            printed_at=datetime(2026, 11, 25, 9, 0),
            lines=(named,),
        ),
        out=out,
    )
    assert "王〓" in _text(out)[0]
