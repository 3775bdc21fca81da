import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from safetynet.accounts.models import Role
from safetynet.core.models import AuditEntry

PASSWORD = "Safetynet-test-1"
User = get_user_model()


def test_login_page_is_chinese_and_logs_in(client, city, make_staff):
    make_staff("zs_op", city.zhongshan, Role.OPERATOR)
    page = client.get(reverse("accounts:login"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "账号" in html and "密码" in html and "登录" in html
    response = client.post(reverse("accounts:login"), {"username": "zs_op", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("shell:home")


def test_login_failure_says_what_is_wrong(client, city, make_staff):
    make_staff("zs_op", city.zhongshan, Role.OPERATOR)
    response = client.post(reverse("accounts:login"), {"username": "zs_op", "password": "wrong"})
    assert response.status_code == 200
    assert "账号或密码不正确" in response.content.decode()


def test_a_deactivated_account_cannot_log_in(client, city, make_staff):
    user = make_staff("zs_op", city.zhongshan, Role.OPERATOR)
    user.is_active = False
    user.save()
    response = client.post(reverse("accounts:login"), {"username": "zs_op", "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post(client, city, make_staff):
    client.force_login(make_staff("zs_op", city.zhongshan, Role.OPERATOR))
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")
    assert "_auth_user_id" not in client.session


def test_staff_list_is_scoped(client, city, make_staff):
    admin = make_staff("zs_admin", city.zhongshan, Role.UNIT_ADMIN)
    make_staff("qnw_view", city.street_a, Role.VIEWER)
    make_staff("xg_op", city.street_b, Role.OPERATOR)
    make_staff("city", city.city, Role.CITY_ADMIN)
    client.force_login(admin)
    response = client.get(reverse("accounts:staff_list"))
    assert response.status_code == 200
    assert {u.username for u in response.context["staff"]} == {"zs_admin", "qnw_view"}
    response = client.get(reverse("accounts:staff_list"), {"role": Role.VIEWER})
    assert [u.username for u in response.context["staff"]] == ["qnw_view"]
    response = client.get(reverse("accounts:staff_list"), {"q": "青泥洼"})
    assert [u.username for u in response.context["staff"]] == ["qnw_view"]


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.VIEWER, Role.CHAIR])
def test_staff_pages_need_manage_staff(client, city, make_staff, role):
    client.force_login(make_staff("someone", city.zhongshan, role))
    assert client.get(reverse("accounts:staff_list")).status_code == 403
    assert client.get(reverse("accounts:staff_create")).status_code == 403


def test_create_staff_form_offers_only_grantable_roles_and_visible_units(client, city, make_staff):
    client.force_login(make_staff("zs_admin", city.zhongshan, Role.UNIT_ADMIN))
    form = client.get(reverse("accounts:staff_create")).context["form"]
    assert Role.CITY_ADMIN not in [value for value, _ in form.fields["role"].choices]
    assert set(form.fields["org_unit"].queryset) == {city.zhongshan, city.street_a, city.community_a}


def test_create_staff_through_the_page(client, city, make_staff):
    client.force_login(make_staff("zs_admin", city.zhongshan, Role.UNIT_ADMIN))
    data = {
        "username": "new_op",
        "full_name": "新人",
        "org_unit": city.street_a.pk,
        "role": Role.OPERATOR,
        "password": "Hard-to-guess-9",
        "password_again": "Hard-to-guess-9",
    }
    response = client.post(reverse("accounts:staff_create"), data, follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:staff_list")
    assert "已创建账号“new_op”" in response.content.decode()
    user = User.objects.get(username="new_op")
    assert user.org_unit == city.street_a and user.check_password("Hard-to-guess-9")
    assert AuditEntry.objects.filter(entity="accounts.user", object_id=str(user.pk), action="create").exists()


def test_create_staff_page_shows_errors_next_to_fields(client, city, make_staff):
    client.force_login(make_staff("zs_admin", city.zhongshan, Role.UNIT_ADMIN))
    base = {"username": "x1", "org_unit": city.zhongshan.pk, "role": Role.VIEWER}
    response = client.post(
        reverse("accounts:staff_create"),
        {**base, "password": "Hard-to-guess-9", "password_again": "other-9999"},
    )
    assert response.status_code == 400
    assert "两次输入的密码不一致" in response.content.decode()
    # A city admin role or a unit of another district cannot be smuggled in.
    response = client.post(
        reverse("accounts:staff_create"),
        {**base, "role": Role.CITY_ADMIN, "password": "Hard-to-guess-9", "password_again": "Hard-to-guess-9"},
    )
    assert response.status_code == 400 and "role" in response.context["form"].errors
    response = client.post(
        reverse("accounts:staff_create"),
        {
            **base,
            "org_unit": city.street_b.pk,
            "password": "Hard-to-guess-9",
            "password_again": "Hard-to-guess-9",
        },
    )
    assert response.status_code == 400 and "org_unit" in response.context["form"].errors
    response = client.post(
        reverse("accounts:staff_create"), {**base, "password": "12345678", "password_again": "12345678"}
    )
    assert response.status_code == 400 and "password" in response.context["form"].errors
    assert not User.objects.filter(username="x1").exists()


def test_deactivate_and_reactivate_staff(client, city, make_staff):
    admin = make_staff("zs_admin", city.zhongshan, Role.UNIT_ADMIN)
    target = make_staff("qnw_view", city.street_a, Role.VIEWER)
    client.force_login(admin)
    url = reverse("accounts:staff_set_active", args=[target.pk])
    assert client.get(url).status_code == 405
    response = client.post(url, {"active": "0"}, follow=True)
    assert "已停用账号“qnw_view”" in response.content.decode()
    target.refresh_from_db()
    assert not target.is_active
    client.post(url, {"active": "1", "next": "https://evil.example/"})
    target.refresh_from_db()
    assert target.is_active


def test_deactivating_another_districts_staff_answers_404(client, city, make_staff):
    client.force_login(make_staff("zs_admin", city.zhongshan, Role.UNIT_ADMIN))
    other = make_staff("xg_op", city.street_b, Role.OPERATOR)
    response = client.post(reverse("accounts:staff_set_active", args=[other.pk]), {"active": "0"})
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.is_active


def test_deactivating_oneself_is_refused_with_a_message(client, city, make_staff):
    admin = make_staff("zs_admin", city.zhongshan, Role.UNIT_ADMIN)
    client.force_login(admin)
    response = client.post(
        reverse("accounts:staff_set_active", args=[admin.pk]), {"active": "0"}, follow=True
    )
    assert "不能停用自己的账号" in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active


def test_admin_user_list_is_scoped_and_audit_admin_read_only(client, city, make_staff):
    admin = make_staff("zs_admin", city.zhongshan, Role.UNIT_ADMIN)
    admin.is_staff = True
    admin.is_superuser = True  # a superuser with a unit is still scoped to it
    admin.save()
    make_staff("xg_op", city.street_b, Role.OPERATOR)
    make_staff("qnw_view", city.street_a, Role.VIEWER)
    client.force_login(admin)
    html = client.get("/admin/accounts/user/").content.decode()
    assert "qnw_view" in html and "xg_op" not in html
    assert client.get("/admin/core/auditentry/").status_code == 200
    assert client.get("/admin/core/auditentry/add/").status_code == 403
    entry = AuditEntry.objects.filter(unit_path__startswith=city.zhongshan.path).first()
    page = client.get(f"/admin/core/auditentry/{entry.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    outside = AuditEntry.objects.filter(unit_path__startswith=city.xigang.path).first()
    assert client.get(f"/admin/core/auditentry/{outside.pk}/change/").status_code == 302
