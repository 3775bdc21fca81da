"""Imports tests: uploads under a temporary MEDIA_ROOT, jobs run at once by the immediate task backend."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest

from safetynet.orgs.models import Enterprise, GrassrootsUnion
from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory, make_credit_code

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def media_and_tasks(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = IMMEDIATE
    return settings


@dataclass
class Registry:
    acme: Enterprise  # 友好社区 (中山区), covered by its union since 2006
    bolt: Enterprise  # 八一路街道 (西岗区), no union
    acme_union: GrassrootsUnion


@pytest.fixture
def registry(city) -> Registry:
    acme = EnterpriseFactory(
        credit_code=make_credit_code(501),
        name="甲机械有限公司",
        org_unit=city.community_a,
        founded_on=datetime.date(2000, 1, 1),
    )
    bolt = EnterpriseFactory(
        credit_code=make_credit_code(502, "210203"),
        name="乙物流有限公司",
        org_unit=city.street_b,
        founded_on=datetime.date(2000, 1, 1),
    )
    union = UnionFactory(
        name="甲机械有限公司工会",
        org_unit=city.community_a,
        founded_on=datetime.date(2006, 1, 1),
        enterprises=[acme],
    )
    return Registry(acme=acme, bolt=bolt, acme_union=union)


@pytest.fixture
def officer(city, make_staff):
    return make_staff("zs_officer", city.zhongshan, "operator")


@pytest.fixture
def xigang_officer(city, make_staff):
    return make_staff("xg_officer", city.xigang, "operator")
