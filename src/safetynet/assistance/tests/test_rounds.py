"""Rounds, budgets split down the hierarchy, applications (one and a batch), the review chain with N-of-M and
the append-only vote ledger, the public notice with objections, withdrawal."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection, transaction

from safetynet.assistance import selectors, services, tasks
from safetynet.assistance.models import Application, ApplicationStatus, Budget, Vote
from safetynet.assistance.tests.factories import (
    DAY,
    approve_all_levels,
    make_application,
    make_file,
    make_round,
    make_threshold,
)
from safetynet.core.errors import ServiceError
from safetynet.orgs.models import OrgLevel

pytestmark = pytest.mark.django_db


def test_budget_split_must_add_up_and_names_the_unit(city):
    round_ = make_round(city, budget="100000.00", shares={})
    services.budget_split(actor=None, round=round_, shares={city.zhongshan: "60000", city.xigang: "40000"})
    with pytest.raises(ServiceError) as error:
        services.budget_set(actor=None, round=round_, org_unit=city.xigang, amount="40000.01")
    assert "“大连市”超额分配" in error.value.message and "0.01" in error.value.message
    services.budget_set(actor=None, round=round_, org_unit=city.street_a, amount="60000")
    with pytest.raises(ServiceError) as error:
        services.budget_set(actor=None, round=round_, org_unit=city.community_a, amount="60000.50")
    assert "“青泥洼桥街道”超额分配" in error.value.message
    assert selectors.budget_problems(round_) == []
    assert Budget.objects.get(round=round_, org_unit=city.xigang).amount == Decimal("40000.00")


def test_round_needs_an_amount_and_an_ordered_window(city):
    with pytest.raises(ServiceError) as error:
        services.round_create(
            actor=None,
            kind="winter_relief",
            year=2012,
            title="x",
            org_unit=city.city,
            window_opens=DAY,
            window_closes=DAY - datetime.timedelta(days=1),
            standard_amount="500",
        )
    assert error.value.field == "window_closes"
    with pytest.raises(ServiceError) as error:
        services.round_create(
            actor=None,
            kind="student_aid",
            year=2012,
            title="x",
            org_unit=city.city,
            window_opens=DAY,
            window_closes=DAY,
        )
    assert error.value.field == "standard_amount"


def test_application_outside_the_window_is_refused(city):
    round_ = make_round(city)
    hardship_file = make_file(city.community_a)
    with pytest.raises(ServiceError) as error:
        make_application(round_, hardship_file, on=datetime.date(2013, 1, 1))
    assert error.value.field == "round" and "不在" in error.value.message and "申请期" in error.value.message
    assert not Application.objects.exists()


def test_application_beyond_the_budget_is_refused_naming_the_unit(city):
    round_ = make_round(city, shares={city.zhongshan: "1000.00", city.street_a: "1000.00"})
    make_application(round_, make_file(city.community_a))
    make_application(round_, make_file(city.community_a))
    with pytest.raises(ServiceError) as error:
        make_application(round_, make_file(city.community_a))
    assert (
        error.value.field == "amount"
        and "超出预算" in error.value.message
        and "中山区" in error.value.message
    )
    assert Application.objects.count() == 2


def test_eligibility_rules(city):
    round_ = make_round(city)
    rich = make_file(city.community_a, household_size=1, monthly_income="5000")
    with pytest.raises(ServiceError) as error:
        make_application(round_, rich)
    assert error.value.code == "above_threshold"
    member_round = make_round(city, title="会员专项", require_member=True)
    with pytest.raises(ServiceError) as error:
        make_application(member_round, make_file(city.community_a))
    assert error.value.code == "not_member"
    poor = make_file(city.community_a)
    make_application(round_, poor)
    with pytest.raises(ServiceError) as error:
        make_application(round_, poor)
    assert error.value.code == "already_applied"


def test_batch_applies_for_every_eligible_file_set_based(city, django_assert_max_num_queries):
    round_ = make_round(city)
    files = [make_file(city.community_a) for _ in range(32)]
    make_file(city.community_a, household_size=1, monthly_income="9000")  # above the threshold
    services.hardship_file_close(
        actor=None, hardship_file=files[0], closed_on=datetime.date(2012, 11, 1), reason="employed"
    )
    make_application(round_, files[1])  # already applied
    with django_assert_max_num_queries(25):
        outcome = services.application_submit_batch(actor=None, round=round_, unit=city.zhongshan, on=DAY)
    assert outcome.created == 30  # no query per row: 30 applications in under 25 queries
    assert Application.objects.filter(round=round_).count() == 31
    again = services.application_submit_batch(actor=None, round=round_, unit=city.zhongshan, on=DAY)
    assert again.created == 0


def test_batch_beyond_the_budget_saves_nothing(city):
    round_ = make_round(city, shares={city.zhongshan: "1000.00"})
    for _ in range(3):
        make_file(city.community_a)
    with pytest.raises(ServiceError) as error:
        services.application_submit_batch(actor=None, round=round_, unit=city.zhongshan, on=DAY)
    assert "中山区" in error.value.message
    assert not Application.objects.exists()


def test_batch_runs_as_a_job_with_progress(city):
    round_ = make_round(city)
    make_file(city.community_a)
    with transaction.atomic():
        task_id = services.application_batch_enqueue(actor=None, round=round_, unit=city.zhongshan, on=DAY)
    job = services.application_batch_run(job_id=int(task_id))
    status = tasks.application_batch_status(task_id)
    assert job.status == status.status == "done" and status.created == 1 and status.percent == 100
    assert tasks.application_batch_status("nope") is None


def test_batch_reports_progress_step_by_step(city, monkeypatch):
    round_ = make_round(city)
    for _ in range(7):
        make_file(city.community_a)
    calls: list[tuple[str, int, int | None]] = []
    outcome = services.application_submit_batch(
        actor=None,
        round=round_,
        unit=city.zhongshan,
        on=DAY,
        progress=lambda stage, done, total: calls.append((stage, done, total)),
        chunk_size=3,
    )
    assert outcome.created == 7
    assert calls == [
        ("检查资格", 0, None),
        ("写入申请", 0, 7),
        ("写入申请", 3, 7),
        ("写入申请", 6, 7),
        ("写入申请", 7, 7),
        ("完成", 7, 7),
    ]
    # every application has its audit row, step by step
    from safetynet.core.models import AuditEntry

    assert AuditEntry.objects.filter(note="批量申请").count() == 7


def test_batch_job_writes_its_progress_outside_the_batch_transaction(city, monkeypatch):
    """The job's figures are written as the batch goes; a failing batch keeps nothing but its job's record."""
    round_ = make_round(city)
    for _ in range(2):
        make_file(city.community_a)
    with transaction.atomic():
        task_id = services.application_batch_enqueue(actor=None, round=round_, unit=city.zhongshan, on=DAY)
    progress = services.BatchProgress(int(task_id))
    progress("检查资格", 0, None)  # outside any transaction of the batch: plainly written
    job = tasks.application_batch_status(task_id)
    assert (job.stage, job.done, job.total, job.percent) == ("检查资格", 0, None, 0)
    progress("写入申请", 1, 4)
    job.refresh_from_db()
    assert (job.stage, job.done, job.total, job.percent) == ("写入申请", 1, 4, 25)
    progress.close()
    job = services.application_batch_run(job_id=int(task_id))
    assert (job.status, job.done, job.total, job.created, job.percent) == ("done", 2, 2, 2, 100)


def test_a_vote_is_recorded_on_the_given_day(city, make_staff):
    from django.utils import timezone

    round_ = make_round(city)  # street, then district
    application = make_application(round_, make_file(city.community_a), on=DAY)
    street = make_staff("street_day", city.street_a, "operator")
    district = make_staff("district_day", city.zhongshan, "operator")
    before = Vote.objects.count()
    with pytest.raises(ServiceError) as error:
        services.application_vote(
            actor=street, application=application, decision="approve", on=DAY - datetime.timedelta(days=1)
        )
    assert error.value.code == "vote_before_level" and error.value.field == "on"
    assert "2012-12-09 早于该申请到达乡镇街道审核的日期（2012-12-10）" in error.value.message
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ServiceError) as error:
        services.application_vote(actor=street, application=application, decision="approve", on=tomorrow)
    assert error.value.code == "vote_in_future" and "晚于今天" in error.value.message
    assert Vote.objects.count() == before
    application = services.application_vote(
        actor=street, application=application, decision="approve", on=datetime.date(2012, 12, 12)
    )
    assert application.current_level == OrgLevel.DISTRICT
    # the district cannot have voted before the street passed the application on
    with pytest.raises(ServiceError) as error:
        services.application_vote(
            actor=district, application=application, decision="approve", on=datetime.date(2012, 12, 11)
        )
    assert error.value.code == "vote_before_level" and "区市县审核" in error.value.message
    assert "（2012-12-12）" in error.value.message
    application = services.application_vote(
        actor=district, application=application, decision="approve", on=datetime.date(2012, 12, 12)
    )
    assert application.status == ApplicationStatus.APPROVED
    assert application.decided_on == datetime.date(2012, 12, 12)
    days = [timezone.localdate(v.created_at) for v in selectors.application_votes(application)]
    assert days == [datetime.date(2012, 12, 12), datetime.date(2012, 12, 12)]


def test_a_vote_without_a_day_is_now_and_a_rejection_is_decided_on_its_day(city, make_staff):
    from django.utils import timezone

    round_ = make_round(city, levels=(OrgLevel.STREET,))
    first = make_application(round_, make_file(city.community_a))
    second = make_application(round_, make_file(city.community_a))
    street = make_staff("street_now", city.street_a, "operator")
    first = services.application_vote(actor=street, application=first, decision="approve")
    assert first.decided_on == timezone.localdate()
    assert timezone.localdate(Vote.objects.get(application=first).created_at) == timezone.localdate()
    done, refused = services.application_vote_many(
        actor=street,
        applications=[second],
        decision="reject",
        reason="收入超标",
        on=datetime.date(2012, 12, 20),
    )
    assert (done, refused) == (1, [])
    second.refresh_from_db()
    assert second.status == ApplicationStatus.REJECTED and second.decided_on == datetime.date(2012, 12, 20)


def test_chain_with_n_of_m_and_the_vote_ledger(city, make_staff):
    round_ = make_round(
        city,
        levels=(OrgLevel.STREET, OrgLevel.DISTRICT, OrgLevel.CITY),
        level_rules={OrgLevel.DISTRICT: (2, 3)},
    )
    application = make_application(round_, make_file(city.community_a))
    street = make_staff("street_r", city.street_a, "operator")
    d1, d2, d3 = (make_staff(f"district_r{i}", city.zhongshan, "operator") for i in range(3))
    city_reviewer = make_staff("city_r", city.city, "operator")
    with pytest.raises(ServiceError) as error:
        services.application_vote(actor=d1, application=application, decision="approve")
    assert error.value.code == "wrong_level"
    application = services.application_vote(actor=street, application=application, decision="approve")
    assert application.current_level == OrgLevel.DISTRICT and application.status == "in_review"
    application = services.application_vote(
        actor=d1, application=application, decision="reject", reason="材料不全"
    )
    assert application.status == "in_review"  # 2 of 3: one rejection leaves 2 approvals possible
    with pytest.raises(ServiceError) as error:
        services.application_vote(actor=d1, application=application, decision="approve")
    assert error.value.code == "already_voted"
    application = services.application_vote(actor=d2, application=application, decision="approve")
    assert application.status == "in_review" and application.current_level == OrgLevel.DISTRICT
    application = services.application_vote(actor=d3, application=application, decision="approve")
    assert application.current_level == OrgLevel.CITY
    application = services.application_vote(actor=city_reviewer, application=application, decision="approve")
    assert application.status == ApplicationStatus.APPROVED and application.current_level is None
    assert [v.voter_name for v in selectors.application_votes(application)] == [
        "street_r",
        "district_r0",
        "district_r1",
        "district_r2",
        "city_r",
    ] or Vote.objects.filter(application=application).count() == 5


def test_two_rejections_of_three_reject(city, make_staff):
    round_ = make_round(city, levels=(OrgLevel.DISTRICT,), level_rules={OrgLevel.DISTRICT: (2, 3)})
    application = make_application(round_, make_file(city.community_a))
    d1, d2 = (make_staff(f"d{i}", city.zhongshan, "operator") for i in range(2))
    with pytest.raises(ServiceError) as error:
        services.application_vote(actor=d1, application=application, decision="reject")
    assert error.value.field == "reason"
    application = services.application_vote(
        actor=d1, application=application, decision="reject", reason="收入超标"
    )
    application = services.application_vote(
        actor=d2, application=application, decision="reject", reason="收入超标"
    )
    assert application.status == ApplicationStatus.REJECTED


def test_vote_ledger_is_append_only(city):
    round_ = make_round(city)
    application = make_application(round_, make_file(city.community_a))
    services.application_vote(actor=None, application=application, decision="approve")
    vote = Vote.objects.get()
    vote.reason = "改过"
    with pytest.raises(PermissionError):
        vote.save()
    with pytest.raises(PermissionError):
        vote.delete()
    with pytest.raises(PermissionError):
        Vote.objects.filter(pk=vote.pk).update(reason="改过")
    if connection.vendor == "postgresql":
        from django.db import DatabaseError

        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE assistance_vote SET reason = 'x' WHERE id = %s", [vote.pk])
    assert Vote.objects.get().reason == ""


def test_notice_runs_five_working_days_with_objections(city):
    round_ = make_round(city)
    application = approve_all_levels(make_application(round_, make_file(city.community_a)))
    # Friday 2012-12-28: 28, 31 Dec, 4 Jan, then Saturday 5 and Sunday 6 Jan 2013 (make-up working days
    # for the 1–3 January holiday) — five working days by the Chinese calendar.
    application = services.application_notice_start(
        actor=None, application=application, on=datetime.date(2012, 12, 28)
    )
    assert application.status == ApplicationStatus.IN_NOTICE
    assert application.notice_from == datetime.date(2012, 12, 28)
    assert application.notice_until == datetime.date(2013, 1, 6)
    objection = services.objection_record(
        actor=None, application=application, raised_on=datetime.date(2013, 1, 4), content="家中有车辆"
    )
    with pytest.raises(ServiceError) as error:
        services.application_notice_end(actor=None, application=application, on=datetime.date(2013, 1, 6))
    assert error.value.code == "notice_not_over"
    with pytest.raises(ServiceError) as error:
        services.application_notice_end(actor=None, application=application, on=datetime.date(2013, 1, 8))
    assert error.value.code == "open_objection"
    services.objection_resolve(
        actor=None, objection=objection, upheld=False, resolution="车辆已报废", on=datetime.date(2013, 1, 8)
    )
    assert services.application_notice_end_due(on=datetime.date(2013, 1, 8)) == 1
    application.refresh_from_db()
    assert application.status == ApplicationStatus.NOTICE_PASSED


def test_upheld_objection_rejects_and_withdrawal(city):
    round_ = make_round(city)
    application = approve_all_levels(make_application(round_, make_file(city.community_a)))
    services.application_notice_start_many(actor=None, round=round_, unit=city.zhongshan, on=DAY)
    application.refresh_from_db()
    objection = services.objection_record(
        actor=None, application=application, raised_on=application.notice_from, content="已就业"
    )
    services.objection_resolve(actor=None, objection=objection, upheld=True, resolution="核实已就业", on=DAY)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REJECTED
    other = make_application(round_, make_file(city.community_a))
    with pytest.raises(ServiceError):
        services.application_withdraw(actor=None, application=other, reason="")
    withdrawn = services.application_withdraw(actor=None, application=other, reason="本人放弃")
    assert withdrawn.status == ApplicationStatus.WITHDRAWN
    with pytest.raises(ServiceError) as error:
        services.application_withdraw(actor=None, application=withdrawn, reason="again")
    assert "不能重复撤回" in error.value.message


def test_review_queue_shows_the_users_level_only(city, make_staff):
    round_ = make_round(city)
    make_application(round_, make_file(city.community_a))
    street = make_staff("street_q", city.street_a, "operator")
    district = make_staff("district_q", city.zhongshan, "operator")
    xigang = make_staff("xg_q", city.xigang, "operator")
    assert selectors.review_queue(street).count() == 1
    assert selectors.review_queue(district).count() == 0
    assert selectors.review_queue(xigang).count() == 0
    make_threshold(city.zhongshan, 2013)


def test_student_aid_needs_the_admission_letter_in_the_same_transaction(city):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from safetynet.assistance.models import Evidence

    round_ = make_round(city, kind="student_aid", standard_amount=None, min_amount="1000", max_amount="3000")
    hardship_file = make_file(city.community_a, causes="schooling")
    data = {
        "round": round_,
        "hardship_file": hardship_file,
        "on": DAY,
        "amount": "2000",
        "student_name": "小明",
    }
    with pytest.raises(ServiceError) as error:
        services.application_submit(actor=None, **data)
    assert error.value.field == "admission_letter"
    with pytest.raises(ServiceError) as error:
        services.application_submit(
            actor=None, attachments=[("admission", SimpleUploadedFile("录取.exe", b"MZ"))], **data
        )
    assert error.value.field == "admission_letter"
    assert not Application.objects.exists() and not Evidence.objects.exists()
    letter = SimpleUploadedFile("录取通知书.pdf", b"%PDF-1.4 x", content_type="application/pdf")
    application = services.application_submit(actor=None, attachments=[("admission", letter)], **data)
    assert application.evidence.get().kind == "admission"
    with pytest.raises(ServiceError) as error:
        services.application_submit(
            actor=None,
            attachments=[("admission", SimpleUploadedFile("b.pdf", b"%PDF-1.4 x"))],
            **(data | {"amount": "3000.01", "hardship_file": make_file(city.community_a)}),
        )
    assert error.value.field == "amount"


def test_worker_entry_points(city):
    round_ = make_round(city)
    hardship_file = make_file(city.community_a)
    assert list(selectors.rounds_open_for(hardship_file.person, DAY)) == [round_]
    assert not selectors.rounds_open_for(hardship_file.person, datetime.date(2013, 2, 1)).exists()
    application = services.application_submit_by_worker(person=hardship_file.person, round=round_, on=DAY)
    assert application.org_unit == city.community_a
    assert list(selectors.applications_of_person(hardship_file.person)) == [application]
    from safetynet.assistance.tests.factories import make_person

    with pytest.raises(ServiceError) as error:
        services.application_submit_by_worker(person=make_person(), round=round_, on=DAY)
    assert error.value.field == "hardship_file"


def test_vote_many_goes_on_past_refusals(city):
    round_ = make_round(city)
    first = make_application(round_, make_file(city.community_a))
    second = make_application(round_, make_file(city.community_a))
    services.application_withdraw(actor=None, application=second, reason="放弃")
    done, refused = services.application_vote_many(
        actor=None, applications=[first, second], decision="approve"
    )
    assert done == 1 and len(refused) == 1 and "撤回" in refused[0][1]


def test_closed_round_takes_no_applications(city):
    round_ = make_round(city)
    closed = services.round_close(actor=None, round=round_)
    assert closed.status == "closed"
    with pytest.raises(ServiceError) as error:
        make_application(closed, make_file(city.community_a))
    assert error.value.field == "round"
    with pytest.raises(ServiceError) as error:
        services.round_close(actor=None, round=closed)
    assert "不能重复结束" in error.value.message
