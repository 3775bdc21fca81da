"""What a restore checks about personal data (see safetynet.core.backup).

The backup holds ID numbers and phones encrypted; the key (SAFETYNET_PII_KEY) is deliberately not in it. A
backup restored under another key would show nothing but errors wherever personal data is read, so the restore
tries the current key on one encrypted ID number of the backup before it changes anything.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from safetynet.core.backup import backup_check
from safetynet.members.crypto import decrypt
from safetynet.members.models import Person

_TABLE = Person._meta.db_table


@backup_check(
    "personal_data_key",
    sample_sql=(
        f"SELECT id_number_encrypted FROM \"{_TABLE}\" WHERE id_number_encrypted <> '' ORDER BY id LIMIT 1"
    ),
)
def personal_data_key(sample: str) -> str | None:
    try:
        decrypt(sample)
    except ImproperlyConfigured:
        return (
            "备份中的个人信息无法用当前 SAFETYNET_PII_KEY 解密：这份备份是在另一个密钥下制作的（或密钥已被更换）。"
            "请把 SAFETYNET_PII_KEY 设为制作备份时使用的密钥后再恢复。"
        )
    return None
