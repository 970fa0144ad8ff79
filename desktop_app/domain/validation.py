"""Checking and tidying what people type into identity fields.

Covers the 居民身份证号 (GB 11643-1999), the 统一社会信用代码 (GB 32100-2015) and Chinese
telephone numbers.  Every ``check_*`` function returns ``None`` when the value is acceptable and
otherwise one Simplified-Chinese sentence that a clerk can read out to the complainant, so the
UI never has to translate error codes.  Nothing here raises on arbitrary user input.

Callers decide whether a field is optional: an empty string is reported as "不能为空" and it is
up to the form to skip the check for blank optional fields.
"""

from __future__ import annotations

import datetime
import re
import unicodedata

__all__ = [
    "CREDIT_CODE_ALPHABET",
    "birth_date_from_id",
    "check_credit_code",
    "check_id_number",
    "check_phone",
    "credit_check_char",
    "credit_code_excusable",
    "id_check_char",
    "id_number_excusable",
    "mask_id_number",
    "mask_phone",
    "normalize_code",
    "normalize_credit_code",
    "normalize_id_number",
    "normalize_phone",
    "normalize_text",
    "org_code_check_char",
    "text_problem",
]

_DIGITS = frozenset("0123456789")


# --------------------------------------------------------------------------- shared helpers


def normalize_text(value: str) -> str:
    """Tidy free text typed by a person: trim, and collapse whitespace runs to one space.

    Chinese full-width punctuation (，；：（）) is kept: it is correct in Chinese text and on
    official paper. The ideographic space U+3000 counts as whitespace.

    Control characters that ``str.split`` takes for whitespace (form feed, the separators
    U+001C–U+001F, NEL) are kept, for :func:`text_problem` to refuse rather than to be tidied
    into spaces; tabs and line breaks are collapsed like spaces.

    Args:
        value: Raw text from a form field.

    Returns:
        The normalized text.
    """
    return _SPACE_RUN.sub(" ", value).strip(" ")


# Whitespace runs, except the control characters a person never types (see normalize_text).
_SPACE_RUN = re.compile(r"[^\S\x0b\x0c\x1c-\x1f\x85]+")


def normalize_code(value: str) -> str:
    """Tidy a code (ID number, credit code, phone): NFKC first, then :func:`normalize_text`.

    NFKC turns full-width digits and letters, which Chinese input methods often produce, into
    their half-width forms.
    """
    return normalize_text(unicodedata.normalize("NFKC", value))


def _compact(value: str) -> str:
    """normalize_code, then drop all whitespace and invisible format characters.

    Values copied from web pages or spreadsheets often carry zero-width spaces, BOMs or
    direction marks (Unicode category Cf); they are invisible, so reporting them as "illegal
    characters" would only confuse the clerk.
    """
    text = normalize_code(value)
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf")


def _show(ch: str) -> str:
    """Render one character for an error message, spelling out invisible ones."""
    if ch.isprintable():
        return ch
    return f"U+{ord(ch):04X}"


