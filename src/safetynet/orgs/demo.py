"""The synthetic demo city: a registry shaped like Dalian in 2012, deterministic per seed.

``demo_plan`` builds the whole city in memory from ``random.Random(seed)`` alone (no clock, no database),
so the same seed always gives the same units, enterprises and unions. ``demo_load`` writes a plan
set-based: ``bulk_create`` in batches, ids taken from what ``bulk_create`` returns (SQLite >= 3.35 and
PostgreSQL both return them), one summary audit row instead of one per record.

The district-level units are the real GB/T 2260 units of 2012, named from python-stdnum's numdb
``cn/loc``; 高新园区 carries 210251, a statistical zone code that is not in GB/T 2260 (numdb has no
county there). Streets, communities, enterprises and people are invented.
"""

from __future__ import annotations

import datetime
import math
import random
import re
import time
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from safetynet.core.errors import ServiceError
from safetynet.core.models import AuditAction
from safetynet.core.services import audit_record
from safetynet.orgs.models import (
    PATH_SEPARATOR,
    Enterprise,
    EnterpriseHeadcount,
    EnterpriseLocation,
    GrassrootsUnion,
    Industry,
    OrgLevel,
    OrgUnit,
    OrgUnitVersion,
    Ownership,
    UnionCoverage,
    UnionType,
)
from safetynet.orgs.validation import county_code_info

DEFAULT_SEED = 2012
DEMO_PASSWORD = "Safetynet-2012"
# The day the story is told for: rates per district differ as of this day.
REFERENCE_DAY = datetime.date(2012, 12, 31)
CAMPAIGN_START = datetime.date(2010, 1, 1)
BATCH_SIZE = 5000
ELIGIBLE_HEADCOUNT = 25

CITY_CODE = "2102"
CITY_NAME = "大连市"  # numdb cn/loc names provinces and counties only, not the prefecture-level city.
ZONE_CODE = "210251"  # statistical zone code (not GB/T 2260): 高新技术产业园区
ZONE_NAME = "高新园区"


@dataclass(frozen=True)
class DistrictSpec:
    code: str
    slug: str  # pinyin, for the demo usernames
    rural_share: float  # share of streets that are towns (镇/乡) rather than 街道
    enterprise_weight: float  # how dense enterprises are per community
    union_rate: float  # target union rate of eligible enterprises on REFERENCE_DAY
    city_streets: int  # streets and towns at city scale (≈150 in all)


DISTRICTS: tuple[DistrictSpec, ...] = (
    DistrictSpec("210202", "zhongshan", 0.0, 1.6, 0.95, 7),
    DistrictSpec("210203", "xigang", 0.0, 1.5, 0.93, 5),
    DistrictSpec("210204", "shahekou", 0.0, 1.5, 0.90, 7),
    DistrictSpec("210211", "ganjingzi", 0.25, 1.3, 0.86, 16),
    DistrictSpec("210212", "lvshunkou", 0.35, 0.8, 0.81, 10),
    DistrictSpec("210213", "jinzhou", 0.3, 1.1, 0.84, 22),
    DistrictSpec("210224", "changhai", 0.8, 0.4, 0.70, 5),
    DistrictSpec("210281", "wafangdian", 0.75, 0.6, 0.78, 30),
    DistrictSpec("210282", "pulandian", 0.75, 0.55, 0.74, 18),
    DistrictSpec("210283", "zhuanghe", 0.75, 0.55, 0.76, 26),
    DistrictSpec(ZONE_CODE, "gaoxin", 0.0, 2.0, 0.92, 4),
)


@dataclass(frozen=True)
class Scale:
    enterprises: int
    streets_per_district: tuple[int, int] | None  # None: DistrictSpec.city_streets
    communities_per_street: tuple[int, int]


SCALES: dict[str, Scale] = {
    "small": Scale(enterprises=2_000, streets_per_district=(2, 4), communities_per_street=(2, 4)),
    "city": Scale(enterprises=200_000, streets_per_district=None, communities_per_street=(9, 18)),
    # Three times the city (units, enterprises, persons): the growth measurements of docs/scale.md.
    "city3": Scale(enterprises=600_000, streets_per_district=None, communities_per_street=(27, 54)),
}


@dataclass(frozen=True)
class DemoAccount:
    username: str
    unit_code: str
    role: str
    full_name: str


# --- word lists --------------------------------------------------------------------------------

# fmt: off

PLACE_WORDS = (
    "青泥 桃源 海港 春柳 星海 黑石 凌水 马栏 白山 南山 北岗 东关 中华 长江 胜利 解放 人民 友好 民主 和平 "
    "光明 新华 建设 兴工 锦华 香炉 泉水 周水 红旗 前进 营城 金家 李家 王家 张家 刘家 大孤 柳树 杨树 松林 "
    "石河 龙王 三涧 太平 永安 复兴 花园 桂林 秀月 望海 滨海 金沙 银沙 碧海 东港 北海 南岭 西岭 青云 白云 "
    "紫云 彩虹 朝阳 晨光 春晖 秋林 冬青 翠竹 梅园 兰亭 菊园 荷花 牡丹 槐花 枫林 梧桐 樱花 杏林 桃李 凤鸣 "
    "龙泉 鹤岭 虎山 鹿鸣 燕山 雁鸣 鸿运 福寿 康乐 长兴 隆盛 安居 富民 丰收 谷丰 稻香 渔港 海湾 岭前 山后 "
    "河口 沟里 泡崖 西山 东山 北山 南关 西沟 东沟 红星 五一 八一 七贤 九里 十里 双台 三台 四平 五岭 六合 "
    "高城 万家 千山 百花 金龙 银杏 玉泉 宝山 聚宝 兴隆 永宁 长春 长宁 安波 复州 驼山 谢屯 炮台 赞子 许屯 "
    "三十里 得利 元台 瓦窝 唐家 杨家 老虎 獐子 广鹿 大长 小长 石城 青堆 明阳 栗子 城山 光明山 仙人 步云 "
    "登沙 华家 杏树 董家 亮甲 石门 岔鞍 夏家 墨盘 双塔 皮口 莲山 星台 四平山 太阳 吉祥 如意 和顺 "
).split()

