"""The counters kept as dated steps (indicators/counters.py) answer exactly what the definitional engine
answers, on random histories: headcounts crossing the threshold, unions founded and dissolved, coverages
starting late, enterprises moving between units and deregistering, contracts, visits, and random employments
and memberships — for random days, in both hierarchies."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from safetynet.indicators import counters
from safetynet.indicators.engine import AS_OF, TODAY, compute, grouped_counts_sql
from safetynet.indicators.engine import _facts as engine_facts
from safetynet.indicators.engine import _group_expression as group_expression
from safetynet.indicators.tests.histories import person_strategy
from safetynet.members.models import Employment, EmploymentSpan, Membership, Person
from safetynet.members.spans import employment_spans_rebuild
from safetynet.orgs.models import EnterpriseHeadcount, EnterpriseLocation, UnionCoverage
from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory
from safetynet.visits.models import Visit

START = datetime.date(2012, 1, 1)


def _day(offset: int) -> datetime.date:
    return START + datetime.timedelta(days=offset)


def _figures(rows):
    return {(r.unit, r.indicator): (r.numerator, r.denominator) for r in rows}


def _joined(rows) -> list[tuple]:
    """Unit runs as (hierarchy, population, unit, from, to, counts), each key's consecutive runs of equal counts
    joined: the step functions, whatever the cuts."""
    joined: list[list] = []
    for row in sorted(rows, key=lambda r: (r.hierarchy, r.population, r.unit_id, r.valid_from)):
        key = (row.hierarchy, row.population, row.unit_id)
        last = joined[-1] if joined else None
        if last and tuple(last[:3]) == key and last[4] == row.valid_from and last[5] == bytes(row.counts):
            last[4] = row.valid_to
        else:
            joined.append([*key, row.valid_from, row.valid_to, bytes(row.counts)])
    return [tuple(row) for row in joined]


def _assert_cut_by_month() -> None:
    """No closed unit run spans the first day of a month: the day's read looks only at runs starting in the
    day's own month (``counters.unit_counts_on``)."""
    from safetynet.indicators.models import UnitCounts

    for row in UnitCounts.objects.filter(valid_to__isnull=False):
        assert row.valid_to <= counters._next_month(row.valid_from), str(row)


@pytest.fixture
def floor(city):
    a = EnterpriseFactory(org_unit=city.community_a, name="甲厂", founded_on=_day(0))
    b = EnterpriseFactory(org_unit=city.street_b, name="乙厂", founded_on=_day(0))
    c = EnterpriseFactory(org_unit=city.community_a, name="丙厂", founded_on=_day(0))
    union_a = UnionFactory(org_unit=city.community_a, enterprises=[a, c], name="甲厂工会", founded_on=_day(0))
    union_b = UnionFactory(org_unit=city.street_b, enterprises=[b], name="乙厂工会", founded_on=_day(0))
    return [a, b, c], [union_a, union_b]


person = person_strategy(800)
history = st.fixed_dictionaries(
    {
        # the day 乙厂's headcount falls under the threshold (None: never)
        "shrinks": st.one_of(st.none(), st.integers(1, 900)),
        # the day 丙厂 moves to 乙厂's street
        "moves": st.one_of(st.none(), st.integers(1, 900)),
        # the day 甲厂工会 is dissolved
        "dissolved": st.one_of(st.none(), st.integers(1, 900)),
        # the day 丙厂's coverage starts (it is covered from the start otherwise)
        "covered_from": st.one_of(st.none(), st.integers(1, 900)),
        "deregistered": st.one_of(st.none(), st.integers(1, 900)),
        "visits": st.lists(st.tuples(st.integers(0, 2), st.integers(0, 900)), max_size=3),
    }
)


