"""交办单, 督办单, 催办通知, 依据告知单, 受理回执: real PDFs read back with pypdf and poppler."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import time
from collections import Counter
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from reportlab.graphics.barcode.qr import QrCodeWidget

from desktop_app.documents.fonts import missing_glyphs, register_fonts
from desktop_app.documents.slip_content import PaperKind, ReceiptContent, SlipContent
from desktop_app.documents.slip_pdf import (
    QR_FORM_NAME,
    UnprintableCharacters,
    check_printable,
    render_receipt,
    render_slip,
    slip_title,
)
from desktop_app.domain.vocabulary import chinese_date

ISSUER = "中共杞县纪委 杞县监委“办不成事”监督窗口"
DESCRIPTION = (
    "反映人称其经营的杞县城关镇某超市于2026年10月向县市场监督管理局申请办理食品经营许可证变更"
    "（经营场所面积调整），窗口工作人员先后三次要求补充材料，每次告知的材料清单均不一致，"
    "至今未予受理，影响超市正常经营。反映人已提交营业执照、场所平面图、租赁合同等材料，请求尽快办理。"
)
REQUIREMENTS = (
    "请县市场监督管理局核查该申请的办理情况，一次性告知所需材料，依法依规尽快办结；"
    "对未落实一次性告知制度的，查明原因并整改。"
)
PAYLOAD = "BBCS1|杞纪窗交〔2026〕12号|" + "3f" * 32 + "|c2lnbmF0dXJlLW9mLXRoZS1zaXRlLWtleQ"
A4 = (595.28, 841.89)
MAX_BYTES = 200 * 1024
NOW = datetime(2026, 12, 1, 10, 20)


def slip(**changes: Any) -> SlipContent:
    content = SlipContent(
        kind=PaperKind.ASSIGN,
        number="杞纪窗交〔2026〕12号",
        issuer=ISSUER,
        case_number="杞县-2026-0012",
        lead_department="杞县市场监督管理局",
        assisting_departments=("杞县政务服务和大数据管理局",),
        complainant="李强",
        complainant_contact="李强 138****5678",
        complainant_id_masked="410221********123X",
        matter_title="食品经营许可证变更多次补充材料仍未受理",
        matter_description=DESCRIPTION,
        requirements=REQUIREMENTS,
        due_date=date(2026, 12, 2),
        working_days=5,
        signer="潘险峰",
        issued_at=datetime(2026, 11, 25, 10, 5),
        window_phone="0371-28981234",
        qr_payload=PAYLOAD,
    )
    return replace(content, **changes)


def receipt(**changes: Any) -> ReceiptContent:
    content = ReceiptContent(
        issuer=ISSUER,
        case_number="杞县-2026-0012",
        complainant="李强",
        matter_title="食品经营许可证变更多次补充材料仍未受理",
        received_at=datetime(2026, 11, 25, 9, 30),
        clerk="王芳",
        window_phone="0371-28981234",
        next_steps="监督窗口将于1个工作日内研判，向承办单位交办并跟踪办理；办结后电话回访。",
        qr_payload="BBCS1|R|杞县-2026-0012|" + "ab" * 20,
    )
    return replace(content, **changes)


def pages_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def body_text(pages: list[str], number: str = "杞纪窗交〔2026〕12号") -> str:
    """All pages' text without the page furniture (page numbers, continuation headers)."""
    text = "".join(pages)
    for page in range(1, len(pages) + 1):
        text = text.replace(f"— {page} —", "")
    return text.replace(f"{number}（续页）", "")


def layout_text(data: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "layout.pdf"
    path.write_bytes(data)
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, timeout=60
    )
    return result.stdout.decode("utf-8")


# --- content ------------------------------------------------------------------------------------


def test_json_round_trip_of_a_slip_and_a_receipt() -> None:
    content = slip(kind=PaperKind.SUPERVISE, earlier_number="杞纪窗交〔2026〕12号")
    data = content.to_json()
    assert data["kind"] == "supervise"
    assert data["due_date"] == "2026-12-02"
    assert data["issued_at"] == "2026-11-25T10:05:00"
    assert data["assisting_departments"] == ["杞县政务服务和大数据管理局"]
    stored = json.loads(json.dumps(data, ensure_ascii=False))
    assert SlipContent.from_json(stored) == content
    assert SlipContent.from_json(stored).content_hash() == content.content_hash()

    slip_receipt = receipt()
    assert ReceiptContent.from_json(json.loads(json.dumps(slip_receipt.to_json()))) == slip_receipt


