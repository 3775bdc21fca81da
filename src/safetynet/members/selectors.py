"""Reads of the member registry, always scoped to the user's org unit subtree."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from safetynet.core.importing import chunked
from safetynet.core.normalize import clean_code
from safetynet.core.scope import user_scope_path
from safetynet.members import crypto
from safetynet.members.models import (
    ByteOrder,
    Employment,
    MemberCard,
    Membership,
    Person,
    interval_active_q,
    is_sole_root,
    name_prefix_q,
)
from safetynet.members.validation import IdNumberError, clean_document_number, normalize_phone
from safetynet.orgs.models import Enterprise, GrassrootsUnion, OrgUnit


def person_find_by_id_number(user: Any, id_number: str) -> Person | None:
    """The person with this document number if the user may see them; None otherwise (also when the
    person exists outside the user's subtree: the search never reveals who is registered elsewhere)."""
    try:
        number = clean_document_number(id_number)
    except IdNumberError:
        return None
    if not number:
        return None
    return Person.objects.visible_to(user).filter(id_number_hash=crypto.lookup_hash(number)).first()


SEARCH_KEY_LIMIT = 5000


# From this many persons sharing the typed start of a name, the search tests the scope by hashing.
BROAD_NAME_MATCHES = 20_000


@dataclass(frozen=True)
class SearchKeys:
    """What a search text means: a name prefix (``name``, empty when the text cannot be a name) and the ids
    of the persons whose document number, masked number, phone, member number or card number it is."""

    name: str
    ids: tuple[int, ...]


def search_keys(q: str) -> SearchKeys:
    """Each key is one indexed lookup that yields person ids; no pattern ever runs over clear text."""
    text = " ".join((q or "").split())
    if not text:
        return SearchKeys("", ())
    code = clean_code(text)
    try:
        number = clean_document_number(text)
    except IdNumberError:
        number = ""
    ids: set[int] = set()

    def collect(queryset: QuerySet) -> None:
        ids.update(
            queryset.values_list("person_id" if queryset.model is not Person else "pk", flat=True)[
                :SEARCH_KEY_LIMIT
            ]
        )

    if number:
        collect(Person.objects.filter(id_number_hash=crypto.lookup_hash(number)))
    if "*" in code:
        collect(Person.objects.filter(Q(id_number_masked=code) | Q(phone_masked=code)))
    try:
        phone = normalize_phone(text)
    except ValidationError:
        phone = ""
    if phone:
        collect(Person.objects.filter(phone_hash=crypto.lookup_hash(phone)))
    if code.isalnum():
        collect(Membership.objects.filter(member_number=code))
        collect(MemberCard.objects.filter(card_number=code))
    by_name = not code.isdigit() and "*" not in code
    return SearchKeys(text if by_name else "", tuple(sorted(ids)))


def person_search(user: Any, q: str) -> QuerySet[Person]:
    """Search by name (prefix), full document number (keyed hash, exact), masked number, phone, member
    number or card number — every match, for the API (the page uses :func:`person_search_page`).

    The keys' person ids and the name prefix are combined as ``name range OR pk IN (...)``, which the
    database answers from two indexes: no pattern ever runs over clear text and no subquery per person row.
    """
    keys = search_keys(q)
    if not (q or "").strip():
        return Person.objects.visible_to(user).order_by(ByteOrder("name"), "pk")
    condition = Q(pk__in=keys.ids) if keys.ids else Q(pk__in=[])
    broad = False
    if keys.name:
        condition |= name_prefix_q(keys.name)
        # One indexed count of the name's matches chooses how the scope is tested (see PersonQuerySet.within).
        broad = (
            Person.objects.filter(name_prefix_q(keys.name))[:BROAD_NAME_MATCHES].count() >= BROAD_NAME_MATCHES
        )
    return Person.objects.visible_to(user, broad=broad).filter(condition).order_by(ByteOrder("name"), "pk")


# --- the search page: filters, a capped count, one plan per shape of the question --------------------

# The page counts exactly up to this many persons; beyond, it says "500 人以上" and lists the first 500.
SEARCH_CAP = 500


@dataclass(frozen=True)
class PersonSearchCriteria:
    """The search page's question. ``unit`` and ``enterprises`` must already be visible to the user (the
    selector checks again and answers nobody otherwise). ``member`` and ``employed`` are tri-state (None:
    either); both are judged on ``day``. ``employed`` counts only employments in the scope (the unit, or the
    chosen enterprises); ``member`` is a membership of any union (the person's status, as the list shows it)."""

    q: str = ""
    day: datetime.date | None = None
    unit: OrgUnit | None = None
    enterprises: tuple[int, ...] = ()
    member: bool | None = None
    employed: bool | None = None
    household: str = ""

    @property
    def has_filters(self) -> bool:
        return bool(
            self.unit
            or self.enterprises
            or self.household
            or self.member is not None
            or self.employed is not None
        )


@dataclass
class PersonSearchResult:
    """The first ``cap`` matching person ids in list order (name in byte order, then id); ``more`` when
    there are more than ``cap``. ``plan`` says how the database was asked (for the benchmark and tests)."""

    ids: list[int]
    more: bool
    plan: str

    @property
    def count(self) -> int:
        return len(self.ids)


def _search_scope(user: Any, criteria: PersonSearchCriteria) -> tuple[str | None, bool]:
    """The path the search is limited to (None: the whole city, nothing to test) and whether the user may
    ask at all (False: out of scope or no unit)."""
    path = user_scope_path(user)
    if path is None:
        return None, False
    if criteria.unit is not None:
        if not criteria.unit.path.startswith(path):
            return None, False
        path = criteria.unit.path
    if path == "" or is_sole_root(path):
        return None, True
    return path, True


def person_search_definition(
    user: Any, criteria: PersonSearchCriteria, *, keys: SearchKeys | None = None
) -> QuerySet[Person]:
    """The search as plain ORM conditions, in list order: the meaning of the search, the plan on SQLite and
    for the few persons found by number; PostgreSQL answers names with :func:`_postgresql_name_walk`."""
    path, allowed = _search_scope(user, criteria)
    if not allowed:
        return Person.objects.none()
    day = criteria.day or timezone.localdate()
    keys = keys or search_keys(criteria.q)
    persons = Person.objects.all()
    if criteria.q.strip():
        condition = Q(pk__in=keys.ids) if keys.ids else Q(pk__in=[])
        if keys.name:
            condition |= name_prefix_q(keys.name)
        persons = persons.filter(condition)
    if path is not None:
        persons = persons.within(path)
    work = Employment.objects.filter(person=OuterRef("pk"))
    if criteria.enterprises:
        enterprises = Enterprise.objects.visible_to(user).filter(pk__in=criteria.enterprises)
        if path is not None:
            enterprises = enterprises.filter(org_unit__path__startswith=path)
        work = work.filter(enterprise__in=enterprises)
        persons = persons.filter(Exists(work))
    elif path is not None:
        work = work.filter(enterprise__org_unit__path__startswith=path)
    if criteria.employed is not None:
        active = Exists(work.filter(interval_active_q(day)))
        persons = persons.filter(active if criteria.employed else ~active)
    if criteria.member is not None:
        member = Exists(Membership.objects.filter(person=OuterRef("pk")).filter(interval_active_q(day)))
        persons = persons.filter(member if criteria.member else ~member)
    if criteria.household:
        persons = persons.filter(household=criteria.household)
    return persons.order_by(ByteOrder("name"), "pk")


def person_search_page(
    user: Any, criteria: PersonSearchCriteria, *, cap: int | None = None, plan: str = ""
) -> PersonSearchResult:
    """The first ``cap`` persons of the search (and whether there are more), as ids in list order.

    Counting every match is what made a common surname slow (148,000 王 in one district: seconds), and
    nobody pages through them, so the page counts exactly up to ``cap`` and asks for filters beyond.
    On PostgreSQL a name search walks the name index in list order and stops after ``cap + 1`` matches;
    how it tests the scope is chosen by cost (see :func:`_postgresql_name_walk`). ``plan`` forces one
    ("probe" or "hash"), for tests and the benchmark.
    """
    cap = SEARCH_CAP if cap is None else cap
    path, allowed = _search_scope(user, criteria)
    if not allowed or (not criteria.q.strip() and not criteria.has_filters):
        return PersonSearchResult([], False, "none")
    keys = search_keys(criteria.q)
    definition = person_search_definition(user, criteria, keys=keys)
    if criteria.q.strip() and not keys.name:
        # Numbers only: a handful of persons by their keys, tested with the plain conditions.
        ids = list(definition.values_list("pk", flat=True)[: cap + 1])
        return PersonSearchResult(ids[:cap], len(ids) > cap, "keys")
    enterprises: list[int] = []
    if criteria.enterprises:
        visible = Enterprise.objects.visible_to(user).filter(pk__in=criteria.enterprises)
        if path is not None:
            visible = visible.filter(org_unit__path__startswith=path)
        enterprises = list(visible.values_list("pk", flat=True))
        if not enterprises:
            return PersonSearchResult([], False, "none")
    small_scope = path is not None or enterprises
    if plan == "scope" or (connection.vendor != "postgresql" and not plan and small_scope):
        limit = None if plan == "scope" else SCOPE_FIRST_ENTERPRISES
        candidates = _scope_person_ids(path or "", enterprises, limit)
        if candidates is not None:
            ids = _search_among(definition, candidates)
            return PersonSearchResult(ids[:cap], len(ids) > cap, "scope")
    if connection.vendor != "postgresql":
        ids = list(definition.values_list("pk", flat=True)[: cap + 1])
        return PersonSearchResult(ids[:cap], len(ids) > cap, "orm")
    rows, used = _postgresql_name_walk(
        name=keys.name,
        path=path,
        enterprises=enterprises,
        household=criteria.household,
        member=criteria.member,
        employed=criteria.employed,
        day=criteria.day or timezone.localdate(),
        limit=cap + 1,
        plan=plan,
    )
    if keys.ids:
        # Persons found by a number as well as by the name (a member number that is also a name): merged in
        # list order; Python compares strings by code point, which is the byte order of the index.
        rows = sorted(set(rows) | set(definition.filter(pk__in=keys.ids).values_list("name", "pk")))
        rows = rows[: cap + 1]
    ids = [pk for _, pk in rows]
    return PersonSearchResult(ids[:cap], len(ids) > cap, used)


# On SQLite the plain definition walks the name index in list order and probes each person's scope: for a small
# scope (a community, a street, an enterprise) nearly all of a common surname's persons are elsewhere, and the
# walk meets the whole city's namesakes (a community chair's “王” on the city demo: 7–19 s). Up to this many
# enterprises in the scope (the city demo: communities 68 at the median and 444 at most, streets 1,147 and 3,327,
# districts 15,519), its persons are gathered first and only they are tested: a community's in ~25 ms. A street's
# ~80,000 would take ~0.7 s that way, against 0.2–1.1 s for the walk, so streets and above keep the walk.
SCOPE_FIRST_ENTERPRISES = 500
# Ids per statement: with a few thousand SQLite looks each person up by key; with 5,000 it chose the name index
# instead and walked every namesake in the city for each batch (the city demo, with its statistics).
SCOPE_CHUNK = 2_000


def _scope_person_ids(path: str, enterprises: list[int], limit: int | None) -> list[int] | None:
    """Every person with an employment or a membership at ``path`` or below (with an employment at one of
    ``enterprises``, when chosen): a superset of the search's persons. None when the scope holds more than
    ``limit`` enterprises. Driven from the units' enterprises and unions through their indexes (a join on the
    unit's path made SQLite read every employment: 0.5 s for a community)."""
    if enterprises:
        parts = [Employment.objects.filter(enterprise_id__in=enterprises)]
    else:
        units = OrgUnit.objects.filter(path__startswith=path).values("pk")
        in_scope = Enterprise.objects.filter(org_unit__in=units).order_by()
        if limit is not None and in_scope[limit : limit + 1].exists():
            return None
        parts = [
            Employment.objects.filter(enterprise__in=in_scope.values("pk")),
            Membership.objects.filter(
                union__in=GrassrootsUnion.objects.filter(org_unit__in=units).values("pk")
            ),
        ]
    found: set[int] = set()
    for part in parts:
        found.update(part.order_by().values_list("person_id", flat=True))
    return sorted(found)


def _search_among(definition: QuerySet[Person], candidates: list[int]) -> list[int]:
    """The search's persons among the candidates, in list order: the plain definition asked for a few thousand
    ids at a time (the database looks each up by its key), sorted here — Python orders strings by code point,
    which is the byte order of the list."""
    found: list[tuple[str, int]] = []
    for chunk in chunked(candidates, SCOPE_CHUNK):
        found.extend(definition.filter(pk__in=chunk).order_by().values_list("name", "pk"))
    return [pk for _, pk in sorted(found)]


# How much dearer one probe of a person's employments and memberships is than hashing one employment or
# membership row of the scope (measured on the city demo: ~16 µs against ~1 µs on a loaded 2-core machine).
PROBE_COST_PER_HASHED_ROW = 16


def _postgresql_name_walk(
    *,
    name: str,
    path: str | None,
    enterprises: list[int],
    household: str,
    member: bool | None,
    employed: bool | None,
    day: datetime.date,
    limit: int,
    plan: str = "",
) -> tuple[list[tuple[str, int]], str]:
    """(name, id) of the first ``limit`` matching persons in list order, read along person_name_order_idx.

    The scope (persons with an employment or a membership in the subtree, or an employment at the chosen
    enterprises) is tested in one of two ways, whichever costs less for this question:

    - "probe": each person met on the walk is looked up in the employment and membership indexes (index-only,
      against the hashed set of the scope's enterprises and unions). Cost: the persons walked, ~16 µs each —
      about (limit / share of the city in scope), fewer when the name has fewer matches. Right for a
      district, whose persons are one in ten of the city: ~5,000 probes for 501 matches.
    - "hash": the scope's employments and memberships are read once into a hash table (index-only), and the
      walk tests each person against it. Cost: the scope's rows, ~1 µs each. Right for a street, a community
      or an enterprise, where probing would walk tens of thousands of other districts' namesakes.

    Both use ``(x IN (SELECT ...)) IS TRUE``: the IS TRUE keeps PostgreSQL from turning the sub-select into
    a join, so it builds the hash table once and the walk keeps the index order (and stops at the limit).
    """
    person = Person._meta.db_table
    employment = Employment._meta.db_table
    membership = Membership._meta.db_table
    params: dict[str, Any] = {"day": day, "limit": limit}
    where: list[str] = []
    if name:
        params["name_from"] = name
        where.append('(p.name COLLATE "C") >= %(name_from)s')
        last = ord(name[-1])
        if last < 0x10FFFF:
            params["name_to"] = name[:-1] + chr(last + 1)
            where.append('(p.name COLLATE "C") < %(name_to)s')
    if household:
        params["household"] = household
        where.append("p.household = %(household)s")
    walk = " AND ".join(where) or "TRUE"

    def active(alias: str) -> str:
        return f"{alias}.valid_from <= %(day)s AND ({alias}.valid_to IS NULL OR {alias}.valid_to > %(day)s)"

    def probe(select: str, negate: bool = False) -> str:
        # OFFSET 0: PostgreSQL keeps the EXISTS a look-up per person met on the walk (index-only); without
        # it, it may turn the EXISTS into a join that hashes the whole table first (1.2 s for one district).
        return f"{'NOT ' if negate else ''}EXISTS ({select} OFFSET 0)"

    restricted = path is not None or bool(enterprises)
    units: list[int] = []
    if enterprises:
        params["enterprises"] = enterprises
        at_scope = "e.enterprise_id = ANY(%(enterprises)s)"
        at_scope_hashed = at_scope
        plan = "hash"  # an enterprise's staff is always a small set
    elif path is not None:
        units = list(OrgUnit.objects.filter(path__startswith=path).values_list("pk", flat=True))
        params["units"] = units
        scope_enterprises = (
            f"SELECT x.id FROM {Enterprise._meta.db_table} x WHERE x.org_unit_id = ANY(%(units)s)"
        )
        scope_unions = (
            f"SELECT g.id FROM {GrassrootsUnion._meta.db_table} g WHERE g.org_unit_id = ANY(%(units)s)"
        )
        at_scope = f"(e.enterprise_id IN ({scope_enterprises})) IS TRUE"
        at_scope_hashed = f"e.enterprise_id IN ({scope_enterprises})"
    if not restricted:
        plan = "walk"
    elif not plan:
        plan = _choose_plan(walk=walk, params=params, units=units, day_filters=(member, employed))
    conditions = [walk]
    if restricted:
        # Working in the scope on the day implies being in the scope: then one test instead of two.
        working = f" AND {active('e')}" if employed else ""
        with_memberships = not employed and not enterprises
        if plan == "probe":
            employment_probe = (
                f"SELECT 1 FROM {employment} e WHERE e.person_id = p.id AND {at_scope}{working}"
            )
            if with_memberships:
                membership_probe = f"SELECT 1 FROM {membership} m WHERE m.person_id = p.id AND (m.union_id IN ({scope_unions})) IS TRUE"
                # The memberships are looked up only for a person with no employment in the scope.
                conditions.append(probe(f"{employment_probe} UNION ALL {membership_probe}"))
            else:
                conditions.append(probe(employment_probe))
        else:
            persons = f"SELECT e.person_id FROM {employment} e WHERE {at_scope_hashed}{working}"
            if with_memberships:
                persons += (
                    f" UNION ALL SELECT m.person_id FROM {membership} m WHERE m.union_id IN ({scope_unions})"
                )
            conditions.append(f"(p.id IN ({persons})) IS TRUE")
        if employed is False:
            conditions.append(
                probe(
                    f"SELECT 1 FROM {employment} e WHERE e.person_id = p.id AND {at_scope} AND {active('e')}",
                    True,
                )
            )
    elif employed is not None:
        conditions.append(
            probe(f"SELECT 1 FROM {employment} e WHERE e.person_id = p.id AND {active('e')}", not employed)
        )
    if member is not None:
        conditions.append(
            probe(f"SELECT 1 FROM {membership} m WHERE m.person_id = p.id AND {active('m')}", not member)
        )
    sql = (
        f"SELECT p.name, p.id FROM {person} p WHERE {' AND '.join(conditions)}"
        ' ORDER BY (p.name COLLATE "C"), p.id LIMIT %(limit)s'
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # The hash tables must fit in memory (or PostgreSQL falls back to re-reading the sub-select for every
        # person), and JIT compiling costs more than these short walks (the sub-plans' estimated cost is high).
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        rows = [(row_name, pk) for row_name, pk in cursor.fetchall()]
    return rows, plan


def _choose_plan(
    *,
    walk: str,
    params: dict[str, Any],
    units: list[int],
    day_filters: tuple[bool | None, bool | None],
) -> str:
    """ "probe" or "hash" for a search limited to a subtree (see :func:`_postgresql_name_walk`).

    The scope's employments and memberships are estimated from its enterprises and unions (two indexed
    counts) and the tables' average rows per enterprise and union (the planner's statistics); the persons
    the walk would meet are the name's matches, counted up to the point where probing is dearer anyway."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT (SELECT count(*) FROM {Enterprise._meta.db_table} WHERE org_unit_id = ANY(%(units)s)),
                       (SELECT count(*) FROM {GrassrootsUnion._meta.db_table} WHERE org_unit_id = ANY(%(units)s)),
                       (SELECT reltuples FROM pg_class WHERE oid = %(e)s::regclass),
                       (SELECT reltuples FROM pg_class WHERE oid = %(m)s::regclass),
                       (SELECT reltuples FROM pg_class WHERE oid = %(x)s::regclass),
                       (SELECT reltuples FROM pg_class WHERE oid = %(g)s::regclass)""",
            {
                "units": units,
                "e": Employment._meta.db_table,
                "m": Membership._meta.db_table,
                "x": Enterprise._meta.db_table,
                "g": GrassrootsUnion._meta.db_table,
            },
        )
        scope_enterprises, scope_unions, employments, memberships, all_enterprises, all_unions = (
            max(float(value or 0), 0.0) for value in cursor.fetchone()
        )
        scope_rows = scope_enterprises * employments / max(all_enterprises, 1.0) + scope_unions * (
            memberships / max(all_unions, 1.0)
        )
        share = scope_rows / max(employments + memberships, 1.0)
        if share <= 0:
            return "hash"
        if any(value is not None for value in day_filters):
            share /= 2  # a filter on the day lets about one in two through: twice the walk per match
        needed = params["limit"] / share
        # Probing costs more than hashing once the walk exceeds this many persons; count no further.
        enough = int(min(needed, scope_rows / PROBE_COST_PER_HASHED_ROW)) + 1
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {Person._meta.db_table} p WHERE {walk} LIMIT %(enough)s) t",
            {**params, "enough": enough},
        )
        matches = cursor.fetchone()[0]
    walked = min(matches, needed)
    return "probe" if walked * PROBE_COST_PER_HASHED_ROW <= scope_rows else "hash"