def _apply(enterprises, unions, city, spec, persons) -> None:
    a, b, c = enterprises
    if spec["shrinks"] is not None:
        EnterpriseHeadcount.objects.filter(enterprise=b).update(valid_to=_day(spec["shrinks"]))
        EnterpriseHeadcount.objects.create(enterprise=b, valid_from=_day(spec["shrinks"]), headcount=3)
    if spec["moves"] is not None:
        EnterpriseLocation.objects.filter(enterprise=c).update(valid_to=_day(spec["moves"]))
        EnterpriseLocation.objects.create(
            enterprise=c, valid_from=_day(spec["moves"]), org_unit=city.street_b
        )
        c.org_unit = city.street_b
        c.save(update_fields=["org_unit"])
    if spec["dissolved"] is not None:
        unions[0].dissolved_on = _day(spec["dissolved"])
        unions[0].save(update_fields=["dissolved_on"])
    if spec["covered_from"] is not None:
        UnionCoverage.objects.filter(enterprise=c).update(valid_from=_day(spec["covered_from"]))
    if spec["deregistered"] is not None:
        a.deregistered_on = _day(spec["deregistered"])
        a.save(update_fields=["deregistered_on"])
    for index, offset in spec["visits"]:
        Visit.objects.create(enterprise=enterprises[index], visited_on=_day(offset), findings="走访")
    EmploymentSpan.objects.all().delete()
    Person.objects.all().delete()
    for n, p in enumerate(persons):
        worker = Person.objects.create(
            name=f"职工{n}", id_number_hash=f"counters-{n}", household="rural" if p["rural"] else "urban"
        )
        begin, length = p["employment"]
        enterprise = enterprises[p["enterprise"]]
        Employment.objects.create(
            person=worker,
            enterprise=enterprise,
            valid_from=_day(begin),
            valid_to=None if length is None else _day(begin + length),
            employment_type="dispatched" if p["dispatched"] else "labour_contract",
        )
        if p["membership"] is not None:
            begin, length = p["membership"]
            Membership.objects.create(
                person=worker,
                union=unions[1] if p["enterprise"] == 1 else unions[0],
                valid_from=_day(begin),
                valid_to=None if length is None else _day(begin + length),
            )
    employment_spans_rebuild()


@pytest.mark.django_db
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    spec=history,
    persons=st.lists(person, max_size=6),
    offsets=st.lists(st.integers(-10, 1000), min_size=1, max_size=4),
)
@example(
    spec={
        "shrinks": 100,
        "moves": 200,
        "dissolved": 300,
        "covered_from": 50,
        "deregistered": 400,
        "visits": [(0, 10), (2, 380)],
    },
    persons=[
        {
            "enterprise": 2,
            "rural": True,
            "dispatched": False,
            "employment": (0, None),
            "membership": (20, None),
        },
        {"enterprise": 1, "rural": False, "dispatched": True, "employment": (0, 150), "membership": (0, 100)},
        {
            "enterprise": 0,
            "rural": True,
            "dispatched": True,
            "employment": (10, 500),
            "membership": (10, None),
        },
    ],
    offsets=[0, 50, 100, 200, 300, 366, 400, 1000],
)
def test_counters_equal_the_engine_on_random_histories(floor, city, spec, persons, offsets):
    enterprises, unions = floor
    # Each example starts from the fixture's world: its changes are rolled back.
    with transaction.atomic():
        for row in [*enterprises, *unions]:
            row.refresh_from_db()
        _apply(enterprises, unions, city, spec, persons)
        counters.counters_rebuild()
        _assert_cut_by_month()
        for day in {_day(offset) for offset in offsets}:
            assert counters.counters_ready(day)
            for hierarchy in (AS_OF, TODAY):
                assert _figures(counters.counters_compute(day=day, hierarchy=hierarchy).rows()) == _figures(
                    compute(day=day, hierarchy=hierarchy, counters=False)
                ), (day, hierarchy)
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_the_counters_count_what_was_there(floor, city):
    """Not only equal: the example history gives the figures worked out by hand."""
    enterprises, unions = floor
    spec = {
        "shrinks": None,
        "moves": None,
        "dissolved": None,
        "covered_from": 50,
        "deregistered": None,
        "visits": [],
    }
    persons = [
        {
            "enterprise": 2,
            "rural": True,
            "dispatched": False,
            "employment": (0, None),
            "membership": (20, None),
        },
        {"enterprise": 0, "rural": False, "dispatched": False, "employment": (0, None), "membership": None},
    ]
    _apply(enterprises, unions, city, spec, persons)
    counters.counters_rebuild()
    district = city.community_a.parent.parent.code
    early = _figures(counters.counters_compute(day=_day(30), unit_code=district).rows())
    late = _figures(counters.counters_compute(day=_day(60), unit_code=district).rows())
    # 甲厂 and 丙厂 are in the district; 丙厂 is covered from day 50 only.
    assert early[(district, "union_rate")] == (1, 2)
    assert late[(district, "union_rate")] == (2, 2)
    # Day 30: only 甲厂's worker counts (not a member); day 60: 丙厂's member too.
    assert early[(district, "membership_rate")] == (0, 1)
    assert late[(district, "membership_rate")] == (1, 2)
    assert late[(district, "migrant_membership_rate")] == (1, 1)


