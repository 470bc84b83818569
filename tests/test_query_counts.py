"""List pages and the dashboard run a fixed number of queries, however many rows there are."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db


def _grow(community, n: int) -> None:
    form_class = community["my_class"]
    for _ in range(n):
        learner = factories.LearnerFactory(form_class=form_class)
        factories.ParentCarerFactory(learners=[learner])
        staff = factories.StaffMemberFactory()
        form_class.teachers.add(staff)
        factories.VisitFactory(host=staff)


def _count(client, url: str) -> int:
    cache.clear()  # the dashboard's kept panels (ADR 0013) are counted afresh
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


# Every page: the session, the user, the user's roles; the layout's school and policy
# version; and the session saved again (idle timeout slides): savepoint, update, release.
_EVERY_PAGE = 3 + 2 + 3

PINNED = {
    # count, rows (with their logins joined)
    "compliance:staff_list": _EVERY_PAGE + 2,
    # count, rows (with learners on roll annotated), teachers prefetch
    "compliance:class_list": _EVERY_PAGE + 3,
    # the classes for the filter, count, rows (with their class joined)
    "compliance:learner_list": _EVERY_PAGE + 3,
    # count, rows, learners prefetch
    "compliance:parent_list": _EVERY_PAGE + 3,
    # count, rows
    "compliance:visitor_list": _EVERY_PAGE + 2,
    # count, rows (with visitor and host joined)
    "compliance:visit_list": _EVERY_PAGE + 2,
    # count of the union of history tables, the page of it, the logins for the filter's list
    # (the logins named on the page are one more query; rows made here have none)
    "compliance:audit": _EVERY_PAGE + 3,
    # the DSL's dashboard: the newest history row of each model the kept panels read
    # (ADR 0013), then one or two queries a panel, none growing with the rows:
    # "Report a concern" (own reports by status); the policy review (actions; the version
    # acknowledgements count from*; staff who have not acknowledged; reviews awaiting
    # sign-off); filtering and monitoring (the last annual review; alerts awaiting the DSL);
    # their acknowledgements (staff record, the version they count from*,
    # acknowledgements); pre-existing relationships (when the policy was last reviewed; the
    # counts); the triage queue (counts by status; LADO referrals overdue); low-level
    # concerns about staff (one count of open, awaiting a response and recent); reception
    # (visitors on site); uncollected devices today; retention (records due; disposals
    # awaiting the DSL); school devices by status; devices held; key contacts and their
    # roles (the school and the policy version are shared with the layout).
    # * two queries each here: with no version marked as a material change, the selector
    #   falls back to the first version (one query when one is marked, as in a live school)
    "dashboard": _EVERY_PAGE + 1 + 25,
}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_query_count_is_pinned_and_does_not_grow(client, dsl, community, name):
    client.force_login(dsl)
    url = reverse(name)
    _grow(community, 10)
    small = _count(client, url)
    _grow(community, 90)
    large = _count(client, url)
    assert small == large, f"{name}: {small} queries with 10 rows, {large} with 100"
    assert large == PINNED[name], f"{name}: {large} queries (pinned {PINNED[name]})"
