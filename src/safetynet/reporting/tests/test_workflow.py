"""The warning and incident workflows are their tables: every (status, action) pair the table does not list
is refused by the service with "invalid_transition" and changes nothing; the pages draw exactly the
table's buttons."""

from __future__ import annotations

import pytest

from safetynet.core.errors import ServiceError
from safetynet.core.models import AuditEntry
from safetynet.reporting import services
from safetynet.reporting.models import (
    INCIDENT_TABLE,
    INCIDENT_TRANSITIONS,
    TRANSITIONS,
    WARNING_TABLE,
    Incident,
    IncidentAction,
    IncidentStatus,
    WarningAction,
    WarningSignal,
    WarningStatus,
)
from safetynet.reporting.tests.test_incidents import file
from safetynet.reporting.tests.test_services import new_warning

WARNING_REFUSED = [
    (status, action)
    for status in WarningStatus.values
    for action in WarningAction.values
    if action not in WARNING_TABLE.allowed(status)
]
INCIDENT_REFUSED = [
    (status, action)
    for status in IncidentStatus.values
    for action in IncidentAction.values
    if action not in INCIDENT_TABLE.allowed(status)
]


def test_the_old_mappings_are_the_tables_edges():
    assert TRANSITIONS[(WarningStatus.REPORTED, WarningAction.VERIFY)] == WarningStatus.VERIFIED
    assert len(TRANSITIONS) == len(WARNING_TABLE.edges()) == 8
    assert INCIDENT_TRANSITIONS == {
        (IncidentStatus.REPORTED, IncidentAction.ACKNOWLEDGE): IncidentStatus.ACKNOWLEDGED,
        (IncidentStatus.REPORTED, IncidentAction.CLOSE): IncidentStatus.CLOSED,
        (IncidentStatus.ACKNOWLEDGED, IncidentAction.CLOSE): IncidentStatus.CLOSED,
    }


@pytest.mark.parametrize("status, action", WARNING_REFUSED)
def test_every_warning_step_outside_the_table_is_refused_and_changes_nothing(world, status, action):
    warning = new_warning(world)
    WarningSignal.objects.filter(pk=warning.pk).update(status=status)
    audits = AuditEntry.objects.count()
    with pytest.raises(ServiceError) as error:
        if action == WarningAction.CREATE_CASE:
            services.warning_create_case(actor=world.street_officer, warning=warning, version=1)
        else:
            services.warning_transition(
                actor=world.street_officer, warning=warning, action=action, reason="经核实", version=1
            )
    assert error.value.code == "invalid_transition"
    assert WarningStatus(status).label in error.value.message
    warning.refresh_from_db()
    assert (warning.status, warning.version, warning.case_id) == (status, 1, None)
    assert AuditEntry.objects.count() == audits


@pytest.mark.parametrize("status, action", INCIDENT_REFUSED)
def test_every_incident_step_outside_the_table_is_refused_and_changes_nothing(world, status, action):
    incident = file(world, world.street_officer)
    Incident.objects.filter(pk=incident.pk).update(status=status)
    audits = AuditEntry.objects.count()
    with pytest.raises(ServiceError) as error:
        services.incident_transition(
            actor=world.district_officer, incident=incident, action=action, outcome="已处置", version=1
        )
    assert error.value.code == "invalid_transition"
    incident.refresh_from_db()
    assert (incident.status, incident.version, incident.outcome) == (status, 1, "")
    assert AuditEntry.objects.count() == audits


def test_a_finished_warning_says_its_handling_has_ended(world):
    warning = new_warning(world)
    warning = services.warning_transition(
        actor=world.street_officer, warning=warning, action="dismiss", reason="工资已发放"
    )
    with pytest.raises(ServiceError) as error:
        services.warning_transition(actor=world.street_officer, warning=warning, action="verify")
    assert error.value.message == "该预警已排除，处置已结束（当前状态：已排除）。"


def test_the_warning_page_draws_the_tables_buttons(world, client):
    warning = new_warning(world)
    client.force_login(world.street_officer)
    page = client.get(f"/reporting/warnings/{warning.pk}/").content.decode()
    for action in WARNING_TABLE.allowed(WarningStatus.REPORTED):
        assert f'value="{action}"' in page
    assert 'value="resolve"' not in page and 'value="handle"' not in page
