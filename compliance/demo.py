"""Demo data from the apps above compliance, and acting as a user outside a request.

`seed_demo` (compliance) makes the school community; each higher app registers a seeder
here in its AppConfig.ready() that adds its own demo records in every state, so that the
command never imports upwards.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace

from simple_history.models import HistoricalRecords


@dataclass(frozen=True)
class DemoContext:
    today: datetime.date
    now: datetime.datetime
    # the demo logins by username: dsl, head, deputy, office, teacher, governor, ...
    users: dict


Seeder = Callable[[DemoContext], str]
_SEEDERS: dict[str, tuple[int, Seeder]] = {}


def register_demo_seeder(key: str, seeder: Seeder, *, order: int = 100) -> None:
    _SEEDERS[key] = (order, seeder)


def demo_seeders() -> list[Seeder]:
    return [seeder for _, seeder in sorted(_SEEDERS.values(), key=lambda item: item[0])]


@contextmanager
def acting_as(user) -> Iterator[None]:
    """History written inside the block names `user`, as the middleware does for a request."""
    previous = getattr(HistoricalRecords.context, "request", None)
    HistoricalRecords.context.request = SimpleNamespace(user=user)
    try:
        yield
    finally:
        if previous is None:
            del HistoricalRecords.context.request
        else:
            HistoricalRecords.context.request = previous
