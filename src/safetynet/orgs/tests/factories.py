"""Factories that build registry records through the services, so paths and history are real."""

from __future__ import annotations

import datetime

import factory
from stdnum.cn import uscc

from safetynet.orgs import services
from safetynet.orgs.models import Enterprise, GrassrootsUnion, OrgLevel, OrgUnit, Ownership, UnionType

_CODE_LENGTH = {OrgLevel.CITY: 4, OrgLevel.DISTRICT: 6, OrgLevel.STREET: 9, OrgLevel.COMMUNITY: 12}


def make_credit_code(n: int, region: str = "210202") -> str:
    """A valid unified social credit code: 91 (enterprise), 6-digit region, 9-char organisation code, check."""
    body = f"91{region}{n:09d}"[:17]
    return body + uscc.calc_check_digit(body)


class OrgUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrgUnit

    parent = None
    level = factory.LazyAttribute(lambda o: o.parent.level + 1 if o.parent else OrgLevel.CITY)
    code = factory.LazyAttributeSequence(
        lambda o, n: (
            (o.parent.code if o.parent else "21")[: _CODE_LENGTH[o.level] - 3].ljust(
                _CODE_LENGTH[o.level] - 3, "0"
            )
            + f"{n % 1000:03d}"
            if o.level != OrgLevel.CITY
            else f"{2100 + n % 100:04d}"
        )
    )
    name = factory.Sequence(lambda n: f"单位{n}")
    valid_from = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.orgunit_create(actor=None, **kwargs)


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enterprise

    credit_code = factory.Sequence(lambda n: make_credit_code(n + 1))
    name = factory.Sequence(lambda n: f"测试企业{n}有限公司")
    org_unit = factory.SubFactory(OrgUnitFactory)
    ownership = Ownership.PRIVATE
    headcount = 100
    migrant_headcount = 0
    dispatched_headcount = 0
    founded_on = datetime.date(2005, 1, 1)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.enterprise_create(actor=None, **kwargs)


class UnionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GrassrootsUnion

    name = factory.Sequence(lambda n: f"测试工会{n}")
    union_type = UnionType.SINGLE
    org_unit = factory.SubFactory(OrgUnitFactory)
    founded_on = datetime.date(2006, 1, 1)
    chair_name = "张主席"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.union_create(actor=None, **kwargs)
