"""服务帮扶 under /api/v1/."""

from rest_framework.routers import DefaultRouter


def register(router: DefaultRouter) -> None:
    pass
