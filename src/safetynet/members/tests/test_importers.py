"""`safetynet import members`: matching, history, overlaps, coverage and every kind of bad cell."""

from __future__ import annotations

import datetime
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from safetynet.core.importing import number_cell_message, run_import
from safetynet.core.models import AuditAction, AuditEntry
from safetynet.members.importers import NO_COVERAGE
from safetynet.members.models import Employment, EmploymentSpan, EmploymentType, Household, Membership, Person
from safetynet.members.services import membership_join, person_register
from safetynet.members.tests.factories import make_id_number

D = datetime.date
HEADER = (
    "姓名,身份证号,手机号,户籍类型,用工形式,企业统一社会信用代码,入职日期,离职日期,入会日期,离会日期,会员编号"
)
A = make_id_number(1)
B = make_id_number(2)
C = make_id_number(3, address="210203")


def write(tmp_path: Path, *lines: str, name: str = "members.csv") -> Path:
    path = tmp_path / name
    path.write_text("\ufeff" + "\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def line(
    registry_enterprise,
    number,
    name="王小明",
    *,
    hired="2010-03-01",
    left="",
    joined="",
    quit_="",
    member_number="",
    phone="13800001111",
    household="农村",
    kind="劳动合同",
) -> str:
    return ",".join(
        [
            name,
            number,
            phone,
            household,
            kind,
            registry_enterprise.credit_code,
            hired,
            left,
            joined,
            quit_,
            member_number,
        ]
    )


def errors_by_row(result) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for error in result.errors:
        found.setdefault(error.row, []).append(f"{error.column}:{error.message}")
    return found


