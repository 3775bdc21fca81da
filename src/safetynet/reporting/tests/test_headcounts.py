"""Reported headcounts against the real-name roster, as of a day, against hand-computed figures: a report above
the roster, below it, an empty roster, a union register that kept members who left; the thresholds (10 % and
5 people, settings); the page per unit (scoped, paginated, XLSX)."""

from __future__ import annotations

import datetime
import io

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse

from safetynet.members import services as member_services
from safetynet.members.tests.factories import make_id_number
from safetynet.orgs import services as org_services
from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory, make_credit_code
from safetynet.reporting import headcounts
from safetynet.reporting.headcounts import MEMBERS, NO_ROSTER, OVER, UNDER

D = datetime.date
JUNE = D(2012, 6, 30)
HIRED = D(2011, 1, 1)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


class Roster:
    def __init__(self) -> None:
        self.n = 0

    def hire(self, enterprise, count: int, *, union=None, since: D = HIRED) -> list:
        employments = []
        for _ in range(count):
            self.n += 1
            person = member_services.person_create(
                actor=None, name=f"职工{self.n}", id_number=make_id_number(self.n)
            )
            employments.append(
                member_services.employment_start(
                    actor=None, person=person, enterprise=enterprise, valid_from=since
                )
            )
            if union is not None:
                member_services.membership_join(actor=None, person=person, union=union, valid_from=since)
        return employments


@pytest.fixture
def rosters(world):
    """over: reports 20, 10 on the roster, all members of its own union, 6 more left on 2012-03-01 but are
    still on the union's register. under: reports 3, 10 on the roster. empty: reports 100, nobody on the
    roster. close: reports 8, 10 on the roster (2 apart: fine); from 2012-07-01 it reports 30."""
    city = world.city
    roster = Roster()
    over = EnterpriseFactory(
        org_unit=city.community_a, credit_code=make_credit_code(801), name="虚报人数有限公司", headcount=20
    )
    union = UnionFactory(org_unit=city.community_a, enterprises=[over], founded_on=D(2010, 1, 1))
    roster.hire(over, 10, union=union)
    for employment in roster.hire(over, 6, union=union):
        member_services.employment_end(actor=None, employment=employment, valid_to=D(2012, 3, 1))
    under = EnterpriseFactory(
        org_unit=city.street_a, credit_code=make_credit_code(802), name="人数未更新有限公司", headcount=3
    )
    roster.hire(under, 10)
    empty = EnterpriseFactory(
        org_unit=city.street_b,
        credit_code=make_credit_code(803, "210203"),
        name="名册未录入有限公司",
        headcount=100,
    )
    close = EnterpriseFactory(
        org_unit=world.street_e, credit_code=make_credit_code(804), name="人数相符有限公司", headcount=8
    )
    roster.hire(close, 10)
    org_services.enterprise_update(
        actor=None, enterprise=close, data={"headcount": 30}, effective_on=D(2012, 7, 1)
    )
    return {"over": over, "under": under, "empty": empty, "close": close, "world": world}


def by_name(comparison: headcounts.Comparison) -> dict[int, headcounts.HeadcountRow]:
    return {row.enterprise_id: row for row in comparison.rows}


def test_figures_and_kinds_by_hand(rosters):
    world = rosters["world"]
    comparison = headcounts.compute(day=JUNE)
    rows = by_name(comparison)
    over = rows[rosters["over"].pk]
    assert (over.reported, over.employees, over.members, over.register) == (20, 10, 10, 16)
    assert over.kinds == [OVER, MEMBERS] and over.gap == 10 and over.member_gap == 6
    under = rows[rosters["under"].pk]
    assert (under.reported, under.employees, under.members, under.register) == (3, 10, 0, None)
    assert under.kinds == [UNDER]
    empty = rows[rosters["empty"].pk]
    assert (empty.reported, empty.employees, empty.kinds) == (100, 0, [NO_ROSTER])
    assert rosters["close"].pk not in rows
    # The world's own enterprises report 100 and have nobody on the roster.
    assert rows[world.enterprise_a.pk].kinds == [NO_ROSTER]
    assert comparison.compared == 7 and comparison.with_register == 1
    assert comparison.counts == {OVER: 1, UNDER: 1, NO_ROSTER: 4, MEMBERS: 1}