@pytest.mark.django_db
def test_check_command_agrees_and_refuses_unbuilt_counters(floor, city, capsys):
    with pytest.raises(CommandError, match="--rebuild-counters"):
        call_command("indicators", "--check", "--as-of", "2013-01-01")
    call_command("indicators", "--rebuild-counters", "--check", "--as-of", "2013-01-01")
    out = capsys.readouterr().out
    assert "计数器已重建" in out and "一致" in out
    # A stale layout (another definition) is not used.
    counters.CounterLayout.objects.update(version="other")
    assert not counters.counters_ready(datetime.date(2013, 1, 1))


@pytest.mark.django_db
def test_every_write_is_noted_and_the_next_answer_takes_it_in(floor, city):
    """Triggers note the enterprises a write touches (directly, or through a union that covers them); the
    next answer refreshes their counters and equals the engine's."""
    from safetynet.indicators.models import CounterDirty

    enterprises, unions = floor
    a, b, c = enterprises
    _apply(enterprises, unions, city, {**EMPTY, "covered_from": 50}, [])
    counters.counters_rebuild()
    day = _day(400)
    assert _figures(compute(day=day)) == _figures(compute(day=day, counters=False))

    # A union dissolved (a row of another table than the enterprise's): both enterprises it covers are noted.
    unions[0].dissolved_on = _day(300)
    unions[0].save(update_fields=["dissolved_on"])
    assert set(CounterDirty.objects.values_list("enterprise_id", flat=True)) == {a.pk, c.pk}
    district = city.community_a.parent.parent.code
    assert _figures(compute(day=day, unit_code=district))[(district, "union_rate")] == (0, 2)
    assert not CounterDirty.objects.exists()

    # A late roster row: an employment and a membership, and the person's spans rebuilt.
    worker = Person.objects.create(name="职工", id_number_hash="late-1", household="rural")
    Employment.objects.create(person=worker, enterprise=b, valid_from=_day(10))
    Membership.objects.create(person=worker, union=unions[1], valid_from=_day(20))
    employment_spans_rebuild(person_ids=[worker.pk])
    assert CounterDirty.objects.filter(enterprise_id=b.pk).exists()
    # A headcount correction far in the past, and a visit.
    EnterpriseHeadcount.objects.filter(enterprise=a).update(headcount=5)
    Visit.objects.create(enterprise=c, visited_on=_day(370), findings="走访")
    for offset in (15, 25, 300, 370, 400):
        for hierarchy in (AS_OF, TODAY):
            assert _figures(compute(day=_day(offset), hierarchy=hierarchy)) == _figures(
                compute(day=_day(offset), hierarchy=hierarchy, counters=False)
            ), (offset, hierarchy)
    street_b = city.street_b.code
    assert _figures(compute(day=_day(25), unit_code=street_b))[(street_b, "membership_rate")] == (1, 1)


