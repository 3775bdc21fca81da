"""``safetynet audit-export --from YYYY-MM-DD --to YYYY-MM-DD OUT.xlsx``: audit rows for the auditors.

Exit codes: 0 written; 2 the dates or the output file cannot be used (nothing written).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from safetynet.core.auditing import audit_export_xlsx, parse_day


class Command(BaseCommand):
    help = "把一段日期内的全部变更记录导出为 XLSX（供审计使用；按北京时间整日计算，含首尾两日）。"
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", required=True, help="起始日期 YYYY-MM-DD（含）")
        parser.add_argument("--to", dest="end", required=True, help="截止日期 YYYY-MM-DD（含）")
        parser.add_argument("out", help="输出文件，例如 变更记录-2024上半年.xlsx")
        parser.add_argument("--force", action="store_true", help="输出文件已存在时覆盖它")

    def fail(self, message: str) -> None:
        self.stderr.write(message)
        sys.exit(2)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            start = parse_day(options["start"], option="--from")
            end = parse_day(options["end"], option="--to")
        except ValueError as exc:
            self.fail(str(exc))
            return
        if start > end:
            self.fail(f"起始日期 {start} 晚于截止日期 {end}。请交换 --from 和 --to，或改正日期。")
        out = self._output(options["out"], force=options["force"])
        partial = out.with_name(f".{out.name}.partial-{os.getpid()}")
        try:
            count = audit_export_xlsx(start, end, partial)
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
        self.stdout.write(f"已把 {start} 至 {end} 的 {count:,} 条变更记录导出到“{out}”。")

    def _output(self, raw: str, *, force: bool) -> Path:
        if not raw.strip():
            self.fail(
                "没有给出输出文件名。用法：safetynet audit-export --from 2024-01-01 --to 2024-06-30 OUT.xlsx"
            )
        out = Path(raw).expanduser().absolute()
        if out.suffix.lower() != ".xlsx":
            self.fail(f"输出文件“{out.name}”须以 .xlsx 结尾，例如 {out.stem or '变更记录'}.xlsx。")
        if out.is_dir():
            self.fail(f"“{out}”是一个目录。请给出文件名，例如 {out / '变更记录.xlsx'}。")
        if not out.parent.is_dir():
            self.fail(f"目录“{out.parent}”不存在。请先创建它，或把文件写到已有的目录。")
        if out.exists() and not force:
            self.fail(f"文件“{out}”已存在。请换一个文件名，或加 --force 覆盖它。")
        return out
