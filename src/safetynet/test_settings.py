"""Settings for the test suite: production settings with what tests need changed, and nothing else."""

import os

os.environ.setdefault("SAFETYNET_SSL_REDIRECT", "0")
os.environ.setdefault("SAFETYNET_SECURE_COOKIES", "0")
os.environ.setdefault("SAFETYNET_PII_KEY", "Wm9eTeOUgNqN1Zz4GdjXJ3f9nCk5x7sgq2vYtWlbHdE=")

from safetynet.settings import *  # noqa: F403
from safetynet.settings import DATABASES, STORAGES

# Static files come from the apps' folders (no collectstatic before tests).
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Hashing passwords at full strength makes every login in a test take a quarter of a second.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# A live server thread must not keep its connection open, or PostgreSQL cannot drop the test database.
DATABASES["default"]["CONN_MAX_AGE"] = 0
# The test client's login() authenticates without a request; every real login path is locked out as usual.
AUTHENTICATION_BACKENDS = [
    "safetynet.accounts.tests.backends.AxesBackendAllowingTestClientLogin",
    "django.contrib.auth.backends.ModelBackend",
]
