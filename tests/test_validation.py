"""Tests for desktop_app.domain.validation (身份证号, 统一社会信用代码, 电话).

Check characters are recomputed here with small implementations written independently of the
module (different formulation: weights derived from powers, no lookup tables), so a bug in the
module's tables cannot hide behind the same bug in the tests.
"""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop_app.domain.validation import (
    birth_date_from_id,
    check_credit_code,
    check_id_number,
    check_phone,
    credit_code_excusable,
    id_number_excusable,
    mask_id_number,
    mask_phone,
    normalize_code,
    normalize_credit_code,
    normalize_id_number,
    normalize_phone,
    normalize_text,
)

TODAY = datetime.date(2025, 6, 15)
FAST = settings(max_examples=150, deadline=None, database=None)

PROVINCES = [
    *range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47),
    *range(50, 55), *range(61, 66), 71, 81, 82, 83, 91,
]  # fmt: skip


# --------------------------------------------------------------------------- reference impls


def ref_id_check(first17: str) -> str:
    """ISO 7064 MOD 11-2: choose c so that sum(a_i * 2**(i-1)) ≡ 1 (mod 11), i counted from the
    right with the check character at i = 1."""
    total = sum(int(d) * 2 ** (18 - pos) for pos, d in enumerate(first17, start=1))
    for candidate in range(11):
        if (total + candidate) % 11 == 1:
            return "X" if candidate == 10 else str(candidate)
    raise AssertionError("unreachable")


def make_id(area: str, birth: str, seq: str = "123") -> str:
    first17 = area + birth + seq
    return first17 + ref_id_check(first17)


CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def ref_credit_check(first17: str) -> str:
    total = sum(CREDIT_ALPHABET.index(ch) * 3**i for i, ch in enumerate(first17))
    value = 31 - total % 31
    return "0" if value == 31 else CREDIT_ALPHABET[value]


def ref_org_check(first8: str) -> str:
    """GB 11714: C9 = 11 - MOD(sum(Ci * Wi), 11), 10 written X and 11 written 0."""
    weights = [3, 7, 9, 10, 5, 8, 4, 2]
    values = ["0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".index(ch) for ch in first8]
    value = 11 - sum(v * w for v, w in zip(values, weights, strict=True)) % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def make_credit_code(prefix: str, region: str, org8: str) -> str:
    """A code right in every part: prefix (two characters), region, organization code."""
    body = prefix + region + org8 + ref_org_check(org8)
    return body + ref_credit_check(body)


# GB 32100-2015 table 1 with amendment No. 1 (2016), and 民政's 村/居民委员会 (54, 55).
LISTED_PAIRS = [
    "11", "12", "13", "19", "21", "29", "31", "32", "33", "34", "35", "39", "41", "49",
    "51", "52", "53", "54", "55", "59", "61", "62", "69", "71", "72", "79", "81", "89",
    "91", "92", "93", "A1", "A9", "N1", "N2", "N3", "N9", "Y1",
]  # fmt: skip


