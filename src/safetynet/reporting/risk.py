"""Enterprise risk levels (风险等级 红 / 橙 / 黄 / 蓝), computed set-based from facts the platform holds.

The facts of an enterprise on day d:

- open warnings (已报告 / 已核实 / 处置中) by category, and their amount (涉及金额);
- open appeal cases (cases app) about it, the collective ones (集体争议) apart, and the wage-arrears ones;
- warnings discovered and cases received in the last ``recent_days`` days, whatever their state;
- no union covering it on d (orgs coverage, as the 建会率 counts it);
- no collective contract covering it in force on d (programmes);

the last two only for an enterprise the registry expects to have a union (its current headcount at least
``ELIGIBLE_MIN_HEADCOUNT``, 25 by default, as for the 建会率).

Its score is the sum of the facts times the city's weights (:class:`~safetynet.reporting.models.RiskRule`);
its level is the highest threshold the score reaches (blue below yellow). Only enterprises operating on d
(founded on or before d, not deregistered on or before it) are rated.

One statement rates every enterprise of a subtree: the warnings and the cases are grouped by enterprise
(small sets), the unions' and the contracts' enterprises are each read once into a hashed set, and the
enterprises are scanned once; the scored set is materialised so that the counts by level and the page of the
level asked for come from the same rows. The facts of the enterprises on a page are then read with the same
statement restricted to their ids. The SQL is the same on PostgreSQL and SQLite.
"""

from __future__ import annotations

import datetime
import decimal
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection

from safetynet.reporting.models import (
    OPEN_WARNING_STATUSES,
    RiskLevel,
    RiskRule,
    WarningCategory,
    WarningSignal,
)

# The weights and thresholds the city sets (every integer field of RiskRule but the bookkeeping).
RULE_FIELDS = (
    "weight_wage_arrears",
    "weight_social_insurance",
    "weight_layoffs",
    "weight_stoppage",
    "weight_restructuring",
    "weight_collective_action",
    "weight_other",
    "weight_amount",
    "amount_cap",
    "weight_open_case",
    "weight_collective_case",
    "weight_wage_case",
    "weight_recent",
    "recent_days",
    "weight_no_contract",
    "weight_no_union",
    "threshold_yellow",
    "threshold_orange",
    "threshold_red",
)
CATEGORY_WEIGHTS = {
    WarningCategory.WAGE_ARREARS: "weight_wage_arrears",
    WarningCategory.SOCIAL_INSURANCE: "weight_social_insurance",
    WarningCategory.LAYOFFS: "weight_layoffs",
    WarningCategory.STOPPAGE: "weight_stoppage",
    WarningCategory.RESTRUCTURING: "weight_restructuring",
    WarningCategory.COLLECTIVE_ACTION: "weight_collective_action",
    WarningCategory.OTHER: "weight_other",
}
AMOUNT_STEP = 10_000  # 元: the amount weight is per 万元
LEVEL_CSS = {
    RiskLevel.RED: "red",
    RiskLevel.ORANGE: "orange",
    RiskLevel.YELLOW: "yellow",
    RiskLevel.BLUE: "blue",
}
LEVELS_HIGH_FIRST = (RiskLevel.RED, RiskLevel.ORANGE, RiskLevel.YELLOW, RiskLevel.BLUE)
OPEN_CASE_STATUSES = ("new", "in_progress", "rectifying")  # cases.models.OPEN_STATUSES


def current_rule() -> RiskRule:
    """The city's rule, or the defaults (an unsaved row) while none has been saved."""
    return RiskRule.objects.filter(pk=RiskRule.SINGLETON_PK).first() or RiskRule(pk=RiskRule.SINGLETON_PK)


def level_of(score: int, rule: RiskRule) -> RiskLevel:
    if score >= rule.threshold_red:
        return RiskLevel.RED
    if score >= rule.threshold_orange:
        return RiskLevel.ORANGE
    if score >= rule.threshold_yellow:
        return RiskLevel.YELLOW
    return RiskLevel.BLUE


