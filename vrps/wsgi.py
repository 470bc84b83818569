"""WSGI entry point for gunicorn: `gunicorn vrps.wsgi` (and `runserver`, by WSGI_APPLICATION).

Each request runs in a fresh, roomy stack chunk (ADR 0014). CPython before 3.13 keeps
Python frames in chunks of 16 KiB and gives a chunk back to the system as soon as the call
that opened it returns (python/cpython#142183, fixed in 3.13 and 3.14 in 2026 by keeping a
spare chunk). When a page's busiest loop runs right at a chunk's edge, each of its calls
maps and unmaps memory: under gunicorn the hand-in register took 16.5 ms a request instead
of 10.5 ms, and which page suffers moves with any change to the middleware or templates.
So the request is called from a frame too big for the chunk it starts in: Python opens a
64 KiB chunk for that frame, and the request's own frames have the 30 KiB left in it, more
than the deepest page here uses, with no edge in between.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vrps.settings")

# a frame of this many slots (8 bytes each) is over 32 KiB: Python gives it a 64 KiB chunk
FRAME_SLOTS = 4200


def _roomy_caller():
    """`call(app, environ, start_response)`, from a frame of `FRAME_SLOTS` slots. A frame's
    size is fixed by its code (one slot per local name), so the code is written out here:
    the names are only declared, never set, and cost nothing when it runs."""
    names = " = ".join(f"_{n}" for n in range(FRAME_SLOTS))
    source = (
        "def call(app, environ, start_response):\n"
        "    if False:\n"
        f"        {names} = None\n"
        "    return app(environ, start_response)\n"
    )
    namespace: dict = {}
    # our own fixed text, no input: the only way to give a function a frame of a set size
    exec(compile(source, "<vrps.wsgi roomy caller>", "exec"), namespace)  # noqa: S102
    return namespace["call"]


_call = _roomy_caller()
_django = get_wsgi_application()


def application(environ, start_response):
    return _call(_django, environ, start_response)


# Load WeasyPrint when a worker starts, not on the first PDF someone waits for (about a
# second); management commands do not pay for it.
import weasyprint  # noqa: E402,F401
