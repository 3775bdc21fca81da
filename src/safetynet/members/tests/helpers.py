"""Records of this app for tests/test_scope_walk.py."""

from __future__ import annotations

import datetime
from typing import Any

from safetynet.members import services
from safetynet.members.models import Employment, MemberCard, Membership, Person
from safetynet.members.tests.factories import make_id_number
from safetynet.orgs.models import Enterprise


def scope_walk_records(enterprise: Enterprise) -> tuple[dict[type, Any], list[str]]:
    """A 中山区 worker employed at ``enterprise``, a member of the union covering it, with a card; and what a
    list must not show to another district (the name; the ID number's masked form is shared by design)."""
    person = services.person_create(actor=None, name="中山走查职工", id_number=make_id_number(901))
    employment = services.employment_start(
        actor=None, person=person, enterprise=enterprise, valid_from=datetime.date(2010, 1, 1)
    )
    union = enterprise.coverages.select_related("union").first().union
    membership = services.membership_join(
        actor=None,
        person=person,
        union=union,
        valid_from=datetime.date(2010, 1, 1),
        member_number="ZSWALK001",
    )
    card = services.card_issue(actor=None, person=person, issued_on=datetime.date(2011, 1, 1))
    records = {Person: person, Employment: employment, Membership: membership, MemberCard: card}
    return records, [person.name]
