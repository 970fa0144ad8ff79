"""The 问题线索移交函 as a paper: its 落款 (issuer, signer, date) never stands alone on a page."""

from __future__ import annotations

import io

from pypdf import PdfReader

from desktop_app.documents.referral_letter import EvidenceLine, LetterContent, render_letter


def letter(evidence_count: int) -> LetterContent:
    return LetterContent(
        number="杞纪窗移〔2026〕12号",
        issuer="杞县办不成事监督窗口",
        masthead="",
        recipient="纪检监察机关",
        recipient_name="中共杞县纪委监委第三纪检监察室",
        case_number="杞县-2026-0233",
        case_title="不动产转移登记与税务窗口互相推诿",
        received_on="2026-11-02",
        complainant="褚红军",
        complainant_phone="139****2004",
        person_name="李某",
        person_post="窗口负责人",
        person_unit="杞县不动产登记中心",
        conduct=("推诿扯皮", "冷硬推"),
        facts="反映人三次到窗口办理二手房过户，均被告知需先完税，税务窗口称需先登记。" * 3,
        evidence=tuple(
            EvidenceLine(
                date="2026-11-03",
                kind="交办",
                text=f"第{n}次：杞纪窗交〔2026〕2{n:02d}号交杞县不动产登记中心办理，逾期未反馈。",
                ref="",
            )
            for n in range(1, evidence_count + 1)
        ),
        window_name="杞县办不成事监督窗口",
        window_phone="0371-28981234",
        signer="韩国栋",
        sent_on="2026-12-07",
    )


def test_the_signature_is_never_alone_on_a_page() -> None:
    """Lists of every length from none to two pages' worth: the page that carries 签发人 also
    carries the letter's text above it (seen: the 落款 alone on page 2)."""
    pages_seen = set()
    for count in range(0, 26):
        reader = PdfReader(io.BytesIO(render_letter(letter(count))))
        pages = [page.extract_text() for page in reader.pages]
        pages_seen.add(len(pages))
        signed = next(i for i, text in enumerate(pages) if "签发人：韩国栋" in text)
        above = pages[signed].split("杞县办不成事监督窗口\n签发人")[0]
        assert "【交办】" in above or "暂无可列证据" in above or "主要问题" in above, (
            count,
            pages[signed][:200],
        )
    assert {1, 2} <= pages_seen