def test_from_json_refuses_unknown_fields_and_fills_defaults() -> None:
    data = slip().to_json()
    del data["earlier_number"]
    assert SlipContent.from_json(data).earlier_number == ""
    with pytest.raises(ValueError, match="unknown"):
        SlipContent.from_json({**data, "extra": 1})


def test_content_hash_is_stable_and_covers_every_character_but_not_the_qr() -> None:
    content = slip()
    digest = content.content_hash()
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert slip().content_hash() == digest  # the same content, built again
    assert slip(qr_payload="something else").content_hash() == digest
    assert slip(complainant="李蔷").content_hash() != digest
    assert slip(matter_description=DESCRIPTION.replace("三次", "四次")).content_hash() != digest
    assert slip(due_date=date(2026, 12, 3)).content_hash() != digest
    canonical = json.dumps(
        {k: v for k, v in content.to_json().items() if k != "qr_payload"},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    assert digest == hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --- the slip -----------------------------------------------------------------------------------


def test_a_same_day_round_reads_as_done_the_same_day() -> None:
    """马上办 (0 working days): the demo's 督办单 read 「2026年12月3日前（0个工作日）」."""
    text = PdfReader(io.BytesIO(render_slip(slip(working_days=0)))).pages[0].extract_text()
    assert "2026年12月2日（当日办结）" in text.replace(" ", "") and "0个工作日" not in text


def test_a_slip_has_the_number_department_deadline_signer_and_date() -> None:
    data = render_slip(slip())
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width), 2), round(float(box.height), 2)) == A4
    text = reader.pages[0].extract_text()
    for expected in (
        "“办不成事”事项交办单",
        "杞纪窗交〔2026〕12号",
        "〔2026〕",
        "杞县市场监督管理局",
        "杞县政务服务和大数据管理局",
        "李强 138****5678",
        "410221********123X",
        "杞县-2026-0012",
        "2026年12月2日前（5个工作日）",
        "潘险峰",
        "2026年11月25日",
        "（盖章）",
        "0371-28981234",
        "沿此线剪开",
        "回执联（承办单位填写后交回监督窗口）",
        "签收人",
        "签收时间",
        "办理结果",
        "单位盖章",
        "扫码核验",
        "— 1 —",
    ):
        assert expected in text, expected
    assert squeeze(DESCRIPTION) in squeeze(text)
    assert squeeze(REQUIREMENTS) in squeeze(text)
    assert "[" not in text and "]" not in text  # real 〔〕, no [U+…] stand-ins
    assert len(data) <= MAX_BYTES


def test_chinese_dates_have_no_zero_padding() -> None:
    assert chinese_date(date(2026, 12, 2)) == "2026年12月2日"
    assert chinese_date(date(2026, 1, 5)) == "2026年1月5日"
    moment = datetime(2026, 1, 5, 9, 5)
    assert chinese_date(moment) == "2026年1月5日"  # a datetime's date, as the papers print it
    assert chinese_date(moment, parts="date_time") == "2026年1月5日9时05分"
    assert chinese_date(moment, parts="time") == "9时05分"


def test_the_number_is_centred_under_the_title_and_the_stub_is_below_the_cut(
    tmp_path: Path,
) -> None:
    text = layout_text(render_slip(slip()), tmp_path)
    lines = text.splitlines()
    title = next(i for i, line in enumerate(lines) if "事项交办单" in line)
    number = next(i for i, line in enumerate(lines) if "杞纪窗交〔2026〕12号" in line)
    assert number == title + 1

    def centre(line: str, part: str) -> float:
        start = line.index(part)
        return start + len(part) / 2

    assert (
        abs(centre(lines[title], "“办不成事”事项交办单") - centre(lines[number], "杞纪窗交")) <= 4
    )
    cut = next(i for i, line in enumerate(lines) if "沿此线剪开" in line)
    stub = next(i for i, line in enumerate(lines) if "回执联（" in line)
    assert title < cut < stub
    assert any("交办单号" in line and "杞纪窗交〔2026〕12号" in line for line in lines[stub:])


