"""Dashboard panels. Each app registers its panels when it starts (AppConfig.ready).

Compliance, the lowest floor, renders whatever is registered; a higher app
(devices, incidents) adds its queues here without compliance importing it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import connections, router
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone

# How long a panel's context is kept at most (see Panel.reads; ADR 0013).
PANEL_SECONDS = 60


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    template: str
    # Who sees the panel; it also decides, per request, whether to show at all.
    visible: Callable[[object], bool]
    context: Callable[[HttpRequest], dict] = field(default=lambda request: {})
    order: int = 100
    # The models whose records the context counts or lists (or a function giving them, for
    # a panel whose records other apps register). When given, the context is kept (ADR
    # 0013) until a record of one of them changes (each change writes a history row), the
    # day or the user's roles change, or PANEL_SECONDS pass; it must then depend only on
    # these, the user and the date.
    reads: tuple[type[Model], ...] | Callable[[], Iterable[type[Model]]] = ()

    def models_read(self) -> tuple[type[Model], ...]:
        reads = self.reads() if callable(self.reads) else self.reads
        return tuple(sorted(reads, key=lambda model: model._meta.label))


_PANELS: dict[str, Panel] = {}


def register_panel(panel: Panel) -> None:
    _PANELS[panel.key] = panel


def panels_for(request: HttpRequest) -> list[tuple[Panel, dict]]:
    shown = [p for p in _PANELS.values() if p.visible(request.user)]
    shown.sort(key=lambda p: (p.order, p.key))
    reads = {panel.key: panel.models_read() for panel in shown}
    newest = _newest_changes({model for models in reads.values() for model in models})
    return [(panel, _context(panel, reads[panel.key], request, newest)) for panel in shown]


def _newest_changes(models: set[type[Model]]) -> dict[type[Model], int | None]:
    """The newest history row of each model, in one query (each an indexed maximum)."""
    if not models:
        return {}
    ordered = sorted(models, key=lambda model: model._meta.label)  # the same SQL each time
    tables = [model.history.model._meta.db_table for model in ordered]
    connection = connections[router.db_for_read(ordered[0])]
    quote = connection.ops.quote_name
    # the table names are the history models' own, quoted: nothing here comes from a user
    newest = [f"(SELECT MAX(history_id) FROM {quote(table)})" for table in tables]  # noqa: S608
    sql = "SELECT " + ", ".join(newest)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return dict(zip(ordered, row, strict=True))


def _context(panel: Panel, reads: tuple, request: HttpRequest, newest: dict) -> dict:
    if not reads:
        return panel.context(request)
    user = request.user
    state = [
        router.db_for_read(reads[0]),
        panel.key,
        user.pk,
        sorted(user.roles),
        timezone.localdate().isoformat(),
        [newest[model] for model in reads],
    ]
    key = "panel:" + hashlib.sha256(repr(state).encode()).hexdigest()
    context = cache.get(key)
    if context is None:
        context = panel.context(request)
        cache.set(key, context, PANEL_SECONDS)
    return context
