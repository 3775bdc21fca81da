"""The scope walk's records build, and every one is out of a 西岗区 user's scope and inside a 中山区 user's."""

from __future__ import annotations

import pytest

from safetynet.assistance.tests.helpers import scope_walk_records
from safetynet.orgs.tests.factories import EnterpriseFactory

pytestmark = pytest.mark.django_db


def test_scope_walk_records_are_scoped(city, make_staff):
    enterprise = EnterpriseFactory(org_unit=city.community_a)
    records, markers = scope_walk_records(enterprise)
    xigang = make_staff("xg_walk", city.xigang, "unit_admin")
    zhongshan = make_staff("zs_walk", city.zhongshan, "viewer")
    assert len(records) >= 8 and markers
    for model, record in records.items():
        assert not model.objects.visible_to(xigang).filter(pk=record.pk).exists(), model
        assert model.objects.visible_to(zhongshan).filter(pk=record.pk).exists(), model