@pytest.mark.parametrize(
    ("kind", "label", "deadline_label"),
    [
        (PaperKind.ASSIGN, "交办要求", "办理时限"),
        (PaperKind.SUPERVISE, "督办要求", "办理时限"),
        (PaperKind.URGE, "催办内容", "反馈时限"),  # the deadline it chases has passed
        (PaperKind.BASIS_REQUEST, "补充说明", "提交时限"),
        (PaperKind.ADJUST, "调整事项", "办理时限"),
    ],
)
def test_every_kind_has_its_title_and_labels(
    kind: PaperKind, label: str, deadline_label: str
) -> None:
    earlier = "" if kind is PaperKind.ASSIGN else "杞纪窗交〔2026〕12号"
    content = slip(kind=kind, number="杞纪窗督〔2026〕3号", earlier_number=earlier)
    data = render_slip(content)
    text = "".join(pages_text(data))
    assert slip_title(kind) in text
    assert label in text
    assert deadline_label in text
    assert "回执联（" in text
    if earlier:
        assert "原单号" in text and earlier in text
    assert len(data) <= MAX_BYTES


@pytest.mark.parametrize("kind", list(PaperKind))
def test_a_provisional_deadline_is_printed_as_such_on_every_paper(kind: PaperKind) -> None:
    earlier = "" if kind is PaperKind.ASSIGN else "杞纪窗交〔2026〕12号"
    provisional = slip(kind=kind, earlier_number=earlier, due_provisional=True)
    text = squeeze("".join(pages_text(render_slip(provisional))))
    assert "2026年12月2日前（5个工作日）【暂定" in text
    assert "公布后如有调整另行通知" in text
    known = squeeze("".join(pages_text(render_slip(replace(provisional, due_provisional=False)))))
    assert "暂定" not in known
    assert "due_provisional" not in replace(provisional, due_provisional=False).to_json()


def test_the_basis_request_asks_the_principal_leader_to_sign() -> None:
    content = slip(
        kind=PaperKind.BASIS_REQUEST,
        number="杞纪窗依〔2026〕2号",
        due_date=date(2026, 11, 30),
        working_days=3,
    )
    pages = pages_text(render_slip(content))
    text = squeeze("".join(pages))
    assert "不能办事项书面依据告知单" in text
    assert "2026年11月30日前（3个工作日）" in text
    assert "书面依据" in text
    assert "由单位主要负责人签字" in text
    assert len(pages) == 1


MASTHEAD = "杞县纪委监委 杞县政务服务中心"


def test_the_slip_prints_the_nature_approach_and_visits_from_the_seeds() -> None:
    content = slip(nature="很难办", approach="推动办", visits=3, masthead=MASTHEAD)
    pages = pages_text(render_slip(content))
    text = squeeze("".join(pages))
    for expected in ("问题性质", "很难办", "处置方式", "推动办", "往返次数：3次"):
        assert expected in text, expected
    assert len(pages) == 1  # the 版头 and the new row still leave the stub on page one


def test_the_masthead_is_above_the_title_and_a_paper_without_one_has_none(
    tmp_path: Path,
) -> None:
    lines = layout_text(render_slip(slip(masthead=MASTHEAD)), tmp_path).splitlines()
    masthead = next(i for i, line in enumerate(lines) if squeeze(MASTHEAD) in squeeze(line))
    title = next(i for i, line in enumerate(lines) if "事项交办单" in line)
    assert masthead < title
    assert squeeze(MASTHEAD) not in squeeze("".join(pages_text(render_slip(slip()))))


def test_the_basis_request_stub_is_the_written_basis_not_a_result() -> None:
    content = slip(
        kind=PaperKind.BASIS_REQUEST,
        number="杞纪窗交〔2026〕13号",
        nature="办不了",
        approach="监督办",
        requirements="",
        due_date=date(2026, 11, 30),
        working_days=3,
    )
    pages = pages_text(render_slip(content))
    assert len(pages) == 1
    stub = squeeze(pages[-1].split("回执联（承办单位")[1])
    for expected in (
        "不能办理的理由",
        "政策依据",
        "名称、文号、条款",
        "主要负责人签字",
        "单位盖章",
    ):
        assert expected in stub, expected
    assert "办理结果" not in stub
    assert "办理结果" in squeeze(pages_text(render_slip(slip()))[-1].split("回执联（承办单位")[1])