# Committed for real: the hooks run once per transaction, so in a test's own transaction the set-up's audited
# writes would already hold the one pending run.
@pytest.mark.django_db(transaction=True)
def test_a_service_write_is_taken_in_at_the_writers_cost(floor, city, make_staff):
    """A correction through a service (a union's founding date moved later): once its transaction commits,
    the writer's own call has refreshed the counters (nothing is left noted for the next reader) and they
    equal the engine."""
    from safetynet.indicators.models import CounterDirty
    from safetynet.orgs.services import union_update

    enterprises, unions = floor
    _apply(enterprises, unions, city, {**EMPTY, "covered_from": 50}, [])
    counters.counters_rebuild()
    admin = make_staff("city-admin", city.city, "city_admin")
    union_update(actor=admin, union=unions[1], data={"founded_on": _day(100)})
    assert not CounterDirty.objects.exists()
    for offset in (50, 150, 400):
        for hierarchy in (AS_OF, TODAY):
            assert _figures(compute(day=_day(offset), hierarchy=hierarchy)) == _figures(
                compute(day=_day(offset), hierarchy=hierarchy, counters=False)
            ), (offset, hierarchy)
    street_b = city.street_b.code
    assert _figures(compute(day=_day(50), unit_code=street_b))[(street_b, "union_rate")] == (0, 1)
    assert _figures(compute(day=_day(150), unit_code=street_b))[(street_b, "union_rate")] == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_a_roster_import_leaves_its_refresh_to_the_worker_and_every_answer_stays_exact(floor, city, tmp_path):
    """An import does not wait for the counters (``core.writes``, background): it commits, enqueues the hooks
    and returns with its enterprise still noted. A reader before the worker takes it in itself; the worker's
    run then finds nothing left, and after a second import the worker's run alone brings the counters up."""
    from django_tasks_db.models import DBTaskResult

    from safetynet.core.tasks import after_write_hooks_run
    from safetynet.indicators.models import CounterDirty
    from safetynet.members.tests.factories import make_id_number

    enterprises, unions = floor
    _apply(enterprises, unions, city, EMPTY, [])
    counters.counters_rebuild()
    header = "姓名,身份证号,用工形式,企业统一社会信用代码,入职日期,离职日期,入会日期"

    def roster(first: int, hired: int) -> str:
        path = tmp_path / f"roster-{first}.csv"
        lines = [
            f"职工{n},{make_id_number(n)},劳动合同,{enterprises[0].credit_code},{_day(hired + n)},,{_day(hired + n)}"
            for n in range(first, first + 5)
        ]
        path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
        return str(path)

    def waiting() -> int:
        return DBTaskResult.objects.filter(
            status="READY", task_path=after_write_hooks_run.module_path
        ).count()

    call_command("import", "members", roster(1, 10), verbosity=0)
    assert CounterDirty.objects.filter(enterprise_id=enterprises[0].pk).exists()  # the import did not refresh
    assert waiting() == 1
    for offset in (12, 30):
        assert _figures(compute(day=_day(offset))) == _figures(compute(day=_day(offset), counters=False))
    assert not CounterDirty.objects.exists()  # the reader took it in
    after_write_hooks_run.call()  # the worker: nothing left to do
    call_command("import", "members", roster(11, 40), verbosity=0)
    assert CounterDirty.objects.exists()
    after_write_hooks_run.call()  # the worker first this time
    assert not CounterDirty.objects.exists()
    for offset in (45, 60, 400):
        assert _figures(compute(day=_day(offset))) == _figures(compute(day=_day(offset), counters=False))
    street = city.community_a.code
    assert _figures(compute(day=_day(400), unit_code=street))[(street, "membership_rate")] == (10, 10)


@pytest.mark.django_db
def test_too_many_noted_changes_leave_the_answer_to_the_engine(floor, city, settings):
    enterprises, unions = floor
    counters.counters_rebuild()
    Visit.objects.create(enterprise=enterprises[0], visited_on=_day(5), findings="走访")
    assert counters.counters_refresh(limit=0) is None
    assert counters.counters_answer(day=_day(6)) is not None or counters.REFRESH_LIMIT == 0
    settings.INDICATOR_COUNTERS = False
    assert counters.counters_answer(day=_day(6)) is None


