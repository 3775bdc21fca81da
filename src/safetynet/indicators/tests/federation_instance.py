"""Loads one test instance of the federation test: ``python -m safetynet.indicators.tests.federation_instance
DIR ROOT USERNAME`` with the password on stdin.

It runs in the instance's own environment (DATABASE_URL, SAFETYNET_HOME) and uses the same commands people
use: ``safetynet import`` for every file in DIR that exists (units, enterprises, unions, members, in that
order), then ``safetynet add-staff USERNAME --unit ROOT --role viewer``. One process per instance, so Django
starts once instead of once per command.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

KINDS = ("units", "enterprises", "unions", "members")


def main(argv: list[str]) -> None:
    directory, root, username = Path(argv[0]), argv[1], argv[2]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safetynet.settings")
    import django

    django.setup()
    from django.core.management import call_command

    for kind in KINDS:
        path = directory / f"{kind}.csv"
        if path.exists():
            # `safetynet import` exits 1 when a row is rejected: the loader then fails with the reasons.
            call_command("import", kind, str(path))
    password = sys.stdin.readline()
    call_command("add-staff", username, unit=root, role="viewer", stdin=io.StringIO(password))


if __name__ == "__main__":
    main(sys.argv[1:])
