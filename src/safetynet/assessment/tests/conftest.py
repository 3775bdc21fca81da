"""A small dataset for the assessment tests: two districts with enterprises and unions, targets, two report
forms with reports, closed cases, and a six-item city scheme for 2012 (one item of each kind; the arithmetic
is written in test_scoring.py)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from safetynet.assessment import services
from safetynet.assessment.models import Item, Scheme
from safetynet.indicators.services import target_set
from safetynet.orgs.models import OrgLevel
from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory, make_credit_code
from safetynet.reporting import periods
from safetynet.reporting import services as reporting

DAY = datetime.date(2012, 12, 31)


@pytest.fixture(autouse=True)
def _fresh_indicator_cache():
    """The indicator engine's cache is keyed by the latest audit id, which a rolled-back test may hand to the
    next one (SQLite reuses ids): each test starts with an empty cache."""
    from django.core.cache import cache

    cache.clear()


@dataclass
class Dataset:
    city: Any
    scheme: Scheme
    items: dict[str, Item]
    city_admin: Any  # runs the city scheme
    zhongshan_officer: Any  # operator of 中山区: responds
    zhongshan_admin: Any
    xigang_officer: Any
    zhongshan_viewer: Any


def beijing(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=periods.BEIJING)


def build_facts(city: Any, make_staff: Any, settings: Any) -> dict[str, Any]:
    settings.SAFETYNET_SMS_BACKEND = "safetynet.cases.notifications.MemorySmsBackend"
    # 中山区: four eligible enterprises, three covered by a union → 建会率 3/4 = 75 %.
    zs = [
        EnterpriseFactory(
            org_unit=city.community_a, credit_code=make_credit_code(200 + n), name=f"中山企业{n}"
        )
        for n in range(4)
    ]
    UnionFactory(org_unit=city.community_a, name="中山联合工会", enterprises=zs[:3])
    # 西岗区: two eligible enterprises, both covered → 100 %.
    xg = [
        EnterpriseFactory(
            org_unit=city.street_b, credit_code=make_credit_code(300 + n, "210203"), name=f"西岗企业{n}"
        )
        for n in range(2)
    ]
    UnionFactory(org_unit=city.street_b, name="西岗联合工会", enterprises=xg)
    for unit, value in ((city.zhongshan, "0.9"), (city.xigang, "0.8")):
        target_set(actor=None, indicator="union_rate", org_unit=unit, year=2012, value=value)

    # Reports: a monthly street form from November (due on the 5th of the next month) and a quarterly
    # district form from July (due on the 10th). Due by 31 December: 2012-11 (5 Dec) and 2012Q3 (10 Oct).
    monthly = reporting.reportform_create(
        actor=None,
        code="KH01",
        name="街道月报",
        period_kind="month",
        level=OrgLevel.STREET,
        due_day=5,
        enabled_from=datetime.date(2012, 11, 1),
    )
    quarterly = reporting.reportform_create(
        actor=None,
        code="KH02",
        name="区季报",
        period_kind="quarter",
        level=OrgLevel.DISTRICT,
        due_day=10,
        enabled_from=datetime.date(2012, 7, 1),
    )
    # 中山区: its street reports November on 8 December (late); the district never reports 2012Q3 (missing).
    reporting.report_submit(
        actor=None,
        form=monthly,
        unit=city.street_a,
        period="2012-11",
        is_zero=True,
        submitted_at=beijing(2012, 12, 8, 9, 0),
    )
    # 西岗区: both on time.
    reporting.report_submit(
        actor=None,
        form=monthly,
        unit=city.street_b,
        period="2012-11",
        is_zero=True,
        submitted_at=beijing(2012, 12, 3, 9, 0),
    )
    reporting.report_submit(
        actor=None,
        form=quarterly,
        unit=city.xigang,
        period="2012Q3",
        is_zero=True,
        submitted_at=beijing(2012, 10, 9, 9, 0),
    )

    # Cases: two cases of a 中山区 enterprise closed (mediated), one within its deadline, one after it. Made as
    # finished records (the cases app's own tests cover how a case gets there).
    from safetynet.cases.models import Case, CaseStatus

    received = timezone.make_aware(datetime.datetime(2012, 9, 3, 10, 0))
    for number, on_time in (("ZS-1", True), ("ZS-2", False)):
        Case.objects.create(
            number=number,
            channel="hotline",
            category="wage_arrears",
            description="工资未发",
            enterprise=zs[0],
            level=OrgLevel.COMMUNITY,
            unit=city.community_a,
            origin_unit=city.community_a,
            received_at=received,
            level_since=received,
            deadline=received + datetime.timedelta(days=15),
            status=CaseStatus.CLOSED,
            outcome_kind="mediated",
            closed_on_time=on_time,
            closed_at=received + datetime.timedelta(days=2 if on_time else 90),
        )
    return {"zhongshan_enterprises": zs, "xigang_enterprises": xg, "monthly": monthly, "quarterly": quarterly}


SIX_ITEMS = [
    ("建会率", "indicator", "40", {"metric": "union_rate", "mode": "linear", "floor": "0.5"}),
    (
        "建会达标",
        "indicator",
        "20",
        {
            "metric": "union_rate",
            "mode": "stepped",
            "steps": [
                {"from": 100, "to": None, "points": 20},
                {"from": 80, "to": 100, "points": 12},
                {"from": 0, "to": 80, "points": 0},
            ],
        },
    ),
    ("信息报送", "deduction", "10", {"source": "reports", "late": 2, "missing": 5}),
    ("诉求按期办结", "ratio", "10", {"source": "cases_closed_on_time"}),
    ("特色工作", "manual", "20", {}),
    ("安全生产一票否决", "veto", "0", {"cap": 60}),
]


def build_scheme(city: Any, actor: Any = None) -> tuple[Scheme, dict[str, Item]]:
    scheme = services.scheme_create(actor=actor, org_unit=city.city, year=2012)
    items = {}
    for name, kind, weight, rule in SIX_ITEMS:
        items[name] = services.item_add(
            actor=actor, scheme=scheme, name=name, kind=kind, weight=weight, rule=rule
        )
    return scheme, items


@pytest.fixture
def dataset(city, make_staff, settings) -> Dataset:
    build_facts(city, make_staff, settings)
    city_admin = make_staff("city_boss", city.city, "city_admin")
    scheme, items = build_scheme(city, city_admin)
    return Dataset(
        city=city,
        scheme=scheme,
        items=items,
        city_admin=city_admin,
        zhongshan_officer=make_staff("zs_officer", city.zhongshan, "operator"),
        zhongshan_admin=make_staff("zs_admin", city.zhongshan, "unit_admin"),
        xigang_officer=make_staff("xg_officer", city.xigang, "operator"),
        zhongshan_viewer=make_staff("zs_viewer", city.zhongshan, "viewer"),
    )


def publish_and_review(data: Dataset) -> None:
    """Publish the scheme, score the manual item (中山区 16; 西岗区 10, then 18: the latest counts) and record a
    veto finding against 西岗区."""
    city = data.city
    scheme = services.scheme_publish(actor=data.city_admin, scheme=data.scheme)
    data.scheme = scheme
    manual, veto = data.items["特色工作"], data.items["安全生产一票否决"]
    services.review_record(
        actor=data.city_admin,
        item=manual,
        org_unit=city.zhongshan,
        points="16",
        reason="材料齐全，特色突出",
        on=datetime.date(2012, 12, 20),
    )
    services.review_record(
        actor=data.city_admin,
        item=manual,
        org_unit=city.xigang,
        points="10",
        reason="材料不全",
        on=datetime.date(2012, 12, 10),
    )
    services.review_record(
        actor=data.city_admin,
        item=manual,
        org_unit=city.xigang,
        points="18",
        reason="补充材料后复核",
        on=datetime.date(2012, 12, 21),
    )
    services.veto_record(
        actor=data.city_admin,
        item=veto,
        org_unit=city.xigang,
        found_on=datetime.date(2012, 11, 20),
        reason="发生较大生产安全事故",
    )
