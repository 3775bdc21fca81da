"""The assistance card on the indicators dashboard: the year's files in and out, budget used, people and amount
helped per programme, for the dashboard's unit as of its day; absent for a unit with no assistance at all."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from safetynet.assistance.tests.factories import make_file, make_paid_application, make_round

pytestmark = pytest.mark.django_db


def _card(client: Client, unit, day: datetime.date) -> str:
    response = client.get(reverse("indicators:dashboard"), {"unit": unit.pk, "as_of": day.isoformat()})
    assert response.status_code == 200
    html = response.content.decode()
    start = html.find('id="assistance-card"')
    return "" if start < 0 else html[start : html.find("</table>", start) + 8]


def test_dashboard_shows_the_units_assistance_figures_as_of_its_day(city, make_staff):
    round_ = make_round(city, shares={city.zhongshan: "2000.00", city.xigang: "1000.00"})
    payment = make_paid_application(round_, make_file(city.community_a))
    client = Client()
    client.force_login(make_staff("zs_dash_officer", city.zhongshan, "operator"))

    card = _card(client, city.zhongshan, payment.paid_on)
    assert 'data-figure="files_open"' in card
    assert "25.0 %" in card  # 500.00 paid of the district's 2,000.00 share
    assert "送温暖" in card and "500.00" in card

    before = _card(client, city.zhongshan, payment.paid_on - datetime.timedelta(days=1))
    assert "0.0 %" in before and "送温暖" not in before


def test_a_unit_without_any_assistance_shows_no_card(city, make_staff):
    client = Client()
    client.force_login(make_staff("xg_dash_officer", city.xigang, "operator"))
    assert _card(client, city.xigang, datetime.date(2012, 12, 31)) == ""
