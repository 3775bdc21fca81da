"""`safetynet demo-logins`: the demo accounts and their shared password, as a table."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.core.management.base import BaseCommand

from safetynet.accounts.models import Role, User
from safetynet.orgs.demo import DEMO_PASSWORD, demo_accounts


def display_width(text: str) -> int:
    """Columns a terminal gives the text: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


class Command(BaseCommand):
    help = "列出演示账号（用户名、单位、角色）和它们共用的密码。"

    def handle(self, *args: Any, **options: Any) -> None:
        order = [account.username for account in demo_accounts()]
        users = {u.username: u for u in User.objects.filter(username__in=order).select_related("org_unit")}
        if not users:
            self.stdout.write("尚未载入演示数据：先运行 safetynet demo-data --scale small。")
            return
        rows = [("用户名", "单位", "角色")]
        for username in order:
            user = users.get(username)
            if user is not None:
                unit = f"{user.org_unit.name}（{user.org_unit.code}）" if user.org_unit else "—"
                rows.append(
                    (username, unit, Role(user.role).label if user.role in Role.values else user.role)
                )
        widths = [max(display_width(row[i]) for row in rows) + 2 for i in range(3)]
        self.stdout.write(f"演示账号（共用密码：{DEMO_PASSWORD}）")
        for number, row in enumerate(rows):
            self.stdout.write("".join(pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip())
            if number == 0:
                self.stdout.write("".join("-" * (w - 2) + "  " for w in widths).rstrip())
