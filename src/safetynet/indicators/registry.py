"""Collects the indicators, facts and populations every app declares in its ``metrics`` module."""

from __future__ import annotations

import importlib
from functools import cache

from django.apps import apps

from safetynet.core.metrics import ChangeDays, Fact, Indicator, MetricsDeclaration, Population

# Areas group the indicators on the dashboard (one tab each), so that a laptop screen shows a table of figures
# that belong together. The registry's own coverage indicators (建会, 入会, 建制) are one area; any other app is
# its own area under its verbose name unless listed here.
AREA_OF_APP = {
    "orgs": ("building", "建会建制"),
    "members": ("building", "建会建制"),
    "programmes": ("building", "建会建制"),
    "harmony": ("evaluation", "企业评价与典型"),
    "exemplars": ("evaluation", "企业评价与典型"),
    "visits": ("evaluation", "企业评价与典型"),
}


class Registry:
    def __init__(
        self, declarations: list[MetricsDeclaration], areas: list[tuple[str, str]] | None = None
    ) -> None:
        self.populations: dict[str, Population] = {}
        self.facts: dict[str, dict[str, Fact]] = {}
        self.change_days: list[ChangeDays] = []
        indicators: list[Indicator] = []
        for declaration in declarations:
            self.change_days.extend(declaration.change_days)
            for population in declaration.populations:
                self.populations[population.name] = population
            for fact in declaration.facts:
                self.facts.setdefault(fact.population, {})[fact.name] = fact
            indicators.extend(declaration.indicators)
        self.indicators: dict[str, Indicator] = {
            i.code: i for i in sorted(indicators, key=lambda i: (i.order, i.code))
        }
        # ``areas[i]`` is the (key, label) of ``declarations[i]``'s app; the areas keep the indicators' order.
        areas = areas or [("all", "全部指标")] * len(declarations)
        self.area_of: dict[str, str] = {}
        labels: dict[str, str] = {}
        for declaration, (key, label) in zip(declarations, areas, strict=True):
            labels.setdefault(key, label)
            for indicator in declaration.indicators:
                self.area_of[indicator.code] = key
        self.areas: dict[str, str] = {}
        for code in self.indicators:
            self.areas.setdefault(self.area_of[code], labels[self.area_of[code]])
        for indicator in self.indicators.values():
            known = self.facts.get(indicator.population, {})
            missing = set(indicator.numerator + indicator.denominator + indicator.sums) - known.keys()
            if indicator.population not in self.populations or missing:
                raise LookupError(
                    f"indicator {indicator.code}: unknown population or facts {sorted(missing)}"
                )

    def area_indicators(self, area: str) -> list[Indicator]:
        """The indicators of one area, in the registry's order."""
        return [i for code, i in self.indicators.items() if self.area_of[code] == area]

    def area_for(self, requested: str, indicator: str = "") -> str:
        """``requested`` if it is an area; else the area of ``indicator``; else the first area."""
        if requested in self.areas:
            return requested
        if indicator in self.area_of:
            return self.area_of[indicator]
        return next(iter(self.areas), "")


@cache
def registry() -> Registry:
    declarations = []
    areas = []
    for config in apps.get_app_configs():
        if not config.name.startswith("safetynet."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.metrics")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.metrics":
                raise
            continue
        declaration = getattr(module, "DECLARATION", None)
        if declaration is not None:  # core.metrics is the specification itself
            declarations.append(declaration)
            areas.append(AREA_OF_APP.get(config.label, (config.label, str(config.verbose_name))))
    return Registry(declarations, areas)
