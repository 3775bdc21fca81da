"""Demo cases for the demo city (诉求调处): every queue, the city board and the hazard list have something to show.

``extend_demo(seed=..., scale=...)`` is found by ``core/demo.py`` and runs after the registry, members and
programmes are loaded. It tells a story of the last weeks through the real services (intake, accept,
mediation, hand-up, pull-up, leader, merge, outcomes, follow-ups, legal aid, reopening, hazard rectification
and verification), so timelines, escalations, audit rows and notifications are exactly what the pages
would have written. Every step is planned first from ``random.Random(seed)`` over rows in id order, then
run in the order of its time, so case numbers follow the time of intake.

Times are counted back from the start of the current hour: the same seed on the same day gives the same
cases; on another day the same cases shifted in time (deadlines must be relative to now for the queues
to show new, due-soon and overdue cases).

Scale: ``small`` tells about 150 cases, most of them in 中山区 (where the demo logins work) and some in every
other district. ``city`` tells the same kinds of story with about twice as many cases — not a number
proportional to 200,000 enterprises, which would need a bulk writer and add minutes to the city build;
the services write a few hundred cases in well under a minute.

The demo callers are fictional: no SMS or email goes out while the story is written (the console SMS
backend would print one line per closed case).
"""

from __future__ import annotations

import datetime
import decimal
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from safetynet.cases import services
from safetynet.cases.models import (
    Case,
    CaseStep,
    Category,
    Channel,
    DayKind,
    Difficulty,
    Notification,
    OutcomeKind,
)
from safetynet.orgs.models import PATH_SEPARATOR, Enterprise, OrgLevel, OrgUnit

FOCUS_DISTRICT = "210202"  # 中山区: the demo logins zhongshan_officer, zhongshan_street_officer work there.
SECOND_DISTRICT = "210203"  # 西岗区: xigang_officer.
# Individual cases per district: (中山区, 西岗区, each other district).
CASES_PER_DISTRICT = {"small": (46, 14, 7), "city": (90, 30, 16), "city3": (270, 90, 48)}
# The states of the cases handed up to each district's own queue (per district code; "" for the others).
DISTRICT_QUEUE = {
    FOCUS_DISTRICT: ("new", "new", "new", "in_progress", "in_progress", "in_progress", "due_soon", "due_soon")
    + ("overdue", "overdue", "overdue"),
    SECOND_DISTRICT: ("new", "new", "in_progress", "in_progress", "due_soon", "overdue"),
    "": ("new", "in_progress", "overdue"),
}
DAY = datetime.timedelta(days=1)
READ_AFTER = datetime.timedelta(days=2)
OFFICE_OPENS = datetime.timedelta(hours=8, minutes=30)
OFFICE_HOURS = datetime.timedelta(hours=9)  # notifications older than this were read by their recipients

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志宏海波春梅凤晓东丹颖斌宇浩凯岩松"
LAW_FIRMS = ("辽宁法大律师事务所", "大连海诚律师事务所", "辽宁同方律师事务所", "大连职工法律援助工作站")
CHANNELS = (
    (Channel.HOTLINE, 45),
    (Channel.VISIT, 20),
    (Channel.ONLINE, 18),
    (Channel.LETTER, 7),
    (Channel.REFERRAL, 10),
)
CATEGORIES = (
    (Category.WAGE_ARREARS, 34),
    (Category.SOCIAL_INSURANCE, 14),
    (Category.LABOUR_CONTRACT, 12),
    (Category.DISMISSAL, 14),
    (Category.WORKING_HOURS, 10),
    (Category.WORK_INJURY, 8),
    (Category.SAFETY, 3),
    (Category.OTHER, 5),
)
DESCRIPTIONS = {
    Category.WAGE_ARREARS: "企业拖欠{workers}名职工{months}个月工资，共计约{amount}元，多次讨要未果，要求尽快足额支付。",
    Category.SOCIAL_INSURANCE: "入职{years}年，企业只缴纳了{months}个月养老和医疗保险，要求补缴社会保险费。",
    Category.LABOUR_CONTRACT: "入职{months}个月企业一直未签订书面劳动合同，要求补签并支付二倍工资差额约{amount}元。",
    Category.DISMISSAL: "企业以“经营困难”为由口头辞退，未提前三十日通知，也未支付经济补偿金约{amount}元。",
    Category.WORKING_HOURS: "车间长期每天工作12小时、每月只休息2天，延长工作时间的加班费未按规定支付。",
    Category.WORK_INJURY: "职工在车间作业时受伤，企业拒绝申报工伤，不承担医疗费用，要求依法认定工伤并支付待遇。",
    Category.SAFETY: "车间粉尘和噪声大，企业未发放劳动防护用品，职工要求改善劳动条件。",
    Category.OTHER: "企业拒绝出具解除劳动合同证明，扣押职工职业资格证书，影响再就业。",
}
AGREEMENTS = {
    Category.WAGE_ARREARS: "双方达成调解协议：企业分两期支付拖欠工资{amount}元，首期于协议签订后7日内支付。",
    Category.SOCIAL_INSURANCE: "企业同意于下月起为职工补缴欠缴的社会保险费，并由社保经办机构出具缴费凭证。",
    Category.LABOUR_CONTRACT: "企业与职工补签劳动合同，并一次性支付未签合同期间的工资差额{amount}元。",
    Category.DISMISSAL: "双方协商一致解除劳动合同，企业支付经济补偿金{amount}元并出具解除证明。",
    Category.WORKING_HOURS: "企业调整排班，每周至少休息一日，补发近一年加班费{amount}元。",
    Category.WORK_INJURY: "企业同意申报工伤，先行垫付医疗费用{amount}元，工伤认定后按规定结算。",
    Category.SAFETY: "企业承诺一个月内为全体职工配发防护用品，车间加装除尘设备。",
    Category.OTHER: "企业当场出具解除劳动合同证明并退还证书。",
}
MEDIATION_NOTES = (
    "约谈企业负责人，企业承认欠付事实，但要求分期支付，职工暂不同意。",
    "组织双方面对面调解，企业人事经理参加，双方就金额分歧较大，约定三日后再调。",
    "电话联系企业财务，企业答复本周内给出支付方案。",
    "到企业实地了解情况，查阅考勤和工资表，企业同意核对后答复。",
)
HAND_UP_REASONS = (
    "调解不成：企业负责人拒不到场，本级无法推进，请上级协调。",
    "调解不成：双方对金额分歧大，涉及社保补缴需相关部门配合。",
    "企业注册地不在本辖区，需上级协调有关部门。",
)
REFERRALS = (
    (OutcomeKind.ARBITRATION, "大连市劳动人事争议仲裁委员会", 50),
    (OutcomeKind.LABOUR_INSPECTION, "区人力资源和社会保障局劳动保障监察大队", 35),
    (OutcomeKind.COURT, "区人民法院", 15),
)
FOLLOW_UP_NOTES = (
    "职工表示款项已全部到账，对工会调解满意。",
    "已按协议收到首期款项，第二期尚未到期。",
    "问题已解决，希望工会加强对企业的监督。",
    "企业已补签合同，职工对处理结果基本满意。",
)
HAZARDS = (
    "车间消防通道被成品货物堵塞，灭火器过期未更换。",
    "冲压设备安全防护罩拆除后未恢复，职工作业存在机械伤害隐患。",
    "喷漆车间通风设备损坏，职工反映头晕恶心。",
    "厂区配电箱门锁损坏、线路裸露，雨天有触电危险。",
)


