"""`safetynet demo-data --scale small|city|city3 [--seed N] [--if-empty]`: the synthetic demo city."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from safetynet.core.demo import analyze_database, extend_demo, finish_demo
from safetynet.core.errors import ServiceError
from safetynet.orgs.demo import DEFAULT_SEED, SCALES, demo_load
from safetynet.orgs.models import OrgUnit


class Command(BaseCommand):
    help = (
        "载入合成的演示城市（仿大连：区市县、街道、社区、企业、基层工会和演示账号），同一种子每次结果相同。"
        "只能载入空库。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale",
            default="small",
            metavar="small|city|city3",
            help=(
                "small：约 2,000 家企业（几十秒内）；city：约 150 个街道、2,000 个社区、20 万家企业（数分钟）；"
                "city3：三倍的城市（约 6,000 个社区、60 万家企业、750 万职工，用于规模测量）。默认 small"
            ),
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"随机种子，默认 {DEFAULT_SEED}")
        parser.add_argument(
            "--if-empty", action="store_true", help="库中已有区域单位时什么也不做（退出码 0）"
        )

    def handle(self, *args: Any, scale: str, seed: int, if_empty: bool, **options: Any) -> None:
        if scale not in SCALES:
            raise CommandError(f"--scale 只能是 {' 或 '.join(SCALES)}，收到“{scale}”。", returncode=2)
        existing = OrgUnit.objects.count()
        if existing:
            if if_empty:
                self.stdout.write(f"库中已有 {existing:,} 个区域单位，未载入演示数据。")
                return
            raise CommandError(
                f"库中已有 {existing:,} 个区域单位，演示数据只能载入空库。"
                "要保留现有数据请加 --if-empty；要重新载入请换一个空数据库。",
                returncode=2,
            )
        verbose = options["verbosity"] >= 1
        try:
            result = demo_load(scale=scale, seed=seed, progress=self.stdout.write if verbose else None)
        except ServiceError as exc:
            raise CommandError(exc.message, returncode=2) from None
        # Members, programmes, cases… add their part to the city (discovered: orgs imports none of them).
        extend_demo(seed=seed, scale=scale, progress=self.stdout.write if verbose else None)
        analyze_database()
        finish_demo(scale=scale, progress=self.stdout.write if verbose else None)
        counts = "，".join(f"{label} {count:,}" for label, count in result.counts.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"已载入演示城市（规模 {scale}，种子 {seed}）：{counts}。用时 {result.seconds:.1f} 秒。"
            )
        )
        self.stdout.write("演示账号见 safetynet demo-logins。")
