"""Searches of learners' devices (policy section 6; DfE "Searching, screening and
confiscation"), through the pages.

Every guard of `search_record` is tried through the form and refused with its reason,
what was typed kept; a search that finds nothing is recorded too; the device's custody is
recorded with the search in one transaction (nothing is left behind when the search is
refused); parents are told now or later; every opening is logged; the pages at each role;
the list's query count is pinned.
"""

from __future__ import annotations

import datetime
import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from compliance.models import RecordAccess
from compliance.roles import Role
from devices import services as device_services
from devices.models import Confiscation, CustodyEvent
from incidents import services
from incidents.models import Involvement, Search
from tests import factories

pytestmark = pytest.mark.django_db

FORMAT = "%Y-%m-%dT%H:%M"


def _minutes_ago(minutes: int) -> datetime.datetime:
    return timezone.localtime().replace(second=0, microsecond=0) - datetime.timedelta(
        minutes=minutes
    )


def _page(response) -> str:
    return " ".join(response.content.decode().split())


def report(community, *, learner=None, staff=None, category="restricted_area"):
    people = [
        services.Person(part=Involvement.Part.SUBJECT, learner=learner or community["learner"])
    ]
    if staff is not None:
        people.append(services.Person(part=Involvement.Part.SUBJECT, staff=staff))
    return services.incident_report(
        occurred_at=timezone.now() - datetime.timedelta(hours=2),
        location=factories.LocationFactory(),
        category=category,
        account="Amira was filming other pupils in the classroom.",
        people=people,
        by=community["staff"].user,
    )


@pytest.fixture
def incident(community, dsl):
    """Triaged, with Amira Khan involved."""
    return services.incident_triage(incident=report(community), by=dsl)


