from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from safetynet.api_urls import api_urlpatterns
from safetynet.core.views import favicon, healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include(api_urlpatterns)),
    path("accounts/", include("safetynet.accounts.urls")),
    path("orgs/", include("safetynet.orgs.urls")),
    path("members/", include("safetynet.members.urls")),
    path("programmes/", include("safetynet.programmes.urls")),
    path("indicators/", include("safetynet.indicators.urls")),
    path("cases/", include("safetynet.cases.urls")),
    path("imports/", include("safetynet.imports.urls")),
    path("reporting/", include("safetynet.reporting.urls")),
    path("assistance/", include("safetynet.assistance.urls")),
    path("assessment/", include("safetynet.assessment.urls")),
    path("harmony/", include("safetynet.harmony.urls")),
    path("exemplars/", include("safetynet.exemplars.urls")),
    path("visits/", include("safetynet.visits.urls")),
    # The workers' platform: worker pages under worker/, the officers' side under portal/ (its urls.py has both).
    path("", include("safetynet.portal.urls")),
    path("", include("safetynet.shell.urls")),
]
