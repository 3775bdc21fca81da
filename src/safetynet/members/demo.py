"""Demo workers for the demo city: persons, employments, memberships with history, member cards.

``extend_demo`` runs after ``orgs.demo.demo_load`` (found by ``core.demo`` discovery). It reads the demo
enterprises and union coverages once, invents the workers from ``random.Random`` seeded by the seed alone
(the same seed gives the same people; only the Fernet tokens differ, their IV is random by design), and
writes them set-based: COPY on PostgreSQL, executemany on SQLite (``members.bulk.insert_rows``), in chunks
of a few thousand enterprises so a city of 2.5 million persons never sits in memory at once.

The story, as of 2012-12-31: each enterprise employs about its headcount (at ``city`` scale a fraction of
it, weighted towards unionised enterprises whose chairs keep real-name rosters, so the city has about 2.5
million persons); many workers changed jobs between 2005 and 2012, a member whose new enterprise has a
union was transferred (会员关系接转) the day they moved, others left their union when they left the job;
membership rates differ by district, and are lower for migrant (农村) and dispatched (劳务派遣) workers.
"""

from __future__ import annotations

import datetime
import random
import time
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate

from django.db import transaction
from django.utils import timezone

from safetynet.core.errors import ServiceError
from safetynet.core.models import AuditAction
from safetynet.core.services import audit_record
from safetynet.members import bulk, crypto
from safetynet.members.models import (
    CardStatus,
    Employment,
    EmploymentSpan,
    EmploymentType,
    Household,
    MemberCard,
    Membership,
    MembershipEndReason,
    Person,
)
from safetynet.members.services import _luhn_check_digit
from safetynet.members.spans import employment_spans_rebuild
from safetynet.members.validation import IdType, check_character, mask_id_number, mask_phone
from safetynet.orgs.models import (
    PUBLIC_OWNERSHIPS,
    Enterprise,
    GrassrootsUnion,
    OrgLevel,
    OrgUnit,
    UnionCoverage,
)

REFERENCE_DAY = datetime.date(2012, 12, 31)
HISTORY_START = datetime.date(2005, 1, 1)
EARLIEST_HIRE = datetime.date(1995, 1, 1)
CHUNK_PERSONS = 20_000

# Persons wanted at each scale (None: every enterprise employs its headcount).
TARGET_PERSONS: dict[str, int | None] = {"small": None, "city": 2_500_000, "city3": 7_500_000}
# Non-unionised enterprises keep fewer real-name records than unionised ones (their chairs file rosters).
UNCOVERED_WEIGHT = 0.1
FORMER_SHARE = 0.08  # persons whose only job here ended before the reference day
# Chance of an earlier job in the district, then of one before that, and so on (migrants move often).
PREVIOUS_JOBS = (0.75, 0.5, 0.35)
CARD_SHARE = 0.3
WITHDRAW_SHARE = 0.02

# The Dalian codes an ID number can carry (GB/T 2260; 普兰店市 210282 was valid 1991–2015).
URBAN_CODES = ("210202", "210203", "210204", "210211")
RURAL_CODES = ("210281", "210282", "210283", "210224", "210212", "210213")
ALL_CODES = URBAN_CODES + RURAL_CODES
# Membership rate of workers of unionised enterprises, by district (the same order of ranks as orgs.demo).
DISTRICT_MEMBER_RATE = {
    "210202": 0.97,
    "210203": 0.96,
    "210204": 0.94,
    "210211": 0.91,
    "210212": 0.86,
    "210213": 0.89,
    "210224": 0.74,
    "210281": 0.82,
    "210282": 0.78,
    "210283": 0.80,
    "210251": 0.95,
}

# fmt: off
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘"
    "杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段"
)
MALE_SYLLABLES = "伟强磊军洋勇杰涛明超刚平辉鹏建国志宏海波东斌宇浩凯岩松林峰亮成鑫龙晨俊飞彬文博振德"
FEMALE_SYLLABLES = "芳娜敏静丽艳娟秀霞桂英华玉兰萍红梅凤晓丹颖玲婷雪琳莉倩慧佳欣悦璐月燕娇蕾"
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
                   "156", "158", "159", "186", "187", "188", "189", "159", "134", "147", "182", "183")
