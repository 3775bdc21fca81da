"""How many failures count against a login attempt (django-axes' database handler, with two limits).

An account is locked after ``AXES_FAILURE_LIMIT`` failures (SAFETYNET_LOGIN_FAILURE_LIMIT, default 5) from
anywhere; an address after ``LOGIN_ADDRESS_FAILURE_LIMIT`` failures (SAFETYNET_LOGIN_ADDRESS_FAILURE_LIMIT,
default 20) at any accounts. The address limit is higher because a union office's staff usually reach the
system through one shared address: five typos by colleagues must not lock the whole office out, while
someone trying many accounts from one address is still stopped.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from django.conf import settings
from django.db.models import Sum


class AccountAndAddressLockout(AxesDatabaseHandler):
    def get_failures(self, request: Any, credentials: dict | None = None) -> int:
        """The failures of the account, or the address's scaled to the account's limit: axes compares the
        larger with AXES_FAILURE_LIMIT, so either limit reached means locked."""
        # One queryset per AXES_LOCKOUT_PARAMETERS entry, in order: ["username", "ip_address"].
        account_attempts, address_attempts = self.get_user_attempts(request, credentials)
        account = account_attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
        address = address_attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
        limit = get_failure_limit(request, credentials)
        address_limit = max(int(settings.LOGIN_ADDRESS_FAILURE_LIMIT), 1)
        return max(account, address * limit // address_limit)