def form_data(community, lead, **changes) -> dict:
    data = {
        "learner": community["learner"].pk,
        "device": "Black phone in a red case",
        "searched_at": _minutes_ago(30).strftime(FORMAT),
        "place": "DSL's office",
        "led_by": lead.pk,
        "second_staff": community["staff"].pk,
        "no_second_reason": "",
        "grounds": "Seen filming other pupils in the classroom",
        "sought": "Photos or videos of pupils",
        "consent_by": "learner",
        "consent_parent": "",
        "consent_how": "Said yes in the DSL's office",
        "found": "",
        "nothing_found": "on",
        "deletion": "none",
        "deletion_reason": "",
        "outcome": "returned",
        "custody": "none",
        "confiscation": "",
        "returned_to": "",
        "new_category": "",
        "new_stored_where": "",
        "police_officer": "",
        "police_reference": "",
        "police_at": "",
        "parents_told_at": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def add_url(incident) -> str:
    return reverse("incidents:search_add", args=[incident.pk])


def record_search(incident, community, lead, **extra) -> Search:
    fields = {
        "incident": incident,
        "learner": community["learner"],
        "device": "Black phone in a red case",
        "searched_at": timezone.now() - datetime.timedelta(minutes=30),
        "place": "DSL's office",
        "led_by": lead,
        "no_second_reason": "Nobody else was free",
        "grounds": "Seen filming",
        "sought": "Photos of pupils",
        "consent_by": "learner",
        "consent_how": "Said yes",
        "outcome": "returned",
        "by": lead,
    }
    fields.update(extra)
    return services.search_record(**fields)


def held_confiscation(community, *, by=None) -> Confiscation:
    teacher = community["staff"]
    return device_services.confiscation_record(
        learner=community["learner"],
        category=factories.DeviceCategoryFactory(),
        description="Black phone in a red case",
        reason="Used in the classroom",
        stored_where="Office safe",
        taken_by=teacher,
        taken_at=timezone.now() - datetime.timedelta(hours=1),
        by=by or teacher.user,
    )


# The form --------------------------------------------------------------------------------


def test_the_form_carries_the_guidance_and_the_rule(client, dsl, incident):
    client.force_login(dsl)
    response = client.get(add_url(incident))
    assert response.status_code == 200
    page = _page(response)
    assert 'data-testid="guidance"' in page
    for words in ("Who may search", "Consent", "What may be deleted", "hand it to the police"):
        assert words in page
    assert "by 2 members of staff where possible" in html.unescape(page)
    form = response.context["form"]
    # only learners involved in the incident; the current user leads by default
    assert list(form.fields["learner"].queryset) == [incident.people.get().learner]
    assert form.fields["led_by"].initial == dsl.pk


def test_the_form_offers_leads_and_parents_with_parental_responsibility_only(
    client, users, community, incident
):
    client.force_login(users["dsl"])
    form = client.get(add_url(incident)).context["form"]
    offered_leads = {pk for pk, _ in form.fields["led_by"].choices if pk}
    assert {int(str(pk)) for pk in offered_leads} == {
        users[role].pk for role in ("dsl", "deputy_dsl", "headteacher")
    }
    offered_parents = [label for pk, label in form.fields["consent_parent"].choices if pk]
    assert offered_parents == ["Hana Khan (mother of Amira Khan)"]


def test_a_search_that_finds_nothing_is_recorded(client, dsl, community, incident):
    client.force_login(dsl)
    response = client.post(add_url(incident), form_data(community, dsl))
    search = Search.objects.get()
    assert response.status_code == 302
    assert response["Location"] == search.get_absolute_url()
    assert search.found_nothing is True
    assert search.found == ""
    assert search.led_by == dsl
    assert search.second_staff == community["staff"]
    assert search.recorded_by == dsl
    assert search.confiscation is None
    assert search.parents_told_at is None
    page = _page(client.get(search.get_absolute_url()))
    assert "Nothing was found." in page


def test_what_was_found_and_deleted_is_recorded_with_who_and_why(client, dsl, community, incident):
    client.force_login(dsl)
    data = form_data(
        community,
        dsl,
        found="Three photos of pupils in the classroom",
        nothing_found=None,
        deletion="deleted",
        deletion_reason="Photos of pupils taken without consent (image use policy)",
        consent_by="parent_carer",
        consent_parent=community["parent"].pk,
        consent_how="By phone to the DSL",
    )
    assert client.post(add_url(incident), data).status_code == 302
    search = Search.objects.get()
    assert search.found_nothing is False
    assert search.found == "Three photos of pupils in the classroom"
    assert (search.deletion, search.deleted_by) == (Search.Deletion.DELETED, dsl)
    assert search.consent_parent == community["parent"]


GUARDS = [
    pytest.param(
        lambda c, users: {"led_by": users["staff"].pk},
        "A search is led by the DSL, a deputy DSL or the headteacher (section 6).",
        id="lead-without-role",
    ),
    pytest.param(
        lambda c, users: {"second_staff": "", "no_second_reason": ""},
        "Name the second member of staff present, or say why there was none.",
        id="no-witness-and-no-reason",
    ),
    pytest.param(
        lambda c, users: {"consent_by": "parent_carer", "consent_parent": c["other_parent"].pk},
        "{other_parent} has no parental responsibility for this learner.",
        id="consent-parent-without-pr",
    ),
    pytest.param(
        lambda c, users: {"consent_by": "parent_carer", "consent_parent": ""},
        "Say which parent or carer consented.",
        id="consent-parent-not-named",
    ),
    pytest.param(
        lambda c, users: {
            "found": "Photos of pupils",
            "nothing_found": None,
            "deletion": "deleted",
            "deletion_reason": "",
        },
        "Say why content was deleted.",
        id="deletion-without-reason",
    ),
    pytest.param(
        lambda c, users: {"deletion": "asked", "deletion_reason": "Against our policy"},
        "Nothing was found, so nothing was deleted.",
        id="deletion-when-nothing-found",
    ),
    pytest.param(
        lambda c, users: {"outcome": "police", "custody": "none"},
        "Record the device's hand-over to the police (officer and reference) first, "
        "then link it here.",
        id="police-without-hand-over",
    ),
    pytest.param(
        lambda c, users: {
            "searched_at": (timezone.localtime() + datetime.timedelta(days=1)).strftime(FORMAT)
        },
        "The search cannot be in the future.",
        id="in-the-future",
    ),
]


@pytest.mark.parametrize(("changes", "reason"), GUARDS)
def test_each_guard_is_refused_with_its_reason_and_what_was_typed_is_kept(
    client, users, community, incident, changes, reason
):
    dsl = users["dsl"]
    client.force_login(dsl)
    data = form_data(community, dsl, **changes(community, users))
    response = client.post(add_url(incident), data)
    reason = reason.format(other_parent=community["other_parent"])
    assert response.status_code == 200
    assert response.context["refused"] == reason
    page = _page(response)
    assert html.escape(reason) in page
    # what was typed is shown again
    assert html.escape("Seen filming other pupils in the classroom") in page
    assert response.context["form"]["device"].value() == "Black phone in a red case"
    assert not Search.objects.exists()
    assert not Confiscation.objects.exists()


def test_a_report_not_yet_triaged_is_refused_with_the_reason(client, dsl, community):
    reported = report(community)
    client.force_login(dsl)
    page = _page(client.get(add_url(reported)))
    assert "a search is recorded once the report has been triaged" in page
    response = client.post(add_url(reported), form_data(community, dsl))
    assert response.context["refused"] == "Triage the report first."
    assert not Search.objects.exists()


def test_a_learner_not_involved_is_not_accepted(client, dsl, community, incident):
    client.force_login(dsl)
    data = form_data(community, dsl, learner=community["other_learner"].pk)
    response = client.post(add_url(incident), data)
    assert response.status_code == 200
    assert response.context["form"].errors["learner"]
    assert not Search.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"nothing_found": None}, "found"),
        ({"found": "A video of pupils"}, "nothing_found"),
        ({"no_second_reason": "Nobody was free"}, "no_second_reason"),
        ({"consent_parent": "PARENT"}, "consent_parent"),
        ({"deletion_reason": "Because"}, "deletion_reason"),
        ({"outcome": "retained", "custody": "none"}, "custody"),
        ({"outcome": "returned", "custody": "new"}, "custody"),
        ({"outcome": "retained", "custody": "existing"}, "confiscation"),
        ({"outcome": "retained", "custody": "new"}, "new_stored_where"),
        ({"parents_told": "on", "parents_told_at": ""}, "parents_told_at"),
    ],
)
def test_parts_that_disagree_are_marked_next_to_the_field(
    client, dsl, community, incident, changes, field
):
    client.force_login(dsl)
    if changes.get("consent_parent") == "PARENT":
        changes["consent_parent"] = community["parent"].pk
    response = client.post(add_url(incident), form_data(community, dsl, **changes))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert response.context["refused"] == "Nothing was recorded: check the answers marked below."
    assert not Search.objects.exists()


