"""Member rosters of any length for the import tests: every row valid, one worker per row."""

from __future__ import annotations

import datetime
from pathlib import Path

from safetynet.members.tests.factories import make_id_number
from safetynet.orgs.models import Enterprise

ROSTER_HEADER = (
    "姓名,身份证号,手机号,户籍类型,用工形式,企业统一社会信用代码,入职日期,离职日期,入会日期,离会日期,会员编号"
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞"


def roster_line(enterprise: Enterprise, n: int, *, joined: str = "2011-01-01") -> str:
    """Worker ``n`` (0, 1, …): a unique ID number (999 per birth day), hired 2010, a member from ``joined``."""
    born = datetime.date(1960, 1, 1) + datetime.timedelta(days=n // 999)
    name = SURNAMES[n % len(SURNAMES)] + GIVEN[(n // len(SURNAMES)) % len(GIVEN)] + GIVEN[n % len(GIVEN)]
    number = make_id_number(n % 999 + 1, born=born)
    return f"{name},{number},138{n:08d},农村,劳动合同,{enterprise.credit_code},2010-03-01,,{joined},,"


def write_roster(path: Path, enterprise: Enterprise, rows: int) -> Path:
    """A roster CSV (UTF-8 with BOM, as Excel writes it) of ``rows`` workers of ``enterprise``."""
    with path.open("w", encoding="utf-8-sig", newline="\n") as handle:
        handle.write(ROSTER_HEADER + "\n")
        for n in range(rows):
            handle.write(roster_line(enterprise, n) + "\n")
    return path
