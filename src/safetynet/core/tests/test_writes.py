"""The after-write hooks (core/writes.py) run once a service's transaction has committed, in the writer's own
call; never after a rollback; a failing hook leaves the write committed."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from safetynet.core import writes
from safetynet.core.models import AuditEntry
from safetynet.core.services import audit_build, audit_bulk, audit_record


@pytest.fixture
def calls(monkeypatch, city):
    seen: list[int] = []
    # Only this test's hook: the apps' own (the counters) are not what is tested here.
    monkeypatch.setattr(writes, "_hooks", {})
    before = AuditEntry.objects.count()  # the city's own creation was audited
    writes.after_write_register("count", lambda: seen.append(AuditEntry.objects.count() - before))
    return seen


def _write(unit: Any) -> None:
    audit_record(actor=None, action="update", instance=unit, changes={"name": ["甲", "乙"]})


@pytest.mark.django_db(transaction=True)
def test_hooks_run_after_the_commit_and_see_the_write(calls, city):
    with transaction.atomic():
        _write(city.community_a)
        assert calls == []  # not before the commit
    assert calls == [1]
    audit_bulk([audit_build(actor=None, action="update", instance=city.street_b, changes={})])
    assert calls == [1, 2]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_write_runs_no_hook(calls, city):
    with transaction.atomic():
        _write(city.community_a)
        transaction.set_rollback(True)
    assert calls == []
    assert not AuditEntry.objects.filter(changes={"name": ["甲", "乙"]}).exists()


@pytest.mark.django_db(transaction=True)
def test_a_failing_hook_leaves_the_write_committed_and_the_others_run(calls, city, caplog):
    def broken() -> None:
        raise RuntimeError("hook broke")

    writes._hooks = {"broken": broken, **writes._hooks}
    with transaction.atomic():
        _write(city.community_a)
    assert calls == [1]
    assert AuditEntry.objects.filter(changes={"name": ["甲", "乙"]}).count() == 1
    assert "after-write hook broken failed" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_hooks_run_once_per_transaction_however_many_rows_it_audits(calls, city):
    with transaction.atomic():
        _write(city.community_a)
        _write(city.street_b)
        audit_bulk([audit_build(actor=None, action="update", instance=city.street_b, changes={})])
    assert calls == [3]


@pytest.mark.django_db(transaction=True)
def test_a_write_after_a_rolled_back_savepoint_still_runs_the_hooks(calls, city):
    with transaction.atomic():
        try:
            with transaction.atomic():
                _write(city.community_a)
                raise RuntimeError("the inner write fails")
        except RuntimeError:
            pass
        _write(city.street_b)
    assert calls == [1]


def _waiting_tasks() -> list[str]:
    from django_tasks_db.models import DBTaskResult

    return list(DBTaskResult.objects.filter(status="READY").values_list("task_path", flat=True))


@pytest.mark.django_db(transaction=True)
def test_an_import_leaves_the_hooks_to_a_background_task_run_after_its_commit(calls, city):
    from safetynet.core.tasks import after_write_hooks_run

    with transaction.atomic():
        _write_quietly(city.community_a)
        writes.after_write_schedule(background=True)
        assert _waiting_tasks() == []  # nothing enqueued before the commit
    assert calls == []  # the importer did not wait for them
    assert _waiting_tasks() == ["safetynet.core.tasks.after_write_hooks_run"]
    after_write_hooks_run.call()  # what the worker does
    assert calls == [1]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_import_enqueues_nothing(calls, city):
    with transaction.atomic():
        writes.after_write_schedule(background=True)
        transaction.set_rollback(True)
    assert _waiting_tasks() == []


@pytest.mark.django_db(transaction=True)
def test_hooks_the_writer_runs_itself_cover_a_background_run_of_the_same_transaction(calls, city):
    with transaction.atomic():
        _write(city.community_a)  # a service's audit row: the writer runs the hooks
        writes.after_write_schedule(background=True)
    assert calls == [1]
    assert _waiting_tasks() == []


@pytest.mark.django_db(transaction=True)
def test_an_import_s_hooks_run_by_the_immediate_backend_see_the_write(calls, city, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with transaction.atomic():
        _write_quietly(city.community_a)
        writes.after_write_schedule(background=True)
        assert calls == []
    assert calls == [1]


def _write_quietly(unit: Any) -> None:
    """An audit row written the way an import writes its own (no service, so nothing scheduled by it)."""
    audit_build(actor=None, action="update", instance=unit, changes={"name": ["甲", "乙"]}).save()
