"""vrps.wsgi: what gunicorn serves. Each request runs in a fresh stack chunk (ADR 0014)."""

from __future__ import annotations

import io
import sys

from django.core.signals import request_finished, request_started
from django.db import close_old_connections

import vrps.wsgi


def test_a_request_is_called_from_a_frame_too_big_for_a_16_kib_stack_chunk():
    seen = {}

    def app(environ, start_response):
        caller = sys._getframe(1).f_code
        seen["slots"] = caller.co_nlocals + caller.co_stacksize
        return [b"ok"]

    assert vrps.wsgi._call(app, {}, None) == [b"ok"]
    # 8 bytes a slot: over 32 KiB, so Python opens a 64 KiB chunk for it (and the request)
    assert seen["slots"] * 8 > 32 * 1024


def test_the_application_serves_a_page(db, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.SECURE_SSL_REDIRECT = False
    statuses = []
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/accounts/login/",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
    }
    # as Django's test client does: the request's start and end must not close the test's
    # database connection (on PostgreSQL it would be gone mid-test)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = vrps.wsgi.application(environ, lambda status, headers: statuses.append(status))
        body = b"".join(response)
        response.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    assert statuses == ["200 OK"]
    assert b'name="username"' in body
