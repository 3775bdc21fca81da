"""Hardship files: opening, review, closing, and every bad input refused with a Chinese reason (nothing saved)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from safetynet.assistance import services
from safetynet.assistance.models import FileReview, FileStatus, HardshipFile
from safetynet.assistance.tests.factories import make_file, make_person, make_threshold
from safetynet.core.errors import NotAllowed, OutOfScope, ServiceError
from safetynet.core.models import AuditEntry
from safetynet.members.tests.factories import make_id_number

pytestmark = pytest.mark.django_db


def test_open_computes_income_per_head_against_district_threshold(city):
    make_threshold(city.zhongshan, 2012, "800.00")
    hardship_file = make_file(
        city.community_a, household_size=3, monthly_income="2000.00", causes="因病、子女上学"
    )
    assert hardship_file.income_per_head == Decimal("666.67")
    assert hardship_file.threshold == Decimal("800.00")
    assert hardship_file.below_threshold is True
    assert hardship_file.cause_labels == ["因病", "子女上学"]
    assert hardship_file.status == FileStatus.OPEN
    assert hardship_file.review_due_on == datetime.date(2013, 3, 1)
    assert AuditEntry.objects.filter(
        entity="assistance.hardshipfile", object_id=str(hardship_file.pk)
    ).exists()


def test_open_for_finds_the_person_by_name_and_id_number(city):
    person = make_person(5, name="张困难")
    hardship_file = services.hardship_file_open_for(
        actor=None,
        name="张困难",
        id_number=make_id_number(5),
        org_unit=city.community_a,
        household_size=2,
        monthly_income="900",
        causes=["disability"],
        opened_on=datetime.date(2012, 5, 1),
    )
    assert hardship_file.person == person


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"id_number": make_id_number(6)}, "id_number", "实名库中没有"),
        ({"id_number": make_id_number(5)[:-1] + "0"}, "id_number", "校验"),
        ({"name": "李四"}, "name", "不一致"),
        ({"household_size": 0}, "household_size", "至少为 1"),
        ({"monthly_income": "-1"}, "monthly_income", "不能为负数"),
        ({"causes": "欠债"}, "causes", "困难类型"),
    ],
)
def test_bad_input_is_refused_with_the_field_and_nothing_saved(city, change, field, words):
    make_person(5, name="张困难")
    data = {
        "name": "张困难",
        "id_number": make_id_number(5),
        "org_unit": city.community_a,
        "household_size": 3,
        "monthly_income": "1000.00",
        "causes": "illness",
        "opened_on": datetime.date(2012, 5, 1),
    } | change
    with pytest.raises(ServiceError) as error:
        services.hardship_file_open_for(actor=None, **data)
    assert error.value.field == field
    assert words in error.value.message
    assert not HardshipFile.objects.exists()


def test_second_open_file_for_the_same_person_is_refused(city):
    person = make_person(7)
    make_file(city.community_a, person=person)
    with pytest.raises(ServiceError) as error:
        make_file(city.street_b, person=person)
    assert error.value.field == "person" and "已有在档" in error.value.message
    assert HardshipFile.objects.count() == 1


def test_closing_before_opening_is_refused_and_closing_reopens_the_way(city):
    person = make_person(8)
    hardship_file = make_file(city.community_a, person=person, opened_on=datetime.date(2012, 3, 1))
    with pytest.raises(ServiceError) as error:
        services.hardship_file_close(
            actor=None,
            hardship_file=hardship_file,
            closed_on=datetime.date(2012, 2, 1),
            reason="income_risen",
        )
    assert error.value.field == "closed_on" and "不能早于建档日期" in error.value.message
    hardship_file.refresh_from_db()
    assert hardship_file.closed_on is None and hardship_file.status == FileStatus.OPEN
    closed = services.hardship_file_close(
        actor=None, hardship_file=hardship_file, closed_on=datetime.date(2012, 9, 1), reason="收入提高"
    )
    assert closed.status == FileStatus.CLOSED and closed.close_reason == "income_risen"
    assert closed.is_open_on(datetime.date(2012, 8, 31)) and not closed.is_open_on(datetime.date(2012, 9, 1))
    # closed: a new file may be opened for the same person
    make_file(city.community_a, person=person, opened_on=datetime.date(2013, 1, 1))


def test_review_sets_the_next_due_date_and_keeps_a_dated_record(city, make_staff):
    hardship_file = make_file(city.community_a)
    reviewer = make_staff("street_reviewer", city.street_a, "operator")
    reviewed = services.hardship_file_review(
        actor=reviewer,
        hardship_file=hardship_file,
        reviewed_on=datetime.date(2013, 2, 20),
        monthly_income="1200",
    )
    assert reviewed.status == FileStatus.REVIEWED
    assert reviewed.review_due_on == datetime.date(2014, 2, 20)
    assert reviewed.income_per_head == Decimal("400.00")
    assert FileReview.objects.get().reviewer_name


def test_scope_and_capability(city, make_staff):
    xigang = make_staff("xg_officer", city.xigang, "operator")
    viewer = make_staff("zs_viewer", city.zhongshan, "viewer")
    with pytest.raises(OutOfScope):
        make_file(city.community_a, actor=xigang)
    with pytest.raises(NotAllowed):
        make_file(city.community_a, actor=viewer)


def test_evidence_type_and_size_are_checked(city):
    hardship_file = make_file(city.community_a)
    pdf = SimpleUploadedFile("诊断证明.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    evidence = services.evidence_attach(actor=None, upload=pdf, kind="medical", hardship_file=hardship_file)
    assert evidence.size == len(b"%PDF-1.4 test")
    with pytest.raises(ServiceError) as error:
        services.evidence_attach(
            actor=None, upload=SimpleUploadedFile("a.exe", b"MZ"), kind="other", hardship_file=hardship_file
        )
    assert error.value.field == "upload" and "PDF" in error.value.message
    with pytest.raises(ServiceError):
        services.evidence_attach(
            actor=None,
            upload=SimpleUploadedFile("fake.png", b"hello"),
            kind="other",
            hardship_file=hardship_file,
        )
