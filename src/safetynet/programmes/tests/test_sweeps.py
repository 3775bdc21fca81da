import datetime

import pytest
from django.core.management import call_command

from safetynet.core.sweep import discover_jobs
from safetynet.programmes import services
from safetynet.programmes.models import ContractAction, ContractStatus, Reminder, ReminderKind
from safetynet.programmes.sweeps import advance_contracts, remind_contracts
from safetynet.programmes.tests.helpers import D, make_actors, to_signed

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def at(day: datetime.date) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, 8, 0, tzinfo=SHANGHAI)


@pytest.fixture
def actors(city, make_staff):
    return make_actors(city, make_staff)


def test_jobs_are_registered():
    jobs = discover_jobs()
    assert "contracts-expiry" in jobs and "contracts-status" in jobs


def test_expiry_reminder_is_created_once_within_sixty_days(actors):
    contract = to_signed(actors)  # expires 2014-12-31
    services.contract_file(actor=actors.chair, contract=contract, filed_on=D(2012, 2, 15))
    remind_contracts(at(D(2014, 10, 31)))  # 61 days before: not yet
    assert not Reminder.objects.filter(kind=ReminderKind.EXPIRY).exists()
    summary = remind_contracts(at(D(2014, 11, 1)))  # 60 days before
    assert summary.startswith("1 份合同即将到期")
    reminder = Reminder.objects.get(kind=ReminderKind.EXPIRY)
    assert reminder.contract_id == contract.pk and reminder.due_on == D(2014, 12, 31)
    # The chair of the enterprise's unit and the street officer above it.
    assert reminder.recipients == "chair、street"
    remind_contracts(at(D(2014, 11, 2)))
    remind_contracts(at(D(2014, 12, 20)))
    assert Reminder.objects.filter(kind=ReminderKind.EXPIRY).count() == 1
    # After expiry nothing new either.
    remind_contracts(at(D(2015, 1, 5)))
    assert Reminder.objects.count() == 1


def test_overdue_filing_is_flagged_once(actors):
    contract = to_signed(actors, signed_on=D(2012, 3, 1))
    remind_contracts(at(D(2012, 3, 11)))
    assert not Reminder.objects.exists()
    remind_contracts(at(D(2012, 3, 12)))
    remind_contracts(at(D(2012, 3, 20)))
    reminder = Reminder.objects.get()
    assert (reminder.kind, reminder.contract_id, reminder.due_on) == (
        ReminderKind.FILING_OVERDUE,
        contract.pk,
        D(2012, 3, 11),
    )


def test_filed_contract_takes_effect_after_the_objection_period_then_expires(actors):
    contract = to_signed(actors, signed_on=D(2012, 2, 20))  # term 2012-03-01 .. 2014-12-31
    contract = services.contract_file(actor=actors.chair, contract=contract, filed_on=D(2012, 2, 25))
    assert contract.deemed_effective_on == D(2012, 3, 12)  # 2012 is a leap year: objection until 3-11
    advance_contracts(at(D(2012, 3, 11)))
    contract.refresh_from_db()
    assert contract.status == ContractStatus.FILED
    assert advance_contracts(at(D(2012, 3, 12))) == "1 份合同生效，0 份合同到期"
    contract.refresh_from_db()
    assert contract.status == ContractStatus.IN_FORCE
    assert advance_contracts(at(D(2012, 3, 12))) == "0 份合同生效，0 份合同到期"
    advance_contracts(at(D(2014, 12, 31)))
    contract.refresh_from_db()
    assert contract.status == ContractStatus.IN_FORCE
    advance_contracts(at(D(2015, 1, 1)))
    contract.refresh_from_db()
    assert contract.status == ContractStatus.EXPIRED
    assert list(contract.steps.values_list("action", flat=True))[-2:] == [
        ContractAction.TAKE_EFFECT,
        ContractAction.EXPIRE,
    ]


def test_sweep_command_runs_the_contract_jobs(actors, capsys):
    to_signed(actors, signed_on=D(2012, 3, 1))
    call_command("sweep", now="2012-03-20T00:00:00+08:00")
    out = capsys.readouterr().out
    assert "contracts-expiry: 0 份合同即将到期已提醒，1 份合同逾期未备案已提醒" in out
    call_command("sweep", now="2012-03-20T00:00:00+08:00")
    assert Reminder.objects.count() == 1
