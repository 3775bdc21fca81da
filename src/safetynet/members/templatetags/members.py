"""``{% enterprise_roster enterprise as roster %}``: the 职工与会员 tab of an enterprise page.

The enterprise page belongs to orgs, which never imports members; its template includes
``members/_enterprise_roster.html``, which loads this tag, so the tab's data comes from here.
One page of employees is one query (person joined, membership as an EXISTS), plus a count and an
aggregate: a 5,000-employee enterprise costs the same as a small one.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django import template
from django.core.paginator import Page, Paginator
from django.urls import reverse
from django.utils.translation import gettext

from safetynet.members import selectors, services
from safetynet.members.views import as_of_date, members_import_url
from safetynet.orgs.models import Enterprise

register = template.Library()
PAGE_SIZE = 50


@dataclass
class EnterpriseRoster:
    as_of: datetime.date
    page_obj: Page
    counts: dict[str, int]
    exports: list[tuple[str, str]]
    import_url: str | None
    register_url: str | None = None

    @property
    def rate(self) -> float | None:
        employees = self.counts["employees"]
        return self.counts["members"] / employees if employees else None


@register.simple_tag(takes_context=True)
def enterprise_roster(context: Any, enterprise: Enterprise) -> EnterpriseRoster:
    request = context["request"]
    user = request.user
    day = as_of_date(request)
    employees = selectors.enterprise_employees(user, enterprise, day=day)
    counts = selectors.enterprise_roster_counts(user, enterprise, day=day)
    paginator = Paginator(employees, PAGE_SIZE)
    # The aggregate already counted the rows: the paginator need not count them again.
    paginator.count = counts["employees"]
    base = reverse("members:enterprise_roster_export", args=[enterprise.pk])
    exports = [
        (gettext("导出 CSV"), f"{base}?as_of={day.isoformat()}&format=csv"),
        (gettext("导出 XLSX"), f"{base}?as_of={day.isoformat()}&format=xlsx"),
    ]
    if services.can_view_personal_data(user):
        exports.append((gettext("导出完整号码 XLSX"), f"{base}?as_of={day.isoformat()}&format=xlsx&full=1"))
    return EnterpriseRoster(
        as_of=day,
        page_obj=paginator.get_page(request.GET.get("page")),
        counts=counts,
        exports=exports,
        import_url=members_import_url() if user.can("import") else None,
        # 登记职工 on the tab of an operating enterprise, for roles that edit the registry.
        register_url=f"{reverse('members:worker_register')}?enterprise={enterprise.pk}"
        if user.can("edit_registry") and enterprise.is_operating
        else None,
    )
