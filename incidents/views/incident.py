"""(being built)"""

from django.http import Http404
from django.urls import path


def incident_detail(request, pk: int):
    raise Http404("being built")


urlpatterns: list = [path("<int:pk>/", incident_detail, name="incident_detail")]


def register_panels() -> None:
    """Dashboard panels of this area (called from IncidentsConfig.ready)."""
