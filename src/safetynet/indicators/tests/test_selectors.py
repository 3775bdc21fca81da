"""Dashboard reads: one unit order everywhere, the official code order."""

import datetime

from safetynet.accounts.models import Role
from safetynet.indicators.selectors import dashboard_for_user
from safetynet.orgs.models import OrgLevel
from safetynet.orgs.services import orgunit_create


def test_children_and_descendants_come_in_code_order_not_creation_order(city, make_staff):
    # Created last, coded first: 210201 must lead 210202 and 210203.
    orgunit_create(actor=None, code="210201", name="市辖区", level=OrgLevel.DISTRICT, parent=city.city)
    orgunit_create(
        actor=None, code="210202002", name="人民路街道", level=OrgLevel.STREET, parent=city.zhongshan
    )
    admin = make_staff("city_admin", city.city, Role.CITY_ADMIN)
    dashboard = dashboard_for_user(
        admin, unit=city.city, day=datetime.date.today(), hierarchy="today", chosen="union_rate"
    )
    assert [entry.code for entry in dashboard.children] == ["210201", "210202", "210203"]
    streets = [node.code for node in dashboard.nodes_at(OrgLevel.STREET)]
    assert "210202002" in streets
    assert streets == sorted(streets)
    # Each entry's cells are the table's figures for that unit, every indicator of the registry.
    [entry] = dashboard.entries([node for node in dashboard.table.nodes if node.code == "210202002"])
    assert entry.name == "人民路街道" and entry.cells["union_rate"].row.unit == "210202002"
    assert set(entry.cells) == set(dashboard.table.codes)


def test_a_series_resolves_the_codes_of_its_days_with_one_read_as_day_by_day(
    city, make_staff, django_assert_num_queries
):
    """A district officer's trend across the day the district's code changed: every month end under the code
    it carried then, read once for the whole series instead of once a day."""
    from safetynet.indicators.selectors import (
        period_ends,
        resolve_unit_code_for_user,
        resolve_unit_codes_for_user,
    )
    from safetynet.orgs.services import orgunit_update

    orgunit_update(actor=None, unit=city.zhongshan, code="210214", effective_on=datetime.date(2012, 6, 15))
    officer = make_staff("district_officer", city.zhongshan, Role.UNIT_ADMIN)
    officer.org_unit  # noqa: B018 - the user's unit loaded as a request's user has it
    days = period_ends(datetime.date(2012, 1, 1), datetime.date(2012, 12, 31), "month")
    with django_assert_num_queries(1):
        codes = resolve_unit_codes_for_user(officer, None, days)
    assert codes == {day: resolve_unit_code_for_user(officer, None, day) for day in days}
    assert codes[datetime.date(2012, 5, 31)] == "210202"
    assert codes[datetime.date(2012, 6, 30)] == "210214"
    # Asked for a unit by its code, or with no unit of one's own: the same answer every day.
    assert set(resolve_unit_codes_for_user(officer, "210202001", days).values()) == {"210202001"}
    assert resolve_unit_codes_for_user(officer, None, []) == {}
