import csv
import datetime
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from safetynet.indicators import counters
from safetynet.indicators.engine import AS_OF, BREAKDOWNS, TODAY, UnitNotFound, compute


class Command(BaseCommand):
    help = "输出某日某单位及其所有下级单位的全部指标（JSON 或 CSV）。"

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="日期 YYYY-MM-DD（输出指标时必填；--check 默认今天）")
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
        parser.add_argument(
            "--rebuild-counters",
            action="store_true",
            help="从全部事实重建按日期记录的指标计数器（首次导入后、指标定义变化后运行）",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="比较计数器与逐条定义计算的结果，列出每一处不一致（一致时退出码 0）",
        )

    def handle(self, *args, **options):
        if options["rebuild_counters"]:
            result = counters.counters_rebuild()
            self.stdout.write(
                f"计数器已重建：企业区段 {result.enterprise_runs:,}，单位区段 {result.unit_rows:,}，"
                f"精确至 {result.horizon.isoformat()}"
            )
            if not options["check"]:
                return
        if options["as_of"] is None and not options["check"]:
            raise CommandError("请用 --as-of YYYY-MM-DD 指定日期")
        try:
            day = datetime.date.fromisoformat(options["as_of"]) if options["as_of"] else timezone.localdate()
        except ValueError:
            raise CommandError(f"--as-of “{options['as_of']}”不是 YYYY-MM-DD 格式的日期") from None
        if options["check"]:
            self._check(day, options["hierarchy"])
            return
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

    def _check(self, day: datetime.date, hierarchy: str) -> None:
        if not counters.counters_ready(day):
            raise CommandError(
                "计数器尚未建立或已过期（指标定义变化或日期超出范围）：请先运行 safetynet indicators --rebuild-counters"
            )
        differences = counters.counters_check(day=day, hierarchy=hierarchy)
        for d in differences:
            self.stdout.write(
                f"{d.unit} {d.indicator}: 定义计算 {d.engine[0]}/{d.engine[1]}，计数器 {d.counters[0]}/{d.counters[1]}"
            )
        if differences:
            raise CommandError(f"{day.isoformat()}：计数器与定义计算有 {len(differences)} 处不一致")
        self.stdout.write(f"{day.isoformat()}：计数器与定义计算一致（{hierarchy}）")
