from pathlib import Path

import pytest

from safetynet.core.importing import run_import
from safetynet.core.models import AuditEntry
from safetynet.orgs.tests.factories import EnterpriseFactory, make_credit_code
from safetynet.programmes.models import (
    CollectiveContract,
    ContractKind,
    ContractStatus,
    EnterpriseSystem,
    ProgrammeScope,
    SystemKind,
)
from safetynet.programmes.selectors import enterprises_with_contract_in_force, enterprises_with_system
from safetynet.programmes.tests.helpers import D

# The public sample of INTERFACES.md, next to the project: ../shared/contract.
SAMPLES = Path(__file__).resolve().parents[4].parent / "shared" / "contract"
CONTRACT_HEADER = "合同类型,覆盖企业,签订日期,备案日期,生效日期,到期日期,覆盖职工人数,工资增幅\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8-sig")
    return path


@pytest.fixture
def enterprises(city):
    return [
        EnterpriseFactory(org_unit=city.community_a, credit_code=make_credit_code(201)),
        EnterpriseFactory(org_unit=city.street_a, credit_code=make_credit_code(202)),
        EnterpriseFactory(org_unit=city.street_b, credit_code=make_credit_code(203, "210203")),
    ]


def test_contracts_import_and_reimport_changes_nothing(tmp_path, city, enterprises):
    a, b, c = (e.credit_code for e in enterprises)
    path = write(
        tmp_path,
        "contracts.csv",
        CONTRACT_HEADER
        + f"工资专项,{a},2011-12-01,2011-12-05,2012-01-01,2014-12-31,100,8.0\n"
        + f"综合,{a}、{b},2011/12/01,,2012年01月01日,2013-12-31,300,\n"
        + f"女职工专项,{a}; {c},2011-12-01,2011-12-20,2012-01-01,2012-12-31,,\n",
    )
    result = run_import("contracts", path)
    assert result.errors == [] and result.created == 3 and result.exit_code == 0
    wage = CollectiveContract.objects.get(kind=ContractKind.WAGE)
    assert wage.status == ContractStatus.FILED and wage.imported
    assert wage.org_unit == city.community_a and wage.scope == ProgrammeScope.ENTERPRISE
    assert str(wage.wage_rise_percent) == "8.00" and wage.coverages.get().covered_employees == 100
    assert wage.deemed_effective_on == D(2011, 12, 21) and not wage.filed_late
    regional = CollectiveContract.objects.get(kind=ContractKind.COMPREHENSIVE)
    assert regional.scope == ProgrammeScope.REGIONAL and regional.org_unit == city.street_a
    assert regional.filed_on is None and regional.covered_employees == 300
    women = CollectiveContract.objects.get(kind=ContractKind.WOMEN)
    assert women.org_unit == city.city  # two districts: the city is their lowest common unit
    assert women.filed_late  # filed 19 days after signing
    # In force by dates: the regional contract counts for both of its enterprises.
    assert set(enterprises_with_contract_in_force(D(2013, 12, 31))) == {enterprises[0], enterprises[1]}
    assert set(enterprises_with_contract_in_force(D(2014, 1, 1))) == {enterprises[0]}
    audits = AuditEntry.objects.count()

    again = run_import("contracts", path)
    assert (again.created, again.updated, again.unchanged, again.errors) == (0, 0, 3, [])
    assert CollectiveContract.objects.count() == 3 and AuditEntry.objects.count() == audits
    # Order of the codes does not matter for the match key.
    reordered = write(
        tmp_path,
        "reordered.csv",
        CONTRACT_HEADER + f"综合,{b};{a},2011-12-01,,2012-01-01,2013-12-31,300,\n",
    )
    assert run_import("contracts", reordered).unchanged == 1


def test_contract_reimport_corrects_a_changed_value(tmp_path, enterprises):
    a = enterprises[0].credit_code
    first = CONTRACT_HEADER + f"工资专项,{a},2011-12-01,2011-12-05,2012-01-01,2014-12-31,100,8.0\n"
    run_import("contracts", write(tmp_path, "a.csv", first))
    changed = first.replace(",8.0", ",9.5").replace("2011-12-05", "2011-12-15")
    result = run_import("contracts", write(tmp_path, "b.csv", changed))
    assert (result.created, result.updated) == (0, 1)
    contract = CollectiveContract.objects.get()
    assert str(contract.wage_rise_percent) == "9.50"
    assert contract.filed_late and contract.deemed_effective_on == D(2011, 12, 31)
    assert AuditEntry.objects.filter(object_id=str(contract.pk), action="update").count() == 1