def level_bounds(level: int, rule: RiskRule) -> tuple[int | None, int | None]:
    """[low, high) of the scores of a level (None: unbounded)."""
    thresholds = [rule.threshold_yellow, rule.threshold_orange, rule.threshold_red]
    low = thresholds[level - 1] if level >= 1 else None
    high = thresholds[level] if level < 3 else None
    return low, high


@dataclass
class RiskFacts:
    """What made an enterprise's level, from one row of the statement."""

    enterprise_id: int
    warnings: dict[str, int] = field(default_factory=dict)
    amount: decimal.Decimal = decimal.Decimal(0)
    open_cases: int = 0
    collective_cases: int = 0
    wage_cases: int = 0
    recent: int = 0
    covered: bool = True
    contracted: bool = True
    eligible: bool = True  # headcount at least ELIGIBLE_MIN_HEADCOUNT: a union and a contract are expected
    score: int = 0
    level: int = RiskLevel.BLUE
    recent_days: int = 90

    @property
    def level_label(self) -> str:
        return str(RiskLevel(self.level).label)

    @property
    def css(self) -> str:
        return LEVEL_CSS[RiskLevel(self.level)]

    def labels(self) -> list[str]:
        """The facts as people read them: 欠薪预警 2 条 · 集体争议 1 件 · 无集体合同."""
        parts = [
            f"{WarningCategory(category).label}预警 {count} 条"
            for category, count in self.warnings.items()
            if count
        ]
        if self.amount >= AMOUNT_STEP:
            parts.append(f"涉及金额 {self.amount / AMOUNT_STEP:.1f} 万元")
        elif self.amount > 0:
            parts.append(f"涉及金额 {self.amount:,.0f} 元")
        if self.collective_cases:
            parts.append(f"集体争议 {self.collective_cases} 件")
        if self.open_cases:
            parts.append(f"未结诉求 {self.open_cases} 件")
        if self.wage_cases:
            parts.append(f"其中欠薪诉求 {self.wage_cases} 件")
        if self.recent:
            parts.append(f"近 {self.recent_days} 天新发 {self.recent} 起")
        if self.eligible and not self.contracted:
            parts.append("无集体合同")
        if self.eligible and not self.covered:
            parts.append("未建会")
        return parts

    @property
    def text(self) -> str:
        return " · ".join(self.labels()) or "无风险事实"


# --- the statement ----------------------------------------------------------------------------------------


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _tables() -> dict[str, str]:
    from safetynet.cases.models import Case
    from safetynet.orgs.models import Enterprise, GrassrootsUnion, OrgUnit, UnionCoverage
    from safetynet.programmes.models import CollectiveContract, ContractCoverage

    return {
        "warning": _table(WarningSignal),
        "case": _table(Case),
        "enterprise": _table(Enterprise),
        "unit": _table(OrgUnit),
        "coverage": _table(UnionCoverage),
        "union": _table(GrassrootsUnion),
        "contract": _table(CollectiveContract),
        "contract_coverage": _table(ContractCoverage),
    }


def _whole(expression: str) -> str:
    """The whole part of a non-negative number, as an integer (SQLite has no FLOOR everywhere)."""
    if connection.vendor == "postgresql":
        return f"CAST(FLOOR({expression}) AS INTEGER)"
    return f"CAST({expression} AS INTEGER)"


def _placeholders(values: Any) -> str:
    return ", ".join(["%s"] * len(values))


@dataclass
class Filters:
    """Which enterprises: a subtree (path prefix), an industry section, or given ids."""

    path: str = ""
    industry: str = ""
    enterprise_ids: list[int] | None = None


