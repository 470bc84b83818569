"""(being built)"""

urlpatterns: list = []


def register_panels() -> None:
    """Dashboard panels of this area (called from IncidentsConfig.ready)."""
