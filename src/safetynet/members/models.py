"""The real-name member registry: persons, their employments and union memberships over time, member cards.

Intervals are [valid_from, valid_to): active on d when valid_from <= d and (valid_to is empty or d < valid_to).
Personal data (ID numbers, phones) is never stored in clear: see :mod:`safetynet.members.crypto`.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import models
from django.db.models import Exists, F, Func, OuterRef, Q
from django.db.models.lookups import GreaterThanOrEqual, LessThan
from django.utils.deconstruct import deconstructible

from safetynet.core.scope import ScopedQuerySet, user_scope_path
from safetynet.members.validation import IdType, Sex
from safetynet.orgs.models import Enterprise, GrassrootsUnion


class Household(models.TextChoices):
    URBAN = "urban", "城镇"
    RURAL = "rural", "农村"


class EmploymentType(models.TextChoices):
    LABOUR_CONTRACT = "labour_contract", "劳动合同"
    DISPATCHED = "dispatched", "劳务派遣"
    PART_TIME = "part_time", "非全日制"


class MembershipEndReason(models.TextChoices):
    LEFT_JOB = "left_job", "离职"
    TRANSFERRED = "transferred", "会员关系接转"
    WITHDREW = "withdrew", "退会"
    RETIRED = "retired", "退休"
    DECEASED = "deceased", "去世"
    UNION_DISSOLVED = "union_dissolved", "工会撤销"
    OTHER = "other", "其他"


class CardStatus(models.TextChoices):
    ACTIVE = "active", "正常"
    LOST = "lost", "挂失"
    CANCELLED = "cancelled", "注销"


def interval_active_q(day: datetime.date, prefix: str = "") -> Q:
    """[valid_from, valid_to) contains day; valid_from is required on these tables."""
    return Q(**{f"{prefix}valid_from__lte": day}) & (
        Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gt": day})
    )


@deconstructible(path="safetynet.members.models.ByteOrder")
class ByteOrder(Func):
    """Text compared character code by character code: ``COLLATE "C"`` on PostgreSQL, SQLite's own (BINARY)
    order. The person search sorts and matches name prefixes in this order, because an index in the
    database's language collation can neither give ORDER BY in that order nor answer a prefix range.
    (Not a subclass of Collate: an index expression may not be one, see django.db.models.indexes.)"""

    template = '(%(expressions)s COLLATE "C")'

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return compiler.compile(self.source_expressions[0])


def name_prefix_q(prefix: str, field: str = "name") -> Q:
    """Names starting with ``prefix``, as a range in :class:`ByteOrder`: ``prefix <= name < next``, where
    ``next`` is the prefix with its last character's code raised by one. The range is what the name index
    answers; it means exactly ``startswith`` (the byte order of UTF-8 is the order of code points)."""
    if not prefix:
        return Q()
    condition = Q(GreaterThanOrEqual(ByteOrder(field), prefix))
    last = ord(prefix[-1])
    if last < 0x10FFFF:
        condition &= Q(LessThan(ByteOrder(field), prefix[:-1] + chr(last + 1)))
    return condition


def is_sole_root(path: str) -> bool:
    """True when ``path`` is the only top-level unit (one city per installation, the usual case)."""
    from safetynet.orgs.models import OrgUnit

    if path.count("/") != 1:
        return False
    return list(OrgUnit.objects.filter(parent__isnull=True).values_list("path", flat=True)[:2]) == [path]


class PersonQuerySet(ScopedQuerySet):
    """A person belongs to no org unit: they are visible where they work or are a member, now or before."""

    def within(self, path: str, *, broad: bool = False) -> PersonQuerySet:
        """Persons with an employment or a membership at the unit with this path or below.

        Two EXISTS joined by OR probe two indexes per person: right for one person or a few thousand.
        ``broad`` is for a search that matches a large part of the city (a common surname): the scope is
        then one ``IN (… UNION ALL …)``, a semi-join the database answers by hashing the district's person
        ids once — a district's search for “王” on the city demo 11.6 s → 4–5 s; for “王秀” (fewer matches)
        the probes are faster (1.3 s against 4.3 s), hence the choice."""
        if broad:
            # No ordering: a part of UNION ALL may not have one (the models order by default).
            employed = Employment.objects.filter(enterprise__org_unit__path__startswith=path).order_by()
            members = Membership.objects.filter(union__org_unit__path__startswith=path).order_by()
            ids = employed.values("person_id").union(members.values("person_id"), all=True)
            return self.filter(pk__in=ids)
        return self.filter(
            Exists(
                Employment.objects.filter(person=OuterRef("pk"), enterprise__org_unit__path__startswith=path)
            )
            | Exists(Membership.objects.filter(person=OuterRef("pk"), union__org_unit__path__startswith=path))
        )

    def visible_to(self, user: Any, *, broad: bool = False) -> PersonQuerySet:
        path = user_scope_path(user)
        if path is None:
            return self.none()
        if path == "" or is_sole_root(path):
            # The whole city: every person is in scope, and the two EXISTS over millions of rows are skipped.
            return self.all()
        return self.within(path, broad=broad)

    def migrants(self) -> PersonQuerySet:
        return self.filter(household=Household.RURAL)


class Person(models.Model):
    """A worker (职工). The ID number is held encrypted, as a keyed hash and masked; never in clear."""

    name = models.CharField("姓名", max_length=50)
    id_type = models.CharField("证件类型", max_length=20, choices=IdType.choices, default=IdType.RESIDENT_ID)
    id_number_encrypted = models.TextField("证件号码（加密）", editable=False)
    id_number_hash = models.CharField("证件号码检索码", max_length=64, editable=False)
    id_number_masked = models.CharField("证件号码", max_length=32, editable=False)
    birth_date = models.DateField("出生日期", null=True, blank=True)
    sex = models.CharField("性别", max_length=1, choices=Sex.choices, blank=True)
    phone_encrypted = models.TextField("电话（加密）", blank=True, editable=False)
    phone_hash = models.CharField("电话检索码", max_length=64, blank=True, editable=False)
    phone_masked = models.CharField("电话", max_length=20, blank=True, editable=False)
    household = models.CharField("户籍类型", max_length=10, choices=Household.choices, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = "职工"
        verbose_name_plural = "职工"
        ordering = ["name", "pk"]
        constraints = [
            # Hash first: the same index finds a number typed in the search box, whatever its document type.
            models.UniqueConstraint(fields=["id_number_hash", "id_type"], name="person_unique_document"),
        ]
        indexes = [
            models.Index(fields=["phone_hash"], name="person_phone_hash_idx"),
            # Name search matches from the start of the name and lists by (name, id) in byte order: one range
            # of this index gives both, so a page of a common surname reads 50 entries, not all of them.
            # The household rides along, so that filter is answered from the index too (no table read).
            models.Index(ByteOrder("name"), F("id"), name="person_name_order_idx", include=["household"]),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.id_number_masked}）"

    @property
    def is_migrant(self) -> bool:
        """农民工: a worker with rural household registration."""
        return self.household == Household.RURAL


class Employment(models.Model):
    """A person works at an enterprise during [valid_from, valid_to)."""

    SCOPE_PATH = "enterprise__org_unit__path"

    # No index of their own: the two composite indexes below lead with these columns and serve every
    # lookup by person or enterprise (and the cascade), and a roster import then maintains two fewer.
    person = models.ForeignKey(
        Person, verbose_name="职工", on_delete=models.CASCADE, related_name="employments", db_index=False
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", on_delete=models.PROTECT, related_name="employments", db_index=False
    )
    valid_from = models.DateField("入职日期")
    valid_to = models.DateField("离职日期", null=True, blank=True)
    employment_type = models.CharField("用工形式", max_length=20, choices=EmploymentType.choices, blank=True)
    contract_signed = models.BooleanField("已签劳动合同", default=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "用工记录"
        verbose_name_plural = "用工记录"
        ordering = ["person_id", "valid_from", "pk"]
        # Each index also carries what the person search tests with it, so those tests read only the index:
        # the person's enterprises and dates (is this person in the district, working on that day?), and the
        # persons of an enterprise (who works in this street?). See selectors.person_search_page.
        indexes = [
            models.Index(
                fields=["enterprise", "valid_from", "valid_to"],
                name="employment_ent_cover_idx",
                include=["person"],
            ),
            models.Index(
                fields=["person", "valid_from"],
                name="employment_person_cover_idx",
                include=["enterprise", "valid_to"],
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="employment_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person.name} @ {self.enterprise.name}（{self.valid_from}—{self.valid_to or '今'}）"

    def is_active_on(self, day: datetime.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


class Membership(models.Model):
    """A person is a member of a grassroots union during [valid_from, valid_to)."""

    SCOPE_PATH = "union__org_unit__path"

    # As on Employment: the composite indexes below lead with person and union.
    person = models.ForeignKey(
        Person, verbose_name="职工", on_delete=models.CASCADE, related_name="memberships", db_index=False
    )
    union = models.ForeignKey(
        GrassrootsUnion,
        verbose_name="基层工会",
        on_delete=models.PROTECT,
        related_name="memberships",
        db_index=False,
    )
    valid_from = models.DateField("入会日期")
    valid_to = models.DateField("离会日期", null=True, blank=True)
    # Indexed in Meta: member numbers are only looked up exactly, so PostgreSQL's second (LIKE) index that
    # db_index=True adds to a CharField would only cost time on every insert.
    member_number = models.CharField("会员编号", max_length=30, blank=True)
    end_reason = models.CharField("离会原因", max_length=20, choices=MembershipEndReason.choices, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "会员关系"
        verbose_name_plural = "会员关系"
        ordering = ["person_id", "valid_from", "pk"]
        indexes = [
            # As on Employment: the search's tests read only these indexes.
            models.Index(
                fields=["union", "valid_from", "valid_to"],
                name="membership_union_cover_idx",
                include=["person"],
            ),
            models.Index(
                fields=["person", "valid_from"],
                name="membership_person_cover_idx",
                include=["union", "valid_to"],
            ),
            models.Index(fields=["member_number"], name="membership_member_number_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="membership_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person.name} @ {self.union.name}（{self.valid_from}—{self.valid_to or '今'}）"

    def is_active_on(self, day: datetime.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


class MemberCard(models.Model):
    """A member service card (工会会员服务卡), issued by the union the person was a member of then."""

    SCOPE_PATH = "union__org_unit__path"

    person = models.ForeignKey(Person, verbose_name="职工", on_delete=models.CASCADE, related_name="cards")
    union = models.ForeignKey(
        GrassrootsUnion, verbose_name="发卡工会", on_delete=models.PROTECT, related_name="member_cards"
    )
    card_number = models.CharField("卡号", max_length=20, unique=True)
    issued_on = models.DateField("发卡日期")
    status = models.CharField("状态", max_length=10, choices=CardStatus.choices, default=CardStatus.ACTIVE)
    status_changed_on = models.DateField("状态变更日期", null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "会员服务卡"
        verbose_name_plural = "会员服务卡"
        ordering = ["-issued_on", "pk"]
        constraints = [
            # A person holds at most one card in use; a lost or cancelled one stays on record.
            models.UniqueConstraint(
                fields=["person"], condition=Q(status="active"), name="membercard_one_active_per_person"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.card_number}（{self.person.name}）"


class EmploymentSpan(models.Model):
    """A stretch [valid_from, valid_to) of one employment during which the person's membership status is
    constant: the employment's days split at the starts and ends of the person's memberships.

    Derived, never edited: :func:`safetynet.members.spans.employment_spans_rebuild` rewrites a person's spans
    in the same transaction as every change of their employments, memberships or household. It exists for the
    indicator engine, which would otherwise test five million employments against three million memberships
    for every day it counts: on any day each active employment has exactly one active span, which carries the
    facts the membership indicators count (member, migrant, dispatched) as plain columns.
    No foreign-key constraints: the rows are rewritten by the thousand during imports, and the rebuild itself
    keeps them consistent with their sources (tests compare them with a rebuild from scratch).
    """

    employment = models.ForeignKey(
        Employment, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    person = models.ForeignKey(Person, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    member = models.BooleanField()
    migrant = models.BooleanField()
    dispatched = models.BooleanField()

    class Meta:
        verbose_name = "用工会籍区段"
        verbose_name_plural = "用工会籍区段"
        # The indicator counters rebuild a unit's employment counts from its enterprises' spans after a write
        # (indicators/counters.py): without this, every such refresh read the whole table.
        indexes = [models.Index(fields=["enterprise", "valid_from"], name="span_enterprise_from_idx")]

    def __str__(self) -> str:
        return f"用工 {self.employment_id}（{self.valid_from}—{self.valid_to or '今'}，{'会员' if self.member else '非会员'}）"

    def is_active_on(self, day: datetime.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)