def test_a_paper_issued_before_the_new_fields_keeps_its_stored_form_and_hash() -> None:
    old = slip().to_json()
    assert not {"nature", "approach", "visits", "masthead", "phone_masked", "id_masked"} & set(old)
    again = SlipContent.from_json(old)
    assert again.phone_masked and again.id_masked  # earlier papers were masked
    assert again.to_json() == old
    new = slip(nature="很难办", phone_masked=False)
    assert new.to_json()["nature"] == "很难办" and new.to_json()["phone_masked"] is False
    assert new.content_hash() != slip().content_hash()
    assert SlipContent.from_json(new.to_json()) == new


def test_a_long_description_flows_onto_a_second_page_with_one_stub() -> None:
    long_text = "\n".join(f"{n}．{DESCRIPTION}" for n in range(1, 8))
    content = slip(matter_description=long_text)
    data = render_slip(content)
    pages = pages_text(data)
    assert len(pages) == 2
    joined = "".join(pages)
    assert joined.count("回执联（承办单位填写后交回监督窗口）") == 1
    assert joined.count("沿此线剪开") == 1
    assert "回执联（" in pages[1]  # the tear-off part is at the end
    assert "— 2 —" in pages[1]
    assert "杞纪窗交〔2026〕12号（续页）" in pages[1]
    # Every character of the description is there, in order, across the page break.
    assert squeeze(long_text) in squeeze(body_text(pages))
    assert len(data) <= MAX_BYTES


def writing_lines(data: bytes) -> list[int]:
    """Per page, the grey ruled lines drawn on it (the 回执联's lines for the 办理结果)."""
    counts = []
    for page in PdfReader(io.BytesIO(data)).pages:
        grey = False
        count = 0
        for operands, operator in page.get_contents().operations:
            if operator == b"RG":
                grey = [float(v) for v in operands] == pytest.approx([0x9A / 255] * 3, abs=1e-3)
            elif operator == b"l" and grey:
                count += 1
        counts.append(count)
    return counts


def test_the_result_box_takes_the_room_the_last_page_has() -> None:
    """A department writes its 办理结果 by hand: a short slip leaves room for five lines, a
    longer one as many as fit above the foot (at least two), and a 回执联 that goes on to a
    second page has five there. A 时限调整通知 is signed for, not answered: no result box."""
    short = slip(matter_description="营业执照变更被多次退回。", requirements="请依法办结。")
    assert writing_lines(render_slip(short)) == [5]
    assert 2 <= writing_lines(render_slip(slip()))[0] < 5
    two_pages = slip(matter_description="\n".join([DESCRIPTION] * 2))
    assert writing_lines(render_slip(two_pages)) == [0, 5]
    adjust = slip(kind=PaperKind.ADJUST, earlier_number="杞纪窗交〔2026〕12号")
    assert writing_lines(render_slip(adjust)) == [0]


def test_a_very_long_requirement_and_names_never_break_the_layout() -> None:
    content = slip(
        requirements=REQUIREMENTS * 12,
        assisting_departments=tuple(f"杞县第{n}协办单位" for n in range(1, 15)),
        issuer="中共开封市杞县纪律检查委员会 开封市杞县监察委员会“办不成事”监督窗口",
        complainant="开封市杞县城关镇某某商贸有限责任公司（个体工商户分支机构）",
    )
    pages = pages_text(render_slip(content))
    joined = squeeze(body_text(pages))
    assert squeeze(REQUIREMENTS * 12) in joined
    assert "开封市杞县城关镇某某商贸有限责任公司（个体工商户分支机构）" in joined
    assert "杞县第14协办单位" in joined
    assert joined.count("回执联（") == 1


def test_lines_never_start_with_closing_punctuation(tmp_path: Path) -> None:
    text = layout_text(render_slip(slip(matter_description=DESCRIPTION * 3)), tmp_path)
    for line in text.splitlines():
        stripped = line.strip()
        assert not stripped.startswith(("，", "。", "、", "；", "）", "：")), line


def test_a_reprint_is_marked_and_otherwise_the_same() -> None:
    content = slip()
    original = "".join(pages_text(render_slip(content)))
    at = datetime(2026, 12, 1, 10, 20)
    reprint_data = render_slip(content, reprint_at=at)
    reprint = "".join(pages_text(reprint_data))
    assert "补　打" in reprint and "补打" not in original
    assert "2026年12月1日" in reprint
    added = Counter(squeeze(reprint))
    added.subtract(Counter(squeeze(original)))
    assert {c: n for c, n in added.items() if n < 0} == {}  # nothing of the original is lost
    mark = Counter(squeeze("补　打补打时间2026年12月1日10时20分"))
    assert {c: n for c, n in added.items() if n > 0} == dict(mark)
    assert len(reprint_data) <= MAX_BYTES


