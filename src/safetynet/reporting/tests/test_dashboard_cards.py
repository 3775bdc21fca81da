"""The reporting figures on the indicators dashboard: a card per warning form with report_rate,
report_timely_rate and zero_report_rate of the latest ended period for the dashboard's unit, drillable to the
missing / late / concealed lists, cached under the data version like the indicators."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from safetynet.reporting import selectors, services
from safetynet.reporting.tests.conftest import at, file_report

D = datetime.date
DAY = D(2012, 6, 10)


@pytest.fixture
def may(world):
    """May 2012, as of June 10th: 青泥洼桥 zero-reported on time but a warning concerns its enterprise (瞒报),
    桃源 reported late, 八一路 not at all (漏报)."""
    file_report(world, world.city.street_a, "2012-06-02 09:00", zero=True)
    file_report(world, world.street_e, "2012-06-07 10:00", zero=False)
    services.warning_create(
        actor=None,
        enterprise=world.enterprise_a,
        category="wage_arrears",
        discovered_on=D(2012, 5, 20),
        reported_at=at("2012-06-08 10:00"),
        now=at("2012-06-08 10:00"),
    )
    services.reportform_create(
        actor=None,
        code="JB01",
        name="工会工作季报",
        period_kind="quarter",
        level=2,
        due_day=15,
        enabled_from=D(2012, 1, 1),
    )
    return world


def test_the_cards_by_hand_and_their_cache(may):
    cards = selectors.reporting_cards(unit_id=may.city.city.pk, day=DAY)
    assert [card.form.code for card in cards] == ["YJ01"]  # warning forms only
    card = cards[0]
    assert card.period.code == "2012-05" and card.due_date == D(2012, 6, 5) and card.due_passed
    assert (card.expected, card.received, card.timely, card.zero) == (3, 2, 1, 1)
    assert (card.report_rate, card.report_timely_rate, card.zero_report_rate) == (0.6667, 0.3333, 0.5)
    assert card.flags == {"missing": 1, "late": 1, "concealed": 1}
    zhongshan = selectors.reporting_cards(unit_id=may.city.zhongshan.pk, day=DAY)[0]
    assert (zhongshan.expected, zhongshan.received, zhongshan.flags["missing"]) == (2, 2, 0)
    # Cached: the second time only the data version is read; any change (an audit row) computes again.
    with CaptureQueriesContext(connection) as queries:
        again = selectors.reporting_cards(unit_id=may.city.city.pk, day=DAY)
    assert len(queries.captured_queries) == 1 and again[0].received == 2
    file_report(may, may.city.street_b, "2012-06-09 09:00", zero=True)
    assert selectors.reporting_cards(unit_id=may.city.city.pk, day=DAY)[0].received == 3


def test_the_dashboard_shows_and_links_them(may):
    client = Client()
    client.force_login(may.city_admin)
    html = client.get(reverse("indicators:dashboard") + "?as_of=2012-06-10").content.decode()
    assert 'id="reporting-cards"' in html and "劳动关系预警月报" in html and "2012年5月" in html
    assert "66.7 %" in html and "33.3 %" in html and "50.0 %" in html
    form = may.form.pk
    base = f"form={form}&amp;period=2012-05&amp;unit={may.city.city.pk}&amp;as_of=2012-06-10"
    assert f"{reverse('reporting:overview')}?{base}&amp;flag=missing" in html
    assert f"{reverse('reporting:overview')}?{base}&amp;flag=late" in html
    assert f"{reverse('reporting:overview')}?{base}&amp;flag=concealed" in html
    assert f"{reverse('reporting:overview_export')}?{base}" in html
    # The drill-down lists the street that did not report.
    page = client.get(
        reverse("reporting:overview")
        + f"?form={form}&period=2012-05&unit={may.city.city.pk}&as_of=2012-06-10&flag=missing"
    ).content.decode()
    assert "八一路街道" in page and "桃源街道" not in page.split('id="reporter-table"')[1]
    # A district sees its own figures, and another district's unit is 404 as everywhere.
    officer = Client()
    officer.force_login(may.xigang_officer)
    html = officer.get(reverse("indicators:dashboard") + "?as_of=2012-06-10").content.decode()
    assert "0.0 %" in html and "漏报 1" in html
    assert officer.get(reverse("indicators:dashboard") + f"?unit={may.city.zhongshan.pk}").status_code == 404
