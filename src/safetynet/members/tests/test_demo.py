"""The demo workers: valid ID numbers, history without overlaps, memberships inside coverage, speed."""

from __future__ import annotations

import datetime
import time
from collections import defaultdict

import pytest
from django.db.models import Count, Q

from safetynet.core.errors import ServiceError
from safetynet.members import crypto
from safetynet.members.demo import extend_demo
from safetynet.members.models import Employment, EmploymentType, Household, MemberCard, Membership, Person
from safetynet.members.validation import validate_resident_id
from safetynet.orgs.demo import demo_load
from safetynet.orgs.models import UnionCoverage

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    """The small demo city with its workers (built once per test: the checks below share one build)."""
    started = time.perf_counter()
    demo_load(scale="small", seed=11)
    counts = extend_demo(seed=11, scale="small")
    return counts, time.perf_counter() - started


def test_small_demo_workers(demo):
    """One build, every check (the build takes most of the time)."""
    check_counts_and_speed(demo)
    check_id_numbers_are_valid_unique_and_encrypted()
    check_shares_of_migrant_and_dispatched_workers()
    check_history_has_transfers_leaves_and_no_overlaps()
    check_memberships_start_in_a_covering_union_while_employed()
    check_membership_rates_differ_by_district()
    with pytest.raises(ServiceError):
        extend_demo(seed=11, scale="small")


def check_counts_and_speed(demo):
    counts, seconds = demo
    assert counts["职工"] == Person.objects.count() > 10_000
    assert counts["会员关系"] == Membership.objects.count() > counts["职工"] * 0.5
    assert counts["用工记录"] == Employment.objects.count() > counts["职工"]
    assert counts["会员服务卡"] == MemberCard.objects.count() > 0
    assert seconds < 60, seconds


def check_id_numbers_are_valid_unique_and_encrypted():
    sample = list(Person.objects.order_by("?")[:300])
    for person in sample:
        number = crypto.decrypt(person.id_number_encrypted)
        info = validate_resident_id(number)
        assert info.birth_date == person.birth_date and info.sex == person.sex
        assert person.id_number_hash == crypto.lookup_hash(number)
        assert person.id_number_masked == number[:6] + "********" + number[-4:]
    assert not Person.objects.values("id_number_hash").annotate(n=Count("pk")).filter(n__gt=1).exists()


def check_shares_of_migrant_and_dispatched_workers():
    total = Person.objects.count()
    rural = Person.objects.filter(household=Household.RURAL).count() / total
    assert 0.25 < rural < 0.45, rural
    active = Employment.objects.filter(valid_to__isnull=True)
    dispatched = active.filter(employment_type=EmploymentType.DISPATCHED).count() / active.count()
    assert 0.05 < dispatched < 0.12, dispatched


def check_history_has_transfers_leaves_and_no_overlaps():
    reasons = dict(
        Membership.objects.exclude(end_reason="").values_list("end_reason").annotate(n=Count("pk")).order_by()
    )
    assert reasons.get("transferred", 0) > 100 and reasons.get("left_job", 0) > 100
    assert Membership.objects.filter(valid_from__year__lt=2008).exists()
    by_person = defaultdict(list)
    for person_id, start, end in Membership.objects.values_list("person_id", "valid_from", "valid_to"):
        by_person[person_id].append((start, end))
    for periods in by_person.values():
        periods.sort()
        for (_, end), (start, _) in zip(periods, periods[1:], strict=False):
            assert end is not None and end <= start
    # A transfer closes one membership and opens the next the same day, keeping the member number.
    transferred = Membership.objects.filter(end_reason="transferred").order_by("pk")[:50]
    for membership in transferred:
        following = Membership.objects.get(person_id=membership.person_id, valid_from=membership.valid_to)
        assert following.member_number == membership.member_number


def check_memberships_start_in_a_covering_union_while_employed():
    for membership in Membership.objects.order_by("?")[:300]:
        day = membership.valid_from
        assert (
            UnionCoverage.objects.filter(union_id=membership.union_id)
            .filter(
                Q(valid_from__isnull=True) | Q(valid_from__lte=day),
                Q(valid_to__isnull=True) | Q(valid_to__gt=day),
            )
            .filter(
                enterprise__employments__person_id=membership.person_id,
                enterprise__employments__valid_from__lte=day,
            )
            .filter(
                Q(enterprise__employments__valid_to__isnull=True)
                | Q(enterprise__employments__valid_to__gt=day)
            )
            .exists()
        ), membership.pk


def check_membership_rates_differ_by_district():
    """Active employments at unionised enterprises on 2012-12-31 whose person is a member then, by district."""
    day = datetime.date(2012, 12, 31)
    active = Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gt=day))
    members = set(Membership.objects.filter(active).values_list("person_id", flat=True))
    covered = set(
        UnionCoverage.objects.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=day))
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=day))
        .values_list("enterprise_id", flat=True)
    )
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    rows = Employment.objects.filter(active).values_list(
        "person_id", "enterprise_id", "enterprise__org_unit__code"
    )
    for person_id, enterprise_id, code in rows:
        if enterprise_id in covered:
            totals[code[:6]][0] += 1
            totals[code[:6]][1] += person_id in members
    rates = {code: m / n for code, (n, m) in totals.items() if n >= 200}
    assert len(rates) >= 5
    assert max(rates.values()) - min(rates.values()) > 0.1, rates
    assert 0.5 < sum(m for _, m in totals.values()) / sum(n for n, _ in totals.values()) < 0.95
