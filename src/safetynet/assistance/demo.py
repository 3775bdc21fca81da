"""The assistance part of the demo city (found by core.demo.extend_demo; no hook to add): thresholds, hardship
files for registered workers (city scale: about 2,000 per district), the 2013 送温暖 round with its budget split
to districts and streets, the focus street's applications reviewed through street and district, publicly
noticed and paid by a bank batch, a 2012 金秋助学 round, interest-free loans (one with an overdue instalment)
and member discount bases. Set-based: the files in bulk, the batch application through its set-based service.
Loads once (skipped when files exist)."""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db import transaction

from safetynet.assistance import services
from safetynet.assistance.models import (
    ApplicationStatus,
    Budget,
    Cause,
    CloseReason,
    DiscountBase,
    FileStatus,
    HardshipFile,
    IncomeThreshold,
)
from safetynet.orgs.models import OrgLevel, OrgUnit

FILES_PER_DISTRICT = {"small": 40, "city": 2000, "city3": 6000}
FOCUS_DISTRICT = "210202"
STANDARD = Decimal("500.00")
D = datetime.date
BASES = (
    ("hospital", "{name}职工医院", "会员凭服务卡挂号费全免，检查费九折"),
    ("pharmacy", "{name}惠民大药房", "会员凭服务卡购药九五折"),
    ("shop", "{name}职工超市", "会员凭服务卡购物九八折"),
)


def extend_demo(*, seed: int, scale: str) -> dict[str, int]:
    if HardshipFile.objects.exists() or not OrgUnit.objects.filter(level=OrgLevel.DISTRICT).exists():
        return {}
    rng = random.Random(seed * 7919 + 14)
    counts: dict[str, int] = {}
    with transaction.atomic():
        counts["困难标准"] = _thresholds()
        counts["困难档案"] = _files(rng, FILES_PER_DISTRICT.get(scale, 40))
        counts.update(_winter_round(rng))
        counts.update(_student_round(rng))
        counts["小额无息借款"] = _loans(rng)
        counts["会员服务基地"] = _bases()
    return counts


def _districts() -> list[OrgUnit]:
    return list(OrgUnit.objects.filter(level=OrgLevel.DISTRICT).order_by("code"))


def _thresholds() -> int:
    rows = [
        IncomeThreshold(org_unit=district, year=year, monthly_per_head=amount)
        for district in _districts()
        for year, amount in ((2012, Decimal("800.00")), (2013, Decimal("850.00")))
    ]
    IncomeThreshold.objects.bulk_create(rows)
    return len(rows)


def _files(rng: random.Random, per_district: int) -> int:
    """Files for workers employed in each district, at their enterprise's unit (district, street or community)."""
    from safetynet.members.models import Employment

    causes = list(Cause.values)
    taken: set[int] = set()
    files = []
    for district in _districts():
        candidates = list(
            Employment.objects.filter(enterprise__org_unit__path__startswith=district.path)
            .order_by("pk")
            .values_list("person_id", "person__id_number_hash", "enterprise__org_unit_id")[: per_district * 3]
        )
        rng.shuffle(candidates)
        chosen = 0
        for person_id, key, unit_id in candidates:
            if chosen >= per_district or person_id in taken:
                continue
            taken.add(person_id)
            chosen += 1
            size = rng.choice((1, 2, 3, 3, 3, 4, 4, 5))
            # most households below the 800/850 threshold, some above (not eligible)
            per_head = Decimal(rng.randint(250, 950 if rng.random() < 0.85 else 1400))
            income = per_head * size + Decimal(rng.randint(0, 99)) / 100
            opened = D(2010, 1, 1) + datetime.timedelta(days=rng.randint(0, 1060))
            closed = None
            if rng.random() < 0.12:
                closed = D(2012, 1, 1) + datetime.timedelta(days=rng.randint(0, 330))
                closed = max(closed, opened + datetime.timedelta(days=30))
            picked = rng.sample(causes, rng.choice((1, 1, 2)))
            files.append(
                HardshipFile(
                    person_id=person_id,
                    org_unit_id=unit_id,
                    household_key=key,
                    household_size=size,
                    monthly_income=income,
                    income_per_head=services.income_per_head(income, size),
                    threshold=Decimal("800.00"),
                    causes=",".join(picked),
                    level="extreme" if per_head < 400 else "general",
                    status=FileStatus.CLOSED
                    if closed
                    else rng.choice((FileStatus.OPEN, FileStatus.REVIEWED)),
                    opened_on=opened,
                    closed_on=closed,
                    close_reason=rng.choice(CloseReason.values) if closed else "",
                    reviewed_on=opened + datetime.timedelta(days=20),
                    review_due_on=services._one_year_later(opened + datetime.timedelta(days=20)),
                )
            )
    HardshipFile.objects.bulk_create(files, batch_size=2000)
    return len(files)


