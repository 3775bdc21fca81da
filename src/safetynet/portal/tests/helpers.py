"""Test helpers of the workers' platform, and its part of the staff scope walk (tests/test_scope_walk.py)."""

from __future__ import annotations

import datetime
import re
from typing import Any

from django.db.models import Model

from safetynet.members import services as member_services
from safetynet.members.tests.factories import make_id_number
from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory, make_credit_code
from safetynet.portal import services
from safetynet.portal.models import JoinApplication, Notice, WorkerAccount
from safetynet.portal.sms import MemorySmsGateway

# Worker pages and the worker API have their own walk (portal/tests/test_worker_walk.py): staff never reach them.
SCOPE_WALK_SKIPPED_PREFIXES = ("worker/", "api/v1/me/")
SCOPE_WALK_MODEL_BY_URL_NAME = {"portal:join_decide": JoinApplication}

PASSWORD = "Gonghui-2026"
EMPLOYED_FROM = datetime.date(2010, 3, 1)


def make_world(city: Any) -> dict[str, Any]:
    """An enterprise in 友好社区 covered by its union, one in 西岗区 without, and three registered people."""
    enterprise = EnterpriseFactory(
        org_unit=city.community_a, credit_code=make_credit_code(501), name="友好电子有限公司"
    )
    union = UnionFactory(org_unit=city.community_a, name="友好电子有限公司工会")
    member_services_cover(union, enterprise)
    xigang_enterprise = EnterpriseFactory(
        org_unit=city.street_b, credit_code=make_credit_code(502, "210203"), name="八一路饮料厂"
    )
    people = {}
    for n, name in ((11, "王小明"), (13, "李大伟"), (15, "赵春花")):
        id_number = make_id_number(n)
        employment = member_services.person_register(
            actor=None, name=name, id_number=id_number, enterprise=enterprise, employed_from=EMPLOYED_FROM
        )
        people[name] = {"person": employment.person, "id_number": id_number}
    return {
        "enterprise": enterprise,
        "union": union,
        "xigang_enterprise": xigang_enterprise,
        "people": people,
    }


def member_services_cover(union: Any, enterprise: Any) -> None:
    from safetynet.orgs.services import union_cover_enterprise

    union_cover_enterprise(
        actor=None, union=union, enterprise=enterprise, valid_from=datetime.date(2006, 1, 1)
    )


def last_code(mobile: str) -> str:
    for number, text in reversed(MemorySmsGateway.outbox):
        if number == mobile:
            return re.search(r"验证码 (\d{6})", text).group(1)
    raise AssertionError(f"no SMS to {mobile}")


def make_account(mobile: str, *, name: str = "", id_number: str = "") -> WorkerAccount:
    """A registered worker (through the services), verified when name and ID number are given."""
    from django.core.cache import cache

    services.sms_code_send(mobile=mobile)
    account = services.worker_register(mobile=mobile, code=last_code(mobile), password=PASSWORD, consent=True)
    cache.clear()  # the per-number SMS limit must not bind the next helper call
    if name:
        account = services.worker_verify_identity(account=account, name=name, id_number=id_number)
    return account


def scope_walk_records(enterprise: Any) -> tuple[dict[type[Model], Model], list[str]]:
    """A pending join application of a 中山区 worker to the union covering the walk's enterprise."""
    from safetynet.orgs.models import UnionCoverage

    coverage = UnionCoverage.objects.filter(enterprise=enterprise).select_related("union").first()
    union = (
        coverage.union if coverage else UnionFactory(org_unit=enterprise.org_unit, name="中山走查入会工会")
    )
    if coverage is None:
        member_services_cover(union, enterprise)
    id_number = make_id_number(777, born=datetime.date(1977, 7, 7))
    member_services.person_register(
        actor=None,
        name="中山走查入会人",
        id_number=id_number,
        enterprise=enterprise,
        employed_from=EMPLOYED_FROM,
    )
    from django.core.cache import cache

    cache.clear()
    MemorySmsGateway.outbox = []
    from django.test import override_settings

    with override_settings(PORTAL_SMS_GATEWAY="safetynet.portal.sms.MemorySmsGateway"):
        account = make_account("13900007777", name="中山走查入会人", id_number=id_number)
        application = services.join_apply(account=account, enterprise_id=enterprise.pk)
    cache.clear()
    notice = services.notice_publish(
        actor=None, org_unit=enterprise.org_unit, title="中山走查职工通知", body="中山走查通知内容"
    )
    return {JoinApplication: application, Notice: notice}, ["中山走查入会人", "中山走查职工通知"]
