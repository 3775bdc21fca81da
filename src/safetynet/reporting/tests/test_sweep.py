"""The sweep: reporters reminded N days before the due date, the missing list to the level above the day after
it; each sent once, through the cases' in-app notifications and email."""

from __future__ import annotations

from django.core import mail
from django.core.management import call_command

from safetynet.cases.models import Notification
from safetynet.core.sweep import run_sweep
from safetynet.reporting.models import Reminder
from safetynet.reporting.tests.conftest import at, file_report


def texts(username):
    """The notifications about May 2012 (April is past its due date too, and escalated on the first run)."""
    return list(
        Notification.objects.filter(recipient__username=username, text__contains="2012年5月").values_list(
            "text", flat=True
        )
    )


def test_reminders_before_and_escalation_after_the_due_date(
    world, make_staff, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    world.street_officer.email = "street@example.org"
    world.street_officer.save()
    street_e_officer = make_staff("street_e_officer", world.street_e, "operator")
    file_report(world, world.city.street_b, "2012-06-02 09:00", zero=True)

    # June 2: three days before the 5th: nothing yet (default N = 2).
    run_sweep(at("2012-06-02 08:00"))
    assert not Reminder.objects.filter(period="2012-05").exists()
    # Nobody filed April (D closed only on May 20, C opened in May).
    assert Reminder.objects.filter(period="2012-04", kind="missing").count() == 4
    mail.outbox.clear()

    # June 3: A and E have not reported: their officers are reminded; B has reported.
    with django_capture_on_commit_callbacks(execute=True):
        results = dict(run_sweep(at("2012-06-03 08:00")))
    assert results["reporting-reminders"].startswith("报表截止前提醒 2 个单位")
    assert texts("street_officer") == [
        "提醒：劳动关系预警月报（2012年5月）将于 2012-06-05 截止，本单位尚未报送。"
    ]
    assert len(texts("street_e_officer")) == 1
    assert texts("xg_street_officer") == []
    assert [m.to for m in mail.outbox] == [["street@example.org"]]

    # Run again the same day and the next: nothing new.
    run_sweep(at("2012-06-03 20:00"))
    run_sweep(at("2012-06-04 08:00"))
    assert Reminder.objects.filter(kind="due_soon", period="2012-05").count() == 2
    assert len(texts("street_officer")) == 1

    # E reports on the due day; A does not.
    file_report(world, world.street_e, "2012-06-05 18:00", zero=True)
    assert street_e_officer  # E's officer is not told again
    results = dict(run_sweep(at("2012-06-06 08:00")))
    assert results["reporting-reminders"].endswith("逾期未报告知上级 1 个单位")
    assert texts("district_officer") == [
        "逾期未报：劳动关系预警月报（2012年5月，截止 2012-06-05）青泥洼桥街道。"
    ]
    assert len(texts("district_head")) == 1
    assert texts("xigang_officer") == []
    run_sweep(at("2012-06-07 08:00"))
    assert len(texts("district_officer")) == 1
    assert Reminder.objects.filter(kind="missing", period="2012-05").count() == 1


def test_the_reminder_days_are_a_setting(world, settings):
    settings.REPORT_REMINDER_DAYS = 4
    run_sweep(at("2012-06-01 08:00"))
    # A, B and E (C opened and D closed inside May).
    assert Reminder.objects.filter(kind="due_soon", period="2012-05").count() == 3


def test_old_periods_do_not_flood_anyone(world):
    """A form loaded with years of history: only the last periods are escalated."""
    call_command("sweep", "--now", "2013-01-01T00:00:00+08:00")
    periods = set(Reminder.objects.values_list("period", flat=True))
    assert periods == {"2012-11"}
