"""Settings, all from the environment (see INTERFACES.md and the README).

The embedded default is SQLite under ``var/``; ``DATABASE_URL`` switches to PostgreSQL.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE

from safetynet.env import env_bool, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = Path(env_str("SAFETYNET_HOME", str(Path.cwd())))
VAR_DIR = PROJECT_DIR / "var"

DEBUG = env_bool("SAFETYNET_DEBUG", False)
# Without SAFETYNET_SECRET_KEY a development key is used; `safetynet check --deploy` flags it (security.W009).
SECRET_KEY = env_str("SAFETYNET_SECRET_KEY", "") or "django-insecure-safetynet-development-only-key"
ALLOWED_HOSTS = env_list("SAFETYNET_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("SAFETYNET_CSRF_TRUSTED_ORIGINS", [])

# Personal data at rest (ID numbers) is encrypted with this Fernet key.
PII_KEY = env_str("SAFETYNET_PII_KEY", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Before our apps: axes' signal receivers must run before ours (accounts/signals.py reads what axes sets).
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "safetynet.core",
    "safetynet.orgs",
    "safetynet.accounts",
    "safetynet.members",
    "safetynet.programmes",
    "safetynet.cases",
    "safetynet.imports",
    "safetynet.indicators",
    "safetynet.reporting",
    "safetynet.assistance",
    "safetynet.assessment",
    "safetynet.portal",
    "safetynet.harmony",
    "safetynet.exemplars",
    "safetynet.visits",
    "safetynet.shell",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    # Outside the session middleware, whose session save fails too while the database is away.
    "safetynet.core.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "safetynet.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "safetynet.core.middleware.RequestContextMiddleware",
    "safetynet.accounts.middleware.SessionIdleMiddleware",
    "safetynet.accounts.middleware.SecondFactorMiddleware",
    # Last, as django-axes requires: it turns a lockout flagged during the view into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "safetynet.urls"
WSGI_APPLICATION = "safetynet.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "shell:home"
LOGOUT_REDIRECT_URL = "accounts:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "safetynet.shell.context_processors.shell",
                "safetynet.cases.context_processors.notifications",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(VAR_DIR / "safetynet.sqlite3")}
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the worker and the web server write without "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault(
        "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;"
    )
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The indicator queries are short analytical scans: PostgreSQL's JIT spends longer compiling them
    # (1.5 s measured on the city demo) than running them. Their per-enterprise sums (200,000 groups) spill
    # to disk with the default 4 MB of work_mem; 64 MB keeps them in memory (-20 % on the city demo).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off -c work_mem=64MB")
DATABASES["default"].setdefault("TEST", {})
# A persistent connection (CONN_MAX_AGE) that died with a database restart is replaced at the start of the
# next request instead of failing it.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The person search's covering indexes carry INCLUDE columns, a PostgreSQL optimisation; SQLite builds the
# same indexes without them, as intended, and need not warn about it on every command.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# Imports (README): the largest file accepted (web and `safetynet import`), what an XLSX may unpack to, and
# how long a running import may go without a sign of life from its worker before it is declared interrupted.
IMPORT_MAX_MB = int(env_str("SAFETYNET_IMPORT_MAX_MB", "200"))
IMPORT_MAX_UNPACKED_MB = int(env_str("SAFETYNET_IMPORT_MAX_UNPACKED_MB", "2000"))
IMPORT_STALLED_MINUTES = int(env_str("SAFETYNET_IMPORT_STALLED_MINUTES", "5"))
# Periodic reports: the sweep reminds the reporters this many days before a form's due day.
REPORT_REMINDER_DAYS = int(env_str("SAFETYNET_REPORT_REMINDER_DAYS", "2"))
# Urgent incidents reported later than this after the union knew are flagged 迟报; an enterprise's reported
# headcount differing from its roster by more than both of these is listed for the district.
INCIDENT_REPORT_LIMIT_HOURS = float(env_str("SAFETYNET_INCIDENT_REPORT_LIMIT_HOURS", "2"))
HEADCOUNT_MISMATCH_PERCENT = float(env_str("SAFETYNET_HEADCOUNT_MISMATCH_PERCENT", "10"))
HEADCOUNT_MISMATCH_PEOPLE = int(env_str("SAFETYNET_HEADCOUNT_MISMATCH_PEOPLE", "5"))

# Applied by every place a password is set: staff_create (the staff page and `safetynet add-staff`), the
# password change page, the admin's forms and Django's own commands.
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "full_name", "email")},
    },
    {"NAME": "safetynet.accounts.validators.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Apache ECharts comes from the npm registry (the PyPI asset package ships no files): `make` runs `npm ci`.
ASSETS_DIR = Path(env_str("SAFETYNET_ASSETS_DIR", str(BASE_DIR.parent.parent / "node_modules")))
STATICFILES_DIRS = (
    [("vendor/echarts", ASSETS_DIR / "echarts" / "dist")] if (ASSETS_DIR / "echarts").is_dir() else []
)
STATIC_ROOT = Path(env_str("SAFETYNET_STATIC_ROOT", str(VAR_DIR / "static")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("SAFETYNET_MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "safetynet.core.authentication.TokenWithUnitAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "safetynet.core.api_base.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Safetynet API",
    "DESCRIPTION": "维护职工合法权益“安全网” — 组织、企业、工会等数据接口。所有数据按调用者所属单位范围过滤。",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets that share a field name with another set get a name of their own (else: a warning, and
    # hashed names such as "Category7c8Enum" in the published schema).
    "ENUM_NAME_OVERRIDES": {
        "MembershipEndReasonEnum": "safetynet.members.models.MembershipEndReason",
        "CaseCategoryEnum": "safetynet.cases.models.Category",
        "WarningCategoryEnum": "safetynet.reporting.models.WarningCategory",
        "IncidentCategoryEnum": "safetynet.reporting.models.IncidentCategory",
        "ContractKindEnum": "safetynet.programmes.models.ContractKind",
        "CaseStatusEnum": "safetynet.cases.models.CaseStatus",
        "OrgLevelEnum": "safetynet.orgs.models.OrgLevel",
        "ProgrammeKindEnum": "safetynet.assistance.models.ProgrammeKind",
        "EvidenceKindEnum": "safetynet.assistance.models.EvidenceKind",
        "DiscountBaseKindEnum": "safetynet.assistance.models.BaseKind",
        "PaymentKindEnum": "safetynet.assistance.models.PaymentKind",
        "HardshipLevelEnum": "safetynet.assistance.models.HardshipLevel",
        "HardshipCloseReasonEnum": "safetynet.assistance.models.CloseReason",
        "HardshipFileStatusEnum": "safetynet.assistance.models.FileStatus",
        "RoundStatusEnum": "safetynet.assistance.models.RoundStatus",
        "ApplicationStatusEnum": "safetynet.assistance.models.ApplicationStatus",
        "LoanStatusEnum": "safetynet.assistance.models.LoanStatus",
        "ObjectionStatusEnum": "safetynet.assistance.models.ObjectionStatus",
        "PaymentBatchStatusEnum": "safetynet.assistance.models.BatchStatus",
        "HonourKindEnum": "safetynet.exemplars.models.HonourKind",
        "HonourLevelEnum": "safetynet.exemplars.models.HonourLevel",
        "CompetitionKindEnum": "safetynet.exemplars.models.CompetitionKind",
        "OrganiserLevelEnum": "safetynet.exemplars.models.OrganiserLevel",
        "DesignationLevelEnum": "safetynet.harmony.models.DesignationLevel",
        "DesignationStatusEnum": "safetynet.harmony.models.DesignationStatus",
        "SchemeStatusEnum": "safetynet.assessment.models.SchemeStatus",
        "AssessmentItemKindEnum": "safetynet.assessment.models.ItemKind",
        "LetterStatusEnum": "safetynet.assessment.models.LetterStatus",
        "AppealStatusEnum": "safetynet.assessment.models.AppealStatus",
        "JoinApplicationStatusEnum": "safetynet.portal.models.JoinStatus",
    },
    # Every operation documents its error answers (400/403/404) in the one error shape (core/api_base.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "safetynet.core.api_base.document_error_responses",
    ],
}

# Enterprises with at least this many employees are eligible for a union (INTERFACES.md).
ELIGIBLE_MIN_HEADCOUNT = int(env_str("SAFETYNET_ELIGIBLE_MIN_HEADCOUNT", "25"))
# Indicators answer from the counters kept as dated steps once `safetynet indicators --rebuild-counters` has
# built them (indicators/counters.py); "0" makes the definitional engine answer every question.
INDICATOR_COUNTERS = env_str("SAFETYNET_INDICATOR_COUNTERS", "1") != "0"
# The workers' platform sends its SMS codes through this class (dotted path; portal/sms.py has the interface and
# the console gateway used in development); the assessment's evidence files are refused above this size.
PORTAL_SMS_GATEWAY = env_str("SAFETYNET_PORTAL_SMS_GATEWAY", "safetynet.portal.sms.ConsoleSmsGateway")
ASSESSMENT_EVIDENCE_MAX_BYTES = int(env_str("SAFETYNET_ASSESSMENT_EVIDENCE_MAX_MB", "10")) * 1024 * 1024
# Status against target: met at or above it; "far behind" (red) when more than this many percentage points
# below it, "behind" (amber) otherwise.
INDICATOR_FAR_BEHIND_POINTS = float(env_str("SAFETYNET_FAR_BEHIND_POINTS", "5")) / 100

# Login hardening (README, Hardening). Every password check goes through django-axes first: after
# SAFETYNET_LOGIN_FAILURE_LIMIT failures at one account (from anywhere), or
# SAFETYNET_LOGIN_ADDRESS_FAILURE_LIMIT from one address (at any accounts; higher, as an office's staff share
# one address), logins are refused for SAFETYNET_LOGIN_COOLOFF_MINUTES (a failure during the lock restarts it).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(env_str("SAFETYNET_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(env_str("SAFETYNET_LOGIN_COOLOFF_MINUTES", "15")))
LOGIN_ADDRESS_FAILURE_LIMIT = int(env_str("SAFETYNET_LOGIN_ADDRESS_FAILURE_LIMIT", "20"))
# In this order: accounts/lockout.py counts the account's failures, then the address's.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "safetynet.accounts.lockout.AccountAndAddressLockout"
AXES_RESET_ON_SUCCESS = True
# The same address the audit trail records (the first X-Forwarded-For entry behind the proxy).
AXES_CLIENT_IP_CALLABLE = "safetynet.core.middleware.client_address"
AXES_LOCKOUT_CALLABLE = "safetynet.accounts.views.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# Logins and logouts are in the audit trail (accounts/signals.py); axes keeps only the failures it counts,
# and drops them after the cool-off.
AXES_DISABLE_ACCESS_LOG = True
# A second factor (TOTP, django-otp): optional for everyone; required for city administrators when
# SAFETYNET_REQUIRE_2FA=1 (they are sent to enrol before anything else).
REQUIRE_2FA = env_bool("SAFETYNET_REQUIRE_2FA", False)
# Case intake's hot statements are prepared once per PostgreSQL connection (core/statements.py). Turn off
# behind a pooler that cannot keep prepared statements (PgBouncer in transaction mode before 1.21).
SAFETYNET_PREPARED_STATEMENTS = env_bool("SAFETYNET_PREPARED_STATEMENTS", True)
OTP_TOTP_ISSUER = "职工维权安全网"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Signed out after SAFETYNET_SESSION_IDLE_MINUTES without a request (accounts/middleware.py renews the
# session at most once a minute), and when the browser closes (the cookie has no expiry date).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = int(env_str("SAFETYNET_SESSION_IDLE_MINUTES", "30")) * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SAFETYNET_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SAFETYNET_SECURE_COOKIES", True)
    # TLS is normally terminated by the reverse proxy, which sets X-Forwarded-Proto.
    SECURE_SSL_REDIRECT = env_bool("SAFETYNET_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(env_str("SAFETYNET_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SAFETYNET_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many reverse proxies of ours append to X-Forwarded-For (see core.middleware.client_address).
TRUSTED_PROXY_COUNT = int(env_str("SAFETYNET_TRUSTED_PROXIES", "1"))
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Scripts only from our own static files: no inline <script>, no on*= attributes, no eval. Inline styles
# stay allowed (templates use a few style attributes, the error pages and Swagger UI a <style> block, htmx
# and ECharts set styles); a style cannot run code. QR codes and chart exports are data: images.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("SAFETYNET_LOG_LEVEL", "WARNING")},
}
