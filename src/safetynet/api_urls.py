"""All of /api/v1/: each app registers its viewsets on the one router."""

from rest_framework.routers import DefaultRouter

from safetynet.accounts.api import register as register_accounts
from safetynet.cases.api import register as register_cases
from safetynet.indicators.api import register as register_indicators
from safetynet.members.api import register as register_members
from safetynet.orgs.api import register as register_orgs
from safetynet.programmes.api import register as register_programmes
from safetynet.reporting.api import register as register_reporting

router = DefaultRouter()
register_orgs(router)
register_accounts(router)
register_indicators(router)
register_members(router)
register_programmes(router)
register_cases(router)
register_reporting(router)

api_urlpatterns = router.urls