# --------------------------------------------------------------------------- normalize_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  abc  ", "abc"),
        ("a \t\n  b\u3000\u3000c", "a b c"),
        ("旧版身份证，经核对（原件）无误；", "旧版身份证，经核对（原件）无误；"),
        ("\u3000张三\u3000", "张三"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_normalize_code_makes_full_width_half_width() -> None:
    assert normalize_code(" １２３ＡＢｃ ") == "123ABc"


# --------------------------------------------------------------------------- 身份证号


def test_reference_implementation_matches_published_samples() -> None:
    # Sample numbers printed in GB 11643-1999 and widely reproduced.
    assert ref_id_check("11010519491231002") == "X"
    assert ref_id_check("44052418800101001") == "4"


def test_published_sample_is_valid() -> None:
    assert check_id_number("11010519491231002X", TODAY) is None
    assert birth_date_from_id("11010519491231002X") == datetime.date(1949, 12, 31)


def test_published_1880_sample_has_right_check_digit_but_predates_1900() -> None:
    # 440524188001010014 is the standard's own example, but its 1880 birth date is outside the
    # 1900-onwards range this app accepts; the message must be about the date, not the check.
    message = check_id_number("440524188001010014", TODAY)
    assert message is not None
    assert "1900" in message
    assert "校验位" not in message
    assert birth_date_from_id("440524188001010014") == datetime.date(1880, 1, 1)


@pytest.mark.parametrize("wrong", list("0123456789"))
def test_every_wrong_check_digit_is_reported_with_the_right_one(wrong: str) -> None:
    assert check_id_number("11010519491231002" + wrong, TODAY) == "身份证号校验位不正确（应为 X）"


@pytest.mark.parametrize("wrong", [c for c in "0123456789X" if c != "8"])
def test_every_wrong_check_char_numeric_expected(wrong: str) -> None:
    number = make_id("410221", "19850704", "123")
    assert number == "410221198507041238"  # guard: the fixture has a numeric check digit
    assert check_id_number(number, TODAY) is None
    assert check_id_number(number[:17] + wrong, TODAY) == "身份证号校验位不正确（应为 8）"


@pytest.mark.parametrize(
    "typed",
    [
        "11010519491231002x",
        "１１０１０５１９４９１２３１００２Ｘ",
        "１１０１０５１９４９１２３１００２ｘ",
        " 110105 19491231 002X ",
        "110105\u300019491231\u3000002x",
        "\u200b11010519491231002X\ufeff",
    ],
)
def test_typing_variants_are_accepted_and_normalized(typed: str) -> None:
    assert check_id_number(typed, TODAY) is None
    assert normalize_id_number(typed) == "11010519491231002X"


def test_legacy_15_digit_number() -> None:
    assert check_id_number("110105491231002", TODAY) is None
    assert birth_date_from_id("110105491231002") == datetime.date(1949, 12, 31)


def test_legacy_15_digit_impossible_date() -> None:
    assert check_id_number("110105900230002", TODAY) == "身份证号中的出生日期 1990-02-30 不存在"
    assert birth_date_from_id("110105900230002") is None


def test_legacy_15_digit_cannot_end_in_x() -> None:
    message = check_id_number("11010549123100X", TODAY)
    assert message is not None
    assert "非法字符" in message


@pytest.mark.parametrize(
    ("birth", "shown"),
    [
        ("19900230", "1990-02-30"),
        ("20230229", "2023-02-29"),
        ("19000229", "1900-02-29"),  # 1900 is not a leap year (divisible by 100, not 400)
        ("19901301", "1990-13-01"),
        ("19900001", "1990-00-01"),
        ("19900100", "1990-01-00"),
        ("19900431", "1990-04-31"),
    ],
)
def test_impossible_birth_dates(birth: str, shown: str) -> None:
    number = make_id("410221", birth)
    assert check_id_number(number, TODAY) == f"身份证号中的出生日期 {shown} 不存在"
    assert birth_date_from_id(number) is None


@pytest.mark.parametrize("birth", ["20240229", "20000229", "19960229", "19900228"])
def test_leap_day_in_leap_years_is_fine(birth: str) -> None:
    number = make_id("410221", birth)
    assert check_id_number(number, TODAY) is None
    assert birth_date_from_id(number) == datetime.date(
        int(birth[:4]), int(birth[4:6]), int(birth[6:])
    )


def test_birth_date_after_today_is_rejected() -> None:
    tomorrow = TODAY + datetime.timedelta(days=1)
    number = make_id("410221", tomorrow.strftime("%Y%m%d"))
    assert check_id_number(number, TODAY) == "身份证号中的出生日期晚于今天"
    # The same number becomes valid once that day has come: `today` is really used.
    assert check_id_number(number, tomorrow) is None


def test_born_today_is_fine() -> None:
    assert check_id_number(make_id("410221", TODAY.strftime("%Y%m%d")), TODAY) is None


def test_before_1900_is_rejected_and_1900_01_01_is_fine() -> None:
    message = check_id_number(make_id("410221", "18991231"), TODAY)
    assert message is not None
    assert "早于1900" in message
    assert check_id_number(make_id("410221", "19000101"), TODAY) is None


@pytest.mark.parametrize("area", ["160105", "000000", "010105", "990105", "200105", "720101"])
def test_bad_province_prefix(area: str) -> None:
    message = check_id_number(make_id(area, "19850704"), TODAY)
    assert message is not None
    assert f"“{area[:2]}”" in message
    assert "地区" in message


@pytest.mark.parametrize("province", PROVINCES)
def test_every_listed_province_prefix_is_accepted(province: int) -> None:
    assert check_id_number(make_id(f"{province}0101", "19850704"), TODAY) is None


@pytest.mark.parametrize(
    ("typed", "bad"),
    [
        ("11010A19491231002X", "A"),
        ("1101051949-231002X", "-"),
        ("110105194912310O2X", "O"),
        ("11010519491231002😀", "😀"),
    ],
)
def test_letters_and_symbols_inside(typed: str, bad: str) -> None:
    assert check_id_number(typed, TODAY) == f"身份证号含有非法字符“{bad}”"


def test_x_not_in_last_position() -> None:
    message = check_id_number("1101051949123100X2", TODAY)
    assert message is not None
    assert "非法字符" in message
    assert "最后一位" in message


@pytest.mark.parametrize("typed", ["1101051949123100", "11010519491231002", "11010519491231002X1"])
def test_wrong_length(typed: str) -> None:
    message = check_id_number(typed, TODAY)
    assert message is not None
    assert message.startswith("身份证号应为18位（或旧版15位）")
    assert str(len(typed)) in message


@pytest.mark.parametrize("typed", ["", "   ", "\u3000"])
def test_empty_id_number(typed: str) -> None:
    assert check_id_number(typed, TODAY) == "身份证号不能为空"


def test_birth_date_from_id_ignores_check_digit_but_not_shape() -> None:
    assert birth_date_from_id("110105194912310021") == datetime.date(1949, 12, 31)
    assert birth_date_from_id("11010519491231002") is None
    assert birth_date_from_id("11010A19491231002X") is None
    assert birth_date_from_id("") is None


id_prefixes = st.builds(
    lambda province, rest, birth, seq: f"{province}{rest}{birth:%Y%m%d}{seq}",
    st.sampled_from(PROVINCES),
    st.integers(0, 9999).map("{:04d}".format),
    st.dates(min_value=datetime.date(1900, 1, 1), max_value=TODAY),
    st.integers(0, 999).map("{:03d}".format),
)


@FAST
@given(first17=id_prefixes, data=st.data())
def test_property_only_computed_check_char_is_accepted(first17: str, data: st.DataObject) -> None:
    good = ref_id_check(first17)
    assert check_id_number(first17 + good, TODAY) is None
    wrong = data.draw(st.sampled_from([c for c in "0123456789X" if c != good]))
    message = check_id_number(first17 + wrong, TODAY)
    assert message is not None
    assert "校验位" in message
    assert f"应为 {good}" in message


# --------------------------------------------------------------------------- 统一社会信用代码


def test_reference_credit_check_matches_published_examples() -> None:
    assert ref_credit_check("91350100M000100Y4") == "3"
    assert ref_credit_check("91110000600037341") == "L"


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y43",
        "91110000600037341L",
        "91350100m000100y43",
        " 9135 0100 M000 100Y 43 ",
        "９１３５０１００Ｍ０００１００Ｙ４３",
    ],
)
def test_valid_credit_codes(code: str) -> None:
    assert check_credit_code(code) is None


