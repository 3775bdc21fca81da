"""劳模与劳动竞赛: the records of this area."""

from django.db import models  # noqa: F401
