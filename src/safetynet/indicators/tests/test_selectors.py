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