def test_normalize_credit_code() -> None:
    assert normalize_credit_code(" 9135 0100 m000 100y 43") == "91350100M000100Y43"
    assert normalize_credit_code("９１３５０１００ｍ０００１００ｙ４３") == "91350100M000100Y43"


@pytest.mark.parametrize("wrong", [c for c in CREDIT_ALPHABET if c != "3"])
def test_every_wrong_credit_check_char(wrong: str) -> None:
    message = check_credit_code("91350100M000100Y4" + wrong)
    assert message == "统一社会信用代码校验位不正确（应为 3）"


def test_check_value_31_maps_to_zero() -> None:
    # Find a body whose raw check value is exactly 31, the edge case spelled out in the standard
    # (the region varies, so the organization code keeps its own right check digit).
    body = next(
        f"91{region}600037341"
        for region in (f"{n:06d}" for n in range(110000, 120000))
        if sum(CREDIT_ALPHABET.index(c) * 3**i for i, c in enumerate(f"91{region}600037341")) % 31
        == 0
    )
    assert ref_credit_check(body) == "0"
    assert check_credit_code(body + "0") is None
    assert check_credit_code(body + "1") == "统一社会信用代码校验位不正确（应为 0）"


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_forbidden_letters(letter: str) -> None:
    code = "91350100M000100Y43"
    typed = code[:8] + letter + code[9:]
    assert check_credit_code(typed) == f"统一社会信用代码含有不允许的字符“{letter}”"
    # Lowercase is uppercased first, so the message names the capital letter.
    assert check_credit_code(typed.lower()) == f"统一社会信用代码含有不允许的字符“{letter}”"


