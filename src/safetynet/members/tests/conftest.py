"""A small registry for the member tests: enterprises in two districts, unions covering them."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest

from safetynet.orgs.models import Enterprise, GrassrootsUnion, UnionType
from safetynet.orgs.services import union_cover_enterprise
from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory, make_credit_code


@dataclass
class Registry:
    acme: Enterprise  # 中山区 community, covered by acme_union since 2006
    bolt: Enterprise  # 西岗区 street, covered by the joint union from 2010-01-01
    plain: Enterprise  # 中山区 street, never covered
    acme_union: GrassrootsUnion
    joint_union: GrassrootsUnion


@pytest.fixture
def registry(city) -> Registry:
    acme = EnterpriseFactory(
        credit_code=make_credit_code(101),
        name="甲公司",
        org_unit=city.community_a,
        founded_on=datetime.date(2000, 1, 1),
    )
    bolt = EnterpriseFactory(
        credit_code=make_credit_code(102, "210203"),
        name="乙公司",
        org_unit=city.street_b,
        founded_on=datetime.date(2000, 1, 1),
    )
    plain = EnterpriseFactory(
        credit_code=make_credit_code(103),
        name="丙公司",
        org_unit=city.street_a,
        founded_on=datetime.date(2000, 1, 1),
    )
    acme_union = UnionFactory(
        name="甲公司工会", org_unit=city.community_a, founded_on=datetime.date(2006, 1, 1), enterprises=[acme]
    )
    joint_union = UnionFactory(
        name="八一路联合工会",
        org_unit=city.street_b,
        union_type=UnionType.JOINT,
        founded_on=datetime.date(2009, 1, 1),
    )
    union_cover_enterprise(
        actor=None, union=joint_union, enterprise=bolt, valid_from=datetime.date(2010, 1, 1)
    )
    return Registry(acme=acme, bolt=bolt, plain=plain, acme_union=acme_union, joint_union=joint_union)
