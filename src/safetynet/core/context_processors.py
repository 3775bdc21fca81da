from typing import Any

from django.http import HttpRequest


def shell(request: HttpRequest) -> dict[str, Any]:
    """What the navigation shell needs on every page: the user's unit and role."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"staff_unit": getattr(user, "org_unit", None), "staff_role": user.get_role_display()}
