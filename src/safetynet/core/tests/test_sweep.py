import datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from safetynet.core import sweep


@pytest.mark.django_db
def test_sweep_runs_registered_jobs_for_the_given_moment(capsys):
    seen = []

    @sweep.sweep_job("test-job")
    def job(now: datetime.datetime) -> str:
        seen.append(now)
        return "1 个到期"

    try:
        call_command("sweep", now="2013-01-01T00:00:00+08:00")
    finally:
        sweep._jobs.pop("test-job")
    assert seen == [datetime.datetime.fromisoformat("2013-01-01T00:00:00+08:00")]
    assert "test-job: 1 个到期" in capsys.readouterr().out


@pytest.mark.django_db
def test_sweep_rejects_a_malformed_moment():
    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("sweep", now="yesterday")