# fmt: on


@dataclass(slots=True)
class EnterpriseFacts:
    pk: int
    district: str
    founded: datetime.date
    deregistered: datetime.date | None
    headcount: int
    migrant_share: float
    dispatched_share: float
    public: bool
    # (union pk, start, end): the union covers the enterprise and exists during [start, end).
    unions: list[tuple[int, datetime.date, datetime.date | None]] = field(default_factory=list)


@dataclass(slots=True)
class Job:
    enterprise: EnterpriseFacts
    start: datetime.date
    end: datetime.date | None
    employment_type: str


@dataclass(slots=True)
class Worker:
    name: str
    number: str
    born: datetime.date
    sex: str
    household: str
    phone: str
    jobs: list[Job]


def _load_enterprises() -> tuple[list[EnterpriseFacts], dict[str, list[EnterpriseFacts]]]:
    districts = dict(OrgUnit.objects.filter(level=OrgLevel.DISTRICT).values_list("pk", "code"))
    facts: dict[int, EnterpriseFacts] = {}
    rows = Enterprise.objects.order_by("pk").values_list(
        "pk",
        "org_unit__path",
        "founded_on",
        "deregistered_on",
        "headcount",
        "migrant_headcount",
        "dispatched_headcount",
        "ownership",
    )
    for pk, path, founded, deregistered, headcount, migrants, dispatched, ownership in rows.iterator(
        chunk_size=20_000
    ):
        parts = [int(p) for p in path.split("/") if p]
        district = next((districts[p] for p in parts if p in districts), "210202")
        size = max(headcount, 1)
        facts[pk] = EnterpriseFacts(
            pk=pk,
            district=district,
            founded=founded,
            deregistered=deregistered,
            headcount=headcount,
            migrant_share=min(migrants / size, 1.0),
            dispatched_share=min(dispatched / size, 1.0),
            public=ownership in PUBLIC_OWNERSHIPS,
        )
    unions = {
        pk: (founded, dissolved)
        for pk, founded, dissolved in GrassrootsUnion.objects.values_list("pk", "founded_on", "dissolved_on")
    }
    coverages = UnionCoverage.objects.order_by("pk").values_list(
        "enterprise_id", "union_id", "valid_from", "valid_to"
    )
    for enterprise_id, union_id, valid_from, valid_to in coverages.iterator(chunk_size=20_000):
        founded, dissolved = unions[union_id]
        start = max(valid_from or founded, founded)
        ends = [d for d in (valid_to, dissolved) if d is not None]
        end = min(ends) if ends else None
        if end is None or start < end:
            facts[enterprise_id].unions.append((union_id, start, end))
    by_district: dict[str, list[EnterpriseFacts]] = defaultdict(list)
    for fact in facts.values():
        fact.unions.sort(key=lambda u: u[1])
        by_district[fact.district].append(fact)
    return list(facts.values()), by_district


def _union_on(
    enterprise: EnterpriseFacts, day: datetime.date
) -> tuple[int, datetime.date, datetime.date | None] | None:
    for union in enterprise.unions:
        if union[1] <= day and (union[2] is None or day < union[2]):
            return union
    return None


def _first_union_after(
    enterprise: EnterpriseFacts, day: datetime.date, until: datetime.date | None
) -> tuple[int, datetime.date, datetime.date | None] | None:
    """The union covering the enterprise on ``day`` or, failing that, the first one to start before ``until``."""
    found = _union_on(enterprise, day)
    if found is not None:
        return found
    for union in enterprise.unions:
        if union[1] > day and (until is None or union[1] < until):
            return union
    return None


