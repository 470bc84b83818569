"""Every list, queue, dashboard, register and chronology page runs a fixed number of queries.

The school is made by the scale data generator (incidents.scale_data) at two sizes: about
10 incidents, 40 visits, 400 hand-ins and 4 exemptions, then ten times that. Each page is
rendered at both sizes and must run the same number of queries, and that number is pinned.
The incident page and the chronology grow on one record as well (people and notes on one
incident; incidents about one learner). Pages over records the generator does not make
(school devices, actions, training, monitoring) get those rows here.

A page whose count changes has a query per row: fix the view (select_related,
prefetch_related, an annotation), not the number. A page added to the project belongs here.
"""

from __future__ import annotations

import datetime

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from compliance.models import (
    ActionPlanItem,
    FilterDecision,
    FilteringReview,
    FormClass,
    Learner,
    MonitoringAlert,
    MonitoringCheck,
    TrainingSession,
    User,
    Visit,
)
from devices.models import Confiscation, DeviceCategory, Exemption, SchoolDevice
from incidents import scale_data
from incidents.models import Incident, Involvement, Location, Note
from tests.counts import ACCESS_LOG

pytestmark = pytest.mark.django_db

SMALL, LARGE = 0.02, 0.2  # a year at these record-count factors: 10 and 100 incidents

# Every page: the session, the user, the user's roles; the layout's school and policy
# version; the session saved again (savepoint, update, release).
_EVERY = 8

# page -> (pinned count, what the page reads beyond _EVERY)
PINNED: dict[str, tuple[int, str]] = {
    "dashboard": (
        _EVERY + 1 + 23,
        "the newest history row of what the kept panels read (ADR 0013); the panels "
        "(tests/test_query_counts.py names them), counted afresh; more show here",
    ),
    "compliance:reference": (_EVERY + 1, "the 50 visits with their visitor"),
    "compliance:staff_list": (_EVERY + 2, "count, rows with logins"),
    "compliance:class_list": (_EVERY + 3, "count, rows annotated, teachers"),
    "compliance:learner_list": (_EVERY + 3, "classes for the filter, count, rows"),
    "compliance:parent_list": (_EVERY + 3, "count, rows, learners"),
    "compliance:visitor_list": (_EVERY + 2, "count, rows"),
    "compliance:visit_list": (_EVERY + 2, "count, rows with visitor and host"),
    "compliance:audit": (_EVERY + 4, "count of history, page of it, logins for the filter"),
    "compliance:access_log": (_EVERY + 2, "count, rows"),
    "compliance:retention_review": (_EVERY + 6, "records due under each rule"),
    "compliance:retention_disposals": (_EVERY + 1, "disposals"),
    "compliance:policy_acknowledgements": (_EVERY + 2, "staff and acknowledgements"),
    "compliance:actions_list": (_EVERY + 2, "actions"),
    "compliance:training_list": (_EVERY + 1, "sessions, attendees"),
    "compliance:monitoring_list": (_EVERY + 1, "checks"),
    "compliance:report_list": (_EVERY + 0, "years"),
    "compliance:relationship_list": (_EVERY + 1, "declared relationships"),
    "compliance:filtering_review_list": (_EVERY + 4, "the last review, count, reviews, who"),
    "compliance:filter_decision_list": (_EVERY + 2, "count, decisions"),
    "compliance:alert_list": (_EVERY + 2, "count, alerts"),
    "devices:category_list": (_EVERY + 1, "categories"),
    "devices:device_list": (_EVERY + 3, "devices"),
    "devices:handin_index": (_EVERY + 2, "classes"),
    "devices:handin_school": (_EVERY + 2, "today's hand-ins"),
    "devices:handin_uncollected": (_EVERY + 1, "uncollected devices"),
    # the class; the learners on roll with the day's hand-ins and whether they have an
    # exception; their exemptions in force; the parents of those whose device is still to
    # collect (the day's exceptions when there are any: none in the scale data that day)
    "devices:handin_class": (_EVERY + 4, "the register of the busiest class"),
    "devices:confiscation_list": (_EVERY + 2, "confiscations"),
    # the counts by status (their sum is the paginator's count), the page of rows, the
    # staff and the visitors on it
    "devices:exemption_list": (_EVERY + 2 + 2, "the approvals queue"),
    "devices:reception": (_EVERY + 4, "the office desk"),
    "devices:reception_on_site": (_EVERY + 1, "visitors on site"),
    "devices:call_list": (_EVERY + 1, "calls home"),
    # the filter's locations and leads, the counts by status (their sum is the paginator's
    # count), the page of rows, the learners on it, the LADO referrals overdue
    "incidents:queue": (_EVERY + 6, "the triage queue"),
    "incidents:my_reports": (_EVERY + 2, "a reporter's own reports"),
    "incidents:search_list": (_EVERY + 2, "searches"),
    "incidents:concern_list": (_EVERY + 2, "low-level concerns"),
    "incidents:incident_detail": (
        _EVERY + 1 + ACCESS_LOG + 4,
        "the incident page: the incident, the access log (tests/counts.py), which kinds of "
        "record it has, one query for each kind it has (the busiest "
        "incident has no referrals, debrief, searches or files); who has opened it is "
        "fetched when opened; tests/test_incident_pages.py counts it part by part",
    ),
    # the learner; the access log, its row and history row (tests/counts.py); which kinds
    # of record the learner has (1); one query per kind they have (here incidents and
    # confiscations: 2)
    "incidents:chronology": (_EVERY + 1 + ACCESS_LOG + 1 + 2, "a learner's chronology"),
}


