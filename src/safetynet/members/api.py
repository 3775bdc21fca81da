"""REST endpoints of the member registry (/api/v1/…); added with the pages."""

from rest_framework.routers import BaseRouter


def register(router: BaseRouter) -> None:
    pass