class _People:
    """Invents persons: unique valid ID numbers, names, phones, household."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.sequences: dict[tuple[str, int, int], int] = defaultdict(int)

    def number(self, address: str, born: datetime.date, male: bool) -> str:
        key = (address, born.toordinal(), int(male))
        index = self.sequences[key]
        self.sequences[key] = index + 1
        if index >= 499:
            # 499 people of one sex born on one day in one district: move on to the next day.
            return self.number(address, born + datetime.timedelta(days=1), male)
        # Odd sequence codes are men's, even ones women's (001–997, 002–998).
        sequence = index * 2 + (1 if male else 2)
        body = f"{address}{born:%Y%m%d}{sequence:03d}"
        return body + check_character(body)

    def name(self, male: bool) -> str:
        rng = self.rng
        syllables = MALE_SYLLABLES if male else FEMALE_SYLLABLES
        # Common surnames first: a Zipf-like pick over the list.
        surname = SURNAMES[min(int(rng.paretovariate(1.1)) - 1, len(SURNAMES) - 1)]
        given = rng.choice(syllables) + (rng.choice(syllables) if rng.random() < 0.7 else "")
        return surname + given

    def phone(self) -> str:
        if self.rng.random() < 0.15:
            return ""
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(100_000_000):08d}"

    def person(
        self, enterprise: EnterpriseFacts, first_hire: datetime.date
    ) -> tuple[str, str, datetime.date, str, str, str]:
        rng = self.rng
        male = rng.random() < 0.55
        age = rng.randint(18, 50)
        born = first_hire - datetime.timedelta(days=age * 365 + rng.randrange(365))
        rural = rng.random() < min(0.95, 0.08 + 0.9 * enterprise.migrant_share)
        if rural:
            address = rng.choice(RURAL_CODES)
        elif enterprise.district in ALL_CODES and rng.random() < 0.6:
            address = enterprise.district
        else:
            address = rng.choice(URBAN_CODES)
        return (
            self.name(male),
            self.number(address, born, male),
            born,
            "M" if male else "F",
            Household.RURAL if rural else Household.URBAN,
            self.phone(),
        )


def _day_between(rng: random.Random, low: datetime.date, high: datetime.date) -> datetime.date:
    if high <= low:
        return low
    return low + datetime.timedelta(days=rng.randrange((high - low).days + 1))


def _employment_type(rng: random.Random, enterprise: EnterpriseFacts) -> str:
    if rng.random() < min(0.6, 0.04 + 1.2 * enterprise.dispatched_share):
        return EmploymentType.DISPATCHED
    return EmploymentType.PART_TIME if rng.random() < 0.08 else EmploymentType.LABOUR_CONTRACT


def _previous_job(
    rng: random.Random,
    following: Job,
    enterprise: EnterpriseFacts,
    neighbours: list[EnterpriseFacts],
    weights: list[int],
) -> Job | None:
    """An earlier job ending when (or a little before) ``following`` starts; a few tries to find one."""
    for _attempt in range(3):
        # Workers come from where the jobs are: bigger enterprises are likelier earlier employers.
        other = neighbours[bisect_right(weights, rng.random() * weights[-1])]
        # Most move on the same day (a transfer when both have unions), the rest after a pause.
        leave = following.start
        if rng.random() >= 0.6:
            leave -= datetime.timedelta(days=rng.randrange(1, 120))
        begin = leave - datetime.timedelta(days=rng.randrange(200, 1500))
        begin = max(begin, other.founded, HISTORY_START - datetime.timedelta(days=730))
        if other is enterprise or begin >= leave:
            continue
        if other.deregistered is not None and other.deregistered < leave:
            continue
        return Job(other, begin, leave, _employment_type(rng, other))
    return None


def _workers(
    rng: random.Random,
    people: _People,
    chunk: list[EnterpriseFacts],
    by_district: dict[str, list[EnterpriseFacts]],
    staffing: tuple[float, float],
    district_weights: dict[str, list[int]],
) -> Iterator[Worker]:
    """The workers of a chunk of enterprises: current staff (some with earlier jobs) and former staff."""
    for enterprise in chunk:
        factor = staffing[0] if enterprise.unions else staffing[1]
        expected = enterprise.headcount * factor
        staff = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
        if staff == 0:
            continue
        last_day = enterprise.deregistered or REFERENCE_DAY
        if enterprise.founded > REFERENCE_DAY:
            hire_low, hire_high = enterprise.founded, enterprise.founded + datetime.timedelta(days=300)
        else:
            hire_low = max(enterprise.founded, EARLIEST_HIRE)
            hire_high = min(last_day - datetime.timedelta(days=1), REFERENCE_DAY)
        # Everyone is hired while the enterprise exists (it may have closed soon after it was founded).
        if enterprise.deregistered is not None:
            hire_high = min(hire_high, enterprise.deregistered - datetime.timedelta(days=1))
        if hire_high < enterprise.founded:
            continue
        neighbours = by_district[enterprise.district]
        weights = district_weights[enterprise.district]
        formers = int(staff * FORMER_SHARE + rng.random())
        for index in range(staff + formers):
            former = index >= staff
            # Most current hires fall in the history window; long-serving staff started earlier.
            low = max(hire_low, HISTORY_START) if rng.random() < 0.7 else hire_low
            start = _day_between(rng, min(low, hire_high), hire_high)
            end = enterprise.deregistered
            if former:
                end = _day_between(rng, start + datetime.timedelta(days=180), REFERENCE_DAY)
                if enterprise.deregistered is not None:
                    end = min(end, enterprise.deregistered)
                if end <= start:
                    continue
            jobs = [Job(enterprise, start, end, _employment_type(rng, enterprise))]
            if not former:
                previous = 0
                for chance in PREVIOUS_JOBS:
                    if rng.random() >= chance:
                        break
                    previous += 1
                for _ in range(previous):
                    job = _previous_job(rng, jobs[0], enterprise, neighbours, weights)
                    if job is None:
                        break
                    jobs.insert(0, job)
            name, number, born, sex, household, phone = people.person(enterprise, jobs[0].start)
            yield Worker(name, number, born, sex, household, phone, jobs)


def _memberships(
    rng: random.Random, worker: Worker
) -> list[tuple[int, datetime.date, datetime.date | None, str]]:
    """(union, from, to, end reason) in date order: joins, leaves and same-day transfers."""
    rows: list[list] = []
    current: list | None = None  # the open membership row
    for job_index, job in enumerate(worker.jobs):
        enterprise = job.enterprise
        rate = DISTRICT_MEMBER_RATE.get(enterprise.district, 0.8)
        if worker.household == Household.RURAL:
            rate *= 0.82
        if job.employment_type == EmploymentType.DISPATCHED:
            rate *= 0.72
        if enterprise.public:
            rate = min(0.98, rate * 1.08)
        if current is None and rng.random() < rate:
            union = _first_union_after(enterprise, job.start, job.end)
            if union is not None:
                start = max(job.start, union[1])
                join = start + datetime.timedelta(days=rng.randrange(0, 60))
                if join > REFERENCE_DAY >= start:
                    join = start
                limits = [d for d in (job.end, union[2]) if d is not None]
                if (not limits or join < min(limits)) and (join <= REFERENCE_DAY or union[1] > REFERENCE_DAY):
                    current = [union[0], join, None, "", union[2]]
                    rows.append(current)
        if current is None:
            continue
        union_end = current[4]
        job_end = job.end
        if union_end is not None and (job_end is None or union_end <= job_end):
            current[2], current[3] = union_end, MembershipEndReason.UNION_DISSOLVED
            current = None
            continue
        if rng.random() < WITHDRAW_SHARE:
            high = min(d for d in (job_end, REFERENCE_DAY) if d is not None)
            day = _day_between(rng, current[1] + datetime.timedelta(days=30), high)
            if day < high:
                current[2], current[3] = day, MembershipEndReason.WITHDREW
                current = None
                continue
        if job_end is None:
            continue
        following = worker.jobs[job_index + 1] if job_index + 1 < len(worker.jobs) else None
        target = (
            _union_on(following.enterprise, job_end) if following and following.start == job_end else None
        )
        if target is not None and target[0] == current[0]:
            continue  # the same (joint or regional) union covers the new workplace: nothing changes
        if target is not None:
            current[2], current[3] = job_end, MembershipEndReason.TRANSFERRED
            current = [target[0], job_end, None, "", target[2]]
            rows.append(current)
        else:
            current[2], current[3] = job_end, MembershipEndReason.LEFT_JOB
            current = None
    return [(row[0], row[1], row[2], row[3]) for row in rows]


def _card_number(rng: random.Random, used: set[str]) -> str:
    while True:
        body = "8" + f"{rng.randrange(10**14):014d}"
        number = body + _luhn_check_digit(body)
        if number not in used:
            used.add(number)
            return number


PERSON_FIELDS = (
    "name",
    "id_type",
    "id_number_encrypted",
    "id_number_hash",
    "id_number_masked",
    "birth_date",
    "sex",
    "phone_encrypted",
    "phone_hash",
    "phone_masked",
    "household",
    "created_at",
    "updated_at",
)
EMPLOYMENT_FIELDS = (
    "person_id",
    "enterprise_id",
    "valid_from",
    "valid_to",
    "employment_type",
    "contract_signed",
)
MEMBERSHIP_FIELDS = ("person_id", "union_id", "valid_from", "valid_to", "member_number", "end_reason")
CARD_FIELDS = ("person_id", "union_id", "card_number", "issued_on", "status", "status_changed_on")


def _write(
    rng: random.Random,
    workers: list[Worker],
    counters: dict[str, int],
    union_district: dict[int, str],
    cards_used: set[str],
) -> None:
    """Encrypt the chunk's personal data in one pass, then insert persons and everything that names them."""
    key = crypto.current_key()
    now = timezone.now()
    person_rows = []
    for w in workers:
        person_rows.append(
            (
                w.name,
                IdType.RESIDENT_ID,
                key.encrypt(w.number),
                key.lookup_hash(w.number),
                mask_id_number(w.number),
                w.born,
                w.sex,
                key.encrypt(w.phone),
                key.lookup_hash(w.phone),
                mask_phone(w.phone),
                w.household,
                now,
                now,
            )
        )
    person_ids = bulk.insert_rows(Person, PERSON_FIELDS, person_rows)
    employments, memberships, cards = [], [], []
    for person_id, w in zip(person_ids, workers, strict=True):
        for job in w.jobs:
            signed = job.employment_type == EmploymentType.LABOUR_CONTRACT and rng.random() < 0.93
            employments.append(
                (person_id, job.enterprise.pk, job.start, job.end, job.employment_type, signed)
            )
        rows = _memberships(rng, w)
        number, reason = "", ""
        for union_id, start, end, next_reason in rows:
            # A transfer keeps the member number; a new join gets a new one.
            if reason != MembershipEndReason.TRANSFERRED:
                district = union_district.get(union_id, "210200")
                counters[district] = counters.get(district, 0) + 1
                number = f"{district}{counters[district]:07d}"
            memberships.append((person_id, union_id, start, end, number, next_reason))
            reason = next_reason
        if rows and rows[-1][2] is None and rng.random() < CARD_SHARE:
            union_id, start = rows[-1][0], rows[-1][1]
            issued = _day_between(rng, max(start, datetime.date(2008, 1, 1)), max(start, REFERENCE_DAY))
            roll = rng.random()
            status, changed = CardStatus.ACTIVE, None
            if roll < 0.05:
                status, changed = (
                    CardStatus.LOST,
                    _day_between(rng, issued, issued + datetime.timedelta(days=400)),
                )
            elif roll < 0.08:
                status, changed = (
                    CardStatus.CANCELLED,
                    _day_between(rng, issued, issued + datetime.timedelta(days=400)),
                )
            cards.append((person_id, union_id, _card_number(rng, cards_used), issued, status, changed))
    bulk.insert_rows(Employment, EMPLOYMENT_FIELDS, employments)
    bulk.insert_rows(Membership, MEMBERSHIP_FIELDS, memberships)
    bulk.insert_rows(MemberCard, CARD_FIELDS, cards)
    counters["__persons"] = counters.get("__persons", 0) + len(person_ids)
    counters["__employments"] = counters.get("__employments", 0) + len(employments)
    counters["__memberships"] = counters.get("__memberships", 0) + len(memberships)
    counters["__cards"] = counters.get("__cards", 0) + len(cards)


