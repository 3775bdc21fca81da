"""The demo city's targets: the seeds' figures, decomposed to every district without a gap."""

import datetime

from safetynet.accounts.models import Role
from safetynet.indicators.demo import load_targets_demo, target_for
from safetynet.indicators.models import Target
from safetynet.indicators.selectors import target_decomposition_gaps


def test_the_seeds_targets_in_force_each_year():
    assert target_for("wage_bargaining_rate", 2012) == "0.80"
    assert target_for("wage_bargaining_rate", 2014) == "0.80"
    assert target_for("wage_bargaining_rate", 2015) == "0.95"
    assert target_for("congress_rate_nonpublic", 2012) == "0.82"
    assert target_for("congress_rate_nonpublic", 2026) == "0.85"
    assert target_for("union_rate", 2011) is None


def test_city_and_districts_get_targets_for_every_year_up_to_now(city, make_staff):
    count = load_targets_demo(last_year=2016)
    # 11 indicators, the city and its two districts, 2012–2016.
    assert count == 11 * 3 * 5 == Target.objects.count()
    assert str(Target.objects.get(indicator="union_rate", org_unit=city.xigang, year=2012).value) == "0.9000"
    assert (
        str(Target.objects.get(indicator="wage_bargaining_rate", org_unit=city.city, year=2015).value)
        == "0.9500"
    )
    assert not Target.objects.filter(org_unit=city.street_a).exists()
    admin = make_staff("city_admin", city.city, Role.CITY_ADMIN)
    gaps = target_decomposition_gaps(admin, year=2012, day=datetime.date(2012, 12, 31))
    # The city's own decomposition is complete; the districts' to their streets is theirs to do.
    assert [gap for gap in gaps if gap.unit == city.city] == []
    assert {gap.unit for gap in gaps} == {city.zhongshan, city.xigang}


def test_running_it_again_changes_nothing(city):
    load_targets_demo(last_year=2013)
    before = list(Target.objects.order_by("pk").values_list("pk", "value"))
    load_targets_demo(last_year=2013)
    assert list(Target.objects.order_by("pk").values_list("pk", "value")) == before