STREET_SUFFIX = {"street": "街道", "town": "镇", "township": "乡"}
COMMUNITY_SUFFIXES = ("", "", "园", "里", "苑", "湾", "新村", "家园", "花园", "东", "西", "南", "北")
VILLAGE_SUFFIXES = ("", "", "屯", "沟", "堡", "岭", "甸", "山", "河")
ROAD_SUFFIXES = ("路", "路", "街", "大街")

BRAND_FIRST = "华恒鑫宏金盛顺永宝益天嘉海辽北东远蓝新博德瑞隆泰兴福聚汇诚信和丰达源通利昌富康安佳明"
BRAND_SECOND = "源通达泰兴盛利昌丰祥瑞康宇博润成发隆华信鑫海洋航程峰林辉川融邦创科联帆禾业升"
FOREIGN_SYLLABLES = "阿欧迪克斯特莱普森泰尼亚德曼瑞伯卡诺维塔琳贝加"

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘"
    "杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段"
)
GIVEN_NAME_CHARS = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志宏海波春梅凤晓东丹颖斌宇浩凯岩松"

# Industry sections with the words a company name carries (GB/T 4754 sections of Industry rows).
INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    "A": ("农业", "水产", "渔业", "果业", "养殖", "农牧"),
    "B": ("矿业", "石材"),
    "C": ("机械", "机床", "轴承", "船舶配件", "电子", "化工", "食品", "服装", "塑料制品", "模具", "阀门",
          "包装", "精密机械", "木业", "钢结构", "水产食品"),
    "D": ("热电", "燃气", "供水", "新能源"),
    "E": ("建筑工程", "建设", "装饰工程", "市政工程", "安装工程", "路桥"),
    "F": ("商贸", "贸易", "物资", "百货", "医药", "汽车销售", "国际贸易", "海产品贸易"),
    "G": ("物流", "运输", "船务", "货运代理", "仓储", "客运"),
    "H": ("餐饮", "酒店", "饭店管理", "宾馆"),
    "I": ("软件", "信息技术", "网络科技", "通信技术", "数据服务"),
    "J": ("小额贷款", "投资担保", "典当"),
    "K": ("房地产开发", "置业", "物业管理"),
    "L": ("商务咨询", "人力资源", "广告", "企业管理", "劳务派遣", "会展", "旅行社"),
    "M": ("工程设计", "检测技术", "科技", "环境技术", "测绘"),
    "N": ("环境工程", "园林绿化", "清洁服务"),
    "O": ("家政服务", "汽车维修", "洗涤", "美容美发"),
    "P": ("教育科技", "培训"),
    "Q": ("健康管理", "医疗器械"),
    "R": ("文化传媒", "体育", "影视", "娱乐"),
}
SHOP_WORDS: dict[str, tuple[str, ...]] = {
    "F": ("商店", "商店", "便利店", "食杂店", "五金商店", "水果店", "超市"),
    "H": ("饭店", "小吃部", "面馆", "烧烤店"),
    "O": ("理发店", "洗衣店", "家电维修部", "汽车修理部", "美容店"),
    "G": ("货运部",),
    "C": ("加工部", "服装加工店"),
}
INDUSTRY_UNION_LABELS = {
    "C": "制造业", "E": "建筑业", "F": "商贸", "G": "物流", "H": "餐饮", "I": "软件信息", "L": "商务服务",
    "O": "家政服务", "A": "渔业", "K": "物业",
}
INSTITUTION_KINDS: dict[str, tuple[str, ...]] = {
    "P": ("小学", "小学", "中学", "幼儿园"),
    "Q": ("人民医院", "卫生院", "社区卫生服务站"),
    "M": ("技术服务中心", "检验检测所", "农业技术推广站"),
    "R": ("文化站", "图书分馆", "体育活动中心"),
    "N": ("环境卫生管理所", "园林绿化管理所", "市政设施维护所"),
}
DISTRICT_ORGANS = (
    "人民政府办公室", "发展和改革局", "财政局", "人力资源和社会保障局", "教育局", "卫生局", "民政局", "司法局",
    "公安分局", "城市建设局", "环境保护局", "统计局", "审计局", "安全生产监督管理局", "商务局", "文化体育局",
    "科学技术局", "人民法院", "人民检察院", "国土资源分局", "工商行政管理分局", "国家税务局", "地方税务局",
    "质量技术监督局", "档案局", "农林水利局", "城市管理行政执法局", "信访局",
)
STREET_ORGANS = ("派出所", "司法所", "财政所", "劳动保障事务所", "国土资源所", "工商所", "税务所")
STREET_SEAT = {"street": "办事处", "town": "人民政府", "township": "人民政府"}