def _staffing(scale: str, enterprises: list[EnterpriseFacts]) -> tuple[float, float]:
    """Records per unit of headcount in (unionised, other) enterprises so the scale's target is met."""
    target = TARGET_PERSONS.get(scale)
    if target is None:
        return 1.0, 1.0
    covered = sum(e.headcount for e in enterprises if e.unions)
    other = sum(e.headcount for e in enterprises if not e.unions)
    weight = covered + UNCOVERED_WEIGHT * other
    factor = min(1.0, target / ((1 + FORMER_SHARE) * weight)) if weight else 1.0
    return factor, factor * UNCOVERED_WEIGHT


def extend_demo(*, seed: int, scale: str, progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Add the demo workers to the demo city already loaded; refused when persons exist already."""
    say = progress or (lambda message: None)
    if scale not in TARGET_PERSONS:
        raise ServiceError("scale", f"规模只能是 {' 或 '.join(TARGET_PERSONS)}。")
    started = time.perf_counter()
    rng = random.Random(f"safetynet.members.demo:{seed}:{scale}")
    with transaction.atomic():
        existing = Person.objects.count()
        if existing:
            raise ServiceError("not_empty", f"数据库中已有 {existing:,} 名职工，演示职工只能载入一次。")
        enterprises, by_district = _load_enterprises()
        if not enterprises:
            return {"职工": 0}
        staffing = _staffing(scale, enterprises)
        union_district = {}
        districts = dict(OrgUnit.objects.filter(level=OrgLevel.DISTRICT).values_list("pk", "code"))
        for pk, path in GrassrootsUnion.objects.values_list("pk", "org_unit__path"):
            parts = [int(p) for p in path.split("/") if p]
            union_district[pk] = next((districts[p] for p in parts if p in districts), "210200")
        people = _People(rng)
        district_weights = {
            code: list(accumulate(max(e.headcount, 1) for e in members))
            for code, members in by_district.items()
        }
        counters: dict[str, int] = {}
        cards_used: set[str] = set()
        batch: list[Worker] = []
        chunk_size = 2000
        for begin in range(0, len(enterprises), chunk_size):
            chunk = enterprises[begin : begin + chunk_size]
            for worker in _workers(rng, people, chunk, by_district, staffing, district_weights):
                batch.append(worker)
                if len(batch) >= CHUNK_PERSONS:
                    _write(rng, batch, counters, union_district, cards_used)
                    batch = []
            say(
                f"  职工 {counters.get('__persons', 0):,}（企业 {min(begin + chunk_size, len(enterprises)):,} / {len(enterprises):,}）"
            )
        if batch:
            _write(rng, batch, counters, union_district, cards_used)
        say("  用工会籍区段（供指标计算）")
        employment_spans_rebuild()
        bulk.analyze_tables(Person, Employment, Membership, MemberCard, EmploymentSpan)
        counts = {
            "职工": counters.get("__persons", 0),
            "用工记录": counters.get("__employments", 0),
            "会员关系": counters.get("__memberships", 0),
            "会员服务卡": counters.get("__cards", 0),
        }
        city = OrgUnit.objects.filter(level=OrgLevel.CITY).order_by("pk").first()
        if city is not None:
            audit_record(
                actor=None,
                action=AuditAction.IMPORT,
                instance=city,
                changes={label: [None, count] for label, count in counts.items()},
                unit_path=city.path,
                note=f"载入演示职工与会员（规模 {scale}，种子 {seed}，{time.perf_counter() - started:.0f} 秒）",
            )
    return counts
