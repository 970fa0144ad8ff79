"""Demo data (演示数据): two years of a county window's work, generated in seconds.

``bbcs demo --cases N`` and the benchmark use this to fill a fresh site with realistic data:
the county's departments, demo users who can log in, and N matters modelled on the seed reports
(医保结算查不到参保信息, 药品零售经营许可证反复补材料, 集资房办不了不动产权证, 公积金断缴补缴后
办不了贷款, 工程建设项目审批, 入企访廉 …) in every status, each with a timeline that
:func:`desktop_app.domain.case_flow.derive_status` accepts.

Everything is drawn from one seeded ``random.Random`` and the clock, so the same seed and clock
give the same data (uuids included). Everything is written in one write transaction, in chunks:
on SQLite with ``executemany`` on the session's own connection, in the exact formats SQLAlchemy
uses (its per-row parameter processing would triple the time at 100,000 cases), elsewhere with
Core bulk inserts. Numbers come from ``number_sequences`` exactly as intake takes them, so real
intakes continue the sequence; the search index gets the same text as intake writes. A single
audit entry records the generation (not one per row), so the audit chain stays short and valid.
"""

from __future__ import annotations

import bisect
import heapq
import json
import math
import random
import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.orm import Session

from desktop_app.documents.slip_content import PaperKind, SlipContent
from desktop_app.domain.assignment_flow import (
    AssignmentKind,
    AssignmentState,
    ExtensionState,
    default_slip_prefix,
    slip_number,
    slip_series,
)
from desktop_app.domain.case_flow import EventKind
from desktop_app.domain.deadlines import RuleKey, case_rule
from desktop_app.domain.validation import mask_id_number, mask_phone
from desktop_app.domain.vocabulary import (
    DEFAULT_AREAS,
    Approach,
    CaseStatus,
    Cause,
    Channel,
    ComplainantKind,
    Nature,
    Outcome,
    ReplyMethod,
    Role,
    SiteLevel,
    VisitGrade,
    chinese_date,
)
from desktop_app.domain.workdays import WorkdayCalendar
from desktop_app.errors import UserError, ValidationFailed
from desktop_app.services import audit
from desktop_app.services.auth import hash_password
from desktop_app.services.calendar import calendar_in, rules_in
from desktop_app.services.context import Clock
from desktop_app.services.intake import case_number
from desktop_app.services.keys import SiteKeys, sign_slip
from desktop_app.services.site import WINDOW_PHONE_KEY
from desktop_app.storage import search
from desktop_app.storage.database import Database
from desktop_app.storage.models import (
    EXPORT_GENERATION_KEY,
    Area,
    Assignment,
    Attachment,
    Base,
    Case,
    CaseEvent,
    Complainant,
    Department,
    DutyShift,
    DutyStaff,
    HolidayOverride,
    NumberSequence,
    Setting,
    Site,
    Slip,
    User,
)

DEMO_PASSWORD = "Demo12345"  # all demo users share it; shown on the login dialog of a demo site
MAX_DEMO_CASES = 1_000_000


@dataclass(frozen=True)
class DemoLogin:
    username: str
    display_name: str
    role: Role


@dataclass(frozen=True)
class DemoSummary:
    cases: int
    departments: int
    users: tuple[DemoLogin, ...]
    by_status: dict[str, int]


# ------------------------------------------------------------------------------------------
# Reference data
# ------------------------------------------------------------------------------------------

DEMO_USERS: tuple[tuple[str, str, Role], ...] = (
    ("clerk1", "赵晓雯", Role.CLERK),
    ("clerk2", "孙明辉", Role.CLERK),
    ("leader1", "韩国栋", Role.DUTY_LEADER),
    ("leader2", "梁红英", Role.DUTY_LEADER),
    ("leader3", "周建军", Role.DUTY_LEADER),
    ("auditor", "郑文静", Role.AUDITOR),
)

# key, full name, the window people get stuck at ({P} = county prefix such as 杞县, {L} = 县/区/市)
_DEPARTMENTS: tuple[tuple[str, str, str], ...] = (
    ("yibao", "{P}医疗保障局", "{L}医保局服务窗口"),
    ("budongchan", "{P}不动产登记中心", "{L}不动产登记中心受理窗口"),
    ("gjj", "{gjj}", "{gjj_window}"),
    ("scjg", "{P}市场监督管理局", "{L}市场监管局审批窗口"),
    ("zhujian", "{P}住房和城乡建设局", "{L}住建局建筑管理股"),
    ("ziranziyuan", "{P}自然资源局", "{L}自然资源局规划股"),
    ("renshe", "{P}人力资源和社会保障局", "{L}人社局社保服务窗口"),
    ("weijian", "{P}卫生健康委员会", "{L}卫健委医政医管股"),
    ("huzheng", "{P}公安局户政大队", "{L}公安局户政大队办证窗口"),
    ("jiaoyu", "{P}教育局", "{L}教育局基础教育股"),
    ("shuiwu", "{P}税务局", "{L}税务局办税服务厅"),
    ("shenpi", "{P}行政审批和政务信息管理局", "{L}政务服务中心综合受理窗口"),
    ("yiyuan", "{P}人民医院", "{P}人民医院住院结算窗口"),
    ("xiangzhen", "{P}{town0}人民政府", "{town0}便民服务中心"),
    ("gongdian", "{P}供电公司", "{L}供电公司营业厅"),
)

_CITIES: dict[str, str] = {
    "4101": "郑州市", "4102": "开封市", "4103": "洛阳市", "4104": "平顶山市", "4105": "安阳市",
    "4106": "鹤壁市", "4107": "新乡市", "4108": "焦作市", "4109": "濮阳市", "4110": "许昌市",
    "4111": "漯河市", "4112": "三门峡市", "4113": "南阳市", "4114": "商丘市", "4115": "信阳市",
    "4116": "周口市", "4117": "驻马店市", "4301": "长沙市",
}  # fmt: skip

_AREA_CODES: dict[str, str] = {
    "4101": "0371", "4102": "0371", "4103": "0379", "4104": "0375", "4105": "0372",
    "4106": "0392", "4107": "0373", "4108": "0391", "4109": "0393", "4110": "0374",
    "4111": "0395", "4112": "0398", "4113": "0377", "4114": "0370", "4115": "0376",
    "4116": "0394", "4117": "0396", "4301": "0731",
    # otherwise the provincial capital's
    "11": "010", "12": "022", "13": "0311", "14": "0351", "15": "0471", "21": "024",
    "22": "0431", "23": "0451", "31": "021", "32": "025", "33": "0571", "34": "0551",
    "35": "0591", "36": "0791", "37": "0531", "41": "0371", "42": "027", "43": "0731",
    "44": "020", "45": "0771", "46": "0898", "50": "023", "51": "028", "52": "0851",
    "53": "0871", "54": "0891", "61": "029", "62": "0931", "63": "0971", "64": "0951",
    "65": "0991",
}  # fmt: skip

# 杞县's real towns; other sites get common generic names.
_QIXIAN_TOWNS = (
    "城关镇", "五里河镇", "傅集镇", "圉镇镇", "高阳镇", "葛岗镇", "阳堌镇", "邢口镇",
    "裴村店乡", "宗店乡", "板木乡", "竹林乡", "官庄乡", "湖岗乡", "苏木乡", "沙沃乡",
    "西寨乡", "平城乡", "泥沟乡",
)  # fmt: skip
_GENERIC_TOWNS = (
    "城关镇", "城东街道", "城西街道", "新华街道", "黄庄镇", "李集镇", "王店乡", "张寨乡",
    "刘楼乡", "马庄乡", "高庙乡", "孙营乡", "柳河镇", "双塔乡",
)  # fmt: skip
_VILLAGE_SUFFIXES = ("庄", "寨", "楼", "营", "集", "屯", "岗", "店", "口", "湾")