# The device's custody, in the same transaction ---------------------------------------------


def test_a_retained_device_is_recorded_as_a_confiscation_with_the_search(
    client, dsl, community, incident
):
    client.force_login(dsl)
    category = factories.DeviceCategoryFactory()
    data = form_data(
        community,
        dsl,
        outcome="retained",
        custody="new",
        new_category=category.pk,
        new_stored_where="DSL's locked cabinet",
    )
    assert client.post(add_url(incident), data).status_code == 302
    search = Search.objects.get()
    confiscation = search.confiscation
    assert confiscation.status == Confiscation.Status.HELD
    assert confiscation.learner == community["learner"]
    assert confiscation.taken_by == dsl.staff_member
    assert confiscation.taken_at == search.searched_at
    assert confiscation.stored_where == "DSL's locked cabinet"
    assert confiscation.description == "Black phone in a red case"
    assert [e.kind for e in confiscation.custody_events.all()] == [CustodyEvent.Kind.TAKEN]


def test_handed_to_the_police_all_in_one(client, dsl, community, incident):
    client.force_login(dsl)
    data = form_data(
        community,
        dsl,
        found="Material that may be illegal",
        nothing_found=None,
        outcome="police",
        custody="new",
        new_category=factories.DeviceCategoryFactory().pk,
        new_stored_where="DSL's locked cabinet",
        police_officer="PC 123 Smith",
        police_reference="KP/24/001",
        police_at=_minutes_ago(10).strftime(FORMAT),
    )
    response = client.post(add_url(incident), data)
    assert response.status_code == 302
    search = Search.objects.get()
    confiscation = search.confiscation
    assert search.outcome == Search.Outcome.POLICE
    assert confiscation.status == Confiscation.Status.WITH_POLICE
    assert (confiscation.police_officer, confiscation.police_reference) == (
        "PC 123 Smith",
        "KP/24/001",
    )
    kinds = [e.kind for e in confiscation.custody_events.order_by("at", "pk")]
    assert kinds == [CustodyEvent.Kind.TAKEN, CustodyEvent.Kind.POLICE]
    # the search's page shows the chain of custody
    page = _page(client.get(search.get_absolute_url()))
    assert page.count('data-testid="custody-event"') == 2
    assert "Handed to PC 123 Smith, reference KP/24/001" in page
    # and the incident's guard on closing is met
    incident.refresh_from_db()
    services.incident_escalate(incident=incident, by=dsl, suspected_illegal=True)
    incident.refresh_from_db()
    assert not any("hand-over" in b for b in services.close_blockers(incident))


