"""``safetynet audit-purge --before YYYY-MM-DD [--dry-run]``: remove audit rows past their retention.

Rows are kept at least 180 days: a cut-off later than today − 180 days is refused (exit 2) and nothing is
deleted. Export the rows first (``safetynet audit-export``) when the auditors want them kept elsewhere.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from safetynet.core.auditing import AUDIT_RETENTION_DAYS, audit_purge, parse_day, purgeable_entries
from safetynet.core.errors import ServiceError


class Command(BaseCommand):
    help = (
        f"删除某日（北京时间 0 时）之前的变更记录。变更记录至少保存 {AUDIT_RETENTION_DAYS} 天，"
        "更晚的日期会被拒绝；删除前请先用 audit-export 导出存档。"
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--before", required=True, help="删除此日期之前的记录，YYYY-MM-DD")
        parser.add_argument("--dry-run", action="store_true", help="只统计将被删除的条数，不删除")

    def fail(self, message: str) -> None:
        self.stderr.write(message)
        sys.exit(2)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            before = parse_day(options["before"], option="--before")
        except ValueError as exc:
            self.fail(str(exc))
            return
        try:
            if options["dry_run"]:
                count = purgeable_entries(before).count()
                self.stdout.write(f"将删除 {before} 之前的 {count:,} 条变更记录（未删除：--dry-run）。")
                return
            deleted = audit_purge(actor=None, before=before)
        except ServiceError as exc:
            self.fail(exc.message)
            return
        self.stdout.write(f"已删除 {before} 之前的 {deleted:,} 条变更记录，并记下了这次清理。")
