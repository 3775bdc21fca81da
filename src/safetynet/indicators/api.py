"""GET /api/v1/indicators/ (the rows of `safetynet indicators`) and /api/v1/indicators/series/.

Every query parameter is checked before any indicator is computed: a malformed one answers 400 with a Chinese
message, a unit outside the caller's scope 404. A series is bounded (``MAX_SERIES_POINTS`` points), so no
request costs minutes.
"""

from __future__ import annotations

import datetime

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from safetynet.indicators.engine import AS_OF, BREAKDOWNS, TODAY, UnitNotFound
from safetynet.indicators.selectors import (
    MAX_SERIES_POINTS,
    indicator_rows_for_user,
    indicator_series_for_user,
)


class IndicatorRowSerializer(serializers.Serializer):
    unit = serializers.CharField(help_text="单位区划代码（该日的代码）")
    unit_name = serializers.CharField()
    level = serializers.IntegerField()
    indicator = serializers.CharField()
    label = serializers.CharField()
    as_of = serializers.DateField()
    numerator = serializers.IntegerField()
    denominator = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True, help_text="分母为 0 时为 null")
    target = serializers.FloatField(allow_null=True, help_text="未设目标时为 null")
    group = serializers.CharField(required=False, help_text="分组名（仅在 breakdown 时）")


# Days the indicators can be asked for; outside, the engine's date arithmetic would overflow.
FIRST_DAY = datetime.date(1900, 1, 1)
LAST_DAY = datetime.date(2100, 12, 31)


def _date(request: Request, name: str, default: datetime.date | None = None) -> datetime.date:
    raw = request.query_params.get(name)
    if not raw:
        if default is None:
            raise ValidationError({name: "必填，格式 YYYY-MM-DD"})
        return default
    try:
        day = datetime.date.fromisoformat(raw)
    except ValueError:
        raise ValidationError({name: f"“{raw}”不是 YYYY-MM-DD 格式的日期"}) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationError({name: f"日期应在 {FIRST_DAY} 至 {LAST_DAY} 之间，收到 {day}。"})
    return day


def _unit_code(request: Request) -> str | None:
    """The unit asked for (a division code: digits only), or None for the caller's own unit."""
    raw = (request.query_params.get("unit") or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 12):
        raise ValidationError({"unit": f"“{raw[:20]}”不是区划代码：应为 4 至 12 位数字。"})
    return raw


def _choice(request: Request, name: str, choices: tuple[str, ...], default: str | None) -> str | None:
    value = request.query_params.get(name) or default
    if value is not None and value not in choices:
        raise ValidationError({name: f"可选值：{'、'.join(choices)}"})
    return value


def _rows(rows: list, *, with_group: bool) -> list[dict]:
    return [{k: v for k, v in r.as_dict(with_group=with_group).items() if k != "unit_id"} for r in rows]


COMMON = [
    OpenApiParameter(
        "unit",
        OpenApiTypes.STR,
        pattern=r"^[0-9]{0,12}$",
        description="单位区划代码（数字），默认本单位；范围外的单位返回 404",
    ),
    OpenApiParameter("indicator", OpenApiTypes.STR, many=True, description="指标代码，可重复"),
    OpenApiParameter(
        "hierarchy", OpenApiTypes.STR, enum=[AS_OF, TODAY], description="按当日或今天的隶属关系"
    ),
]


class IndicatorViewSet(viewsets.ViewSet):
    @extend_schema(
        summary="某日某单位及其下级单位的全部指标",
        parameters=[
            OpenApiParameter("as_of", OpenApiTypes.DATE, description="日期，默认今天"),
            OpenApiParameter("breakdown", OpenApiTypes.STR, enum=list(BREAKDOWNS)),
            *COMMON,
        ],
        responses=IndicatorRowSerializer(many=True),
    )
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        day = _date(request, "as_of", timezone.localdate())
        breakdown = _choice(request, "breakdown", BREAKDOWNS, None)
        try:
            rows = indicator_rows_for_user(
                request.user,
                day=day,
                unit_code=_unit_code(request),
                indicator_codes=request.query_params.getlist("indicator") or None,
                breakdown=breakdown,
                hierarchy=_choice(request, "hierarchy", (AS_OF, TODAY), AS_OF),
            )
        except UnitNotFound as exc:
            raise NotFound(str(exc)) from None
        except LookupError as exc:
            raise ValidationError({"indicator": str(exc)}) from None
        return Response(_rows(rows, with_group=breakdown is not None))

    @extend_schema(
        summary="指标的月度或年度趋势（单位及其直接下级）",
        description=f"每个时间点（每月或每年的最后一天，最后一点为结束日期）计算一次；最多 {MAX_SERIES_POINTS} 个时间点"
        "（按月 2 年，按年 24 年），更长的范围答 400。",
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, required=True, description="开始日期（必填）"),
            OpenApiParameter("end", OpenApiTypes.DATE, description="结束日期，默认今天"),
            OpenApiParameter("interval", OpenApiTypes.STR, enum=["month", "year"]),
            *COMMON,
        ],
        responses=IndicatorRowSerializer(many=True),
    )
    @action(detail=False, methods=["get"])
    def series(self, request: Request, *args: object, **kwargs: object) -> Response:
        start = _date(request, "start")
        end = _date(request, "end", timezone.localdate())
        interval = _choice(request, "interval", ("month", "year"), "month")
        hierarchy = _choice(request, "hierarchy", (AS_OF, TODAY), AS_OF)
        try:
            rows = indicator_series_for_user(
                request.user,
                start=start,
                end=end,
                interval=interval,
                unit_code=_unit_code(request),
                indicator_codes=request.query_params.getlist("indicator") or None,
                hierarchy=hierarchy,
            )
        except UnitNotFound as exc:
            raise NotFound(str(exc)) from None
        except LookupError as exc:
            raise ValidationError({"indicator": str(exc)}) from None
        except ValueError as exc:
            # The range: end before start, or more points than MAX_SERIES_POINTS.
            raise ValidationError({"end": str(exc)}) from None
        return Response(_rows(rows, with_group=False))


def register(router: BaseRouter) -> None:
    router.register("indicators", IndicatorViewSet, basename="indicators")
