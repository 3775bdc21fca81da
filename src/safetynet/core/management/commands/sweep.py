import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from safetynet.core.sweep import run_sweep


class Command(BaseCommand):
    help = "执行到期的定时工作：升级、期限、提醒（可由 cron 或 systemd 定时调用）。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--now", help="以该时刻为准执行（ISO 8601，如 2013-01-01T00:00:00+08:00），默认当前时间"
        )

    def handle(self, *args, now=None, **options):
        if now:
            try:
                moment = datetime.datetime.fromisoformat(now)
            except ValueError:
                raise CommandError(
                    f"--now “{now}”不是 ISO 8601 时刻，例如 2013-01-01T00:00:00+08:00"
                ) from None
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
        else:
            moment = timezone.now()
        results = run_sweep(moment)
        if not results:
            self.stdout.write(f"{moment.isoformat()}：没有需要执行的定时工作。")
        for name, summary in results:
            self.stdout.write(f"{name}: {summary}")
