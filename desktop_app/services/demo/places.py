"""Demo places: the county's departments and the windows people get stuck at, the city, its
telephone area code, towns and villages."""

from __future__ import annotations

from desktop_app.domain.vocabulary import SiteLevel

# key, full name, the window people get stuck at ({P} = county prefix such as 杞县, {L} = 县/区/市)
DEPARTMENTS: tuple[tuple[str, str, str], ...] = (
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

CITIES: dict[str, str] = {
    "4101": "郑州市", "4102": "开封市", "4103": "洛阳市", "4104": "平顶山市", "4105": "安阳市",
    "4106": "鹤壁市", "4107": "新乡市", "4108": "焦作市", "4109": "濮阳市", "4110": "许昌市",
    "4111": "漯河市", "4112": "三门峡市", "4113": "南阳市", "4114": "商丘市", "4115": "信阳市",
    "4116": "周口市", "4117": "驻马店市", "4301": "长沙市",
}  # fmt: skip

AREA_CODES: dict[str, str] = {
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
QIXIAN_TOWNS = (
    "城关镇", "五里河镇", "傅集镇", "圉镇镇", "高阳镇", "葛岗镇", "阳堌镇", "邢口镇",
    "裴村店乡", "宗店乡", "板木乡", "竹林乡", "官庄乡", "湖岗乡", "苏木乡", "沙沃乡",
    "西寨乡", "平城乡", "泥沟乡",
)  # fmt: skip
GENERIC_TOWNS = (
    "城关镇", "城东街道", "城西街道", "新华街道", "黄庄镇", "李集镇", "王店乡", "张寨乡",
    "刘楼乡", "马庄乡", "高庙乡", "孙营乡", "柳河镇", "双塔乡",
)  # fmt: skip
DEPARTMENT_KEYS = frozenset(key for key, _, _ in DEPARTMENTS)


def area_code(site_code: str) -> str:
    """The site's telephone area code (otherwise the provincial capital's, otherwise 郑州's)."""
    return AREA_CODES.get(site_code[:4]) or AREA_CODES.get(site_code[:2], "0371")


def towns_of(site_code: str) -> tuple[str, ...]:
    return QIXIAN_TOWNS if site_code == "410221" else GENERIC_TOWNS


def department_prefix(short: str, level: SiteLevel) -> str:
    """杞县 → 杞县; a short name without 县/区/市 gets one (开封 → 开封市)."""
    if short.endswith(("县", "区", "市", "旗")):
        return short
    return short + ("市" if level is SiteLevel.CITY else "县")


def level_letter(short: str, level: SiteLevel) -> str:
    """县 / 区 / 市, as in 县医保局服务窗口."""
    if level is SiteLevel.CITY:
        return "市"
    if short.endswith(("区", "市")):
        return short[-1]
    return "县"


def housing_fund_name(code: str, prefix: str, level: SiteLevel) -> str:
    if level is SiteLevel.CITY:
        return f"{prefix}住房公积金管理中心"
    city = CITIES.get(code[:4])
    if city is None:
        return f"{prefix}住房公积金管理部"
    return f"{city}住房公积金管理中心{prefix}管理部"


def place_words(site_code: str, short_name: str, level: SiteLevel) -> dict[str, str]:
    """The slots every story may use: {P} 杞县, {L} 县, {town0}, {gjj}, {gjj_window}, {hospital}."""
    prefix = department_prefix(short_name, level)
    return {
        "P": prefix,
        "L": level_letter(short_name, level),
        "town0": towns_of(site_code)[0],
        "gjj": housing_fund_name(site_code, prefix, level),
        "gjj_window": (
            f"{prefix}住房公积金管理中心服务大厅"
            if level is SiteLevel.CITY
            else f"公积金{prefix}管理部服务柜台"
        ),
        "hospital": f"{prefix}人民医院",
    }
