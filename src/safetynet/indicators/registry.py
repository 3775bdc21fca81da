"""Collects the indicators, facts and populations every app declares in its ``metrics`` module."""

from __future__ import annotations

import importlib
from functools import cache

from django.apps import apps

from safetynet.core.metrics import Fact, Indicator, MetricsDeclaration, Population


class Registry:
    def __init__(self, declarations: list[MetricsDeclaration]) -> None:
        self.populations: dict[str, Population] = {}
        self.facts: dict[str, dict[str, Fact]] = {}
        indicators: list[Indicator] = []
        for declaration in declarations:
            for population in declaration.populations:
                self.populations[population.name] = population
            for fact in declaration.facts:
                self.facts.setdefault(fact.population, {})[fact.name] = fact
            indicators.extend(declaration.indicators)
        self.indicators: dict[str, Indicator] = {
            i.code: i for i in sorted(indicators, key=lambda i: (i.order, i.code))
        }
        for indicator in self.indicators.values():
            known = self.facts.get(indicator.population, {})
            missing = set(indicator.numerator + indicator.denominator) - known.keys()
            if indicator.population not in self.populations or missing:
                raise LookupError(
                    f"indicator {indicator.code}: unknown population or facts {sorted(missing)}"
                )


@cache
def registry() -> Registry:
    declarations = []
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
    return Registry(declarations)
