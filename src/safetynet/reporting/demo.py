"""Demo reports and warnings for the demo city (信息报送与预警).

``extend_demo(seed=..., scale=...)`` is found by ``core/demo.py`` and runs after the registry is loaded. It
designs three forms through the service (a monthly early-warning form for the streets, one for the
communities, a quarterly form for the districts), then writes two years of reports and the warnings of the
same months set-based (``bulk_create`` in batches), with one summary audit row per form.

The story is told for the 24 months before the current one (times relative to today, like the cases' demo,
so the 待报送 page has something due and something overdue): most units report on time, some late, a few
not at all; most months have nothing to report (零申报). Warnings come from ``random.Random(seed)`` over the
enterprises in id order; a unit whose enterprises had a warning in a month usually reports it — but not
always (and a case received that month counts as much), and those zero reports are what the concealment
board shows. The street and the community of the
demo logins (the first of 中山区) leave the last month and one earlier month unreported.

Scale: ``small`` about 3,000 reports and 300 warnings; ``city`` about 50,000 reports (every street and
community, 24 months) and 20,000 warnings.

Then, once too: urgent incidents over the same two years (40 small, 400 city; about one in seven reported
late, the last few this week and still open, the duty officers told of the latest three), and the city's risk
rule saved through its service.
"""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.utils import timezone

from safetynet.core.models import AuditAction
from safetynet.core.services import audit_record
from safetynet.orgs.models import PATH_SEPARATOR, Enterprise, OrgLevel, OrgUnit
from safetynet.reporting import periods, services
from safetynet.reporting.models import (
    Incident,
    IncidentCategory,
    IncidentStatus,
    Report,
    ReportForm,
    ReportSource,
    WarningCategory,
    WarningSignal,
    WarningSource,
    WarningStatus,
)
from safetynet.reporting.rates import expected_unit_ids

MONTHS = 24
BATCH = 5000
WARNINGS = {"small": 300, "city": 20_000, "city3": 60_000}
FOCUS_DISTRICT = "210202"

STREET_FIELDS = [
    {"label": "欠薪企业数", "kind": "number", "required": True, "help": "本月发现拖欠工资的企业家数"},
    {"label": "欠薪金额", "kind": "amount", "required": False},
    {"label": "涉及职工人数", "kind": "workers", "required": True},
    {"label": "是否有停产企业", "kind": "yes_no", "required": False},
    {"label": "风险程度", "kind": "choice", "required": False, "choices": "低、中、高"},
    {"label": "其他情况", "kind": "text", "required": False},
]
COMMUNITY_FIELDS = [
    {"label": "预警企业数", "kind": "number", "required": True},
    {"label": "涉及职工人数", "kind": "workers", "required": False},
    {"label": "情况说明", "kind": "text", "required": False},
]
DISTRICT_FIELDS = [
    {"label": "新建工会数", "kind": "number", "required": True},
    {"label": "新发展会员数", "kind": "workers", "required": True},
    {"label": "调处劳动争议件数", "kind": "number", "required": False},
]
CATEGORIES = (
    (WarningCategory.WAGE_ARREARS, 40),
    (WarningCategory.SOCIAL_INSURANCE, 20),
    (WarningCategory.LAYOFFS, 14),
    (WarningCategory.STOPPAGE, 10),
    (WarningCategory.RESTRUCTURING, 6),
    (WarningCategory.COLLECTIVE_ACTION, 5),
    (WarningCategory.OTHER, 5),
)
DESCRIPTIONS = {
    WarningCategory.WAGE_ARREARS: "企业拖欠{workers}名职工{months}个月工资，约{amount}元，职工情绪不稳。",
    WarningCategory.SOCIAL_INSURANCE: "企业欠缴{workers}名职工{months}个月社会保险费，职工多次反映。",
    WarningCategory.LAYOFFS: "企业计划裁减{workers}名职工并下调绩效工资，尚未与工会协商。",
    WarningCategory.STOPPAGE: "企业订单不足，{months}个月来时开时停，{workers}名职工待岗。",
    WarningCategory.RESTRUCTURING: "企业拟整体搬迁至开发区，涉及{workers}名职工的劳动关系处理。",
    WarningCategory.COLLECTIVE_ACTION: "{workers}余名职工因工资问题聚集，有集体上访苗头。",
    WarningCategory.OTHER: "企业负责人联系不上，{workers}名职工工资发放情况不明。",
}
DISMISS_REASONS = (
    "经核实，工资已足额发放。",
    "经核实，系个别职工误解，已解释清楚。",
    "企业已补缴社会保险费。",
)


