"""The demo school shows incidents in every state, including a closed one with a search."""

import pytest

from incidents.models import Incident
from tests.test_seed_demo import seed


@pytest.mark.django_db
def test_incidents_demo_covers_every_state_once():
    out = seed()
    assert "Incidents demo: 5 incidents made" in out
    assert set(Incident.objects.values_list("status", flat=True)) == set(Incident.Status.values)
    closed = Incident.objects.get(status=Incident.Status.CLOSED)
    assert closed.searches.filter(parents_told_at__isnull=False).exists()
    assert closed.debrief.lessons
    assert closed.history.earliest().history_user.username == "teacher"
    assert closed.history.latest().history_user.username == "dsl"
    again = seed()
    assert "Incidents demo: 0 incidents made." in again
    # (the low-level concerns demo adds one more: the allegation a concern was escalated to)
    assert Incident.objects.filter(low_level_concern__isnull=True).count() == 5