# named like a list but not a page: the admin's, and a POST-only action
NOT_PAGES = {"admin:app_list", "devices:handin_mark_class"}


class _Rollback(Exception):
    pass


def _url(name: str, objects: dict) -> str | None:
    args = {
        "devices:handin_class": [objects["class"].pk],
        "incidents:incident_detail": [objects["incident"].pk],
        "incidents:chronology": [objects["learner"].pk],
    }.get(name, [])
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None  # a page not built yet (the office desk was being built with this)


def _save(obj, by: User):
    obj._history_user = by  # the audit page names whoever made each row
    obj.save()
    return obj


def _grow_extras(builder: scale_data.ScaleBuilder, n: int, objects: dict) -> None:
    """Rows the generator does not make, and more on the one incident and learner."""
    today = timezone.localdate()
    now = timezone.now()
    dsl = builder.dsl
    category = DeviceCategory.objects.order_by("pk").first()
    owner = builder.people[0].obj
    learner = objects["learner"]
    # the incident page's record: one under investigation, the same state at both sizes
    incident = _save(
        Incident(
            reference=f"INC-QB-{n}",
            location=Location.objects.order_by("pk").first(),
            category="cyberbullying",
            account="Messages in a group chat.",
            reported_by=dsl,
            status=Incident.Status.INVESTIGATING,
            assignee=dsl,
            triaged_by=dsl,
            triaged_at=now,
        ),
        dsl,
    )
    objects["incident"] = incident
    others = list(Incident.objects.exclude(pk=incident.pk).order_by("pk"))
    visits, hosts = [], []
    for i in range(n):
        _save(
            SchoolDevice(
                asset_tag=f"QB-{n}-{i}", category=category, make_model="Phone", passcode_set=True
            ),
            dsl,
        )
        _save(
            ActionPlanItem(
                source="review", description=f"Action {i}", owner=owner, due=today, created_by=dsl
            ),
            dsl,
        )
        session = _save(TrainingSession(held_on=today, topic=f"Training {i}", recorded_by=dsl), dsl)
        session.attendees.add(owner)
        _save(
            MonitoringCheck(
                checked_on=today, what_checked="Filtering logs", findings="None", checked_by=dsl
            ),
            dsl,
        )
        _save(Note(incident=incident, text=f"Note {i}", written_by=dsl), dsl)
        # filtering and monitoring: a review with who took part, a decision, an alert
        review = _save(
            FilteringReview(
                reviewed_on=today,
                what_tested="Test sites",
                findings="None",
                next_review=today + datetime.timedelta(days=300),
                recorded_by=dsl,
            ),
            dsl,
        )
        review.participants.add(owner)
        _save(
            FilterDecision(
                target="site",
                what=f"https://site{i}.example",
                action="block",
                reason="Not suitable",
                decided_by=owner,
                decided_on=today,
                recorded_by=dsl,
            ),
            dsl,
        )
        _save(
            MonitoringAlert(
                raised_at=now,
                system="Monitor",
                kind="other",
                subject="learner",
                learner=learner,
                summary="Search",
                recorded_by=dsl,
            ),
            dsl,
        )
        someone = builder.learners[i % len(builder.learners)].obj
        _save(Involvement(incident=incident, part="witness", learner=someone, added_by=dsl), dsl)
        _save(
            Involvement(
                incident=others[i % len(others)], part="affected", learner=learner, added_by=dsl
            ),
            dsl,
        )
        _save(
            Confiscation(
                learner=learner,
                category=category,
                description="Phone",
                taken_by=owner,
                reason="Used in class",
                stored_where="Office",
                recorded_by=dsl,
            ),
            dsl,
        )
        host = builder.staff_with_login[i % len(builder.staff_with_login)]
        visits.append(
            _save(
                Visit(
                    visitor=builder.visitor_list[i % len(builder.visitor_list)],
                    purpose="Meeting",
                    host=host.obj,
                ),
                dsl,
            )
        )
        hosts.append(host)
    # today's visitors at the office desk, each with the device agreement made at sign-in
    builder.visit_agreements(visits, hosts)
    # at both sizes one visitor today works with learners under an exemption
    exemption = _save(
        Exemption(
            kind=Exemption.Kind.VISITOR_WITH_LEARNERS,
            visitor=visits[0].visitor,
            category=category,
            reason="Speech therapy app",
            ends=today,
            status=Exemption.Status.ACTIVE,
            requested_by=dsl,
            decided_by=builder.head,
            decided_at=now,
        ),
        dsl,
    )
    VisitorDeviceAgreement = apps.get_model("devices", "VisitorDeviceAgreement")
    VisitorDeviceAgreement.objects.filter(visit=visits[0]).update(
        use="agreed",
        purpose="Therapy app",
        where="Room 2",
        when="This visit",
        agreed_by=hosts[0].obj,
        with_learners=True,
        exemption=exemption,
    )