def test_a_draft_is_stamped_and_watermarked_without_a_qr_code_and_otherwise_the_same() -> None:
    """What a duty leader looks at before signing: the signed layout, unmistakably a draft."""
    content = slip(number="〔签发时编号〕", qr_payload="")
    draft_data = render_slip(content, draft=True)
    plain = "".join(pages_text(render_slip(content)))
    draft = "".join(pages_text(draft_data))
    assert "草" in draft and "签发前预览" in draft and "草" not in plain
    assert "〔签发时编号〕" in draft and "补打" not in draft
    assert "签发后生成核验二维码" in squeeze(draft)  # the frame where the QR code will go
    added = Counter(squeeze(draft))
    added.subtract(Counter(squeeze(plain)))
    assert {c: n for c, n in added.items() if n < 0} == {}  # nothing of the paper is missing
    reader = PdfReader(io.BytesIO(draft_data))
    assert reader.metadata is not None and reader.metadata.title.endswith("（草稿）")
    xobjects = reader.pages[0]["/Resources"].get("/XObject", {})
    assert not [key for key in xobjects if QR_FORM_NAME in key]
    # A draft never carries a 补打 mark, even if asked for one.
    assert "补打" not in "".join(pages_text(render_slip(content, draft=True, reprint_at=NOW)))


def test_the_same_content_gives_the_same_bytes_and_out_is_written(tmp_path: Path) -> None:
    out = tmp_path / "交办单 12号.pdf"
    first = render_slip(slip(), out=out)
    assert render_slip(slip()) == first
    assert out.read_bytes() == first
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_fonts_are_embedded_subsets() -> None:
    reader = PdfReader(io.BytesIO(render_slip(slip())))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    names = [str(fonts[key].get_object()["/BaseFont"]) for key in fonts]
    assert names
    for name in names:
        assert re.match(r"/[A-Z]{6}\+", name), name  # subset prefix: embedded, not referenced


# --- QR code ------------------------------------------------------------------------------------


def _qr_matrix_from_pdf(data: bytes) -> list[list[bool]]:
    """Rebuild the module matrix from the filled rectangles of the QR form XObject."""
    page = PdfReader(io.BytesIO(data)).pages[0]
    xobjects = page["/Resources"]["/XObject"]
    names = [key for key in xobjects if QR_FORM_NAME in key]
    assert len(names) == 1, list(xobjects)
    form = xobjects[names[0]].get_object()
    llx, _lly, urx, _ury = (float(v) for v in form["/BBox"])
    size = urx - llx
    stream = form.get_data().decode("latin-1")
    number = r"(-?\d+(?:\.\d+)?)"
    rects = [
        tuple(float(v) for v in m.groups())
        for m in re.finditer(rf"{number} {number} {number} {number} re", stream)
    ]
    assert len(rects) > 50  # a real code, not a placeholder
    box = min(h for _, _, _, h in rects)
    count = round(size / box)
    matrix = [[False] * count for _ in range(count)]
    for x, y, w, _h in rects:
        row = round((size - y) / box) - 1
        first = round(x / box)
        for column in range(first, first + round(w / box)):
            matrix[row][column] = True
    return matrix


def test_the_qr_code_encodes_the_payload_and_is_not_text() -> None:
    data = render_slip(slip())
    text = "".join(pages_text(data))
    assert PAYLOAD not in text
    assert "3f3f3f" not in text
    widget = QrCodeWidget(PAYLOAD, barLevel="M")
    widget.qr.make()
    expected = [[bool(m) for m in row] for row in widget.qr.modules]
    assert _qr_matrix_from_pdf(data) == expected


def test_without_a_payload_there_is_no_qr_code() -> None:
    data = render_slip(slip(qr_payload=""))
    resources = PdfReader(io.BytesIO(data)).pages[0]["/Resources"]
    xobjects = resources.get("/XObject", {})
    assert not [key for key in xobjects if QR_FORM_NAME in key]
    assert "扫码核验" not in "".join(pages_text(data))


# --- rare characters ----------------------------------------------------------------------------


def _some_font_has(char: str) -> bool:
    fonts = register_fonts()
    return not missing_glyphs(char, fonts.chain(fonts.body))