# More enterprises than this matching a typed name is not a filter but a question: the form asks for more.
ENTERPRISE_MATCH_LIMIT = 20


def enterprise_candidates(user: Any, text: str, *, unit: OrgUnit | None = None) -> list[Enterprise]:
    """Enterprises in the user's scope (and under ``unit``) that a search filter's text names: the one with
    this credit code, else those with exactly this name, else those whose name starts with it, else those
    whose name contains it; at most ``ENTERPRISE_MATCH_LIMIT + 1`` (the caller says "too many" then)."""
    text = " ".join((text or "").split())
    if not text:
        return []
    enterprises = Enterprise.objects.visible_to(user)
    if unit is not None:
        enterprises = enterprises.filter(org_unit__path__startswith=unit.path)
    enterprises = enterprises.order_by("name", "pk")
    limit = ENTERPRISE_MATCH_LIMIT + 1
    code = clean_code(text)
    if len(code) == 18 and code.isalnum():
        found = list(enterprises.filter(credit_code=code)[:1])
        if found:
            return found
    for condition in (Q(name=text), Q(name__startswith=text), Q(name__contains=text)):
        found = list(enterprises.filter(condition)[:limit])
        if found:
            return found
    return []


def persons_in_order(person_ids: list[int]) -> list[Person]:
    """The persons with these ids, in the order of the ids (one page of a search)."""
    persons = Person.objects.in_bulk(person_ids)
    return [persons[pk] for pk in person_ids if pk in persons]


