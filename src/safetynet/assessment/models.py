"""目标考核: the records of this area."""

from django.db import models  # noqa: F401