_SURNAMES: tuple[tuple[str, float], ...] = (
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

_TRADE_NAMES = (
    "丰源", "金穗", "鑫达", "宏运", "惠民", "恒信", "华兴", "瑞丰", "中原", "汇通", "永盛",
    "祥和", "天顺", "盛世", "康泰", "众诚", "金泰", "万和", "蒜都", "圉城", "杞乡", "润田",
    "福满", "兴隆", "佳禾", "绿源", "新泰", "联创", "博远", "同心", "昌盛", "广源", "豫东",
    "嘉禾", "鼎盛", "信达", "安泰", "顺达", "聚丰", "益民", "恒达", "金桥",
)  # fmt: skip
_TRADE_FIRST = "金鑫华宏恒瑞丰源兴盛永祥天福佳嘉鼎信安顺聚益博联同昌广豫中新润绿康众万汇惠德泰"
_TRADE_SECOND = "源达运民信兴丰通盛和顺世泰诚桥隆禾创远心昌茂发利峰航业成辉腾"
# industry → (name suffix, GB 32100 institution type: 1 企业, 2 个体工商户, 3 农民专业合作社)
_INDUSTRIES: dict[str, tuple[tuple[str, str], ...]] = {
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
_PROJECT_KINDS = (
    "标准化厂房", "农产品冷链物流园", "大蒜深加工", "商住小区", "职业技能实训基地",
    "光伏发电", "农贸市场改造", "电商产业园", "污水处理厂提标改造", "县城供热管网",
)  # fmt: skip
_RELATIVES = ("母亲", "父亲", "外甥女", "儿子", "女儿", "爱人", "岳母", "孙子", "侄子")
_ELDERS = ("母亲", "父亲", "岳母", "岳父", "婆婆", "公公", "奶奶", "爷爷")
_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
    "156", "157", "158", "159", "166", "176", "177", "178", "180", "181", "182", "183", "185",
    "186", "187", "188", "189", "191", "198", "199",
)  # fmt: skip


@dataclass(frozen=True)
class _Template:
    area: str
    kinds: str  # "p" person, "e" enterprise, "pe" either
    dept: str  # key of _DEPARTMENTS, or "" when no department is to blame
    titles: tuple[str, ...]
    stories: tuple[str, ...]
    natures: tuple[tuple[Nature, float], ...]
    causes: tuple[Cause, ...]  # typical causes of a 很难办 case
    done: tuple[str, ...]
    explain: str = ""
    stuck: tuple[str, ...] = ()
    assist: tuple[str, ...] = ()
    industry: str = ""
    quick: bool = False  # simple enough to be settled on the spot (马上办)
    weight: float = 1.0


def _natures(spec: str) -> tuple[tuple[Nature, float], ...]:
    pairs = (item.split(":") for item in spec.split())
    return tuple((Nature(code), float(weight)) for code, weight in pairs)


def _causes(spec: str) -> tuple[Cause, ...]:
    return tuple(Cause(code) for code in spec.split())


def _t(
    area: str,
    kinds: str,
    dept: str,
    titles: str | tuple[str, ...],
    stories: str | tuple[str, ...],
    natures: str,
    causes: str,
    done: str | tuple[str, ...],
    **extra: Any,
) -> _Template:
    def as_tuple(value: str | tuple[str, ...]) -> tuple[str, ...]:
        return (value,) if isinstance(value, str) else value

    return _Template(
        area=area,
        kinds=kinds,
        dept=dept,
        titles=as_tuple(titles),
        stories=as_tuple(stories),
        natures=_natures(natures),
        causes=_causes(causes),
        done=as_tuple(done),
        **extra,
    )


# Slots: {P} county prefix, {L} 县/区/市, {town} {village} {relative} {elder} {hospital} {gjj}
# {trips} (往返 phrase), {v} visits, {n} {n2} {n3} {n4} {n5} numbers, {year} {year2}
# {year_recent} {month} {project} {money} {kva} {area} {dept}.
_TEMPLATES: tuple[_Template, ...] = (
    # 医保社保 -------------------------------------------------------------------------------
    _t(
        "医保社保",
        "p",
        "yibao",
        ("{relative}住院费用医保结算时查不到参保信息", "住院医保报销提示无参保信息"),
        "其{relative}在{hospital}住院，出院办理医保结算时被医院工作人员告知查不到参保信息，"
        "先后到{L}卫健委、{town}政府咨询均无结果，{trips}，住院费用至今无法报销。",
        "hard:6 wont:1",
        "process",
        "督促{L}医保局从医保信息系统入手查找原因，系{hospital}新老系统迁移时未及时切换参保信息，"
        "医院补充完善信息后住院费用已成功报销",
        stuck=("{hospital}住院结算窗口", "{L}医保局服务窗口"),
        assist=("yiyuan",),
        quick=True,
        weight=2.0,
    ),
    _t(
        "医保社保",
        "p",
        "yibao",
        ("办理异地就医备案被要求回参保地现场办理", "{elder}异地就医备案被要求回来现场办"),
        "其{elder}长期随子女在外地居住，需办理异地长期居住备案，{L}医保局窗口要求本人回来"
        "现场办理并提供居住证明，{trips}。按规定可通过国家医保服务平台线上备案。",
        "wont:3 hard:1",
        "process materials",
        "责成{L}医保局当日为其办理异地就医备案，并在窗口公示线上备案办理指引",
        quick=True,
    ),
    _t(
        "医保社保",
        "p",
        "yibao",
        ("城乡居民医保已缴费但系统显示未参保", "交了城乡居民医保，看病时显示未参保"),
        "{year2}年度城乡居民医保已通过{town}代收点缴费，就医时系统显示未参保，{trips}，"
        "医保局与税务部门互相让对方查询。",
        "hard:4 wont:2",
        "process shirking",
        "协调{L}医保局与{L}税务局核对缴费数据，补录参保信息，已可正常就医结算",
        assist=("shuiwu",),
    ),
    _t(
        "医保社保",
        "p",
        "yibao",
        ("门诊慢特病待遇认定材料被反复退回", "慢特病认定每次只告知缺一项材料"),
        "患高血压、糖尿病多年，申请门诊慢特病待遇认定，{L}医保局窗口先后{n2}次以病历材料不全"
        "为由退回，每次只告知缺一项，{trips}。",
        "wont:4 hard:1",
        "materials",
        "督促{L}医保局一次性告知所需材料，已完成慢特病待遇认定",
    ),
    _t(
        "医保社保",
        "p",
        "renshe",
        ("灵活就业人员申请补缴中断期间养老保险被拒", "外出务工期间断缴的养老保险补缴不了"),
        "{year}年至{year2}年在外务工期间中断缴纳养老保险，现申请一次性补缴，"
        "{L}人社局告知不能补缴，{trips}。",
        "cant:4 hard:2",
        "policy",
        "经{L}人社局核查，其中{n3}个月属原单位漏缴，已由原单位补缴",
        explain="现行政策不允许灵活就业人员对中断期间的养老保险一次性补缴，{L}人社局已出具由"
        "主要负责人签字的书面政策依据，窗口向当事人解释并告知可继续缴费累计年限",
    ),
    _t(
        "医保社保",
        "p",
        "renshe",
        ("养老金领取资格认证一直不通过", "老人养老金资格认证不通过被停发"),
        "年过七十的{elder}行动不便，手机人脸识别认证多次失败，到{town}便民服务中心又被要求"
        "到县里办理，{trips}，养老金已暂停发放。",
        "wont:2 hard:3",
        "process attitude",
        "督促{L}人社局安排工作人员上门完成资格认证，已恢复养老金发放",
        stuck=("{town}便民服务中心", "{L}人社局社保服务窗口"),
    ),
    _t(
        "医保社保",
        "e",
        "renshe",
        ("企业新招员工社保增员办理受阻", "新招员工社保增员人社医保互相推"),
        "新招录员工{n}名，网上办理社保增员时系统反复提示信息有误，到{L}人社局窗口咨询被告知"
        "找医保局，医保局又让找人社局，{trips}。",
        "wont:2 hard:3",
        "shirking process",
        "召集{L}人社局、{L}医保局现场核对，系两部门数据接口问题，已完成增员并明确由人社局窗口"
        "牵头办理",
        assist=("yibao",),
        industry="制造",
    ),
    _t(
        "医保社保",
        "p",
        "yibao",
        ("生育津贴申领三个月未到账", "生育津贴迟迟不发放"),
        "{year_recent}年{month}月提交生育津贴申领材料，三个月未到账，多次打电话询问均被告知"
        "在走流程，{trips}。",
        "wont:3 hard:2",
        "process attitude",
        "督促{L}医保局查明系审核环节积压，已于当日完成审核拨付",
        quick=True,
    ),
    # 不动产登记 -----------------------------------------------------------------------------
    _t(
        "不动产登记",
        "p",
        "budongchan",
        ("单位集资房未进行土地分割办不了不动产权证", "集资建房职工多年办不了不动产权证"),
        "{year}年原单位{n}名职工集资改造扩建综合楼，原房管所依据集资建房手续办理了房屋所有权证，"
        "但未进行土地分割，后因政策变动无法办理不动产权证，{trips}。",
        "hard:6",
        "policy materials",
        "组织{L}不动产登记中心、{L}自然资源局等连续现场会诊，调取原始档案资料，依据《不动产"
        "登记暂行条例》完善手续办理链条，完成土地分割后职工陆续领到不动产权证",
        assist=("ziranziyuan", "zhujian"),
        weight=1.5,
    ),
    _t(
        "不动产登记",
        "p",
        "budongchan",
        ("二手房过户被要求提供原购房发票", "买二手房办过户卡在原购房发票上"),
        "购买的二手房办理转移登记时，窗口要求提供原房主的购房发票，原房主已去世无法提供，{trips}。",
        "wont:2 hard:3",
        "materials policy",
        "经研判可用契税完税证明替代原购房发票，已办理转移登记",
        assist=("shuiwu",),
    ),
    _t(
        "不动产登记",
        "p",
        "budongchan",
        ("继承房产要求全体继承人到场无法办理", "父亲遗留房产继承登记办不了"),
        "父亲去世后办理房产继承登记，窗口要求全部{n2}名继承人到场，其中一人长期在国外无法回国，"
        "{trips}。",
        "cant:2 hard:3",
        "policy materials",
        "经协调，境外继承人提交经公证的放弃继承声明后已办理继承登记",
        explain="按规定继承登记须全体继承人到场或提交经公证的放弃继承声明，已向当事人解释并"
        "告知可办理境外公证委托",
    ),
    _t(
        "不动产登记",
        "p",
        "budongchan",
        ("商品房交房多年业主办不了不动产权证", "{project}小区业主交房{n2}年办不了房产证"),
        "所购{project}住房已交房{n2}年，因开发企业未办理首次登记，全小区{n}户业主至今办不了"
        "不动产权证，{trips}。",
        "hard:5",
        "policy shirking",
        "会同{L}住建局、{L}自然资源局联合会商，督促开发企业补齐手续，已完成首次登记，业主可"
        "分批办理转移登记",
        assist=("zhujian", "ziranziyuan"),
    ),
    _t(
        "不动产登记",
        "p",
        "budongchan",
        ("农村宅基地房屋确权登记迟迟办不下来", "{town}{village}宅基地确权登记半年没办下来"),
        "{town}{village}的宅基地房屋申请确权登记已半年，{L}不动产登记中心称在等乡镇审核，"
        "{town}政府称材料早已报送，{trips}。",
        "wont:3 hard:2",
        "shirking process",
        "责成{L}不动产登记中心和{town}政府当面对接，补齐权籍调查资料，已颁发不动产权证书",
        assist=("xiangzhen",),
    ),
    _t(
        "不动产登记",
        "e",
        "budongchan",
        ("贷款还清后抵押登记注销办理受阻", "还清贷款后抵押注销登记办不了"),
        "已还清银行贷款，办理抵押权注销登记时窗口要求银行和企业同时到场，银行已出具注销证明"
        "仍不予办理，{trips}，影响企业续贷。",
        "wont:3 hard:1",
        "materials attitude",
        "督促{L}不动产登记中心按规定凭银行注销申请办理，当日完成抵押注销登记",
        industry="商贸",
        quick=True,
    ),
    # 住房公积金 -----------------------------------------------------------------------------
    _t(
        "住房公积金",
        "p",
        "gjj",
        (
            "工作调动公积金断缴，补缴后办不了公积金贷款",
            "公积金补缴后被认定为不连续缴存，申请贷款被拒",
        ),
        "因工作调动造成住房公积金断缴{n3}个月，补缴后申请公积金贷款，被告知不符合连续正常缴存"
        "6个月的规定，多次沟通无果。",
        "hard:5 cant:1",
        "policy",
        "会同政务服务部门召集{gjj}研判，参照省内其他地市做法，补缴不超过三个月且账户状态连续的"
        "可认定为连续缴存，当事人已申办公积金贷款",
        explain="其补缴时间超过规定期限，{gjj}已出具书面政策依据，窗口已向当事人解释",
        weight=1.5,
    ),
    _t(
        "住房公积金",
        "p",
        "gjj",
        ("租房提取公积金被要求开具多项证明", "租房提取公积金材料要求过多"),
        "在本地无自有住房，申请提取住房公积金支付房租，柜台要求提供租赁备案证明、无房证明等"
        "多项材料，{trips}。",
        "wont:2 hard:3",
        "materials process",
        "督促{gjj}按无房租赁提取政策简化材料，凭个人承诺当场办理提取",
        quick=True,
    ),
    _t(
        "住房公积金",
        "p",
        "gjj",
        ("离职后公积金账户异地转移办不了", "外地公积金转回{P}办不了"),
        "从外地单位离职回{P}工作，申请异地转移接续住房公积金，被告知需原单位出具证明，{trips}。",
        "wont:2 hard:2",
        "process materials",
        "督促{gjj}通过全国住房公积金异地转移接续平台办理，已完成转移",
    ),
    _t(
        "住房公积金",
        "e",
        "gjj",
        ("单位住房公积金缴存基数调整被退回", "企业公积金缴存基数调整反复退回"),
        "按上年度职工月平均工资调整住房公积金缴存基数，网上申报{n2}次被退回，每次退回理由都"
        "不一样，{trips}。",
        "wont:3 hard:1",
        "process attitude",
        "责成{gjj}一次性告知退回原因，已完成缴存基数调整",
        industry="制造",
    ),
    _t(
        "住房公积金",
        "p",
        "gjj",
        ("退休提取公积金要求本人到场，本人卧床无法前往", "卧床老人退休提取公积金被要求本人到场"),
        "其{elder}已退休，申请销户提取住房公积金，柜台要求本人到场，老人卧病在床无法"
        "前往，{trips}。",
        "wont:2 hard:3",
        "policy process",
        "协调{gjj}安排工作人员上门核验身份，已办理退休销户提取",
    ),
    # 市场准入许可 ---------------------------------------------------------------------------
    _t(
        "市场准入许可",
        "pe",
        "scjg",
        ("申请药品零售经营许可证反复被要求补充材料", "药品零售经营许可证来回跑了多次办不下来"),
        "申请办理药品零售经营许可证，来回跑了{v}次，每次都被审批窗口告知需要补充材料，"
        "窗口未一次性告知所需材料清单。",
        "wont:6",
        "attitude materials",
        "督促审批窗口提供材料清单，第一时间办理了药品零售经营许可证",
        industry="医药",
        weight=2.0,
    ),
    _t(
        "市场准入许可",
        "e",
        "shenpi",
        ("营业执照经营范围变更被告知需到市里办理", "变更经营范围县里市里互相推"),
        "申请变更营业执照经营范围，{L}政务服务中心窗口称该事项需到市里办理，市里又告知已下放"
        "到县里，{trips}。",
        "wont:3 hard:1",
        "shirking process",
        "核实该事项已下放至{L}行政审批和政务信息管理局，责成当日办结",
        industry="商贸",
        quick=True,
    ),
    _t(
        "市场准入许可",
        "p",
        "scjg",
        ("个体工商户营业执照注销办不了", "小店停业后执照注销和清税互为前提"),
        "经营的小店已停业，申请注销个体工商户营业执照，被告知有未办结的税务事项，到税务局又说"
        "需先注销执照，{trips}。",
        "wont:2 hard:3",
        "shirking process",
        "协调{L}市场监督管理局与{L}税务局联办，当日完成清税和简易注销",
        assist=("shuiwu",),
    ),
    _t(
        "市场准入许可",
        "e",
        "scjg",
        ("食品经营许可证延续申请超期未办结", "食品经营许可证延续超期，企业面临停产"),
        "食品经营许可证即将到期，提交延续申请已{n4}个工作日仍未办结，企业面临停产，{trips}。",
        "wont:3 hard:1",
        "process",
        "督促{L}市场监督管理局现场核查，当日核发延续后的食品经营许可证",
        industry="食品",
    ),
    _t(
        "市场准入许可",
        "e",
        "scjg",
        ("加油站换发新执照后申请立即恢复营业", "加油站换新执照后要求马上恢复营业"),
        "加油站换发新营业执照后申请立即恢复营业，相关部门告知需经再次审核，{trips}。",
        "cant:5",
        "policy",
        "督促相关部门加快审核，审核通过后已恢复营业",
        explain="按规定新执照下发后须交由相关部门再次审核方可恢复营业，经研判确系不能办事项，"
        "已将结果反馈当事人并耐心疏导",
        industry="能源",
    ),
    _t(
        "市场准入许可",
        "p",
        "scjg",
        ("开办小餐馆申请食品经营许可被要求提供房产证", "租门面开餐馆办食品经营许可被要房产证"),
        "租赁门面开办小餐馆，申请食品经营许可时被要求提供房东的房产证原件，房东在外地无法"
        "提供，{trips}。",
        "wont:2 hard:3",
        "materials",
        "经核实可凭租赁合同和场所使用承诺办理，已核发食品经营许可证",
        quick=True,
    ),
    # 工程建设项目审批 -----------------------------------------------------------------------
    _t(
        "工程建设项目审批",
        "e",
        "shenpi",
        ("施工许可证办理要求提交材料过多", "{project}项目施工许可证材料要求过多"),
        "{project}项目申请施工许可证，被要求提交{n5}项材料，部分材料与前置审批重复，{trips}。",
        "hard:4 wont:1",
        "materials process",
        "推动实行告知承诺制，在缺少非核心材料的情况下先行办理，施工许可证已核发",
        industry="建筑",
        assist=("zhujian",),
        weight=1.5,
    ),
    _t(
        "工程建设项目审批",
        "e",
        "zhujian",
        ("工程竣工验收备案迟迟不予办理", "{project}项目竣工验收备案{n4}个工作日未办"),
        "{project}项目已完成竣工验收，提交备案材料后{n4}个工作日未办理，多次询问均被告知负责人"
        "不在，{trips}。",
        "wont:5",
        "attitude shirking",
        "责成{L}住建局限期办结竣工验收备案",
        industry="建筑",
    ),
    _t(
        "工程建设项目审批",
        "e",
        "ziranziyuan",
        ("项目规划许可卡在多部门会签环节", "{project}项目规划许可会签拖延{n}天"),
        "{project}项目申请建设工程规划许可，会签需{L}住建局、{L}自然资源局等多个部门出具意见，"
        "各部门互相等待，已拖延{n}天，{trips}。",
        "hard:4 wont:2",
        "shirking process",
        "召开联席会议明确各部门会签时限，建设工程规划许可证已核发",
        assist=("zhujian", "shenpi"),
        industry="建筑",
    ),
    _t(
        "工程建设项目审批",
        "e",
        "zhujian",
        ("已竣工项目工程款久拖未结算", "{project}项目工程款拖欠约{money}万元"),
        "{project}项目已于{year2}年竣工，工程款结算迟迟未完成，拖欠工程款约{money}万元，"
        "影响农民工工资发放，{trips}。",
        "hard:5",
        "policy process",
        "推动建设单位和审计部门完成结算初审，约定分期支付方案，首期工程款已支付",
        assist=("shenpi",),
        industry="建筑",
    ),
    _t(
        "工程建设项目审批",
        "p",
        "ziranziyuan",
        ("农村自建房办理乡村建设规划许可无门", "{town}{village}翻建住房办不了规划许可"),
        "在{town}{village}翻建自家住房，办理乡村建设规划许可证时，{town}政府说归县自然资源局"
        "管，县局又说由乡镇审批，{trips}。",
        "wont:3 hard:2",
        "shirking",
        "明确由{town}政府受理、{L}自然资源局指导，已核发乡村建设规划许可证",
        assist=("xiangzhen",),
    ),
    _t(
        "工程建设项目审批",
        "e",
        "shenpi",
        ("告知承诺制审批未落实，仍要求补齐非核心材料", "{project}项目告知承诺制落实不到位"),
        "{project}项目申请按告知承诺制办理审批，窗口仍要求先补齐全部非核心材料才能受理，{trips}。",
        "wont:3 hard:2",
        "materials policy",
        "督促{L}行政审批和政务信息管理局落实告知承诺制，已先行办理审批手续",
        industry="建筑",
    ),
    # 营商环境 -------------------------------------------------------------------------------
    _t(
        "营商环境",
        "e",
        "gongdian",
        ("新建厂房用电报装接电时间过长", "新建厂房{kva}千伏安报装迟迟不送电"),
        "新建厂房申请{kva}千伏安用电报装，提交申请已{n}天仍未接电，设备无法调试投产，{trips}。",
        "wont:2 hard:3",
        "process",
        "督促{L}供电公司开辟绿色通道，已完成外线施工和送电",
        industry="制造",
    ),
    _t(
        "营商环境",
        "e",
        "shuiwu",
        ("增值税发票增版增量申请被拖延", "增值税发票增量审批超时"),
        "因业务量增加申请增值税发票增版增量，办税服务厅要求实地核查，核查后{n4}个工作日仍未"
        "审批，{trips}。",
        "wont:3 hard:1",
        "process attitude",
        "责成{L}税务局当日完成审批",
        industry="商贸",
        quick=True,
    ),
    _t(
        "营商环境",
        "e",
        "shenpi",
        ("惠企奖补资金迟迟未兑现", "技术改造奖补资金公示后迟迟未拨付"),
        "{year_recent}年申报的技术改造奖补资金早已公示，至今未拨付，相关部门互相解释，{trips}。",
        "hard:3 wont:2",
        "shirking policy",
        "协调相关部门明确拨付时限，奖补资金已拨付到位",
        industry="制造",
    ),
    _t(
        "营商环境",
        "e",
        "shenpi",
        ("项目资本金监管资金迟迟不能解控", "{project}项目资本金解控{n}天未办"),
        "{project}项目资本金已按要求存入监管账户，申请解控{n}天未办理，企业资金周转困难，{trips}。",
        "hard:4",
        "policy process",
        "推动取消项目资本金监管事项，监管资金已解控",
        industry="建筑",
    ),
    _t(
        "营商环境",
        "p",
        "shuiwu",
        ("个体户定额核定调整被要求反复跑", "个体户申请调整定额多次被要求补材料"),
        "经营的个体门店营业额下降，申请调整定额，办税服务厅{n2}次要求补充不同的材料，{trips}。",
        "wont:4",
        "materials attitude",
        "责成{L}税务局一次性告知并当场办理定额调整",
        quick=True,
    ),
    _t(
        "营商环境",
        "e",
        "shenpi",
        ("企业开办刻章、银行开户多头跑", "新办企业刻章开户要跑多个窗口"),
        "新办企业领取营业执照后，刻章备案、银行开户、社保登记需分别到不同窗口办理，{trips}。",
        "hard:3",
        "process",
        "督促{L}行政审批和政务信息管理局落实企业开办“一窗通办”，当日完成刻章备案和开户预约",
        industry="服务",
        quick=True,
    ),
    # 户籍证照 -------------------------------------------------------------------------------
    _t(
        "户籍证照",
        "p",
        "huzheng",
        ("新生儿落户被要求提供多余证明", "给孩子上户口被要求开村委会证明"),
        "为孩子办理出生登记落户，户政窗口要求提供父母双方单位证明和村委会证明，{trips}。",
        "wont:4",
        "materials attitude",
        "督促{L}公安局户政大队凭出生医学证明和户口簿当场办理落户",
        quick=True,
    ),
    _t(
        "户籍证照",
        "p",
        "huzheng",
        ("身份证丢失补办被要求回原籍", "外省户籍在{P}补办身份证被拒"),
        "户籍在外省，在{P}长期务工，身份证丢失后到户政窗口申请补领，被要求回原籍办理，{trips}。",
        "wont:3 hard:1",
        "policy attitude",
        "按居民身份证异地受理规定，督促当场受理补领申请",
        quick=True,
    ),
    _t(
        "户籍证照",
        "p",
        "huzheng",
        ("投靠子女迁移户口被拒", "老人户口迁到子女名下被拒"),
        "老两口想把户口迁到在城区买房的儿子名下，派出所以房屋不在本人名下为由不予办理，{trips}。",
        "cant:3 hard:2",
        "policy",
        "经研判符合投靠直系亲属落户条件，已办理户口迁移",
        explain="按现行户口迁移政策须满足相应条件，{L}公安局户政大队已出具书面依据，窗口已向"
        "当事人解释并告知可办理的条件",
    ),
    _t(
        "户籍证照",
        "p",
        "huzheng",
        ("户籍信息出生日期登记错误无法更正", "户口本出生日期登记错误更正不了"),
        "户口簿上的出生日期与档案记载不一致，申请更正时被要求提供{year}年的原始出生证明，"
        "无法提供，{trips}。",
        "hard:4 cant:1",
        "materials policy",
        "经调取原始档案核实后已更正出生日期",
        explain="现有档案材料无法证明原登记有误，按规定不能更正，已出具书面依据并向当事人解释",
    ),
    _t(
        "户籍证照",
        "p",
        "huzheng",
        ("开具无犯罪记录证明被派出所和户政大队互相推", "开无犯罪记录证明两头跑"),
        "因入职需要开具无犯罪记录证明，派出所称由户政大队开具，户政大队又说由派出所开具，{trips}。",
        "wont:5",
        "shirking",
        "责成{L}公安局明确开具部门，当日开具无犯罪记录证明",
        quick=True,
    ),
    # 教育就学 -------------------------------------------------------------------------------
    _t(
        "教育就学",
        "p",
        "jiaoyu",
        ("孩子入学因户籍与房产不一致被拒收", "{town}孩子上小学一年级被学校拒收"),
        "孩子今年升入一年级，因户籍与房产地址不一致，学校不予接收，到{L}教育局反映后又被推回"
        "学校，{trips}。",
        "wont:2 hard:3",
        "policy shirking",
        "会同{L}教育局核实，按随迁子女入学政策已安排就近入学",
        weight=1.5,
    ),
    _t(
        "教育就学",
        "p",
        "jiaoyu",
        ("随迁子女转学手续办理受阻", "孩子从外省转学回{P}学籍接收不了"),
        "随父母返乡，孩子从外省转入{P}学校，转出地已同意，转入学校称学籍系统无法接收，{trips}。",
        "hard:4",
        "process",
        "督促{L}教育局协调学籍系统管理员完成学籍接转",
    ),
    _t(
        "教育就学",
        "p",
        "jiaoyu",
        ("家庭经济困难学生资助申请被退回", "国家助学金申请被学校以材料不全退回"),
        "孩子在县城高中就读，申请国家助学金被学校以证明材料不全为由退回，村里已开具证明，{trips}。",
        "wont:3 hard:1",
        "materials attitude",
        "督促学校按规定受理，已纳入资助名单",
    ),
    _t(
        "教育就学",
        "e",
        "jiaoyu",
        ("民办培训机构办学许可审批超时", "职业技能培训学校办学许可审批超时"),
        "申请开办职业技能培训学校，材料齐全后提交办学许可申请已{n4}个工作日，迟迟没有答复，"
        "{trips}。",
        "wont:2 hard:2",
        "process",
        "督促{L}教育局完成现场评估，已核发办学许可证",
        industry="服务",
    ),
    # 公共服务 -------------------------------------------------------------------------------
    _t(
        "公共服务",
        "p",
        "gongdian",
        ("电表改造后电费异常无人处理", "{town}{village}电表改造后电费异常"),
        "{town}{village}家中电表改造后电费明显异常，到{L}供电公司营业厅反映多次无人处理，{trips}。",
        "wont:4 hard:1",
        "attitude process",
        "督促{L}供电公司上门校验电表，已退还多收电费",
    ),
    _t(
        "公共服务",
        "p",
        "weijian",
        ("出生医学证明补办被医院和卫健委互相推", "补办出生医学证明医院和卫健委互相推"),
        "孩子的出生医学证明遗失，到{hospital}申请补办，医院称需{L}卫健委审批，卫健委又让回医院"
        "办理，{trips}。",
        "wont:4",
        "shirking",
        "责成{L}卫健委明确办理流程，当日补发出生医学证明",
        assist=("yiyuan",),
    ),
    _t(
        "公共服务",
        "p",
        "xiangzhen",
        ("农村低保申请在乡镇被搁置", "{town}低保申请{n2}个月没有结果"),
        "家中{relative}患重病，申请农村低保已{n2}个月，{town}政府一直说还在审核，{trips}。",
        "wont:3 hard:2",
        "process attitude",
        "督促{town}政府完成入户调查和民主评议，已纳入低保",
    ),
    _t(
        "公共服务",
        "p",
        "xiangzhen",
        ("高龄津贴申领多次被退回", "{town}高龄津贴申领被多次退回"),
        "{elder}已满八十周岁，申领高龄津贴被{town}便民服务中心以材料不全多次退回，每次要求的"
        "材料都不一样，{trips}。",
        "wont:4",
        "materials attitude",
        "督促{town}政府一次性告知并当场受理，高龄津贴已发放",
        quick=True,
    ),
    _t(
        "公共服务",
        "p",
        "weijian",
        ("残疾人证办理需到医院鉴定，行动不便", "行动不便的老人办残疾人证鉴定难"),
        "{relative}行动不便，办理残疾人证需到指定医院鉴定，多次预约未果，{trips}。",
        "hard:3",
        "process",
        "协调{hospital}安排医生上门鉴定，残疾人证已办理",
        assist=("yiyuan",),
    ),
    _t(
        "公共服务",
        "e",
        "gongdian",
        ("饭店用电增容申请被退回", "饭店申请用电增容没有下文"),
        "饭店因增加厨房设备申请用电增容，营业厅以线路容量不足为由退回申请，未说明何时能解决，"
        "{trips}。",
        "hard:3 wont:1",
        "process",
        "督促{L}供电公司制定线路改造计划，已完成增容",
        industry="餐饮",
    ),
    # 其他 -----------------------------------------------------------------------------------
    _t(
        "其他",
        "p",
        "xiangzhen",
        ("土地承包经营权证信息有误无法更正", "承包地面积登记错误更正不了"),
        "土地承包经营权证上的地块面积登记有误，到{town}政府申请更正，乡里说要县里批，{trips}。",
        "hard:3 wont:1",
        "process shirking",
        "督促{town}政府会同县级部门实地核实，已更正承包地块信息",
        assist=("ziranziyuan",),
    ),
    _t(
        "其他",
        "e",
        "xiangzhen",
        ("合作社农机购置补贴迟迟未发放", "农机购置补贴迟迟不发"),
        "{year_recent}年购置的农机具已通过核验，补贴资金至今未发放，{trips}。",
        "hard:2 wont:2",
        "process",
        "督促相关部门完成审核公示，补贴已发放",
        industry="农业",
    ),
    _t(
        "其他",
        "p",
        "",
        ("退役军人优待证办理一直在等待", "退役军人优待证{n2}个月未拿到"),
        "申请退役军人优待证已{n2}个月，询问时一直被告知在等待制卡，{trips}。",
        "hard:2 wont:1",
        "process",
        "协调相关部门查明制卡进度，优待证已发放",
        stuck=("{town}退役军人服务站",),
    ),
    _t(
        "其他",
        "p",
        "",
        ("查询婚姻登记档案被要求本人到场", "为办继承查询父母婚姻档案被拒"),
        "为办理房产继承需查询已故父母的婚姻登记档案，婚姻登记处要求本人到场，{trips}。",
        "wont:2 cant:1",
        "policy attitude",
        "督促婚姻登记处按规定凭继承相关证明为其查询并出具证明",
        explain="按规定婚姻登记档案须由当事人或依法授权的人查询，已向当事人解释查询途径",
        stuck=("{L}婚姻登记处",),
    ),
)

_GENERIC_TEMPLATES: tuple[_Template, ...] = (
    _t(
        "",
        "p",
        "",
        ("{area}事项办理受阻", "{area}业务多次往返仍未办成"),
        "在办理{area}相关业务时，经办窗口未一次性说明办理条件和所需材料，{trips}。",
        "wont:3 hard:2",
        "process materials",
        "督促{dept}一次性告知办理条件，事项已办结",
    ),
    _t(
        "",
        "e",
        "",
        ("{area}审批事项久拖未办", "企业{area}事项办理受阻"),
        "企业办理{area}相关事项，提交材料后长时间未答复，询问时各环节互相推诿，{trips}。",
        "wont:2 hard:3",
        "shirking process",
        "召集{dept}等相关部门明确办理时限，事项已办结",
    ),
)

_KIND_AREA_WEIGHTS: dict[str, dict[str, float]] = {
    "p": {
        "医保社保": 20, "不动产登记": 15, "住房公积金": 12, "户籍证照": 12, "教育就学": 9,
        "公共服务": 11, "市场准入许可": 7, "营商环境": 3, "工程建设项目审批": 3, "其他": 6,
    },
    "e": {
        "工程建设项目审批": 24, "营商环境": 24, "市场准入许可": 20, "不动产登记": 6,
        "医保社保": 6, "住房公积金": 6, "公共服务": 6, "教育就学": 2, "其他": 6,
    },
}  # fmt: skip
_CUSTOM_AREA_WEIGHT = 4.0

_CHANNEL_WEIGHTS: dict[str, tuple[tuple[Channel, float], ...]] = {
    "p": (
        (Channel.WINDOW, 55), (Channel.PHONE, 18), (Channel.ONLINE, 10),
        (Channel.RATING_APP, 10), (Channel.REFERRED, 7),
    ),
    "e": (
        (Channel.ENTERPRISE_VISIT, 35), (Channel.WINDOW, 30), (Channel.PHONE, 10),
        (Channel.ONLINE, 12), (Channel.RATING_APP, 3), (Channel.REFERRED, 10),
    ),
}  # fmt: skip

_CHANNEL_LEADS: dict[Channel, str] = {
    Channel.WINDOW: "{who}来窗口反映：",
    Channel.PHONE: "{who}来电反映：",
    Channel.ONLINE: "{who}通过网上平台反映：",
    Channel.ENTERPRISE_VISIT: "入企访廉走访中，{who}反映：",
    Channel.RATING_APP: "“你评我督”小程序差评转办，{who}反映：",
    Channel.REFERRED: "市纪委监委“办不成事”监督窗口转办，{who}反映：",
}

_DEADLINES: dict[Nature, int] = {Nature.WONT: 5, Nature.HARD: 10, Nature.CANT: 3}
_GOOD_GRADES = (
    (VisitGrade.VERY_SATISFIED, 40.0), (VisitGrade.SATISFIED, 46.0),
    (VisitGrade.BASICALLY_SATISFIED, 14.0),
)  # fmt: skip
_BAD_GRADES = ((VisitGrade.DISSATISFIED, 85.0), (VisitGrade.VERY_DISSATISFIED, 15.0))
_REPLY_METHODS = (
    (ReplyMethod.PHONE, 50.0), (ReplyMethod.IN_PERSON, 30.0), (ReplyMethod.SMS, 10.0),
    (ReplyMethod.WRITTEN, 10.0),
)  # fmt: skip
_DONE_REPLIES = (
    "已告知当事人办理结果，当事人表示认可",
    "已将办理结果告知当事人",
    "已告知当事人办理结果并致歉",
    "已告知当事人办理进度和结果，当事人表示感谢",
)
_EXPLAINED_REPLIES = (
    "已向当事人解释政策依据，当事人表示理解",
    "已向当事人说明不能办的理由并耐心疏导",
    "已向当事人出示部门书面依据并解释，告知可行的替代途径",
)
_ACCOUNTABILITY = (
    "对窗口工作人员进行提醒谈话",
    "对相关责任人进行诫勉谈话",
    "责令窗口落实一次性告知制度",
    "对相关责任人进行批评教育",
)
_BAD_VISIT_NOTES = (
    "当事人认为答复未解决实际问题",
    "部门承诺的办理时限未兑现",
    "当事人对解释不认可，要求重新办理",
    "问题办结后又出现反复",
)
_GOOD_VISIT_NOTES = ("", "", "当事人表示问题已解决", "当事人对窗口工作表示感谢", "事项已落实")
_WITHDRAW_REASONS = (
    "当事人表示问题已自行解决",
    "当事人已通过其他途径办理",
    "当事人称暂不需要办理",
    "经沟通解释，当事人理解后主动撤回",
)
_RETURN_REASONS = (
    "答复后问题仍未落实",
    "回访后问题出现反弹",
    "部门办理结果与承诺不符",
    "又遇到新的办理障碍",
)
_NOTE_TEXTS = (
    "带班领导{leader}前往{stuck}现场督促办理",
    "召开协调会，{dept}{assist}参加，明确办理路径和时限",
    "电话催办{dept}，对方表示正在办理",
    "到{stuck}现场核查，调取办理记录",
)

# Share of cases per final status; the rest are visited (已回访).
# (status key, share, how strongly the status prefers recent cases: log-normal sigma)
# A window closes most matters within weeks, so the open ones are the last few weeks' intake
# (a few percent of two years), with a handful of stragglers that show up as overdue.
_STATUS_PLAN: tuple[tuple[str, float, float | None], ...] = (
    ("new", 0.002, 0.2),  # registered, not yet triaged: today's and yesterday's
    ("triaged", 0.004, 0.3),  # registered and triaged
    ("in_progress", 0.025, 0.3),
    ("concluded", 0.01, 0.3),
    ("withdrawn", 0.03, None),
)

_WORK_START = 8 * 3600 + 30 * 60  # 08:30
_MORNING_END = 12 * 3600  # 12:00
_AFTERNOON_START = 13 * 3600 + 30 * 60  # 13:30
_WORK_END = 17 * 3600 + 30 * 60  # 17:30
_MORNING = _MORNING_END - _WORK_START
_WORKING_SECONDS = _MORNING + (_WORK_END - _AFTERNOON_START)
_DAY_END = time(17, 30)

_CHUNK = 5000


# ------------------------------------------------------------------------------------------
# Check digits (GB 11643 / GB 11714 / GB 32100), uuids, the search body
# ------------------------------------------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def id_check_char(first17: str) -> str:
    """GB 11643 (ISO 7064 MOD 11-2) check character for 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def org_code_check_char(first8: str) -> str:
    """GB 11714 check character of an organization code (digits and capitals, A = 10)."""
    total = sum(int(ch, 36) * w for ch, w in zip(first8, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def credit_check_char(first17: str) -> str:
    """GB 32100 check character for 17 characters of the code alphabet."""
    total = sum(
        _CREDIT_ALPHABET.index(ch) * w for ch, w in zip(first17, _CREDIT_WEIGHTS, strict=True)
    )
    return _CREDIT_ALPHABET[(31 - total % 31) % 31]


_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


def _uuid(rng: random.Random) -> str:
    """A version-4 UUID string from the seeded generator (reproducible, unlike uuid4)."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


# ------------------------------------------------------------------------------------------
# Working time
# ------------------------------------------------------------------------------------------


class _WorkTime:
    """Working days around the demo period and random office-hour times on them."""

    def __init__(self, rng: random.Random, first: date, last: date) -> None:
        calendar = WorkdayCalendar()
        self._rng = rng
        days: list[date] = []
        day = first
        while day <= last:
            if calendar.is_working_day(day):
                days.append(day)
            day += timedelta(days=1)
        self.days = days

    def nth_after(self, day: date, n: int) -> date:
        """The n-th working day after ``day`` (n >= 1); n = 0: ``day`` or the next working day."""
        if n == 0:
            index = bisect.bisect_left(self.days, day)
        else:
            index = bisect.bisect_right(self.days, day) + n - 1
        return self.days[min(index, len(self.days) - 1)]

    def at(self, day: date, offset: int) -> datetime:
        """``offset`` seconds into the working hours of ``day`` (lunch break skipped)."""
        second = _WORK_START + offset if offset < _MORNING else _AFTERNOON_START + offset - _MORNING
        hour, minute = divmod(second // 60, 60)
        return datetime(day.year, day.month, day.day, hour, minute, second % 60)

    def random_on(self, day: date) -> datetime:
        return self.at(day, self._rng.randrange(_WORKING_SECONDS))

    def workdays_later(self, moment: datetime, n: int) -> datetime:
        return self.random_on(self.nth_after(moment.date(), n))

    def soon(self, moment: datetime, lo: int, hi: int, p_next_day: float) -> datetime:
        """Some minutes later the same day, or (if that runs past 17:30) the next working day."""
        if self._rng.random() >= p_next_day:
            candidate = moment + timedelta(seconds=self._rng.randint(lo * 60, hi * 60))
            if candidate.date() == moment.date() and candidate.time() <= _DAY_END:
                return candidate
        return self.workdays_later(moment, 1)


def working_seconds_before(moment: datetime) -> int:
    """How many seconds of ``moment``'s working hours lie before it."""
    second = moment.hour * 3600 + moment.minute * 60 + moment.second
    if second <= _WORK_START:
        return 0
    if second <= _MORNING_END:
        return second - _WORK_START
    if second <= _AFTERNOON_START:
        return _MORNING
    return _MORNING + min(second, _WORK_END) - _AFTERNOON_START


# ------------------------------------------------------------------------------------------
# Rows
# ------------------------------------------------------------------------------------------

_COMPLAINANT_COLUMNS = (
    "id", "uuid", "version", "kind", "name", "id_number", "credit_code", "contact_person",
    "phone", "address", "id_override_reason",
)  # fmt: skip
_CASE_COLUMNS = (
    "id", "uuid", "version", "site_code", "year", "seq", "number", "complainant_id", "title",
    "description", "area", "channel", "stuck_at", "stuck_department_id", "visits_count",
    "received_at", "status", "nature", "approach", "causes", "triaged_at", "outcome",
    "concluded_at", "visit_grade", "due_date", "linked_case_id", "created_by_id", "updated_at",
)  # fmt: skip
_CASE_DATETIMES = tuple(
    _CASE_COLUMNS.index(c) for c in ("received_at", "triaged_at", "concluded_at", "updated_at")
)
_CASE_DUE = _CASE_COLUMNS.index("due_date")
_CASE_LINKED = _CASE_COLUMNS.index("linked_case_id")
_CASE_CAUSES = _CASE_COLUMNS.index("causes")
_EVENT_COLUMNS = ("uuid", "version", "case_id", "at", "kind", "summary", "data", "user_name")


def _sqlite_datetime(value: datetime) -> str:
    """SQLAlchemy's SQLite DATETIME storage format (``2026-11-25 09:00:00.000000``)."""
    return value.isoformat(" ", "microseconds")


def _sqlite_case(row: tuple[Any, ...]) -> list[Any]:
    values = list(row)
    for index in _CASE_DATETIMES:
        if values[index] is not None:
            values[index] = _sqlite_datetime(values[index])
    if values[_CASE_DUE] is not None:
        values[_CASE_DUE] = values[_CASE_DUE].isoformat()
    causes = tuple(values[_CASE_CAUSES])
    encoded = _CAUSES_JSON.get(causes)
    if encoded is None:
        encoded = _CAUSES_JSON[causes] = json.dumps(values[_CASE_CAUSES])
    values[_CASE_CAUSES] = encoded
    return values


_CAUSES_JSON: dict[tuple[str, ...], str] = {}
_json_str = json.encoder.encode_basestring_ascii  # what json.dumps does to a str


def _insert_sql(table: str, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


@dataclass
class _Rows:
    complainants: list[tuple[Any, ...]] = field(default_factory=list)
    cases: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    search: list[tuple[int, str]] = field(default_factory=list)


# ------------------------------------------------------------------------------------------
# The generator
# ------------------------------------------------------------------------------------------


@dataclass
class _Person:
    id: int
    kind: str  # "p" / "e"
    name: str
    phone: str
    industry: str = ""


@dataclass
class _Closed:
    """A case that is closed for good: the matter a complainant may come back about."""

    closed_at: datetime
    case_id: int
    number: str
    uuid: str
    title: str
    area: str
    template: _Template
    person: _Person
    visits: int


@dataclass(frozen=True)
class _Staff:
    clerks: tuple[tuple[int, str], ...]  # (user id, display name)
    leaders: tuple[str, ...]


def _cumulative(weights: Iterable[float]) -> list[float]:
    total = 0.0
    result: list[float] = []
    for weight in weights:
        total += weight
        result.append(total)
    return result


Weighted = tuple[tuple[Any, ...], tuple[float, ...]]


def _weighted(pairs: Iterable[tuple[Any, float]]) -> Weighted:
    items = list(pairs)
    return tuple(v for v, _ in items), tuple(_cumulative(w for _, w in items))


_GOOD = _weighted(_GOOD_GRADES)
_BAD = _weighted(_BAD_GRADES)
_REPLIES = _weighted(_REPLY_METHODS)
_VISITS = _weighted(zip((1, 2, 3, 4, 5, 6), (15.0, 30.0, 28.0, 15.0, 8.0, 4.0), strict=True))
_CHANNELS = {kind: _weighted(pairs) for kind, pairs in _CHANNEL_WEIGHTS.items()}
_CAUSE_ORDER = {cause: i for i, cause in enumerate(Cause)}


class _Slots(dict[str, Any]):
    """Template slots, each drawn only when a template uses it."""

    def __init__(
        self,
        generator: _Generator,
        template: _Template,
        area: str,
        visits: int,
        department: tuple[int, str, str] | None,
    ) -> None:
        super().__init__(generator.words)
        self._generator = generator
        self._template = template
        self._area = area
        self._visits = visits
        self._department = department

    def __missing__(self, key: str) -> Any:
        value = self._generator.slot(
            key, self._template, self._area, self._visits, self._department
        )
        self[key] = value
        return value


class _Generator:
    def __init__(
        self,
        session: Session,
        rng: random.Random,
        now: datetime,
        site: Site,
        areas: Sequence[str],
        departments: dict[str, tuple[int, str, str]],  # key → (id, name, window)
        staff: _Staff,
        words: dict[str, str],
        towns: Sequence[str],
    ) -> None:
        self.session = session
        self.r = rng
        self.now = now
        self.site = site
        self.short = site.short_name
        self.areas = list(areas)
        self.departments = departments
        self.department_keys = list(departments)
        self.staff = staff
        self.words = words
        self.towns = towns
        self.work = _WorkTime(rng, now.date() - timedelta(days=740), now.date() + timedelta(400))
        self.surnames = _weighted(_SURNAMES)
        self.village_surnames = [s for s, _ in _SURNAMES[:40]]
        self.used_ids: set[str] = set()
        self.used_codes: set[str] = set()
        self.used_phones: set[str] = set()
        self.used_company_names: set[str] = set()
        self.persons: list[_Person] = []
        self.enterprises: dict[str, list[_Person]] = {}
        self.templates: dict[tuple[str, str], Weighted] = {}
        for area in self.areas:
            for kind in ("p", "e"):
                found = [t for t in _TEMPLATES if t.area == area and kind in t.kinds]
                if not found:
                    found = [t for t in _GENERIC_TEMPLATES if kind in t.kinds]
                self.templates[(area, kind)] = _weighted((t, t.weight) for t in found)
        self.natures = {id(t): _weighted(t.natures) for t in (*_TEMPLATES, *_GENERIC_TEMPLATES)}
        self.area_weights: dict[str, Weighted] = {}
        for kind, weights in _KIND_AREA_WEIGHTS.items():
            area_weights = [
                weights.get(area, 0.0) if area in DEFAULT_AREAS else _CUSTOM_AREA_WEIGHT
                for area in self.areas
            ]
            if not any(area_weights):
                area_weights = [1.0] * len(self.areas)
            self.area_weights[kind] = _weighted(zip(self.areas, area_weights, strict=True))
        self.next_complainant_id = (session.scalar(select(func.max(Complainant.id))) or 0) + 1
        self.sequences: dict[int, int] = {}
        self.by_status: Counter[str] = Counter()
        self.event_count = 0
        self.complainant_count = 0
        self.json_cache: dict[tuple[Any, ...], str] = {}
        raw = session.connection().connection.driver_connection
        # SQLite: plain executemany on the session's own connection (same transaction); it is
        # several times faster than SQLAlchemy's per-row parameter processing.
        self.raw: sqlite3.Connection | None = raw if isinstance(raw, sqlite3.Connection) else None

    def pick(self, weighted: Weighted) -> Any:
        values, cumulative = weighted
        return values[bisect.bisect(cumulative, self.r.random() * cumulative[-1])]

    # People ---------------------------------------------------------------------------------

    def person_name(self, male: bool, born: int) -> str:
        surname: str = self.pick(self.surnames)
        return surname + _given_name(self.r, male, born)

    def mobile(self) -> str:
        while True:
            phone = self.r.choice(_MOBILE_PREFIXES) + f"{self.r.randrange(10**8):08d}"
            if phone not in self.used_phones:
                self.used_phones.add(phone)
                return phone

    def id_number(self, male: bool, born: date) -> str:
        r = self.r
        code = self.site.code
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
                body = "MA" + "".join(r.choice(_CREDIT_ALPHABET) for _ in range(6))
            else:
                body = str(r.randint(3, 7)) + f"{r.randrange(10**7):07d}"
            first17 = f"9{kind}{self.site.code}{body}{org_code_check_char(body)}"
            code = first17 + credit_check_char(first17)
            if code not in self.used_codes:
                self.used_codes.add(code)
                return code

    def village(self) -> str:
        return self.r.choice(self.village_surnames) + self.r.choice(_VILLAGE_SUFFIXES) + "村"

    def address(self) -> str:
        r = self.r
        town = r.choice(self.towns)
        if town.endswith("街道") or (town == self.towns[0] and r.random() < 0.6):
            road = r.choice(("人民路", "建设路", "文化路", "解放路", "金城大道", "迎宾路"))
            return f"{self.words['P']}{town}{road}{r.randint(1, 300)}号"
        return f"{self.words['P']}{town}{self.village()}{r.randint(1, 12)}组"

    def new_person(self, rows: _Rows) -> _Person:
        r = self.r
        male = r.random() < 0.55
        year = min(2004, max(1950, int(r.triangular(1950, 2005, 1972))))
        born = date(year, r.randint(1, 12), r.randint(1, 28))
        name = self.person_name(male, year)
        person = _Person(self.next_complainant_id, "p", name, self.mobile())
        self.next_complainant_id += 1
        rows.complainants.append(
            (
                person.id, _uuid(r), 1, ComplainantKind.PERSON.value, name,
                self.id_number(male, born), "", "", person.phone, self.address(), "",
            )
        )  # fmt: skip
        self.persons.append(person)
        return person

    def new_enterprise(self, rows: _Rows, industry: str) -> _Person:
        r = self.r
        industry = industry or r.choice(list(_INDUSTRIES))
        prefix = self.words["P"]
        kind = "1"
        for attempt in range(1000):
            suffix, kind = r.choice(_INDUSTRIES[industry])
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
        contact = self.person_name(r.random() < 0.6, r.randint(1960, 1998))
        enterprise = _Person(self.next_complainant_id, "e", name, self.mobile(), industry)
        self.next_complainant_id += 1
        place = r.choice(("产业集聚区", "工业园区", "商贸街", "创业园"))
        rows.complainants.append(
            (
                enterprise.id, _uuid(r), 1, ComplainantKind.ENTERPRISE.value, name, "",
                self.credit_code(kind), contact, enterprise.phone,
                f"{prefix}{r.choice(self.towns)}{place}{r.randint(1, 99)}号", "",
            )
        )  # fmt: skip
        self.enterprises.setdefault(industry, []).append(enterprise)
        return enterprise

    def complainant(self, rows: _Rows, kind: str, industry: str) -> _Person:
        r = self.r
        if kind == "p":
            if self.persons and r.random() < 0.05:
                return r.choice(self.persons)
            return self.new_person(rows)
        pool = self.enterprises.get(industry or "", [])
        # A county has a few thousand firms: the more we know, the likelier one comes back.
        if pool and r.random() < 0.12 + 0.5 * len(pool) / (len(pool) + 1500):
            return r.choice(pool)
        return self.new_enterprise(rows, industry)

    # Cases ----------------------------------------------------------------------------------

    def received_times(self, n: int) -> list[datetime]:
        """``n`` intake times on working days of the last two years, denser towards now."""
        r = self.r
        today = self.now.date()
        first = today - timedelta(days=730)
        days = [d for d in self.work.days if first < d <= today]
        today_seconds = working_seconds_before(self.now)
        if days and days[-1] == today and today_seconds <= 0:
            days.pop()
        if not days:
            raise UserError("演示数据所需的工作日不足")
        span = (today - first).days
        weights = [1.0 + 2.0 * (d - first).days / span for d in days]
        if days[-1] == today:
            weights[-1] *= today_seconds / _WORKING_SECONDS
        picked = r.choices(days, cum_weights=_cumulative(weights), k=n)
        at = self.work.at
        times = [
            at(d, r.randrange(today_seconds if d == today else _WORKING_SECONDS)) for d in picked
        ]
        times.sort()
        return times

    def statuses(self, received: Sequence[datetime]) -> list[str]:
        """Each case's final state: recent cases are more often still open."""
        r = self.r
        n = len(received)
        result = ["visited"] * n
        free = list(range(n))
        ages = [(self.now - t).total_seconds() / 3600 + 1.0 for t in received]
        for state, share, sigma in _STATUS_PLAN:
            count = min(len(free), round(n * share))
            if count == 0:
                continue
            if sigma is None:
                chosen = r.sample(free, count)
            else:
                keys = {i: ages[i] * math.exp(r.gauss(0.0, sigma)) for i in free}
                chosen = sorted(free, key=keys.__getitem__)[:count]
            for i in chosen:
                result[i] = state
            taken = set(chosen)
            free = [i for i in free if i not in taken]
        return result

    def forced(self, n: int, values: Sequence[str]) -> dict[int, str]:
        """Positions that take each value once, so every area/channel appears."""
        if n < len(values):
            return {}
        return dict(zip(self.r.sample(range(n), len(values)), values, strict=True))

    def generate(self, n: int, first_case_id: int) -> tuple[int, int]:
        r = self.r
        received = self.received_times(n) if n else []
        states = self.statuses(received)
        forced_area = self.forced(n, self.areas)
        forced_channel = {
            i: Channel(c) for i, c in self.forced(n, [c.value for c in Channel]).items()
        }
        for year in sorted({t.year for t in received}):
            row = self.session.get(NumberSequence, ("case", year))
            self.sequences[year] = row.last_value if row is not None else 0
        closing: list[tuple[datetime, int, _Closed]] = []  # heap, by closing time
        closed: list[_Closed] = []  # closed before the case being generated, oldest first
        linked_already: set[int] = set()
        rows = _Rows()
        for i, at in enumerate(received):
            while closing and closing[0][0] < at:
                closed.append(heapq.heappop(closing)[2])
            earlier: _Closed | None = None
            if closed and r.random() < 0.04:
                candidate = closed[-1 - min(len(closed) - 1, int(r.expovariate(1 / 40)))]
                if candidate.case_id not in linked_already:
                    earlier = candidate
            record = self.case(
                rows, first_case_id + i, at, states[i], forced_area.get(i),
                forced_channel.get(i), earlier,
            )  # fmt: skip
            if record is not None:
                heapq.heappush(closing, (record.closed_at, record.case_id, record))
            if earlier is not None and rows.cases[-1][_CASE_LINKED] is not None:
                linked_already.add(earlier.case_id)
            if len(rows.cases) >= _CHUNK:
                self.flush(rows)
                rows = _Rows()
        self.flush(rows)
        return self.complainant_count, self.event_count

    def case(
        self,
        rows: _Rows,
        case_id: int,
        received: datetime,
        state: str,
        area: str | None,
        channel: Channel | None,
        earlier: _Closed | None,
    ) -> _Closed | None:
        r = self.r
        w = self.work
        # Who, what, where -------------------------------------------------------------------
        if earlier is not None and (
            area is not None or (channel is Channel.ENTERPRISE_VISIT and earlier.person.kind == "p")
        ):
            earlier = None  # this position must show a given area or channel
        if earlier is not None:
            template = earlier.template
            person = earlier.person
            area = earlier.area
            if channel is None:
                channel = r.choice((Channel.WINDOW, Channel.WINDOW, Channel.PHONE))
        else:
            kind = "e" if r.random() < 0.25 or channel is Channel.ENTERPRISE_VISIT else "p"
            if area is None:
                area = self.pick(self.area_weights[kind])
            template = self.pick(self.templates[(area, kind)])
            if channel is None:
                channel = self.pick(_CHANNELS[kind])
            person = self.complainant(rows, kind, template.industry)
        assert area is not None and channel is not None
        dept_key = template.dept or ("" if template.area else r.choice(self.department_keys))
        department = self.departments.get(dept_key)
        visits: int = (
            min(99, earlier.visits + 1 + (r.random() < 0.3))
            if earlier is not None
            else self.pick(_VISITS)
        )
        slots = _Slots(self, template, area, visits, department)
        if earlier is not None:
            title = earlier.title
            if not title.startswith("再次反映"):
                title = f"再次反映：{title}"
            when = earlier.closed_at
            story = (
                f"此前于{when.year}年{when.month}月{when.day}日反映的“{earlier.title}”"
                f"（{earlier.number}），{r.choice(_RETURN_REASONS)}，{slots['trips']}。"
            )
        else:
            title = r.choice(template.titles).format_map(slots)
            story = r.choice(template.stories).format_map(slots)
        description = _CHANNEL_LEADS[channel].format(who=person.name) + story
        if template.stuck:
            stuck_at = r.choice(template.stuck).format_map(slots)
        elif department is not None:
            stuck_at = department[2]
        else:
            stuck_at = ""
        blamed = department is not None and r.random() < 0.93
        stuck_department_id = department[0] if department is not None and blamed else None

        # Triage -----------------------------------------------------------------------------
        nature: Nature = self.pick(self.natures[id(template)])
        approach, causes = self.triage_choice(nature, template, channel)
        explained = (nature is Nature.CANT and r.random() < 0.85) or (
            nature is Nature.HARD and r.random() < 0.04
        )
        on_spot = state != "in_progress" and (
            (approach is Approach.IMMEDIATE and r.random() < 0.6)
            or (nature is Nature.CANT and r.random() < 0.35)
        )

        # Timeline ---------------------------------------------------------------------------
        steps: list[tuple[str, datetime]] = [("registered", received)]

        def add(kind_: str, moment: datetime) -> datetime:
            steps.append((kind_, moment))
            return moment

        def work_through(start: datetime, reopened: bool) -> datetime:
            """Assignment (unless settled on the spot) and the conclusion; returns its time."""
            if on_spot and not reopened:
                return add("concluded", w.soon(start, 10, 90, 0.1))
            assigned = add("reassigned" if reopened else "assigned", w.soon(start, 10, 150, 0.3))
            days = self.deadline(nature, approach, reopened)
            k = r.randint(days + 1, days + 4) if r.random() < 0.12 else r.randint(0, days)
            if r.random() < 0.25:
                note = w.soon(assigned, 30, 180, 0.5)
                if k >= 1 and note.date() < w.nth_after(assigned.date(), k):
                    add("note", note)
            if k == 0:
                return add("concluded", w.soon(steps[-1][1], 30, 240, 0.4))
            return add("concluded", w.workdays_later(assigned, k))

        if state != "new" and not (state == "withdrawn" and r.random() < 0.3):
            triaged = add("triaged", w.soon(received, 5, 90, 0.25))
            reopen = (
                (state == "in_progress" and r.random() < 0.2)
                or (state == "visited" and r.random() < 0.03)
                or (state == "concluded" and r.random() < 0.03)
            )
            if state == "in_progress" and not reopen:
                assigned = add("assigned", w.soon(triaged, 10, 150, 0.3))
                if r.random() < 0.25:
                    add("note", w.soon(assigned, 30, 180, 0.5))
                if r.random() < 0.08:
                    add("repeat_visit", w.workdays_later(steps[-1][1], r.randint(1, 5)))
            elif state in ("in_progress", "concluded", "visited"):
                done_at = work_through(triaged, False)
                if reopen:
                    bad = add("visited_bad", w.workdays_later(done_at, r.randint(1, 5)))
                    add("reopened", bad)
                    if state != "in_progress" or r.random() < 0.6:
                        done_at = work_through(bad, True)
                        if state == "in_progress":
                            steps.pop()  # the department has not answered yet
                if state == "visited":
                    add("visited", w.workdays_later(done_at, r.randint(1, 5)))
            elif state == "withdrawn" and r.random() < 0.5 and not on_spot:
                add("assigned", w.soon(triaged, 10, 150, 0.3))
        if state == "withdrawn":
            add("withdrawn", w.workdays_later(steps[-1][1], r.randint(1, 6)))
        times = _fit(self.now, [t for _, t in steps])

        # Rows -------------------------------------------------------------------------------
        year = received.year
        seq = self.sequences.get(year, 0) + 1
        self.sequences[year] = seq
        number = case_number(self.short, year, seq)
        case_uuid = _uuid(r)
        clerk_id, clerk = r.choice(self.staff.clerks)
        raw = self.raw is not None
        events = rows.events
        triaged_at: datetime | None = None
        concluded_at: datetime | None = None
        outcome: Outcome | None = None
        grade: VisitGrade | None = None
        due: date | None = None
        status = CaseStatus.REGISTERED
        assist = (
            [self.departments[a][1] for a in template.assist if a in self.departments][:1]
            if template.assist and nature is Nature.HARD and r.random() < 0.4
            else []
        )
        after_reopen = False
        for (step, _), moment in zip(steps, times, strict=True):
            kind_name = step
            data: dict[str, Any] = {}
            data_key: tuple[Any, ...] | None = ()
            user = clerk
            if step == "registered":
                summary = f"受理登记，来源：{channel.label}，往返 {visits} 次"
                if earlier is not None:
                    summary += f"；关联原事项 {earlier.number}"
                    data_key = ("linked",)
                else:
                    data_key = ("registered",)
                data = {"linked_case": earlier.uuid if earlier is not None else None}
            elif step == "triaged":
                triaged_at = moment
                summary = (
                    f"问题性质：{nature.label}；处置方式：{approach.label}；"
                    f"受阻原因：{'、'.join(c.label for c in causes)}；领域：{area}"
                )
            elif step in ("assigned", "reassigned"):
                kind_name = EventKind.ASSIGNED.value
                reopened = step == "reassigned"
                days = self.deadline(nature, approach, reopened)
                target = department or self.departments.get("shenpi")
                if target is None:
                    target = next(iter(self.departments.values()))
                due = w.nth_after(moment.date(), days)
                user = self.leader_on(moment.date())
                summary = self.assignment_text(target[1], nature, approach, days, assist, reopened)
                data = {
                    "kind": "督办" if reopened else "交办",
                    "department": target[1],
                    "department_id": target[0],
                    "assist": assist,
                    "working_days": days,
                    "due_date": due.isoformat(),
                    "signed_by": user,
                }
                data_key = ("assigned",)
                status = CaseStatus.IN_PROGRESS
            elif step == "note":
                user = self.leader_on(moment.date())
                summary = r.choice(_NOTE_TEXTS).format(
                    leader=user,
                    stuck=stuck_at or (department[1] if department else "相关部门"),
                    dept=department[1] if department else "相关部门",
                    assist=f"、{assist[0]}" if assist else "",
                )
            elif step == "repeat_visit":
                visits = min(99, visits + 1)
                summary = f"{person.name}再次来访（第 {visits} 次）：{title}"
                data = {"title": title, "description": "询问办理进度，反映至今仍未办结"}
                data_key = None
            elif step == "concluded":
                outcome = Outcome.EXPLAINED if explained else Outcome.DONE
                if after_reopen and r.random() < 0.9:
                    outcome = Outcome.DONE
                concluded_at = moment
                method: ReplyMethod = self.pick(_REPLIES)
                summary = (
                    f"办结（{outcome.label}）：{self.done_text(template, nature, outcome, slots)}；"
                    f"{method.label}：{self.reply_text(outcome)}"
                )
                data = {"outcome": outcome.value, "reply_method": method.value}
                data_key = ("concluded", outcome, method)
                status = CaseStatus.CONCLUDED
            elif step in ("visited", "visited_bad"):
                kind_name = EventKind.VISITED.value
                grade = self.pick(_BAD if step == "visited_bad" else _GOOD)
                assert grade is not None
                note = r.choice(_BAD_VISIT_NOTES if grade.reopens else _GOOD_VISIT_NOTES)
                summary = f"回访评价：{grade.label}" + (f"；{note}" if note else "")
                data = {"grade": grade.value}
                data_key = ("visited", grade)
                status = CaseStatus.VISITED
            elif step == "reopened":
                assert grade is not None
                summary = f"回访{grade.label}，事项重办；原办理结果保留在记录中"
                outcome = None
                concluded_at = None
                after_reopen = True
                status = CaseStatus.IN_PROGRESS
            else:  # withdrawn
                summary = f"当事人撤回：{r.choice(_WITHDRAW_REASONS)}"
                outcome = Outcome.WITHDRAWN
                concluded_at = moment
                status = CaseStatus.WITHDRAWN
            if raw:
                events.append(
                    (
                        _uuid(r), 1, case_id, _sqlite_datetime(moment), kind_name, summary,
                        self.json(data, data_key), user,
                    )
                )  # fmt: skip
            else:
                events.append((_uuid(r), 1, case_id, moment, kind_name, summary, data, user))
        self.event_count += len(steps)
        self.by_status[status.value] += 1
        rows.cases.append(
            (
                case_id, case_uuid, len(steps), self.site.code, year, seq, number, person.id,
                title, description, area, channel.value, stuck_at, stuck_department_id, visits,
                received, status.value,
                nature.value if triaged_at else None,
                approach.value if triaged_at else None,
                [c.value for c in causes] if triaged_at else [],
                triaged_at,
                outcome.value if outcome else None,
                concluded_at,
                grade.value if grade else None,
                due,
                earlier.case_id if earlier is not None else None,
                clerk_id,
                times[-1],
            )
        )  # fmt: skip
        fields = search.case_fields(number, person.name, title, description, stuck_at, person.phone)
        rows.search.append((case_id, search.index_text(fields)))
        if status in (CaseStatus.VISITED, CaseStatus.CONCLUDED, CaseStatus.WITHDRAWN):
            assert concluded_at is not None
            return _Closed(
                concluded_at, case_id, number, case_uuid, title, area, template, person, visits
            )
        return None

    def json(self, data: dict[str, Any], key: tuple[Any, ...] | None) -> str:
        """``data`` as SQLAlchemy's JSON type stores it (``json.dumps``), but quicker.

        Repeated shapes are cached; the two frequent unique ones are written directly.
        """
        if key is None:
            return json.dumps(data)
        if key == ("assigned",):
            assist = ", ".join(_json_str(a) for a in data["assist"])
            return (
                f'{{"kind": {_json_str(data["kind"])}, '
                f'"department": {_json_str(data["department"])}, '
                f'"department_id": {data["department_id"]}, "assist": [{assist}], '
                f'"working_days": {data["working_days"]}, "due_date": "{data["due_date"]}", '
                f'"signed_by": {_json_str(data["signed_by"])}}}'
            )
        if key == ("linked",):
            return f'{{"linked_case": "{data["linked_case"]}"}}'
        cached = self.json_cache.get(key)
        if cached is None:
            cached = self.json_cache[key] = json.dumps(data)
        return cached

    def slot(
        self,
        key: str,
        template: _Template,
        area: str,
        visits: int,
        department: tuple[int, str, str] | None,
    ) -> Any:
        r = self.r
        year_now = self.now.year
        if key == "trips":
            if visits == 1:
                return r.choice(("此前已电话咨询未果", "第一次去办就被拒绝"))
            return r.choice(
                (f"先后跑了{visits}趟仍未办成", f"来回跑了{visits}次", f"已往返{visits}次")
            )
        if key == "town":
            return self.towns[0] if template.dept == "xiangzhen" else r.choice(self.towns)
        simple: dict[str, Any] = {
            "v": visits,
            "area": area,
            "dept": department[1] if department is not None else "相关部门",
        }
        if key in simple:
            return simple[key]
        if key == "village":
            return self.village()
        if key == "relative":
            return r.choice(_RELATIVES)
        if key == "elder":
            return r.choice(_ELDERS)
        ranges = {
            "n": (8, 60),
            "n2": (2, 5),
            "n3": (2, 5),
            "n4": (12, 40),
            "n5": (18, 26),
            "year": (1992, 2008),
            "year2": (year_now - 6, year_now - 1),
            "year_recent": (year_now - 1, year_now),
            "month": (1, 12),
            "money": (30, 900),
        }
        if key in ranges:
            return r.randint(*ranges[key])
        if key == "project":
            return f"{self.words['P']}{r.choice(_PROJECT_KINDS)}"
        if key == "kva":
            return r.choice((250, 400, 630, 800, 1250))
        raise KeyError(key)

    def triage_choice(
        self, nature: Nature, template: _Template, channel: Channel
    ) -> tuple[Approach, list[Cause]]:
        r = self.r
        causes: list[Cause]
        if nature is Nature.WONT:
            approach = Approach.ORDER if r.random() < 0.6 else Approach.SUPERVISE
            if template.quick and r.random() < 0.2:
                approach = Approach.IMMEDIATE
            human = [c for c in template.causes if c in (Cause.ATTITUDE, Cause.SHIRKING)]
            causes = [human[0] if human else r.choice((Cause.ATTITUDE, Cause.SHIRKING))]
            if r.random() < 0.3:
                causes.append(Cause.SHIRKING if causes[0] is Cause.ATTITUDE else Cause.ATTITUDE)
            if Cause.MATERIALS in template.causes and r.random() < 0.5:
                causes.append(Cause.MATERIALS)
        elif nature is Nature.HARD:
            approach = Approach.PUSH
            if template.quick and r.random() < 0.45:
                approach = Approach.IMMEDIATE
            typical: list[Cause] = [
                c for c in template.causes if c in (Cause.POLICY, Cause.MATERIALS, Cause.PROCESS)
            ]
            causes = typical or [Cause.PROCESS]
            if len(causes) > 1 and r.random() < 0.4:
                causes = [r.choice(causes)]
            if Cause.SHIRKING in template.causes and r.random() < 0.4:
                causes.append(Cause.SHIRKING)
        else:
            approach = Approach.PUSH if r.random() < 0.6 else Approach.SUPERVISE
            causes = [Cause.POLICY]
            if Cause.MATERIALS in template.causes and r.random() < 0.3:
                causes.append(Cause.MATERIALS)
        if channel is Channel.RATING_APP or r.random() < 0.03:
            causes.append(Cause.DISSATISFIED)
        return approach, sorted(set(causes), key=_CAUSE_ORDER.__getitem__)

    @staticmethod
    def deadline(nature: Nature, approach: Approach, reopened: bool) -> int:
        if reopened:
            return 5
        if approach is Approach.IMMEDIATE:
            return 0
        return _DEADLINES[nature]

    @staticmethod
    def assignment_text(
        department: str,
        nature: Nature,
        approach: Approach,
        days: int,
        assist: Sequence[str],
        reopened: bool,
    ) -> str:
        helpers = f"，{'、'.join(assist)}协办" if assist else ""
        if reopened:
            return f"重办：向{department}下发督办单，限{days}个工作日办结"
        if approach is Approach.IMMEDIATE:
            return f"交办{department}办理，限当日办结"
        if nature is Nature.CANT:
            return (
                f"交办{department}，限{days}个工作日内提交由主要负责人签字的不能办书面依据{helpers}"
            )
        return f"交办{department}办理，限{days}个工作日{helpers}"

    def done_text(
        self, template: _Template, nature: Nature, outcome: Outcome, slots: _Slots
    ) -> str:
        r = self.r
        if outcome is Outcome.EXPLAINED:
            reason = template.explain or "经研判该事项受现行政策限制暂不能办理，部门已出具书面依据"
            return reason.format_map(slots)
        done = r.choice(template.done).format_map(slots)
        if nature is Nature.WONT and r.random() < 0.7:
            done += f"，{r.choice(_ACCOUNTABILITY)}"
        return done

    def reply_text(self, outcome: Outcome) -> str:
        return self.r.choice(_EXPLAINED_REPLIES if outcome is Outcome.EXPLAINED else _DONE_REPLIES)

    def leader_on(self, day: date) -> str:
        """带班领导 rotate in 14-day cycles, as in Kaifeng."""
        leaders = self.staff.leaders
        return leaders[(day.toordinal() // 14) % len(leaders)]

    # Writing --------------------------------------------------------------------------------

    def flush(self, rows: _Rows) -> None:
        self.complainant_count += len(rows.complainants)
        if self.raw is not None:
            cursor = self.raw.cursor()
            try:
                cursor.executemany(
                    _insert_sql(Complainant.__tablename__, _COMPLAINANT_COLUMNS), rows.complainants
                )
                cursor.executemany(
                    _insert_sql(Case.__tablename__, _CASE_COLUMNS),
                    [_sqlite_case(row) for row in rows.cases],
                )
                cursor.executemany(
                    _insert_sql(CaseEvent.__tablename__, _EVENT_COLUMNS), rows.events
                )
                cursor.executemany(
                    "INSERT INTO case_search(rowid, body) VALUES (?, ?)", rows.search
                )
            finally:
                cursor.close()
            return
        # Other databases (a city on PostgreSQL): Core bulk inserts; case_search is a plain table.
        session = self.session
        for model, columns, data in (
            (Complainant, _COMPLAINANT_COLUMNS, rows.complainants),
            (Case, _CASE_COLUMNS, rows.cases),
            (CaseEvent, _EVENT_COLUMNS, rows.events),
        ):
            if data:
                session.execute(
                    insert(_table(model)), [dict(zip(columns, row, strict=True)) for row in data]
                )
        if rows.search:
            session.execute(
                text("INSERT INTO case_search(rowid, body) VALUES (:rowid, :body)"),
                [{"rowid": case_id, "body": body} for case_id, body in rows.search],
            )


def _stamp_for_export(session: Session) -> None:
    """Rows written in bulk (Core inserts) belong to the next export generation, like those the
    ORM writes (storage.models._mark_for_export)."""
    current = session.scalar(select(Setting.value).where(Setting.key == EXPORT_GENERATION_KEY))
    generation = int(current) + 1 if current else 1
    for model in (Department, Complainant, Case, CaseEvent, Attachment, Assignment, Slip):
        session.execute(
            update(model).where(model.change_seq.is_(None)).values(change_seq=generation)
        )


def _fit(now: datetime, times: list[datetime]) -> list[datetime]:
    """Squeeze a timeline that would run past ``now`` into [first event, now] (order kept)."""
    if times[-1] <= now:
        return times
    start = times[0]
    limit = now - timedelta(minutes=1) if now - start > timedelta(minutes=5) else now
    scale = (limit - start) / (times[-1] - start)
    return [start + timedelta(seconds=int((t - start).total_seconds() * scale)) for t in times]


def _landline(rng: random.Random, area_code: str) -> str:
    return f"{area_code}-{rng.randint(2, 8)}{rng.randrange(10**7):07d}"


# ------------------------------------------------------------------------------------------
# The service
# ------------------------------------------------------------------------------------------


class DemoService:
    """Fills an initialised, still empty site with demo departments, users and cases."""

    def __init__(self, db: Database, clock: Clock, keys: SiteKeys | None = None) -> None:
        self._db = db
        self._clock = clock
        self._keys = keys

    def generate(self, cases: int, *, seed: int = 20261125) -> DemoSummary:
        if not 0 <= cases <= MAX_DEMO_CASES:
            raise ValidationFailed({"cases": f"演示事项数量应在 0 到 {MAX_DEMO_CASES} 之间"})
        now = self._clock.now().replace(microsecond=0)
        rng = random.Random(seed)
        with self._db.read() as session:
            self._ready_site(session)
        # Outside the write transaction (argon2 is slow on purpose). The demo users share one
        # published password, so one hash serves them all.
        password_hash = hash_password(DEMO_PASSWORD)
        with self._db.write() as session:
            site = self._ready_site(session)
            level = SiteLevel(site.level)
            prefix = _department_prefix(site.short_name, level)
            towns = _QIXIAN_TOWNS if site.code == "410221" else _GENERIC_TOWNS
            words = {
                "P": prefix,
                "L": _level_letter(site.short_name, level),
                "town0": towns[0],
                "gjj": _housing_fund_name(site.code, prefix, level),
                "gjj_window": (
                    f"{prefix}住房公积金管理中心服务大厅"
                    if level is SiteLevel.CITY
                    else f"公积金{prefix}管理部服务柜台"
                ),
                "hospital": f"{prefix}人民医院",
            }
            areas = list(
                session.scalars(
                    select(Area.name).where(Area.active.is_(True)).order_by(Area.position, Area.id)
                )
            )
            if not areas:
                raise UserError("站点没有可用的领域，请先在设置中添加领域，再生成演示数据。")
            staff_rng = random.Random(seed ^ 0x5EED)
            departments = self._departments(session, staff_rng, words, site.code)
            staff, logins = self._users(session, staff_rng, password_hash, now)
            generator = _Generator(session, rng, now, site, areas, departments, staff, words, towns)
            first_id = (session.scalar(select(func.max(Case.id))) or 0) + 1
            complainants, events = generator.generate(cases, first_id)
            for year, last in sorted(generator.sequences.items()):
                row = session.get(NumberSequence, ("case", year))
                if row is None:
                    session.add(NumberSequence(kind="case", year=year, last_value=last))
                else:
                    row.last_value = last
            site.is_demo = True
            closure = _demo_closure(session, now)
            _demo_roster(session, staff, now.date())
            _fill_deadlines(session, now)
            if self._keys is not None:
                self._keys.ensure()
                _demo_assignments(session, self._keys, random.Random(seed ^ 0xA551), now)
            if session.get_bind().dialect.name == "postgresql":
                # Ids were given explicitly: move the serial sequences past them.
                for table in ("complainants", "cases", "assignments"):
                    session.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT MAX(id) FROM {table}))"
                        )
                    )
            by_status = {s.value: generator.by_status.get(s.value, 0) for s in CaseStatus}
            session.flush()
            _stamp_for_export(session)
            audit.record(
                session,
                at=now,
                user_name="demo",
                action="demo_generate",
                entity="site",
                entity_uuid=site.code,
                after={
                    "cases": cases,
                    "seed": seed,
                    "departments": len(departments),
                    "users": [login.username for login in logins],
                    "complainants": complainants,
                    "events": events,
                    "by_status": by_status,
                    "closure": closure.isoformat(),
                },
            )
        return DemoSummary(cases, len(departments), logins, by_status)

    @staticmethod
    def _ready_site(session: Session) -> Site:
        site = session.scalar(select(Site).where(Site.is_local.is_(True)))
        if site is None:
            raise UserError("站点尚未初始化，请先运行 bbcs init 完成站点设置，再生成演示数据。")
        if session.scalar(select(func.count(Case.id))):
            raise UserError(
                "本站点已有反映事项，不能再生成演示数据。演示数据只能在新建的空站点中生成。"
            )
        usernames = [u for u, _, _ in DEMO_USERS]
        taken = list(session.scalars(select(User.username).where(User.username.in_(usernames))))
        if taken:
            raise UserError(f"用户名“{'、'.join(taken)}”已被使用，无法创建演示用户。")
        return site

    @staticmethod
    def _departments(
        session: Session, rng: random.Random, words: dict[str, str], site_code: str
    ) -> dict[str, tuple[int, str, str]]:
        existing = {d.name: d for d in session.scalars(select(Department))}
        names = _NameSource(rng)
        area_code = _AREA_CODES.get(site_code[:4]) or _AREA_CODES.get(site_code[:2], "0371")
        result: dict[str, tuple[int, str, str]] = {}
        for key, name_format, window_format in _DEPARTMENTS:
            name = name_format.format_map(words)
            department = existing.get(name)
            if department is None:
                department = Department(
                    uuid=_uuid(rng),
                    name=name,
                    principal_leader=names.name(),
                    contact_person=names.name(),
                    contact_phone=_landline(rng, area_code),
                )
                session.add(department)
                session.flush()
            result[key] = (department.id, name, window_format.format_map(words))
        return result

    @staticmethod
    def _users(
        session: Session, rng: random.Random, password_hash: str, now: datetime
    ) -> tuple[_Staff, tuple[DemoLogin, ...]]:
        clerks: list[tuple[int, str]] = []
        leaders: list[str] = []
        logins: list[DemoLogin] = []
        for username, display_name, role in DEMO_USERS:
            user = User(
                uuid=_uuid(rng),
                username=username,
                display_name=display_name,
                role=role.value,
                password_hash=password_hash,
                phone=rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}",
                created_at=now,
            )
            session.add(user)
            session.flush()
            if role is Role.CLERK:
                clerks.append((user.id, display_name))
            elif role is Role.DUTY_LEADER:
                leaders.append(display_name)
            logins.append(DemoLogin(username, display_name, role))
        return _Staff(tuple(clerks), tuple(leaders)), tuple(logins)


