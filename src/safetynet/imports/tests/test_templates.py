"""Downloadable templates: the importer's header row (required marked), 填写说明, and they import as they are."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.urls import reverse

from safetynet.core.importing import ImportUnusable, autodiscover, get_importer, known_kinds, run_import

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
