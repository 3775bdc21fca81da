"""和谐劳动关系评价: the records of this area."""

from django.db import models  # noqa: F401