class _NameSource:
    """Plain Chinese names for department leaders and contacts."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._cum = _cumulative(w for _, w in _SURNAMES)
        self._surnames = [s for s, _ in _SURNAMES]

    def name(self) -> str:
        r = self._rng
        surname = r.choices(self._surnames, cum_weights=self._cum)[0]
        return surname + _given_name(r, r.random() < 0.65, r.randint(1965, 1990))


def _given_name(r: random.Random, male: bool, born: int) -> str:
    """A given name that fits the person's sex and generation; a few have one character."""
    roll = r.random()
    if roll < 0.004:  # 生僻字
        return r.choice(_RARE_CHARS) + (
            r.choice(_MALE_SINGLE if male else _FEMALE_SINGLE) if r.random() < 0.5 else ""
        )
    if roll < 0.15:
        return r.choice(_MALE_SINGLE if male else _FEMALE_SINGLE)
    if born < 1968 or (born < 1975 and roll < 0.5):
        return r.choice(_MALE_OLD if male else _FEMALE_OLD)
    if born >= 1995 or (born >= 1988 and roll < 0.5):
        return r.choice(_MALE_YOUNG if male else _FEMALE_YOUNG)
    return r.choice(_MALE_MIDDLE if male else _FEMALE_MIDDLE)


def _department_prefix(short: str, level: SiteLevel) -> str:
    """杞县 → 杞县; a short name without 县/区/市 gets one (开封 → 开封市)."""
    if short.endswith(("县", "区", "市", "旗")):
        return short
    return short + ("市" if level is SiteLevel.CITY else "县")


