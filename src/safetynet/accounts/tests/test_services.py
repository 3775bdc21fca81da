import pytest

from safetynet.accounts.models import Role, User
from safetynet.accounts.services import staff_create, staff_set_active
from safetynet.core.errors import NotAllowed, OutOfScope, ServiceError
from safetynet.core.models import AuditEntry

PASSWORD = "Safetynet-test-1"


def test_staff_create_makes_an_account_and_an_audit_row(city, make_staff):
    admin = make_staff("zs_admin", city.zhongshan, Role.UNIT_ADMIN)
    user = staff_create(
        actor=admin,
        username=" qnw_op ",
        password="Hard-to-guess-9",
        org_unit=city.street_a,
        role=Role.OPERATOR,
        full_name="张  华",
    )
    assert user.username == "qnw_op" and user.full_name == "张 华"
    assert user.check_password("Hard-to-guess-9")
    assert user.org_unit == city.street_a and user.role == Role.OPERATOR and user.is_active
    entry = AuditEntry.objects.get(entity="accounts.user", object_id=str(user.pk))
    assert entry.action == "create" and entry.actor == admin
    assert entry.unit_path == city.street_a.path
    assert entry.changes["role"] == [None, "经办人"]
    assert "password" not in entry.changes


def test_staff_create_refuses_units_outside_the_subtree(city, make_staff):
    admin = make_staff("zs_admin", city.zhongshan, Role.UNIT_ADMIN)
    with pytest.raises(OutOfScope) as error:
        staff_create(actor=admin, username="xg", password=PASSWORD, org_unit=city.street_b, role=Role.VIEWER)
    assert error.value.field == "org_unit"
    with pytest.raises(OutOfScope):
        staff_create(actor=admin, username="c", password=PASSWORD, org_unit=city.city, role=Role.VIEWER)
    assert not User.objects.filter(username__in=["xg", "c"]).exists()


def test_a_unit_admin_cannot_create_a_city_admin(city, make_staff):
    admin = make_staff("zs_admin", city.zhongshan, Role.UNIT_ADMIN)
    with pytest.raises(NotAllowed):
        staff_create(
            actor=admin, username="boss", password=PASSWORD, org_unit=city.zhongshan, role=Role.CITY_ADMIN
        )
    city_admin = make_staff("city", city.city, Role.CITY_ADMIN)
    user = staff_create(
        actor=city_admin, username="boss", password=PASSWORD, org_unit=city.city, role=Role.CITY_ADMIN
    )
    assert user.role == Role.CITY_ADMIN


def test_staff_create_needs_manage_staff(city, make_staff):
    operator = make_staff("zs_op", city.zhongshan, Role.OPERATOR)
    with pytest.raises(NotAllowed):
        staff_create(
            actor=operator, username="x", password=PASSWORD, org_unit=city.zhongshan, role=Role.VIEWER
        )


def test_staff_create_checks_username_and_password(city, make_staff):
    admin = make_staff("zs_admin", city.zhongshan, Role.UNIT_ADMIN)
    with pytest.raises(ServiceError) as error:
        staff_create(
            actor=admin, username="ZS_ADMIN", password=PASSWORD, org_unit=city.zhongshan, role=Role.VIEWER
        )
    assert error.value.code == "username_taken" and error.value.field == "username"
    with pytest.raises(ServiceError) as error:
        staff_create(
            actor=admin, username="weak", password="12345678", org_unit=city.zhongshan, role=Role.VIEWER
        )
    assert error.value.code == "weak_password" and error.value.field == "password"
    assert not User.objects.filter(username="weak").exists()


def test_the_system_may_create_any_account(city):
    user = staff_create(
        actor=None, username="root", password=PASSWORD, org_unit=city.city, role=Role.CITY_ADMIN
    )
    entry = AuditEntry.objects.get(entity="accounts.user", object_id=str(user.pk))
    assert entry.actor_name == "系统"


def test_staff_set_active_deactivates_and_reactivates_with_audit(city, make_staff):
    admin = make_staff("zs_admin", city.zhongshan, Role.UNIT_ADMIN)
    operator = make_staff("qnw_op", city.street_a, Role.OPERATOR)
    staff_set_active(actor=admin, user=operator, is_active=False)
    operator.refresh_from_db()
    assert not operator.is_active
    staff_set_active(actor=admin, user=operator, is_active=True)
    operator.refresh_from_db()
    assert operator.is_active
    changes = list(
        AuditEntry.objects.filter(entity="accounts.user", object_id=str(operator.pk), action="update")
        .order_by("id")
        .values_list("changes", flat=True)
    )
    assert changes == [{"is_active": [True, False]}, {"is_active": [False, True]}]
    # Setting the state it already has writes nothing.
    staff_set_active(actor=admin, user=operator, is_active=True)
    assert AuditEntry.objects.filter(object_id=str(operator.pk), action="update").count() == 2


def test_staff_set_active_guards(city, make_staff):
    admin = make_staff("zs_admin", city.zhongshan, Role.UNIT_ADMIN)
    other = make_staff("xg_op", city.street_b, Role.OPERATOR)
    city_admin = make_staff("city", city.city, Role.CITY_ADMIN)
    with pytest.raises(OutOfScope):
        staff_set_active(actor=admin, user=other, is_active=False)
    with pytest.raises(OutOfScope):
        staff_set_active(actor=admin, user=city_admin, is_active=False)
    with pytest.raises(ServiceError) as error:
        staff_set_active(actor=admin, user=admin, is_active=False)
    assert error.value.code == "self_deactivate"
    # A city admin in a district (unusual but possible) is still only the city's to deactivate.
    district_city_admin = make_staff("odd", city.zhongshan, Role.CITY_ADMIN)
    with pytest.raises(NotAllowed):
        staff_set_active(actor=admin, user=district_city_admin, is_active=False)
    staff_set_active(actor=city_admin, user=district_city_admin, is_active=False)
