"""Test data for assistance, built through the services (actor None = the system)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from safetynet.assistance import services
from safetynet.assistance.models import (
    Application,
    DiscountBase,
    HardshipFile,
    Loan,
    Payment,
    PaymentBatch,
    ProgrammeKind,
    Round,
)
from safetynet.members import crypto
from safetynet.members.models import Person
from safetynet.members.services import person_create
from safetynet.members.tests.factories import make_id_number
from safetynet.orgs.models import OrgLevel, OrgUnit

DAY = datetime.date(2012, 12, 10)
_names = iter(f"困难职工{i:04d}" for i in range(1, 100000))
_numbers = iter(range(100, 999))


def make_person(n: int | None = None, *, name: str | None = None, address: str = "210202") -> Person:
    """A registered person; without ``n`` a fresh sequence code (100–998) so persons never collide."""
    for _ in range(900):
        number = make_id_number(n if n is not None else next(_numbers), address=address)
        if n is not None or not Person.objects.filter(id_number_hash=crypto.lookup_hash(number)).exists():
            break
    return person_create(actor=None, name=name or next(_names)[:50], id_number=number)


def make_threshold(unit: OrgUnit, year: int = 2012, amount: str = "800.00") -> Any:
    return services.threshold_set(actor=None, org_unit=unit, year=year, monthly_per_head=amount)


def make_file(
    unit: OrgUnit,
    *,
    person: Person | None = None,
    n: int | None = None,
    household_size: int = 3,
    monthly_income: str = "1500.00",
    opened_on: datetime.date = datetime.date(2012, 3, 1),
    causes: str = "illness",
    actor: Any = None,
) -> HardshipFile:
    return services.hardship_file_open(
        actor=actor,
        person=person or make_person(n),
        org_unit=unit,
        household_size=household_size,
        monthly_income=monthly_income,
        causes=causes,
        opened_on=opened_on,
    )


def make_round(
    city: Any,
    *,
    budget: str = "100000.00",
    shares: dict[OrgUnit, str] | None = None,
    standard_amount: str | None = "500.00",
    kind: str = ProgrammeKind.WINTER_RELIEF,
    year: int = 2012,
    levels: tuple[int, ...] = (OrgLevel.STREET, OrgLevel.DISTRICT),
    window: tuple[datetime.date, datetime.date] = (datetime.date(2012, 12, 1), datetime.date(2012, 12, 31)),
    **extra: Any,
) -> Round:
    """A city round with a split to 中山区 and its street (defaults) and thresholds for both districts."""
    for district in (city.zhongshan, city.xigang):
        if services.threshold_for(district, year) is None:
            make_threshold(district, year)
    round_ = services.round_create(
        actor=None,
        kind=kind,
        year=year,
        title=extra.pop("title", f"{year} 年{dict(ProgrammeKind.choices)[kind]}"),
        org_unit=city.city,
        window_opens=window[0],
        window_closes=window[1],
        standard_amount=standard_amount,
        budget=budget,
        review_levels=levels,
        **extra,
    )
    if shares is None:
        shares = {city.zhongshan: "50000.00", city.street_a: "20000.00", city.xigang: "30000.00"}
    ordered = sorted(shares.items(), key=lambda item: item[0].path)
    for unit, amount in ordered:
        services.budget_set(actor=None, round=round_, org_unit=unit, amount=amount)
    return round_


def approve_all_levels(application: Application, *, on: datetime.date | None = None) -> Application:
    """System votes through every level of the chain, on ``on`` (default: the day it was submitted)."""
    day = on or application.submitted_on
    while application.status == "in_review":
        application = services.application_vote(
            actor=None, application=application, decision="approve", on=day
        )
    return application


def make_application(round_: Round, hardship_file: HardshipFile, *, on: datetime.date = DAY) -> Application:
    return services.application_submit(actor=None, round=round_, hardship_file=hardship_file, on=on)


def make_noticed_application(round_: Round, hardship_file: HardshipFile) -> Application:
    """Approved through the chain and past its notice: ready to pay."""
    application = approve_all_levels(make_application(round_, hardship_file))
    application = services.application_notice_start(actor=None, application=application, on=DAY)
    return services.application_notice_end(
        actor=None, application=application, on=application.notice_until + datetime.timedelta(days=1)
    )


def make_paid_application(round_: Round, hardship_file: HardshipFile) -> Payment:
    application = make_noticed_application(round_, hardship_file)
    return services.payment_create(
        actor=None,
        application=application,
        amount=application.amount,
        on=application.notice_until + datetime.timedelta(days=2),
    )


def make_batch(round_: Round, unit: OrgUnit, files: list[HardshipFile]) -> PaymentBatch:
    for hardship_file in files:
        make_noticed_application(round_, hardship_file)
    return services.payment_batch_create(actor=None, round=round_, unit=unit, on=datetime.date(2013, 1, 10))


def make_loan(
    unit: OrgUnit, *, person: Person | None = None, principal: str = "6000.00", count: int = 6
) -> Loan:
    return services.loan_grant(
        actor=None,
        person=person or make_person(),
        org_unit=unit,
        principal=principal,
        granted_on=datetime.date(2012, 6, 1),
        instalment_count=count,
    )


def make_base(unit: OrgUnit, *, name: str = "友好社区卫生服务站", kind: str = "hospital") -> DiscountBase:
    return services.discount_base_create(
        actor=None,
        org_unit=unit,
        name=name,
        kind=kind,
        address="大连市中山区友好街 1 号",
        discount="会员凭卡挂号费全免，药品九五折",
        valid_from=datetime.date(2012, 1, 1),
    )


__all__ = ["Decimal"]