@pytest.mark.django_db
def test_a_backlog_pauses_the_refresh_of_writes_and_answers(
    floor, city, monkeypatch, django_assert_num_queries
):
    """Past ``REFRESH_LIMIT`` noted enterprises (a big import) a request's refresh is refused and this process
    does not look again for a while: writes pay nothing, the engine answers; the sweep takes it all in. Before
    the counters are built a write pays one small query."""
    enterprises, _unions = floor
    Visit.objects.create(enterprise=enterprises[0], visited_on=_day(5), findings="走访")
    with django_assert_num_queries(1):
        counters.counters_refresh_after_write()  # not built: nothing to refresh
    counters.counters_rebuild()
    Visit.objects.create(enterprise=enterprises[1], visited_on=_day(6), findings="走访")
    monkeypatch.setattr(counters, "REFRESH_LIMIT", 0)
    monkeypatch.setattr(counters, "_backlog_until", 0.0)
    assert counters.counters_answer(day=_day(7)) is None
    with django_assert_num_queries(0):
        counters.counters_refresh_after_write()
    assert counters.counters_answer(day=_day(7)) is None
    assert counters.counters_refresh(limit=None) == 1
    monkeypatch.setattr(counters, "_backlog_until", 0.0)
    assert counters.counters_answer(day=_day(7)) is not None


EMPTY = {
    "shrinks": None,
    "moves": None,
    "dissolved": None,
    "covered_from": None,
    "deregistered": None,
    "visits": [],
}


@pytest.mark.django_db
def test_the_sweep_takes_in_any_number_of_noted_changes(floor, city):
    from safetynet.core.sweep import run_sweep
    from safetynet.indicators.models import CounterDirty

    enterprises, unions = floor
    counters.counters_rebuild()
    for enterprise in enterprises:
        Visit.objects.create(enterprise=enterprise, visited_on=_day(5), findings="走访")
    results = dict(run_sweep(datetime.datetime(2026, 12, 7, 8, tzinfo=datetime.UTC)))
    assert results["indicator_counters"] == "指标计数器：3 家企业的变化已计入"
    assert not CounterDirty.objects.exists()
    assert _figures(counters.counters_compute(day=_day(6)).rows()) == _figures(
        compute(day=_day(6), counters=False)
    )


@pytest.mark.django_db(transaction=True)
def test_a_trend_from_the_counters_equals_the_engine_day_by_day(floor, city):
    # Committed data (transaction=True): the trend's two halves of days are computed on two connections of
    # their own, as on a live server, and must give each day's figures of the engine.
    from safetynet.indicators.engine import compute_days

    enterprises, unions = floor
    _apply(
        enterprises,
        unions,
        city,
        {
            "shrinks": None,
            "moves": 40,
            "dissolved": None,
            "covered_from": 50,
            "deregistered": None,
            "visits": [],
        },
        [],
    )
    counters.counters_rebuild()
    days = [_day(30), _day(45), _day(60), _day(75), _day(400)]
    for depth in (None, 1):
        together = compute_days(days=days, depth=depth)
        for day in days:
            alone = compute(day=day, counters=False)
            if depth is not None:
                alone = [row for row in alone if row.level <= alone[0].level + depth]
            assert _figures(together[day]) == _figures(alone), (day, depth)
    assert _figures(together[_day(60)])[(city.city.code, "union_rate")] == (3, 3)