def test_as_of_a_day(rosters):
    # On 2012-02-01 the six had not left yet: 16 on the roster, all members; the register agrees.
    rows = by_name(headcounts.compute(day=D(2012, 2, 1)))
    over = rows.get(rosters["over"].pk)
    assert over is None  # 20 reported, 16 on the roster: 4 apart
    # From 2012-07-01 the close one reports 30 against 10.
    rows = by_name(headcounts.compute(day=D(2012, 7, 1)))
    assert rows[rosters["close"].pk].kinds == [OVER] and rows[rosters["close"].pk].reported == 30
    # Before anyone was hired nobody is on the roster; before they were founded they are not compared.
    assert rosters["over"].pk not in by_name(headcounts.compute(day=D(2004, 1, 1)))


def test_the_thresholds_are_settings(rosters, settings):
    settings.HEADCOUNT_MISMATCH_PEOPLE = 10
    rows = by_name(headcounts.compute(day=JUNE))
    assert rosters["over"].pk not in rows and rosters["under"].pk not in rows
    # On 2012-02-01: 20 reported, 16 on the roster: 4 people, 20 %.
    settings.HEADCOUNT_MISMATCH_PEOPLE = 3
    settings.HEADCOUNT_MISMATCH_PERCENT = 30
    assert rosters["over"].pk not in by_name(headcounts.compute(day=D(2012, 2, 1)))
    settings.HEADCOUNT_MISMATCH_PERCENT = 15
    assert by_name(headcounts.compute(day=D(2012, 2, 1)))[rosters["over"].pk].kinds == [OVER]


def test_a_subtree_and_the_cache(rosters):
    world = rosters["world"]
    zhongshan = headcounts.compute_cached(day=JUNE, path=world.city.zhongshan.path)
    assert set(by_name(zhongshan)) == {
        rosters["over"].pk,
        rosters["under"].pk,
        world.enterprise_a.pk,
        world.enterprise_e.pk,
    }
    assert zhongshan.by_child == {
        world.city.street_a.pk: {OVER: 1, UNDER: 1, NO_ROSTER: 1, MEMBERS: 1},
        world.street_e.pk: {OVER: 0, UNDER: 0, NO_ROSTER: 1, MEMBERS: 0},
    }
    assert headcounts.compute_cached(day=JUNE, path=world.city.zhongshan.path).packed == zhongshan.packed


def test_the_page_per_unit_scoped_and_exported(rosters):
    world = rosters["world"]
    district = client_for(world.district_officer)
    url = reverse("reporting:headcounts")
    html = district.get(url + "?as_of=2012-06-30").content.decode()
    assert "虚报人数有限公司" in html and "人数未更新有限公司" in html and "名册未录入有限公司" not in html
    assert "+10" in html and "会员名册不符" in html and 'id="headcount-children"' in html
    html = district.get(url + "?as_of=2012-06-30&kind=under").content.decode()
    assert "人数未更新有限公司" in html and "虚报人数有限公司" not in html
    html = district.get(url + f"?as_of=2012-06-30&unit={world.city.street_a.pk}").content.decode()
    assert "虚报人数有限公司" in html
    xigang = client_for(world.xigang_officer)
    html = xigang.get(url + "?as_of=2012-06-30").content.decode()
    assert "名册未录入有限公司" in html and "虚报人数有限公司" not in html
    assert xigang.get(url + f"?unit={world.city.street_a.pk}").status_code == 404
    response = district.get(reverse("reporting:headcount_export") + "?as_of=2012-06-30")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = {row[1]: row for row in list(book.worksheets[0].iter_rows(values_only=True))[2:]}
    assert rows["虚报人数有限公司"][4:10] == (20, 10, 10, 10, 16, 6)
    assert rows["虚报人数有限公司"][10] == "报告多于名册、会员名册不符"