class SilentSmsBackend:
    """The demo callers are fictional: their SMS goes nowhere."""

    def send(self, phone: str, text: str) -> None:
        return None


@dataclass(order=True)
class Event:
    at: datetime.datetime
    order: int
    run: Callable[[], Any] = field(compare=False)


@dataclass
class Firm:
    pk: int
    unit: OrgUnit
    chain: list[OrgUnit]  # the unit, its street (if any), its district and the city, lowest first

    @property
    def district(self) -> OrgUnit:
        return next(unit for unit in self.chain if unit.level == OrgLevel.DISTRICT)

    @property
    def below_district(self) -> int:
        """How many hand-ups take a case of this enterprise to its district."""
        return self.chain.index(self.district)


def _weighted(rng: random.Random, options: Any) -> Any:
    return rng.choices([option[0] for option in options], weights=[option[-1] for option in options])[0]


class Story:
    """Plans every step of every demo case as an event at a time before ``anchor``, then runs them in order."""

    def __init__(self, *, seed: int, scale: str, anchor: datetime.datetime) -> None:
        self.rng = random.Random(f"safetynet.cases.demo:{seed}:{scale}")
        self.scale = scale
        self.anchor = anchor
        self.events: list[Event] = []
        self.cases: dict[str, Case] = {}
        self.units = {unit.pk: unit for unit in OrgUnit.objects.order_by("pk")}
        self.user_model = get_user_model()
        self.handlers: dict[int, Any] = {}
        self.leaders: dict[int, Any] = {}
        self.accounts_created = 0
        self.amounts: dict[str, decimal.Decimal] = {}
        self.categories: dict[str, str] = {}
        self.city = next(unit for unit in self.units.values() if unit.parent_id is None)
        self.enterprise_ids: dict[int, list[tuple[int, int]]] = {}
        self.password = make_password(None)  # the story's own staff cannot sign in
        self._load_handlers()

    # --- people ---------------------------------------------------------------------------------------

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(
            self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2)))
        )

    def phone(self) -> str:
        return "1" + self.rng.choice("35789") + "".join(self.rng.choice("0123456789") for _ in range(9))

    def _load_handlers(self) -> None:
        # The demo logins handle their own unit's cases (an operator before an admin), so their queues fill.
        preference = {"operator": 0, "unit_admin": 1, "city_admin": 2}
        users = self.user_model.objects.filter(
            role__in=list(preference), is_active=True, org_unit__isnull=False
        ).order_by("username")
        for user in users:
            current = self.handlers.get(user.org_unit_id)
            if current is None or preference[user.role] < preference[current.role]:
                self.handlers[user.org_unit_id] = user

    def _account(self, unit: OrgUnit, kind: str, role: str, title: str) -> Any:
        user = self.user_model.objects.create(
            username=f"demo_{kind}_{unit.code}",
            password=self.password,
            full_name=f"{self.person()}{title}",
            org_unit=unit,
            role=role,
        )
        self.accounts_created += 1
        return user

    def handler(self, unit: OrgUnit) -> Any:
        """Who handles cases at this unit: its demo login, else a mediator of the unit (created once)."""
        if unit.pk not in self.handlers:
            self.handlers[unit.pk] = self._account(unit, "mediator", "operator", "")
        return self.handlers[unit.pk]

    def leader(self, unit: OrgUnit) -> Any:
        """The leader in charge of big cases at a district (领导包案): a vice-chair of its federation."""
        if unit.pk not in self.leaders:
            self.leaders[unit.pk] = self._account(unit, "leader", "unit_admin", "（副主席）")
        return self.leaders[unit.pk]

    # --- where the cases come from --------------------------------------------------------------------

    def pick(self, district: OrgUnit, *, under: OrgUnit | None = None, climb: int = 0) -> Firm | None:
        """One enterprise of the district, chosen by the seed (ids in order): under ``under`` when given,
        and ``climb`` or more levels below the district (so its case can be handed up that often)."""
        if district.pk not in self.enterprise_ids:
            self.enterprise_ids[district.pk] = list(
                Enterprise.objects.within(district.path).order_by("pk").values_list("pk", "org_unit_id")
            )
        rows = self.enterprise_ids[district.pk]
        depth = {OrgLevel.DISTRICT: 0, OrgLevel.STREET: 1, OrgLevel.COMMUNITY: 2}
        if under is not None or climb:
            rows = [
                (pk, unit_id)
                for pk, unit_id in rows
                if depth.get(self.units[unit_id].level, 0) >= climb
                and (under is None or self.units[unit_id].path.startswith(under.path))
            ]
        if not rows:
            return None
        return self.firm(*self.rng.choice(rows))

    def firm(self, pk: int, unit_id: int) -> Firm:
        unit = self.units[unit_id]
        chain = [self.units[int(part)] for part in unit.path.split(PATH_SEPARATOR) if part]
        return Firm(pk=pk, unit=unit, chain=list(reversed(chain)))

    # --- planning -------------------------------------------------------------------------------------

    def at(self, moment: datetime.datetime, run: Callable[[], Any]) -> None:
        self.events.append(Event(moment, len(self.events), run))

    def office(self, moment: datetime.datetime) -> datetime.datetime:
        """The plan's time squeezed into that day's office hours (08:30–17:30), so nobody mediates at 3 am.

        The map only ever moves a time within its own day and keeps the order of any two times (it is
        increasing), so a plan in order stays in order; today keeps its times (none may pass the anchor)."""
        local = timezone.localtime(moment)
        if local.date() >= self.anchor.date():
            return moment
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight + OFFICE_OPENS + (local - midnight) * (OFFICE_HOURS / DAY)

    def ago(self, low: float, high: float) -> datetime.datetime:
        return self.anchor - datetime.timedelta(days=self.rng.uniform(low, high))

    def later(
        self, moment: datetime.datetime, low_hours: float, high_hours: float
    ) -> datetime.datetime | None:
        """A moment some hours after ``moment``, or None when that is still to come."""
        then = moment + datetime.timedelta(hours=self.rng.uniform(low_hours, high_hours))
        return then if then < self.anchor - datetime.timedelta(minutes=10) else None

    def amount(self, category: str, workers: int) -> decimal.Decimal:
        low, high = {
            Category.WAGE_ARREARS: (3000, 15000),
            Category.SOCIAL_INSURANCE: (5000, 30000),
            Category.LABOUR_CONTRACT: (10000, 45000),
            Category.DISMISSAL: (8000, 60000),
            Category.WORKING_HOURS: (2000, 20000),
            Category.WORK_INJURY: (20000, 150000),
        }.get(category, (0, 0))
        value = self.rng.uniform(low, high) * (workers if category == Category.WAGE_ARREARS else 1)
        return decimal.Decimal(int(value / 100) * 100)

    def intake(
        self,
        key: str,
        firm: Firm,
        moment: datetime.datetime,
        *,
        category: str | None = None,
        workers: int | None = None,
        kind: str = "dispute",
        channel: str | None = None,
        major: bool = False,
        description: str | None = None,
    ) -> datetime.datetime:
        """The case ``key`` is registered at ``moment`` (returned, for the steps that follow)."""
        category = category or _weighted(self.rng, CATEGORIES)
        workers = workers or self.rng.choice((1, 1, 1, 1, 2, 2, 3, 4, 5, 6))
        channel = channel or _weighted(self.rng, CHANNELS)
        amount = self.amount(category, workers) if kind == "dispute" else decimal.Decimal(0)
        anonymous = self.rng.random() < 0.12
        phone = (
            "" if channel == Channel.LETTER and not anonymous and self.rng.random() < 0.5 else self.phone()
        )
        text = description or DESCRIPTIONS[category].format(
            workers=workers,
            months=self.rng.randint(2, 6),
            years=self.rng.randint(2, 8),
            amount=f"{amount:,.0f}",
        )
        # Whoever takes the call: the city hotline for 12351 calls, otherwise the unit the case starts at.
        receiver = self.handler(self.city) if channel == Channel.HOTLINE else self.handler(firm.unit)
        caller = "" if anonymous else self.person()
        when = self.office(moment)

        def run() -> None:
            self.cases[key] = services.case_intake(
                actor=receiver,
                kind=kind,
                channel=channel,
                category=category,
                description=text,
                enterprise=Enterprise.objects.select_related("org_unit").get(pk=firm.pk),
                workers_involved=workers,
                claim_amount=amount,
                caller_phone=phone,
                caller_name=caller,
                anonymous=anonymous,
                major=major,
                now=when,
            )

        self.at(when, run)
        self.amounts[key] = amount
        self.categories[key] = category
        return moment

    def step(
        self, moment: datetime.datetime | None, call: Callable[..., Any], key: str, **kwargs: Any
    ) -> bool:
        """``call(actor=..., case=<the case>, now=moment, **kwargs)`` at ``moment`` (nothing when None)."""
        if moment is None:
            return False
        when = self.office(moment)

        def run() -> None:
            result = call(case=self.cases[key], now=when, **kwargs)
            if isinstance(result, Case):
                self.cases[key] = result

        self.at(when, run)
        return True

    # --- the kinds of story ---------------------------------------------------------------------------

    def accept(self, key: str, unit: OrgUnit, moment: datetime.datetime | None, **kwargs: Any) -> bool:
        return self.step(moment, services.case_accept, key, actor=self.handler(unit), version=None, **kwargs)

    def mediate(self, key: str, unit: OrgUnit, moment: datetime.datetime | None) -> bool:
        note = self.rng.choice(MEDIATION_NOTES)
        return self.step(
            moment,
            services.case_record_mediation_attempt,
            key,
            actor=self.handler(unit),
            version=None,
            note=note,
        )

    def hand_up(self, key: str, unit: OrgUnit, moment: datetime.datetime | None) -> bool:
        reason = self.rng.choice(HAND_UP_REASONS)
        return self.step(
            moment, services.case_hand_up, key, actor=self.handler(unit), version=None, reason=reason
        )

    def resolve(self, key: str, unit: OrgUnit, moment: datetime.datetime | None, *, kind: str) -> bool:
        category = self.categories[key]
        recovered = (self.amounts[key] * decimal.Decimal(self.rng.choice((0.6, 0.8, 0.9, 1, 1, 1)))).quantize(
            decimal.Decimal("1")
        )
        agreement = (
            AGREEMENTS[category].format(amount=f"{recovered:,.0f}") if kind == OutcomeKind.MEDIATED else ""
        )
        note = {
            OutcomeKind.WITHDRAWN: "企业已主动补发，职工撤回诉求。",
            OutcomeKind.OUT_OF_SCOPE: "经核实属于人事争议，已告知职工向主管部门反映。",
        }.get(kind, "")
        return self.step(
            moment,
            services.case_resolve,
            key,
            actor=self.handler(unit),
            version=None,
            kind=kind,
            agreement=agreement,
            amount_recovered=recovered if kind == OutcomeKind.MEDIATED else 0,
            note=note,
        )

    def follow_up(self, key: str, unit: OrgUnit, moment: datetime.datetime | None) -> bool:
        score = _weighted(self.rng, ((5, 45), (4, 35), (3, 12), (2, 6), (1, 2)))
        note = self.rng.choice(FOLLOW_UP_NOTES) if score >= 4 else "职工认为企业支付不及时，对结果不太满意。"
        return self.step(
            moment,
            services.case_record_follow_up,
            key,
            actor=self.handler(unit),
            satisfaction=score,
            note=note,
        )

    def legal_aid(self, key: str, unit: OrgUnit, moment: datetime.datetime | None) -> bool:
        return self.step(
            moment,
            services.case_record_legal_aid,
            key,
            actor=self.handler(unit),
            lawyer=f"{self.rng.choice(SURNAMES)}律师",
            law_firm=self.rng.choice(LAW_FIRMS),
            hours=decimal.Decimal(self.rng.choice((2, 3, 4, 6, 8))),
            given_on=timezone.localtime(moment).date() if moment else None,
            note="代写仲裁申请书并出庭代理。",
        )

    def individual(self, key: str, firm: Firm) -> None:
        """One worker's (or a few workers') case, in one of the usual states."""
        scenario = _weighted(
            self.rng,
            (
                ("new", 13),
                ("in_progress", 17),
                ("due_soon", 6),
                ("overdue", 8),
                ("handed_up", 11),
                ("handed_up_twice", 6),
                ("pulled_up", 3),
                ("mediated", 19),
                ("referred", 8),
                ("withdrawn", 5),
                ("out_of_scope", 2),
            ),
        )
        here, chain = firm.unit, firm.chain
        if scenario in ("handed_up", "handed_up_twice", "pulled_up") and firm.below_district < 1:
            scenario = "in_progress"
        if scenario == "handed_up_twice" and firm.below_district < 2:
            scenario = "handed_up"
        if scenario == "new":
            self.intake(key, firm, self.ago(0.05, 1.8))
        elif scenario in ("in_progress", "due_soon", "overdue"):
            low, high = {"in_progress": (2, 11), "due_soon": (13.6, 14.3), "overdue": (16.2, 24)}[scenario]
            moment = self.intake(key, firm, self.ago(low, high))
            accepted = self.later(moment, 1, 20)
            self.accept(key, here, accepted)
            if accepted and self.rng.random() < 0.7:
                self.mediate(key, here, self.later(accepted, 24, 96))
            if accepted and self.rng.random() < 0.15:
                self.legal_aid(key, here, self.later(accepted, 30, 60))
        elif scenario in ("handed_up", "handed_up_twice"):
            moment = self.intake(key, firm, self.ago(8, 16) if scenario == "handed_up" else self.ago(14, 24))
            for level, unit in enumerate(chain[: 3 if scenario == "handed_up_twice" else 2]):
                last = level == (2 if scenario == "handed_up_twice" else 1)
                accepted = self.later(moment, 2, 24)
                if last:
                    if self.rng.random() < 0.5:
                        self.accept(key, unit, accepted)
                    break
                self.accept(key, unit, accepted)
                mediated = self.later(accepted, 24, 72) if accepted else None
                self.mediate(key, unit, mediated)
                handed = self.later(mediated, 12, 60) if mediated else None
                if not self.hand_up(key, unit, handed):
                    break
                moment = handed
        elif scenario == "pulled_up":
            moment = self.intake(key, firm, self.ago(3, 9))
            district = firm.district
            pulled = self.later(moment, 10, 40)
            self.step(
                pulled,
                services.case_pull_up,
                key,
                actor=self.handler(district),
                version=None,
                reason="涉及金额较大且企业在区内有多起类似诉求，区总工会提级办理。",
            )
            if pulled:
                self.accept(key, district, self.later(pulled, 1, 6))
        else:
            moment = self.intake(key, firm, self.ago(18, 75) if scenario == "mediated" else self.ago(8, 60))
            accepted = self.later(moment, 1, 24)
            self.accept(key, here, accepted)
            if accepted is None:
                return
            if scenario == "withdrawn":
                self.resolve(key, here, self.later(accepted, 24, 120), kind=OutcomeKind.WITHDRAWN)
                return
            if scenario == "out_of_scope":
                self.resolve(key, here, self.later(accepted, 4, 48), kind=OutcomeKind.OUT_OF_SCOPE)
                return
            mediated = self.later(accepted, 24, 96)
            self.mediate(key, here, mediated)
            if mediated is None:
                return
            if scenario == "referred":
                kind = _weighted(self.rng, [(k, w) for k, _, w in REFERRALS])
                referred_to = next(name for k, name, _ in REFERRALS if k == kind)
                if self.rng.random() < 0.35:
                    self.legal_aid(key, here, self.later(mediated, 12, 48))
                self.step(
                    self.later(mediated, 72, 200),
                    services.case_refer_out,
                    key,
                    actor=self.handler(here),
                    version=None,
                    kind=kind,
                    referred_to=referred_to,
                    note="本级调解不成，告知职工依法申请并协助准备材料。",
                )
                return
            # Most close within the level's 15 days; some a little late.
            late = self.rng.random() < 0.15
            closed = self.later(mediated, 300, 400) if late else self.later(mediated, 24, 220)
            if self.resolve(key, here, closed, kind=OutcomeKind.MEDIATED) and self.rng.random() < 0.7:
                self.follow_up(key, here, self.later(closed, 48, 160))

    # Days since the case reached its level (office hours move a time by at most 8.5 hours either way).
    STATE_AGES = {"new": (0.1, 1.8), "in_progress": (2, 10), "due_soon": (13.6, 14.3), "overdue": (16.2, 22)}

    def climbed(self, key: str, firm: Firm, *, up: int, state: str, pulled: bool = False) -> None:
        """A case that reached the level ``up`` steps above where it started — handed up level by level
        after failed mediation, or pulled up by that level — and is now ``state`` there."""
        up = min(up, len(firm.chain) - 1)
        arrival = self.ago(*self.STATE_AGES[state])
        stays = [self.rng.uniform(3, 8) * DAY for _ in range(up)]
        moment = (
            arrival - sum(stays, datetime.timedelta())
            if not pulled
            else arrival - self.rng.uniform(1, 3) * DAY
        )
        self.intake(key, firm, moment)
        target = firm.chain[up]
        if pulled:
            reason = "涉及金额较大且企业在辖区内有多起类似诉求，提级办理。"
            self.step(
                arrival, services.case_pull_up, key, actor=self.handler(target), version=None, reason=reason
            )
        else:
            for level, stay in enumerate(stays):
                unit = firm.chain[level]
                self.accept(key, unit, moment + stay * self.rng.uniform(0.05, 0.15))
                self.mediate(key, unit, moment + stay * self.rng.uniform(0.4, 0.8))
                moment += stay
                self.hand_up(key, unit, moment)
        if state == "new":
            return
        accepted = self.later(arrival, 1, 10)
        self.accept(key, target, accepted)
        if accepted and self.rng.random() < 0.6:
            self.mediate(key, target, self.later(accepted, 24, 72))

    # --- the special cases of a district --------------------------------------------------------------

    def collective(
        self, key: str, firm: Firm, *, workers: int, days_ago: float, leader: bool, to_city: bool = False
    ) -> None:
        """A collective dispute (10 or more workers): it starts at the district and goes on the city board."""
        district = firm.district
        start = self.anchor - datetime.timedelta(days=days_ago)
        self.intake(key, firm, start, category=Category.WAGE_ARREARS, workers=workers, channel=Channel.VISIT)
        if not leader:
            return
        assigned = self.later(start, 1, 3)
        self.step(
            assigned,
            services.case_assign_leader,
            key,
            actor=self.handler(district),
            version=None,
            leader=self.leader(district),
        )
        accepted = self.later(assigned, 0.5, 2) if assigned else None
        self.accept(key, district, accepted, difficulty=Difficulty.DIFFICULT)
        mediated = self.later(accepted, 30, 60) if accepted else None
        self.mediate(key, district, mediated)
        if to_city and mediated:
            self.step(
                self.later(mediated, 48, 96),
                services.case_hand_up,
                key,
                actor=self.handler(district),
                version=None,
                reason="涉及人数多、金额大，企业资金链断裂，区级调解不成，报请市总工会协调有关部门。",
            )

    def merged_collective(self, key: str, firm: Firm) -> None:
        """Three workers' cases about the same enterprise and wages are linked into one collective case."""
        members = [f"{key}-{n}" for n in range(3)]
        for n, member in enumerate(members):
            self.intake(
                member,
                firm,
                self.anchor - datetime.timedelta(days=6 - n, hours=self.rng.uniform(0, 8)),
                category=Category.WAGE_ARREARS,
                workers=(4, 3, 5)[n],
            )
        district = firm.district
        moment = self.office(self.anchor - datetime.timedelta(days=2, hours=3))

        def run() -> None:
            self.cases[key] = services.case_merge_into_collective(
                actor=self.handler(district), cases=[self.cases[m] for m in members], now=moment
            )

        self.at(moment, run)
        self.amounts[key] = decimal.Decimal(0)
        self.categories[key] = Category.WAGE_ARREARS

    def major(self, key: str, firm: Firm) -> None:
        """A major case (a fatal work injury): the district pulls it up and names a leader."""
        district = firm.district
        start = self.ago(3, 4)
        self.intake(
            key,
            firm,
            start,
            category=Category.WORK_INJURY,
            workers=1,
            major=True,
            channel=Channel.REFERRAL,
            description="职工在高处作业时坠落身亡，家属与企业就工亡待遇协商未果，情绪激动，区信访办转来。",
        )
        pulled = self.later(start, 2, 6)
        self.step(
            pulled,
            services.case_pull_up,
            key,
            actor=self.handler(district),
            version=None,
            reason="重大案件，区总工会直接办理。",
        )
        assigned = self.later(pulled, 0.5, 2) if pulled else None
        self.step(
            assigned,
            services.case_assign_leader,
            key,
            actor=self.handler(district),
            version=None,
            leader=self.leader(district),
        )
        self.accept(
            key,
            district,
            self.later(assigned, 0.5, 2) if assigned else None,
            difficulty=Difficulty.ESPECIALLY_COMPLEX,
        )

    def reopened(self, key: str, firm: Firm) -> None:
        here = firm.unit
        start = self.intake(key, firm, self.ago(20, 22), category=Category.WAGE_ARREARS)
        accepted = self.later(start, 2, 6)
        self.accept(key, here, accepted)
        closed = self.later(accepted, 72, 120)
        self.resolve(key, here, closed, kind=OutcomeKind.MEDIATED)
        self.step(
            self.anchor - datetime.timedelta(days=2, hours=5),
            services.case_reopen,
            key,
            actor=self.handler(here),
            version=None,
            reason="企业未按调解协议支付第二期款项，职工再次来电。",
        )

    def hazard(self, key: str, firm: Firm, state: str) -> None:
        """A hazard report (隐患举报): new, under rectification, overdue, failed or passed verification."""
        here = firm.unit
        days = {
            "new": (0.2, 1.5),
            "rectifying": (5, 7),
            "overdue": (9, 11),
            "failed": (12, 14),
            "closed": (20, 30),
        }
        start = self.ago(*days[state])
        self.intake(
            key,
            firm,
            start,
            kind="hazard",
            category=Category.SAFETY,
            workers=self.rng.randint(1, 3),
            channel=_weighted(self.rng, ((Channel.HOTLINE, 3), (Channel.ONLINE, 2))),
            description=self.rng.choice(HAZARDS),
        )
        ordered = self.later(start, 4, 24)
        if state == "new" or ordered is None:
            return
        rectify_days = {"rectifying": 9, "overdue": 7, "failed": 5, "closed": 10}[state]
        self.step(
            ordered,
            services.hazard_assign_rectification,
            key,
            actor=self.handler(here),
            version=None,
            owner=f"{self.person()}（生产安全负责人）",
            deadline=timezone.localtime(ordered + rectify_days * DAY).replace(hour=17, minute=0, second=0),
            note="已向企业下达整改通知书。",
        )
        if state in ("failed", "closed"):
            verified = self.later(ordered, (rectify_days - 1) * 24, rectify_days * 24 - 2)
            self.step(
                verified,
                services.hazard_verify,
                key,
                actor=self.handler(here),
                version=None,
                passed=state == "closed",
                note="现场核查：已清理通道、更换灭火器。"
                if state == "closed"
                else "现场核查：防护装置仍未恢复，责令继续整改。",
            )

    # --- the whole city --------------------------------------------------------------------------------

    def plan(self) -> None:
        districts = sorted(
            (u for u in self.units.values() if u.level == OrgLevel.DISTRICT and u.is_open),
            key=lambda u: u.code,
        )
        focus, second, other = CASES_PER_DISTRICT[self.scale]
        times = 1 if self.scale == "small" else 2
        for district in districts:
            code = district.code
            count = focus if code == FOCUS_DISTRICT else second if code == SECOND_DISTRICT else other
            if self.pick(district) is None:
                continue
            for n in range(count):
                self.individual(f"{code}-{n}", self.pick(district))
            # Every district's own queue holds cases handed up to it, in each state against the deadline.
            states = DISTRICT_QUEUE.get(code, DISTRICT_QUEUE[""]) * times
            for n, state in enumerate(states):
                firm = self.pick(district, climb=1)
                if firm is not None:
                    self.climbed(f"{code}-d{n}", firm, up=firm.below_district, state=state)
            if code == FOCUS_DISTRICT:
                self.focus_district(district, times)
            elif code == SECOND_DISTRICT:
                self.collective(f"{code}-c1", self.pick(district), workers=18, days_ago=17.5, leader=True)
                self.hazard(f"{code}-h-overdue", self.pick(district), "overdue")
            elif code == "210211":  # 甘井子区: a big collective case handed up to the city
                self.collective(
                    f"{code}-c1", self.pick(district), workers=64, days_ago=11.5, leader=True, to_city=True
                )
                self.hazard(f"{code}-h-rectifying", self.pick(district), "rectifying")
            elif code == "210204":  # 沙河口区: a major case
                self.major(f"{code}-major", self.pick(district, climb=1))
            elif code == "210213":  # 金州区: a collective case still without its leader
                self.collective(f"{code}-c1", self.pick(district), workers=12, days_ago=0.6, leader=False)
                self.hazard(f"{code}-h-failed", self.pick(district), "failed")
            if self.scale != "small":
                self.hazard(
                    f"{code}-h-city", self.pick(district), self.rng.choice(("new", "rectifying", "closed"))
                )

    def focus_district(self, district: OrgUnit, times: int) -> None:
        """中山区, where the demo logins work: the first street's queue, cases that reached the city, the
        collective cases of the board, a pulled-up and a reopened case, and hazard reports in every state."""
        code = district.code
        first_street = min(
            (u for u in self.units.values() if u.parent_id == district.pk), key=lambda u: u.code
        )
        for n, state in enumerate(("new", "new", "in_progress", "in_progress", "overdue") * times):
            firm = self.pick(district, under=first_street, climb=2)
            if firm is not None:
                self.climbed(f"{code}-s{n}", firm, up=1, state=state)
        for n, state in enumerate(("new", "in_progress") * times):
            firm = self.pick(district, climb=1)
            self.climbed(f"{code}-city{n}", firm, up=firm.below_district + 1, state=state)
        firm = self.pick(district, climb=1)
        self.climbed(f"{code}-p", firm, up=firm.below_district, state="in_progress", pulled=True)
        self.collective(f"{code}-c1", self.pick(district), workers=36, days_ago=5.2, leader=True)
        self.merged_collective(f"{code}-m", self.pick(district))
        self.reopened(f"{code}-r", self.pick(district))
        for state in ("new", "rectifying", "closed", "failed"):
            self.hazard(f"{code}-h-{state}", self.pick(district, under=first_street), state)

    def run(self) -> None:
        for event in sorted(self.events):
            event.run()