def _level_letter(short: str, level: SiteLevel) -> str:
    """县 / 区 / 市, as in 县医保局服务窗口."""
    if level is SiteLevel.CITY:
        return "市"
    if short.endswith(("区", "市")):
        return short[-1]
    return "县"


def _housing_fund_name(code: str, prefix: str, level: SiteLevel) -> str:
    if level is SiteLevel.CITY:
        return f"{prefix}住房公积金管理中心"
    city = _CITIES.get(code[:4])
    if city is None:
        return f"{prefix}住房公积金管理部"
    return f"{city}住房公积金管理中心{prefix}管理部"


# ------------------------------------------------------------------------------------------
# Calendar, roster and deadlines
# ------------------------------------------------------------------------------------------


def _demo_closure(session: Session, now: datetime) -> date:
    """A local closure about three weeks ahead, as an administrator would enter one."""
    calendar = WorkdayCalendar()
    day = now.date() + timedelta(days=20)
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    session.add(
        HolidayOverride(
            day=day,
            working=False,
            name="大厅停电检修闭厅",
            created_at=now,
            created_by="系统管理员",
        )
    )
    session.flush()
    return day


def _demo_roster(session: Session, staff: _Staff, today: date) -> None:
    """带班领导 in 14-day cycles (as in the generated timelines), clerks alternating daily."""
    calendar = calendar_in(session)
    leaders = []
    for index, name in enumerate(staff.leaders):
        person = DutyStaff(name=name, duty_role="leader", title=_LEADER_TITLES[index % 3])
        session.add(person)
        leaders.append(person)
    windows = []
    for _user_id, name in staff.clerks:
        person = DutyStaff(name=name, duty_role="window", title="坐窗人员")
        session.add(person)
        windows.append(person)
    session.flush()
    day = today - timedelta(days=45)
    turn = 0
    while day <= today + timedelta(days=75):
        if calendar.is_working_day(day):
            leader = leaders[(day.toordinal() // 14) % len(leaders)]
            session.add(DutyShift(day=day, duty_role="leader", period="day", staff_id=leader.id))
            clerk = windows[turn % len(windows)]
            session.add(DutyShift(day=day, duty_role="window", period="day", staff_id=clerk.id))
            turn += 1
        day += timedelta(days=1)
    session.flush()


_LEADER_TITLES = ("党风政风监督室主任", "第一纪检监察室副主任", "案件监督管理室主任")


def _fill_deadlines(session: Session, now: datetime) -> None:
    """Give the generated cases the deadline fields that triage and conclusion set live."""
    calendar = calendar_in(session)
    rules = rules_in(session)
    visit_days = rules.working_days(RuleKey.VISIT)
    basis_days = rules.working_days(RuleKey.CANT_BASIS)
    rows = session.execute(
        select(
            Case.id,
            Case.status,
            Case.nature,
            Case.approach,
            Case.triaged_at,
            Case.due_date,
            Case.concluded_at,
        ).where(Case.triaged_at.is_not(None))
    ).all()
    updates: list[dict[str, Any]] = []
    for case_id, status, nature, approach, triaged_at, due, concluded_at in rows:
        if nature is None or approach is None or triaged_at is None:
            continue
        rule = case_rule(Nature(nature), Approach(approach))
        start = triaged_at.date()
        if due is None:
            due = calendar.add(start, rules.working_days(rule)).due
        deadline_days = calendar.between(start, due) if due > start else 0
        values: dict[str, Any] = {
            "id": case_id,
            "due_start": start,
            "due_working_days": deadline_days,
            "due_rule": rule.value,
            "due_date": due,
            "due_calendar_version": calendar.version,
            "due_provisional": not calendar.is_known(due),
            "basis_due_date": calendar.add(start, basis_days).due
            if nature == Nature.CANT.value and status in ("registered", "in_progress")
            else None,
            "visit_due_date": calendar.add(concluded_at.date(), visit_days).due
            if concluded_at is not None and status in ("concluded", "visited")
            else None,
            "basis_working_days": basis_days
            if nature == Nature.CANT.value and status in ("registered", "in_progress")
            else None,
            "visit_working_days": visit_days
            if concluded_at is not None and status in ("concluded", "visited")
            else None,
        }
        updates.append(values)
    for start_index in range(0, len(updates), 5000):
        session.execute(update(Case), updates[start_index : start_index + 5000])


def _demo_assignments(session: Session, keys: SiteKeys, rng: random.Random, now: datetime) -> None:
    """Real assignment records and signed slips for the 交办/督办 events in the timelines.

    Closed cases' assignments were answered; open cases' last assignment is issued, received,
    waiting for an extension decision or extended, and some overdue ones were urged (催办).
    Triaged cases not yet assigned get a draft waiting for the duty leader's signature.
    """
    site = session.scalar(select(Site).where(Site.is_local.is_(True)))
    assert site is not None
    prefix = site.slip_prefix or default_slip_prefix(site.short_name)
    window_phone = (
        session.scalar(select(Setting.value).where(Setting.key == WINDOW_PHONE_KEY)) or ""
    )
    departments = {d.name: d.id for d in session.scalars(select(Department))}
    department_names = {v: k for k, v in departments.items()}
    calendar = calendar_in(session)
    rows = session.execute(
        select(CaseEvent.case_id, CaseEvent.at, CaseEvent.data, Case, Complainant)
        .join(Case, Case.id == CaseEvent.case_id)
        .join(Complainant, Complainant.id == Case.complainant_id)
        .where(CaseEvent.kind == EventKind.ASSIGNED.value)
        .order_by(CaseEvent.at, CaseEvent.id)
    ).all()
    last_of_case: dict[int, int] = {}
    for index, row in enumerate(rows):
        last_of_case[row[0]] = index
    next_id = (session.scalar(select(func.max(Assignment.id))) or 0) + 1
    sequences: dict[tuple[str, int], int] = {}
    assignments: list[dict[str, Any]] = []
    slips: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    bumped: dict[int, int] = {}

    def number(series: str, year: int) -> tuple[str, int]:
        seq = sequences.get((series, year), 0) + 1
        sequences[(series, year)] = seq
        return slip_number(prefix, series, year, seq), seq

    for index, (case_id, at, data, case, person) in enumerate(rows):
        supervise = data.get("kind") == "督办"
        kind = AssignmentKind.SUPERVISE if supervise else AssignmentKind.ASSIGN
        department_id = int(data["department_id"])
        due = date.fromisoformat(data["due_date"])
        days = int(data["working_days"])
        open_now = case.status == CaseStatus.IN_PROGRESS.value and last_of_case[case_id] == index
        state = AssignmentState.RESPONDED
        received_on: date | None = calendar.add(at.date(), 0 if rng.random() < 0.6 else 1).due
        extension, extra = ExtensionState.NONE, None
        due_now = due
        returned = False
        if open_now:
            roll = rng.random()
            if roll < 0.30:
                state, received_on = AssignmentState.ISSUED, None
            elif roll < 0.36:
                # Sent back as not theirs: the case waits to be assigned again.
                state, returned = AssignmentState.RETURNED, True
            else:
                state = AssignmentState.RECEIVED
                if roll > 0.92:
                    extension, extra = ExtensionState.REFUSED, rng.choice((5, 10))
                elif roll > 0.85 and due >= now.date():
                    extension, extra = ExtensionState.REQUESTED, rng.choice((3, 5))
                elif roll > 0.75:
                    extension, extra = ExtensionState.APPROVED, rng.choice((3, 5))
                    due_now = calendar.add(due, extra).due
        if received_on is not None and received_on > now.date():
            received_on = now.date()
        series = slip_series(kind)
        slip_no, seq = number(series, at.year)
        lead_id = next_id
        next_id += 1
        assist_names = [a for a in data.get("assist", []) if a in departments]
        content = SlipContent(
            kind=PaperKind.SUPERVISE
            if supervise
            else (
                PaperKind.BASIS_REQUEST if case.nature == Nature.CANT.value else PaperKind.ASSIGN
            ),
            number=slip_no,
            issuer=site.name,
            case_number=case.number,
            lead_department=department_names[department_id],
            assisting_departments=tuple(assist_names),
            complainant=person.name,
            complainant_contact=" ".join(
                p
                for p in (
                    person.contact_person or (person.name if person.kind == "person" else ""),
                    mask_phone(person.phone) if person.phone else "",
                )
                if p
            ),
            complainant_id_masked=person.credit_code
            or (mask_id_number(person.id_number) if person.id_number else ""),
            matter_title=case.title,
            matter_description=case.description,
            requirements=f"请于{days}个工作日内依法依规办理，并将办理结果书面反馈监督窗口。",
            due_date=due,
            working_days=days,
            signer=str(data.get("signed_by", "")),
            issued_at=at,
            window_phone=window_phone,
            qr_payload="",
        )
        content_hash = content.content_hash()
        payload = sign_slip(keys, site.code, slip_no, content_hash)
        stored = content.to_json() | {"qr_payload": payload}
        base = {
            "case_id": case_id,
            "state": state.value,
            "requirements": content.requirements,
            "due_start": at.date(),
            "working_days": days,
            "due_date": due_now,
            "original_due_date": due,
            "deadline_note": "",
            "created_at": at,
            "created_by": str(data.get("signed_by", "")),
            "issued_at": at,
            "signer_name": str(data.get("signed_by", "")),
            "received_on": received_on,
            "received_by": "办公室" if received_on else "",
            "responded_at": None if open_now else at,
            "response": "" if open_now else "已办理，详见办结记录",
            "extension_state": extension.value,
            "extension_days": extra,
            "extension_reason": "需调取历史档案、协调相关单位" if extra else "",
            "returned_reason": "不属于本单位职责，建议交由相关主管部门办理" if returned else "",
            "urged_at": None,
            "version": 1,
        }
        assignments.append(
            base
            | {
                "id": lead_id,
                "uuid": _uuid(rng),
                "department_id": department_id,
                "kind": kind.value,
                "parent_id": None,
            }
        )
        for name in assist_names:
            assignments.append(
                base
                | {
                    "id": next_id,
                    "uuid": _uuid(rng),
                    "department_id": departments[name],
                    "kind": AssignmentKind.ASSIST.value,
                    "parent_id": lead_id,
                }
            )
            next_id += 1
        slips.append(
            {
                "uuid": _uuid(rng),
                "version": 1,
                "assignment_id": lead_id,
                "kind": content.kind.value,
                "number": slip_no,
                "year": at.year,
                "seq": seq,
                "content": stored,
                "content_hash": content_hash,
                "qr_payload": payload,
                "issued_at": at,
                "print_count": 1,
                "voided": False,
                "void_reason": "",
            }
        )
        if not open_now:
            continue
        # The open assignment's own steps on the timeline.
        steps: list[tuple[EventKind, str]] = []
        if received_on is not None:
            name = department_names[department_id]
            steps.append((EventKind.RECEIVED, f"{name}于{chinese_date(received_on)}签收"))
        if extension is not ExtensionState.NONE:
            steps.append(
                (EventKind.EXTENSION, f"{department_names[department_id]}申请延期{extra}个工作日")
            )
        if returned:
            steps.append(
                (
                    EventKind.RETURNED,
                    f"{department_names[department_id]}退回交办：不属于本单位职责；请重新交办",
                )
            )
        if extension is ExtensionState.REFUSED:
            steps.append((EventKind.EXTENSION, f"延期申请未批准，仍须于{chinese_date(due)}前办结"))
        if extension is ExtensionState.APPROVED:
            steps.append(
                (
                    EventKind.EXTENSION,
                    f"批准延期{extra}个工作日，期限延至{chinese_date(due_now)}",
                )
            )
        if not returned and due_now < now.date() and rng.random() < 0.6:
            urge_no, urge_seq = number("催", now.year)
            urge = SlipContent.from_json(
                content.to_json()
                | {
                    "kind": PaperKind.URGE.value,
                    "number": urge_no,
                    "earlier_number": slip_no,
                    "issued_at": now.isoformat(),
                    "requirements": f"{slip_no}交办事项已于{chinese_date(due_now)}到期，"
                    "请立即办理并于今日内书面反馈。",
                }
            )
            urge_hash = urge.content_hash()
            urge_payload = sign_slip(keys, site.code, urge_no, urge_hash)
            slips.append(
                {
                    "uuid": _uuid(rng),
                    "version": 1,
                    "assignment_id": lead_id,
                    "kind": PaperKind.URGE.value,
                    "number": urge_no,
                    "year": now.year,
                    "seq": urge_seq,
                    "content": urge.to_json() | {"qr_payload": urge_payload},
                    "content_hash": urge_hash,
                    "qr_payload": urge_payload,
                    "issued_at": now,
                    "print_count": 1,
                    "voided": False,
                    "void_reason": "",
                }
            )
            assignments[-1 - len(assist_names)]["urged_at"] = now
            steps.append((EventKind.URGED, f"发出催办通知 {urge_no}"))
        moment = at
        for kind_, summary in steps:
            moment = min(now, moment + timedelta(hours=rng.randint(2, 30)))
            events.append(
                {
                    "uuid": _uuid(rng),
                    "version": 1,
                    "case_id": case_id,
                    "at": moment,
                    "kind": kind_.value,
                    "summary": summary,
                    "data": {},
                    "user_name": str(data.get("signed_by", "")),
                }
            )
        bumped[case_id] = bumped.get(case_id, 0) + len(steps)
    # Triaged, not yet assigned: a draft waiting for the duty leader.
    waiting = session.execute(
        select(Case.id, Case.stuck_department_id, Case.triaged_at, Case.due_working_days).where(
            Case.status == CaseStatus.REGISTERED.value, Case.nature.is_not(None)
        )
    ).all()
    any_voided = False
    for waiting_case, stuck_department, triaged_at, rule_days in waiting:
        if stuck_department is None or triaged_at is None or rng.random() < 0.4:
            continue
        period = rule_days or 5
        due = calendar.add(triaged_at.date(), period).due
        # A draft to the wrong department, thrown away (at least one, so the state shows).
        voided = not any_voided or rng.random() < 0.15
        any_voided = any_voided or voided
        assignments.append(
            {
                "id": next_id,
                "uuid": _uuid(rng),
                "case_id": waiting_case,
                "department_id": stuck_department,
                "kind": AssignmentKind.ASSIGN.value,
                "state": (AssignmentState.VOIDED if voided else AssignmentState.DRAFT).value,
                "parent_id": None,
                "requirements": f"请于{period}个工作日内依法依规办理，"
                "并将办理结果书面反馈监督窗口。",
                "due_start": triaged_at.date(),
                "working_days": period,
                "due_date": due,
                "original_due_date": due,
                "deadline_note": "",
                "created_at": triaged_at,
                "created_by": "受理员",
                "extension_state": "",
                "version": 1,
            }
        )
        next_id += 1
    for start in range(0, len(assignments), 5000):
        session.execute(insert(Assignment), assignments[start : start + 5000])
    for start in range(0, len(slips), 5000):
        session.execute(insert(Slip), slips[start : start + 5000])
    if events:
        session.execute(insert(CaseEvent), events)
    for case_id, n in bumped.items():
        # No session synchronisation: the loaded Case objects are not used afterwards, and
        # matching every one of them per statement made this quadratic.
        session.execute(
            update(Case)
            .where(Case.id == case_id)
            .values(version=Case.version + n)
            .execution_options(synchronize_session=False)
        )
    for (series, year), last in sequences.items():
        session.merge(NumberSequence(kind=f"slip-{series}", year=year, last_value=last))
    session.flush()


def _demo_paper(supervise: bool, nature: str | None) -> PaperKind:
    if supervise:
        return PaperKind.SUPERVISE
    return PaperKind.BASIS_REQUEST if nature == Nature.CANT.value else PaperKind.ASSIGN
