"""The leaders' dashboard (the staff home page) and the records behind every number."""

from __future__ import annotations

import datetime

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from safetynet.core.scope import get_for_user
from safetynet.core.views_base import StaffView
from safetynet.indicators.engine import AS_OF, TODAY, UnitNotFound
from safetynet.indicators.exports import records_xlsx_response
from safetynet.indicators.registry import registry
from safetynet.indicators.selectors import (
    RECORD_PARTS,
    dashboard_for_user,
    indicator_records,
)
from safetynet.orgs.models import OrgUnit, active_on_q


def _day(request: HttpRequest) -> datetime.date:
    raw = request.GET.get("as_of", "")
    try:
        return datetime.date.fromisoformat(raw) if raw else timezone.localdate()
    except ValueError:
        return timezone.localdate()


def _unit(request: HttpRequest) -> OrgUnit:
    if request.GET.get("unit"):
        return get_for_user(OrgUnit, request.user, pk=request.GET["unit"])
    if request.user.org_unit_id:
        return request.user.org_unit
    root = OrgUnit.objects.visible_to(request.user).filter(parent__isnull=True).order_by("pk").first()
    if root is None:
        raise Http404("尚未建立任何单位。")
    return root


class DashboardView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        day = _day(request)
        unit = _unit(request)
        hierarchy = TODAY if request.GET.get("hierarchy") == TODAY else AS_OF
        chosen = request.GET.get("indicator") or "union_rate"
        if chosen not in registry().indicators:
            chosen = "union_rate"
        try:
            dashboard = dashboard_for_user(
                request.user, unit=unit, day=day, hierarchy=hierarchy, chosen=chosen
            )
        except UnitNotFound:
            dashboard = None
        specs = registry().indicators
        chart_data = None
        if dashboard is not None:
            chart_data = {
                "chosen": chosen,
                "label": specs[chosen].label,
                "labels": {code: spec.label for code, spec in specs.items()},
                "unit": {"code": dashboard.unit.code, "name": dashboard.unit.name},
                "children": [
                    {
                        "name": child.name,
                        "rate": child.cells[chosen].row.rate,
                        "target": child.cells[chosen].row.target,
                        "numerator": child.cells[chosen].row.numerator,
                        "denominator": child.cells[chosen].row.denominator,
                    }
                    for child in dashboard.children
                ],
                "target": dashboard.unit.cells[chosen].row.target,
                "series_url": reverse("indicators-series"),
                "start": datetime.date(day.year - 1, 12, 31).isoformat(),
                "as_of": day.isoformat(),
                "hierarchy": hierarchy,
            }
        return render(
            request,
            "indicators/dashboard.html",
            {
                "unit": unit,
                "day": day,
                "hierarchy": hierarchy,
                "chosen": chosen,
                "dashboard": dashboard,
                "indicators": list(registry().indicators.values()),
                "records_url": reverse("indicators:records"),
                "chart_data": chart_data,
            },
        )


class RecordsView(StaffView):
    """The enterprises (or employments) counted, not counted, or in the denominator of one number."""

    def get(self, request: HttpRequest) -> HttpResponse:
        day = _day(request)
        unit = _unit(request)
        hierarchy = TODAY if request.GET.get("hierarchy") == TODAY else AS_OF
        code = request.GET.get("indicator", "")
        part = request.GET.get("part", "denominator")
        spec = registry().indicators.get(code)
        if spec is None or part not in RECORD_PARTS:
            raise Http404("未知指标。")
        unit_code = _code_on(unit, day, hierarchy)
        try:
            records = indicator_records(
                indicator=code, unit_code=unit_code, day=day, part=part, hierarchy=hierarchy
            )
        except UnitNotFound:
            raise Http404("该单位在所选日期不存在。") from None
        part_label = {
            "numerator": "计入分子",
            "denominator": "分母（全部）",
            "gap": "未达标（在分母不在分子）",
        }[part]
        title = f"{unit.name} {spec.label} {part_label} 截至 {day.isoformat()}"
        if request.GET.get("format") == "xlsx":
            return records_xlsx_response(
                records,
                spec.population,
                title=title,
                filename=f"{spec.label}-{unit.code}-{day.isoformat()}.xlsx",
            )
        page = Paginator(records, 50).get_page(request.GET.get("page"))
        return render(
            request,
            "indicators/records.html",
            {
                "unit": unit,
                "day": day,
                "spec": spec,
                "part": part,
                "part_label": part_label,
                "title": title,
                "page_obj": page,
                "hierarchy": hierarchy,
            },
        )


def _code_on(unit: OrgUnit, day: datetime.date, hierarchy: str) -> str:
    """The code the unit carried on that day (普兰店市 210282 before it became 210214)."""
    if hierarchy == TODAY:
        return unit.code
    version = unit.versions.filter(active_on_q(day)).first()
    return version.code if version else unit.code
