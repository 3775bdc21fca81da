"""和谐劳动关系评价 under /api/v1/."""

from rest_framework.routers import DefaultRouter


def register(router: DefaultRouter) -> None:
    pass