def test_a_character_no_font_has_is_refused_by_name(tmp_path: Path) -> None:
    if _some_font_has("\U00020000"):
        pytest.skip("this machine has a font with U+20000")
    content = slip(complainant="李\U00020000")
    assert check_printable(content) == ["\U00020000"]
    out = tmp_path / "slip.pdf"
    with pytest.raises(UnprintableCharacters) as raised:
        render_slip(content, out=out)
    assert raised.value.characters == ("\U00020000",)
    message = str(raised.value)
    assert "U+20000" in message and "\U00020000" in message
    assert message.startswith("以下字符无法打印：\U00020000（U+20000）。")
    assert not out.exists()
    with pytest.raises(UnprintableCharacters, match=re.escape("U+20000")):
        render_receipt(receipt(complainant="李\U00020000"))
    with pytest.raises(UnprintableCharacters):
        render_slip(slip(assisting_departments=("杞县\U00020000局",)))


def test_the_qr_payload_is_not_checked_as_text() -> None:
    assert check_printable(slip(qr_payload="\U00020000")) == []


def test_an_extension_a_character_prints_with_the_bundled_font() -> None:
    if not _some_font_has("䶮"):
        pytest.skip("no installed font has U+4DAE")
    content = slip(complainant="刘䶮")
    assert check_printable(content) == []
    text = "".join(pages_text(render_slip(content)))
    assert "刘䶮" in text


# --- the 受理回执 ---------------------------------------------------------------------------------


def test_a_receipt_has_the_case_number_and_what_happens_next() -> None:
    data = render_receipt(receipt())
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert round(float(box.width)) == 420 and round(float(box.height)) == 595  # A5
    text = reader.pages[0].extract_text()
    for expected in (
        "受理回执",
        "杞县-2026-0012",
        "李强",
        "食品经营许可证变更多次补充材料仍未受理",
        "2026年11月25日9时30分",
        "王芳",
        "0371-28981234",
        "妥善保管",
    ):
        assert expected in text, expected
    assert squeeze("向承办单位交办并跟踪办理") in squeeze(text)
    assert len(data) <= MAX_BYTES


def test_a_receipt_is_written_atomically(tmp_path: Path) -> None:
    out = tmp_path / "回执.pdf"
    data = render_receipt(receipt(qr_payload=""), out=out)
    assert out.read_bytes() == data
    assert "扫码核验" not in "".join(pages_text(data))


# --- speed (printed, not asserted) --------------------------------------------------------------


def test_print_render_timings(capsys: pytest.CaptureFixture[str]) -> None:
    render_slip(slip())  # warm: fonts registered and parsed
    runs = 10
    started = time.perf_counter()
    for index in range(runs):  # a new payload each time: the QR code is encoded every time
        data = render_slip(slip(qr_payload=f"{PAYLOAD}{index}"))
    per_slip = (time.perf_counter() - started) / runs * 1000
    started = time.perf_counter()
    for index in range(runs):
        render_receipt(receipt(case_number=f"杞县-2026-{index:04d}"))
    per_receipt = (time.perf_counter() - started) / runs * 1000
    with capsys.disabled():
        print(
            f"\n[slip_pdf] slip {per_slip:.1f} ms, receipt {per_receipt:.1f} ms (warm), "
            f"slip {len(data) / 1024:.0f} KB"
        )


# --- GB/T 9704 page furniture (issue 14 item 8) -------------------------------------------------


def _lines(page: Any) -> list[tuple[str, float, float]]:
    """(text, x, y) of each line drawn on ``page``: where it starts, in page coordinates."""
    found: dict[tuple[float, float], str] = {}

    def visit(text: str, cm: list[float], tm: list[float], *_: Any) -> None:
        if text.strip():
            at = (round(cm[4] + tm[4], 2), round(cm[5] + tm[5], 2))
            found[at] = found.get(at, "") + text

    page.extract_text(visitor_text=visit)
    return [(text, x, y) for (x, y), text in found.items()]


def _width(text: str, size: float) -> float:
    """How wide the slip's body font (and its fallbacks, per glyph) sets ``text``."""
    from desktop_app.documents.fonts import font_runs, string_width

    fonts = register_fonts()
    return sum(
        string_width(run, font or fonts.body, size)
        for font, run in font_runs(text, fonts.chain(fonts.body))
    )


