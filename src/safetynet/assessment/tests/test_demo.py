"""The demo hook: last year's scheme to a published bulletin, this year's published and scored."""

from __future__ import annotations

import pytest
from django.utils import timezone

from safetynet.assessment.demo import load_assessment_demo
from safetynet.assessment.models import Scheme, SchemeStatus
from safetynet.indicators.demo import load_targets_demo

pytestmark = pytest.mark.urls("safetynet.assessment.tests.urls")


def test_demo_scheme_goes_to_the_bulletin(city):
    load_targets_demo()
    counts = load_assessment_demo(seed=1)
    year = timezone.localdate().year
    assert counts["考核方案"] == 2
    last = Scheme.objects.get(org_unit=city.city, year=year - 1)
    assert last.status == SchemeStatus.BULLETIN and last.commendation and last.final_scores.exists()
    assert Scheme.objects.get(org_unit=city.city, year=year).status == SchemeStatus.PUBLISHED
    assert load_assessment_demo(seed=1) == {}  # once only
