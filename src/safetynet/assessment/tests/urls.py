"""A narrow URL configuration for the scoring and service tests: only what the score explanations link to
(other apps' pages may be mid-change in the shared tree; the page tests use the project's own)."""

from django.urls import include, path

urlpatterns = [
    path("assessment/", include("safetynet.assessment.urls")),
    path("indicators/", include("safetynet.indicators.urls")),
    path("reporting/", include("safetynet.reporting.urls")),
]
