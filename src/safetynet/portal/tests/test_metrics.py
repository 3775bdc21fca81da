"""The platform's indicators through the engine, and its figures as of a day."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from safetynet.indicators.engine import compute
from safetynet.portal import selectors, services
from safetynet.portal.tests.helpers import make_account

pytestmark = pytest.mark.django_db


def test_verified_join_and_appeal_indicators(world):
    make_account("13920000001")  # registered, never verified: city-wide figures only
    first = make_account("13920000002", name="王小明", id_number=world.people["王小明"]["id_number"])
    second = make_account("13920000003", name="李大伟", id_number=world.people["李大伟"]["id_number"])
    approved = services.join_apply(account=first, enterprise_id=world.enterprise.pk)
    services.join_decide(actor=world.chair, application=approved, action="approve")
    services.join_apply(account=second, enterprise_id=world.enterprise.pk)  # still pending
    services.appeal_file(
        account=first, category="other", description="咨询", enterprise_id=world.enterprise.pk
    )
    today = timezone.localdate()
    rows = {
        (r.unit, r.indicator): r
        for r in compute(
            day=today,
            unit_code="210202",
            indicator_codes=[
                "portal_verified_rate",
                "portal_join_decided_rate",
                "portal_join_on_time_rate",
                "portal_join_approved_rate",
                "portal_appeal_share",
            ],
            hierarchy="today",
        )
    }
    verified = rows[("210202001001", "portal_verified_rate")]
    assert (verified.numerator, verified.denominator) == (2, 2)
    decided = rows[("210202", "portal_join_decided_rate")]
    assert (decided.numerator, decided.denominator) == (1, 2)
    on_time = rows[("210202", "portal_join_on_time_rate")]
    assert (on_time.numerator, on_time.denominator) == (1, 1)
    share = rows[("210202", "portal_appeal_share")]
    assert (share.numerator, share.denominator) == (1, 1)

    figures = selectors.platform_figures(today)
    assert figures["registered"] == 3 and figures["verified"] == 2
    assert (
        figures["join_filed"] == 2
        and figures["join_decided"] == 1
        and figures["join_average_hours"] is not None
    )
    assert figures["appeals"] == 1
    # As of yesterday nothing had happened yet.
    yesterday = selectors.platform_figures(today - datetime.timedelta(days=1))
    assert yesterday["registered"] == 0 and yesterday["join_filed"] == 0
    assert selectors.platform_figures(today, world.city.xigang)["verified"] == 0