@pytest.mark.parametrize("code", ["91350100M000100Y4", "91350100M000100Y433", "9135"])
def test_credit_code_wrong_length(code: str) -> None:
    message = check_credit_code(code)
    assert message is not None
    assert message.startswith("统一社会信用代码应为18位")


@pytest.mark.parametrize("first", list("BCDEFGHJKLMPQRTUWX0"))
def test_credit_code_bad_registration_authority(first: str) -> None:
    body = first + "1350100M000100Y4"
    message = check_credit_code(body + ref_credit_check(body))
    assert message is not None
    assert "登记管理部门" in message


# Issue 14 item 14: three kinds of invalid code that passed every check before.
@pytest.mark.parametrize(
    ("code", "message"),
    [
        (
            "94410221M000100Y4J",
            "统一社会信用代码第2位“4”不是登记管理部门“9”的机构类别代码",
        ),
        ("9141A221M000100Y4P", "统一社会信用代码第3至8位“41A221”应为6位数字的行政区划码"),
        (
            "91410221M000100Y5Y",
            "统一社会信用代码第9至17位的组织机构代码校验位不正确（应为 4）",
        ),
    ],
)
def test_invalid_codes_that_passed_before(code: str, message: str) -> None:
    assert code[17] == ref_credit_check(code[:17])  # the licence's own check character is right
    assert check_credit_code(code) == message


@pytest.mark.parametrize("prefix", LISTED_PAIRS)
def test_every_pair_the_standard_lists_is_accepted(prefix: str) -> None:
    assert check_credit_code(make_credit_code(prefix, "410221", "MA9UK2Q3")) is None


@pytest.mark.parametrize(
    "prefix",
    [a + c for a in "123456789ANY" for c in CREDIT_ALPHABET if a + c not in LISTED_PAIRS],
)
def test_every_pair_the_standard_does_not_list_is_refused(prefix: str) -> None:
    message = check_credit_code(make_credit_code(prefix, "410221", "MA9UK2Q3"))
    assert message is not None and "机构类别代码" in message


def test_organization_check_digit_x_and_zero() -> None:
    x_org = next(f"MA{n:06d}" for n in range(10**6) if ref_org_check(f"MA{n:06d}") == "X")
    zero_org = next(f"MA{n:06d}" for n in range(10**6) if ref_org_check(f"MA{n:06d}") == "0")
    for org8 in (x_org, zero_org):
        assert check_credit_code(make_credit_code("91", "410221", org8)) is None


