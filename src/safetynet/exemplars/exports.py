"""劳模工匠和劳动竞赛: XLSX exports."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from safetynet.core.exports import xlsx_response  # noqa: F401 (the views import it from here)

HONOUR_HEADERS = (
    "姓名",
    "证件号码",
    "荣誉类别",
    "级别",
    "授予年度",
    "所在企业",
    "统一社会信用代码",
    "所属区划",
    "称号全称",
)


def honour_rows(honours: Iterable[Any]) -> Iterable[list[Any]]:
    for h in honours:
        yield [
            h.person.name,
            h.person.id_number_masked,
            h.get_kind_display(),
            h.get_level_display(),
            h.year,
            h.enterprise.name,
            h.enterprise.credit_code,
            h.org_unit.name,
            h.title,
        ]


TEAM_HEADERS = ("班组名称", "所在企业", "统一社会信用代码", "级别", "授予年度", "班组人数")


def team_rows(teams: Iterable[Any]) -> Iterable[list[Any]]:
    for t in teams:
        yield [
            t.name,
            t.enterprise.name,
            t.enterprise.credit_code,
            t.get_level_display(),
            t.year,
            t.members_count,
        ]


STUDIO_HEADERS = (
    "工作室名称",
    "领办人",
    "所在企业",
    "统一社会信用代码",
    "命名级别",
    "成立日期",
    "成员人数",
    "专利数",
    "创效（万元）",
    "主要成果",
)


def studio_rows(studios: Iterable[Any]) -> Iterable[list[Any]]:
    for s in studios:
        yield [
            s.name,
            s.leader.name,
            s.enterprise.name,
            s.enterprise.credit_code,
            s.get_level_display(),
            s.founded_on,
            s.members_count,
            s.patents,
            float(s.savings),
            s.results,
        ]


ENTRY_HEADERS = (
    "竞赛名称",
    "类别",
    "主办级别",
    "开始日期",
    "结束日期",
    "参赛企业",
    "统一社会信用代码",
    "参赛职工人数",
    "成绩",
    "获奖",
)


def entry_rows(entries: Iterable[Any]) -> Iterable[list[Any]]:
    for e in entries:
        c = e.competition
        yield [
            c.name,
            c.get_kind_display(),
            c.get_organiser_level_display(),
            c.starts_on,
            c.ends_on,
            e.enterprise.name,
            e.enterprise.credit_code,
            e.workers,
            e.result,
            e.award,
        ]
