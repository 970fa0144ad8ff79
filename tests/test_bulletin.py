"""分析通报 (issue 17): numbered gap-free, the figures printed as the statistics computed them,
tables and charts drawn; read back with pdftotext and rendered with pdftoppm."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from desktop_app.documents.slip_pdf import UnprintableCharacters
from desktop_app.errors import NotFound
from desktop_app.services.app import AppServices
from desktop_app.services.context import Actor, FixedClock
from tests.test_statistics import NOVEMBER, build_period

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="poppler-utils (pdftotext, pdftoppm) not installed",
)


def pdf_text(path: Path) -> str:
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    )
    return result.stdout


@needs_poppler
def test_issued_bulletin_prints_the_figures_with_their_denominators(
    services: AppServices, clerk: Actor, leader: Actor, tmp_path: Path, clock: FixedClock
) -> None:
    office = build_period(services, clerk, leader)
    # Received on 28 October: outside 1–25 October, what November 1–25 (today the 25th) is
    # compared with; it was counted when the 25 days just before were.
    office.case("late_october", received_at=datetime(2026, 10, 28, 10, 0))
    assert services.bulletins.next_number() == "〔2026〕第1期"
    out = tmp_path / "通报.pdf"
    issued = services.bulletins.issue(clerk, NOVEMBER, out)
    assert issued.number == "〔2026〕第1期"
    text = pdf_text(out)
    compact = "".join(text.split())
    assert "分析通报" in compact
    assert "〔2026〕第1期" in compact
    # November is not over on the 25th: the figures are said to run to that day (they read as
    # the whole month's, compared with the whole of October).
    assert "2026年11月1日至2026年11月25日" in compact
    assert "本期共受理反映事项9件（上期1件" in compact
    assert "按期办结率50.0%（2/4）" in compact
    assert "按原定期限计算为25.0%（1/4）" in compact
    assert "办结用时中位数4个工作日，第90百分位数10个工作日" in compact
    assert "回访率66.7%（2/3）" in compact
    assert "政策不明" in compact  # the cause table
    assert "说明" in compact and "最近秩法" in compact
    # The next one takes the next number; a preview takes none.
    assert services.bulletins.next_number() == "〔2026〕第2期"
    preview = services.bulletins.content(clerk, NOVEMBER)
    assert preview.preview and preview.number == "〔2026〕第2期"
    assert services.bulletins.next_number() == "〔2026〕第2期"
    assert services.bulletins.issued_for(NOVEMBER) == ["〔2026〕第1期"]  # said before a second
    second = services.bulletins.issue(clerk, NOVEMBER, tmp_path / "2.pdf")
    assert second.number == "〔2026〕第2期"
    assert services.bulletins.issued_for(NOVEMBER) == ["〔2026〕第1期", "〔2026〕第2期"]
    assert services.bulletins.issued_for(NOVEMBER, site_code="410222") == []
    clock.at = datetime(2026, 12, 2, 9, 0)  # November looked at again once it is over
    assert services.bulletins.issued_for(NOVEMBER) == ["〔2026〕第1期", "〔2026〕第2期"]
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(out), str(tmp_path / "page")], check=True)
    assert sorted(p.name for p in tmp_path.glob("page-*.png"))


def test_a_bulletin_that_cannot_print_takes_no_number(
    services: AppServices, clerk: Actor, leader: Actor, tmp_path: Path
) -> None:
    office = build_period(services, clerk, leader)
    from desktop_app.storage.models import Case

    with services.db.write() as session:
        case = session.get(Case, office.ids["late_open"])
        assert case is not None
        case.area = "\U000f0000"  # a private-use character no font draws
    with pytest.raises(UnprintableCharacters):
        services.bulletins.issue(clerk, NOVEMBER, tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()
    assert services.bulletins.next_number() == "〔2026〕第1期"


def test_an_empty_period_still_makes_a_bulletin(
    services: AppServices, clerk: Actor, tmp_path: Path
) -> None:
    issued = services.bulletins.issue(clerk, NOVEMBER, tmp_path / "empty.pdf")
    assert issued.size > 0


@needs_poppler
def test_typical_cases_are_told_without_personal_data(
    services: AppServices, clerk: Actor, leader: Actor, tmp_path: Path
) -> None:
    office = build_period(services, clerk, leader)
    from desktop_app.storage.models import Case

    with services.db.read() as session:
        case = session.get(Case, office.ids["done_on_time"])
        assert case is not None
        number = case.number
    out = tmp_path / "典型.pdf"
    services.bulletins.issue(clerk, NOVEMBER, out, typical=[number])
    compact = "".join(pdf_text(out).split())
    assert "六、典型案例" in compact
    assert "王某反映" in compact and number in compact
    assert "王芳" not in compact and "13900000" not in compact
    with pytest.raises(NotFound, match="没有找到"):
        services.bulletins.content(clerk, NOVEMBER, typical=["杞县-2026-99999"])


@needs_poppler
def test_a_long_table_repeats_its_header_on_the_next_page(tmp_path: Path) -> None:
    from datetime import datetime

    from desktop_app.documents.bulletin_pdf import (
        BulletinContent,
        BulletinSection,
        BulletinTable,
        render_bulletin,
    )

    rows = tuple((f"承办单位{index}", str(index), "1.0%") for index in range(80))
    content = BulletinContent(
        number="〔2026〕第9期",
        issuer="杞县办不成事监督窗口",
        title="测试",
        period_text="2026年11月",
        issued_at=datetime(2026, 11, 25, 9, 0),
        sections=(BulletinSection("一、长表", (BulletinTable(("类别", "件数", "占比"), rows),)),),
    )
    out = tmp_path / "long.pdf"
    render_bulletin(content, out=out)
    pages = pdf_text(out).split("\f")
    with_rows = [page for page in pages if "承办单位" in page]
    assert len(with_rows) >= 2
    assert all("类别" in page and "件数" in page for page in with_rows)


def test_a_years_months_fit_under_the_trend_chart() -> None:
    """Twelve months printed full-width as 2026-01 … overlapped on the A4 column; each label
    (1月 … 12月, the year under January) now fits its slot of the axis."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from desktop_app.documents.bulletin_pdf import BulletinChart, _line, month_labels

    months = tuple(f"2026-{m:02d}" for m in range(1, 13))
    assert month_labels(("2025-11", "2025-12", "2026-01")) == [
        "１１月\n２０２５",
        "１２月",
        "１月\n２０２６",
    ]
    layout = _empty_layout()
    drawing = _line(
        BulletinChart("line", "各月受理数量", months, tuple(float(m) for m in range(12))),
        layout.frame_width,
        layout.fonts.body,
        layout.fonts.body,
    )
    chart = drawing.contents[-1]
    slot = chart.width / len(months)
    names = chart.categoryAxis.categoryNames
    for left, right in pairwise(names):  # neighbours, line by line
        for a, b in zip(left.split("\n"), right.split("\n"), strict=False):
            width = stringWidth(a, layout.fonts.body, 8) + stringWidth(b, layout.fonts.body, 8)
            assert width / 2 < slot * 0.9, (a, b)