@pytest.mark.django_db
def test_a_trend_from_the_counters_reads_each_years_targets_once(floor, city):
    """A trend's month ends share their targets: one read a year, each row still with its own year's target."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from safetynet.indicators.engine import compute_days
    from safetynet.indicators.models import Target

    for year, value in ((2012, "0.80"), (2013, "0.90")):
        for unit in (city.city, city.zhongshan, city.xigang):
            Target.objects.create(indicator="union_rate", org_unit=unit, year=year, value=value)
    counters.counters_rebuild()
    days = [datetime.date(2012, month, 28) for month in range(1, 13)] + [datetime.date(2013, 1, 31)]
    with CaptureQueriesContext(connection) as queries:
        together = compute_days(days=days, depth=1)
    target_reads = [q for q in queries.captured_queries if Target._meta.db_table in q["sql"]]
    assert len(target_reads) == 2  # 2012 and 2013
    for day in days:
        alone = {(r.unit, r.indicator): r.target for r in compute(day=day, counters=False)}
        rows = {(r.unit, r.indicator): r.target for r in together[day]}
        assert rows == {key: alone[key] for key in rows}, day
        assert rows[(city.zhongshan.code, "union_rate")] == (0.8 if day.year == 2012 else 0.9)


@given(st.lists(st.lists(st.integers(0, 2**40), min_size=6, max_size=6), min_size=1, max_size=50))
def test_packed_counts_add_as_the_counts_do(vectors):
    # A unit's counts are one integer of 48-bit fields: the sum of the packed rows unpacks to the sums of the
    # rows, field by field (a thousand units of counts up to 2^40 still fit in a field).
    from safetynet.indicators.engine import pack, pack_bytes, unpack

    total = sum(pack(vector) for vector in vectors)
    assert unpack(total, 6) == [sum(column) for column in zip(*vectors, strict=True)]
    assert int.from_bytes(pack_bytes(vectors[0]), "little") == pack(vectors[0])


@given(
    st.lists(st.integers(0, 2**30), min_size=4, max_size=4),
    st.lists(st.lists(st.integers(-(2**20), 2**20), min_size=4, max_size=4), max_size=10),
)
def test_packed_changes_with_negative_fields_add_as_the_vectors_do(start, changes):
    # A refresh adds changes (fields of either sign) to packed counts: packing is linear, so as long as every
    # running total is a valid count vector, the packed running total unpacks to it.
    from safetynet.indicators.engine import pack, unpack

    def signed(vector):
        return sum(value << (48 * k) for k, value in enumerate(vector))

    running, vector = pack(start), list(start)
    for change in changes:
        if any(v + c < 0 for v, c in zip(vector, change, strict=True)):
            continue
        running += signed(change)
        vector = [v + c for v, c in zip(vector, change, strict=True)]
        assert unpack(running, 4) == vector
        assert not running & counters._high_bits(4 * 6)


def test_regions_are_where_the_changes_add_up_to_something():
    d = _day
    assert counters._regions({d(1): 5, d(9): -5}) == [(d(1), d(9))]
    assert counters._regions({d(1): 5, d(4): -5, d(6): 2}) == [(d(1), d(4)), (d(6), None)]
    assert counters._regions({d(1): 0, d(3): 7, d(5): -3, d(8): -4}) == [(d(3), d(8))]
    assert counters._regions({}) == []
    # A stored run overlaps a region when any of its days lies in one.
    regions = [(d(3), d(8)), (d(20), None)]
    starts = [d(3), d(20)]
    assert counters._touches(regions, starts, (1, d(0), d(4), b""))
    assert not counters._touches(regions, starts, (1, d(0), d(3), b""))
    assert not counters._touches(regions, starts, (1, d(8), d(20), b""))
    assert counters._touches(regions, starts, (1, d(8), None, b""))
    assert counters._touches(regions, starts, (1, d(25), d(30), b""))


def test_a_count_below_zero_after_a_refresh_shows_in_the_high_bits():
    from safetynet.indicators.engine import pack

    # 5 − 6 in the first field borrows from the second: the first field is then past 2^47.
    assert pack([5, 1]) - 6 & counters._high_bits(12)
    assert not pack([5, 1]) - 5 & counters._high_bits(12)


def test_a_count_that_cannot_be_packed_is_refused():
    from safetynet.indicators.engine import pack

    with pytest.raises(OverflowError):
        pack([1, -1])
    with pytest.raises(OverflowError):
        pack([2**48])


@pytest.mark.django_db
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    first=history,
    first_persons=st.lists(person, max_size=4),
    then=history,
    then_persons=st.lists(person, max_size=4),
    offsets=st.lists(st.integers(-10, 1000), min_size=1, max_size=3),
)
def test_a_refresh_after_random_corrections_equals_the_engine(
    floor, city, first, first_persons, then, then_persons, offsets
):
    # Built on one history, then corrected by another (moves, unions dissolved, coverages, headcounts,
    # deregistration, visits, every employment and membership replaced): the refresh takes the stored runs of
    # the noted enterprises away from their units' steps and adds the new ones; the answer equals the engine's.
    enterprises, unions = floor
    with transaction.atomic():
        for row in [*enterprises, *unions]:
            row.refresh_from_db()
        _apply(enterprises, unions, city, first, first_persons)
        counters.counters_rebuild()
        # A second move or headcount change on top of the first would leave two locations (or headcounts) in
        # force on the same days, which the registry's services never write: only one of each per history.
        then = {key: None if first[key] is not None else then[key] for key in ("moves", "shrinks")} | {
            key: value for key, value in then.items() if key not in ("moves", "shrinks")
        }
        _apply(enterprises, unions, city, then, then_persons)
        for day in {_day(offset) for offset in offsets}:
            for hierarchy in (AS_OF, TODAY):
                assert counters.counters_answer(day=day, hierarchy=hierarchy) is not None
                assert _figures(compute(day=day, hierarchy=hierarchy)) == _figures(
                    compute(day=day, hierarchy=hierarchy, counters=False)
                ), (day, hierarchy)
        _assert_cut_by_month()
        transaction.set_rollback(True)


@given(
    start=st.dates(datetime.date(2000, 1, 1), datetime.date(2030, 12, 31)),
    length=st.one_of(st.none(), st.integers(1, 800)),
    limit=st.dates(datetime.date(2000, 1, 1), datetime.date(2030, 12, 31)).map(lambda d: d.replace(day=1)),
)
def test_a_run_cut_by_month_covers_the_same_days(start, length, limit):
    end = None if length is None else start + datetime.timedelta(days=length)
    pieces = list(counters._month_pieces(start, end, limit))
    # Contiguous, from the run's first day to its end.
    assert pieces[0][0] == start and pieces[-1][1] == end
    assert all(left[1] == right[0] for left, right in zip(pieces, pieces[1:], strict=False))
    # Every piece but an open one within a month; an open piece starts no earlier than the limit's month, unless
    # the run itself began later.
    for piece_from, piece_to in pieces:
        if piece_to is not None:
            assert piece_from < piece_to <= counters._next_month(piece_from)
        else:
            assert piece_from == max(start, limit) or (piece_from == start and start > limit)


def test_a_run_is_cut_at_each_first_of_the_month():
    d = datetime.date
    limit = d(2026, 12, 1)
    assert list(counters._month_pieces(d(2026, 1, 15), d(2026, 3, 2), limit)) == [
        (d(2026, 1, 15), d(2026, 2, 1)),
        (d(2026, 2, 1), d(2026, 3, 1)),
        (d(2026, 3, 1), d(2026, 3, 2)),
    ]
    # Ending on a month's first day: no empty piece after it.
    assert list(counters._month_pieces(d(2026, 1, 15), d(2026, 2, 1), limit)) == [
        (d(2026, 1, 15), d(2026, 2, 1))
    ]
    # Open: cut through the limit's month, the last piece left open.
    assert list(counters._month_pieces(d(2026, 10, 31), None, limit)) == [
        (d(2026, 10, 31), d(2026, 11, 1)),
        (d(2026, 11, 1), d(2026, 12, 1)),
        (d(2026, 12, 1), None),
    ]
    assert list(counters._month_pieces(d(2027, 3, 5), None, limit)) == [(d(2027, 3, 5), None)]


# Committed for real (transaction=True): a schema editor cannot run inside a test's transaction on SQLite.
@pytest.mark.django_db(transaction=True)
def test_the_migration_cuts_stored_runs_by_month_and_the_answers_stay(floor, city):
    """Counters stored before migration 0010 hold runs over many months: the migration cuts them in SQL by the
    same rule as the code, and the answers stay the engine's."""
    import importlib

    from django.db import connection

    from safetynet.indicators.models import UnitCounts

    migration = importlib.import_module("safetynet.indicators.migrations.0010_unit_counts_cut_by_month")
    enterprises, unions = floor
    _apply(enterprises, unions, city, {**EMPTY, "moves": 200, "covered_from": 50}, [])
    counters.counters_rebuild()
    # As the runs were stored before: each unit's consecutive runs of equal counts joined again.
    before = _joined(UnitCounts.objects.all())
    UnitCounts.objects.all().delete()
    UnitCounts.objects.bulk_create(
        UnitCounts(hierarchy=h, population=p, unit_id=u, valid_from=f, valid_to=t, counts=c)
        for h, p, u, f, t, c in before
    )
    assert any(t is not None and t > counters._next_month(f) for _, _, _, f, t, _ in before)
    assert UnitCounts.objects.filter(valid_to__isnull=True, valid_from__lt=counters._cut_limit()).exists()

    with connection.schema_editor() as editor:
        migration.cut_by_month(None, editor)
    _assert_cut_by_month()
    assert UnitCounts.objects.count() > len(before)
    assert _joined(UnitCounts.objects.all()) == before
    for offset in (0, 30, 60, 199, 200, 400, 1000):
        for hierarchy in (AS_OF, TODAY):
            assert _figures(
                counters.counters_compute(day=_day(offset), hierarchy=hierarchy).rows()
            ) == _figures(compute(day=_day(offset), hierarchy=hierarchy, counters=False)), (offset, hierarchy)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "day", [datetime.date(2012, 2, 29), datetime.date(2026, 12, 31), datetime.date(2027, 1, 1)]
)
def test_a_record_populations_statement_from_its_template_is_the_one_the_engine_builds(day):
    """The counters answer the record populations (cases, files, honours…) with statements compiled once per
    process, their parameters made from the day: for every such population, both hierarchies and days across a
    leap day and a year's turn, the text and the parameters (values and types) are what the engine's querysets
    build for that day. On PostgreSQL every one of them has a template."""
    from django.db import connection

    from safetynet.indicators.registry import registry

    reg = registry()
    templated = []
    for name, population in reg.populations.items():
        indicators = [i for i in reg.indicators.values() if i.population == name]
        if name in counters.COUNTED or not indicators:
            continue
        for hierarchy in (AS_OF, TODAY):
            facts = engine_facts(reg, population, indicators, day)
            built = grouped_counts_sql(
                population.build(day, hierarchy, None),
                facts,
                indicators,
                group_expression(None, population.enterprise_prefix),
            )
            found = counters.record_statement(population, indicators, hierarchy, day)
            if found is None:
                continue
            templated.append((name, hierarchy))
            assert found[0] == built[0], (name, hierarchy)
            assert [(type(p), p) for p in found[1]] == [(type(p), p) for p in built[1]], (name, hierarchy)
    assert templated
    if connection.vendor == "postgresql":
        assert len(templated) == 2 * len(
            [
                n
                for n in reg.populations
                if n not in counters.COUNTED and any(i.population == n for i in reg.indicators.values())
            ]
        )


