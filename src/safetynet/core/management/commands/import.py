"""``safetynet import KIND FILE``: load a CSV or XLSX file people bring.

Exit codes: 0 every row imported (or unchanged); 1 some rows rejected (listed on stderr and, with
``--errors``, in an XLSX file); 2 the file or the arguments cannot be used (among them a file over the size
limit, or an XLSX that unpacks to too much or declares XML entities: refused before it is parsed).
"""

from __future__ import annotations

import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from safetynet.core.importing import ImportUnusable, autodiscover, known_kinds, run_import


class Command(BaseCommand):
    help = "导入区域单位、企业、工会等数据文件（CSV 或 XLSX，第一行为中文表头）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "kind", help="导入类型：units、enterprises、unions、members、contracts、congresses"
        )
        parser.add_argument("file", help="CSV（UTF-8）或 XLSX 文件")
        parser.add_argument("--dry-run", action="store_true", help="只校验（包括与数据库比对），不写入")
        parser.add_argument("--errors", metavar="OUT.xlsx", help="把有错误的行连同原因写入此 XLSX 文件")
        parser.add_argument(
            "--as-user", metavar="NAME", help="以此人员账号的权限和管辖范围导入（默认：系统）"
        )
        parser.add_argument("--keep-valid", action="store_true", help="有错误的行不导入，但保存其余正确的行")
        parser.add_argument(
            "--max-mb",
            type=int,
            metavar="MB",
            help="本次导入允许的最大文件大小（MB），默认取设置 SAFETYNET_IMPORT_MAX_MB（200）",
        )

    def fail(self, message: str) -> None:
        self.stderr.write(message)
        sys.exit(2)

    def handle(self, *args: Any, **options: Any) -> None:
        autodiscover()
        if options["max_mb"] is not None and options["max_mb"] <= 0:
            self.fail(f"--max-mb 应为正整数（MB），不能是 {options['max_mb']}。")
        kind = options["kind"]
        if kind not in known_kinds():
            listed = "、".join(f"{k}（{label}）" for k, label in known_kinds().items())
            self.fail(f"未知的导入类型“{kind}”。可用的类型：{listed}。")
        actor = None
        if options["as_user"]:
            actor = (
                get_user_model()
                .objects.select_related("org_unit")
                .filter(username=options["as_user"])
                .first()
            )
            if actor is None:
                self.fail(f"找不到人员账号“{options['as_user']}”。")

        def progress(stage: str, done: int, total: int | None) -> None:
            if options["verbosity"] >= 2:
                self.stdout.write(f"{stage}：{done}" + (f" / {total}" if total else ""))

        try:
            result = run_import(
                kind,
                options["file"],
                actor=actor,
                dry_run=options["dry_run"],
                keep_valid=options["keep_valid"],
                progress=progress,
                max_bytes=options["max_mb"] * 1024 * 1024 if options["max_mb"] else None,
            )
        except ImportUnusable as exc:
            self.fail(exc.message)
            return
        for note in result.notes:
            self.stdout.write(note)
        for error in result.errors:
            self.stderr.write(str(error))
        self.stdout.write(result.summary())
        if result.errors and options["errors"]:
            result.write_error_file(options["errors"])
            self.stdout.write(f"有错误的行已写入“{options['errors']}”。")
        if result.exit_code:
            sys.exit(result.exit_code)
