"""All of /api/v1/: each app registers its viewsets on the one router."""

from rest_framework.routers import DefaultRouter

from safetynet.accounts.api import register as register_accounts
from safetynet.assessment.api import register as register_assessment
from safetynet.assistance.api import register as register_assistance
from safetynet.cases.api import register as register_cases
from safetynet.exemplars.api import register as register_exemplars
from safetynet.harmony.api import register as register_harmony
from safetynet.indicators.api import register as register_indicators
from safetynet.members.api import register as register_members
from safetynet.orgs.api import register as register_orgs
from safetynet.portal.api import register as register_portal
from safetynet.programmes.api import register as register_programmes
from safetynet.reporting.api import register as register_reporting
from safetynet.visits.api import register as register_visits

router = DefaultRouter()
register_orgs(router)
register_accounts(router)
register_indicators(router)
register_members(router)
register_programmes(router)
register_cases(router)
register_reporting(router)
register_assistance(router)
register_assessment(router)
register_portal(router)
register_harmony(router)
register_exemplars(router)
register_visits(router)

api_urlpatterns = router.urls
