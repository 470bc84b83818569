"""The dashboard at `/` links only to what each role may open, and shows the key details."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories

pytestmark = pytest.mark.django_db

_HREF = re.compile(r"<main.*?</main>", re.S)


def _links(html: str) -> set[str]:
    main = _HREF.search(html).group(0)
    return {href for href in re.findall(r'href="(/[^"]*)"', main) if not href.startswith("/static")}


@pytest.mark.parametrize(
    "role", ["governor", "staff", "office", "deputy_dsl", "headteacher", "dsl", "outsider"]
)
def test_every_link_on_a_dashboard_opens_for_that_role(client, users, community, role):
    client.force_login(users[role])
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    links = _links(response.content.decode())
    for href in links:
        assert client.get(href).status_code == 200, f"{role}: {href}"
    if role == "outsider":
        assert "has no role yet" in response.content.decode()


def test_each_role_sees_its_own_tools(client, users, community):
    expectations = {
        "dsl": {"/community/audit/", "/community/import/", "/community/school/"},
        "office": {"/community/import/", "/community/visitors/"},
        "staff": {f"/community/classes/{community['my_class'].pk}/"},
        "governor": {"/community/school/"},
    }
    absent = {
        "governor": {"/community/learners/", "/community/audit/"},
        "staff": {"/community/audit/", "/community/import/", "/community/visitors/"},
        "office": {"/community/audit/"},
    }
    for role, wanted in expectations.items():
        client.force_login(users[role])
        links = _links(client.get(reverse("dashboard")).content.decode())
        assert wanted <= links, role
        assert not (absent.get(role, set()) & links), role


def test_key_contacts_come_from_roles(client, users, school):
    school.safeguarding_lead_governor = users["governor"].staff_member
    school.save()
    client.force_login(users["staff"])
    page = client.get(reverse("dashboard")).content.decode()
    assert "Alice Hawksley" in page  # DSL
    assert "Sue Vincent" in page  # deputy
    assert "Lisa Davis" in page  # headteacher
    assert "Safeguarding lead governor" in page
    assert "Barbara Saltmarsh" in page


def test_an_overdue_review_shows_on_every_dashboard(client, users):
    today = timezone.localdate()
    factories.PolicyVersionFactory(
        number="2021",
        date_written=today - datetime.timedelta(days=800),
        next_review=today - datetime.timedelta(days=1),
    )
    for role in ["governor", "staff", "office", "dsl"]:
        client.force_login(users[role])
        page = client.get(reverse("dashboard")).content.decode()
        assert "The annual review is overdue" in page, role
        assert "(overdue)" in page, role


def test_the_footer_shows_the_next_review(client, users):
    version = factories.PolicyVersionFactory()
    client.force_login(users["staff"])
    page = client.get(reverse("dashboard")).content.decode()
    assert f"Next review: <strong>{version.next_review:%-d %B %Y}</strong>" in page
