"""The visits part of the scope walk (tests/test_scope_walk.py): one visit to the walk's 中山区 enterprise."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Model

from safetynet.accounts.models import User
from safetynet.visits.models import Visit


def scope_walk_records(enterprise: Any) -> tuple[dict[type[Model], Model], list[str]]:
    officer = User.objects.filter(username="zs_visit_walker").first() or User.objects.create_user(
        username="zs_visit_walker", password="Safetynet-test-1", org_unit=enterprise.org_unit, role="operator"
    )
    visit = Visit.objects.create(
        officer=officer,
        officer_name="中山走访干部",
        visited_on=datetime.date(2012, 5, 3),
        enterprise=enterprise,
        worker_name="中山走查职工",
        checklist=["six_basic"],
        findings="中山走访发现说明",
    )
    return {Visit: visit}, ["中山走访发现说明", "中山走查职工"]
