"""``safetynet rotate-pii-key --new-key K``: re-encrypt all personal data with a new key.

Every ID number and phone is decrypted with the key in force (SAFETYNET_PII_KEY), encrypted with the new
key, and its lookup hash recomputed with the key derived from the new one — in batches, in one transaction,
with the person table locked against writes meanwhile. Nothing changes when any value fails.

Afterwards SAFETYNET_PII_KEY must be set to the new key and every process (web, worker) restarted: until
then they still use the old key, which no longer decrypts anything.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from safetynet.members.crypto import PersonalDataKey, current_key
from safetynet.members.models import Person


class Command(BaseCommand):
    help = "用新密钥重新加密全部个人信息（证件号码、电话）并重算检索码；完成后须把 SAFETYNET_PII_KEY 改为新密钥并重启。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--new-key", required=True, help="新的 Fernet 密钥（32 字节，URL 安全的 base64）")
        parser.add_argument("--batch-size", type=int, default=5000, help="每批处理的人数（默认 5000）")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            new = PersonalDataKey(options["new_key"].strip())
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        old = current_key()
        if new.hash_key == old.hash_key:
            raise CommandError("新密钥与当前 SAFETYNET_PII_KEY 相同，无需轮换。")
        try:
            total = self._rotate(old, new, max(options["batch_size"], 1))
        except ImproperlyConfigured as exc:
            raise CommandError(f"{exc} 数据库未作任何修改。") from None
        self.stdout.write(f"已用新密钥重新加密 {total} 人的个人信息。")
        self.stdout.write(
            "请立即把环境变量 SAFETYNET_PII_KEY 改为新密钥，并重启所有网站和后台任务进程；旧密钥已不能解密任何数据。"
        )

    def _rotate(self, old: PersonalDataKey, new: PersonalDataKey, batch_size: int) -> int:
        table = connection.ops.quote_name(Person._meta.db_table)
        statement = (
            f"UPDATE {table} SET id_number_encrypted = %s, id_number_hash = %s, "
            "phone_encrypted = %s, phone_hash = %s WHERE id = %s"
        )
        total = 0
        with transaction.atomic(), connection.cursor() as cursor:
            # Writes made meanwhile with the old key would be left behind: keep them out until the commit.
            if connection.vendor == "postgresql":
                cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
            else:
                cursor.execute(f"UPDATE {table} SET id = id WHERE 1 = 0")
            last = 0
            while True:
                batch = list(
                    Person.objects.filter(pk__gt=last)
                    .order_by("pk")
                    .values_list("pk", "id_number_encrypted", "phone_encrypted")[:batch_size]
                )
                if not batch:
                    break
                params = []
                for pk, id_token, phone_token in batch:
                    number, phone = old.decrypt(id_token), old.decrypt(phone_token)
                    params.append(
                        (
                            new.encrypt(number),
                            new.lookup_hash(number),
                            new.encrypt(phone),
                            new.lookup_hash(phone),
                            pk,
                        )
                    )
                cursor.executemany(statement, params)
                total += len(batch)
                last = batch[-1][0]
                self.stdout.write(f"已处理 {total} 人", ending="\r")
        return total
