"""Settings, all from the environment (see INTERFACES.md and the README).

The embedded default is SQLite under ``var/``; ``DATABASE_URL`` switches to PostgreSQL.
"""

from pathlib import Path

import dj_database_url

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
    "safetynet.shell",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "safetynet.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "safetynet.core.middleware.RequestContextMiddleware",
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
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
}

# Enterprises with at least this many employees are eligible for a union (INTERFACES.md).
ELIGIBLE_MIN_HEADCOUNT = int(env_str("SAFETYNET_ELIGIBLE_MIN_HEADCOUNT", "25"))
# Status against target: met at or above it; "far behind" (red) when more than this many percentage points
# below it, "behind" (amber) otherwise.
INDICATOR_FAR_BEHIND_POINTS = float(env_str("SAFETYNET_FAR_BEHIND_POINTS", "5")) / 100

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
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
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("SAFETYNET_LOG_LEVEL", "WARNING")},
}
