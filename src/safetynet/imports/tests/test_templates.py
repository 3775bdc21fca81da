"""Downloadable templates: the importer's header row (required marked), 填写说明, and they import as they are."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.urls import reverse

from safetynet.core.importing import ImportUnusable, autodiscover, get_importer, known_kinds, run_import
from safetynet.imports.guide import guide_for

autodiscover()

# INTERFACES.md, "Files people bring": the columns of each kind, required ones first-class.
INTERFACES = {
    "units": (["区划代码", "名称", "上级区划代码", "层级"], ["启用日期", "停用日期"]),
    "enterprises": (
        ["统一社会信用代码", "企业名称", "所属区划代码", "经济类型", "职工人数", "成立日期"],
        ["行业门类", "规模以上", "农民工人数", "劳务派遣人数", "注销日期"],
    ),
    "unions": (
        ["工会名称", "工会类型", "所属区划代码", "成立日期", "覆盖企业"],
        ["撤销日期", "主席姓名", "主席直选"],
    ),
    "members": (
        ["姓名", "身份证号", "企业统一社会信用代码", "入职日期"],
        ["手机号", "户籍类型", "用工形式", "离职日期", "入会日期", "离会日期", "会员编号"],
    ),
    "contracts": (
        ["合同类型", "覆盖企业", "签订日期", "生效日期", "到期日期"],
        ["备案日期", "覆盖职工人数", "工资增幅"],
    ),
    "congresses": (["企业统一社会信用代码", "制度", "建立日期"], ["撤销日期"]),
}


def download(client, kind: str) -> openpyxl.Workbook:
    response = client.get(reverse("imports:template", args=[kind]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    return openpyxl.load_workbook(io.BytesIO(response.content))


@pytest.mark.parametrize("kind", sorted(known_kinds()))
def test_template_has_the_headers_of_the_kind(client, city, make_staff, kind, tmp_path):
    client.force_login(make_staff("viewer", city.zhongshan, "viewer"))
    workbook = download(client, kind)
    importer = get_importer(kind)
    headers = [cell.value for cell in workbook.worksheets[0][1]]
    required = [h.lstrip("*") for h in headers if h.startswith("*")]
    optional = [h for h in headers if not h.startswith("*")]
    assert required == [c.header for c in importer.columns if c.required]
    assert optional == [c.header for c in importer.columns if not c.required]
    if kind in INTERFACES:
        must, may = INTERFACES[kind]
        assert set(must) == set(required)
        assert set(may) <= set(optional)
    guide = workbook["填写说明"]
    listed = {row[0]: row for row in guide.iter_rows(min_row=5, values_only=True) if row[0] and row[1]}
    for column in importer.columns:
        row = next(r for name, r in listed.items() if name.startswith(column.header))
        assert row[1] == ("必填" if column.required else "选填")
    text = " ".join(str(v) for row in guide.iter_rows(values_only=True) for v in row if v)
    if any(guide_for(kind, c).date for c in importer.columns):
        assert "2012-03-15" in text  # the date formats are explained

    # The header row as downloaded is accepted by the importer: a template with one row is a real file.
    path = tmp_path / f"{kind}.xlsx"
    sheet = workbook.worksheets[0]
    example = [r for r in guide.iter_rows(values_only=True)][-1]
    for position, value in enumerate(example, start=1):
        sheet.cell(row=2, column=position, value=value or None)
    workbook.save(path)
    try:
        run_import(kind, path, dry_run=True)
    except ImportUnusable as exc:  # pragma: no cover - the message says what broke
        pytest.fail(f"{kind} template is not importable: {exc}")


def test_enterprise_template_details(client, city, make_staff):
    client.force_login(make_staff("viewer", city.zhongshan, "viewer"))
    sheet = download(client, "enterprises").worksheets[0]
    # Codes typed into the template stay text, so Excel keeps all 18 characters.
    assert sheet.column_dimensions["A"].number_format == "@"
    assert sheet["A1"].font.color.rgb.endswith("C00000")
    assert "必填" in sheet["A1"].comment.text
    guide = download(client, "enterprises")["填写说明"]
    ownership = next(r for r in guide.iter_rows(values_only=True) if r[0] == "经济类型")
    assert "国有" in ownership[3] and "港澳台" in ownership[3]


def test_unknown_kind_is_404(client, city, make_staff):
    client.force_login(make_staff("viewer", city.zhongshan, "viewer"))
    assert client.get(reverse("imports:template", args=["nothing"])).status_code == 404


# --- code, ID-number and phone columns are Text, so a file made from a template keeps every digit -------

# Values a person types or pastes that a spreadsheet would turn into numbers in a General cell.
NUMERIC_LOOKING = {
    "身份证号": "",  # filled in below: a valid all-digit ID number
    "手机号": "13800001111",
    "联系电话": "041182345678",
    "会员编号": "000123",
    "区划代码": "210202001009",
    "上级区划代码": "210202001",
    "所属区划代码": "210202001",
    "报送单位代码": "210202001",
    "报表代码": "0101",
    "报告期": "201205",
}


def all_digit_credit_code() -> str:
    """A valid credit code whose every character is a digit (as many real ones are)."""
    from safetynet.orgs.tests.factories import make_credit_code

    return next(code for n in range(1, 200) if (code := make_credit_code(700 + n)).isdigit())


def all_digit_id_number() -> str:
    from safetynet.members.tests.factories import make_id_number

    return next(number for n in range(1, 100) if (number := make_id_number(n)).isdigit())


def type_into(cell, text: str) -> None:
    """What a spreadsheet does with text typed or pasted into a cell: a number, unless the cell is Text."""
    if cell.number_format != "@" and text.replace(".", "", 1).isdigit():
        cell.value = float(text)
    else:
        cell.value = text


def numeric_looking_value(column) -> str | None:
    if column.header in NUMERIC_LOOKING:
        return NUMERIC_LOOKING[column.header] or all_digit_id_number()
    if "信用代码" in column.header or column.key == "enterprises":
        return all_digit_credit_code()
    return None


@pytest.mark.parametrize("kind", sorted(known_kinds()))
def test_every_code_id_and_phone_column_of_the_template_is_text(kind):
    from safetynet.imports.guide import TEXT_ROWS, build_template, is_text_column

    importer = get_importer(kind)
    sheet = openpyxl.load_workbook(io.BytesIO(build_template(kind))).worksheets[0]
    text_columns = [
        position for position, column in enumerate(importer.columns, start=1) if is_text_column(kind, column)
    ]
    assert text_columns, f"{kind} has no code column?"
    for position, column in enumerate(importer.columns, start=1):
        if numeric_looking_value(column) is not None:
            assert position in text_columns, f"{kind}: {column.header} should be a Text column"
    for position in text_columns:
        letter = openpyxl.utils.get_column_letter(position)
        assert sheet.column_dimensions[letter].number_format == "@"
        for row in (2, 3, TEXT_ROWS // 2, TEXT_ROWS + 1):
            assert sheet.cell(row=row, column=position).number_format == "@", (kind, letter, row)


@pytest.mark.parametrize("kind", sorted(known_kinds()))
def test_numeric_looking_values_typed_into_a_template_come_back_intact(kind, city, tmp_path):
    """Round trip: the template, values typed into it as a spreadsheet stores them, saved, read back by the
    importer. In the template's Text cells every digit (and every leading 0) stays."""
    from safetynet.imports.guide import build_template

    importer = get_importer(kind)
    workbook = openpyxl.load_workbook(io.BytesIO(build_template(kind)))
    sheet = workbook.worksheets[0]
    typed: dict[str, str] = {}
    for position, column in enumerate(importer.columns, start=1):
        value = numeric_looking_value(column)
        if value is None:
            sheet.cell(row=2, column=position, value=guide_for(kind, column).example or None)
        else:
            type_into(sheet.cell(row=2, column=position), value)
            typed[column.key] = value
    assert typed
    path = tmp_path / f"{kind}.xlsx"
    workbook.save(path)

    from safetynet.core.importing import Row, SourceFile

    source = SourceFile.open(path)
    rows = dict(source.rows())
    header = [h.lstrip("*") for h in rows[1]]
    index = {c.key: header.index(c.header) for c in importer.columns}
    row = Row(2, rows[2], index, {c.key: c for c in importer.columns})
    for key, value in typed.items():
        assert row.raw(key) == value, (kind, key)  # a text cell, exactly as typed
        assert row.code(key) == value.upper()
    assert row.errors == []
    result = run_import(kind, path, dry_run=True)
    assert not [e for e in result.errors if "表格软件" in e.message], result.errors

    # The same typing into a sheet without the template's formats loses the digits, and is refused.
    plain = openpyxl.Workbook()
    bare = plain.active
    for position, cell in enumerate(sheet[1], start=1):
        bare.cell(row=1, column=position, value=cell.value)
    for position, column in enumerate(importer.columns, start=1):
        if column.key in typed:
            type_into(bare.cell(row=2, column=position), typed[column.key])
        else:
            bare.cell(row=2, column=position, value=sheet.cell(row=2, column=position).value)
    plain.save(tmp_path / "plain.xlsx")
    if any(len(value) > 15 for value in typed.values()):
        refused = run_import(kind, tmp_path / "plain.xlsx", dry_run=True)
        assert [e for e in refused.errors if "表格软件" in e.message], (kind, refused.errors)
