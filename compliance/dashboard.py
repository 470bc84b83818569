"""Dashboard panels. Each app registers its panels when it starts (AppConfig.ready).

Compliance, the lowest floor, renders whatever is registered; a higher app
(devices, incidents) adds its queues here without compliance importing it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.http import HttpRequest


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    template: str
    # Who sees the panel; it also decides, per request, whether to show at all.
    visible: Callable[[object], bool]
    context: Callable[[HttpRequest], dict] = field(default=lambda request: {})
    order: int = 100


_PANELS: dict[str, Panel] = {}


def register_panel(panel: Panel) -> None:
    _PANELS[panel.key] = panel


def panels_for(request: HttpRequest) -> list[tuple[Panel, dict]]:
    shown = [p for p in _PANELS.values() if p.visible(request.user)]
    shown.sort(key=lambda p: (p.order, p.key))
    return [(panel, panel.context(request)) for panel in shown]