def _weighted(rng: random.Random, choices: tuple[tuple[Any, int], ...]) -> Any:
    return rng.choices([c for c, _w in choices], weights=[w for _c, w in choices])[0]


def _forms(first: periods.Period) -> dict[str, ReportForm]:
    """The three demo forms (designed through the service, so each has its version 1 and audit row)."""
    specs = [
        ("YJ01", "劳动关系预警月报", "month", OrgLevel.STREET, 5, True, STREET_FIELDS),
        ("YJ02", "社区劳动关系信息月报", "month", OrgLevel.COMMUNITY, 3, True, COMMUNITY_FIELDS),
        ("JB01", "工会工作季报", "quarter", OrgLevel.DISTRICT, 15, False, DISTRICT_FIELDS),
    ]
    forms = {}
    for code, name, kind, level, due_day, warning, fields in specs:
        existing = ReportForm.objects.filter(code=code).first()
        forms[code] = existing or services.reportform_create(
            actor=None,
            code=code,
            name=name,
            period_kind=kind,
            level=level,
            due_day=due_day,
            is_warning=warning,
            enabled_from=periods.period_containing(first.start, kind).start,
            fields=fields,
            instructions="本期无情况的，请点“本期无情况（零申报）”。",
        )
    return forms


def _moment(day: datetime.date, rng: random.Random) -> datetime.datetime:
    return datetime.datetime.combine(
        day, datetime.time(rng.randint(8, 17), rng.randint(0, 59)), tzinfo=periods.BEIJING
    )


def _warnings(
    rng: random.Random, count: int, months: list[periods.Period], now: datetime.datetime
) -> list[WarningSignal]:
    enterprise_ids = list(Enterprise.objects.order_by("pk").values_list("pk", flat=True))
    if not enterprise_ids:
        return []
    today = periods.beijing_date(now)
    first, last = months[0].start, min(today, months[-1].end) - datetime.timedelta(days=1)
    span = (last - first).days
    rows = []
    for _ in range(count):
        discovered = first + datetime.timedelta(days=rng.randint(0, span))
        reported = min(_moment(discovered + datetime.timedelta(days=rng.choice((0, 0, 1, 2, 3))), rng), now)
        category = _weighted(rng, CATEGORIES)
        workers = rng.choice((3, 5, 8, 12, 20, 35, 60))
        months_owed = rng.randint(1, 6)
        amount = workers * months_owed * rng.choice((3000, 3500, 4200))
        age = (today - discovered).days
        if age > 60:
            status = rng.choices(
                [
                    WarningStatus.RESOLVED,
                    WarningStatus.DISMISSED,
                    WarningStatus.HANDLING,
                    WarningStatus.VERIFIED,
                ],
                weights=[70, 15, 10, 5],
            )[0]
        else:
            status = rng.choices(
                [WarningStatus.REPORTED, WarningStatus.VERIFIED, WarningStatus.HANDLING], weights=[40, 30, 30]
            )[0]
        rows.append(
            WarningSignal(
                enterprise_id=rng.choice(enterprise_ids),
                category=category,
                discovered_on=discovered,
                reported_at=reported,
                workers_involved=workers,
                amount=amount
                if category in (WarningCategory.WAGE_ARREARS, WarningCategory.SOCIAL_INSURANCE)
                else None,
                months=months_owed if category != WarningCategory.COLLECTIVE_ACTION else None,
                description=DESCRIPTIONS[category].format(
                    workers=workers, months=months_owed, amount=f"{amount:,}"
                ),
                status=status,
                status_changed_at=min(reported + datetime.timedelta(days=rng.randint(1, 20)), now)
                if status != WarningStatus.REPORTED
                else reported,
                dismiss_reason=rng.choice(DISMISS_REASONS) if status == WarningStatus.DISMISSED else "",
                source=rng.choice((WarningSource.WEB, WarningSource.WEB, WarningSource.IMPORT)),
            )
        )
    rows.sort(key=lambda w: w.reported_at)
    return rows