def member_person_ids(person_ids: list[int], day: datetime.date) -> set[int]:
    """Which of these persons hold a membership active on ``day`` (any union), for one page of persons."""
    return set(
        Membership.objects.filter(person_id__in=person_ids)
        .filter(interval_active_q(day))
        .values_list("person_id", flat=True)
    )


def current_enterprise_names(person_ids: list[int], day: datetime.date) -> dict[int, str]:
    """The enterprise each person works at on ``day`` (latest hire), for one page of persons."""
    names: dict[int, str] = {}
    rows = (
        Employment.objects.filter(person_id__in=person_ids)
        .filter(interval_active_q(day))
        .order_by("person_id", "valid_from", "pk")
        .values_list("person_id", "enterprise__name")
    )
    for person_id, name in rows:
        names[person_id] = name
    return names


def person_employments(user: Any, person: Person) -> QuerySet[Employment]:
    """The person's whole working history (every employment, also outside the user's subtree, since the
    person page is the timeline; the enterprise names are public registry facts)."""
    return (
        Employment.objects.filter(person=person)
        .select_related("enterprise", "enterprise__org_unit")
        .order_by("valid_from", "pk")
    )


def person_memberships(user: Any, person: Person) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(person=person)
        .select_related("union", "union__org_unit")
        .order_by("valid_from", "pk")
    )


