"""网络工会（职工服务平台）: the records of this area."""

from django.db import models  # noqa: F401