def _signal_units(warnings: list[WarningSignal], since: datetime.date) -> dict[str, set[int]]:
    """Period code → the units (every ancestor) of the enterprises with a warning discovered, or a case
    received (the cases' demo ran before this one), in that month."""
    from safetynet.cases.models import Case

    events = [(w.enterprise_id, w.discovered_on) for w in warnings]
    events += [
        (enterprise_id, periods.beijing_date(received))
        for enterprise_id, received in Case.objects.filter(
            enterprise__isnull=False, received_at__gte=periods.moment(since)
        ).values_list("enterprise_id", "received_at")
    ]
    ids = {enterprise_id for enterprise_id, _day in events}
    unit_of: dict[int, str] = {}
    for start in range(0, len(ids), 900):
        chunk = sorted(ids)[start : start + 900]
        unit_of.update(Enterprise.objects.filter(pk__in=chunk).values_list("pk", "org_unit__path"))
    found: dict[str, set[int]] = defaultdict(set)
    for enterprise_id, day in events:
        path = unit_of.get(enterprise_id, "")
        found[periods.period_containing(day, "month").code].update(
            int(part) for part in path.split(PATH_SEPARATOR) if part
        )
    return found


def _values(form: ReportForm, rng: random.Random) -> tuple[dict[str, Any], str]:
    if form.code == "YJ01":
        firms = rng.randint(1, 3)
        workers = firms * rng.choice((5, 8, 12, 20))
        return (
            {
                "f1": str(firms),
                "f2": f"{workers * rng.choice((3000, 4200)) * rng.randint(1, 3)}.00",
                "f3": workers,
                "f4": rng.random() < 0.2,
                "f5": rng.choice(("低", "中", "中", "高")),
            },
            f"辖区内{firms}家企业出现欠薪、欠保等情况，街道工会已介入协调。",
        )
    if form.code == "YJ02":
        firms = rng.randint(1, 2)
        return {"f1": str(firms), "f2": firms * rng.choice((4, 6, 10))}, "社区内企业有欠薪苗头，已上报街道。"
    return {"f1": str(rng.randint(0, 12)), "f2": rng.randint(50, 900), "f3": str(rng.randint(3, 40))}, ""


def _reports(
    rng: random.Random,
    forms: dict[str, ReportForm],
    months: list[periods.Period],
    signals: dict[str, set[int]],
    now: datetime.datetime,
    focus: set[int],
) -> dict[str, list[Report]]:
    today = periods.beijing_date(now)
    written: dict[str, list[Report]] = {}
    for code, form in forms.items():
        version = services.current_version(form)
        if form.period_kind == "month":
            wanted = months
        else:
            quarters = {periods.period_containing(m.start, "quarter") for m in months}
            wanted = sorted(q for q in quarters if q.end <= today)
        rows: list[Report] = []
        for index, period in enumerate(wanted):
            if period.end > today:
                continue
            due = period.due_date(form.due_day)
            expected = sorted(expected_unit_ids(form, period))
            last = index == len(wanted) - 1
            for unit_id in expected:
                if unit_id in focus and (last or index == len(wanted) - 4):
                    continue  # the demo logins' own units: one month overdue, the last one still to file
                roll = rng.random()
                if roll < 0.04:
                    continue  # 漏报
                if roll < 0.16:
                    day = due + datetime.timedelta(days=rng.randint(1, 12))  # 迟报
                else:
                    day = period.end + datetime.timedelta(
                        days=rng.randint(0, max((due - period.end).days, 0))
                    )
                submitted = _moment(day, rng)
                if submitted > now:
                    continue  # not yet: the last month is still being filed
                has_signal = unit_id in signals.get(period.code, set())
                zero = (rng.random() < 0.12) if has_signal else (rng.random() < 0.75)
                if not form.is_warning:
                    zero = False
                values, content = ({}, "本期无情况。") if zero else _values(form, rng)
                rows.append(
                    Report(
                        form=form,
                        version=version,
                        period=period.code,
                        unit_id=unit_id,
                        submitted_at=submitted,
                        is_zero=zero,
                        values=values,
                        content=content,
                        source=ReportSource.WEB,
                    )
                )
                if rng.random() < 0.03:
                    later = submitted + datetime.timedelta(
                        days=rng.randint(1, 6), minutes=rng.randint(1, 600)
                    )
                    if later <= now:
                        values, content = _values(form, rng)
                        rows.append(
                            Report(
                                form=form,
                                version=version,
                                period=period.code,
                                unit_id=unit_id,
                                submitted_at=later,
                                is_zero=False,
                                values=values,
                                content=content,
                                note="补报本期情况",
                                source=ReportSource.WEB,
                            )
                        )
        written[code] = rows
    return written


