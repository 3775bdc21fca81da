"""The unread-notification count for the top-bar badge, on every staff page (one indexed count)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from safetynet.cases.selectors import notification_unread_count


def notifications(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": notification_unread_count(user)}