def person_cards(user: Any, person: Person) -> QuerySet[MemberCard]:
    return MemberCard.objects.filter(person=person).select_related("union").order_by("-issued_on", "-pk")


def enterprise_employees(
    user: Any, enterprise: Enterprise, *, day: datetime.date | None = None
) -> QuerySet[Employment]:
    """Employments at the enterprise active on ``day``, each with ``is_member`` (a membership active that day)."""
    day = day or timezone.localdate()
    member = Membership.objects.filter(person=OuterRef("person_id")).filter(interval_active_q(day))
    return (
        Employment.objects.visible_to(user)
        .filter(enterprise=enterprise)
        .filter(interval_active_q(day))
        .annotate(is_member=Exists(member))
        .select_related("person")
        .order_by("person__name", "pk")
    )


def union_members(
    user: Any, union: GrassrootsUnion, *, day: datetime.date | None = None
) -> QuerySet[Membership]:
    day = day or timezone.localdate()
    return (
        Membership.objects.visible_to(user)
        .filter(union=union)
        .filter(interval_active_q(day))
        .select_related("person")
        .order_by("person__name", "pk")
    )


def person_history(person: Person) -> QuerySet:
    """Audit entries of the person and of their employments, memberships and cards, newest first."""
    from safetynet.core.models import AuditEntry

    def ids(queryset: QuerySet) -> list[str]:
        return [str(pk) for pk in queryset.values_list("pk", flat=True)]

    condition = Q(entity=Person._meta.label_lower, object_id=str(person.pk))
    for model, related in (
        (Employment, person.employments.all()),
        (Membership, person.memberships.all()),
        (MemberCard, person.cards.all()),
    ):
        keys = ids(related)
        if keys:
            condition |= Q(entity=model._meta.label_lower, object_id__in=keys)
    return AuditEntry.objects.filter(condition).select_related("actor").order_by("-at", "-pk")


