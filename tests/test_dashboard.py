"""The dashboard at `/` links only to what each role may open, and shows the key details."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from compliance.dashboard import _PANELS
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


# Panels kept between requests (ADR 0013) ------------------------------------------------

_COUNT = re.compile(r'data-panel="reception".*?data-testid="count">(\d+)<', re.S)


def _on_site(client) -> int:
    return int(_COUNT.search(client.get(reverse("dashboard")).content.decode()).group(1))


def test_a_kept_panel_shows_a_change_at_once(client, users):
    client.force_login(users["office"])
    assert _on_site(client) == 0
    visit = factories.VisitFactory()
    assert _on_site(client) == 1
    visit.left = timezone.now()
    visit.save()
    assert _on_site(client) == 0


def test_kept_panels_are_not_counted_again_until_something_changes(client, users):
    client.force_login(users["dsl"])

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("dashboard")).status_code == 200
        return len(ctx.captured_queries)

    first = queries()
    again = queries()
    assert again < first  # the kept panels asked nothing but the newest history ids
    factories.VisitFactory()
    assert queries() > again  # the reception panel counted afresh
    assert queries() == again


def test_each_user_has_their_own_kept_panels(client, users):
    client.force_login(users["office"])
    assert "The reception desk" in client.get(reverse("dashboard")).content.decode()
    client.force_login(users["staff"])
    page = client.get(reverse("dashboard")).content.decode()
    assert 'data-panel="reception"' in page
    assert "The reception desk" not in page  # the office's panel was not handed to staff


def test_every_kept_panel_reads_models_with_history():
    kept = [panel for panel in _PANELS.values() if panel.models_read()]
    assert len(kept) >= 8
    for panel in kept:
        for model in panel.models_read():
            assert hasattr(model, "history"), (panel.key, model)