def _objects() -> dict:
    today = timezone.localdate()
    busiest = (
        FormClass.objects.filter(learners__hand_ins__day=today)
        .annotate(n=Count("learners__hand_ins"))
        .order_by("-n", "pk")
        .first()
    ) or FormClass.objects.order_by("pk").first()
    top = (
        Incident.objects.values("reported_by")
        .annotate(n=Count("pk"))
        .order_by("-n", "reported_by")
        .first()
    )
    reporter = User.objects.get(pk=top["reported_by"]) if top else None
    return {
        "class": busiest,
        "learner": Learner.objects.filter(left__isnull=True).order_by("pk").first(),
        "reporter": reporter,
    }


def _counts(factor: float, extras: int) -> dict[str, int]:
    """Build the school at this size, count each page's queries, and roll it all back."""
    counts: dict[str, int] = {}
    try:
        with transaction.atomic():
            builder = scale_data.ScaleBuilder(
                years=1, seed=11, factor=factor, progress=lambda line: None
            )
            builder.build()
            objects = _objects()
            _grow_extras(builder, extras, objects)
            objects["reporter"] = objects["reporter"] or builder.dsl
            dsl = Client()
            dsl.force_login(builder.dsl)
            reporter = Client()
            reporter.force_login(objects["reporter"] or builder.dsl)
            for name in PINNED:
                url = _url(name, objects)
                if url is None:
                    continue
                client = reporter if name == "incidents:my_reports" else dsl
                client.get(url)  # the first request may fill per-process caches
                # but not the dashboard's kept panels (ADR 0013): count them all afresh
                cache.clear()
                with CaptureQueriesContext(connection) as ctx:
                    response = client.get(url)
                assert response.status_code == 200, f"{name}: {response.status_code}"
                counts[name] = len(ctx.captured_queries)
            counts["_incidents"] = Incident.objects.count()
            raise _Rollback
    except _Rollback:
        pass
    return counts


@pytest.fixture(scope="module")
def measured(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return _counts(SMALL, 10), _counts(LARGE, 100)


def test_a_row_for_every_list_page_in_the_url_confs():
    """Every URL named like a list, queue, register, chronology or dashboard is pinned here."""
    from django.urls import get_resolver

    names = set()

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(
                    pattern.url_patterns,
                    namespace + (f"{pattern.namespace}:" if pattern.namespace else ""),
                )
            elif pattern.name:
                names.add(namespace + pattern.name)

    walk(get_resolver().url_patterns)
    listy = {
        n
        for n in names
        if n.endswith(
            ("_list", "queue", "_index", "_school", "_uncollected", "_class", "chronology")
        )
        or n in {"dashboard", "devices:reception", "compliance:audit"}
    }
    missing = sorted(listy - set(PINNED) - NOT_PAGES)
    assert not missing, f"pin these pages' query counts here: {missing}"


@pytest.mark.parametrize("name", sorted(PINNED))
def test_query_count_does_not_grow_and_is_pinned(measured, name):
    small, large = measured
    if name not in small:
        pytest.skip(f"{name} is not in the URL conf yet")
    assert small[name] == large[name], (
        f"{name}: {small[name]} queries with about 10 rows, {large[name]} with about 100"
    )
    pinned, _ = PINNED[name]
    assert large[name] == pinned, f"{name}: {large[name]} queries (pinned {pinned})"


def test_the_sizes_really_differ(measured):
    """Ten times the records, so equal counts mean something."""
    small, large = measured
    assert (small["_incidents"], large["_incidents"]) == (10 + 1, 100 + 1)
