"""网络工会（职工服务平台） under /api/v1/."""

from rest_framework.routers import DefaultRouter


def register(router: DefaultRouter) -> None:
    pass