def _read_old_notifications(anchor: datetime.datetime) -> int:
    """People read what they were told more than two days ago (through the same service as the page)."""
    old = defaultdict(list)
    for pk, recipient in Notification.objects.filter(
        read=False, created_at__lt=anchor - READ_AFTER
    ).values_list("pk", "recipient_id"):
        old[recipient].append(pk)
    users = get_user_model().objects.in_bulk(list(old))
    return sum(
        services.notification_mark_read(actor=users[pk], notification_ids=ids) for pk, ids in old.items()
    )


def _rules() -> int:
    """Longer times for difficult cases above the street; a general case keeps the default 15 calendar days."""
    rules = (
        (OrgLevel.STREET, Difficulty.DIFFICULT, 20, DayKind.CALENDAR),
        (OrgLevel.DISTRICT, Difficulty.DIFFICULT, 20, DayKind.CALENDAR),
        (OrgLevel.DISTRICT, Difficulty.ESPECIALLY_COMPLEX, 30, DayKind.CALENDAR),
        (OrgLevel.CITY, Difficulty.ESPECIALLY_COMPLEX, 20, DayKind.WORKING),
    )
    for level, difficulty, days, day_kind in rules:
        services.deadline_rule_create(
            actor=None, level=level, difficulty=difficulty, days=days, day_kind=day_kind
        )
    return len(rules)


def extend_demo(*, seed: int, scale: str, progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """The hook ``safetynet demo-data`` calls after the registry is loaded (see core/demo.py).

    Does nothing when cases exist already (the demo tells its story once)."""
    if scale not in CASES_PER_DISTRICT or Case.objects.exists() or not Enterprise.objects.exists():
        return {"诉求案件": 0}
    anchor = timezone.localtime().replace(minute=0, second=0, microsecond=0)
    with (
        override_settings(
            SAFETYNET_SMS_BACKEND="safetynet.cases.demo.SilentSmsBackend",
            EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        ),
        transaction.atomic(),
    ):
        rules = _rules()
        story = Story(seed=seed, scale=scale, anchor=anchor)
        story.plan()
        story.run()
        read = _read_old_notifications(anchor)
        counts = {
            "诉求案件": Case.objects.count(),
            "办理环节": CaseStep.objects.count(),
            "站内通知": Notification.objects.count(),
            "其中已读": read,
            "期限规则": rules,
            "调解员和包案领导账号": story.accounts_created,
        }
    if progress is not None:
        progress("诉求调处：" + "，".join(f"{label} {count:,}" for label, count in counts.items()))
    return counts