OWNERSHIP_WEIGHTS = (
    (Ownership.PRIVATE, 62.0), (Ownership.INDIVIDUAL, 25.0), (Ownership.STATE, 2.5),
    (Ownership.COLLECTIVE, 2.0), (Ownership.FOREIGN, 3.0), (Ownership.HMT, 2.0),
    (Ownership.INSTITUTION, 2.5), (Ownership.ORGAN, 1.0),
)
SECTION_WEIGHTS: dict[str, tuple[tuple[str, float], ...]] = {
    Ownership.PRIVATE: (("A", 2), ("B", 0.5), ("C", 22), ("D", 1), ("E", 8), ("F", 26), ("G", 5), ("H", 6),
                        ("I", 4), ("J", 1), ("K", 3.5), ("L", 10), ("M", 3), ("N", 1), ("O", 4), ("P", 0.5),
                        ("Q", 0.5), ("R", 1.5)),
    Ownership.FOREIGN: (("C", 50), ("F", 15), ("G", 8), ("I", 8), ("L", 8), ("M", 5), ("H", 3), ("K", 3)),
    Ownership.HMT: (("C", 40), ("F", 20), ("H", 8), ("K", 8), ("G", 8), ("L", 8), ("I", 8)),
    Ownership.STATE: (("C", 20), ("D", 8), ("E", 12), ("G", 15), ("F", 10), ("J", 10), ("K", 8), ("L", 7),
                      ("N", 5), ("A", 3), ("B", 2)),
    Ownership.COLLECTIVE: (("C", 35), ("F", 20), ("E", 10), ("A", 15), ("H", 5), ("O", 10), ("G", 5)),
    Ownership.INDIVIDUAL: (("F", 60), ("H", 20), ("O", 15), ("G", 3), ("C", 2)),
    Ownership.INSTITUTION: (("P", 50), ("Q", 25), ("M", 10), ("R", 8), ("N", 7)),
    Ownership.ORGAN: (("S", 1),),
}
# Median headcount and spread (log-normal) per ownership: many small, some hundreds, a few thousands.
HEADCOUNT_SHAPE = {
    Ownership.PRIVATE: (12, 1.3), Ownership.INDIVIDUAL: (3, 0.7), Ownership.STATE: (80, 1.3),
    Ownership.COLLECTIVE: (30, 1.1), Ownership.FOREIGN: (60, 1.4), Ownership.HMT: (45, 1.3),
    Ownership.INSTITUTION: (45, 0.9), Ownership.ORGAN: (35, 0.8),
}
USED_SECTIONS = sorted({s for table in SECTION_WEIGHTS.values() for s, _ in table})
CREDIT_PREFIX = {Ownership.INDIVIDUAL: "92", Ownership.INSTITUTION: "12", Ownership.ORGAN: "11"}
HIGH_MIGRANT_SECTIONS = frozenset("ACEGH")
PUBLIC = frozenset({Ownership.STATE, Ownership.COLLECTIVE, Ownership.INSTITUTION, Ownership.ORGAN})
ORG_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
CHINESE_DIGITS = "零一二三四五六七八九"
# fmt: on


# --- the plan -------------------------------------------------------------------------------------


@dataclass(slots=True)
class UnitPlan:
    code: str
    name: str
    level: int
    parent: int | None  # index into DemoPlan.units
    district: int  # index into DISTRICTS, -1 for the city
    kind: str = ""  # street / town / township / community / village


@dataclass(slots=True)
class EnterprisePlan:
    credit_code: str
    name: str
    unit: int
    ownership: str
    industry: str
    above_designated_size: bool
    headcount: int
    migrant_headcount: int
    dispatched_headcount: int
    founded_on: datetime.date
    deregistered_on: datetime.date | None
    address: str
    contact_phone: str


@dataclass(slots=True)
class UnionPlan:
    name: str
    union_type: str
    unit: int
    founded_on: datetime.date
    dissolved_on: datetime.date | None
    chair_name: str
    chair_directly_elected: bool
    members: list[int]  # indexes into DemoPlan.enterprises


@dataclass
class DemoPlan:
    scale: str
    seed: int
    units: list[UnitPlan] = field(default_factory=list)
    enterprises: list[EnterprisePlan] = field(default_factory=list)
    unions: list[UnionPlan] = field(default_factory=list)
    accounts: list[DemoAccount] = field(default_factory=list)


@dataclass
class DemoResult:
    scale: str
    seed: int
    counts: dict[str, int]
    seconds: float


