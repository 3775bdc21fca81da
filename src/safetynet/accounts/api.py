from rest_framework.routers import BaseRouter


def register(router: BaseRouter) -> None:
    """Staff accounts are managed through pages and the command line; nothing on the API yet."""