def _split(round_: Any, total_per_file: Decimal) -> int:
    """Budget: each district and street gets its open files' worth plus a fifth; the city the sum."""
    on = round_.window_opens
    paths = list(
        HardshipFile.objects.filter(closed_on__isnull=True, opened_on__lte=on).values_list(
            "org_unit__path", flat=True
        )
    )
    units = {u.pk: u for u in OrgUnit.objects.filter(level__in=(OrgLevel.DISTRICT, OrgLevel.STREET))}
    per_unit: dict[int, int] = defaultdict(int)
    for path in paths:
        for part in path.split("/"):
            if part and int(part) in units:
                per_unit[int(part)] += 1
    rows = [
        Budget(
            round=round_,
            org_unit_id=unit_id,
            amount=(total_per_file * count * Decimal("1.2")).quantize(Decimal("1")),
        )
        for unit_id, count in per_unit.items()
    ]
    districts_total = sum(
        (row.amount for row in rows if units[row.org_unit_id].level == OrgLevel.DISTRICT), Decimal(0)
    )
    Budget.objects.filter(round=round_, org_unit=round_.org_unit).update(amount=districts_total)
    Budget.objects.bulk_create(rows)
    return len(rows) + 1


def _focus_street() -> OrgUnit | None:
    return (
        OrgUnit.objects.filter(level=OrgLevel.STREET, code__startswith=FOCUS_DISTRICT)
        .order_by("code")
        .first()
    )


def _winter_round(rng: random.Random) -> dict[str, int]:
    city = OrgUnit.objects.filter(parent__isnull=True).order_by("pk").first()
    round_ = services.round_create(
        actor=None,
        kind="winter_relief",
        year=2013,
        title="2013 年“送温暖”活动",
        org_unit=city,
        window_opens=D(2012, 12, 1),
        window_closes=D(2013, 1, 31),
        standard_amount=STANDARD,
        budget="0",
        review_levels=(OrgLevel.STREET, OrgLevel.DISTRICT),
    )
    budgets = _split(round_, STANDARD)
    street = _focus_street()
    counts = {"帮扶预算": budgets}
    if street is None:
        return counts
    outcome = services.application_submit_batch(actor=None, round=round_, unit=street, on=D(2012, 12, 10))
    counts["帮扶申请"] = outcome.created
    from safetynet.assistance.models import Application

    ids = list(
        Application.objects.filter(round=round_, org_unit__path__startswith=street.path)
        .order_by("pk")
        .values_list("pk", flat=True)[:40]
    )
    paid_unit = None
    for index, pk in enumerate(ids):
        application = Application(pk=pk)
        # street review two days after the batch, district review two days later, before the notice
        application = services.application_vote(
            actor=None, application=application, decision="approve", on=D(2012, 12, 12)
        )
        if index % 10 == 9:
            services.application_vote(
                actor=None,
                application=application,
                decision="reject",
                reason="家庭收入已超过标准",
                on=D(2012, 12, 14),
            )
            continue
        application = services.application_vote(
            actor=None, application=application, decision="approve", on=D(2012, 12, 14)
        )
        if index < 30:
            application = services.application_notice_start(
                actor=None, application=application, on=D(2012, 12, 20)
            )
            if index < 25:
                services.application_notice_end(actor=None, application=application, on=D(2012, 12, 27))
                paid_unit = street
    if paid_unit is not None:
        batch = services.payment_batch_create(actor=None, round=round_, unit=paid_unit, on=D(2012, 12, 28))
        services.payment_batch_mark_paid(actor=None, batch=batch, paid_on=D(2013, 1, 5))
        counts["帮扶发放"] = batch.payments.count()
    return counts


