"""Fixtures of the reporting tests: the shared small city, a monthly early-warning form for streets (YJ01,
due on the 5th, from 2012), streets opened and closed inside May 2012, enterprises and staff."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest

from safetynet.cases.notifications import MemorySmsBackend
from safetynet.orgs.models import OrgLevel
from safetynet.orgs.services import orgunit_close, orgunit_create
from safetynet.orgs.tests.factories import EnterpriseFactory, make_credit_code
from safetynet.reporting import periods, services

D = datetime.date
MAY = periods.Period("month", 2012, 5)

FIELDS = [
    {"label": "欠薪金额", "kind": "amount", "required": False},
    {"label": "涉及人数", "kind": "workers", "required": True},
    {"label": "是否停产", "kind": "yes_no", "required": False},
    {"label": "风险程度", "kind": "choice", "required": False, "choices": "低、中、高"},
    {"label": "其他情况", "kind": "text", "required": False},
]


def at(text: str) -> datetime.datetime:
    """A Beijing-time moment from "2012-06-05 23:59"."""
    return datetime.datetime.fromisoformat(text).replace(tzinfo=periods.BEIJING)


@dataclass
class World:
    city: Any
    form: Any
    street_e: Any  # 中山区, open all year
    street_c: Any  # 中山区, opened 2012-05-10 (inside May)
    street_d: Any  # 西岗区, closed 2012-05-20 (inside May)
    enterprise_a: Any  # in 友好社区 under 青泥洼桥街道 (street A)
    enterprise_b: Any  # in 八一路街道 (street B)
    enterprise_e: Any  # in street E
    street_officer: Any
    xigang_street_officer: Any
    district_officer: Any
    district_head: Any
    xigang_officer: Any
    city_admin: Any
    viewer: Any


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Cached figures are keyed by the data version (the last audit row's id); on SQLite a rolled-back test
    gives the next test the same ids, so each test starts with an empty cache."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _sms(settings):
    settings.SAFETYNET_SMS_BACKEND = "safetynet.cases.notifications.MemorySmsBackend"
    MemorySmsBackend.outbox = []


@pytest.fixture
def world(city, make_staff) -> World:
    street_e = orgunit_create(
        actor=None, code="210202002", name="桃源街道", level=OrgLevel.STREET, parent=city.zhongshan
    )
    street_c = orgunit_create(
        actor=None,
        code="210202003",
        name="新开街道",
        level=OrgLevel.STREET,
        parent=city.zhongshan,
        valid_from=D(2012, 5, 10),
    )
    street_d = orgunit_create(
        actor=None, code="210203002", name="撤并街道", level=OrgLevel.STREET, parent=city.xigang
    )
    orgunit_close(actor=None, unit=street_d, closed_on=D(2012, 5, 20))
    form = services.reportform_create(
        actor=None,
        code="YJ01",
        name="劳动关系预警月报",
        period_kind="month",
        level=OrgLevel.STREET,
        due_day=5,
        is_warning=True,
        enabled_from=D(2012, 1, 1),
        fields=FIELDS,
    )
    return World(
        city=city,
        form=form,
        street_e=street_e,
        street_c=street_c,
        street_d=street_d,
        enterprise_a=EnterpriseFactory(
            org_unit=city.community_a, credit_code=make_credit_code(501), name="友好服装有限公司"
        ),
        enterprise_b=EnterpriseFactory(
            org_unit=city.street_b, credit_code=make_credit_code(502, "210203"), name="八一路食品厂"
        ),
        enterprise_e=EnterpriseFactory(
            org_unit=street_e, credit_code=make_credit_code(503), name="桃源机械厂"
        ),
        street_officer=make_staff("street_officer", city.street_a, "operator"),
        xigang_street_officer=make_staff("xg_street_officer", city.street_b, "operator"),
        district_officer=make_staff("district_officer", city.zhongshan, "operator"),
        district_head=make_staff("district_head", city.zhongshan, "unit_admin"),
        xigang_officer=make_staff("xigang_officer", city.xigang, "operator"),
        city_admin=make_staff("city_admin_user", city.city, "city_admin"),
        viewer=make_staff("zs_viewer", city.zhongshan, "viewer"),
    )


def file_report(
    world: World, unit: Any, when: str, *, zero: bool, values: dict | None = None, period: str = "2012-05"
):
    """A report as the system files it (an import), at a Beijing-time moment."""
    return services.report_submit(
        actor=None,
        form=world.form,
        unit=unit,
        period=period,
        is_zero=zero,
        values=values if values is not None else ({} if zero else {"f2": 3}),
        submitted_at=at(when),
    )
