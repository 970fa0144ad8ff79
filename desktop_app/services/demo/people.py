"""Demo people: names that fit a person's sex and generation, 身份证号, enterprises with
统一社会信用代码, mobile and landline numbers, villages and addresses.

The check characters come from :mod:`desktop_app.domain.validation`, the same code that checks
what a clerk types, so every generated number passes intake's checks.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence
from datetime import date

from desktop_app.domain.validation import (
    CREDIT_CODE_ALPHABET,
    credit_check_char,
    id_check_char,
    org_code_check_char,
)
from desktop_app.services.demo.weights import cumulative, pick, weighted

VILLAGE_SUFFIXES = ("庄", "寨", "楼", "营", "集", "屯", "岗", "店", "口", "湾")

SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 7.5), ("李", 7.0), ("张", 7.0), ("刘", 5.5), ("陈", 3.0), ("杨", 3.0), ("赵", 2.6),
    ("黄", 1.4), ("周", 1.5), ("吴", 1.2), ("徐", 1.3), ("孙", 1.4), ("胡", 1.1), ("朱", 1.1),
    ("高", 1.2), ("林", 0.5), ("何", 0.8), ("郭", 1.3), ("马", 1.2), ("罗", 0.5), ("梁", 0.6),
    ("宋", 0.9), ("郑", 0.8), ("谢", 0.5), ("韩", 0.7), ("唐", 0.5), ("冯", 0.7), ("于", 0.5),
    ("董", 0.5), ("程", 0.5), ("曹", 0.6), ("袁", 0.4), ("邓", 0.4), ("许", 0.6), ("沈", 0.3),
    ("曾", 0.2), ("彭", 0.4), ("吕", 0.5), ("苏", 0.3), ("卢", 0.3), ("蒋", 0.3), ("蔡", 0.3),
    ("贾", 0.5), ("丁", 0.4), ("魏", 0.5), ("薛", 0.3), ("叶", 0.2), ("阎", 0.3), ("潘", 0.3),
    ("杜", 0.3), ("夏", 0.2), ("田", 0.4), ("任", 0.4), ("姜", 0.3), ("范", 0.3), ("方", 0.3),
    ("石", 0.3), ("姚", 0.3), ("郝", 0.3), ("孔", 0.3), ("白", 0.3), ("崔", 0.3), ("毛", 0.2),
    ("秦", 0.2), ("史", 0.3), ("侯", 0.3), ("孟", 0.3), ("雷", 0.3), ("常", 0.3), ("武", 0.3),
    ("乔", 0.3), ("申", 0.2), ("牛", 0.3), ("聂", 0.2), ("耿", 0.2), ("司马", 0.02),
    ("欧阳", 0.02),
)  # fmt: skip

_MALE_OLD = (
    "建国", "建军", "国强", "志强", "保国", "长青", "德胜", "卫东", "新民", "振华", "国庆",
    "保全", "春生", "喜才", "福来", "永胜", "国华", "建设", "学军", "水利", "金山", "全喜",
)  # fmt: skip
_FEMALE_OLD = (
    "秀英", "桂兰", "玉兰", "秀兰", "桂英", "凤英", "玉梅", "秀珍", "淑珍", "翠花", "春梅",
    "红梅", "素芳", "爱华", "秀云", "玉珍", "桂芳", "美兰", "金凤", "秀荣", "爱琴", "俊英",
)  # fmt: skip
_MALE_MIDDLE = (
    "志强", "明辉", "建华", "海涛", "晓东", "鹏飞", "国栋", "永刚", "新华", "春雷", "振宇",
    "宏伟", "海波", "晓峰", "建伟", "立新", "学文", "振东", "金龙", "文杰", "俊峰", "伟东",
    "亚东", "鹏程", "志勇", "世杰", "东升", "永强", "亚军", "少华", "红亮", "向阳", "旭东",
    "国伟", "宏亮", "耀文", "家豪", "俊杰", "文博", "志刚", "长江", "庆丰", "保平", "朝晖",
)  # fmt: skip
_FEMALE_MIDDLE = (
    "丽娟", "晓燕", "红霞", "海燕", "丽华", "春燕", "慧敏", "静怡", "婷婷", "丹丹", "晶晶",
    "莉莉", "艳丽", "雪梅", "凤霞", "巧玲", "美玲", "亚楠", "晓丽", "晓红", "丽萍", "爱玲",
    "玉洁", "文静", "佳琪", "彩霞", "晓敏", "俊霞", "红艳", "丽敏", "春霞", "志红", "小燕",
    "慧娟", "秀梅", "淑芳", "亚萍", "雪芳", "素娟", "利娜",
)  # fmt: skip
_MALE_YOUNG = (
    "子轩", "浩然", "宇航", "梓豪", "嘉豪", "一鸣", "博文", "浩宇", "俊熙", "泽宇", "思远",
    "天宇", "子豪", "宇轩", "皓轩", "明轩", "鑫磊", "佳乐", "晨阳", "文轩",
)  # fmt: skip
_FEMALE_YOUNG = (
    "梓涵", "子涵", "雨涵", "诗涵", "梦瑶", "佳怡", "思雨", "雅琪", "若曦", "一诺", "心怡",
    "可欣", "欣怡", "语嫣", "紫涵", "雨欣", "梦琪", "佳慧", "晓雪", "静雯",
)  # fmt: skip
_MALE_SINGLE = "强伟磊勇军刚杰涛斌鹏亮辉超浩峰"
_FEMALE_SINGLE = "芳娟敏静丽艳霞燕萍红梅婷雪丹倩"
# 生僻字 that real names carry (CJK Ext. A/B/E and rare basic ones): fonts and slips must cope.
_RARE_CHARS = ("䶮", "𬀩", "𪚥", "𠅤", "堃", "喆", "燚", "赟")


@functools.cache
def printable_rare_chars() -> tuple[str, ...]:
    """The ones of ``_RARE_CHARS`` this machine's fonts draw. Ext. B and E need a font such as
    Windows' 宋体-ExtB; where there is none, papers naming 𪚥 are refused (rightly: a clerk is
    told to write a homophone), and a demo that drew one stopped half-made at its first such
    paper (a referral letter, on Linux)."""
    from desktop_app.documents.fonts import missing_glyphs, register_fonts

    fonts = register_fonts()
    missing = set(missing_glyphs("".join(_RARE_CHARS), fonts.chain(fonts.body)))
    return tuple(char for char in _RARE_CHARS if char not in missing)


_TRADE_NAMES = (
    "丰源", "金穗", "鑫达", "宏运", "惠民", "恒信", "华兴", "瑞丰", "中原", "汇通", "永盛",
    "祥和", "天顺", "盛世", "康泰", "众诚", "金泰", "万和", "蒜都", "圉城", "杞乡", "润田",
    "福满", "兴隆", "佳禾", "绿源", "新泰", "联创", "博远", "同心", "昌盛", "广源", "豫东",
    "嘉禾", "鼎盛", "信达", "安泰", "顺达", "聚丰", "益民", "恒达", "金桥",
)  # fmt: skip
_TRADE_FIRST = "金鑫华宏恒瑞丰源兴盛永祥天福佳嘉鼎信安顺聚益博联同昌广豫中新润绿康众万汇惠德泰"
_TRADE_SECOND = "源达运民信兴丰通盛和顺世泰诚桥隆禾创远心昌茂发利峰航业成辉腾"
# industry → (name suffix, GB 32100 institution type: 1 企业, 2 个体工商户, 3 农民专业合作社)
INDUSTRIES: dict[str, tuple[tuple[str, str], ...]] = {
    "建筑": (("建筑工程有限公司", "1"), ("建设工程有限公司", "1"), ("房地产开发有限公司", "1")),
    "医药": (("大药房有限公司", "1"), ("医药连锁有限公司", "1"), ("大药房", "2")),
    "农业": (("农业科技有限公司", "1"), ("农产品专业合作社", "3"), ("种植专业合作社", "3")),
    "食品": (("食品有限公司", "1"), ("面业有限公司", "1"), ("食品加工厂", "2")),
    "商贸": (("商贸有限公司", "1"), ("贸易有限公司", "1"), ("电子商务有限公司", "1")),
    "物流": (("物流有限公司", "1"), ("运输有限公司", "1")),
    "制造": (("机械制造有限公司", "1"), ("纺织有限公司", "1"), ("新材料科技有限公司", "1")),
    "能源": (("加油站", "2"), ("石化有限公司", "1"), ("新能源科技有限公司", "1")),
    "餐饮": (("餐饮管理有限公司", "1"), ("饭店", "2"), ("烩面馆", "2")),
    "服务": (("家政服务有限公司", "1"), ("物业服务有限公司", "1"), ("文化传媒有限公司", "1")),
}
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
    "156", "157", "158", "159", "166", "176", "177", "178", "180", "181", "182", "183", "185",
    "186", "187", "188", "189", "191", "198", "199",
)  # fmt: skip


def given_name(r: random.Random, male: bool, born: int) -> str:
    """A given name that fits the person's sex and generation; a few have one character."""
    roll = r.random()
    if roll < 0.004:  # 生僻字
        rare = r.choice(_RARE_CHARS)  # drawn from all, so every machine draws the same sequence
        printable = printable_rare_chars()
        if rare not in printable:
            rare = printable[_RARE_CHARS.index(rare) % len(printable)]
        return rare + (
            r.choice(_MALE_SINGLE if male else _FEMALE_SINGLE) if r.random() < 0.5 else ""
        )
    if roll < 0.15:
        return r.choice(_MALE_SINGLE if male else _FEMALE_SINGLE)
    if born < 1968 or (born < 1975 and roll < 0.5):
        return r.choice(_MALE_OLD if male else _FEMALE_OLD)
    if born >= 1995 or (born >= 1988 and roll < 0.5):
        return r.choice(_MALE_YOUNG if male else _FEMALE_YOUNG)
    return r.choice(_MALE_MIDDLE if male else _FEMALE_MIDDLE)


