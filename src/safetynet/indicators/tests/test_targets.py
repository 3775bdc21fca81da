import pytest
from django.utils import timezone

from safetynet.core.errors import NotAllowed, ServiceError
from safetynet.indicators.selectors import target_decomposition_gaps, target_status
from safetynet.indicators.services import target_set
from safetynet.orgs.tests.factories import EnterpriseFactory


def test_status_thresholds():
    assert target_status(0.91, 0.9) == "met"
    assert target_status(0.88, 0.9) == "behind"
    assert target_status(0.80, 0.9) == "far_behind"
    assert target_status(None, 0.9) is None


def test_city_decomposes_to_districts_district_to_streets(city, make_staff):
    city_admin = make_staff("ca", city.city, "city_admin")
    district_admin = make_staff("da", city.zhongshan, "unit_admin")
    target_set(actor=city_admin, indicator="union_rate", org_unit=city.city, year=2012, value="0.9")
    target_set(actor=city_admin, indicator="union_rate", org_unit=city.zhongshan, year=2012, value="0.95")
    target_set(actor=district_admin, indicator="union_rate", org_unit=city.street_a, year=2012, value="0.95")
    with pytest.raises(NotAllowed):
        target_set(
            actor=district_admin, indicator="union_rate", org_unit=city.zhongshan, year=2012, value="0.5"
        )
    with pytest.raises(ServiceError):
        target_set(actor=city_admin, indicator="union_rate", org_unit=city.city, year=2012, value="90")


def test_gaps_show_where_children_do_not_add_up(city, make_staff):
    EnterpriseFactory(org_unit=city.community_a)
    EnterpriseFactory(org_unit=city.community_a)
    EnterpriseFactory(org_unit=city.street_b)
    admin = make_staff("ca", city.city, "city_admin")
    day = timezone.localdate()
    target_set(actor=admin, indicator="union_rate", org_unit=city.city, year=day.year, value="0.9")
    target_set(actor=admin, indicator="union_rate", org_unit=city.zhongshan, year=day.year, value="0.95")
    gaps = target_decomposition_gaps(admin, year=day.year)
    assert [(g.unit.code, g.children_without_target) for g in gaps] == [
        ("2102", ["西岗区"]),
        ("210202", ["青泥洼桥街道"]),
    ]
    district_admin = make_staff("da", city.zhongshan, "unit_admin")
    target_set(
        actor=district_admin, indicator="union_rate", org_unit=city.street_a, year=day.year, value="0.95"
    )
    target_set(actor=admin, indicator="union_rate", org_unit=city.xigang, year=day.year, value="0.7")
    # Weighted by eligible enterprises (2 and 1): (0.95*2 + 0.7*1) / 3 = 0.8667 < 0.9
    city_gaps = [g for g in target_decomposition_gaps(admin, year=day.year) if g.unit == city.city]
    assert len(city_gaps) == 1 and round(city_gaps[0].children_weighted, 4) == 0.8667
    target_set(actor=admin, indicator="union_rate", org_unit=city.xigang, year=day.year, value="0.8")
    # The street and 西岗区 have targets but their own children have none yet.
    assert [g.unit.code for g in target_decomposition_gaps(admin, year=day.year)] == ["210202001", "210203"]
