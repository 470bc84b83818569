"""WSGI entry point for gunicorn: `gunicorn vrps.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vrps.settings")
application = get_wsgi_application()

# Load WeasyPrint when a worker starts, not on the first PDF someone waits for (about a
# second); management commands do not pay for it.
import weasyprint  # noqa: E402,F401