@pytest.mark.django_db
def test_a_refresh_in_a_later_year_claims_no_day_it_did_not_evaluate(floor, city, monkeypatch):
    """The counters are exact up to their horizon (31 December of the year after their build): each
    enterprise's runs were evaluated on every 1 January up to it. A refresh a year later evaluates the
    enterprise it takes in a year further and moves the horizon on; the other enterprises, unchanged since the
    build, count the same past it (their facts of the build's year were reset on the last 1 January evaluated),
    so every answer up to the new horizon still equals the engine's, in both hierarchies."""
    from django.utils import timezone

    from safetynet.indicators.models import CounterLayout

    enterprises, unions = floor
    _apply(enterprises, unions, city, EMPTY, [])
    built_on = _day(20)
    Visit.objects.create(enterprise=enterprises[2], visited_on=built_on, findings="走访")
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: built_on)
    counters.counters_rebuild()
    horizon = CounterLayout.objects.get(population="enterprise").horizon
    assert horizon == datetime.date(built_on.year + 1, 12, 31)
    a_year_later = datetime.date(built_on.year + 1, 6, 1)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: a_year_later)
    Visit.objects.create(enterprise=enterprises[0], visited_on=a_year_later, findings="走访")
    assert counters.counters_refresh(limit=None) == 1
    past_horizon = datetime.date(horizon.year + 1, 3, 1)
    # The refresh moved the horizon a year on (it evaluated its enterprise up to then): the counters answer there.
    assert counters.counters_ready(past_horizon)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: past_horizon)
    for day in (a_year_later, horizon, past_horizon):
        for hierarchy in (AS_OF, TODAY):
            assert _figures(compute(day=day, hierarchy=hierarchy)) == _figures(
                compute(day=day, hierarchy=hierarchy, counters=False)
            ), (day, hierarchy)
