"""The demo reports and warnings (``safetynet demo-data``): two years of monthly reports for every street and
community, on time, late, missing and zero, warnings of the same months, and the demo street's own overdue
and due periods."""

from __future__ import annotations

from django.db.models import Count
from django.utils import timezone

from safetynet.orgs.demo import demo_load
from safetynet.orgs.models import OrgLevel, OrgUnit
from safetynet.reporting import periods, rates, selectors
from safetynet.reporting.demo import MONTHS, extend_demo
from safetynet.reporting.models import Report, ReportForm, WarningSignal


def test_the_demo_has_two_years_of_reports_and_warnings(db):
    demo_load(scale="small", seed=2012)
    counts = extend_demo(seed=2012, scale="small")
    assert extend_demo(seed=2012, scale="small") == {}  # once only
    assert counts["报表"] == 3 and counts["预警信息"] == 300 == WarningSignal.objects.count()
    assert counts["报送记录"] == Report.objects.count() > 2000

    street_form = ReportForm.objects.get(code="YJ01")
    months = dict(Report.objects.filter(form=street_form).values_list("period").annotate(n=Count("pk")))
    assert len(months) == MONTHS
    streets = OrgUnit.objects.filter(level=OrgLevel.STREET).count()
    communities = OrgUnit.objects.filter(level=OrgLevel.COMMUNITY).count()
    assert Report.objects.filter(form__code="YJ02").values("unit").distinct().count() == communities

    # An older month: some late, some missing, most zero, a few corrected; and concealment to find.
    period = periods.parse_period(sorted(months)[-3])
    result = rates.compute(form=street_form, period=period, as_of=period.due_date(28))
    city = result.rows[0].counts
    assert city.expected == streets
    assert city.expected * 0.8 < city.received <= city.expected
    assert 0 < city.timely < city.received
    assert 0 < city.zero < city.received
    flags = {flag for reporter in result.reporters for flag in reporter.flags}
    assert "late" in flags

    # The demo street's officer has something overdue and something to file.
    street = OrgUnit.objects.filter(level=OrgLevel.STREET, code__startswith="210202").order_by("code").first()
    items = selectors.filing_items(street, today=timezone.localdate())
    assert any(item.status == "overdue" for item in items)
    assert any(item.status in ("done", "late") for item in items)


def test_the_demo_has_incidents_and_a_risk_rule(db):
    from safetynet.reporting.models import Incident, IncidentStatus, RiskRule

    demo_load(scale="small", seed=2012)
    counts = extend_demo(seed=2012, scale="small")
    assert counts["突发事件"] == 40 == Incident.objects.count()
    assert 0 < counts["迟报"] == Incident.objects.filter(late=True).count() < 40
    assert Incident.objects.exclude(status=IncidentStatus.CLOSED).exists()
    assert Incident.objects.filter(status=IncidentStatus.CLOSED).exclude(outcome="").exists()
    late = Incident.objects.filter(late=True).first()
    assert (late.reported_at - late.known_at).total_seconds() > late.limit_hours * 3600
    assert RiskRule.objects.get().threshold_orange == 50
    assert extend_demo(seed=2012, scale="small") == {}