def union_roster_counts(union_ids: list[int], day: datetime.date) -> dict[int, int]:
    """Members active on ``day`` per union, for one page of unions (one grouped query)."""
    from django.db.models import Count

    rows = (
        Membership.objects.filter(union_id__in=union_ids)
        .filter(interval_active_q(day))
        .order_by()
        .values("union_id")
        .annotate(n=Count("pk"))
    )
    return {row["union_id"]: row["n"] for row in rows}


def union_roster_export(
    user: Any, union: GrassrootsUnion, *, day: datetime.date | None = None
) -> QuerySet[Membership]:
    return union_members(user, union, day=day)


def enterprise_roster_counts(
    user: Any, enterprise: Enterprise, *, day: datetime.date | None = None
) -> dict[str, int]:
    """Employees on ``day`` and how many of them are members, in one aggregate query."""
    from django.db.models import Count

    employees = enterprise_employees(user, enterprise, day=day)
    totals = employees.order_by().aggregate(
        employees=Count("pk"), members=Count("pk", filter=Q(is_member=True))
    )
    return {"employees": totals["employees"] or 0, "members": totals["members"] or 0}


def card_list(user: Any, *, q: str = "", status: str = "") -> QuerySet[MemberCard]:
    """Cards of unions in the user's subtree, by card number (exact) or holder's name, newest first."""
    cards = MemberCard.objects.visible_to(user).select_related("person", "union")
    text = " ".join((q or "").split())
    if text:
        code = clean_code(text)
        condition = Q(person__name__icontains=text)
        if code.isdigit():
            condition |= Q(card_number=code)
        cards = cards.filter(condition)
    if status:
        cards = cards.filter(status=status)
    return cards.order_by("-issued_on", "-pk")


def unions_for_transfer(user: Any, person: Person, day: datetime.date) -> QuerySet[GrassrootsUnion]:
    """Unions in the user's subtree that cover, on ``day``, an enterprise where the person works then."""
    from safetynet.orgs.models import UnionCoverage, active_on_q

    enterprises = (
        Employment.objects.filter(person=person).filter(interval_active_q(day)).values("enterprise_id")
    )
    covering = (
        UnionCoverage.objects.filter(enterprise_id__in=enterprises)
        .filter(active_on_q(day))
        .values("union_id")
    )
    return (
        GrassrootsUnion.objects.visible_to(user)
        .filter(pk__in=covering, founded_on__lte=day)
        .filter(Q(dissolved_on__isnull=True) | Q(dissolved_on__gt=day))
        .order_by("name")
    )