def _statement(
    rule: RiskRule, day: datetime.date, filters: Filters, *, facts: bool
) -> tuple[str, list[Any], str]:
    """The CTEs that score the enterprises (``scored``), their parameters, and the level expression.

    With ``facts`` the scored rows carry every fact column; without, only the id and the score."""
    from safetynet.programmes.models import SIGNED_STATUSES

    t = _tables()
    ops = connection.ops
    since = day - datetime.timedelta(days=rule.recent_days - 1)
    since_moment = datetime.datetime.combine(since, datetime.time(), tzinfo=_beijing())
    day_moment = datetime.datetime.combine(
        day + datetime.timedelta(days=1), datetime.time(), tzinfo=_beijing()
    )
    open_warning = f"status IN ({_placeholders(OPEN_WARNING_STATUSES)})"
    open_case = f"status IN ({_placeholders(OPEN_CASE_STATUSES)})"
    params: list[Any] = []

    ids = filters.enterprise_ids
    only_ids = ""
    if ids is not None:
        only_ids = f" AND enterprise_id IN ({_placeholders(ids) if ids else 'NULL'})"

    # Warnings: open ones by category and amount; recent ones (known by d) whatever their state.
    category_columns = []
    for category in CATEGORY_WEIGHTS:
        category_columns.append(
            f"SUM(CASE WHEN {open_warning} AND category = %s THEN 1 ELSE 0 END) AS w_{category}"
        )
        params += [*OPEN_WARNING_STATUSES, category.value]
    params += [*OPEN_WARNING_STATUSES, ops.adapt_datefield_value(since)]
    warnings = (
        f"SELECT enterprise_id, {', '.join(category_columns)}, "
        f"SUM(CASE WHEN {open_warning} THEN COALESCE(amount, 0) ELSE 0 END) AS w_amount, "
        f"SUM(CASE WHEN discovered_on >= %s THEN 1 ELSE 0 END) AS w_recent "
        f"FROM {t['warning']} WHERE ({open_warning} OR discovered_on >= %s) AND discovered_on <= %s"
        f"{only_ids} GROUP BY enterprise_id"
    )
    params += [*OPEN_WARNING_STATUSES, ops.adapt_datefield_value(since), ops.adapt_datefield_value(day)]
    params += ids or []

    cases = (
        f"SELECT enterprise_id, "
        f"SUM(CASE WHEN {open_case} AND NOT collective THEN 1 ELSE 0 END) AS c_open, "
        f"SUM(CASE WHEN {open_case} AND collective THEN 1 ELSE 0 END) AS c_collective, "
        f"SUM(CASE WHEN {open_case} AND category = %s THEN 1 ELSE 0 END) AS c_wage, "
        f"SUM(CASE WHEN received_at >= %s THEN 1 ELSE 0 END) AS c_recent "
        f"FROM {t['case']} WHERE enterprise_id IS NOT NULL AND ({open_case} OR received_at >= %s) "
        f"AND received_at < %s{only_ids} GROUP BY enterprise_id"
    )
    since_value = ops.adapt_datetimefield_value(since_moment)
    params += [*OPEN_CASE_STATUSES, *OPEN_CASE_STATUSES, *OPEN_CASE_STATUSES, "wage_arrears", since_value]
    params += [*OPEN_CASE_STATUSES, since_value, ops.adapt_datetimefield_value(day_moment)]
    params += ids or []

    # Both sides in one set, then one row per enterprise with its points from events.
    warning_names = [f"w_{c}" for c in CATEGORY_WEIGHTS] + ["w_amount", "w_recent"]
    case_names = ["c_open", "c_collective", "c_wage", "c_recent"]
    union_all = (
        f"SELECT enterprise_id, {', '.join(warning_names)}, {', '.join('0 AS ' + n for n in case_names)} "
        f"FROM w UNION ALL SELECT enterprise_id, {', '.join('0 AS ' + n for n in warning_names)}, "
        f"{', '.join(case_names)} FROM c"
    )
    summed = ", ".join(f"SUM({n}) AS {n}" for n in warning_names + case_names)
    amount_points = _whole(f"SUM(w_amount) / {AMOUNT_STEP}") + f" * {int(rule.weight_amount)}"
    points = " + ".join(
        [f"SUM(w_{c}) * {int(getattr(rule, weight))}" for c, weight in CATEGORY_WEIGHTS.items()]
        + [
            f"CASE WHEN {amount_points} > {int(rule.amount_cap)} THEN {int(rule.amount_cap)} "
            f"ELSE {amount_points} END",
            f"SUM(c_open) * {int(rule.weight_open_case)}",
            f"SUM(c_collective) * {int(rule.weight_collective_case)}",
            f"SUM(c_wage) * {int(rule.weight_wage_case)}",
            f"(SUM(w_recent) + SUM(c_recent)) * {int(rule.weight_recent)}",
        ]
    )
    events = f"SELECT enterprise_id, {summed}, CAST({points} AS BIGINT) AS points FROM ({union_all}) u GROUP BY enterprise_id"

    covered = (
        f"SELECT cov.enterprise_id FROM {t['coverage']} cov JOIN {t['union']} g ON g.id = cov.union_id "
        f"WHERE (cov.valid_from IS NULL OR cov.valid_from <= %s) AND (cov.valid_to IS NULL OR cov.valid_to > %s) "
        f"AND g.founded_on <= %s AND (g.dissolved_on IS NULL OR g.dissolved_on > %s)"
        f"{only_ids.replace('enterprise_id', 'cov.enterprise_id')}"
    )
    covered_params = [ops.adapt_datefield_value(day)] * 4 + (ids or [])
    contracted = (
        f"SELECT cc.enterprise_id FROM {t['contract_coverage']} cc JOIN {t['contract']} k "
        f"ON k.id = cc.contract_id WHERE k.status IN ({_placeholders(SIGNED_STATUSES)}) "
        f"AND k.effective_on <= %s AND k.expires_on >= %s{only_ids.replace('enterprise_id', 'cc.enterprise_id')}"
    )
    contracted_params = [*SIGNED_STATUSES, ops.adapt_datefield_value(day), ops.adapt_datefield_value(day)]
    contracted_params += ids or []
    # A weight of 0 needs no lookup at all; facts always need both.
    need_union = facts or rule.weight_no_union
    need_contract = facts or rule.weight_no_contract
    covered_expression = f"(e.id IN ({covered}))" if need_union else "(1 = 1)"
    eligible = f"e.headcount >= {int(settings.ELIGIBLE_MIN_HEADCOUNT)}"
    contracted_expression = f"(e.id IN ({contracted}))" if need_contract else "(1 = 1)"

    select = ["e.id AS enterprise_id"]
    select_params: list[Any] = []
    if facts:
        select += [f"COALESCE(ev.{n}, 0) AS {n}" for n in warning_names + case_names]
        select += [
            f"CASE WHEN {covered_expression} THEN 1 ELSE 0 END AS covered",
            f"CASE WHEN {contracted_expression} THEN 1 ELSE 0 END AS contracted",
            f"CASE WHEN {eligible} THEN 1 ELSE 0 END AS eligible",
        ]
        select_params += covered_params + contracted_params
    # 未建会 and 无集体合同 count only where the registry expects a union (应建会: ELIGIBLE_MIN_HEADCOUNT workers).
    score = (
        f"COALESCE(ev.points, 0)"
        f" + CASE WHEN {eligible} AND NOT {covered_expression} THEN {int(rule.weight_no_union)} ELSE 0 END"
        f" + CASE WHEN {eligible} AND NOT {contracted_expression} THEN {int(rule.weight_no_contract)} ELSE 0 END"
    )
    score_params = (covered_params if need_union else []) + (contracted_params if need_contract else [])
    select.append(f"{score} AS score")
    select_params += score_params

    where = [
        "e.founded_on <= %s",
        "(e.deregistered_on IS NULL OR e.deregistered_on > %s)",
    ]
    where_params: list[Any] = [ops.adapt_datefield_value(day), ops.adapt_datefield_value(day)]
    if filters.path:
        where.append("ou.path LIKE %s")
        where_params.append(filters.path + "%")
    if filters.industry:
        where.append("e.industry_id = %s")
        where_params.append(filters.industry)
    if ids is not None:
        where.append(f"e.id IN ({_placeholders(ids) if ids else 'NULL'})")
        where_params += ids
    scored = (
        f"SELECT {', '.join(select)} FROM {t['enterprise']} e JOIN {t['unit']} ou ON ou.id = e.org_unit_id "
        f"LEFT JOIN ev ON ev.enterprise_id = e.id WHERE {' AND '.join(where)}"
    )
    sql = (
        f"WITH w AS ({warnings}), c AS ({cases}), ev AS ({events}), "
        f"scored AS {'' if facts else 'MATERIALIZED '}({scored})"
    )
    level = (
        f"CASE WHEN score >= {int(rule.threshold_red)} THEN 3 WHEN score >= {int(rule.threshold_orange)} THEN 2 "
        f"WHEN score >= {int(rule.threshold_yellow)} THEN 1 ELSE 0 END"
    )
    return sql, params + select_params + where_params, level


