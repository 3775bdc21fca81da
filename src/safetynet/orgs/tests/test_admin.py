"""The admin is scoped and read-only for registry records."""

import pytest

from safetynet.orgs.tests.factories import EnterpriseFactory


@pytest.fixture
def admin_client_for(client, make_staff):
    def login(unit, role="unit_admin"):
        user = make_staff(f"admin_{unit.code}", unit, role)
        user.is_staff = True
        user.save()
        client.force_login(user)
        return client

    return login


def test_admin_lists_only_own_subtree(city, admin_client_for):
    mine = EnterpriseFactory(org_unit=city.community_a, name="中山的企业")
    theirs = EnterpriseFactory(org_unit=city.street_b, name="西岗的企业")
    client = admin_client_for(city.zhongshan)
    page = client.get("/admin/orgs/enterprise/").content.decode()
    assert mine.name in page and theirs.name not in page
    assert client.get(f"/admin/orgs/enterprise/{theirs.pk}/change/").status_code in (302, 404)


def test_admin_cannot_change_or_delete(city, admin_client_for):
    enterprise = EnterpriseFactory(org_unit=city.community_a)
    client = admin_client_for(city.zhongshan)
    response = client.post(f"/admin/orgs/enterprise/{enterprise.pk}/change/", {"name": "改名"})
    assert response.status_code == 403
    assert client.post(f"/admin/orgs/enterprise/{enterprise.pk}/delete/", {"post": "yes"}).status_code == 403
    enterprise.refresh_from_db()
    assert enterprise.name != "改名"