def test_an_earlier_confiscation_is_handed_to_the_police_with_the_search(
    client, dsl, community, incident
):
    earlier = held_confiscation(community)
    client.force_login(dsl)
    data = form_data(
        community,
        dsl,
        outcome="police",
        custody="existing",
        confiscation=earlier.pk,
        police_officer="PC 123 Smith",
        police_reference="KP/24/001",
        police_at=_minutes_ago(10).strftime(FORMAT),
    )
    assert client.post(add_url(incident), data).status_code == 302
    earlier.refresh_from_db()
    assert earlier.status == Confiscation.Status.WITH_POLICE
    assert Search.objects.get().confiscation == earlier


def test_an_earlier_confiscation_is_returned_with_the_search(client, dsl, community, incident):
    earlier = held_confiscation(community)
    client.force_login(dsl)
    data = form_data(
        community, dsl, custody="existing", confiscation=earlier.pk, returned_to="Hana Khan"
    )
    assert client.post(add_url(incident), data).status_code == 302
    earlier.refresh_from_db()
    assert (earlier.status, earlier.returned_to) == (Confiscation.Status.RETURNED, "Hana Khan")


def test_an_earlier_confiscation_is_linked_when_the_device_stays(client, dsl, community, incident):
    earlier = held_confiscation(community)
    client.force_login(dsl)
    data = form_data(
        community, dsl, outcome="retained", custody="existing", confiscation=earlier.pk
    )
    assert client.post(add_url(incident), data).status_code == 302
    earlier.refresh_from_db()
    assert earlier.status == Confiscation.Status.HELD
    assert Search.objects.get().confiscation == earlier


def test_a_refused_search_leaves_no_confiscation_or_hand_over_behind(
    client, dsl, community, incident
):
    earlier = held_confiscation(community)
    client.force_login(dsl)
    base = {
        "second_staff": "",
        "no_second_reason": "",  # refused by search_record, after the custody steps
        "outcome": "police",
        "police_officer": "PC 123 Smith",
        "police_reference": "KP/24/001",
        "police_at": _minutes_ago(10).strftime(FORMAT),
    }
    new = form_data(
        community,
        dsl,
        custody="new",
        new_category=factories.DeviceCategoryFactory().pk,
        new_stored_where="DSL's locked cabinet",
        **base,
    )
    existing = form_data(community, dsl, custody="existing", confiscation=earlier.pk, **base)
    for data in (new, existing):
        response = client.post(add_url(incident), data)
        assert response.context["refused"] == (
            "Name the second member of staff present, or say why there was none."
        )
    assert list(Confiscation.objects.all()) == [earlier]
    earlier.refresh_from_db()
    assert earlier.status == Confiscation.Status.HELD
    assert [e.kind for e in earlier.custody_events.all()] == [CustodyEvent.Kind.TAKEN]
    assert not Search.objects.exists()


