"""Reported headcounts against the real-name roster (报告职工人数与实名名册比对).

For each enterprise operating on day d, four figures:

- reported (报告职工人数): the enterprise's headcount in force on d (its dated ``EnterpriseHeadcount`` row; no
  row that day, no comparison);
- employees (名册在职职工): its employments active on d on the members roster, counted through the employment
  spans (members/spans.py: exactly one span of each employment is active on any day);
- members (名册在职会员): those of them whose person holds a membership on d (the spans' ``member`` column);
- register (工会会员名册): the memberships active on d at the unions covering the enterprise on d, when each of
  those unions covers this enterprise alone (单独建会). A joint, regional or industry union's members cannot
  be told apart by enterprise, so such an enterprise has no register figure and no member comparison.

Two figures differ when they are apart by more than ``HEADCOUNT_MISMATCH_PEOPLE`` people (default 5) and by
more than ``HEADCOUNT_MISMATCH_PERCENT`` per cent (default 10) of the reported figure (of the register for
members). Kinds: the report is above the roster (报告多于名册: inflated, or the roster is incomplete), below
it (报告少于名册: the report is out of date), the roster is empty (名册为空), and the union's register differs
from the members working there (会员名册不符).

One statement over the subtree (spans and memberships grouped by enterprise and union, joined to the
enterprises); the differing rows are kept in the cache under the data version, like the indicators, so paging
and exporting do not count again.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

OVER = "over"
UNDER = "under"
NO_ROSTER = "no_roster"
MEMBERS = "members"
KINDS = (OVER, UNDER, NO_ROSTER, MEMBERS)
KIND_LABELS = {
    OVER: "报告多于名册",
    UNDER: "报告少于名册",
    NO_ROSTER: "名册为空",
    MEMBERS: "会员名册不符",
}
DEFAULT_PERCENT = 10
DEFAULT_PEOPLE = 5
CACHE_SECONDS = 24 * 3600


def thresholds() -> tuple[float, int]:
    """(per cent, people): SAFETYNET_HEADCOUNT_MISMATCH_PERCENT and SAFETYNET_HEADCOUNT_MISMATCH_PEOPLE."""
    from safetynet.reporting.services import setting_number

    return (
        setting_number("HEADCOUNT_MISMATCH_PERCENT", DEFAULT_PERCENT),
        int(setting_number("HEADCOUNT_MISMATCH_PEOPLE", DEFAULT_PEOPLE)),
    )


def differs(base: int, other: int, percent: float, people: int) -> bool:
    gap = abs(base - other)
    return gap > people and gap * 100 > percent * base


@dataclass
class HeadcountRow:
    enterprise_id: int
    path: str
    reported: int | None
    employees: int
    members: int
    register: int | None
    joint: bool
    kinds: list[str] = field(default_factory=list)

    @property
    def gap(self) -> int | None:
        return None if self.reported is None else self.reported - self.employees

    @property
    def member_gap(self) -> int | None:
        return None if self.register is None else self.register - self.members

    @property
    def labels(self) -> list[str]:
        return [KIND_LABELS[kind] for kind in self.kinds]


def classify(row: HeadcountRow, percent: float, people: int) -> list[str]:
    kinds = []
    if row.reported is not None and differs(row.reported, row.employees, percent, people):
        if row.employees == 0:
            kinds.append(NO_ROSTER)
        elif row.reported > row.employees:
            kinds.append(OVER)
        else:
            kinds.append(UNDER)
    if row.register is not None and differs(row.register, row.members, percent, people):
        kinds.append(MEMBERS)
    return kinds


def _table(label: str) -> str:
    from django.apps import apps

    return connection.ops.quote_name(apps.get_model(label)._meta.db_table)


def _statement(
    day: datetime.date, path: str, industry: str, percent: float, people: int
) -> tuple[str, list[Any]]:
    day_value = connection.ops.adapt_datefield_value(day)
    enterprise, unit = _table("orgs.Enterprise"), _table("orgs.OrgUnit")
    headcount, span = _table("orgs.EnterpriseHeadcount"), _table("members.EmploymentSpan")
    coverage, union, membership = (
        _table("orgs.UnionCoverage"),
        _table("orgs.GrassrootsUnion"),
        _table("members.Membership"),
    )
    where = ["e.founded_on <= %s", "(e.deregistered_on IS NULL OR e.deregistered_on > %s)"]
    params: list[Any] = [day_value, day_value]
    if path:
        where.append("ou.path LIKE %s")
        params.append(path + "%")
    if industry:
        where.append("e.industry_id = %s")
        params.append(industry)
    # Each subtree statement narrows the big tables to its own enterprises (a district reads its tenth).
    narrow = "enterprise_id IN (SELECT id FROM ent)" if path or industry else "1 = 1"
    sql = f"""
        WITH ent AS MATERIALIZED (
            SELECT e.id, ou.path FROM {enterprise} e JOIN {unit} ou ON ou.id = e.org_unit_id
            WHERE {" AND ".join(where)}
        ),
        r AS (
            SELECT enterprise_id, headcount FROM {headcount}
            WHERE (valid_from IS NULL OR valid_from <= %s) AND (valid_to IS NULL OR valid_to > %s) AND {narrow}
        ),
        s AS (
            SELECT enterprise_id, COUNT(*) AS employees, SUM(CASE WHEN member THEN 1 ELSE 0 END) AS members
            FROM {span} WHERE valid_from <= %s AND (valid_to IS NULL OR valid_to > %s) AND {narrow}
            GROUP BY enterprise_id
        ),
        cov AS (
            SELECT c.union_id, c.enterprise_id FROM {coverage} c JOIN {union} g ON g.id = c.union_id
            WHERE (c.valid_from IS NULL OR c.valid_from <= %s) AND (c.valid_to IS NULL OR c.valid_to > %s)
              AND g.founded_on <= %s AND (g.dissolved_on IS NULL OR g.dissolved_on > %s)
        ),
        sizes AS (SELECT union_id, COUNT(DISTINCT enterprise_id) AS covers FROM cov GROUP BY union_id),
        reg AS (
            SELECT union_id, COUNT(*) AS members FROM {membership}
            WHERE valid_from <= %s AND (valid_to IS NULL OR valid_to > %s)
              AND union_id IN (SELECT union_id FROM cov WHERE {narrow})
            GROUP BY union_id
        ),
        per AS (
            SELECT cov.enterprise_id, MAX(sizes.covers) AS largest, SUM(COALESCE(reg.members, 0)) AS reg_members
            FROM cov JOIN sizes ON sizes.union_id = cov.union_id LEFT JOIN reg ON reg.union_id = cov.union_id
            GROUP BY cov.enterprise_id
        ),
        cmp AS (
            SELECT ent.id, ent.path, r.headcount AS reported, COALESCE(s.employees, 0) AS employees,
                   COALESCE(s.members, 0) AS members, per.largest, per.reg_members
            FROM ent LEFT JOIN r ON r.enterprise_id = ent.id LEFT JOIN s ON s.enterprise_id = ent.id
            LEFT JOIN per ON per.enterprise_id = ent.id
        )
        SELECT 0 AS kind, CAST(COUNT(reported) AS BIGINT), CAST(NULL AS VARCHAR(255)),
               CAST(SUM(CASE WHEN largest = 1 THEN 1 ELSE 0 END) AS BIGINT), 0, 0, 0, 0
        FROM cmp
        UNION ALL
        SELECT 1, id, path, reported, employees, members, largest, reg_members FROM cmp
        WHERE (reported IS NOT NULL AND ABS(reported - employees) > %s
               AND ABS(reported - employees) * 100 > %s * reported)
           OR (largest = 1 AND ABS(reg_members - members) > %s
               AND ABS(reg_members - members) * 100 > %s * reg_members)
    """
    params += [day_value] * 10
    params += [people, percent, people, percent]
    return sql, params


# A differing row as kept in the cache: a plain tuple pickles twenty times faster than an object, and a city
# can have a hundred thousand of them. (enterprise id, unit path, reported, employees, members, register,
# joint, kinds)
Packed = tuple[int, str, int | None, int, int, int | None, bool, tuple[str, ...]]


def pack(row: HeadcountRow) -> Packed:
    return (
        row.enterprise_id,
        row.path,
        row.reported,
        row.employees,
        row.members,
        row.register,
        row.joint,
        tuple(row.kinds),
    )


def unpack(packed: Packed) -> HeadcountRow:
    enterprise_id, path, reported, employees, members, register, joint, kinds = packed
    return HeadcountRow(enterprise_id, path, reported, employees, members, register, joint, list(kinds))


@dataclass
class Comparison:
    day: datetime.date
    percent: float
    people: int
    compared: int  # enterprises with a reported figure on the day
    with_register: int  # enterprises with a register figure
    packed: list[Packed]  # those that differ, largest gap first
    counts: dict[str, int]  # by kind
    by_child: dict[int, dict[str, int]]  # by kind, for each unit directly below the subtree's root

    @property
    def rows(self) -> list[HeadcountRow]:
        return [unpack(p) for p in self.packed]

    @property
    def differing(self) -> int:
        return len(self.packed)

    def of_kind(self, kind: str) -> list[Packed]:
        return [p for p in self.packed if not kind or kind in p[7]]


def compute(*, day: datetime.date, path: str = "", industry: str = "") -> Comparison:
    """Every enterprise of the subtree (path prefix) compared; the differing ones kept, with their counts by
    kind in total and for each unit directly below the subtree's root."""
    percent, people = thresholds()
    sql, params = _statement(day, path, industry, percent, people)
    compared = with_register = 0
    rows: list[HeadcountRow] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for kind, first, unit_path, reported, employees, members, largest, register in cursor.fetchall():
            if kind == 0:
                compared, with_register = int(first or 0), int(reported or 0)
                continue
            joint = largest is not None and int(largest) > 1
            row = HeadcountRow(
                enterprise_id=int(first),
                path=unit_path,
                reported=None if reported is None else int(reported),
                employees=int(employees),
                members=int(members or 0),
                register=None if largest is None or joint else int(register or 0),
                joint=joint,
            )
            row.kinds = classify(row, percent, people)
            if row.kinds:
                rows.append(row)
    rows.sort(key=lambda r: (-max(abs(r.gap or 0), abs(r.member_gap or 0)), r.enterprise_id))
    counts = dict.fromkeys(KINDS, 0)
    by_child: dict[int, dict[str, int]] = {}
    depth = path.count("/")
    for row in rows:
        parts = row.path.split("/")
        child = int(parts[depth]) if len(parts) > depth and parts[depth].isdigit() else None
        for kind in row.kinds:
            counts[kind] += 1
            if child is not None:
                by_child.setdefault(child, dict.fromkeys(KINDS, 0))[kind] += 1
    return Comparison(
        day=day,
        percent=percent,
        people=people,
        compared=compared,
        with_register=with_register,
        packed=[pack(row) for row in rows],
        counts=counts,
        by_child=by_child,
    )


def compute_cached(*, day: datetime.date, path: str = "", industry: str = "") -> Comparison:
    """``compute`` through the cache; the key holds the data version (any change writes an audit row), the
    day, the subtree, the industry and the thresholds, so nothing stale is served."""
    from django.core.cache import cache

    from safetynet.reporting.selectors import data_version

    percent, people = thresholds()
    key = ":".join(
        [
            "reporting-headcounts",
            str(data_version()),
            day.isoformat(),
            path,
            industry,
            f"{percent}",
            str(people),
        ]
    )
    found = cache.get(key)
    if found is None:
        found = compute(day=day, path=path, industry=industry)
        cache.set(key, found, timeout=CACHE_SECONDS)
    return found