# Explicit direction controls (embeddings, overrides, isolates): typed by no input method, they make
# text display in another order than it is stored (a name that reads right but searches wrong).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Line breaks and tabs are typed in a multi-line box; in a one-line box normalize_text makes them
# spaces before the check, so they are allowed here for both.
_TYPED_CONTROLS = frozenset("\t\n\r")
# Letters and symbols that draw nothing, though neither spaces nor format characters: the Hangul
# fillers and the blank Braille pattern (a name of U+3164 alone looks empty on every screen).
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Format characters and marks drawn on the character before them (variation selectors, the
# combining grapheme joiner, Mongolian free variation selectors): alone, they show nothing.
_DRAWN_ON_OTHERS = frozenset({"Cf", "Mn", "Me"})


def text_problem(value: str) -> str | None:
    """Why ``value`` is not text a person could type into a form box, or None when it is.

    Refused: control characters (NUL and the rest of Unicode category Cc, line breaks and tabs
    excepted), halves of a UTF-16 surrogate pair (a JSON file's lone ``"\\ud800"``), the direction
    controls U+202A–U+202E and U+2066–U+2069, and text with no visible character at all (only
    zero-width spaces or joiners, Hangul fillers, the blank Braille pattern). Other invisible
    format characters inside visible text (a zero-width joiner in an emoji) are left alone: the
    ID and phone checks drop them.

    Returns:
        None, or one Chinese sentence naming the first offending character by its code point.
    """
    for ch in value:
        category = unicodedata.category(ch)
        if category == "Cc" and ch not in _TYPED_CONTROLS:
            return f"含有控制字符 U+{ord(ch):04X}（看不见，多为从别处复制或导出时带入），请删去"
        if category == "Cs":
            return f"含有无效字符 U+{ord(ch):04X}（不成对的代理码，文件编码有误），请检查原文件"
        if ch in _BIDI_CONTROLS:
            return (
                f"含有改变文字方向的控制字符 U+{ord(ch):04X}"
                "（会使显示的文字与实际内容不同），请删去"
            )
    if value.strip() and all(
        ch.isspace() or unicodedata.category(ch) in _DRAWN_ON_OTHERS or ch in _BLANK_LOOKING
        for ch in value
    ):
        return "只有看不见的字符（如零宽空格），请填写实际内容"
    return None


def _mask_tail(value: str, keep: int = 4) -> str:
    """Star everything except the last ``keep`` characters.

    A value no longer than ``keep`` is starred entirely: "keeping the last four" of a
    four-character value would reveal all of it.
    """
    if len(value) <= keep:
        return "*" * len(value)
    return "*" * (len(value) - keep) + value[-keep:]


# --------------------------------------------------------------------------- 居民身份证号

# GB/T 2260 province-level prefixes; 71 台湾, 81/82/83 港澳台居民居住证, 91 外国人永久居留身份证.
_PROVINCE_PREFIXES = frozenset(
    [
        *(str(n) for n in range(11, 16)),
        *(str(n) for n in range(21, 24)),
        *(str(n) for n in range(31, 38)),
        *(str(n) for n in range(41, 47)),
        *(str(n) for n in range(50, 55)),
        *(str(n) for n in range(61, 66)),
        "71",
        "81",
        "82",
        "83",
        "91",
    ]
)

# ISO 7064 MOD 11-2: weight of position i (0-based, left to right) is 2**(17 - i) mod 11.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Indexed by (weighted sum mod 11): the check character that makes the total ≡ 1 (mod 11).
_ID_CHECK_CHARS = "10X98765432"
_EARLIEST_BIRTH = datetime.date(1900, 1, 1)


def normalize_id_number(value: str) -> str:
    """Canonical form of a 身份证号: half-width, no spaces, check character ``X`` uppercase.

    Args:
        value: Raw text from a form field.

    Returns:
        The compacted number (not validated).
    """
    return _compact(value).replace("x", "X")


def _id_check_char(first17: str) -> str:
    """The GB 11643 check character for 17 ASCII digits."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def id_check_char(first17: str) -> str:
    """The GB 11643 check character that completes 17 digits (for making numbers: demo data)."""
    return _id_check_char(first17)


def _id_birth_digits(number: str) -> str | None:
    """The YYYYMMDD birth-date digits of a well-formed 15- or 18-character number."""
    if len(number) == 18 and set(number[:17]) <= _DIGITS and number[17] in "0123456789X":
        return number[6:14]
    if len(number) == 15 and set(number) <= _DIGITS:
        # Legacy numbers were issued before 2000 and carry a two-digit year in the 1900s.
        return "19" + number[6:12]
    return None


def _parse_yyyymmdd(digits: str) -> datetime.date | None:
    try:
        return datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:  # Feb 30, month 13, year 0000 …
        return None


def check_id_number(value: str, today: datetime.date) -> str | None:
    """Validate a 居民身份证号 (GB 11643-1999), 18-character or legacy 15-digit.

    Checks, in order: characters, length, position of ``X``, province prefix, that the birth
    date exists and lies between 1900-01-01 and ``today``, and (18 characters only) the
    ISO 7064 MOD 11-2 check character.

    Args:
        value: The number as typed; it is normalized first (full-width digits, lowercase x,
            spaces are all accepted).
        today: The current date, passed in so that results do not depend on the clock.

    Returns:
        None when valid, otherwise one Chinese message describing the first problem found.
    """
    problem = _id_problem(normalize_id_number(value), today)
    return problem[0] if problem else None


def id_number_excusable(value: str, today: datetime.date) -> bool:
    """Whether a recorded reason may excuse this 身份证号's problem (True when it has none).

    Only a wrong check character is excusable: cards were issued with miscalculated check
    digits, and such a card is real. A number of the wrong length, with characters other than
    digits and a final X, an unknown province or a birth date that does not exist cannot be on
    any card, so no reason makes it one (a "123456" saved with the reason "test" is not an ID).
    """
    problem = _id_problem(normalize_id_number(value), today)
    return problem is None or problem[1]


def _id_problem(number: str, today: datetime.date) -> tuple[str, bool] | None:
    """(message, excusable) for the first problem of a normalized number; None when valid."""
    if not number:
        return "身份证号不能为空", False
    for ch in number:
        if ch not in _DIGITS and ch != "X":
            return f"身份证号含有非法字符“{_show(ch)}”", False
    if len(number) not in (15, 18):
        return f"身份证号应为18位（或旧版15位），当前为{len(number)}位", False
    if "X" in number[:-1] or (len(number) == 15 and number.endswith("X")):
        return "身份证号含有非法字符：X 只能出现在18位号码的最后一位", False

    province = number[:2]
    if province not in _PROVINCE_PREFIXES:
        return f"身份证号前两位“{province}”不是有效的省级地区代码", False

    digits = _id_birth_digits(number)
    if digits is None:  # unreachable after the checks above; kept so we never raise
        return "身份证号格式不正确", False
    birth = _parse_yyyymmdd(digits)
    if birth is None:
        return f"身份证号中的出生日期 {digits[:4]}-{digits[4:6]}-{digits[6:]} 不存在", False
    if birth < _EARLIEST_BIRTH:
        return f"身份证号中的出生日期 {birth.isoformat()} 早于1900年", False
    if birth > today:
        return "身份证号中的出生日期晚于今天", False

    if len(number) == 18:
        expected = _id_check_char(number[:17])
        if number[17] != expected:
            return f"身份证号校验位不正确（应为 {expected}）", True
    return None


def birth_date_from_id(value: str) -> datetime.date | None:
    """The birth date encoded in a 身份证号.

    Only the shape (15 digits, or 17 digits plus a digit or ``X``) and the date itself are
    checked; the check character and area code are not, so a number with a mistyped check
    digit still yields its date. Use :func:`check_id_number` to validate.

    Args:
        value: The number as typed.

    Returns:
        The birth date, or None if the value has the wrong shape or the date does not exist.
    """
    digits = _id_birth_digits(normalize_id_number(value))
    if digits is None:
        return None
    return _parse_yyyymmdd(digits)


def mask_id_number(value: str) -> str:
    """Mask a 身份证号 for display, e.g. ``410221********123X``.

    18 characters keep the first 6 and last 4; 15 keep the first 6 and last 3; anything else
    keeps only the last 4 (and is fully starred if it has 4 characters or fewer).

    Args:
        value: The number as stored or typed.

    Returns:
        The masked, normalized number.
    """
    number = normalize_id_number(value)
    if len(number) == 18:
        return number[:6] + "*" * 8 + number[-4:]
    if len(number) == 15:
        return number[:6] + "*" * 6 + number[-3:]
    return _mask_tail(number)


# --------------------------------------------------------------------------- 统一社会信用代码

# GB 32100-2015 alphabet: digits and capitals without I, O, Z, S, V; a character's value is its
# index here.
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_ALPHABET = _CREDIT_ALPHABET
_CREDIT_VALUES = {ch: i for i, ch in enumerate(_CREDIT_ALPHABET)}
# Weight of position i is 3**i mod 31.
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# 登记管理部门代码 (1st character) → the 机构类别代码 (2nd) it may be followed by: GB 32100-2015
# table 1 with its 第1号修改单 (2016, adding A 中央军委改革和编制办公室 and N 农业); 54/55 are the
# 村民委员会 and 居民委员会 the 民政 departments registered after it, codes county offices meet.
# Sources: the standard as published by CODS (https://www.cods.org.cn/c/2020-10-29/12575.html and
# …/12574.html), as tabulated in the uscc-utils package (https://app.unpkg.com/uscc-utils@0.7.0)
# and https://blog.csdn.net/Syracuse123_/article/details/127120513 (for 54 and 55).
_CREDIT_CATEGORIES: dict[str, frozenset[str]] = {
    "1": frozenset("1239"),  # 机构编制: 机关, 事业单位, 编办直管的群众团体, 其他
    "2": frozenset("19"),  # 外交: 外国常驻新闻机构, 其他
    "3": frozenset("123459"),  # 司法行政: 律所, 公证处, 基层法律服务所, 司法鉴定, 仲裁委, 其他
    "4": frozenset("19"),  # 文化: 外国在华文化中心, 其他
    "5": frozenset("123459"),  # 民政: 社团, 民非, 基金会, 村委会, 居委会, 其他
    "6": frozenset("129"),  # 旅游: 外国/港澳台旅游部门常驻代表机构, 其他
    "7": frozenset("129"),  # 宗教: 宗教活动场所, 宗教院校, 其他
    "8": frozenset("19"),  # 工会: 基层工会, 其他
    "9": frozenset("123"),  # 工商: 企业, 个体工商户, 农民专业合作社
    "A": frozenset("19"),  # 中央军委改革和编制办公室: 军队事业单位, 其他
    "N": frozenset("1239"),  # 农业: 组级, 村级, 乡镇级集体经济组织, 其他
    "Y": frozenset("1"),  # 其他
}
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def normalize_credit_code(value: str) -> str:
    """Canonical form of a 统一社会信用代码: half-width, no spaces, uppercase.

    Only ASCII letters are uppercased so that exotic characters keep their identity (and
    length) for the error message.

    Args:
        value: Raw text from a form field.

    Returns:
        The compacted code (not validated).
    """
    return _compact(value).translate(_ASCII_UPPER)


def _credit_check_char(first17: str) -> str:
    """The GB 32100 check character for 17 characters from the code alphabet."""
    total = sum(_CREDIT_VALUES[ch] * w for ch, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    # 31 - (total mod 31) is in 1..31; 31 stands for "0", which the final mod 31 produces.
    return _CREDIT_ALPHABET[(31 - total % 31) % 31]


def credit_check_char(first17: str) -> str:
    """The GB 32100 check character that completes 17 characters of the code alphabet."""
    return _credit_check_char(first17)


# GB 11714: the organization code inside a credit code (digits and capitals, A = 10, ...).
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def org_code_check_char(first8: str) -> str:
    """The GB 11714 check character of an organization code's 8 characters: weights
    3,7,9,10,5,8,4,2, then 11 - (sum mod 11), written X for 10 and 0 for 11."""
    total = sum(int(ch, 36) * w for ch, w in zip(first8, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def check_credit_code(value: str) -> str | None:
    """Validate a 统一社会信用代码 (GB 32100-2015) in full.

    Checks the alphabet, the length, that the first two characters are a registration
    authority and an institution category the standard pairs, that the region code is six
    digits, the check character, and the GB 11714 check digit of the embedded organization code
    (9th–17th characters).

    Args:
        value: The code as typed; lowercase and full-width characters are accepted.

    Returns:
        None when valid, otherwise one Chinese message describing the first problem found.
    """
    problem = _credit_problem(normalize_credit_code(value))
    return problem[0] if problem else None


def credit_code_excusable(value: str) -> bool:
    """Whether a recorded reason may excuse this 统一社会信用代码's problem (True when it has
    none). Only the embedded organization code's own check digit is excusable: codes given
    before GB 11714 was enforced live on in real licences, and the licence's own check character
    still proves the whole was copied right. Every other problem is a typing error or no code."""
    problem = _credit_problem(normalize_credit_code(value))
    return problem is None or problem[1]


def _credit_problem(code: str) -> tuple[str, bool] | None:
    """(message, excusable) for the first problem of a normalized code; None when valid."""
    if not code:
        return "统一社会信用代码不能为空", False
    for ch in code:
        if ch not in _CREDIT_VALUES:
            return f"统一社会信用代码含有不允许的字符“{_show(ch)}”", False
    if len(code) != 18:
        return f"统一社会信用代码应为18位，当前为{len(code)}位", False
    categories = _CREDIT_CATEGORIES.get(code[0])
    if categories is None:
        return f"统一社会信用代码第1位“{code[0]}”不是有效的登记管理部门代码", False
    if code[1] not in categories:
        return (
            f"统一社会信用代码第2位“{code[1]}”不是登记管理部门“{code[0]}”的机构类别代码",
            False,
        )
    if not set(code[2:8]) <= _DIGITS:
        return f"统一社会信用代码第3至8位“{code[2:8]}”应为6位数字的行政区划码", False
    expected = _credit_check_char(code[:17])
    if code[17] != expected:
        return f"统一社会信用代码校验位不正确（应为 {expected}）", False
    # The license's own check character has passed, so a failing organization code was copied
    # right: a code given before its rule was enforced, which a reason may excuse.
    org_expected = org_code_check_char(code[8:16])
    if code[16] != org_expected:
        return (
            f"统一社会信用代码第9至17位的组织机构代码校验位不正确（应为 {org_expected}）",
            True,
        )
    return None


# --------------------------------------------------------------------------- 电话

_PHONE_MESSAGE = "电话应为11位手机号或带区号的固定电话（如 0378-1234567）"
# Dash look-alikes that NFKC leaves alone but people type between digit groups.
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−﹘", "-"))

# re.ASCII everywhere: \d would otherwise accept e.g. Arabic-Indic digits, which NFKC keeps.
_MOBILE_RE = re.compile(r"(?:\+86|0086|86)?(1[3-9]\d{9})", re.ASCII)
# Main number, optionally followed by an extension written as 转123 / 分机123.
_EXTENSION_RE = re.compile(r"(?P<main>.+?)(?:\s*(?:转|分机)\s*(?P<ext>\d{1,6}))?", re.ASCII)
# An extension written with a dash ("0378-2345678-123") is only recognised after a dash, never
# after a space: "010 1234567 8" is far more likely a badly spaced 010-12345678.
_SEP = r"(?:\s?-\s?|\s)"
_DASH_EXT = r"(?:\s?-\s?(\d{1,6}))?"
_LANDLINE_PAREN_RE = re.compile(rf"\((0\d{{2,3}})\){_SEP}?(\d{{7,8}}){_DASH_EXT}", re.ASCII)
_LANDLINE_SEP_RE = re.compile(rf"(0\d{{2,3}}){_SEP}(\d{{7,8}}){_DASH_EXT}", re.ASCII)
_LANDLINE_BARE_RE = re.compile(r"0\d{9,11}", re.ASCII)


def _area_code_ok(area: str) -> bool:
    """Whether ``area`` (with its leading 0) fits the Chinese numbering plan.

    Two-digit codes exist only for Beijing (010) and the 02x cities; every other area has a
    three-digit code starting 3-9. This also makes an unseparated number unambiguous.
    """
    if len(area) == 3:
        return area == "010" or area[1] == "2"
    return len(area) == 4 and area[1] in "3456789"


def _parse_phone(value: str) -> tuple[str, str, str] | None:
    """Split a phone number into (area, number, extension).

    Mobiles come back as ("", 11 digits, ""); landlines as (area code with 0, local
    number, extension or ""). None when the value is neither.
    """
    text = normalize_code(value).translate(_DASHES)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")

    mobile = _MOBILE_RE.fullmatch(re.sub(r"[\s\-()]", "", text))
    if mobile:
        return "", mobile.group(1), ""

    split = _EXTENSION_RE.fullmatch(text)
    if split is None:
        return None
    main, ext = split.group("main"), split.group("ext") or ""

    parts: tuple[str, str, str] | None = None
    for pattern in (_LANDLINE_PAREN_RE, _LANDLINE_SEP_RE):
        m = pattern.fullmatch(main)
        if m:
            parts = (m.group(1), m.group(2), m.group(3) or "")
            break
    if parts is None:
        # Digits possibly broken up as "(0378) 234 5678": the area code length follows from
        # the numbering plan, so the separators are not needed to find it.
        bare = re.sub(r"[\s\-()]", "", main)
        if not _LANDLINE_BARE_RE.fullmatch(bare):
            return None
        area_len = 3 if bare[1] in "12" else 4
        parts = (bare[:area_len], bare[area_len:], "")

    area, local, dash_ext = parts
    if dash_ext and ext:  # "0378-2345678-12转34": two extensions
        return None
    if not _area_code_ok(area) or not 7 <= len(local) <= 8 or local[0] == "0":
        return None
    return area, local, ext or dash_ext


def check_phone(value: str) -> str | None:
    """Validate a complainant's phone: a mainland mobile or a landline with area code.

    Accepted: ``13812345678``, ``+86 138 1234 5678``, ``0378-2345678``, ``010 12345678``,
    ``(0378)2345678``, ``0378-2345678转123``, ``0378-2345678-123``. Short service numbers
    (12345, 110) are rejected on purpose: the window has to be able to call the person back.

    Args:
        value: The number as typed.

    Returns:
        None when valid, otherwise one Chinese message.
    """
    text = normalize_text(value)
    if not text:
        return "电话不能为空"
    if _parse_phone(text) is not None:
        return None
    digits = re.sub(r"[\s\-()]", "", text.translate(_DASHES))
    if set(digits) <= _DIGITS:
        # Looks like a mobile with a digit missing or doubled; short service numbers such as
        # 12345 get the general message instead.
        if re.match(r"1[3-9]", digits) and 9 <= len(digits) <= 13:
            return f"手机号应为11位，当前为{len(digits)}位"
        if 7 <= len(digits) <= 8 and digits[0] != "0":
            return "固定电话需要加区号（如 0378-1234567）"
    return _PHONE_MESSAGE


def normalize_phone(value: str) -> str:
    """Canonical form of a phone number.

    Mobiles become 11 digits (``13812345678``); landlines ``0378-2345678``, with any extension
    appended as ``转123``. A value that is not a valid phone is returned merely tidied with
    :func:`normalize_code`, so that saving never loses what the person typed.

    Args:
        value: The number as typed.

    Returns:
        The canonical number, or the tidied input if it is not a valid phone.
    """
    parsed = _parse_phone(value)
    if parsed is None:
        return normalize_code(value)
    area, local, ext = parsed
    if not area:
        return local
    return f"{area}-{local}" + (f"转{ext}" if ext else "")


def mask_phone(value: str) -> str:
    """Mask a phone number for display.

    Mobiles become ``138****5678``; landlines keep the area code and the last 4 digits
    (``0378-***5678``), and the extension is dropped. Anything else keeps only its last 4
    characters.

    Args:
        value: The number as stored or typed.

    Returns:
        The masked number.
    """
    parsed = _parse_phone(value)
    if parsed is None:
        return _mask_tail(_compact(value))
    area, local, _ext = parsed
    if not area:
        return local[:3] + "****" + local[-4:]
    return f"{area}-{_mask_tail(local)}"
