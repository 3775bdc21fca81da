"""Persons, employments, memberships, transfers and cards through the services; personal data at rest."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection

from safetynet.core.errors import NotAllowed, OutOfScope, ServiceError
from safetynet.core.models import AuditAction, AuditEntry
from safetynet.members import crypto
from safetynet.members.models import CardStatus, EmploymentType, Household, Membership, Person
from safetynet.members.selectors import enterprise_employees, person_find_by_id_number, person_search
from safetynet.members.services import (
    can_view_personal_data,
    card_cancel,
    card_from_qr_payload,
    card_issue,
    card_qr_payload,
    card_report_lost,
    employment_end,
    employment_start,
    membership_join,
    membership_leave,
    membership_transfer,
    person_create,
    person_register,
    person_reveal_id_number,
    person_reveal_phone,
    person_update,
)
from safetynet.members.tests.factories import make_id_number
from safetynet.orgs.services import union_cover_enterprise

D = datetime.date
NUMBER = make_id_number(1)  # a valid number of 中山区, born 1980-03-15, male
HIRED = D(2010, 3, 1)


def register(registry, number=NUMBER, *, enterprise=None, since=HIRED, name="王小明", **extra):
    return person_register(
        actor=None,
        name=name,
        id_number=number,
        enterprise=enterprise or registry.acme,
        employed_from=since,
        phone="138 0000 1111",
        household=Household.RURAL,
        employment_type=EmploymentType.LABOUR_CONTRACT,
        **extra,
    )


# --- personal data at rest -------------------------------------------------------------------


def _raw_table_text(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")
        return repr(cursor.fetchall())


def test_id_number_and_phone_are_never_stored_in_clear(registry):
    employment = register(registry)
    person = employment.person
    raw = _raw_table_text("members_person")
    assert NUMBER not in raw
    assert NUMBER[6:14] + NUMBER[14:] not in raw  # not even the tail after the address code
    assert "13800001111" not in raw
    assert person.id_number_masked == NUMBER[:6] + "********" + NUMBER[-4:]
    assert person.phone_masked == "138****1111"
    assert crypto.decrypt(person.id_number_encrypted) == NUMBER
    assert person.id_number_hash == crypto.lookup_hash(NUMBER) and len(person.id_number_hash) == 64
    assert person.birth_date == D(1980, 3, 15) and person.sex == "M" and person.is_migrant
    # Neither does the audit trail hold the clear number, only the masked one.
    audit = repr(list(AuditEntry.objects.values_list("changes", "note", "object_repr")))
    assert NUMBER not in audit and "13800001111" not in audit
    assert person.id_number_masked in audit


def test_the_lookup_hash_is_keyed():
    other = crypto.PersonalDataKey("Wm9eTeOUgNqN1Zz4GdjXJ3f9nCk5x7sgq2vYtWlbHdF=".replace("F=", "A="))
    assert other.lookup_hash(NUMBER) != crypto.lookup_hash(NUMBER)
    assert crypto.lookup_hash("") == ""


def test_duplicate_document_is_refused(registry):
    register(registry)
    with pytest.raises(ServiceError) as exc:
        person_create(actor=None, name="另一人", id_number=NUMBER)
    assert exc.value.code == "duplicate_person"


def test_register_reuses_a_person_registered_elsewhere(registry):
    first = register(registry)
    second = register(registry, enterprise=registry.bolt, since=D(2012, 1, 1))
    assert first.person_id == second.person_id
    assert Person.objects.count() == 1
    with pytest.raises(ServiceError) as exc:
        register(registry, enterprise=registry.plain, name="李四")
    assert exc.value.code == "name_mismatch"


def test_invalid_number_is_refused_with_its_reason(registry):
    with pytest.raises(ServiceError) as exc:
        person_create(actor=None, name="王小明", id_number=NUMBER[:17] + ("0" if NUMBER[-1] != "0" else "1"))
    assert exc.value.code == "checksum" and exc.value.field == "id_number"


def test_person_update_changes_phone_and_corrects_the_number(registry, city, make_staff):
    person = register(registry).person
    operator = make_staff("op", city.zhongshan, "operator")
    person_update(actor=operator, person=person, data={"phone": "13900002222", "household": Household.URBAN})
    person.refresh_from_db()
    assert person.phone_masked == "139****2222" and not person.is_migrant
    corrected = make_id_number(3)
    person_update(actor=operator, person=person, data={"id_number": corrected})
    person.refresh_from_db()
    assert crypto.decrypt(person.id_number_encrypted) == corrected
    entry = AuditEntry.objects.filter(entity="members.person", action=AuditAction.UPDATE).first()
    assert entry.changes["id_number_masked"][1] == corrected[:6] + "********" + corrected[-4:]
    assert corrected not in repr(entry.changes)
    assert entry.unit_path == registry.acme.org_unit.path


# --- revealing personal data -----------------------------------------------------------------


def test_reveal_is_for_admins_in_scope_and_audited(registry, city, make_staff):
    person = register(registry).person
    admin = make_staff("za", city.zhongshan, "unit_admin")
    operator = make_staff("zo", city.zhongshan, "operator")
    far_admin = make_staff("xa", city.xigang, "unit_admin")
    assert can_view_personal_data(admin) and not can_view_personal_data(operator)
    assert person_reveal_id_number(actor=admin, person=person) == NUMBER
    assert person_reveal_phone(actor=admin, person=person) == "13800001111"
    views = AuditEntry.objects.filter(action=AuditAction.VIEW_PERSONAL)
    assert views.count() == 2 and views.first().actor == admin
    assert views.first().unit_path == registry.acme.org_unit.path
    with pytest.raises(NotAllowed):
        person_reveal_id_number(actor=operator, person=person)
    with pytest.raises(OutOfScope):
        person_reveal_id_number(actor=far_admin, person=person)
    assert views.count() == 2


# --- scope -----------------------------------------------------------------------------------


def test_person_search_never_finds_people_outside_the_scope(registry, city, make_staff):
    zhongshan_person = register(registry).person
    xigang_number = make_id_number(5, address="210203")
    xigang_person = register(registry, xigang_number, enterprise=registry.bolt, name="赵六").person
    zhongshan = make_staff("zs", city.zhongshan, "viewer")
    xigang = make_staff("xg", city.xigang, "viewer")
    cityview = make_staff("ct", city.city, "viewer")
    assert person_find_by_id_number(zhongshan, NUMBER) == zhongshan_person
    assert person_find_by_id_number(zhongshan, xigang_number) is None
    assert person_find_by_id_number(xigang, xigang_number) == xigang_person
    assert person_find_by_id_number(cityview, xigang_number) == xigang_person
    assert list(person_search(zhongshan, xigang_number)) == []
    assert list(person_search(zhongshan, "赵六")) == []
    assert list(person_search(xigang, "赵六")) == [xigang_person]
    assert list(person_search(zhongshan, f" {NUMBER[:6]} {NUMBER[6:]} ")) == [zhongshan_person]
    assert list(person_search(zhongshan, zhongshan_person.id_number_masked)) == [zhongshan_person]
    assert list(person_search(zhongshan, "13800001111")) == [zhongshan_person]
    assert set(Person.objects.visible_to(cityview)) == {zhongshan_person, xigang_person}
    # A membership alone also brings the person into scope; history counts (a past job too).
    employment_end(actor=None, employment=zhongshan_person.employments.get(), valid_to=D(2011, 1, 1))
    assert person_find_by_id_number(zhongshan, NUMBER) == zhongshan_person


def test_broad_and_probing_scope_tests_find_the_same_persons(registry, city, make_staff, monkeypatch):
    """A common surname switches the search to the hashed scope test; the persons found are the same."""
    from safetynet.members import selectors

    zhongshan_person = register(registry).person
    xigang_number = make_id_number(5, address="210203")
    register(registry, xigang_number, enterprise=registry.bolt, name="王七")
    zhongshan = make_staff("zs", city.zhongshan, "viewer")
    for broad in (False, True):
        assert set(Person.objects.within(city.zhongshan.path, broad=broad)) == {zhongshan_person}
        assert set(Person.objects.visible_to(zhongshan, broad=broad)) == {zhongshan_person}
    probing = list(person_search(zhongshan, "王"))
    monkeypatch.setattr(selectors, "BROAD_NAME_MATCHES", 1)
    assert list(person_search(zhongshan, "王")) == probing == [zhongshan_person]
    assert " UNION ALL " in str(person_search(zhongshan, "王").query)


# --- employments -----------------------------------------------------------------------------


def test_overlapping_employments_at_the_same_enterprise_are_refused(registry):
    employment = register(registry)
    with pytest.raises(ServiceError) as exc:
        employment_start(
            actor=None, person=employment.person, enterprise=registry.acme, valid_from=D(2015, 1, 1)
        )
    assert exc.value.code == "employment_overlap"
    # Another enterprise at the same time is fine (a second job); the same one after leaving too.
    employment_start(actor=None, person=employment.person, enterprise=registry.bolt, valid_from=D(2015, 1, 1))
    employment_end(actor=None, employment=employment, valid_to=D(2014, 1, 1))
    employment_start(actor=None, person=employment.person, enterprise=registry.acme, valid_from=D(2014, 1, 1))
    with pytest.raises(ServiceError, match="结束日期不能早于"):
        employment_start(
            actor=None,
            person=employment.person,
            enterprise=registry.plain,
            valid_from=D(2015, 1, 1),
            valid_to=D(2014, 1, 1),
        )
    with pytest.raises(ServiceError, match="早于企业成立日期"):
        employment_start(
            actor=None, person=employment.person, enterprise=registry.plain, valid_from=D(1999, 1, 1)
        )


def test_employment_needs_the_enterprise_in_scope(registry, city, make_staff):
    person = register(registry).person
    xigang_operator = make_staff("xo", city.xigang, "operator")
    viewer = make_staff("zv", city.zhongshan, "viewer")
    with pytest.raises(OutOfScope):
        employment_start(
            actor=xigang_operator, person=person, enterprise=registry.plain, valid_from=D(2015, 1, 1)
        )
    with pytest.raises(NotAllowed):
        employment_start(actor=viewer, person=person, enterprise=registry.plain, valid_from=D(2015, 1, 1))


def test_enterprise_roster_as_of_a_day(registry, city, make_staff):
    member = register(registry).person
    register(registry, make_id_number(7), name="钱七")
    membership_join(actor=None, person=member, union=registry.acme_union, valid_from=D(2011, 1, 1))
    staff = make_staff("zs", city.zhongshan, "viewer")
    roster = {
        e.person.name: e.is_member for e in enterprise_employees(staff, registry.acme, day=D(2012, 1, 1))
    }
    assert roster == {"王小明": True, "钱七": False}
    assert list(enterprise_employees(staff, registry.acme, day=D(2010, 1, 1))) == []


# --- memberships -----------------------------------------------------------------------------


def test_membership_requires_coverage_of_the_persons_enterprise_that_day(registry):
    person = register(registry, enterprise=registry.bolt, since=D(2008, 1, 1)).person
    # The joint union exists since 2009 but covers 乙公司 only from 2010-01-01.
    with pytest.raises(ServiceError) as exc:
        membership_join(actor=None, person=person, union=registry.joint_union, valid_from=D(2009, 6, 1))
    assert exc.value.code == "not_covered"
    with pytest.raises(ServiceError) as exc:
        membership_join(actor=None, person=person, union=registry.acme_union, valid_from=D(2011, 1, 1))
    assert exc.value.code == "not_covered"
    membership = membership_join(
        actor=None,
        person=person,
        union=registry.joint_union,
        valid_from=D(2010, 1, 1),
        member_number="HY0001",
    )
    assert membership.member_number == "HY0001"
    entry = AuditEntry.objects.get(entity="members.membership")
    assert entry.unit_path == registry.joint_union.org_unit.path and person.id_number_masked in repr(
        entry.changes
    )


def test_membership_before_union_founded_is_refused(registry):
    person = register(registry, since=D(2003, 1, 1)).person
    with pytest.raises(ServiceError) as exc:
        membership_join(actor=None, person=person, union=registry.acme_union, valid_from=D(2005, 1, 1))
    assert exc.value.code == "union_inactive"


def test_overlapping_memberships_are_refused(registry):
    person = register(registry).person
    employment_start(actor=None, person=person, enterprise=registry.bolt, valid_from=D(2010, 3, 1))
    first = membership_join(actor=None, person=person, union=registry.acme_union, valid_from=D(2010, 3, 1))
    with pytest.raises(ServiceError) as exc:
        membership_join(actor=None, person=person, union=registry.joint_union, valid_from=D(2012, 1, 1))
    assert exc.value.code == "membership_overlap"
    membership_leave(actor=None, membership=first, valid_to=D(2012, 1, 1))
    membership_join(actor=None, person=person, union=registry.joint_union, valid_from=D(2012, 1, 1))
    # Joining before a later membership would overlap it too.
    with pytest.raises(ServiceError, match="不能重叠"):
        membership_join(actor=None, person=person, union=registry.acme_union, valid_from=D(2011, 6, 1))
    with pytest.raises(ServiceError, match="已于"):
        membership_leave(actor=None, membership=first, valid_to=D(2013, 1, 1))


def test_transfer_closes_and_opens_on_the_same_day(registry, city, make_staff):
    employment = register(registry)
    person = employment.person
    old = membership_join(
        actor=None, person=person, union=registry.acme_union, valid_from=D(2010, 3, 1), member_number="M-1"
    )
    employment_end(actor=None, employment=employment, valid_to=D(2013, 5, 1))
    employment_start(actor=None, person=person, enterprise=registry.bolt, valid_from=D(2013, 5, 1))
    receiving = make_staff("xo", city.xigang, "operator")
    new = membership_transfer(
        actor=receiving, membership=old, to_union=registry.joint_union, on=D(2013, 5, 1)
    )
    old.refresh_from_db()
    assert old.valid_to == new.valid_from == D(2013, 5, 1)
    assert old.end_reason == "transferred" and new.member_number == "M-1" and new.valid_to is None
    notes = set(AuditEntry.objects.filter(entity="members.membership").values_list("note", flat=True))
    assert {"会员关系转出至“八一路联合工会”", "会员关系自“甲公司工会”转入"} <= notes


def test_transfer_is_atomic_when_the_new_union_does_not_cover(registry):
    person = register(registry).person
    old = membership_join(actor=None, person=person, union=registry.acme_union, valid_from=D(2010, 3, 1))
    # No job at 乙公司: the joint union does not cover this person; nothing may change.
    with pytest.raises(ServiceError) as exc:
        membership_transfer(actor=None, membership=old, to_union=registry.joint_union, on=D(2013, 5, 1))
    assert exc.value.code == "not_covered"
    old.refresh_from_db()
    assert old.valid_to is None and old.end_reason == ""
    assert Membership.objects.count() == 1


def test_transfer_after_coverage_change_via_union(registry):
    # A union that starts covering the enterprise later: the membership may only start from then.
    person = register(registry, enterprise=registry.plain).person
    with pytest.raises(ServiceError):
        membership_join(actor=None, person=person, union=registry.joint_union, valid_from=D(2012, 1, 1))
    union_cover_enterprise(
        actor=None, union=registry.joint_union, enterprise=registry.plain, valid_from=D(2012, 1, 1)
    )
    assert membership_join(actor=None, person=person, union=registry.joint_union, valid_from=D(2012, 1, 1))


# --- member service cards --------------------------------------------------------------------


def test_cards_are_unique_and_their_qr_payload_verifies(registry):
    person = register(registry).person
    with pytest.raises(ServiceError, match="不是工会会员"):
        card_issue(actor=None, person=person, issued_on=D(2012, 1, 1))
    membership_join(actor=None, person=person, union=registry.acme_union, valid_from=D(2010, 3, 1))
    card = card_issue(actor=None, person=person, issued_on=D(2012, 1, 1))
    assert (
        len(card.card_number) == 16 and card.status == CardStatus.ACTIVE and card.union == registry.acme_union
    )
    payload = card_qr_payload(card)
    assert NUMBER not in payload and person.name not in payload
    assert card_from_qr_payload(payload) == card
    with pytest.raises(ServiceError) as exc:
        card_from_qr_payload(payload[:-2] + ("aa" if not payload.endswith("aa") else "bb"))
    assert exc.value.code == "bad_qr"
    with pytest.raises(ServiceError) as exc:
        card_issue(actor=None, person=person, issued_on=D(2012, 2, 1))
    assert exc.value.code == "card_exists"
    card_report_lost(actor=None, card=card, on=D(2012, 6, 1))
    with pytest.raises(ServiceError) as exc:
        card_issue(actor=None, person=person, issued_on=D(2012, 6, 2), card_number=card.card_number)
    assert exc.value.code == "duplicate_card"
    replacement = card_issue(
        actor=None, person=person, issued_on=D(2012, 6, 2), card_number="2102000000000001"
    )
    assert replacement.card_number == "2102000000000001"
    card_cancel(actor=None, card=card, on=D(2012, 6, 2))
    with pytest.raises(ServiceError, match="已注销"):
        card_report_lost(actor=None, card=card, on=D(2012, 7, 1))
    assert card_from_qr_payload(card_qr_payload(card)).status == CardStatus.CANCELLED