def test_credit_code_empty() -> None:
    assert check_credit_code("") == "统一社会信用代码不能为空"


credit_bodies = st.builds(
    lambda prefix, region, org8: prefix + region + org8 + ref_org_check(org8),
    st.sampled_from(LISTED_PAIRS),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.text(alphabet=CREDIT_ALPHABET, min_size=8, max_size=8),
)


@FAST
@given(body=credit_bodies, data=st.data())
def test_property_credit_check_char(body: str, data: st.DataObject) -> None:
    good = ref_credit_check(body)
    assert check_credit_code(body + good) is None
    wrong = data.draw(st.sampled_from([c for c in CREDIT_ALPHABET if c != good]))
    message = check_credit_code(body + wrong)
    assert message == f"统一社会信用代码校验位不正确（应为 {good}）"


# --------------------------------------------------------------------------- 电话


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("13812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("86 13812345678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("19912345678", "19912345678"),
        ("010-12345678", "010-12345678"),
        ("010 12345678", "010-12345678"),
        ("0371-23456789", "0371-23456789"),
        ("0378-2345678", "0378-2345678"),
        ("(0378)2345678", "0378-2345678"),
        ("（0378）2345678", "0378-2345678"),
        ("0378—2345678", "0378-2345678"),
        ("03782345678", "0378-2345678"),
        ("01012345678", "010-12345678"),
        ("0378 234 5678", "0378-2345678"),
        ("0378-2345678转123", "0378-2345678转123"),
        ("0378-2345678 转 123", "0378-2345678转123"),
        ("0378-2345678-123", "0378-2345678转123"),
        ("021-62345678", "021-62345678"),
    ],
)
def test_valid_phones(typed: str, canonical: str) -> None:
    assert check_phone(typed) is None
    assert normalize_phone(typed) == canonical
    # Canonical forms are themselves valid and stable.
    assert check_phone(canonical) is None
    assert normalize_phone(canonical) == canonical


@pytest.mark.parametrize(
    "typed",
    [
        "138123456789",  # 12 digits
        "1381234567",  # 10 digits
        "12812345678",  # mobiles start 13-19
        "23812345678",  # starts with 2
        "2345678",  # missing area code
        "12345",  # service number: cannot call the complainant back
        "110",
        "0378-234567",  # local number too short
        "0378-234567890",  # local number too long
        "0378-0345678",  # local numbers never start with 0
        "037-12345678",  # no 2-digit area code 037
        "0211-2345678",  # 021 is a 2-digit code; 0211 does not exist
        "13812345678转1",  # mobiles have no extension
        "0378-2345678-12转34",  # two extensions
        "abc",
        "电话",
        "😀",
    ],
)
def test_invalid_phones(typed: str) -> None:
    message = check_phone(typed)
    assert message is not None
    assert message.startswith(("电话", "手机号", "固定电话"))
    # Invalid input is kept (tidied) rather than dropped.
    assert normalize_phone(typed) == normalize_code(typed)


def test_phone_messages() -> None:
    assert check_phone("") == "电话不能为空"
    assert check_phone("  ") == "电话不能为空"
    assert check_phone("138123456789") == "手机号应为11位，当前为12位"
    assert check_phone("2345678") == "固定电话需要加区号（如 0378-1234567）"
    assert check_phone("12345") == "电话应为11位手机号或带区号的固定电话（如 0378-1234567）"


# --------------------------------------------------------------------------- masks


@pytest.mark.parametrize(
    ("typed", "masked"),
    [
        ("41022119850704123X", "410221********123X"),
        ("41022119850704123x", "410221********123X"),
        ("110105491231002", "110105******002"),
        ("1234567", "***4567"),
        ("1234", "****"),
        ("", ""),
    ],
)
def test_mask_id_number(typed: str, masked: str) -> None:
    assert mask_id_number(typed) == masked