def test_page_numbers_sit_outside_one_character_in_7_mm_under_the_text_block() -> None:
    from desktop_app.documents.slip_pdf import BOTTOM_MARGIN, LEFT_MARGIN, RIGHT_MARGIN

    mm = 72 / 25.4
    data = render_slip(slip(matter_description=DESCRIPTION * 12))
    pages = PdfReader(io.BytesIO(data)).pages
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        label = f"— {number} —"
        footer = [(t, x, y) for t, x, y in _lines(page) if y < BOTTOM_MARGIN]
        assert len(footer) == 1 and footer[0][0] == label
        _, left, baseline = footer[0]
        if number % 2:  # odd: at the right, one 4号 character (14 pt) in from the text block
            assert left + _width(label, 14.0) == pytest.approx(A4[0] - RIGHT_MARGIN - 14, abs=0.5)
        else:  # even: at the left, one character in
            assert left == pytest.approx(LEFT_MARGIN + 14.0, abs=0.5)
        # The dashes (about 0.3 em above the baseline) 7 mm under the text block.
        assert BOTTOM_MARGIN - baseline - 0.3 * 14.0 == pytest.approx(7 * mm, abs=0.5)


def test_one_seal_area_holds_the_issuing_organ_and_the_date() -> None:
    page = PdfReader(io.BytesIO(render_slip(slip(issuer="杞县政务服务中心")))).pages[0]
    lines = _lines(page)
    ((organ_x, organ_y),) = [(x, y) for t, x, y in lines if t == "杞县政务服务中心"]
    ((date_x, date_y),) = [(x, y) for t, x, y in lines if t == "2026年11月25日"]
    organ_centre = organ_x + _width("杞县政务服务中心", 10.5) / 2
    date_centre = date_x + _width("2026年11月25日", 12.0) / 2
    assert organ_x > A4[0] / 2  # on the right, where the seal goes
    assert date_centre == pytest.approx(organ_centre, abs=1)  # centred together, one seal
    assert 0 < organ_y - date_y < 25  # the date just under the organ's name
    assert "（盖章）" in page.extract_text()


def test_the_adjustment_notice_is_one_page_signed_for_not_answered() -> None:
    content = slip(
        kind=PaperKind.ADJUST,
        number="杞纪窗调〔2026〕1号",
        earlier_number="杞纪窗交〔2026〕12号",
        requirements=(
            "因节假日安排调整，杞纪窗交〔2026〕12号的办理时限由2027年1月7日（暂定）调整为"
            "2027年1月6日（自2026年11月25日起算30个工作日）。原交办要求不变。"
        ),
    )
    pages = pages_text(render_slip(content))
    assert len(pages) == 1
    text = squeeze(pages[0])
    assert "“办不成事”事项时限调整通知" in text and "通知单号" in text
    assert "请按调整后的办理时限办结" in text
    stub = text.split("回执联")[-1]
    assert "签收人" in stub and "办理结果" not in stub


def test_every_printed_text_field_is_named_when_it_cannot_print() -> None:
    """A character no font draws is named by the field the clerk knows (版头, not 其他内容)."""
    from dataclasses import fields

    from desktop_app.documents.slip_pdf import FIELD_LABELS, unprintable_fields

    for kind in (SlipContent, ReceiptContent):
        for f in fields(kind):
            if f.name != "qr_payload" and f.type in ("str", "tuple[str, ...]"):
                assert f.name in FIELD_LABELS, f"{kind.__name__}.{f.name}"
    fonts = register_fonts()
    if missing_glyphs("\U00020000", fonts.chain(fonts.body)):
        found = unprintable_fields(slip(masthead="\U00020000政务服务中心"))
        assert found == [("版头", ["\U00020000"])]


def test_two_closing_marks_in_a_row_never_start_a_line() -> None:
    """ "增长87.8%）， 其中…" at every width a paragraph may have: the line broke before "），"
    (the bulletin's first paragraph, at 16 pt), since only the mark before the comma went down."""
    from desktop_app.documents.slip_pdf import NO_LINE_START, _Typesetter

    fonts = register_fonts()
    setter = _Typesetter(fonts)
    text = (
        "本期共受理反映事项462件（上期246件，增长87.8%），其中甄别不予受理或转办6件；"
        "已办结382件（办成300件，不能办已解释82件），撤回8件。"
    )
    for tenth in range(1200, 4000, 7):  # from a narrow table cell to a page
        lines = setter.lines(text, fonts.body, 16, tenth / 10)
        assert "".join(line.text for line in lines) == text
        for line in lines[1:]:
            assert line.text[0] not in NO_LINE_START, (tenth / 10, [x.text for x in lines])
