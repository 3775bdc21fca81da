"""Fixtures for the workers' platform: the shared small city, an enterprise with a union, registered workers."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache

from safetynet.portal.sms import MemorySmsGateway
from safetynet.portal.tests.helpers import make_world


@pytest.fixture(autouse=True)
def _portal_settings(settings):
    settings.PORTAL_SMS_GATEWAY = "safetynet.portal.sms.MemorySmsGateway"
    settings.SAFETYNET_SMS_BACKEND = "safetynet.cases.notifications.MemorySmsBackend"
    MemorySmsGateway.outbox = []
    cache.clear()
    yield
    cache.clear()


@dataclass
class World:
    city: Any
    enterprise: Any
    union: Any
    xigang_enterprise: Any
    chair: Any
    officer: Any
    xigang_chair: Any
    people: dict[str, Any]


@pytest.fixture
def world(city, make_staff) -> World:
    data = make_world(city)
    return World(
        city=city,
        chair=make_staff("yh_chair", city.community_a, "chair"),
        officer=make_staff("zs_officer", city.zhongshan, "operator"),
        xigang_chair=make_staff("xg_chair", city.xigang, "chair"),
        **data,
    )


TODAY = datetime.date.today()
