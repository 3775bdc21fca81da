"""Fixtures for the cases tests: the shared small city plus enterprises and case handlers."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from safetynet.cases.notifications import MemorySmsBackend
from safetynet.orgs.tests.factories import EnterpriseFactory, make_credit_code

T0 = timezone.make_aware(datetime.datetime(2012, 9, 3, 10, 0))


@dataclass
class Setup:
    city: Any
    community_enterprise: Any
    street_enterprise: Any
    xigang_enterprise: Any
    community_officer: Any
    street_officer: Any
    district_officer: Any
    city_officer: Any
    city_admin: Any
    xigang_officer: Any
    viewer: Any
    district_head: Any


@pytest.fixture(autouse=True)
def _sms(settings):
    settings.SAFETYNET_SMS_BACKEND = "safetynet.cases.notifications.MemorySmsBackend"
    MemorySmsBackend.outbox = []


@pytest.fixture
def setup(city, make_staff) -> Setup:
    return Setup(
        city=city,
        community_enterprise=EnterpriseFactory(
            org_unit=city.community_a, credit_code=make_credit_code(101), name="友好服装有限公司"
        ),
        street_enterprise=EnterpriseFactory(
            org_unit=city.street_a, credit_code=make_credit_code(102), name="青泥洼机械厂"
        ),
        xigang_enterprise=EnterpriseFactory(
            org_unit=city.street_b, credit_code=make_credit_code(103, "210203"), name="八一路食品厂"
        ),
        community_officer=make_staff("community_officer", city.community_a, "operator"),
        street_officer=make_staff("street_officer", city.street_a, "operator"),
        district_officer=make_staff("district_officer", city.zhongshan, "operator"),
        city_officer=make_staff("city_officer", city.city, "operator"),
        city_admin=make_staff("city_admin_user", city.city, "city_admin"),
        xigang_officer=make_staff("xigang_officer", city.xigang, "operator"),
        viewer=make_staff("zs_viewer", city.zhongshan, "viewer"),
        district_head=make_staff("district_head", city.zhongshan, "unit_admin"),
    )
