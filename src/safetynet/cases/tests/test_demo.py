"""The demo cases (``safetynet demo-data``): told through the services, deterministic for a seed, and enough
of every kind that the queues, the board, the hazard list and the notification pages have something."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from safetynet.accounts.models import User
from safetynet.cases import selectors
from safetynet.cases.demo import Story, extend_demo
from safetynet.cases.models import (
    Case,
    CaseKind,
    CaseStatus,
    DeadlineRule,
    Escalation,
    FollowUp,
    LegalAid,
    Notification,
    Outcome,
    StepAction,
)
from safetynet.cases.notifications import MemorySmsBackend
from safetynet.core.models import AuditEntry
from safetynet.orgs.demo import demo_load
from safetynet.orgs.models import OrgLevel

ANCHOR = timezone.make_aware(datetime.datetime(2012, 9, 3, 10, 0))


def plan(seed: int) -> tuple[list, dict, dict]:
    """The story planned (not run) for a seed: every event's time, and each case's category and amount."""
    with transaction.atomic():
        story = Story(seed=seed, scale="small", anchor=ANCHOR)
        story.plan()
        transaction.set_rollback(True)
    return [event.at for event in story.events], story.categories, story.amounts


def test_the_demo_tells_every_kind_of_case_the_same_way_for_a_seed(db, capsys):
    demo_load(scale="small", seed=2012)
    first = plan(2012)
    assert plan(2012) == first and plan(2013) != first
    counts = extend_demo(seed=2012, scale="small")
    # Once only: a second call leaves the cases alone.
    assert extend_demo(seed=2012, scale="small") == {"诉求案件": 0}
    assert Case.objects.count() == counts["诉求案件"] == len(first[1]) >= 150

    # Nobody is texted or mailed: the callers are fictional.
    assert "[短信]" not in capsys.readouterr().out and MemorySmsBackend.outbox == []

    statuses = dict(Case.objects.values_list("status").annotate(n=Count("pk")))
    assert all(statuses.get(status, 0) > 0 for status in CaseStatus.values), statuses
    levels = dict(Case.objects.values_list("level").annotate(n=Count("pk")))
    assert all(levels.get(level, 0) > 0 for level in (1, 2, 3, 4)), levels
    assert Case.objects.values("channel").distinct().count() == 5
    assert Case.objects.values("category").distinct().count() >= 7
    # The city board: collective cases with and without their leader, and a major case.
    board = Case.objects.on_city_board().filter(status__in=("new", "in_progress"))
    assert board.filter(collective=True, leader__isnull=False).exists()
    assert board.filter(collective=True, leader__isnull=True).exists()
    assert board.filter(major=True, collective=False).exists()
    assert Case.objects.filter(status=CaseStatus.MERGED, merged_into__collective=True).count() == 3
    # Outcomes, follow-ups, legal aid, hand-ups and a reopened case.
    assert Outcome.objects.values("kind").distinct().count() >= 5
    assert FollowUp.objects.exists() and LegalAid.objects.exists()
    assert (
        Escalation.objects.filter(reason="failed").exists()
        and Escalation.objects.filter(reason="pulled_up").exists()
    )
    assert Case.objects.filter(arrival=StepAction.REOPEN).exists()
    hazards = Case.objects.filter(kind=CaseKind.HAZARD)
    assert (
        hazards.filter(status=CaseStatus.RECTIFYING).exists()
        and hazards.filter(outcome_kind="rectified").exists()
    )
    # Every write went through the services: each case has its intake step and its audit row.
    assert not Case.objects.filter(steps__isnull=True).exists()
    assert AuditEntry.objects.filter(entity="cases.case", action="create").count() == Case.objects.count()
    assert DeadlineRule.objects.count() == counts["期限规则"] == 4
    assert not DeadlineRule.objects.filter(difficulty="").exists(), "a general case keeps the default 15 days"

    # The demo logins see full queues and their notifications.
    officer = User.objects.get(username="zhongshan_officer")
    queue = selectors.case_queue_counts(officer)
    assert all(queue[bucket] > 0 for bucket in ("new", "due_soon", "overdue", "escalated")), queue
    street = selectors.case_queue_counts(User.objects.get(username="zhongshan_street_officer"))
    assert street["all"] > 0 and street["escalated"] > 0
    city_admin = User.objects.get(username="city_admin")
    assert selectors.case_queue_counts(city_admin)["all"] > 0
    assert selectors.city_board(city_admin).count() >= 5
    assert selectors.hazard_list(officer).filter(status=CaseStatus.RECTIFYING).exists()
    # Recent notifications are unread, older ones were read.
    inbox = Notification.objects.filter(recipient=officer)
    assert inbox.filter(read=False).exists() and inbox.filter(read=True).exists()
    # The story's own mediators and leaders cannot sign in.
    made = User.objects.filter(username__startswith="demo_")
    assert made.exists() and not any(user.has_usable_password() for user in made)
    assert made.filter(role="unit_admin", org_unit__level=OrgLevel.DISTRICT).exists()
