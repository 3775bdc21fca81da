"""``safetynet reporting --form CODE --period P --as-of YYYY-MM-DD [--unit CODE] [--format json|csv]``.

One row per org unit (the unit and every unit below it, the hierarchy as it stood on the period's last day),
exactly the keys of INTERFACES.md ("Periodic reports and early warning").
"""

from __future__ import annotations

import csv
import datetime
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from safetynet.reporting import rates
from safetynet.reporting.models import ReportForm


class Command(BaseCommand):
    help = "输出某报表某报告期截至某日的报送率、及时率、零申报率（本单位及所有下级单位，JSON 或 CSV）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--form", required=True, help="报表代码，如 YJ01")
        parser.add_argument("--period", required=True, help="报告期：2012-05、2012Q2 或 2012")
        parser.add_argument("--as-of", required=True, help="截至日期 YYYY-MM-DD")
        parser.add_argument("--unit", help="单位区划代码（该期末的代码；默认全市）")
        parser.add_argument("--format", choices=["json", "csv"], default="json")

    def handle(self, *args: Any, **options: Any) -> None:
        form = ReportForm.objects.filter(code=options["form"].strip().upper()).first()
        if form is None:
            raise CommandError(f"报表代码“{options['form']}”不存在")
        try:
            period = form.parse_period(options["period"])
        except ValueError as exc:
            raise CommandError(f"--period：{exc}") from None
        try:
            day = datetime.date.fromisoformat(options["as_of"])
        except ValueError:
            raise CommandError(f"--as-of “{options['as_of']}”不是 YYYY-MM-DD 格式的日期") from None
        try:
            result = rates.compute(form=form, period=period, as_of=day, unit_code=options["unit"])
        except rates.UnitNotFound as exc:
            raise CommandError(str(exc)) from None
        records = result.as_dicts()
        if options["format"] == "json":
            self.stdout.write(json.dumps(records, ensure_ascii=False))
            return
        writer = csv.DictWriter(self.stdout, fieldnames=list(rates.ROW_KEYS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