@pytest.mark.parametrize(
    ("typed", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+86 138 1234 5678", "138****5678"),
        ("0378-2345678", "0378-***5678"),
        ("010-12345678", "010-****5678"),
        ("(0378)2345678转123", "0378-***5678"),
        ("12345", "*2345"),
        ("", ""),
    ],
)
def test_mask_phone(typed: str, masked: str) -> None:
    assert mask_phone(typed) == masked


# --------------------------------------------------------------------------- robustness


ALL_STRING_FUNCTIONS = [
    normalize_text,
    normalize_id_number,
    birth_date_from_id,
    check_credit_code,
    normalize_credit_code,
    check_phone,
    normalize_phone,
    mask_id_number,
    mask_phone,
]


@pytest.mark.parametrize("typed", ["\ud800", "\x00", "ß" * 18, "٣" * 18, "①" * 11, "(", "转"])
def test_odd_inputs_do_not_raise(typed: str) -> None:
    for func in ALL_STRING_FUNCTIONS:
        func(typed)
    message = check_id_number(typed, TODAY)
    assert message is None or message.startswith("身份证号")


def test_non_ascii_digits_are_not_digits() -> None:
    # Arabic-Indic digits survive NFKC; they must not sneak through as ID or phone digits.
    assert check_id_number("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", TODAY) is not None
    assert check_phone("١٣٨١٢٣٤٥٦٧٨") is not None
    assert check_phone("0378-2345678转١٢٣") is not None


@FAST
@given(typed=st.text(max_size=40))
def test_property_never_raises(typed: str) -> None:
    for func in ALL_STRING_FUNCTIONS:
        func(typed)
    result = check_id_number(typed, TODAY)
    assert result is None or result.startswith("身份证号")


# --------------------------------------------------------------------------- what a reason excuses


@pytest.mark.parametrize(
    "number",
    ["11010519491231002X", "110105194912310021", "11010519491231002x", "110105491231002"],
)
def test_a_reason_may_excuse_only_a_wrong_check_digit(number: str) -> None:
    assert id_number_excusable(number, TODAY)


@pytest.mark.parametrize(
    "number",
    [
        "123456",  # wrong length (issue 12 item 10: saved with the reason "test")
        "1101051949123100",
        "11010519491231002XX",
        "1101051949123100２A",  # bad character
        "11010519491X31002X",  # X inside
        "990105194912310021",  # no such province
        "110105194902300021",  # 30 February
        "110105187001010021",  # before 1900
        "110105203001010021",  # born after today
        "",
    ],
)
def test_a_reason_never_excuses_a_number_that_cannot_be_an_id(number: str) -> None:
    assert check_id_number(number, TODAY) is not None
    assert not id_number_excusable(number, TODAY)


def test_a_reason_may_excuse_only_the_embedded_organization_codes_check_digit() -> None:
    """Issue 14 item 14: a real licence may carry an organization code given before GB 11714
    was enforced; every other problem is a typing error or no code at all."""
    assert credit_code_excusable("91350100M000100Y43")
    org_fails = make_credit_code("91", "410221", "M000100Y")[:16]
    org_fails += "5" + ref_credit_check(org_fails + "5")
    assert check_credit_code(org_fails) is not None
    assert credit_code_excusable(org_fails)
    assert not credit_code_excusable("91350100M000100Y44")  # the licence's check character
    assert not credit_code_excusable("B1350100M000100Y43")  # no such registration authority
    assert not credit_code_excusable("94410221M000100Y4J")  # 工商 has no category 4
    assert not credit_code_excusable("9141A221M000100Y4P")  # a letter in the region code
    assert not credit_code_excusable("91350100M000100Y4")  # 17 characters
    assert not credit_code_excusable("91350100M000100I43")  # I is not in the alphabet