def _beijing() -> Any:
    from safetynet.reporting.periods import BEIJING

    return BEIJING


def _level_condition(level: int | None, rule: RiskRule) -> str:
    if level is None:
        return "1 = 1"
    low, high = level_bounds(level, rule)
    parts = []
    if low is not None:
        parts.append(f"score >= {int(low)}")
    if high is not None:
        parts.append(f"score < {int(high)}")
    return " AND ".join(parts) or "1 = 1"


@dataclass
class RiskPage:
    counts: dict[int, int]
    rows: list[tuple[int, int]]  # (enterprise id, score), highest first

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def risk_page(
    *,
    rule: RiskRule,
    day: datetime.date,
    filters: Filters,
    level: int | None,
    limit: int,
    offset: int,
) -> RiskPage:
    """The number of enterprises at each level, and one page of those at ``level`` (all levels: None), highest
    score first — in one statement over the scored set."""
    sql, params, level_expression = _statement(rule, day, filters, facts=False)
    statement = (
        f"{sql} SELECT 0 AS kind, {level_expression} AS level, COUNT(*) AS n, CAST(NULL AS BIGINT) AS id, "
        f"CAST(NULL AS BIGINT) AS score FROM scored GROUP BY {level_expression} "
        f"UNION ALL SELECT * FROM (SELECT 1 AS kind, {level_expression} AS level, 0 AS n, enterprise_id, score "
        f"FROM scored WHERE {_level_condition(level, rule)} ORDER BY score DESC, enterprise_id "
        f"LIMIT %s OFFSET %s) page"
    )
    counts = {int(value): 0 for value in RiskLevel.values}
    rows: list[tuple[int, int]] = []
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, int(limit), int(offset)])
        for kind, level_value, number, enterprise_id, score in cursor.fetchall():
            if kind == 0:
                counts[int(level_value)] = int(number)
            else:
                rows.append((int(enterprise_id), int(score)))
    rows.sort(key=lambda row: (-row[1], row[0]))
    return RiskPage(counts=counts, rows=rows)


