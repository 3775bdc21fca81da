"""The rule of each item kind: its parameters (``Item.rule``), how they are checked, how a figure scores.

Shapes of ``Item.rule``:

- indicator: ``{"metric": "union_rate", "mode": "linear", "floor": 0.6}`` — full points at or above the
  unit's target, none at or below the floor, in between on the straight line; or
  ``{"metric": ..., "mode": "stepped", "steps": [{"from": 100, "to": null, "points": 10}, ...]}`` — the
  completion (rate ÷ target, in percent) falls in a step [from, to) and scores its points.
- deduction: ``{"source": "reports", "late": 2, "missing": 5}`` — points off per late and per missing
  report of the year, never below zero (the cap is the item's weight).
- ratio: ``{"source": "cases_closed_on_time"}`` — weight × numerator ÷ denominator of platform facts.
- manual: ``{}`` — the reviewer's points (with a reason) on the unit's evidence.
- veto: ``{"cap": 60}`` — a finding against the unit caps its total; the item itself weighs 0.
"""

from __future__ import annotations

import decimal
from typing import Any

from safetynet.core.errors import ServiceError

D = decimal.Decimal
CENT = D("0.01")
TOTAL_POINTS = D(100)

DEDUCTION_SOURCES = {"reports": "信息报送（迟报、漏报）"}
RATIO_SOURCES = {
    "cases_closed_on_time": "诉求案件按期办结",
    # paid ÷ the unit's own budget shares in the year's assistance rounds, at most 1 (assistance.selectors).
    "assistance_budget_used": "帮扶资金预算使用率",
}
LINEAR = "linear"
STEPPED = "stepped"


def points(value: Any) -> D:
    return D(str(value)).quantize(CENT, rounding=decimal.ROUND_HALF_UP)


def _number(value: Any, label: str, field: str) -> D:
    try:
        number = D(str(value).strip())
    except (decimal.InvalidOperation, AttributeError):
        raise ServiceError("rule_invalid", f"{label}“{value}”不是数字。", field=field) from None
    if not number.is_finite():
        raise ServiceError("rule_invalid", f"{label}“{value}”不是数字。", field=field)
    return number


def clean_rule(kind: str, weight: D, rule: dict[str, Any], known_metrics: dict[str, str]) -> dict[str, Any]:
    """The rule in its stored shape, or a ServiceError with a Chinese reason naming what is wrong."""
    if kind == "indicator":
        metric = str(rule.get("metric", "")).strip()
        if metric not in known_metrics:
            raise ServiceError("rule_metric", f"未知指标“{metric}”，请从指标列表中选择。", field="metric")
        mode = rule.get("mode") or LINEAR
        if mode == LINEAR:
            floor = _number(rule.get("floor", 0), "起评线", "floor")
            if not (0 <= floor < 1):
                raise ServiceError(
                    "rule_floor", "起评线应在 0 到 1 之间（例如 0.6 表示 60%），且低于目标。", field="floor"
                )
            return {"metric": metric, "mode": LINEAR, "floor": str(floor)}
        if mode == STEPPED:
            return {"metric": metric, "mode": STEPPED, "steps": clean_steps(rule.get("steps") or [], weight)}
        raise ServiceError("rule_mode", "计分方式应为“线性”或“分档”。", field="mode")
    if kind == "deduction":
        source = rule.get("source") or "reports"
        if source not in DEDUCTION_SOURCES:
            raise ServiceError("rule_source", f"未知扣分来源“{source}”。", field="source")
        late = _number(rule.get("late", 2), "每次迟报扣分", "late")
        missing = _number(rule.get("missing", 5), "每次漏报扣分", "missing")
        if late < 0 or missing < 0:
            raise ServiceError("rule_invalid", "每次扣分不能为负数。", field="late")
        return {"source": source, "late": str(late), "missing": str(missing)}
    if kind == "ratio":
        source = rule.get("source") or "cases_closed_on_time"
        if source not in RATIO_SOURCES:
            raise ServiceError("rule_source", f"未知比例来源“{source}”。", field="source")
        return {"source": source}
    if kind == "manual":
        return {}
    if kind == "veto":
        cap = _number(rule.get("cap", 60), "否决后总分上限", "cap")
        if not (0 <= cap < TOTAL_POINTS):
            raise ServiceError("rule_cap", "否决后总分上限应在 0 到 100 之间。", field="cap")
        return {"cap": str(cap)}
    raise ServiceError("rule_kind", f"未知计分方式“{kind}”。", field="kind")


def clean_steps(steps: list[Any], weight: D) -> list[dict[str, Any]]:
    """Steps as [{"from", "to", "points"}] sorted by "from"; overlapping steps are refused, naming both."""
    if not steps:
        raise ServiceError("rule_steps", "分档计分至少需要一档。", field="steps")
    cleaned = []
    for index, step in enumerate(steps, start=1):
        low = _number(step.get("from", ""), f"第 {index} 档下限", "steps")
        raw_high = step.get("to")
        high = None if raw_high in (None, "") else _number(raw_high, f"第 {index} 档上限", "steps")
        score = _number(step.get("points", ""), f"第 {index} 档得分", "steps")
        if high is not None and high <= low:
            raise ServiceError(
                "rule_steps", f"第 {index} 档的上限（{high}%）应大于下限（{low}%）。", field="steps"
            )
        if not (0 <= score <= weight):
            raise ServiceError(
                "rule_steps", f"第 {index} 档得分 {score} 应在 0 到本项分值 {weight} 之间。", field="steps"
            )
        cleaned.append({"from": low, "to": high, "points": score, "index": index})
    cleaned.sort(key=lambda s: s["from"])
    for before, after in zip(cleaned, cleaned[1:], strict=False):
        if before["to"] is None or before["to"] > after["from"]:
            upper = "以上" if before["to"] is None else f"{before['to']}%"
            raise ServiceError(
                "rule_steps_overlap",
                f"分档重叠：第 {before['index']} 档（{before['from']}% 至 {upper}）与第 {after['index']} 档"
                f"（从 {after['from']}% 起）有重叠，请调整上下限使各档互不重叠。",
                field="steps",
            )
    return [
        {"from": str(s["from"]), "to": None if s["to"] is None else str(s["to"]), "points": str(s["points"])}
        for s in cleaned
    ]


def indicator_points(rule: dict[str, Any], weight: D, rate: float | None, target: D) -> tuple[D, str]:
    """(points, how) for a rate against the unit's target."""
    if rate is None:
        return points(weight), "无统计对象（分母为 0），不扣分"
    value = D(str(rate))
    if rule.get("mode") == STEPPED:
        completion = (value / target * 100) if target > 0 else D(100)
        for step in rule["steps"]:
            low, high = D(step["from"]), None if step["to"] is None else D(step["to"])
            if completion >= low and (high is None or completion < high):
                upper = "以上" if high is None else f"至 {high}%"
                return points(step["points"]), f"完成率 {completion:.1f}%，落在 {low}% {upper} 档"
        return points(0), f"完成率 {completion:.1f}%，不在任何一档"
    floor = D(rule.get("floor", "0"))
    if value >= target:
        return points(weight), "达到目标，得满分"
    if value <= floor or target <= floor:
        return points(0), f"不高于起评线 {floor * 100:.1f}%，不得分"
    share = (value - floor) / (target - floor)
    return (
        points(weight * share),
        f"{weight} × ({value * 100:.2f}% − {floor * 100:.1f}%) ÷ ({target * 100:.1f}% − {floor * 100:.1f}%)",
    )
