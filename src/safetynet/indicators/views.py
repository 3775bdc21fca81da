"""The leaders' dashboard (the staff home page) and the records behind every number."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from safetynet.assistance.selectors import assistance_card_for_user
from safetynet.core.errors import ServiceError
from safetynet.core.scope import get_for_user
from safetynet.core.views_base import StaffView
from safetynet.indicators.engine import AS_OF, TODAY, UnitNotFound
from safetynet.indicators.exports import records_xlsx_response
from safetynet.indicators.models import Target
from safetynet.indicators.registry import registry
from safetynet.indicators.selectors import (
    RECORD_PARTS,
    dashboard_for_user,
    indicator_records,
    target_decomposition_gaps,
)
from safetynet.indicators.services import can_set_target, target_set
from safetynet.orgs.models import OrgLevel, OrgUnit, active_on_q
from safetynet.reporting.selectors import reporting_cards_for_user


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
        known = registry()
        area = known.area_for(request.GET.get("area", ""), request.GET.get("indicator", ""))
        shown = known.area_indicators(area)
        chosen = request.GET.get("indicator") or shown[0].code
        if chosen not in {spec.code for spec in shown}:
            chosen = shown[0].code
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
                # The cards and the units table show one area's indicators (a tab each).
                "indicators": shown,
                "area": area,
                "areas": known.areas,
                "records_url": reverse("indicators:records"),
                "chart_data": chart_data,
                "deeper_levels": [level for level in OrgLevel if level > unit.level + 1],
                # 信息报送: a card per warning form (cached under the data version, like the indicators).
                "reporting_cards": reporting_cards_for_user(request.user, unit=unit, day=day),
                # 服务帮扶: files in and out (脱困), budget used, people and amount helped in the year.
                "assistance_card": assistance_card_for_user(request.user, unit=unit, day=day),
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
            "gap": "未达标（未全部计入分子）" if spec.numerator_sum else "未达标（在分母不在分子）",
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


class TargetsView(StaffView):
    """目标分解: the targets of my unit and the units directly below it, per indicator, for a year; the city
    sets its own, each unit its children's; gaps where the children's targets don't add up are listed."""

    def _context(self, request: HttpRequest, errors: list[str] | None = None) -> dict:
        year = _year(request)
        unit = _unit(request)
        children = list(unit.children.filter(active_on_q(timezone.localdate())).order_by("code"))
        units = [unit, *children]
        existing = {
            (t.indicator, t.org_unit_id): t
            for t in Target.objects.visible_to(request.user).filter(year=year, org_unit__in=units)
        }
        specs = list(registry().indicators.values())
        rows = [
            {
                "unit": u,
                "editable": can_set_target(request.user, u),
                "cells": [
                    {
                        "spec": spec,
                        "target": existing.get((spec.code, u.pk)),
                        "name": f"t_{u.pk}_{spec.code}",
                        "percent": _as_percent(existing.get((spec.code, u.pk))),
                    }
                    for spec in specs
                ],
            }
            for u in units
        ]
        return {
            "year": year,
            "unit": unit,
            "specs": specs,
            "rows": rows,
            "gaps": target_decomposition_gaps(request.user, year=year),
            "errors": errors or [],
            "any_editable": any(r["editable"] for r in rows),
        }

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "indicators/targets.html", self._context(request))

    def post(self, request: HttpRequest) -> HttpResponse:
        year = _year(request)
        errors: list[str] = []
        saved = 0
        for key, raw in request.POST.items():
            if not key.startswith("t_") or not raw.strip():
                continue
            _, unit_pk, code = key.split("_", 2)
            unit = get_for_user(OrgUnit, request.user, pk=unit_pk)
            try:
                value = float(raw.strip().rstrip("%").strip()) / 100
            except ValueError:
                errors.append(
                    f"{unit.name} · {registry().indicators[code].label}：“{raw}”不是数字，请填百分数，如 90"
                )
                continue
            try:
                target_set(actor=request.user, indicator=code, org_unit=unit, year=year, value=value)
                saved += 1
            except ServiceError as exc:
                errors.append(f"{unit.name} · {registry().indicators[code].label}：{exc.message}")
        if errors:
            return render(request, "indicators/targets.html", self._context(request, errors), status=400)
        messages.success(request, f"已保存 {year} 年目标 {saved} 项。")
        return redirect(f"{reverse('indicators:targets')}?{request.GET.urlencode()}")


def _year(request: HttpRequest) -> int:
    raw = request.GET.get("year", "")
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else timezone.localdate().year


def _as_percent(target: Target | None) -> str:
    return "" if target is None else f"{float(target.value) * 100:g}"


class UnitsTableView(StaffView):
    """Every unit of one level below the chosen unit, with all indicators: the dashboard's table, paginated."""

    def get(self, request: HttpRequest) -> HttpResponse:
        day = _day(request)
        unit = _unit(request)
        hierarchy = TODAY if request.GET.get("hierarchy") == TODAY else AS_OF
        raw_level = request.GET.get("level", "")
        level = (
            int(raw_level) if raw_level.isdigit() and int(raw_level) in OrgLevel.values else unit.level + 1
        )
        specs = registry()
        area = specs.area_for(request.GET.get("area", ""))
        shown = specs.area_indicators(area)
        try:
            dashboard = dashboard_for_user(
                request.user, unit=unit, day=day, hierarchy=hierarchy, chosen=shown[0].code
            )
        except UnitNotFound:
            raise Http404("该单位在所选日期不存在。") from None
        page = Paginator(dashboard.nodes_at(level), 100).get_page(request.GET.get("page"))
        page.object_list = dashboard.entries(list(page.object_list))
        return render(
            request,
            "indicators/units.html",
            {
                "unit": unit,
                "day": day,
                "hierarchy": hierarchy,
                "chosen": shown[0].code,
                "level_label": OrgLevel(level).label,
                "indicators": shown,
                "area": area,
                "areas": specs.areas,
                "records_url": reverse("indicators:records"),
                "page_obj": page,
            },
        )
