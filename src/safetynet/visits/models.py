"""走访企业职工: the records of this area."""

from django.db import models  # noqa: F401
