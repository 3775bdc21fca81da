"""The downloadable template of each kind: the header row the importer reads, and a sheet 填写说明.

Headers and which columns are required come from the importer's own ``columns`` (so they cannot drift);
what may be written in each column and an example value are described here, by column key.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from safetynet.core.importing import Column, Importer, autodiscover, get_importer
from safetynet.members.models import EmploymentType, Household
from safetynet.members.validation import IdType
from safetynet.orgs.models import Ownership, UnionType
from safetynet.programmes.models import ContractKind, SystemKind

DATE_FORMATS = "日期，写成 2012-03-15、2012/03/15 或 2012年03月15日，或用表格的日期格式"
MOMENT_FORMATS = "北京时间，写成 2012-06-02 09:00（也可用表格的日期时间格式）"
YES_NO = "“是”或“否”，不填视为“否”"
CREDIT_CODE = "18 位统一社会信用代码（该列已设为“文本”格式，以免表格软件把代码变成科学计数法而丢失后几位）"
REQUIRED_MARK = "*"
# Code, ID-number and phone columns are set to Text on this many rows (and as the column's style), so that a
# file made from the template keeps every digit however the values get in (typed or pasted).
TEXT_ROWS = 10_000
# A column whose header names a code or a number kept as text is a text column even without a guide (a kind
# added later): 区划代码, 报表代码, 统一社会信用代码, 身份证号, 证件号码, 手机号, 联系电话, 会员编号.
_TEXT_HEADER_WORDS = ("代码", "身份证", "证件号", "号码", "电话", "手机", "编号")


def _choices(labels: list[str]) -> str:
    return "、".join(str(label) for label in labels)


@dataclass(frozen=True)
class Guide:
    """How to fill one column: what to write (``rule``), the values allowed, an example, and its cell type."""

    rule: str
    allowed: str = ""
    example: str = ""
    text: bool = False  # a code kept as text (the column is Text, so the spreadsheet keeps every digit)
    date: bool = False


_DATE = Guide(DATE_FORMATS, date=True)

GUIDES: dict[str, dict[str, Guide]] = {
    "units": {
        "code": Guide(
            "行政区划代码：市 4 位、区市县 6 位、乡镇街道 9 位、村社区 12 位", example="210202001", text=True
        ),
        "name": Guide("单位名称", example="青泥洼桥街道"),
        "parent_code": Guide("上级单位的区划代码；市级单位留空", example="210202", text=True),
        "level": Guide("单位层级", allowed="市、区市县、乡镇街道、村社区", example="乡镇街道"),
        "valid_from": Guide(DATE_FORMATS + "；不填表示一直存在", example="2012-01-01", date=True),
        "valid_to": Guide(DATE_FORMATS + "；单位停用（撤并）时填写", example="", date=True),
    },
    "enterprises": {
        "credit_code": Guide(CREDIT_CODE, example="91210202MA0QC1234C", text=True),
        "name": Guide("企业登记名称", example="大连某某机械有限公司"),
        "org_unit": Guide("企业所在的区划代码（街道或社区）", example="210202001", text=True),
        "ownership": Guide("经济类型", allowed=_choices(list(Ownership.labels)), example="私营"),
        "industry": Guide("国民经济行业门类字母", allowed="A–T（GB/T 4754-2017 门类）", example="C"),
        "above_designated_size": Guide("是否规模以上企业", allowed=YES_NO, example="否"),
        "headcount": Guide("职工人数，不小于 0 的整数", example="120"),
        "migrant_headcount": Guide("其中农民工人数，不小于 0 的整数", example="30"),
        "dispatched_headcount": Guide("其中劳务派遣人数，不小于 0 的整数", example="5"),
        "founded_on": Guide(DATE_FORMATS, example="2008-05-20", date=True),
        "deregistered_on": Guide(DATE_FORMATS + "；企业注销时填写", date=True),
        "address": Guide("经营地址", example="中山区人民路 1 号"),
        "contact_phone": Guide("联系电话", example="0411-82345678", text=True),
    },
    "unions": {
        "name": Guide("工会全称", example="大连某某机械有限公司工会委员会"),
        "union_type": Guide("工会类型", allowed=_choices(list(UnionType.labels)), example="单独"),
        "org_unit": Guide("工会所在的区划代码", example="210202001", text=True),
        "founded_on": Guide(DATE_FORMATS, example="2009-07-01", date=True),
        "dissolved_on": Guide(DATE_FORMATS + "；工会撤销时填写", date=True),
        "enterprises": Guide(
            "覆盖企业的统一社会信用代码，多个用“;”或“、”分隔", example="91210202MA0QC1234C", text=True
        ),
        "chair_name": Guide("工会主席姓名", example="张三"),
        "chair_directly_elected": Guide("主席是否由会员直接选举产生", allowed=YES_NO, example="是"),
    },
    "members": {
        "name": Guide("职工姓名，与身份证件一致", example="王小明"),
        "id_number": Guide(
            "18 位居民身份证号码（最后一位可为 X）；该列已设为“文本”格式，请保持，否则表格软件会把号码变成 "
            "2.1020219800315E+17 而丢失后几位",
            example="210202198003150012",
            text=True,
        ),
        "id_type": Guide(
            "证件类型，不填视为居民身份证", allowed=_choices(list(IdType.labels)), example="居民身份证"
        ),
        "phone": Guide("11 位手机号", example="13800001111", text=True),
        "household": Guide("户籍类型", allowed=_choices(list(Household.labels)), example="农村"),
        "employment_type": Guide(
            "用工形式", allowed=_choices(list(EmploymentType.labels)), example="劳动合同"
        ),
        "credit_code": Guide("任职企业的" + CREDIT_CODE, example="91210202MA0QC1234C", text=True),
        "employed_from": Guide(DATE_FORMATS, example="2010-03-01", date=True),
        "employed_to": Guide(DATE_FORMATS + "；离职时填写", date=True),
        "joined_on": Guide(
            DATE_FORMATS + "；已入会的填写，须在任职期间且当日企业有工会覆盖", example="2010-03-01", date=True
        ),
        "left_on": Guide(DATE_FORMATS + "；离会时填写", date=True),
        "member_number": Guide("会员编号", example="HY0001", text=True),
    },
    "contracts": {
        "kind": Guide("集体合同类型", allowed=_choices(list(ContractKind.labels)), example="工资专项"),
        "enterprises": Guide(
            "覆盖企业的统一社会信用代码，多个用“;”或“、”分隔（区域性、行业性合同）",
            example="91210202MA0QC1234C",
            text=True,
        ),
        "signed_on": Guide(DATE_FORMATS, example="2012-01-10", date=True),
        "filed_on": Guide(DATE_FORMATS + "；报人社部门备案的日期", example="2012-01-20", date=True),
        "effective_on": Guide(DATE_FORMATS, example="2012-02-01", date=True),
        "expires_on": Guide(DATE_FORMATS + "；不早于生效日期", example="2015-01-31", date=True),
        "covered_employees": Guide("覆盖职工人数，不小于 0 的整数", example="120"),
        "wage_rise_percent": Guide("工资增幅，百分数（8.5 表示 8.5%）", example="8.5"),
    },
    "congresses": {
        "enterprise": Guide(CREDIT_CODE, example="91210202MA0QC1234C", text=True),
        "system": Guide("制度", allowed=_choices(list(SystemKind.labels)), example="职代会"),
        "established_on": Guide(DATE_FORMATS, example="2010-06-01", date=True),
        "abolished_on": Guide(DATE_FORMATS + "；制度撤销时填写", date=True),
    },
    # The periodic reports (INTERFACES.md, "Periodic reports and early warning").
    "report-forms": {
        "code": Guide("报表代码，字母和数字", example="YJ01", text=True),
        "name": Guide("报表名称", example="劳动关系预警月报"),
        "period_kind": Guide("报送周期", allowed="月、季、年", example="月"),
        "level": Guide("由哪一级单位报送", allowed="区市县、乡镇街道、村社区", example="乡镇街道"),
        "due_day": Guide("截止日：报告期结束后次月的第几日（1–28）", example="5"),
        "is_warning": Guide("是否预警报表（零申报须与预警信息核对）", allowed=YES_NO, example="是"),
        "enabled_from": Guide(DATE_FORMATS + "；不填表示一直启用", example="2012-01-01", date=True),
        "enabled_to": Guide(DATE_FORMATS + "；报表停用时填写", date=True),
    },
    "reports": {
        "form": Guide("报表代码", example="YJ01", text=True),
        "unit": Guide("报送单位的区划代码", example="210202001", text=True),
        "period": Guide("报告期：月写成 2012-05，季写成 2012Q2，年写成 2012", example="2012-05", text=True),
        "submitted_at": Guide(MOMENT_FORMATS, example="2012-06-02 09:00"),
        "is_zero": Guide("是否零申报", allowed="“是”或“否”", example="否"),
        "content": Guide("报告内容，按原文保存", example="本月无欠薪等情况。"),
    },
    "warnings": {
        "enterprise": Guide(CREDIT_CODE, example="91210202MA0QC1234C", text=True),
        "category": Guide(
            "预警类别",
            allowed="欠薪、欠保、减员减薪、停产、改制搬迁、群体性事件苗头、其他",
            example="欠薪",
        ),
        "discovered_on": Guide(DATE_FORMATS, example="2012-05-20", date=True),
        "reported_at": Guide(MOMENT_FORMATS, example="2012-05-21 10:00"),
        "workers_involved": Guide("涉及人数，不小于 0 的整数", example="35"),
        "amount": Guide("涉及金额（元）", example="120000"),
        "description": Guide("情况说明，按原文保存", example="三个月未发工资。"),
    },
    "hardship-files": {
        "name": Guide("职工姓名，须与职工名册中该身份证号登记的姓名一致", example="王小明"),
        "id_number": Guide(
            "18 位居民身份证号码（最后一位可为 X）；该列已设为“文本”格式，请保持",
            example="210202198001011234",
            text=True,
        ),
        "unit_code": Guide("建档的社区或街道的区划代码", example="210202001001", text=True),
        "household_size": Guide("家庭人口，不小于 1 的整数", example="3"),
        "monthly_income": Guide("家庭月收入（元），精确到分，不能为负数", example="1800.00"),
        "causes": Guide(
            "困难类型，可填多个，用“、”分隔",
            allowed="因病、因残、因灾、单亲、子女上学、失业、其他",
            example="因病、子女上学",
        ),
        "opened_on": Guide(DATE_FORMATS, example="2012-03-15", date=True),
        "closed_on": Guide(DATE_FORMATS + "；脱困时填写，不早于建档日期", example="", date=True),
        "close_reason": Guide(
            "脱困原因，填写脱困日期时必填",
            allowed="收入提高、实现就业、病愈或困难消除、迁出本地、去世、其他",
            example="",
        ),
        "level": Guide("困难程度，不填视为一般困难", allowed="一般困难、特困", example="一般困难"),
    },
    "honours": {
        "name": Guide("获得者姓名，须与该身份证号登记的姓名一致", example="王小明"),
        "id_number": Guide(
            "18 位居民身份证号码（最后一位可为 X）；该列已设为“文本”格式，请保持",
            example="210202198001011234",
            text=True,
        ),
        "kind": Guide("荣誉类别", allowed="劳动模范、五一劳动奖章", example="劳动模范"),
        "level": Guide("级别", allowed="全国、省级、市级", example="市级"),
        "year": Guide("授予年度，四位年份，不能晚于今年", example="2012"),
        "enterprise": Guide(CREDIT_CODE, example="91210202MA0QC1234C", text=True),
        "title": Guide("称号全称", example="大连市劳动模范"),
        "note": Guide("事迹摘要", example=""),
    },
    "pioneer_teams": {
        "name": Guide("班组名称", example="机加工一班"),
        "enterprise": Guide(CREDIT_CODE, example="91210202MA0QC1234C", text=True),
        "level": Guide("级别", allowed="全国、省级、市级", example="市级"),
        "year": Guide("授予年度，不能晚于今年", example="2012"),
        "members_count": Guide("班组人数，不小于 0 的整数", example="12"),
    },
    "studios": {
        "name": Guide("工作室名称，同一企业内不重复", example="王小明劳模创新工作室"),
        "leader_name": Guide("领办人姓名，须与身份证号登记的姓名一致", example="王小明"),
        "leader_id_number": Guide(
            "18 位居民身份证号码（最后一位可为 X）；该列已设为“文本”格式，请保持",
            example="210202198001011234",
            text=True,
        ),
        "enterprise": Guide(CREDIT_CODE, example="91210202MA0QC1234C", text=True),
        "level": Guide("命名级别，不填视为市级", allowed="全国、省级、市级", example="市级"),
        "founded_on": Guide(DATE_FORMATS + "；不早于企业成立日期", example="2012-03-15", date=True),
        "members_count": Guide("成员人数，不小于 0 的整数", example="8"),
        "patents": Guide("专利数，不小于 0 的整数", example="2"),
        "savings": Guide("创效（万元），数字", example="12.5"),
        "results": Guide("主要成果", example=""),
    },
    "competition_entries": {
        "competition": Guide("竞赛名称，须与已新增的竞赛名称完全一致", example="2012 年数控技能大赛"),
        "enterprise": Guide(CREDIT_CODE, example="91210202MA0QC1234C", text=True),
        "workers": Guide("参赛职工人数，不小于 0 的整数", example="20"),
        "result": Guide("成绩", example=""),
        "award": Guide("获奖", example=""),
    },
    "visits": {
        "visited_on": _DATE,
        "officer_name": Guide("走访干部姓名", example="王干部"),
        "enterprise": Guide(CREDIT_CODE, example="91210202MA0QC1234C", text=True),
        "worker_name": Guide("走访的职工姓名；只走访企业时留空", example=""),
        "worker_id_number": Guide(
            "走访职工的身份证号；填写时该职工须已在职工名册中登记、姓名一致；可留空", example="", text=True
        ),
        "checklist": Guide(
            "六必清、八必访事项，多项用顿号分隔，如“企业基本情况必清、职工主要诉求必清、困难职工必访”",
            example="企业基本情况必清、职工主要诉求必清",
        ),
        "findings": Guide(
            "走访发现的问题，最多 5000 字；导入后可在走访记录页面登记预警或转为诉求案件",
            example="三名职工反映 5 月工资未发",
        ),
    },
    "harmony_surveys": {
        "enterprise": Guide(CREDIT_CODE, example="91210202MA0QC1234C", text=True),
        "year": Guide("年度，四位年份", example="2012"),
        "score": Guide("调查得分，0 到 100", example="85"),
        "note": Guide("调查说明", example=""),
    },
}

_HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
_REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")
_REQUIRED_FONT = Font(bold=True, color="C00000")
_HEADER_FONT = Font(bold=True)


def guide_for(kind: str, column: Column) -> Guide:
    """The description of a column; a column added to an importer later still gets a plain line."""
    guide = GUIDES.get(kind, {}).get(column.key)
    if guide is not None:
        return guide
    if column.key.endswith(("_on", "_from", "_to")):
        return _DATE
    return Guide("")


def is_text_column(kind: str, column: Column) -> bool:
    """Whether the template sets the column to Text: every code, ID-number and phone column."""
    return guide_for(kind, column).text or any(word in column.header for word in _TEXT_HEADER_WORDS)


def template_headers(importer: type[Importer]) -> list[str]:
    """The header row exactly as the importer reads it (a leading * marks a required column and is ignored)."""
    return [f"{REQUIRED_MARK}{c.header}" if c.required else c.header for c in importer.columns]


def template_filename(kind: str) -> str:
    autodiscover()
    return f"{get_importer(kind).label}导入模板.xlsx"


def build_template(kind: str) -> bytes:
    """An XLSX with the header row (sheet 1, the one imported) and the instructions (sheet 填写说明)."""
    autodiscover()
    importer = get_importer(kind)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = importer.label[:31]
    for position, (column, header) in enumerate(
        zip(importer.columns, template_headers(importer), strict=True), start=1
    ):
        guide = guide_for(kind, column)
        cell = sheet.cell(row=1, column=position, value=header)
        cell.font = _REQUIRED_FONT if column.required else _HEADER_FONT
        cell.fill = _REQUIRED_FILL if column.required else _HEADER_FILL
        cell.alignment = Alignment(horizontal="center")
        note = ("必填。" if column.required else "选填。") + guide.rule
        if guide.allowed:
            note += f"。可填：{guide.allowed}"
        cell.comment = Comment(note, "职工维权安全网", width=300, height=120)
        letter = get_column_letter(position)
        sheet.column_dimensions[letter].width = max(12, len(column.header) * 2 + 6)
        if is_text_column(kind, column):
            # Typed or pasted into a Text cell, an 18-digit number keeps every digit (in a General cell it
            # becomes 2.1020219800315E+17). The column's style covers the rows after these.
            sheet.column_dimensions[letter].number_format = "@"
            for row in range(2, TEXT_ROWS + 2):
                sheet.cell(row=row, column=position).number_format = "@"
        elif guide.date:
            sheet.column_dimensions[letter].number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"

    help_sheet = workbook.create_sheet("填写说明")
    help_sheet.append([f"{importer.label}导入模板填写说明"])
    help_sheet["A1"].font = Font(bold=True, size=14)
    help_sheet.append(
        [
            "请在第一个工作表中从第 2 行起逐行填写，第 1 行表头不要修改（列的顺序可以调整，选填的列可以删去）。"
            "标“*”、红色的列为必填。上传 .xlsx 文件，或另存为“CSV UTF-8（逗号分隔）”后上传。"
        ]
    )
    help_sheet.append([])
    help_sheet.append(["列名", "是否必填", "填写要求", "可填的值", "示例"])
    for cell in help_sheet[4]:
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
    for column in importer.columns:
        guide = guide_for(kind, column)
        aliases = f"（也可写作：{'、'.join(column.aliases)}）" if column.aliases else ""
        help_sheet.append(
            [
                column.header + aliases,
                "必填" if column.required else "选填",
                guide.rule,
                guide.allowed,
                guide.example,
            ]
        )
    help_sheet.append([])
    help_sheet.append(["示例行（按第一个工作表的列顺序）："])
    help_sheet.append([f"{REQUIRED_MARK}{c.header}" if c.required else c.header for c in importer.columns])
    help_sheet.append([guide_for(kind, c).example for c in importer.columns])
    for letter, width in zip("ABCDE", (28, 10, 60, 40, 24), strict=True):
        help_sheet.column_dimensions[letter].width = width
    for row in help_sheet.iter_rows(min_row=5):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    # The example values are codes and dates written as text, as a person should write them.
    for cell in help_sheet[help_sheet.max_row]:
        cell.number_format = "@"

    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