def test_bad_contract_rows_are_rejected_with_row_column_and_reason(tmp_path, enterprises):
    a = enterprises[0].credit_code
    wrong_check = a[:-1] + ("0" if a[-1] != "0" else "1")
    unknown = make_credit_code(999)
    path = write(
        tmp_path,
        "bad.csv",
        CONTRACT_HEADER
        + f"工资协议书,{a},2011-12-01,,2012-01-01,2014-12-31,,\n"  # row 2: kind
        + f"综合,{a},2011-12-01,,2012-01-01,2011-12-31,,\n"  # row 3: expires before effective
        + f"综合,{wrong_check},2011-12-01,,2012-01-01,2014-12-31,,\n"  # row 4: check character
        + f"综合,{unknown},2011-12-01,,2012-01-01,2014-12-31,,\n"  # row 5: not registered
        + f"综合,{a},2011-12-01,2011-11-01,2013-01-01,2014-12-31,,abc\n"  # row 6: filed before signed, rise
        + f"工资专项,{a},2011-12-01,,2012-01-01,2014-12-31,,\n"  # row 7: fine, but the file has errors
        + f"工资专项,{a},2011-12-01,,2012-01-01,2015-12-31,,\n",  # row 8: same key as row 7
    )
    result = run_import("contracts", path)
    assert result.exit_code == 1
    by_row = {}
    for error in result.errors:
        by_row.setdefault(error.row, []).append((error.column, error.message))
    assert by_row[2][0][0] == "合同类型" and "综合" in by_row[2][0][1]
    assert by_row[3] == [("到期日期", by_row[3][0][1])] and "早于生效日期" in by_row[3][0][1]
    assert by_row[4][0][0] == "覆盖企业" and "校验位" in by_row[4][0][1]
    assert by_row[5][0][0] == "覆盖企业" and "尚未登记" in by_row[5][0][1]
    assert {column for column, _ in by_row[6]} == {"备案日期", "工资增幅"}
    assert "重复" in by_row[7][0][1] and "第 8 行" in by_row[7][0][1]
    assert "第 7 行" in by_row[8][0][1]
    assert not CollectiveContract.objects.exists()


def test_contract_import_respects_the_users_scope(tmp_path, enterprises, make_staff, city):
    officer = make_staff("xg_operator", city.xigang, "operator")
    text = CONTRACT_HEADER + f"工资专项,{enterprises[0].credit_code},2011-12-01,,2012-01-01,2014-12-31,,\n"
    result = run_import("contracts", write(tmp_path, "c.csv", text), actor=officer)
    assert result.exit_code == 1 and "不在您的管辖范围内" in result.errors[0].message


CONGRESS_HEADER = "企业统一社会信用代码,制度,建立日期,撤销日期\n"


def test_congresses_import_reimport_and_correct(tmp_path, city, enterprises):
    a, b = enterprises[0].credit_code, enterprises[1].credit_code
    text = (
        CONGRESS_HEADER
        + f"{a},职代会,2007-01-01,\n{a},厂务公开,2008-01-01,2012-06-30\n{b},职代会,2010-05-01,\n"
    )
    path = write(tmp_path, "congresses.csv", text)
    result = run_import("congresses", path)
    assert (result.created, result.errors) == (3, [])
    system = EnterpriseSystem.objects.get(system=SystemKind.OPENNESS)
    assert system.org_unit == city.community_a and system.scope == ProgrammeScope.ENTERPRISE
    assert list(system.enterprises.all()) == [enterprises[0]]
    openness = enterprises_with_system
    assert list(openness(D(2012, 6, 29), SystemKind.OPENNESS)) == [enterprises[0]]
    assert not openness(D(2012, 6, 30), SystemKind.OPENNESS).exists()  # abolished on that day
    assert set(openness(D(2010, 5, 1), SystemKind.CONGRESS)) == {enterprises[0], enterprises[1]}
    assert list(openness(D(2010, 4, 30), SystemKind.CONGRESS)) == [enterprises[0]]
    audits = AuditEntry.objects.count()
    again = run_import("congresses", path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert AuditEntry.objects.count() == audits
    abolished = text.replace(f"{b},职代会,2010-05-01,", f"{b},职代会,2010-05-01,2013-01-01")
    result = run_import("congresses", write(tmp_path, "abolished.csv", abolished))
    assert (result.updated, result.unchanged) == (1, 2)
    assert EnterpriseSystem.objects.get(
        system=SystemKind.CONGRESS, established_on=D(2010, 5, 1)
    ).abolished_on == D(2013, 1, 1)


def test_bad_congress_rows(tmp_path, enterprises):
    a = enterprises[0].credit_code
    text = (
        CONGRESS_HEADER
        + f"{a},工会,2007-01-01,\n"
        + f"{a},职代会,2007-01-01,2006-01-01\n"
        + f"{make_credit_code(998)},职代会,2007-01-01,\n"
    )
    result = run_import("congresses", write(tmp_path, "bad.csv", text))
    assert [(e.row, e.column) for e in result.errors] == [
        (2, "制度"),
        (3, "撤销日期"),
        (4, "企业统一社会信用代码"),
    ]
    assert not EnterpriseSystem.objects.exists()


@pytest.mark.skipif(not SAMPLES.exists(), reason="the shared contract samples are not here")
def test_the_shared_samples_import_cleanly_after_the_registry(db):
    for kind in ("units", "enterprises", "unions", "contracts", "congresses"):
        result = run_import(kind, SAMPLES / f"{kind}.csv")
        assert result.exit_code == 0, (kind, [str(e) for e in result.errors])
    for kind in ("contracts", "congresses"):
        result = run_import(kind, SAMPLES / f"{kind}.csv")
        assert result.created == result.updated == 0 and result.exit_code == 0
    assert CollectiveContract.objects.in_force_on(D(2012, 12, 31)).count() == 1
