import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_dashboard_renders_for_each_role(client, users, community):
    for name, user in users.items():
        client.force_login(user)
        response = client.get(reverse("dashboard"))
        assert response.status_code == 200, name