def _focus_units() -> set[int]:
    """The first street of 中山区 and its first community (where the demo logins zhongshan_street_officer and
    zhongshan_chair work)."""
    street = (
        OrgUnit.objects.filter(level=OrgLevel.STREET, code__startswith=FOCUS_DISTRICT)
        .order_by("code")
        .first()
    )
    if street is None:
        return set()
    community = OrgUnit.objects.filter(parent=street).order_by("code").first()
    return {street.pk} | ({community.pk} if community else set())


def extend_demo(*, seed: int, scale: str) -> dict[str, int]:
    """The hook `safetynet demo-data` calls after the registry is loaded (see core/demo.py). Each part loads
    once: the reports and warnings, then the urgent incidents and the risk rule."""
    counts: dict[str, int] = {}
    if not Report.objects.exists():
        counts.update(_reports_and_warnings(seed=seed, scale=scale))
    if not Incident.objects.exists():
        counts.update(_incidents_and_rule(seed=seed, scale=scale))
    return counts


def _reports_and_warnings(*, seed: int, scale: str) -> dict[str, int]:
    rng = random.Random(f"reporting-{seed}")
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    last = periods.latest_ended(periods.beijing_date(now), "month")
    months = [last]
    while len(months) < MONTHS:
        months.insert(0, months[0].previous())
    city = OrgUnit.objects.filter(parent__isnull=True).order_by("pk").first()
    if city is None:
        return {}
    with transaction.atomic():
        forms = _forms(months[0])
        warnings = _warnings(rng, WARNINGS.get(scale, WARNINGS["small"]), months, now)
        WarningSignal.objects.bulk_create(warnings, batch_size=BATCH)
        reports = _reports(rng, forms, months, _signal_units(warnings, months[0].start), now, _focus_units())
        for code, rows in reports.items():
            Report.objects.bulk_create(rows, batch_size=BATCH)
            audit_record(
                actor=None,
                action=AuditAction.IMPORT,
                instance=forms[code],
                changes={"报送记录": [None, len(rows)]},
                unit_path=city.path,
                note=f"载入演示数据（规模 {scale}，种子 {seed}）",
            )
        audit_record(
            actor=None,
            action=AuditAction.IMPORT,
            instance=city,
            changes={"预警信息": [None, len(warnings)]},
            unit_path=city.path,
            note=f"载入演示预警数据（规模 {scale}，种子 {seed}）",
        )
    return {
        "报表": len(forms),
        "报送记录": sum(len(rows) for rows in reports.values()),
        "预警信息": len(warnings),
    }


# --- urgent incidents and the risk rule ------------------------------------------------------------------

INCIDENTS = {"small": 40, "city": 400, "city3": 1_200}
INCIDENT_STORIES = (
    (
        IncidentCategory.COLLECTIVE_ACTION,
        "{name}{workers}余名职工因欠薪聚集厂门",
        "职工要求补发拖欠的工资，情绪激动，已堵住厂门。",
    ),
    (
        IncidentCategory.COLLECTIVE_SIGN,
        "{name}职工酝酿集体上访",
        "部分职工在微信群中相约到区政府反映欠薪问题。",
    ),
    (
        IncidentCategory.STOPPAGE,
        "{name}{workers}名职工集体停工",
        "企业拟下调计件单价，职工集体停工要求协商。",
    ),
    (
        IncidentCategory.PETITION,
        "{name}职工集体到区信访局上访",
        "{workers}名职工反映企业搬迁后劳动关系处理问题。",
    ),
    (
        IncidentCategory.SAFETY_ACCIDENT,
        "{name}发生生产安全事故",
        "车间发生机械伤害事故，{workers}名职工受伤送医。",
    ),
    (IncidentCategory.OTHER, "{name}负责人失联", "企业负责人联系不上，{workers}名职工工资无着落。"),
)
RISK_RULE = {"weight_no_union": 10, "weight_no_contract": 5, "threshold_yellow": 25, "threshold_orange": 50}


