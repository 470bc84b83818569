"""Fill an empty database with ten years of fictional records for the benchmark (issue 8).

The builder is `incidents.scale_data` (why it lives in incidents: see its docstring).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from incidents import scale_data


class Command(BaseCommand):
    help = (
        "Fill an empty database with fictional records of a 420-learner primary school over "
        "--years school years (ten years: about 200,000 hand-ins, 5,000 incidents, 1,000 "
        "searches, 2,000 exemptions with signed agreements, 20,000 visits, and their history), "
        "deterministic for a --seed. Makes a DSL login with a password and an authenticator "
        "key derived from the seed, for the benchmark: never run it on a live school's "
        "database. It refuses a database that already holds people or records unless --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--years", type=int, default=10, help="School years (default 10).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument(
            "--factor",
            type=float,
            default=1.0,
            help="Scale the record counts (not the school) by this, e.g. 0.01 for a quick test.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Add to a database that already holds records (a throwaway copy only).",
        )

    def handle(self, *args, **options) -> None:
        if options["years"] < 1 or options["years"] > 30:
            raise CommandError("--years must be between 1 and 30.")
        if options["factor"] <= 0:
            raise CommandError("--factor must be above 0.")
        found = scale_data.has_real_data()
        if found and not options["force"]:
            raise CommandError(
                f"This database already holds {', '.join(found)}. generate_scale_data makes "
                "fictional records and a login with a known password: run it on an empty, "
                "migrated database (or --force on a throwaway copy)."
            )
        database = settings.DATABASES["default"]
        self.stdout.write(f"Database: {connection.vendor} {database['NAME']}")
        started = time.monotonic()
        counts = scale_data.build(
            years=options["years"],
            seed=options["seed"],
            factor=options["factor"],
            progress=self.stdout.write,
        )
        seconds = time.monotonic() - started
        total = sum(counts.values())
        self.stdout.write(f"Made {total:,} records (and their history rows) in {seconds:.0f}s.")
        seed = options["seed"]
        self.stdout.write(
            f"Log in as {scale_data.DSL_USERNAME!r} with the password "
            f"{scale_data.dsl_password(seed)!r}; for the code, add this key to an authenticator "
            f"app or compute the TOTP (SHA-1, 6 digits, 30 s) from the hex key "
            f"{scale_data.dsl_totp_key(seed)} (bench/run.py does this)."
        )
