"""The `safetynet` console script: every Django management command, with our settings."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safetynet.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["safetynet", *sys.argv[1:]])


if __name__ == "__main__":
    main()
