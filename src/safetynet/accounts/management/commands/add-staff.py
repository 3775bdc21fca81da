"""`safetynet add-staff NAME --unit CODE --role ROLE`: a staff account; the password comes from stdin."""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from safetynet.accounts.models import Role, User
from safetynet.accounts.services import staff_create
from safetynet.core.errors import ServiceError
from safetynet.orgs.models import OrgUnit

USAGE_ERROR = 2  # INTERFACES: unusable arguments exit with 2


def _refuse(message: str) -> CommandError:
    return CommandError(message, returncode=USAGE_ERROR)


class Command(BaseCommand):
    help = (
        "建立人员账号。密码从标准输入读取一行（在终端中运行时会提示输入两次）。"
        f"角色：{'、'.join(f'{r.value}（{r.label}）' for r in Role)}。"
    )
    # Tests pass stdin=io.StringIO(...) through call_command.
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", metavar="NAME", help="用户名（登录名）")
        parser.add_argument("--unit", required=True, metavar="CODE", help="所属单位的区划代码，如 210202")
        parser.add_argument("--role", required=True, metavar="ROLE", help="角色：" + " ".join(Role.values))
        parser.add_argument("--full-name", default="", help="姓名（可选）")

    def handle(self, *args: Any, name: str, unit: str, role: str, full_name: str, **options: Any) -> None:
        with translation.override("zh-hans"):
            self._create(
                name.strip(), unit.strip(), role.strip(), full_name.strip(), options.get("stdin") or sys.stdin
            )

    def _create(self, name: str, unit_code: str, role: str, full_name: str, stdin: Any) -> None:
        if role not in Role.values:
            choices = "、".join(f"{r.value}（{r.label}）" for r in Role)
            raise _refuse(f"角色“{role}”不存在，应为以下之一：{choices}。")
        org_unit = OrgUnit.objects.filter(code=unit_code).first()
        if org_unit is None:
            raise _refuse(f"区划代码为“{unit_code}”的单位不存在，请核对代码（如 2102、210202）。")
        try:
            User.username_validator(name)
        except ValidationError:
            raise _refuse(f"用户名“{name}”无效：只能包含字母、数字和 @ . + - _，且不能为空。") from None
        if User.objects.filter(username__iexact=name).exists():
            raise _refuse(f"用户名“{name}”已被使用，请换一个。")
        password = self._read_password(stdin)
        try:
            staff_create(
                actor=None,
                username=name,
                password=password,
                org_unit=org_unit,
                role=role,
                full_name=full_name,
            )
        except ServiceError as exc:
            prefix = "密码不符合要求：" if exc.code == "weak_password" else ""
            raise _refuse(prefix + exc.message) from None
        self.stdout.write(f"已建立人员账号“{name}”：{org_unit.name}（{org_unit.code}），{Role(role).label}。")

    def _read_password(self, stdin: Any) -> str:
        if hasattr(stdin, "isatty") and stdin.isatty():
            first = getpass.getpass("密码：")
            if first != getpass.getpass("再次输入密码："):
                raise _refuse("两次输入的密码不一致。")
            password = first
        else:
            password = stdin.readline().rstrip("\r\n")
        if not password:
            raise _refuse("没有读到密码：请在标准输入中提供一行密码，例如 echo '…' | safetynet add-staff …")
        return password
