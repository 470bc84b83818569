"""Fast settings for the test suite: a cheap password hasher, plain static files."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DEBUG", "true")

from vrps.settings import *  # noqa: E402,F403
from vrps.settings import STORAGES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# uploads made by tests (signature scans, evidence) never land in the project's media/
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="vrps-test-media-"))
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
LOGGING = {"version": 1, "disable_existing_loggers": False}
