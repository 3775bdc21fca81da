"""The services: forms and versions, filing and corrections, bad input refused with the field named and
nothing saved, the warning lifecycle, a case from a warning, manual reminders."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from safetynet.cases.models import Case, Notification
from safetynet.core.errors import NotAllowed, OutOfScope, ServiceError
from safetynet.core.models import AuditEntry
from safetynet.orgs.models import OrgLevel
from safetynet.reporting import services
from safetynet.reporting.models import FormVersion, Reminder, Report, ReportForm, WarningSignal
from safetynet.reporting.tests.conftest import MAY, at, file_report

D = datetime.date


# --- forms --------------------------------------------------------------------------------------------


def make_form(**overrides):
    data = {
        "actor": None,
        "code": "JB01",
        "name": "工会工作季报",
        "period_kind": "quarter",
        "level": OrgLevel.DISTRICT,
        "due_day": 15,
    }
    data.update(overrides)
    return services.reportform_create(**data)


def test_a_form_starts_with_version_one(world):
    version = world.form.versions.get()
    assert version.number == 1
    assert [f["key"] for f in version.fields] == ["f1", "f2", "f3", "f4", "f5"]
    assert version.fields[3]["choices"] == ["低", "中", "高"]
    assert AuditEntry.objects.filter(entity="reporting.reportform", object_id=str(world.form.pk)).exists()


@pytest.mark.parametrize("due_day", [31, 0, 29, "5"])
def test_a_due_day_outside_1_to_28_is_refused(db, due_day):
    with pytest.raises(ServiceError) as error:
        make_form(due_day=due_day)
    assert error.value.field == "due_day" and "截止日" in error.value.message
    assert not ReportForm.objects.exists()


def test_form_codes_and_designed_fields_are_checked(db):
    with pytest.raises(ServiceError) as error:
        make_form(code="报表一")
    assert error.value.field == "code"
    with pytest.raises(ServiceError, match="至少要有两个选项"):
        make_form(fields=[{"label": "等级", "kind": "choice", "choices": "高"}])
    with pytest.raises(ServiceError, match="重复"):
        make_form(fields=[{"label": "金额", "kind": "amount"}, {"label": "金额", "kind": "number"}])
    assert not ReportForm.objects.exists()


def test_only_the_city_designs_forms(world):
    with pytest.raises(NotAllowed):
        make_form(actor=world.district_head)
    assert make_form(actor=world.city_admin).code == "JB01"


def test_a_form_changed_mid_year_keeps_old_reports_under_their_version(world):
    old = file_report(
        world, world.city.street_a, "2012-06-02 09:00", zero=False, values={"f1": "1200", "f2": 3}
    )
    version = services.reportform_publish_fields(
        actor=world.city_admin,
        form=world.form,
        fields=[
            {"key": "f2", "label": "涉及职工人数", "kind": "workers", "required": True},
            {"label": "欠保金额", "kind": "amount"},
        ],
        note="七月起增加欠保",
    )
    assert version.number == 2
    assert [f["key"] for f in version.fields] == ["f2", "f1"]  # the new field takes the next free key
    new = services.report_submit(
        actor=None,
        form=world.form,
        unit=world.street_e,
        period="2012-06",
        is_zero=False,
        values={"f2": 5, "f1": "800"},
        submitted_at=at("2012-07-02 09:00"),
    )
    old.refresh_from_db()
    assert old.version.number == 1 and old.values == {"f1": "1200.00", "f2": 3}
    assert old.version.fields[0]["label"] == "欠薪金额"
    assert new.version == version and new.values == {"f2": 5, "f1": "800.00"}
    # Publishing the same fields again makes no new version.
    again = services.reportform_publish_fields(actor=None, form=world.form, fields=version.fields)
    assert again == version and FormVersion.objects.filter(form=world.form).count() == 2


def test_period_kind_and_level_stay_once_reports_exist(world):
    file_report(world, world.city.street_a, "2012-06-02 09:00", zero=True)
    with pytest.raises(ServiceError) as error:
        services.reportform_update(actor=None, form=world.form, period_kind="quarter")
    assert error.value.field == "period_kind"
    services.reportform_update(actor=None, form=world.form, due_day=10, name="劳动关系预警信息月报")
    world.form.refresh_from_db()
    assert world.form.due_day == 10


# --- filing -------------------------------------------------------------------------------------------


def test_a_zero_report_is_one_call_and_first_class(world):
    report = services.report_submit(
        actor=world.street_officer,
        form=world.form,
        unit=world.city.street_a,
        period="2012-05",
        is_zero=True,
        submitted_at=at("2012-06-02 09:00"),
    )
    assert report.is_zero and report.values == {} and report.submitted_by == world.street_officer
    assert report.version.number == 1
    entry = AuditEntry.objects.get(entity="reporting.report", object_id=str(report.pk))
    assert entry.note == "零申报" and entry.unit_path == world.city.street_a.path


def test_corrections_are_kept_beside_the_first(world):
    first = file_report(world, world.city.street_a, "2012-06-02 09:00", zero=True)
    second = services.report_submit(
        actor=world.street_officer,
        form=world.form,
        unit=world.city.street_a,
        period="2012-05",
        is_zero=False,
        values={"f1": "5000", "f2": "12", "f3": "是", "f4": "高", "f5": "补报：５月２０日发现欠薪"},
        note="补报欠薪",
        submitted_at=at("2012-06-08 09:00"),
    )
    assert Report.objects.filter(form=world.form, unit=world.city.street_a).count() == 2
    first.refresh_from_db()
    assert first.is_zero  # never overwritten
    assert second.values == {
        "f1": "5000.00",
        "f2": 12,
        "f3": True,
        "f4": "高",
        "f5": "补报：５月２０日发现欠薪",
    }
    assert AuditEntry.objects.get(entity="reporting.report", object_id=str(second.pk)).note == "更正"


def refused(world, **kwargs):
    data = {
        "actor": world.street_officer,
        "form": world.form,
        "unit": world.city.street_a,
        "period": "2012-05",
        "is_zero": True,
        "submitted_at": at("2012-06-02 09:00"),
    }
    data.update(kwargs)
    before = (Report.objects.count(), AuditEntry.objects.count())
    with pytest.raises(ServiceError) as error:
        services.report_submit(**data)
    assert (Report.objects.count(), AuditEntry.objects.count()) == before
    return error.value


def test_a_unit_outside_the_scope_is_out_of_scope(world):
    error = refused(world, unit=world.city.street_b)
    assert isinstance(error, OutOfScope) and error.field == "unit"


def test_a_period_not_yet_ended_is_refused(world):
    error = refused(world, submitted_at=at("2012-05-31 23:59"))
    assert error.code == "period_not_ended" and error.field == "period" and "2012-05-31" in error.message
    error = refused(world, period="2030-01", submitted_at=None)
    assert error.code == "period_not_ended"


def test_a_form_not_in_use_is_refused(world):
    error = refused(world, period="2011-12", submitted_at=at("2012-01-02 09:00"))
    assert error.code == "form_not_in_use" and error.field == "form" and "2011年12月" in error.message


def test_a_period_of_the_wrong_kind_is_refused(world):
    error = refused(world, period="2012Q2")
    assert error.code == "invalid_period" and error.field == "period" and "按月报送" in error.message


def test_a_unit_of_another_level_is_refused(world):
    error = refused(world, unit=world.city.community_a)
    assert error.code == "not_expected" and error.field == "unit" and "乡镇街道" in error.message


def test_a_negative_amount_is_refused_naming_the_field(world):
    error = refused(world, is_zero=False, values={"f1": "-100", "f2": 3})
    assert error.code == "negative" and error.field == "f1" and "欠薪金额" in error.message


def test_required_fields_numbers_and_choices_are_checked(world):
    assert refused(world, is_zero=False, values={"f1": "100"}).field == "f2"
    assert "涉及人数" in refused(world, is_zero=False, values={"f2": "2.5"}).message
    assert refused(world, is_zero=False, values={"f2": 1, "f4": "极高"}).field == "f4"
    assert refused(world, is_zero=False, values={"f2": 1, "f1": "一千"}).field == "f1"
    assert refused(world, is_zero=False, values={"f2": 1, "zz": "x"}).field == "values"


def test_a_viewer_cannot_file(world):
    with pytest.raises(NotAllowed):
        services.report_submit(
            actor=world.viewer, form=world.form, unit=world.city.street_a, period="2012-05", is_zero=True
        )


def test_a_report_in_the_future_is_refused(world):
    error = refused(world, submitted_at=timezone.now() + datetime.timedelta(days=1))
    assert error.code == "future"


# --- reminders ----------------------------------------------------------------------------------------


def test_a_manual_reminder_goes_to_units_that_have_not_reported(world):
    file_report(world, world.city.street_a, "2012-06-02 09:00", zero=True)
    sent = services.reminder_send(
        actor=world.district_officer, form=world.form, period=MAY, units=[world.city.street_a, world.street_e]
    )
    assert sent == 1
    reminder = Reminder.objects.get()
    assert (
        reminder.unit == world.street_e
        and reminder.kind == "manual"
        and reminder.sent_by == world.district_officer
    )
    with pytest.raises(OutOfScope):
        services.reminder_send(
            actor=world.district_officer, form=world.form, period=MAY, units=[world.city.street_b]
        )


# --- warnings -----------------------------------------------------------------------------------------

STATEMENT = "新手测试：工资（三月）未发，未留电话。１２３"


def new_warning(world, **overrides):
    data = {
        "actor": world.street_officer,
        "enterprise": world.enterprise_a,
        "category": "wage_arrears",
        "discovered_on": D(2012, 5, 20),
        "reported_at": at("2012-05-21 10:00"),
        "workers_involved": 8,
        "amount": "40000",
        "months": 2,
        "description": f"  {STATEMENT}\r\n第二行  ",
    }
    data.update(overrides)
    return services.warning_create(**data)


def test_a_warning_keeps_its_statement_as_typed_and_tells_the_levels_above(world):
    warning = new_warning(world)
    assert warning.description == f"{STATEMENT}\n第二行"
    assert warning.status == "reported" and warning.amount == 40000
    recipients = set(Notification.objects.values_list("recipient__username", flat=True))
    assert {"street_officer", "district_officer", "district_head"} <= recipients
    assert "xigang_officer" not in recipients


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"amount": "-1"}, "amount"),
        ({"amount": "四万"}, "amount"),
        ({"workers_involved": "-3"}, "workers_involved"),
        ({"category": "fire"}, "category"),
        ({"reported_at": at("2012-05-19 10:00")}, "reported_at"),
        ({"discovered_on": None}, "discovered_on"),
    ],
)
def test_bad_warnings_are_refused_naming_the_field(world, overrides, field):
    with pytest.raises(ServiceError) as error:
        new_warning(world, **overrides)
    assert error.value.field == field
    assert not WarningSignal.objects.exists()


def test_a_warning_of_another_district_is_out_of_scope(world):
    with pytest.raises(OutOfScope):
        new_warning(world, enterprise=world.enterprise_b)


def test_the_lifecycle_follows_the_transition_table(world):
    warning = new_warning(world)
    with pytest.raises(ServiceError) as error:
        services.warning_transition(actor=world.street_officer, warning=warning, action="resolve")
    assert error.value.code == "invalid_transition" and "核实" in error.value.message
    warning = services.warning_transition(
        actor=world.street_officer, warning=warning, action="verify", version=1
    )
    warning = services.warning_transition(
        actor=world.street_officer, warning=warning, action="handle", note="约谈企业负责人", version=2
    )
    with pytest.raises(ServiceError) as error:
        services.warning_transition(actor=world.street_officer, warning=warning, action="resolve", version=2)
    assert error.value.code == "conflict"
    warning = services.warning_transition(
        actor=world.street_officer, warning=warning, action="resolve", version=3
    )
    assert warning.status == "resolved" and warning.handling_note == "约谈企业负责人"
    with pytest.raises(ServiceError) as error:
        services.warning_transition(actor=world.street_officer, warning=warning, action="dismiss", reason="x")
    assert error.value.code == "invalid_transition" and "已结束" in error.value.message


def test_dismissing_needs_a_reason(world):
    warning = new_warning(world)
    with pytest.raises(ServiceError) as error:
        services.warning_transition(actor=world.street_officer, warning=warning, action="dismiss")
    assert error.value.field == "reason"
    warning = services.warning_transition(
        actor=world.street_officer, warning=warning, action="dismiss", reason="经核实，工资已于当日发放"
    )
    assert warning.status == "dismissed" and warning.dismiss_reason == "经核实，工资已于当日发放"


def test_a_viewer_cannot_change_a_warning(world):
    warning = new_warning(world)
    with pytest.raises(NotAllowed):
        services.warning_transition(actor=world.viewer, warning=warning, action="verify")


def test_create_a_case_from_a_verified_warning(world):
    warning = new_warning(world, workers_involved=12)
    with pytest.raises(ServiceError) as error:
        services.warning_create_case(actor=world.street_officer, warning=warning)
    assert error.value.code == "invalid_transition"  # verify first
    services.warning_transition(actor=world.street_officer, warning=warning, action="verify")
    case = services.warning_create_case(
        actor=world.street_officer, warning=warning, now=at("2012-05-22 09:00")
    )
    warning.refresh_from_db()
    assert warning.case == case and warning.status == "handling"
    assert (
        case.channel == "referral"
        and case.category == "wage_arrears"
        and case.enterprise == world.enterprise_a
    )
    assert case.collective and case.workers_involved == 12 and case.claim_amount == 40000
    assert STATEMENT in case.description
    with pytest.raises(ServiceError) as error:
        services.warning_create_case(actor=world.street_officer, warning=warning)
    assert error.value.code == "has_case" and Case.objects.count() == 1
