"""Where a page's time goes: its queries (count, total, the slowest) and the rest.

    python bench/profile.py                     # every key page of bench/run.py
    DATABASE_URL=postgres:///vrps_scale python bench/profile.py "incident page"

Runs in this process with Django's test client, logged in as the scale data's DSL (two-step
verification is off here: this measures the page, not the login).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'bench' / 'scale.sqlite3'}")
    os.environ.setdefault("DEBUG", "true")
    os.environ["VRPS_REQUIRE_MFA"] = "false"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vrps.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.run import pages
    from compliance.models import User
    from incidents import scale_data

    only = set(sys.argv[1:])
    key_pages, pdfs = pages()
    client = Client()
    client.force_login(User.objects.get(username=scale_data.DSL_USERNAME))
    for name, path in [*key_pages, *pdfs.items()]:
        if path is None or (only and name not in only):
            continue
        client.get(path)
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(path)
            took = time.perf_counter() - started
        queries = [(float(q["time"]), q["sql"]) for q in ctx.captured_queries]
        in_db = sum(t for t, _ in queries)
        print(
            f"{name}: {response.status_code}, {took * 1000:.0f} ms, {len(queries)} queries "
            f"taking {in_db * 1000:.0f} ms"
        )
        for seconds, sql in sorted(queries, reverse=True)[:3]:
            print(f"    {seconds * 1000:6.1f} ms  {sql[:300]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