def test_a_device_already_returned_cannot_go_to_the_police(client, dsl, community, incident):
    earlier = held_confiscation(community)
    device_services.confiscation_return(confiscation=earlier, returned_to="Hana Khan", by=dsl)
    client.force_login(dsl)
    data = form_data(
        community,
        dsl,
        outcome="police",
        custody="existing",
        confiscation=earlier.pk,
    )
    response = client.post(add_url(incident), data)
    # a returned device is not handed over now: search_record says what is missing
    assert "hand-over to the police" in response.context["refused"]
    assert not Search.objects.exists()


def test_another_learners_confiscation_is_refused(client, dsl, community, incident):
    sibling = factories.LearnerFactory(form_class=community["my_class"])
    services.person_add(
        incident=incident,
        person=services.Person(part=Involvement.Part.WITNESS, learner=sibling),
        by=dsl,
    )
    theirs = device_services.confiscation_record(
        learner=sibling,
        category=factories.DeviceCategoryFactory(),
        description="Blue tablet",
        reason="Used in class",
        stored_where="Office safe",
        taken_by=community["staff"],
        by=dsl,
    )
    client.force_login(dsl)
    data = form_data(community, dsl, outcome="retained", custody="existing", confiscation=theirs.pk)
    response = client.post(add_url(incident), data)
    assert response.context["refused"] == "That device was taken from another learner."


# Parents told -----------------------------------------------------------------------------


def test_parents_told_at_once(client, dsl, community, incident):
    client.force_login(dsl)
    told = _minutes_ago(5)
    data = form_data(community, dsl, parents_told="on", parents_told_at=told.strftime(FORMAT))
    assert client.post(add_url(incident), data).status_code == 302
    search = Search.objects.get()
    assert search.parents_told_at == told
    assert search.parents_told_by == dsl


def test_parents_told_later_on_the_search_page(client, dsl, community, incident):
    search = record_search(incident, community, dsl)
    client.force_login(dsl)
    page = _page(client.get(search.get_absolute_url()))
    assert "Not yet recorded." in page
    url = reverse("incidents:search_parents_told", args=[search.pk])
    told = _minutes_ago(1)
    response = client.post(url, {"told_at": told.strftime(FORMAT)})
    assert response.status_code == 302
    search.refresh_from_db()
    assert (search.parents_told_at, search.parents_told_by) == (told, dsl)
    # once told, the form is gone, and a second telling is refused with the reason
    assert "Record that they were told" not in _page(client.get(search.get_absolute_url()))
    response = client.post(url, {"told_at": told.strftime(FORMAT)})
    assert response.status_code == 200
    assert response.context["refused"] == "Parents have already been recorded as told."


def test_parents_told_before_the_search_is_refused_and_kept(client, dsl, community, incident):
    search = record_search(incident, community, dsl)
    client.force_login(dsl)
    url = reverse("incidents:search_parents_told", args=[search.pk])
    early = _minutes_ago(120).strftime(FORMAT)
    response = client.post(url, {"told_at": early})
    assert response.status_code == 200
    assert response.context["refused"] == "Parents are told after the search."
    assert f'value="{early}"' in response.content.decode()
    search.refresh_from_db()
    assert search.parents_told_at is None


def test_parents_told_is_post_only(client, dsl, community, incident):
    search = record_search(incident, community, dsl)
    client.force_login(dsl)
    url = reverse("incidents:search_parents_told", args=[search.pk])
    assert client.get(url).status_code == 405


# Every opening is logged ------------------------------------------------------------------


def test_every_opening_of_a_search_is_logged(client, users, community, incident):
    search = record_search(incident, community, users["dsl"])
    for role in ("dsl", "deputy_dsl"):
        client.force_login(users[role])
        assert client.get(search.get_absolute_url()).status_code == 200
    client.force_login(users["staff"])
    assert client.get(search.get_absolute_url()).status_code == 403
    logged = RecordAccess.objects.filter(
        content_type__model="search", object_id=str(search.pk)
    ).order_by("at", "pk")
    assert [(a.user, a.action) for a in logged] == [
        (users["dsl"], RecordAccess.Action.VIEW),
        (users["deputy_dsl"], RecordAccess.Action.VIEW),
    ]


