"""``safetynet restore FILE [--replace] [--ignore-checks]``: put a backup back, all or nothing.

Exit codes: 0 restored; 1 the environment failed (pg_restore/psql missing, the restore failed: the database is
as it was); 2 the file or the target cannot be used (missing, damaged, not a backup, another database vendor,
a newer schema, a key that does not decrypt its personal data, a database that is not empty without
--replace) — nothing was changed. See safetynet.core.backup.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from safetynet.core.backup import VENDOR_NAMES, BackupError, restore


class Command(BaseCommand):
    # A backup or a restore must not depend on the URL configuration or deployment settings being sound.
    requires_system_checks: list[str] = []
    help = (
        "从 safetynet backup 制作的备份恢复数据库。只写入空数据库；要替换现有数据须加 --replace"
        "（先停止网站和后台任务进程）。失败时数据库保持原样。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="由 safetynet backup 制作的备份文件")
        parser.add_argument(
            "--replace", action="store_true", help="数据库中已有数据时，用备份替换其中的全部数据"
        )
        parser.add_argument(
            "--ignore-checks",
            action="store_true",
            help="恢复前的核对（当前 SAFETYNET_PII_KEY 能否解密备份中的个人信息）不通过也照样恢复",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = restore(
                options["file"], replace=options["replace"], ignore_checks=options["ignore_checks"]
            )
        except BackupError as exc:
            self.stderr.write(exc.message)
            sys.exit(exc.exit_code)
        manifest = result.manifest
        self.stdout.write(
            f"已从“{options['file']}”恢复 {VENDOR_NAMES[manifest.vendor]} 数据库 {result.target}"
            f"（备份于 {manifest.created_at}，safetynet {manifest.app_version}；用时 {result.seconds:.1f} 秒）。"
        )
        for warning in result.warnings:
            self.stderr.write(f"注意：{warning}")
        if result.pending:
            self.stdout.write(
                f"备份比本程序旧，还有 {len(result.pending)} 个数据库迁移未执行：请运行 safetynet migrate。"
            )
        self.stdout.write("请重启网站和后台任务进程。")