def chinese_ordinal(number: int) -> str:
    """1 → 一, 12 → 十二, 23 → 二十三, 105 → 一百零五 (for 第N中学 and the like)."""
    if number < 10:
        return CHINESE_DIGITS[number]
    if number < 20:
        return "十" + (CHINESE_DIGITS[number % 10] if number % 10 else "")
    if number < 100:
        return CHINESE_DIGITS[number // 10] + "十" + (CHINESE_DIGITS[number % 10] if number % 10 else "")
    rest = number % 100
    head = CHINESE_DIGITS[number // 100] + "百"
    if rest == 0:
        return head
    if rest < 10:
        return head + "零" + CHINESE_DIGITS[rest]
    return head + (CHINESE_DIGITS[rest // 10] + "十" + (CHINESE_DIGITS[rest % 10] if rest % 10 else ""))


def district_name(code: str) -> str:
    """The GB/T 2260 name valid in 2012 from python-stdnum's numdb, e.g. 210282 → 普兰店市."""
    if code == ZONE_CODE:
        return ZONE_NAME
    info = county_code_info(code)
    if info is None:
        raise ValueError(f"{code} is not a county-level code in numdb cn/loc")
    match = re.fullmatch(r"(?:\[(\d{4})?-(\d{4})?\])?(.+)", info)
    assert match is not None
    start, end, name = match.groups()
    if (start and int(start) > REFERENCE_DAY.year) or (end and int(end) <= REFERENCE_DAY.year):
        raise ValueError(f"{code} ({info}) was not valid in {REFERENCE_DAY.year}")
    return name


def demo_accounts(units: list[UnitPlan] | None = None) -> list[DemoAccount]:
    """The demo logins. The street and community accounts sit at the first street / community of 中山区."""
    zhongshan = district_name("210202")
    accounts = [
        DemoAccount("city_admin", CITY_CODE, "city_admin", "市总工会管理员"),
        DemoAccount("zhongshan_officer", "210202", "operator", f"{zhongshan}经办人"),
        DemoAccount("zhongshan_viewer", "210202", "viewer", f"{zhongshan}查看人员"),
        DemoAccount("xigang_officer", "210203", "operator", f"{district_name('210203')}经办人"),
    ]
    accounts += [
        DemoAccount(f"{d.slug}_admin", d.code, "unit_admin", f"{district_name(d.code)}工会管理员")
        for d in DISTRICTS
    ]
    street_code, community_code = "210202001", "210202001001"
    if units:
        street_code = next(
            u.code for u in units if u.level == OrgLevel.STREET and u.code.startswith("210202")
        )
        community_code = next(
            u.code for u in units if u.level == OrgLevel.COMMUNITY and u.code.startswith(street_code)
        )
    accounts += [
        DemoAccount("zhongshan_street_officer", street_code, "operator", "街道工会经办人"),
        DemoAccount("zhongshan_chair", community_code, "chair", "社区工会联合会主席"),
    ]
    return accounts


_ORG_CODE_CHARS = ORG_CODE_ALPHABET[:10] * 3 + ORG_CODE_ALPHABET  # mostly digits, as real codes are
_ORG_CODE_VALUE = {c: i for i, c in enumerate(ORG_CODE_ALPHABET)}
# GB 32100's weights, the same as stdnum.cn.uscc.calc_check_digit (the tests check every code with stdnum);
# computed here because stdnum's cleaning of the input costs seconds over 200,000 codes.
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _credit_code(rng: random.Random, prefix: str, region: str, used: set[str]) -> str:
    """GB 32100: 2-char registration type, 6-digit region, 9-char organisation code (GB 11714), check."""
    while True:
        body = "".join(rng.choices(_ORG_CODE_CHARS, k=8))
        total = sum(_ORG_CODE_VALUE[c] * w for c, w in zip(body, ORG_CODE_WEIGHTS, strict=True))
        check = 11 - total % 11
        stem = f"{prefix}{region}{body}{'X' if check == 10 else '0' if check == 11 else check}"
        total = sum(_ORG_CODE_VALUE[c] * w for c, w in zip(stem, _USCC_WEIGHTS, strict=True))
        code = stem + ORG_CODE_ALPHABET[(31 - total) % 31]
        if code not in used:
            used.add(code)
            return code


class _Generator:
    """Draws the plan. Every random choice goes through ``self.rng`` in a fixed order."""

    def __init__(self, scale: str, seed: int) -> None:
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}")
        self.scale = SCALES[scale]
        self.rng = random.Random(seed)
        self.plan = DemoPlan(scale=scale, seed=seed)
        self.district_names = [district_name(d.code) for d in DISTRICTS]
        self.used_codes: set[str] = set()
        self.used_names: set[str] = set()
        self.union_names: dict[int, set[str]] = {}
        self.grouped_small: set[int] = set()

    # -- units --
    def units(self) -> None:
        rng, units = self.rng, self.plan.units
        units.append(UnitPlan(CITY_CODE, CITY_NAME, OrgLevel.CITY, None, -1))
        words = list(PLACE_WORDS)
        rng.shuffle(words)
        street_words = iter(words)
        for d_index, spec in enumerate(DISTRICTS):
            d_unit = len(units)
            units.append(UnitPlan(spec.code, self.district_names[d_index], OrgLevel.DISTRICT, 0, d_index))
            if self.scale.streets_per_district:
                n_streets = rng.randint(*self.scale.streets_per_district)
            else:
                n_streets = spec.city_streets
            counters = {"street": 0, "town": 100, "township": 200}
            community_names: set[str] = set()
            for s in range(n_streets):
                kind = "street"
                if s > 0 and rng.random() < spec.rural_share:
                    kind = "town" if rng.random() < 0.8 else "township"
                counters[kind] += 1
                word = next(street_words, None) or self._combo_word()
                s_unit = len(units)
                street_code = f"{spec.code}{counters[kind]:03d}"
                units.append(
                    UnitPlan(street_code, word + STREET_SUFFIX[kind], OrgLevel.STREET, d_unit, d_index, kind)
                )
                c_counters = {"community": 0, "village": 200}
                for _ in range(rng.randint(*self.scale.communities_per_street)):
                    village_share = 0.85 if kind != "street" else (0.2 if spec.rural_share >= 0.5 else 0.0)
                    c_kind = "village" if rng.random() < village_share else "community"
                    c_counters[c_kind] += 1
                    suffixes = VILLAGE_SUFFIXES if c_kind == "village" else COMMUNITY_SUFFIXES
                    while True:
                        name = (
                            rng.choice(words)
                            + rng.choice(suffixes)
                            + ("村" if c_kind == "village" else "社区")
                        )
                        if name not in community_names:
                            community_names.add(name)
                            break
                    units.append(
                        UnitPlan(
                            f"{street_code}{c_counters[c_kind]:03d}",
                            name,
                            OrgLevel.COMMUNITY,
                            s_unit,
                            d_index,
                            c_kind,
                        )
                    )

    def _combo_word(self) -> str:
        return self.rng.choice(BRAND_FIRST) + self.rng.choice("山河岭湾沟屯台堡城")

    # -- enterprises --
    def enterprises(self) -> None:
        rng, units = self.rng, self.plan.units
        # Where enterprises sit: communities weighted by district density with noise; streets take ~15 %.
        weights = [0.0] * len(units)
        for index, unit in enumerate(units):
            if unit.level == OrgLevel.COMMUNITY:
                w = DISTRICTS[unit.district].enterprise_weight * rng.lognormvariate(0, 0.6)
                weights[index] = w
                weights[unit.parent] += 0.18 * w  # type: ignore[index]
        candidates = [i for i, w in enumerate(weights) if w > 0]
        cumulative = list(accumulate(weights[i] for i in candidates))
        total = cumulative[-1]
        counts = [0] * len(units)
        for _ in range(self.scale.enterprises):
            counts[candidates[min(bisect_right(cumulative, rng.random() * total), len(candidates) - 1)]] += 1
        # Organs (机关) are a finite list per district and street, so their names stay unique.
        self.organ_pools: dict[int, list[str]] = {}
        for index, unit in enumerate(units):
            if unit.level == OrgLevel.DISTRICT:
                self.organ_pools[index] = [f"大连市{unit.name}{organ}" for organ in DISTRICT_ORGANS]
            elif unit.level == OrgLevel.STREET:
                short = unit.name.removesuffix(STREET_SUFFIX[unit.kind])
                self.organ_pools[index] = [unit.name + STREET_SEAT[unit.kind]] + [
                    short + o for o in STREET_ORGANS
                ]
        self.institution_counters: dict[tuple[int, str], int] = {}
        ownerships = [o for o, _ in OWNERSHIP_WEIGHTS]
        own_cum = list(accumulate(w for _, w in OWNERSHIP_WEIGHTS))
        section_tables = {
            own: ([s for s, _ in table], list(accumulate(w for _, w in table)))
            for own, table in SECTION_WEIGHTS.items()
        }
        years = list(range(1990, 2013))
        year_cum = list(accumulate(1 + (y - 1990) * 0.25 for y in years))
        for index, unit in enumerate(units):
            for _ in range(counts[index]):
                ownership = rng.choices(ownerships, cum_weights=own_cum)[0]
                self.plan.enterprises.append(
                    self._enterprise(index, unit, ownership, section_tables, years, year_cum)
                )

    def _enterprise(
        self,
        unit_index: int,
        unit: UnitPlan,
        ownership: str,
        section_tables: dict,
        years: list[int],
        year_cum: list[float],
    ) -> EnterprisePlan:
        rng = self.rng
        spec = DISTRICTS[unit.district]
        district = self.district_names[unit.district]
        street_index = unit_index if unit.level == OrgLevel.STREET else unit.parent
        assert street_index is not None
        if ownership == Ownership.ORGAN:
            pool = self.organ_pools[street_index] + self.organ_pools[self.plan.units[street_index].parent]
            if pool:
                name = rng.choice(pool)
                for key in (street_index, self.plan.units[street_index].parent):
                    if name in self.organ_pools[key]:  # type: ignore[index]
                        self.organ_pools[key].remove(name)  # type: ignore[index]
            else:
                ownership = Ownership.INSTITUTION
        sections, cum = section_tables[ownership]
        section = rng.choices(sections, cum_weights=cum)[0]
        mu, sigma = HEADCOUNT_SHAPE[ownership]
        headcount = max(1, min(30_000, round(rng.lognormvariate(math.log(mu), sigma))))
        if ownership == Ownership.INDIVIDUAL:
            headcount = min(headcount, 40)
        if ownership == Ownership.ORGAN:
            headcount = max(headcount, 8)
        else:
            name = self._enterprise_name(ownership, section, district, street_index, headcount)
        # Migrant workers: mostly in manufacturing, building, transport, catering and in the rural counties.
        if ownership in PUBLIC and ownership != Ownership.STATE:
            migrant_share = rng.uniform(0, 0.05)
        elif section in HIGH_MIGRANT_SECTIONS:
            migrant_share = rng.uniform(0.2, 0.7)
        else:
            migrant_share = rng.uniform(0.0, 0.35)
        migrant_share = min(1.0, migrant_share + 0.1 * spec.rural_share)
        migrant = round(headcount * migrant_share)
        if ownership == Ownership.INDIVIDUAL:
            dispatched = 0
        elif ownership in PUBLIC:
            dispatched = round(headcount * rng.uniform(0.02, 0.3)) if rng.random() < 0.5 else 0
        else:
            dispatched = round(headcount * rng.uniform(0.01, 0.15)) if rng.random() < 0.3 else 0
        dispatched = min(dispatched, headcount - migrant) if migrant + dispatched > headcount else dispatched
        above = False
        if ownership not in (Ownership.INDIVIDUAL, Ownership.INSTITUTION, Ownership.ORGAN):
            chance = (
                0.85
                if headcount >= 100
                else 0.55
                if headcount >= 50
                else 0.25
                if headcount >= 25
                else (0.05 if headcount >= 10 else 0.005)
            )
            above = rng.random() < chance
        # Founding: 1990–2012, more each year; about 5 % later (2013–2015).
        if rng.random() < 0.05:
            founded = datetime.date(2013, 1, 1) + datetime.timedelta(days=rng.randrange(3 * 365))
        else:
            year = rng.choices(years, cum_weights=year_cum)[0]
            founded = datetime.date(year, 1, 1) + datetime.timedelta(days=rng.randrange(365))
        deregistered = None
        if rng.random() < (
            0.12 if ownership == Ownership.INDIVIDUAL else 0.05 if ownership not in PUBLIC else 0.01
        ):
            day = founded + datetime.timedelta(days=rng.randint(180, 12 * 365))
            if day <= datetime.date(2016, 12, 31):
                deregistered = day
        road = rng.choice(PLACE_WORDS) + rng.choice(ROAD_SUFFIXES)
        address = f"辽宁省大连市{district}{road}{rng.randint(1, 399)}号"
        phone = f"0411-8{rng.randrange(10_000_000):07d}"
        region = spec.code
        credit = _credit_code(rng, CREDIT_PREFIX.get(ownership, "91"), region, self.used_codes)
        return EnterprisePlan(
            credit_code=credit,
            name=name,
            unit=unit_index,
            ownership=ownership,
            industry=section,
            above_designated_size=above,
            headcount=headcount,
            migrant_headcount=migrant,
            dispatched_headcount=dispatched,
            founded_on=founded,
            deregistered_on=deregistered,
            address=address,
            contact_phone=phone,
        )

    def _brand(self, foreign: bool = False) -> str:
        rng = self.rng
        if foreign:
            return "".join(rng.sample(FOREIGN_SYLLABLES, rng.choice((2, 3))))
        first = rng.choice(BRAND_FIRST)
        rest = rng.choice(BRAND_SECOND)
        if rng.random() < 0.35:
            rest += rng.choice(BRAND_SECOND)
        return first + rest

    def _enterprise_name(
        self, ownership: str, section: str, district: str, street: int, headcount: int
    ) -> str:
        rng = self.rng
        if ownership == Ownership.INSTITUTION:
            kind = rng.choice(INSTITUTION_KINDS[section])
            key = (self.plan.units[street].district, kind)
            self.institution_counters[key] = self.institution_counters.get(key, 0) + 1
            return f"大连市{district}第{chinese_ordinal(self.institution_counters[key])}{kind}"
        for attempt in range(1000):
            if ownership == Ownership.INDIVIDUAL:
                shop = rng.choice(SHOP_WORDS.get(section, ("商店",)))
                name = f"{district}{self._brand()}{shop}"
            else:
                word = rng.choice(INDUSTRY_WORDS[section])
                brand = self._brand(foreign=ownership == Ownership.FOREIGN and rng.random() < 0.6)
                if (
                    ownership in (Ownership.STATE, Ownership.COLLECTIVE)
                    and section == "C"
                    and rng.random() < 0.4
                ):
                    suffix = "厂"
                elif ownership == Ownership.STATE and headcount >= 300 and rng.random() < 0.5:
                    suffix = "集团有限公司"
                elif headcount >= 200 and rng.random() < 0.4:
                    suffix = "股份有限公司"
                else:
                    suffix = "有限公司"
                name = f"大连{brand}{word}{suffix}"
            if attempt > 20:
                name = name.replace("大连", f"大连{district.rstrip('区市县')}", 1)
            if name not in self.used_names:
                self.used_names.add(name)
                return name
        raise RuntimeError("could not find a free enterprise name")

    # -- unions --
    def _person(self) -> str:
        rng = self.rng
        return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN_NAME_CHARS, k=rng.choice((1, 2, 2))))

    def _union(
        self,
        name: str,
        union_type: str,
        unit: int,
        founded: datetime.date,
        dissolved: datetime.date | None,
        members: list[int],
    ) -> None:
        names = self.union_names.setdefault(unit, set())
        base, n = name, 1
        while name in names:
            n += 1
            name = f"{base}（{chinese_ordinal(n)}）"
        names.add(name)
        self.plan.unions.append(
            UnionPlan(
                name=name,
                union_type=union_type,
                unit=unit,
                founded_on=founded,
                dissolved_on=dissolved,
                chair_name=self._person(),
                chair_directly_elected=self.rng.random() < 0.3,
                members=members,
            )
        )

    def _day_between(self, low: datetime.date, high: datetime.date) -> datetime.date:
        """A day in [low, high]."""
        return low + datetime.timedelta(days=round((high - low).days * self.rng.random()))

    def unions(self) -> None:
        rng, units, enterprises = self.rng, self.plan.units, self.plan.enterprises
        latest_for_2012 = REFERENCE_DAY - datetime.timedelta(days=92)
        joint: dict[int, list[int]] = {}  # unit → covered enterprises joining a joint union there
        grouped: dict[tuple[int, str, str], list[int]] = {}  # (street, type, section) → enterprises
        small_by_unit: dict[int, list[int]] = {}
        for index, e in enumerate(enterprises):
            unit = units[e.unit]
            street = e.unit if unit.level == OrgLevel.STREET else unit.parent
            assert street is not None
            if e.headcount < ELIGIBLE_HEADCOUNT:
                if e.ownership not in (Ownership.ORGAN, Ownership.INSTITUTION) and rng.random() < (
                    0.05 if e.ownership == Ownership.INDIVIDUAL else 0.2
                ):
                    small_by_unit.setdefault(e.unit, []).append(index)
                continue
            rate = DISTRICTS[unit.district].union_rate
            if e.ownership in PUBLIC:
                rate = min(0.995, rate + 0.04)
            elif e.ownership == Ownership.INDIVIDUAL:
                rate -= 0.1
            room_2012 = e.founded_on <= latest_for_2012 and (
                e.deregistered_on is None or e.deregistered_on - e.founded_on > datetime.timedelta(days=60)
            )
            if room_2012 and rng.random() < rate:
                r = rng.random()
                if e.ownership in PUBLIC or e.headcount >= 100 or r < 0.80:
                    self._single_union(index, e)
                elif r < 0.90:
                    joint.setdefault(e.unit, []).append(index)
                elif r < 0.95 or e.industry not in INDUSTRY_UNION_LABELS:
                    grouped.setdefault((street, UnionType.REGIONAL, ""), []).append(index)
                else:
                    grouped.setdefault((street, UnionType.INDUSTRY, e.industry), []).append(index)
            elif rng.random() < 0.35:
                # Covered only later (2013–2016), so today's rate is higher than 2012's.
                low = max(e.founded_on + datetime.timedelta(days=30), datetime.date(2013, 1, 1))
                high = datetime.date(2016, 12, 31)
                if e.deregistered_on is not None:
                    high = min(high, e.deregistered_on - datetime.timedelta(days=1))
                if low < high:
                    founded = self._day_between(low, high)
                    self._union(
                        f"{e.name}工会",
                        UnionType.SINGLE,
                        e.unit,
                        founded,
                        self._dissolution(e, founded),
                        [index],
                    )
        for unit_index, members in joint.items():
            self._group_unions(unit_index, members, small_by_unit.get(unit_index, []), UnionType.JOINT, "")
        children: dict[int, list[int]] = {}
        for unit_index, unit in enumerate(units):
            if unit.parent is not None:
                children.setdefault(unit.parent, []).append(unit_index)
        for (street, union_type, section), members in grouped.items():
            extras = [
                i
                for u in (street, *children.get(street, []))
                for i in small_by_unit.get(u, [])
                if union_type == UnionType.REGIONAL or enterprises[i].industry == section
            ]
            self._group_unions(street, members, extras, union_type, section)

    def _dissolution(self, e: EnterprisePlan, founded: datetime.date) -> datetime.date | None:
        """A union closes when its enterprise is deregistered."""
        if e.deregistered_on is not None and e.deregistered_on > founded:
            return e.deregistered_on
        return None

    def _single_union(self, index: int, e: EnterprisePlan) -> None:
        rng = self.rng
        low = e.founded_on + datetime.timedelta(days=30)
        high = REFERENCE_DAY
        if e.deregistered_on is not None:
            high = min(high, e.deregistered_on - datetime.timedelta(days=1))
        low = min(low, high)
        if low < CAMPAIGN_START <= high and rng.random() < 0.4:
            # Founded in the 2010–2012 drive to unionise every enterprise (两个普遍).
            founded = self._day_between(CAMPAIGN_START, high)
        else:
            # Most unions follow their enterprise within a few years.
            founded = min(high, low + datetime.timedelta(days=round(rng.expovariate(1 / 500))))
        if (founded - low).days > 3 * 365 and rng.random() < 0.04:
            # An earlier union that was dissolved and later rebuilt: history the registry must keep.
            old_founded = self._day_between(low, low + (founded - low) / 3)
            old_dissolved = self._day_between(
                old_founded + datetime.timedelta(days=365), founded - datetime.timedelta(days=30)
            )
            self._union(f"{e.name}工会委员会", UnionType.SINGLE, e.unit, old_founded, old_dissolved, [index])
        self._union(
            f"{e.name}工会", UnionType.SINGLE, e.unit, founded, self._dissolution(e, founded), [index]
        )

    def _group_unions(
        self, unit_index: int, members: list[int], extras: list[int], union_type: str, section: str
    ) -> None:
        """Joint / regional / industry unions: members in founding order, 3–10 to a union."""
        rng, enterprises, units = self.rng, self.plan.enterprises, self.plan.units
        members = sorted(members, key=lambda i: enterprises[i].founded_on)
        start = 0
        while start < len(members):
            size = rng.randint(3, 8) if union_type == UnionType.JOINT else rng.randint(4, 10)
            group = members[start : start + size]
            start += size
            newest = max(enterprises[i].founded_on for i in group)
            founded = min(newest + datetime.timedelta(days=rng.randint(30, 700)), REFERENCE_DAY)
            take = rng.randint(0, 4)
            # A small enterprise joins at most one group union.
            extra = [
                i for i in extras if i not in self.grouped_small and enterprises[i].founded_on < founded
            ][:take]
            self.grouped_small.update(extra)
            if len(group) + len(extra) == 1 and union_type == UnionType.JOINT:
                self._single_union(group[0], enterprises[group[0]])
                continue
            place = units[unit_index].name
            if union_type == UnionType.JOINT:
                name = f"{place}联合工会"
            elif union_type == UnionType.REGIONAL:
                name = f"{place}{self._brand()}{rng.choice(('工业园区', '商务楼宇', '商贸市场'))}联合工会"
            else:
                name = f"{place}{INDUSTRY_UNION_LABELS[section]}行业工会"
            self._union(name, union_type, unit_index, founded, None, group + extra)

    def accounts(self) -> None:
        self.plan.accounts = demo_accounts(self.plan.units)


def demo_plan(*, scale: str = "small", seed: int = DEFAULT_SEED) -> DemoPlan:
    """The whole demo city in memory, from the seed alone."""
    generator = _Generator(scale, seed)
    generator.units()
    generator.enterprises()
    generator.unions()
    generator.accounts()
    return generator.plan


# --- writing it -----------------------------------------------------------------------------------


def _batches(items: list, size: int = BATCH_SIZE):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _insert_units(plan: DemoPlan) -> list[int]:
    ids: list[int] = [0] * len(plan.units)
    paths: list[str] = [""] * len(plan.units)
    for level in (OrgLevel.CITY, OrgLevel.DISTRICT, OrgLevel.STREET, OrgLevel.COMMUNITY):
        indexes = [i for i, u in enumerate(plan.units) if u.level == level]
        objects = [
            OrgUnit(
                code=plan.units[i].code,
                name=plan.units[i].name,
                level=level,
                parent_id=ids[plan.units[i].parent] if plan.units[i].parent is not None else None,
            )
            for i in indexes
        ]
        OrgUnit.objects.bulk_create(objects, batch_size=BATCH_SIZE)
        for i, obj in zip(indexes, objects, strict=True):
            ids[i] = obj.pk
            parent = plan.units[i].parent
            # Exactly as orgunit_create sets it: "<parent path><pk>/".
            obj.path = paths[i] = f"{paths[parent] if parent is not None else ''}{obj.pk}{PATH_SEPARATOR}"
        OrgUnit.objects.bulk_update(objects, ["path"], batch_size=1000)
    OrgUnitVersion.objects.bulk_create(
        (
            OrgUnitVersion(
                unit_id=ids[i],
                code=u.code,
                name=u.name,
                level=u.level,
                parent_id=ids[u.parent] if u.parent is not None else None,
                path=paths[i],
            )
            for i, u in enumerate(plan.units)
        ),
        batch_size=BATCH_SIZE,
    )
    return ids


def _insert_enterprises(plan: DemoPlan, unit_ids: list[int], progress: Callable[[str], None]) -> list[int]:
    ids: list[int] = []
    for number, batch in enumerate(_batches(plan.enterprises)):
        objects = [
            Enterprise(
                credit_code=e.credit_code,
                name=e.name,
                org_unit_id=unit_ids[e.unit],
                ownership=e.ownership,
                industry_id=e.industry,
                above_designated_size=e.above_designated_size,
                headcount=e.headcount,
                migrant_headcount=e.migrant_headcount,
                dispatched_headcount=e.dispatched_headcount,
                founded_on=e.founded_on,
                deregistered_on=e.deregistered_on,
                address=e.address,
                contact_phone=e.contact_phone,
            )
            for e in batch
        ]
        Enterprise.objects.bulk_create(objects, batch_size=BATCH_SIZE)
        EnterpriseLocation.objects.bulk_create(
            [EnterpriseLocation(enterprise_id=o.pk, org_unit_id=o.org_unit_id) for o in objects],
            batch_size=BATCH_SIZE,
        )
        EnterpriseHeadcount.objects.bulk_create(
            [
                EnterpriseHeadcount(
                    enterprise_id=o.pk,
                    headcount=o.headcount,
                    migrant_headcount=o.migrant_headcount,
                    dispatched_headcount=o.dispatched_headcount,
                )
                for o in objects
            ],
            batch_size=BATCH_SIZE,
        )
        ids.extend(o.pk for o in objects)
        if number % 10 == 9:
            progress(f"  企业 {len(ids):,} / {len(plan.enterprises):,}")
    return ids


def _insert_unions(plan: DemoPlan, unit_ids: list[int], enterprise_ids: list[int]) -> int:
    coverages = 0
    for batch in _batches(plan.unions):
        objects = [
            GrassrootsUnion(
                name=u.name,
                union_type=u.union_type,
                org_unit_id=unit_ids[u.unit],
                founded_on=u.founded_on,
                dissolved_on=u.dissolved_on,
                chair_name=u.chair_name,
                chair_directly_elected=u.chair_directly_elected,
            )
            for u in batch
        ]
        GrassrootsUnion.objects.bulk_create(objects, batch_size=BATCH_SIZE)
        rows = [
            UnionCoverage(
                union_id=o.pk,
                enterprise_id=enterprise_ids[m],
                valid_from=u.founded_on,
                valid_to=u.dissolved_on,
            )
            for u, o in zip(batch, objects, strict=True)
            for m in u.members
        ]
        UnionCoverage.objects.bulk_create(rows, batch_size=BATCH_SIZE)
        coverages += len(rows)
    return coverages


def _insert_accounts(plan: DemoPlan, unit_ids: list[int]) -> int:
    user_model = get_user_model()
    by_code = {u.code: unit_ids[i] for i, u in enumerate(plan.units)}
    existing = set(
        user_model.objects.filter(username__in=[a.username for a in plan.accounts]).values_list(
            "username", flat=True
        )
    )
    # One hash for the shared demo password: hashing is deliberately slow, the accounts are for show.
    password = make_password(DEMO_PASSWORD)
    users = [
        user_model(
            username=a.username,
            password=password,
            full_name=a.full_name,
            org_unit_id=by_code[a.unit_code],
            role=a.role,
        )
        for a in plan.accounts
        if a.username not in existing
    ]
    user_model.objects.bulk_create(users)
    return len(users)


def demo_load(
    *, scale: str = "small", seed: int = DEFAULT_SEED, progress: Callable[[str], None] | None = None
) -> DemoResult:
    """Build the demo city and write it in one transaction. Refused when any org unit exists."""
    say = progress or (lambda message: None)
    started = time.perf_counter()
    plan = demo_plan(scale=scale, seed=seed)
    say(
        f"已生成（{time.perf_counter() - started:.1f} 秒）：区域单位 {len(plan.units):,}，企业 {len(plan.enterprises):,}，"
        f"工会 {len(plan.unions):,}。正在写入数据库……"
    )
    with transaction.atomic():
        existing = OrgUnit.objects.count()
        if existing:
            raise ServiceError("not_empty", f"数据库中已有 {existing} 个区域单位，演示数据只能载入空库。")
        missing = set(USED_SECTIONS) - set(Industry.objects.values_list("code", flat=True))
        if missing:
            raise ServiceError("no_industries", "缺少行业门类数据，请先运行 safetynet migrate。")
        unit_ids = _insert_units(plan)
        say(f"  区域单位 {len(unit_ids):,}")
        enterprise_ids = _insert_enterprises(plan, unit_ids, say)
        coverages = _insert_unions(plan, unit_ids, enterprise_ids)
        say(f"  工会 {len(plan.unions):,}，覆盖关系 {coverages:,}")
        accounts = _insert_accounts(plan, unit_ids)
        counts = {
            "区域单位": len(unit_ids),
            "区域单位历史": len(unit_ids),
            "企业": len(enterprise_ids),
            "企业所属区划历史": len(enterprise_ids),
            "企业职工人数历史": len(enterprise_ids),
            "基层工会": len(plan.unions),
            "工会覆盖企业": coverages,
            "人员账号": accounts,
        }
        city = OrgUnit.objects.get(pk=unit_ids[0])
        audit_record(
            actor=None,
            action=AuditAction.IMPORT,
            instance=city,
            changes={label: [None, count] for label, count in counts.items()},
            unit_path=city.path,
            note=f"载入演示数据（规模 {scale}，种子 {seed}）",
        )
    return DemoResult(scale=scale, seed=seed, counts=counts, seconds=time.perf_counter() - started)