# The pages at each role --------------------------------------------------------------------

#             outsider governor staff office deputy head(+deputy) dsl
EXPECTED = {
    "list": (403, 403, 403, 403, 200, 200, 200),
    "add": (403, 403, 403, 403, 200, 200, 200),
    "detail": (403, 403, 403, 403, 200, 200, 200),
}
ROLES = ("outsider", "governor", "staff", "office", "deputy_dsl", "headteacher", "dsl")


def test_pages_at_each_role(client, users, community, incident):
    search = record_search(incident, community, users["dsl"])
    urls = {
        "list": reverse("incidents:search_list"),
        "add": add_url(incident),
        "detail": search.get_absolute_url(),
    }
    client.logout()
    for url in urls.values():
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    for page, url in urls.items():
        for role, expected in zip(ROLES, EXPECTED[page], strict=True):
            client.force_login(users[role])
            assert client.get(url).status_code == expected, (page, role)


@pytest.fixture
def head_only(db):
    """A headteacher who is not also a deputy DSL: handles matters involving staff."""
    user = factories.UserFactory(username="head-only", roles=[Role.HEADTEACHER])
    factories.StaffMemberFactory(user=user)
    return user


def test_a_headteacher_who_is_not_a_deputy_sees_searches_on_staff_matters_only(
    client, dsl, head_only, community, incident
):
    on_learner = record_search(incident, community, dsl)
    staff_matter = services.incident_triage(
        incident=report(community, staff=community["staff"]), by=dsl
    )
    on_staff = record_search(staff_matter, community, dsl)
    client.force_login(head_only)
    listed = client.get(reverse("incidents:search_list")).context["object_list"]
    assert list(listed) == [on_staff]
    assert client.get(on_learner.get_absolute_url()).status_code == 404
    assert client.get(on_staff.get_absolute_url()).status_code == 200
    assert client.get(add_url(incident)).status_code == 404
    assert client.get(add_url(staff_matter)).status_code == 200
    # and may lead a search recorded by the DSL
    client.force_login(dsl)
    data = form_data(community, dsl, led_by=head_only.pk)
    assert client.post(add_url(incident), data).status_code == 302


def test_the_reporter_of_the_incident_does_not_see_its_searches(client, community, incident, dsl):
    search = record_search(incident, community, dsl)
    client.force_login(community["staff"].user)
    assert client.get(search.get_absolute_url()).status_code == 403
    assert client.get(add_url(incident)).status_code == 403


# The list ----------------------------------------------------------------------------------


def test_the_list_filters(client, dsl, community, incident):
    nothing = record_search(incident, community, dsl)
    found = record_search(
        incident,
        community,
        dsl,
        found="Photos of pupils",
        searched_at=timezone.now() - datetime.timedelta(minutes=20),
        parents_told_at=timezone.now() - datetime.timedelta(minutes=10),
    )
    client.force_login(dsl)
    url = reverse("incidents:search_list")

    def listed(**query):
        return list(client.get(url, query).context["object_list"])

    assert listed() == [found, nothing]
    assert listed(found="true") == [found]
    assert listed(found="false") == [nothing]
    assert listed(parents_told="false") == [nothing]
    assert listed(parents_told="true") == [found]
    assert listed(q="Amira") == [found, nothing]
    assert listed(q="Zed") == []
    assert listed(reference=incident.reference[-4:]) == [found, nothing]
    assert listed(outcome="police") == []


# Every page: the session, the user, the user's roles; the layout's school and policy
# version; and the session saved again (idle timeout slides): savepoint, update, release.
_EVERY_PAGE = 3 + 2 + 3


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def test_the_list_runs_a_fixed_number_of_queries(client, dsl, community, incident):
    client.force_login(dsl)
    url = reverse("incidents:search_list")
    for _ in range(5):
        record_search(incident, community, dsl)
    small = _count(client, url)
    for _ in range(40):  # more than a page
        record_search(incident, community, dsl)
    large = _count(client, url)
    # the count, and the page of rows with incident, learner, class and lead joined
    assert small == large == _EVERY_PAGE + 2
