"""The benchmark of issue 8: key pages against the reference page, over the scale data.

    python bench/run.py                               # SQLite at bench/scale.sqlite3
    DATABASE_URL=postgres:///vrps_scale python bench/run.py

It makes the scale data if the database is empty (generate_scale_data --years 10), collects
the static files, starts gunicorn (two sync workers, DEBUG off) on 127.0.0.1, logs in as the
DSL through the login and two-step verification forms, then for each page sends requests for
a bounded time from a few threads over loopback and prints requests per second, p50 and p99
latency and the ratio to the reference page; then times the agreement PDF and the governors'
report (median of 5). It stops gunicorn when done. See bench/README.md.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import re
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
TARGET_RATIO = 0.67
PDF_TARGETS = {"agreement PDF": 1.0, "governors' report PDF": 3.0}


def server_env(database_url: str, port: int) -> dict[str, str]:
    """Production settings (DEBUG off) over plain http on loopback: no HTTPS redirect or HSTS.
    Session and CSRF cookies stay Secure (the settings allow no other in production); this
    client sends them back itself, as a browser would over HTTPS."""
    env = dict(os.environ)
    env.update(
        {
            "DEBUG": "false",
            "SECRET_KEY": env.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": HOST,
            "SITE_URL": f"http://{HOST}:{port}",
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_HSTS_SECONDS": "0",
            "DATABASE_URL": database_url,
            "VRPS_REQUIRE_MFA": "true",
            "DJANGO_SETTINGS_MODULE": "vrps.settings",
        }
    )
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True
    )


# A tiny HTTP client: cookies by hand (they are Secure, and this is plain http) -------------


@dataclass
class Client:
    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict, bytes]:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        headers = {"Host": HOST, "Connection": "close"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        content = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        conn.close()
        return response.status, dict(response.getheaders()), content

    def get(self, path: str) -> tuple[int, dict, bytes]:
        return self.request("GET", path)

    def form(self, path: str, fields: dict) -> tuple[int, dict, bytes]:
        status, _, page = self.get(path)
        if status != 200:
            raise SystemExit(f"GET {path}: {status}")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if token is None:
            raise SystemExit(f"no CSRF token on {path}")
        return self.request(
            "POST", path, {"csrfmiddlewaretoken": token.group(1).decode(), **fields}
        )


def log_in(port: int, username: str, password: str, totp_key: str) -> Client:
    from django_otp.oath import totp

    client = Client(port)
    status, headers, _ = client.form(
        "/accounts/login/", {"username": username, "password": password}
    )
    if status != 302:
        raise SystemExit(f"login refused ({status})")
    # the next page sends a login that has not passed two-step verification to it
    status, headers, _ = client.get(headers["Location"])
    location = headers.get("Location", "")
    if status != 302 or "mfa" not in location:
        raise SystemExit(f"no two-step verification asked for ({status}, {location!r})")
    code = f"{totp(bytes.fromhex(totp_key)):06d}"
    verify = urlsplit(location)
    path = verify.path + (f"?{verify.query}" if verify.query else "")
    status, headers, _ = client.form(path, {"code": code})
    if status != 302 or "mfa" in headers.get("Location", ""):
        raise SystemExit(f"two-step verification refused ({status})")
    return client


# Load ---------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    path: str
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def load(client: Client, name: str, path: str, *, seconds: float, threads: int) -> Result:
    """Each thread sends the page again as soon as the last answer is in, until time is up."""
    result = Result(name, path)
    lock = threading.Lock()
    cookies = dict(client.cookies)
    # warm up: the first request of each worker loads templates and WeasyPrint
    for _ in range(4):
        Client(client.port, dict(cookies)).get(path)
    stop_at = time.monotonic() + seconds

    def worker() -> None:
        me = Client(client.port, dict(cookies))
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            status, _, _ = me.get(path)
            took = time.perf_counter() - started
            with lock:
                if status == 200:
                    result.requests += 1
                    result.latencies.append(took)
                else:
                    result.errors += 1

    begun = time.monotonic()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    result.seconds = time.monotonic() - begun
    return result


def time_pdf(client: Client, path: str, *, runs: int = 5) -> tuple[float, int]:
    client.get(path)  # the first render in a worker loads fonts
    times = []
    size = 0
    for _ in range(runs):
        started = time.perf_counter()
        status, headers, body = client.get(path)
        times.append(time.perf_counter() - started)
        if status != 200 or not body.startswith(b"%PDF"):
            raise SystemExit(f"{path}: {status} {headers.get('Content-Type')}")
        size = len(body)
    return statistics.median(times), size


# The pages ----------------------------------------------------------------------------


def pages() -> tuple[list[tuple[str, str | None]], dict[str, str]]:
    """The key pages, on records that make them as heavy as they get in the scale data."""
    from django.db.models import Count
    from django.urls import NoReverseMatch, reverse
    from django.utils import timezone

    from compliance.models import FormClass, Learner
    from devices.models import Agreement, HandIn
    from incidents.models import Incident

    today = timezone.localdate()
    busiest_class = (
        FormClass.objects.annotate(n=Count("learners__hand_ins")).order_by("-n", "pk").first()
    )
    incident = (
        Incident.objects.filter(status="investigating")
        .annotate(n=Count("people", distinct=True) + Count("referrals", distinct=True))
        .order_by("-n", "-reported_at")
        .first()
    ) or Incident.objects.order_by("-reported_at").first()
    learner = Learner.objects.annotate(n=Count("involvements")).order_by("-n", "pk").first()
    agreement = (
        Agreement.objects.filter(status="signed", exemption__learner__isnull=False)
        .order_by("-issued_at")
        .first()
    )
    year = today.year if today.month >= 9 else today.year - 1
    # the year before: a full school year of records
    report_year = year - 1 if HandIn.objects.filter(day__year=year - 1).exists() else year
    try:
        reception = reverse("devices:reception")
    except NoReverseMatch:
        reception = None
    key = [
        ("reference", reverse("compliance:reference")),
        ("DSL dashboard", reverse("dashboard")),
        ("incident queue", reverse("incidents:queue")),
        ("incident page", reverse("incidents:incident_detail", args=[incident.pk])),
        ("hand-in register, a class", reverse("devices:handin_class", args=[busiest_class.pk])),
        ("approvals queue", reverse("devices:exemption_list")),
        ("learner chronology", reverse("incidents:chronology", args=[learner.pk])),
        ("office desk", reception),
    ]
    pdfs = {
        "agreement PDF": reverse("devices:agreement_pdf", args=[agreement.pk]),
        "governors' report PDF": reverse("compliance:report_pdf", args=[report_year]),
    }
    return key, pdfs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="load time per page")
    parser.add_argument("--rounds", type=int, default=5, help="turns each page takes")
    parser.add_argument("--threads", type=int, default=4, help="client threads")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=8, help="seed of the scale data")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{ROOT / 'bench' / 'scale.sqlite3'}"
    env = server_env(database_url, args.port)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    from incidents import scale_data

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT version()" if connection.vendor == "postgresql" else "SELECT sqlite_version()"
        )
        version = cursor.fetchone()[0].split(" on ")[0]
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.node()}: "
        f"{os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    print(f"database: {connection.vendor} {version} {connection.settings_dict['NAME']}", flush=True)
    manage(env, "migrate", "--noinput", "-v0")
    if not scale_data.has_real_data():
        manage(env, "generate_scale_data", "--years", "10", "--seed", str(args.seed))
    manage(env, "collectstatic", "--noinput", "-v0")
    key_pages, pdfs = pages()
    connection.close()

    server = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [
            sys.executable, "-m", "gunicorn", "vrps.wsgi:application",
            "--workers", str(args.workers), "--worker-class", "sync",
            "--bind", f"{HOST}:{args.port}", "--log-level", "warning", "--timeout", "120",
        ],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                Client(args.port).get("/accounts/login/")
                break
            except OSError:
                time.sleep(0.2)
        client = log_in(
            args.port,
            scale_data.DSL_USERNAME,
            scale_data.dsl_password(args.seed),
            scale_data.dsl_totp_key(args.seed),
        )
        print(
            f"gunicorn: {args.workers} sync workers, DEBUG off; {args.threads} client threads, "
            f"{args.seconds:.0f}s a page in {args.rounds} rounds; logged in as the DSL",
            flush=True,
        )
        # Pages take turns in rounds, so a burst of other work on the machine falls on all
        # of them alike rather than on whichever page was being loaded at the time.
        built = [(name, path) for name, path in key_pages if path is not None]
        totals = {name: Result(name, path) for name, path in built}
        slice_seconds = args.seconds / args.rounds
        for round_number in range(args.rounds):
            print(f"round {round_number + 1} of {args.rounds}", flush=True)
            for name, path in built:
                part = load(client, name, path, seconds=slice_seconds, threads=args.threads)
                total = totals[name]
                total.requests += part.requests
                total.errors += part.errors
                total.seconds += part.seconds
                total.latencies.extend(part.latencies)
        print(f"{'page':28} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'ratio':>6}  target")
        reference = totals["reference"]
        for name, path in key_pages:
            if path is None:
                print(f"{name:28} not built yet")
                continue
            result = totals[name]
            ratio = result.rps / reference.rps if reference.rps else 0.0
            verdict = "" if result is reference else ("ok" if ratio >= TARGET_RATIO else "MISS")
            errors = f"  ({result.errors} errors)" if result.errors else ""
            print(
                f"{name:28} {result.rps:7.1f} {result.percentile(50) * 1000:7.0f} "
                f"{result.percentile(99) * 1000:7.0f} {ratio:6.2f}  {verdict}{errors}",
                flush=True,
            )
        for name, path in pdfs.items():
            seconds, size = time_pdf(client, path)
            verdict = "ok" if seconds < PDF_TARGETS[name] else "MISS"
            print(
                f"{name:28} median of 5: {seconds:.2f}s ({size // 1024} KiB), "
                f"target < {PDF_TARGETS[name]:.0f}s  {verdict}",
                flush=True,
            )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
