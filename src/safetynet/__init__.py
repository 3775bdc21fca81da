"""Safetynet: the trade-union federation's “safety net for workers' lawful rights”."""

__version__ = "0.1.0"
