import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from safetynet.indicators.services import target_set
from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory


@pytest.fixture
def data(city):
    covered = EnterpriseFactory(org_unit=city.community_a, name="已建会企业甲")
    EnterpriseFactory(org_unit=city.community_a, name="未建会企业乙")
    EnterpriseFactory(org_unit=city.street_b, name="西岗企业丙")
    UnionFactory(org_unit=city.community_a, enterprises=[covered])
    return city


def login(client, user):
    client.force_login(user)
    return client


def test_home_redirects_to_dashboard(data, client, make_staff):
    response = login(client, make_staff("c", data.city, "city_admin")).get(reverse("shell:home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("indicators:dashboard"))


def test_dashboard_shows_cards_children_and_targets(data, client, make_staff):
    admin = make_staff("c", data.city, "city_admin")
    target_set(
        actor=admin, indicator="union_rate", org_unit=data.city, year=timezone.localdate().year, value="0.9"
    )
    html = login(client, admin).get(reverse("indicators:dashboard")).content.decode()
    assert "建会率" in html and "工资集体协商建制率" in html
    assert "50.0 %" in html  # city: 1 of 2 eligible covered
    assert "90.0 %" in html and "严重落后" in html  # target and status, the number beside the colour
    assert "中山区" in html and "西岗区" in html
    assert 'id="dashboard-data"' in html


def test_dashboard_of_a_sibling_unit_is_404(data, client, make_staff):
    officer = make_staff("zs", data.zhongshan, "operator")
    response = login(client, officer).get(reverse("indicators:dashboard"), {"unit": data.xigang.pk})
    assert response.status_code == 404
    page = client.get(reverse("indicators:dashboard")).content.decode()
    assert "西岗区" not in page


def test_records_behind_a_number_and_export(data, client, make_staff):
    officer = make_staff("zs", data.zhongshan, "viewer")
    url = reverse("indicators:records")
    params = {"indicator": "union_rate", "unit": data.zhongshan.pk, "as_of": timezone.localdate().isoformat()}
    client = login(client, officer)
    gap = client.get(url, {**params, "part": "gap"}).content.decode()
    assert "未建会企业乙" in gap and "已建会企业甲" not in gap
    numerator = client.get(url, {**params, "part": "numerator"}).content.decode()
    assert "已建会企业甲" in numerator and "未建会企业乙" not in numerator
    response = client.get(url, {**params, "part": "denominator", "format": "xlsx"})
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(
        __import__("io").BytesIO(b"".join(response.streaming_content)), read_only=True
    )
    names = [row[1] for row in workbook.active.iter_rows(min_row=3, values_only=True)]
    assert sorted(names) == ["已建会企业甲", "未建会企业乙"]
    assert client.get(url, {**params, "unit": data.xigang.pk, "part": "gap"}).status_code == 404


def test_targets_page_sets_children_targets_and_shows_gaps(data, client, make_staff):
    admin = make_staff("c", data.city, "city_admin")
    year = timezone.localdate().year
    client = login(client, admin)
    url = reverse("indicators:targets")
    response = client.post(
        f"{url}?year={year}",
        {f"t_{data.city.pk}_union_rate": "90", f"t_{data.zhongshan.pk}_union_rate": "95.5"},
    )
    assert response.status_code == 302
    page = client.get(url, {"year": year}).content.decode()
    assert 'value="95.5"' in page and "西岗区" in page and "分解不到位" in page
    bad = client.post(f"{url}?year={year}", {f"t_{data.xigang.pk}_union_rate": "九十"})
    assert bad.status_code == 400 and "不是数字" in bad.content.decode()


def test_district_cannot_set_its_own_target(data, client, make_staff):
    officer = make_staff("d", data.zhongshan, "unit_admin")
    year = timezone.localdate().year
    response = login(client, officer).post(
        f"{reverse('indicators:targets')}?year={year}", {f"t_{data.zhongshan.pk}_union_rate": "99"}
    )
    assert response.status_code == 400 and "直接下级" in response.content.decode()
    other = client.post(
        f"{reverse('indicators:targets')}?year={year}", {f"t_{data.xigang.pk}_union_rate": "99"}
    )
    assert other.status_code == 404


def test_dashboard_shows_one_area_of_indicators_at_a_time(data, client, make_staff):
    """The cards and the units table hold one area's indicators (a tab each), so a laptop screen shows the
    table without scrolling sideways; an indicator named in the address opens its own area."""
    login(client, make_staff("boss_areas", data.city, "city_admin"))
    url = reverse("indicators:dashboard")
    html = client.get(url).content.decode()
    assert 'id="indicator-areas"' in html and "建会建制" in html and "服务帮扶" in html
    assert "入会率" in html and "困难职工在档率" not in html
    assistance = client.get(url, {"area": "assistance"}).content.decode()
    assert "困难职工在档率" in assistance and "?indicator=union_rate" not in assistance
    by_indicator = client.get(url, {"indicator": "portal_verified_rate"}).content.decode()
    assert "网络工会实名认证率" in by_indicator and "困难职工在档率" not in by_indicator
    units = client.get(reverse("indicators:units"), {"area": "cases", "level": 2}).content.decode()
    assert "调处率" in units and "入会率" not in units
