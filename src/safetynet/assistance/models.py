"""服务帮扶: the records of this area."""

from django.db import models  # noqa: F401
