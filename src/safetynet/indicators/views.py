"""Indicator pages arrive with the dashboard."""