def _student_round(rng: random.Random) -> dict[str, int]:
    city = OrgUnit.objects.filter(parent__isnull=True).order_by("pk").first()
    round_ = services.round_create(
        actor=None,
        kind="student_aid",
        year=2012,
        title="2012 年“金秋助学”",
        org_unit=city,
        window_opens=D(2012, 8, 1),
        window_closes=D(2012, 9, 30),
        min_amount="1000",
        max_amount="3000",
        budget="200000",
        review_levels=(OrgLevel.STREET, OrgLevel.DISTRICT),
    )
    district = OrgUnit.objects.filter(code=FOCUS_DISTRICT).first() or _districts()[0]
    services.budget_set(actor=None, round=round_, org_unit=district, amount="100000")
    files = list(
        HardshipFile.objects.within(district.path)
        .filter(
            closed_on__isnull=True,
            opened_on__lte=D(2012, 8, 1),
            causes__contains="schooling",
            income_per_head__lt=Decimal("800"),
        )
        .select_related("person", "org_unit")[:12]
    )
    schools = ("大连理工大学", "辽宁师范大学", "大连海事大学", "东北财经大学")
    created = 0
    for index, hardship_file in enumerate(files):
        application = services.application_submit(
            actor=None,
            round=round_,
            hardship_file=hardship_file,
            on=D(2012, 8, 20),
            amount=Decimal(rng.choice((1000, 2000, 3000))),
            student_name=hardship_file.person.name[0] + "同学",
            school=schools[index % len(schools)],
            reason="子女考入大学，家庭无力负担学费",
            attachments=[("admission", _letter(index))],
        )
        created += 1
        if index < 8:
            for day in (D(2012, 8, 24), D(2012, 8, 28)):  # street, then district; the notice starts 9-3
                application = services.application_vote(
                    actor=None, application=application, decision="approve", on=day
                )
        if index < 5:
            application = services.application_notice_start(
                actor=None, application=application, on=D(2012, 9, 3)
            )
            application = services.application_notice_end(
                actor=None, application=application, on=D(2012, 9, 12)
            )
            services.payment_create(
                actor=None, application=application, amount=application.amount, on=D(2012, 9, 14)
            )
    return {"金秋助学申请": created}


def _letter(index: int) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(
        f"录取通知书{index + 1}.pdf", b"%PDF-1.4\n% demo admission letter\n", "application/pdf"
    )


def _loans(rng: random.Random) -> int:
    district = OrgUnit.objects.filter(code=FOCUS_DISTRICT).first() or _districts()[0]
    files = list(
        HardshipFile.objects.within(district.path)
        .filter(closed_on__isnull=True)
        .select_related("person", "org_unit")[:10]
    )
    for index, hardship_file in enumerate(files):
        loan = services.loan_grant(
            actor=None,
            person=hardship_file.person,
            org_unit=hardship_file.org_unit,
            hardship_file=hardship_file,
            principal=Decimal(rng.choice((6000, 12000, 20000))),
            granted_on=D(2012, 1, 15),
            instalment_count=12,
            purpose=rng.choice(("开办小卖部", "购置修理工具", "子女学费周转")),
        )
        instalments = list(loan.instalments.order_by("number"))
        # the first loan misses its October instalment (overdue on the officer's list); others keep up
        paid_until = D(2012, 9, 30) if index == 0 else D(2012, 12, 31)
        for instalment in instalments:
            if instalment.due_on <= paid_until:
                services.loan_repay(
                    actor=None, loan=loan, amount=instalment.amount, paid_on=instalment.due_on
                )
    return len(files)


def _bases() -> int:
    rows = []
    city = OrgUnit.objects.filter(parent__isnull=True).order_by("pk").first()
    for unit in [city, *_districts()]:
        short = unit.name.removesuffix("市").removesuffix("区")
        for kind, name, discount in BASES:
            rows.append(
                DiscountBase(
                    name=name.format(name=short)[:100],
                    kind=kind,
                    address=f"{unit.name}人民路 {len(rows) + 1} 号",
                    discount=discount,
                    valid_from=D(2012, 1, 1),
                    org_unit=unit,
                )
            )
    DiscountBase.objects.bulk_create(rows)
    return len(rows)


__all__ = ["ApplicationStatus", "extend_demo"]