def test_a_roster_imports_and_reimporting_changes_nothing(registry, tmp_path):
    path = write(
        tmp_path,
        line(registry.acme, A, joined="2010-03-01", member_number="HY001"),
        line(registry.acme, B, "李红", household="城镇", kind="劳务派遣"),
        line(registry.bolt, C, "赵六", hired="2009-01-01", joined="2010-01-01", phone=""),
    )
    result = run_import("members", path)
    assert result.exit_code == 0, result.errors
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    assert Person.objects.count() == 3 and Employment.objects.count() == 3 and Membership.objects.count() == 2
    wang = Person.objects.get(name="王小明")
    assert wang.household == Household.RURAL and wang.is_migrant and wang.phone_masked == "138****1111"
    assert wang.employments.get().contract_signed
    li = Person.objects.get(name="李红")
    assert li.employments.get().employment_type == EmploymentType.DISPATCHED and not li.memberships.exists()
    assert Membership.objects.get(person=wang).union == registry.acme_union
    assert Membership.objects.get(person__name="赵六").union == registry.joint_union
    audit_count = AuditEntry.objects.count()
    snapshot = list(Employment.objects.values()) + list(Membership.objects.values())
    again = run_import("members", path)
    assert again.exit_code == 0 and (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert list(Employment.objects.values()) + list(Membership.objects.values()) == snapshot
    assert AuditEntry.objects.count() == audit_count
    # Import audit rows: one per enterprise and union, scoped to their units, with counts only.
    entry = AuditEntry.objects.get(
        action=AuditAction.IMPORT, entity="orgs.enterprise", object_id=str(registry.acme.pk)
    )
    assert entry.changes == {"新增职工": [None, 2], "新增用工": [None, 2]}
    assert entry.unit_path == registry.acme.org_unit.path


def test_imported_personal_data_is_not_stored_in_clear(registry, tmp_path):
    run_import("members", write(tmp_path, line(registry.acme, A, phone="13912345678")))
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM members_person")
        raw = repr(cursor.fetchall())
    assert A not in raw and "13912345678" not in raw and A[:6] + "********" + A[-4:] in raw
    assert A not in repr(list(AuditEntry.objects.values()))


def test_a_changed_file_updates_the_same_records(registry, tmp_path):
    run_import("members", write(tmp_path, line(registry.acme, A, joined="2010-03-01")))
    updated = run_import(
        "members",
        write(
            tmp_path,
            line(
                registry.acme,
                A,
                left="2013-01-01",
                joined="2010-03-01",
                quit_="2013-01-01",
                member_number="HY9",
                phone="13900000000",
            ),
        ),
    )
    assert updated.exit_code == 0 and updated.updated == 1 and updated.created == 0
    employment = Employment.objects.get()
    membership = Membership.objects.get()
    assert employment.valid_to == D(2013, 1, 1)
    assert (membership.valid_to, membership.member_number) == (D(2013, 1, 1), "HY9")
    assert Person.objects.get().phone_masked == "139****0000"


def test_successive_rows_of_one_person_are_history(registry, tmp_path):
    # A job change with a membership transfer: 甲公司 and its union until 2013-05-01, then 乙公司.
    path = write(
        tmp_path,
        line(
            registry.acme, A, left="2013-05-01", joined="2010-03-01", quit_="2013-05-01", member_number="M1"
        ),
        line(registry.bolt, A, hired="2013-05-01", joined="2013-05-01", member_number="M1"),
    )
    result = run_import("members", path)
    assert result.exit_code == 0, result.errors
    person = Person.objects.get()
    assert list(
        person.memberships.order_by("valid_from").values_list("union__name", "valid_from", "valid_to")
    ) == [
        ("甲公司工会", D(2010, 3, 1), D(2013, 5, 1)),
        ("八一路联合工会", D(2013, 5, 1), None),
    ]
    assert person.employments.count() == 2


def test_overlapping_rows_of_one_person_are_reported_naming_both(registry, tmp_path):
    path = write(
        tmp_path,
        line(registry.acme, A, joined="2010-03-01"),
        line(registry.acme, B, "李红"),
        line(registry.acme, A, hired="2012-01-01"),
        line(registry.bolt, B, "李红", hired="2011-01-01", kind="非全日制"),  # a part-time second job is fine
        line(registry.bolt, C, "赵六", hired="2010-01-01", joined="2010-01-01"),
        line(registry.plain, C, "赵六", hired="2011-01-01"),  # two full-time jobs at once
    )
    result = run_import("members", path)
    errors = errors_by_row(result)
    assert set(errors) == {2, 4, 6, 7}
    assert "与第 4 行的任职期间重叠" in errors[2][0] and "与第 2 行" in errors[4][0]
    assert "全日制" in errors[6][0] and "与第 7 行" in errors[6][0]
    assert Person.objects.count() == 0  # nothing saved without --keep-valid
    kept = run_import("members", path, keep_valid=True)
    assert kept.created == 2 and Person.objects.get().name == "李红"


def test_overlapping_memberships_in_the_file_are_reported(registry, tmp_path):
    path = write(
        tmp_path,
        line(registry.acme, A, joined="2010-03-01"),
        line(registry.bolt, A, hired="2012-01-01", kind="非全日制", joined="2012-01-01"),
    )
    errors = errors_by_row(run_import("members", path))
    assert set(errors) == {2, 3} and "会员期间重叠" in errors[2][0]


@pytest.mark.parametrize(
    ("cells", "column", "fragment"),
    [
        ({"hired": "2012-01-01", "left": "2011-01-01"}, "离职日期", "早于入职日期"),
        ({"joined": "2011-01-01", "quit_": "2010-06-01"}, "离会日期", "早于入会日期"),
        ({"joined": "2009-01-01"}, "入会日期", "早于入职日期"),
        ({"quit_": "2012-01-01"}, "离会日期", "没有入会日期"),
        ({"hired": "2012-02-30"}, "入职日期", "2月30日"),
        ({"phone": "12345"}, "手机号", "11 位"),
        ({"household": "外地"}, "户籍类型", "城镇"),
        ({"kind": "临时工"}, "用工形式", "劳务派遣"),
    ],
)
def test_bad_cells_are_rejected_with_their_column(registry, tmp_path, cells, column, fragment):
    result = run_import("members", write(tmp_path, line(registry.acme, A, **cells)), dry_run=True)
    assert result.exit_code == 1
    assert [(e.row, e.column) for e in result.errors] == [(2, column)], result.errors
    assert fragment in result.errors[0].message


def test_membership_needs_coverage_on_the_join_date(registry, tmp_path):
    path = write(
        tmp_path,
        line(registry.plain, A, joined="2010-03-01"),  # 丙公司 has no union
        line(registry.bolt, B, "李红", hired="2009-01-01", joined="2009-06-01"),  # covered only from 2010
    )
    result = run_import("members", path)
    assert [(e.row, e.column) for e in result.errors] == [(2, "入会日期"), (3, "入会日期")]
    assert all(NO_COVERAGE in e.message for e in result.errors)


def test_unknown_credit_code_and_bad_check_character(registry, tmp_path):
    from safetynet.orgs.tests.factories import make_credit_code

    unknown = make_credit_code(999)
    bad = registry.acme.credit_code[:-1] + ("0" if registry.acme.credit_code[-1] != "0" else "1")
    path = write(
        tmp_path,
        line(registry.acme, A).replace(registry.acme.credit_code, unknown),
        line(registry.acme, B, "李红").replace(registry.acme.credit_code, bad),
    )
    errors = errors_by_row(run_import("members", path))
    assert "尚未登记为企业" in errors[2][0] and "校验位" in errors[3][0]


def test_id_number_problems_are_explained(registry, tmp_path):
    old = "210202800315801"
    path = write(
        tmp_path,
        line(registry.acme, A[:17] + ("0" if A[-1] != "0" else "1")),
        line(registry.acme, old, "李红"),
        line(registry.acme, "1.10101E+17", "赵六"),
        line(registry.acme, "210202" + "19800231" + "001" + "0", "钱七"),
    )
    errors = errors_by_row(run_import("members", path))
    assert f"按前 17 位计算校验码应为 {A[-1]}" in errors[2][0]
    assert "出生日期 19800231 不是有效日期" in errors[5][0]
    assert "15 位旧号码" in errors[3][0] and "210202198003158" in errors[3][0]
    assert errors[4] == ["身份证号:" + number_cell_message("身份证号", "1.10101E+17")]
    assert all(message.startswith("身份证号:") for messages in errors.values() for message in messages)


def test_full_width_digits_and_stray_spaces_are_normalised(registry, tmp_path):
    wide = "".join(chr(ord(c) + 0xFEE0) for c in A[:-1]) + A[-1].lower()
    code = registry.acme.credit_code
    row = f" 王小明 , {wide[:6]} {wide[6:]} ,１３８ ００００ １１１１, 农村 ,劳动合同, {code[:9]} {code[9:]} ,２０１０－０３－０１,,,,"
    result = run_import("members", write(tmp_path, row))
    assert result.exit_code == 0, result.errors
    person = Person.objects.get()
    assert person.name == "王小明" and person.phone_masked == "138****1111"
    assert person.id_number_masked == A[:6] + "********" + A[-4:]
    assert person.employments.get().valid_from == D(2010, 3, 1)


def test_xlsx_number_cells_for_id_numbers_are_refused(registry, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(","))
    sheet.append(
        [
            "王小明",
            float(A) if A[-1] != "X" else 2.10202198003158e17,
            13800001111,
            "农村",
            "劳动合同",
            registry.acme.credit_code,
            datetime.datetime(2010, 3, 1),
            None,
            None,
            None,
            None,
        ]
    )
    path = tmp_path / "roster.xlsx"
    workbook.save(path)
    result = run_import("members", path)
    assert [(e.row, e.column) for e in result.errors] == [(2, "身份证号")]
    # The cell as the spreadsheet shows it, in the words every importer uses; never the float expanded
    # into 18 digits that look like a real ID number.
    shown = format(float(A) if A[-1] != "X" else 2.10202198003158e17, ".15G")
    assert result.errors[0].message == number_cell_message("身份证号", shown)
    assert "E+17" in shown and f"{float(A):.0f}" not in result.errors[0].message


def test_matching_persons_registered_before(registry, tmp_path):
    person = person_register(
        actor=None,
        name="王小明",
        id_number=A,
        enterprise=registry.acme,
        employed_from=D(2010, 3, 1),
        employment_type=EmploymentType.LABOUR_CONTRACT,
    )
    old = membership_join(
        actor=None, person=person.person, union=registry.acme_union, valid_from=D(2010, 3, 1)
    )
    # 乙公司 now, same person; the open membership of 甲公司工会 ends on the new join date (a transfer).
    path = write(
        tmp_path,
        line(registry.bolt, A, hired="2014-01-01", joined="2014-02-01"),
        line(registry.plain, B, "李红"),
    )
    result = run_import("members", path)
    assert result.exit_code == 0, result.errors
    assert Person.objects.count() == 2
    old.refresh_from_db()
    assert (old.valid_to, old.end_reason) == (D(2014, 2, 1), "transferred")
    assert (
        Membership.objects.filter(person=person.person, valid_to__isnull=True).get().union
        == registry.joint_union
    )
    # The same file again: nothing moves.
    again = run_import("members", path)
    assert (again.created, again.updated) == (0, 0)
    # A different name for a registered number is refused, never overwritten.
    errors = errors_by_row(
        run_import("members", write(tmp_path, line(registry.acme, A, "王晓明"), name="b.csv"))
    )
    assert "姓名与登记的不一致" in errors[2][0]


def test_stored_overlaps_are_refused(registry, tmp_path):
    person_register(
        actor=None, name="王小明", id_number=A, enterprise=registry.acme, employed_from=D(2010, 3, 1)
    )
    errors = errors_by_row(run_import("members", write(tmp_path, line(registry.acme, A, hired="2011-01-01"))))
    assert "已登记此人在该企业的任职记录" in errors[2][0]


def test_scope_of_the_importing_user(registry, city, make_staff, tmp_path):
    xigang = make_staff("xo", city.xigang, "operator")
    viewer = make_staff("xv", city.xigang, "viewer")
    path = write(tmp_path, line(registry.acme, A), line(registry.bolt, B, "李红"))
    result = run_import("members", path, actor=xigang, keep_valid=True)
    assert [(e.row, e.column) for e in result.errors] == [(2, "企业统一社会信用代码")]
    assert "不在您的管辖范围内" in result.errors[0].message
    assert list(Person.objects.values_list("name", flat=True)) == ["李红"]
    from safetynet.core.importing import ImportUnusable

    with pytest.raises(ImportUnusable):
        run_import("members", path, actor=viewer)


def test_lookups_are_set_based(registry, tmp_path, django_assert_max_num_queries):
    def roster(n: int, name: str) -> Path:
        rows = [
            line(
                registry.acme,
                make_id_number(i, born=D(1970, 1, 1) + datetime.timedelta(days=i)),
                f"职工{i}",
                joined="2010-03-01",
            )
            for i in range(1, n + 1)
        ]
        return write(tmp_path, *rows, name=name)

    small, large = roster(5, "small.csv"), roster(400, "large.csv")
    with django_assert_max_num_queries(40) as small_queries:
        run_import("members", small, dry_run=True)
    with django_assert_max_num_queries(len(small_queries.captured_queries) + 3):
        run_import("members", large, dry_run=True)
    with django_assert_max_num_queries(60):
        assert run_import("members", large).created == 400


def test_command_exit_codes(registry, tmp_path):
    good = write(tmp_path, line(registry.acme, A))
    call_command("import", "members", str(good))
    bad = write(tmp_path, line(registry.acme, "123"), name="bad.csv")
    with pytest.raises(SystemExit) as exc:
        call_command("import", "members", str(bad), "--dry-run", "--errors", str(tmp_path / "e.xlsx"))
    assert exc.value.code == 1 and (tmp_path / "e.xlsx").stat().st_size > 0


# --- the streaming import: rows of one person in different batches, fast paths ----------------------


def test_rows_of_one_person_are_checked_together_across_batches(registry, tmp_path, monkeypatch):
    from safetynet.members.importers import MemberImporter

    monkeypatch.setattr(MemberImporter, "batch_size", 2)
    path = write(
        tmp_path,
        line(registry.acme, A, left="2013-05-01", joined="2010-03-01", quit_="2013-05-01"),
        line(registry.plain, B, "李红"),
        line(registry.acme, C, "赵六", hired="2012-01-01"),
        line(registry.bolt, A, hired="2013-05-01", joined="2013-05-01"),  # A's next job, in batch 2
        line(registry.plain, C, "赵六", hired="2012-06-01"),  # overlaps row 4 (full-time at two)
        line(registry.acme, B, "李小红", hired="2015-01-01"),  # B under another name
    )
    errors = errors_by_row(run_import("members", path))
    assert set(errors) == {3, 4, 6, 7}
    assert "与第 6 行的任职期间重叠" in errors[4][0] and "与第 4 行的任职期间重叠" in errors[6][0]
    assert "第 7 行为“李小红”" in errors[3][0] and "第 3 行为“李红”" in errors[7][0]
    result = run_import("members", path, keep_valid=True)
    assert result.created == 2 and result.saved
    wang = Person.objects.get(name="王小明")
    assert list(wang.memberships.order_by("valid_from").values_list("union", "valid_to")) == [
        (registry.acme_union.pk, D(2013, 5, 1)),
        (registry.joint_union.pk, None),
    ]


def test_resident_id_fast_path_agrees_with_the_full_check(registry):
    import random

    from safetynet.core.importing import Issues
    from safetynet.members.importers import MemberImporter
    from safetynet.members.validation import IdNumberError, validate_resident_id

    importer = MemberImporter(
        actor=None, today=timezone.localdate(), present=frozenset(["name", "id_number"]), issues=Issues()
    )
    rng = random.Random(3)
    tried = accepted = 0
    for _ in range(3000):
        address = rng.choice(["210202", "210203", "110101", "999999", "210299"])
        born = f"{rng.randint(1890, 2030)}{rng.randint(1, 13):02d}{rng.randint(1, 31):02d}"
        body = f"{address}{born}{rng.randint(0, 999):03d}"
        for last in ("0123456789X"[rng.randint(0, 10)], make_id_number(1)[-1]):
            number = body + last
            tried += 1
            try:
                expected = validate_resident_id(number)
            except IdNumberError:
                expected = None
            fast = importer._resident_number(number)
            if fast is not None:
                accepted += 1
                assert expected is not None and fast == (expected.number, expected.birth_date, expected.sex)
            else:
                assert expected is None
    assert accepted > 100 and tried == 6000


def test_batched_personal_data_equals_crypto(db):
    from safetynet.members import crypto
    from safetynet.members.bulk import FastPersonalData

    fast = FastPersonalData(crypto.current_key())
    values = ["", "13800001111", A, "1234567890123456", "12345678901234567890123456789012", "王小明", "x"]
    tokens = fast.encrypt_many(values)
    assert [crypto.decrypt(token) for token in tokens] == values
    assert tokens[0] == "" and len(set(tokens[1:])) == len(values) - 1
    assert [fast.lookup_hash(v) for v in values] == [crypto.lookup_hash(v) for v in values]
    # Each value gets its own IV: the same value twice gives two tokens.
    again = fast.encrypt_many([A, A])
    assert again[0] != again[1] and crypto.decrypt(again[1]) == A


def test_a_file_changed_between_the_two_passes_saves_nothing(registry, tmp_path):
    """Pass 2 reads only the name and ID number of the rows that create a person, trusting pass 1's checks:
    a file edited in between is caught there and nothing is written."""
    from safetynet.core.importing import ImportUnusable

    path = write(tmp_path, line(registry.acme, A), line(registry.acme, B, "李红"))

    def progress(stage: str, done: int, total: int | None) -> None:
        if stage == "核对" and done == 0:
            write(
                tmp_path,
                line(registry.acme, A),
                line(registry.acme, B[:-1] + ("1" if B[-1] != "1" else "2"), "李红"),
            )

    with pytest.raises(ImportUnusable, match="第 3 行在导入过程中被改动"):
        run_import("members", path, progress=progress)
    assert not Person.objects.exists() and not Employment.objects.exists()


def test_pass_two_reads_only_what_it_writes(registry, tmp_path, monkeypatch):
    """Re-imported rows that change nothing are not handed to save_batch at all; the rows that do change
    something are, with the decisions of pass 1 (a job change after a re-import of the first job)."""
    from safetynet.members.importers import MemberImporter

    first = line(registry.acme, A, hired="2010-03-01", joined="2010-03-01")
    run_import("members", write(tmp_path, first, line(registry.acme, B, "李红")))
    saved: list[int] = []
    original = MemberImporter.save_batch

    def save_batch(self, records):
        saved.extend(r.row for r in records)
        return original(self, records)

    monkeypatch.setattr(MemberImporter, "save_batch", save_batch)
    monkeypatch.setattr(MemberImporter, "batch_size", 1)
    result = run_import(
        "members",
        write(
            tmp_path,
            line(
                registry.acme,
                A,
                hired="2010-03-01",
                left="2012-01-01",
                joined="2010-03-01",
                quit_="2012-01-01",
            ),
            line(registry.acme, B, "李红"),
            line(registry.bolt, A, hired="2012-01-01", joined="2012-01-01"),
            line(registry.plain, C, "赵六", hired="2011-05-01"),
        ),
    )
    assert result.exit_code == 0, result.errors
    assert (result.created, result.updated, result.unchanged) == (2, 1, 1)
    assert saved == [2, 4, 5]
    wang = Person.objects.get(name="王小明")
    assert [(e.enterprise_id, e.valid_from, e.valid_to) for e in wang.employments.order_by("valid_from")] == [
        (registry.acme.pk, D(2010, 3, 1), D(2012, 1, 1)),
        (registry.bolt.pk, D(2012, 1, 1), None),
    ]
    assert [(m.union_id, m.valid_to) for m in wang.memberships.order_by("valid_from")] == [
        (registry.acme_union.pk, D(2012, 1, 1)),
        (registry.joint_union.pk, None),
    ]
    zhao = Person.objects.get(name="赵六")
    assert zhao.birth_date is not None and zhao.id_number_masked == C[:6] + "********" + C[-4:]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's page cache")
def test_the_larger_sqlite_cache_is_only_for_the_import(registry, tmp_path):
    def cache_size() -> int:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            return cursor.fetchone()[0]

    before = cache_size()
    seen: list[int] = []
    path = write(tmp_path, line(registry.acme, A))
    result = run_import("members", path, progress=lambda stage, done, total: seen.append(cache_size()))
    assert result.exit_code == 0
    assert min(seen) < -100_000 and cache_size() == before


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics")
def test_statistics_are_refreshed_inside_the_load_for_tables_grown_by_a_tenth(registry, tmp_path):
    """A first load into empty tables leaves statistics that describe the loaded rows, the employment spans
    (what the indicators read) included, before anyone asks; a table grown by less than a tenth is left to
    autovacuum."""
    from safetynet.members.bulk import analyze_tables

    def counted(table: str = "members_person") -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
            return cursor.fetchone()[0]

    analyze_tables(Person, Employment, EmploymentSpan)  # what earlier tests left in pg_class goes
    assert counted() == 0 and counted("members_employmentspan") == 0
    run_import("members", write(tmp_path, line(registry.acme, A), line(registry.acme, B, "李红")))
    # The import analysed the tables it filled, spans included.
    assert counted() == 2
    assert counted("members_employment") == 2
    assert counted("members_employmentspan") == EmploymentSpan.objects.count() >= 2
    analyze_tables(Person, added={Person: 0})
    assert counted() == 2  # nothing added: no ANALYZE
    run_import("members", write(tmp_path, line(registry.acme, C, "赵六")))
    assert counted() == 3  # one row more on two is a third: analysed inside the load


def test_the_rule_for_fresh_statistics_is_autovacuums_tenth():
    from safetynet.members.bulk import grown_enough

    assert grown_enough(1, -1)  # never analysed
    assert grown_enough(1, 0)
    assert grown_enough(100_000, 1_000_000)
    assert not grown_enough(99_999, 1_000_000)
    assert not grown_enough(0, 0)