class NameSource:
    """Plain Chinese names for department leaders and contacts."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._cum = cumulative(w for _, w in SURNAMES)
        self._surnames = [s for s, _ in SURNAMES]

    def name(self) -> str:
        r = self._rng
        surname = r.choices(self._surnames, cum_weights=self._cum)[0]
        return surname + given_name(r, r.random() < 0.65, r.randint(1965, 1990))


def landline(rng: random.Random, area_code: str) -> str:
    return f"{area_code}-{rng.randint(2, 8)}{rng.randrange(10**7):07d}"


def mobile_number(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


class People:
    """Names, numbers and addresses of one site's complainants, each number used once."""

    def __init__(
        self, rng: random.Random, site_code: str, prefix: str, towns: Sequence[str]
    ) -> None:
        self.r = rng
        self.site_code = site_code
        self.prefix = prefix  # 杞县
        self.towns = towns
        self.surnames = weighted(SURNAMES)
        self.village_surnames = [s for s, _ in SURNAMES[:40]]
        self.used_ids: set[str] = set()
        self.used_codes: set[str] = set()
        self.used_phones: set[str] = set()
        self.used_company_names: set[str] = set()

    def person_name(self, male: bool, born: int) -> str:
        surname: str = pick(self.r, self.surnames)
        return surname + given_name(self.r, male, born)

    def mobile(self) -> str:
        while True:
            phone = mobile_number(self.r)
            if phone not in self.used_phones:
                self.used_phones.add(phone)
                return phone

    def id_number(self, male: bool, born: date) -> str:
        r = self.r
        code = self.site_code
        roll = r.random()
        if roll < 0.12:  # elsewhere in the same city
            code = code[:4] + r.choice(("01", "02", "03", "04", "05", "11", "21", "22", "23", "25"))
        elif roll < 0.15:  # from another province
            code = r.choice(("430102", "320102", "370102", "420102", "330106", "440106"))
        while True:
            seq = r.randrange(500) * 2 + (1 if male else 0)  # odd: male, even: female
            first17 = f"{code}{born:%Y%m%d}{seq:03d}"
            number = first17 + id_check_char(first17)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def credit_code(self, kind: str) -> str:
        r = self.r
        while True:
            if r.random() < 0.6:
                body = "MA" + "".join(r.choice(CREDIT_CODE_ALPHABET) for _ in range(6))
            else:
                body = str(r.randint(3, 7)) + f"{r.randrange(10**7):07d}"
            first17 = f"9{kind}{self.site_code}{body}{org_code_check_char(body)}"
            code = first17 + credit_check_char(first17)
            if code not in self.used_codes:
                self.used_codes.add(code)
                return code

    def village(self) -> str:
        return self.r.choice(self.village_surnames) + self.r.choice(VILLAGE_SUFFIXES) + "村"

    def address(self) -> str:
        r = self.r
        town = r.choice(self.towns)
        if town.endswith("街道") or (town == self.towns[0] and r.random() < 0.6):
            road = r.choice(("人民路", "建设路", "文化路", "解放路", "金城大道", "迎宾路"))
            return f"{self.prefix}{town}{road}{r.randint(1, 300)}号"
        return f"{self.prefix}{town}{self.village()}{r.randint(1, 12)}组"

    def enterprise_name(self, industry: str) -> tuple[str, str]:
        """A new enterprise's name and its GB 32100 institution type."""
        r = self.r
        prefix = self.prefix
        kind = "1"
        for attempt in range(1000):
            suffix, kind = r.choice(INDUSTRIES[industry])
            if r.random() < 0.3:
                trade = r.choice(_TRADE_NAMES)
            else:
                trade = r.choice(_TRADE_FIRST) + r.choice(_TRADE_SECOND)
            name = f"{prefix}{trade}{suffix}"
            if kind == "2" and r.random() < 0.5:  # 个体户 often carry the owner's name
                owner = r.choice(self.village_surnames)
                name = f"{prefix}{r.choice(self.towns)}{owner}记{suffix}"
            if attempt > 20:  # a crowded trade: a branch office
                name = f"{name}{r.choice(self.towns)}第{attempt - 19}分公司"
            if name not in self.used_company_names:
                self.used_company_names.add(name)
                break
        return name, kind