def test_charts_set_their_numbers_as_the_font_draws_them() -> None:
    """A label mixing Chinese and numbers is drawn in one font: in the bundled one, which has no
    ASCII digits, they are full-width; in a font that has them (仿宋_GB2312, 黑体) they stay as
    they are. A number alone (an axis, a bar's end) is set in the first font of the chain that
    draws ASCII digits: 146385, not １４６３８５ spread wide."""
    from reportlab.graphics.shapes import String

    from desktop_app.documents.bulletin_pdf import BulletinChart, chart_text, number_font
    from desktop_app.documents.fonts import missing_glyphs

    layout = _empty_layout()
    body = layout.fonts.body
    chain = layout.fonts.chain(body)
    numbers = number_font(chain)
    assert missing_glyphs("0123456789.%-", [numbers]) == []
    assert chart_text(numbers)("48.4%") == "48.4%"
    if missing_glyphs("0123456789", [body]):  # the bundled font
        assert chart_text(body)("48.4%") == "４８．４％"
        assert numbers != body
    bars = layout.chart(
        BulletinChart("bars", "各领域反映数量", ("医保社保", "不动产登记"), (146385.0, 114555.0))
    )
    chart = bars.contents[-1]
    assert chart.barLabels.fontName == chart.valueAxis.labels.fontName == numbers
    assert chart.barLabelFormat(146385.0) == "146385"
    pie = layout.chart(
        BulletinChart("pie", "问题性质分布", ("很难办", "未填写"), (426675.0, 10455.0))
    )
    legend = [(item.text, item.fontName) for item in pie.contents if isinstance(item, String)]
    assert legend[1:] == [  # after the title: one line a share, numbers in a font with digits
        ("很难办  ", body),
        ("426675", numbers),
        ("件（", body),
        ("97.6%", numbers),
        ("）", body),
        ("未填写  ", body),
        ("10455", numbers),
        ("件（", body),
        ("2.4%", numbers),
        ("）", body),
    ]
    first, second = (y for _text, _font, y in _lines(pie))
    assert first - second >= 9  # apart, however thin the slice


def _lines(drawing: object) -> list[tuple[str, str, float]]:
    """The first string of each line of a drawing's legend (its colour's square beside it)."""
    from reportlab.graphics.shapes import Rect, String

    items = list(drawing.contents)  # type: ignore[attr-defined]
    return [
        (after.text, after.fontName, after.y)
        for item, after in pairwise(items)
        if isinstance(item, Rect) and isinstance(after, String)
    ]


def _empty_layout() -> Any:
    """The layout of a bulletin with no sections, for drawing its charts alone."""
    from datetime import datetime

    from desktop_app.documents.bulletin_pdf import BulletinContent, _BulletinLayout

    return _BulletinLayout(
        BulletinContent(
            number="〔2026〕第9期",
            issuer="杞县办不成事监督窗口",
            title="测试",
            period_text="2026年",
            issued_at=datetime(2026, 11, 25, 9, 0),
            sections=(),
        )
    )
