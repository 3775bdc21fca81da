from typing import Any

from django.db import models
from django.db.models import Q, QuerySet

from safetynet.core.models import AuditEntry
from safetynet.core.scope import user_scope_path


def audit_history(instance: models.Model) -> QuerySet[AuditEntry]:
    """The history of one record, newest first. Callers have already fetched the record for the user."""
    return AuditEntry.objects.filter(
        entity=instance._meta.label_lower, object_id=str(instance.pk)
    ).select_related("actor")


def audit_list_for_user(
    user: Any, *, entity: str = "", actor_name: str = "", action: str = ""
) -> QuerySet[AuditEntry]:
    path = user_scope_path(user)
    qs = AuditEntry.objects.select_related("actor")
    if path is None:
        return qs.none()
    if path:
        # Entries about records outside any unit (e.g. staff accounts) are shown to the city only.
        qs = qs.filter(Q(unit_path__startswith=path))
    if entity:
        qs = qs.filter(entity=entity)
    if actor_name:
        qs = qs.filter(actor_name__icontains=actor_name)
    if action:
        qs = qs.filter(action=action)
    return qs