def _incidents(rng: random.Random, count: int, now: datetime.datetime) -> list[Incident]:
    """Incidents over the last two years (a few this week): most reported within the hour, some late; the old
    ones closed, the recent ones still being handled."""
    ids = list(Enterprise.objects.order_by("pk").values_list("pk", flat=True))
    if not ids:
        return []
    picked = [rng.choice(ids) for _ in range(count)]
    info = {}
    for start in range(0, len(picked), 900):
        chunk = sorted(set(picked[start : start + 900]))
        info.update(
            (pk, (name, unit_id, parent_id))
            for pk, name, unit_id, parent_id in Enterprise.objects.filter(pk__in=chunk).values_list(
                "pk", "name", "org_unit_id", "org_unit__parent_id"
            )
        )
    limit = services.incident_limit_hours()
    rows = []
    for index, enterprise_id in enumerate(picked):
        name, unit_id, parent_id = info[enterprise_id]
        category, title, description = INCIDENT_STORIES[rng.randrange(len(INCIDENT_STORIES))]
        workers = rng.choice((12, 20, 35, 60, 80, 150))
        age = datetime.timedelta(days=rng.randint(0, 6) if index >= count - 4 else rng.randint(7, 720))
        known = now - age - datetime.timedelta(minutes=rng.randint(0, 600))
        delay = datetime.timedelta(minutes=rng.choice((8, 15, 25, 40, 55, 90)))
        if rng.random() < 0.15:
            delay = datetime.timedelta(minutes=rng.randint(limit * 60 + 5, limit * 60 + 480))  # 迟报
        reported = min(known + delay, now)
        old = age.days > 14
        status = (
            IncidentStatus.CLOSED
            if old
            else rng.choice((IncidentStatus.REPORTED, IncidentStatus.ACKNOWLEDGED))
        )
        rows.append(
            Incident(
                unit_id=unit_id,
                enterprise_id=enterprise_id,
                category=category,
                title=title.format(name=name[:20], workers=workers)[:100],
                description=description.format(workers=workers),
                workers_involved=workers,
                occurred_at=known - datetime.timedelta(minutes=rng.randint(5, 120)),
                known_at=known,
                reported_at=reported,
                limit_hours=limit,
                late=reported - known > datetime.timedelta(hours=limit),
                reporter_unit_id=rng.choice((unit_id, parent_id or unit_id)),
                source=WarningSource.WEB,
                status=status,
                acknowledged_at=reported + datetime.timedelta(minutes=rng.randint(3, 40))
                if status != IncidentStatus.REPORTED
                else None,
                closed_at=reported + datetime.timedelta(days=rng.randint(1, 6)) if old else None,
                outcome="经区总工会协调，企业与职工代表协商达成一致，事态平息。" if old else "",
            )
        )
    rows.sort(key=lambda incident: incident.reported_at)
    return rows


def _incidents_and_rule(*, seed: int, scale: str) -> dict[str, int]:
    """Urgent incidents (bulk), the duty officers told of the latest few (bulk notifications), the city's risk
    rule saved through its service."""
    from safetynet.cases.models import Notification

    city = OrgUnit.objects.filter(parent__isnull=True).order_by("pk").first()
    if city is None:
        return {}
    rng = random.Random(f"incidents-{seed}")
    now = timezone.now().replace(second=0, microsecond=0)
    with transaction.atomic():
        incidents = Incident.objects.bulk_create(
            _incidents(rng, INCIDENTS.get(scale, INCIDENTS["small"]), now), batch_size=BATCH
        )
        latest = incidents[-3:]
        units = {
            pk: path
            for pk, path in OrgUnit.objects.filter(pk__in={i.unit_id for i in latest}).values_list(
                "pk", "path"
            )
        }
        duty_ids = {int(part) for path in units.values() for part in path.split(PATH_SEPARATOR) if part}
        duty = {
            pk
            for pk in OrgUnit.objects.filter(pk__in=duty_ids, level__in=services.DUTY_LEVELS).values_list(
                "pk", flat=True
            )
        }
        officers = services.duty_officers_of(duty)
        notes = []
        for incident in latest:
            incident.unit = OrgUnit.objects.get(pk=incident.unit_id)
            above = {int(part) for part in units[incident.unit_id].split(PATH_SEPARATOR) if part} & duty
            told = {user.pk: user for unit_id in above for user, _phone in officers.get(unit_id, [])}
            text = services.incident_message(incident)[:300]
            notes += [
                Notification(
                    recipient=user,
                    text=text,
                    link=f"/reporting/incidents/{incident.pk}/",
                    created_at=incident.reported_at,
                )
                for user in told.values()
            ]
            incident.notified = len(told)
        Notification.objects.bulk_create(notes, batch_size=BATCH)
        Incident.objects.bulk_update(latest, ["notified"])
        audit_record(
            actor=None,
            action=AuditAction.IMPORT,
            instance=city,
            changes={"突发事件": [None, len(incidents)]},
            unit_path=city.path,
            note=f"载入演示突发事件（规模 {scale}，种子 {seed}）",
        )
        services.riskrule_update(actor=None, values=RISK_RULE)
    return {"突发事件": len(incidents), "迟报": sum(1 for i in incidents if i.late)}