def risk_facts(
    *, rule: RiskRule, day: datetime.date, filters: Filters, level: int | None = None
) -> list[RiskFacts]:
    """Every fact of the enterprises the filters name (ids for a page or one enterprise; a whole subtree and a
    level for an export), highest score first."""
    sql, params, _level = _statement(rule, day, filters, facts=True)
    statement = (
        f"{sql} SELECT * FROM scored WHERE {_level_condition(level, rule)} ORDER BY score DESC, enterprise_id"
    )
    found: list[RiskFacts] = []
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        names = [column[0] for column in cursor.description]
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            score = int(row["score"])
            found.append(
                RiskFacts(
                    enterprise_id=int(row["enterprise_id"]),
                    warnings={c: int(row[f"w_{c}"] or 0) for c in CATEGORY_WEIGHTS},
                    amount=decimal.Decimal(str(row["w_amount"] or 0)),
                    open_cases=int(row["c_open"] or 0),
                    collective_cases=int(row["c_collective"] or 0),
                    wage_cases=int(row["c_wage"] or 0),
                    recent=int(row["w_recent"] or 0) + int(row["c_recent"] or 0),
                    covered=bool(row["covered"]),
                    contracted=bool(row["contracted"]),
                    eligible=bool(row["eligible"]),
                    score=score,
                    level=level_of(score, rule),
                    recent_days=rule.recent_days,
                )
            )
    return found


def enterprise_risk(
    enterprise_id: int, *, day: datetime.date, rule: RiskRule | None = None
) -> RiskFacts | None:
    """The level and facts of one enterprise (None when it does not operate on ``day``)."""
    rule = rule or current_rule()
    rows = risk_facts(rule=rule, day=day, filters=Filters(enterprise_ids=[enterprise_id]))
    return rows[0] if rows else None
