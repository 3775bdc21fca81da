"""``safetynet backup FILE [--force]``: one file holding the whole database and a manifest.

Exit codes: 0 written; 1 the environment failed (pg_dump missing or failing); 2 the target cannot be used
(no name, a directory, a missing directory, a file that exists without --force). See safetynet.core.backup.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from safetynet.core.backup import VENDOR_NAMES, BackupError, backup


class Command(BaseCommand):
    # A backup or a restore must not depend on the URL configuration or deployment settings being sound.
    requires_system_checks: list[str] = []
    help = (
        "把整个数据库备份到一个文件（PostgreSQL 用 pg_dump，SQLite 用在线备份，网站运行时也可备份）。"
        "加密的个人信息随之备份，密钥 SAFETYNET_PII_KEY 不在备份中，须另行妥善保管。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="备份文件，例如 /var/backups/safetynet/safetynet-20240101.backup")
        parser.add_argument("--force", action="store_true", help="文件已存在时覆盖它")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = backup(options["file"], force=options["force"])
        except BackupError as exc:
            self.stderr.write(exc.message)
            sys.exit(exc.exit_code)
        manifest = result.manifest
        self.stdout.write(
            f"已把 {VENDOR_NAMES[manifest.vendor]} 数据库备份到“{result.path}”"
            f"（{result.size / 1_000_000:.1f} MB，用时 {result.seconds:.1f} 秒）。"
            "请把备份复制到本机以外的地方保存；恢复时需要同一个 SAFETYNET_PII_KEY。"
        )
