import csv
import datetime
import json

from django.core.management.base import BaseCommand, CommandError

from safetynet.indicators.engine import AS_OF, BREAKDOWNS, TODAY, UnitNotFound, compute


class Command(BaseCommand):
    help = "输出某日某单位及其所有下级单位的全部指标（JSON 或 CSV）。"

    def add_arguments(self, parser):
        parser.add_argument("--as-of", required=True, help="日期 YYYY-MM-DD")
        parser.add_argument("--unit", help="单位区划代码（默认全市）")
        parser.add_argument("--indicator", action="append", help="只输出这些指标（可重复）")
        parser.add_argument("--breakdown", choices=BREAKDOWNS)
        parser.add_argument(
            "--hierarchy",
            choices=[AS_OF, TODAY],
            default=AS_OF,
            help="as_of：按当日的区划隶属关系（默认）；today：按今天的隶属关系",
        )
        parser.add_argument("--format", choices=["json", "csv"], default="json")

    def handle(self, *args, **options):
        try:
            day = datetime.date.fromisoformat(options["as_of"])
        except ValueError:
            raise CommandError(f"--as-of “{options['as_of']}”不是 YYYY-MM-DD 格式的日期") from None
        try:
            rows = compute(
                day=day,
                unit_code=options["unit"],
                indicator_codes=options["indicator"],
                breakdown=options["breakdown"],
                hierarchy=options["hierarchy"],
            )
        except (UnitNotFound, LookupError) as exc:
            raise CommandError(str(exc)) from None
        with_group = options["breakdown"] is not None
        records = [
            {k: v for k, v in row.as_dict(with_group=with_group).items() if k != "unit_id"} for row in rows
        ]
        if options["format"] == "json":
            self.stdout.write(json.dumps(records, ensure_ascii=False))
            return
        fields = (
            list(records[0])
            if records
            else ["unit", "indicator", "as_of", "numerator", "denominator", "rate", "target"]
        )
        # The command's own stdout (public): each row is one write ending in the line terminator, which the
        # wrapper leaves as it is.
        writer = csv.DictWriter(self.stdout, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
