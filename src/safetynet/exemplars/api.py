"""劳模与劳动竞赛 under /api/v1/."""

from rest_framework.routers import DefaultRouter


def register(router: DefaultRouter) -> None:
    pass
