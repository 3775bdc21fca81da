"""``safetynet indicators-federate``: the national figures of one day, summed over several instances' APIs.

Exit codes: 0 the figures were summed; 1 refused (an instance unreachable or refusing the token, a root unit
it does not know, indicators that differ, units reported by two instances: see safetynet.indicators.federation);
2 the arguments or the config file cannot be used.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import json
import unicodedata
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from safetynet.indicators.federation import (
    FIGURE_FIELDS,
    NATIONAL,
    ConfigurationError,
    FederationError,
    FigureRow,
    federate,
    instance_from_option,
    instances_from_file,
)

REFUSED = 1
UNUSABLE = 2

EPILOG = """\
配置文件（TOML，或同样结构的 JSON：{"instances": [...]}）：
  [[instances]]
  name = "辽宁"                      # 输出中的名称，唯一
  url = "https://ln.example.org"      # 实例的站点地址
  units = ["2101", "2102"]            # 根单位（一个可写 unit = "2101"；不写则为令牌账号所属单位）
  token_env = "SN_TOKEN_LN"           # 存放 API 令牌的环境变量（或 token = "…" 直接写令牌）
令牌用各实例根单位的查看员（viewer）账号获取：POST /api/v1/auth/token/。
退出码：0 成功；1 拒绝汇总（实例无法连接、令牌被拒、401/404、指标不一致、单位重叠）；2 参数或配置文件无法使用。"""


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, *, right: bool = False) -> str:
    space = " " * max(0, width - _width(text))
    return space + text if right else text + space


def _rate(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.2f} %"


def render_table(rows: list[FigureRow], *, day: datetime.date, instance_count: int) -> str:
    """One block per indicator: the national sum, then each instance's own figure, columns aligned."""
    header = ["指标", "范围", "根单位", "分子", "分母", "比率"]
    lines: list[list[str]] = []
    for row in rows:
        national = row.scope == NATIONAL
        lines.append(
            [
                f"{row.label}（{row.indicator}）" if national else "",
                row.unit_name if national else f"  {row.instance}",
                "" if national else f"{row.unit} {row.unit_name}".strip(),
                f"{row.numerator:,}",
                f"{row.denominator:,}",
                _rate(row.rate),
            ]
        )
    widths = [max(_width(cells[i]) for cells in [header, *lines]) for i in range(len(header))]
    numeric = {3, 4, 5}

    def format_line(cells: list[str]) -> str:
        return "  ".join(_pad(cell, widths[i], right=i in numeric) for i, cell in enumerate(cells)).rstrip()

    out = [f"{day} 汇总（{instance_count} 个实例，分子分母相加）", format_line(header)]
    out.append("  ".join("-" * w for w in widths))
    out.extend(format_line(cells) for cells in lines)
    return "\n".join(out) + "\n"


class Command(BaseCommand):
    # It reads other instances over HTTP and never this installation's database: it runs on any machine.
    requires_system_checks: list[str] = []
    help = (
        "从多个 Safetynet 实例的 API 读取某日的指标，按指标把各实例根单位的分子、分母相加，"
        "输出全国（或全省）汇总和各实例本身的数字。"
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.epilog = EPILOG
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", required=True, metavar="YYYY-MM-DD", help="日期")
        parser.add_argument("--config", metavar="FILE", help="实例列表：TOML（.toml）或 JSON（.json）文件")
        parser.add_argument(
            "--instance",
            action="append",
            default=[],
            metavar="NAME,URL,UNITS,TOKEN",
            help="一个实例（可重复）：名称,地址,根单位（多个用 + 连接，可留空）,令牌（或 env:环境变量名）",
        )
        parser.add_argument(
            "--indicator", action="append", default=[], metavar="CODE", help="只汇总这些指标（可重复）"
        )
        parser.add_argument("--format", choices=["table", "csv", "json"], default="table")
        parser.add_argument("--output", metavar="FILE", help="写入此文件（默认输出到标准输出）")
        parser.add_argument("--name", default="全国", help="汇总行的名称（默认“全国”，例如“辽宁省”）")
        parser.add_argument(
            "--timeout", type=float, default=60.0, metavar="SECONDS", help="每个请求的超时（秒），默认 60"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            day = datetime.date.fromisoformat(options["as_of"])
        except ValueError:
            raise CommandError(
                f"--as-of “{options['as_of']}”不是 YYYY-MM-DD 格式的日期。", returncode=UNUSABLE
            ) from None
        if options["timeout"] <= 0:
            raise CommandError("--timeout 应为正数（秒）。", returncode=UNUSABLE)
        try:
            instances = []
            if options["config"]:
                instances.extend(instances_from_file(path=Path(options["config"])))
            instances.extend(instance_from_option(value=value) for value in options["instance"])
            rows = federate(
                instances=instances,
                day=day,
                indicators=options["indicator"],
                timeout=options["timeout"],
                national_name=options["name"],
            )
        except ConfigurationError as exc:
            raise CommandError(str(exc), returncode=UNUSABLE) from None
        except FederationError as exc:
            listed = "\n".join(f"- {problem}" for problem in exc.problems)
            raise CommandError(
                f"无法汇总，未输出任何数字（{len(exc.problems)} 个问题）：\n{listed}", returncode=REFUSED
            ) from None
        text = self._render(rows, options["format"], day, len(instances))
        if options["output"]:
            try:
                Path(options["output"]).write_text(text, encoding="utf-8")
            except OSError as exc:
                raise CommandError(
                    f"无法写入“{options['output']}”：{exc.strerror or exc}。", returncode=UNUSABLE
                ) from None
            self.stderr.write(f"已写入“{options['output']}”：{len(rows)} 行。")
            return
        self.stdout.write(text, ending="")

    @staticmethod
    def _render(rows: list[FigureRow], fmt: str, day: datetime.date, instance_count: int) -> str:
        if fmt == "json":
            return json.dumps([row.as_dict() for row in rows], ensure_ascii=False) + "\n"
        if fmt == "csv":
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=FIGURE_FIELDS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(row.as_dict() for row in rows)
            return buffer.getvalue()
        return render_table(rows, day=day, instance_count=instance_count)
