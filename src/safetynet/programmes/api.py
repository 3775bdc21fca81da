"""/api/v1/ for the programmes. The viewsets come with the pages (issue 4 point 6); the lead wires
``register`` into safetynet/api_urls.py already, so adding them later touches only this file."""

from __future__ import annotations

from rest_framework.routers import BaseRouter


def register(router: BaseRouter) -> None:
    """Nothing registered yet."""
