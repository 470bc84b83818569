"""Every change is kept with who made it; record pages link to it; the DSL sees it all."""

import datetime

import pytest
from django.apps import apps
from django.urls import reverse

from compliance.models import FormClass, Learner
from tests import factories

pytestmark = pytest.mark.django_db


def test_every_model_keeps_history():
    project_apps = {"compliance", "devices", "incidents"}
    missing = [
        model.__name__
        for model in apps.get_models()
        if model._meta.app_label in project_apps
        and not model.__name__.startswith("Historical")
        and not hasattr(model, "history")
        and not model._meta.auto_created
    ]
    assert not missing, f"models without HistoricalRecords: {missing}"


def test_a_change_through_a_form_names_the_user_and_the_field(client, office, dsl, community):
    learner = community["learner"]
    client.force_login(office)
    response = client.post(
        reverse("compliance:learner_edit", args=[learner.pk]),
        {
            "first_name": "Amira",
            "last_name": "Khan-Smith",
            "date_of_birth": "2018-05-17",
            "year_group": "3",
            "form_class": community["my_class"].pk,
            "mis_id": "",
            "joined": "2022-09-01",
            "left": "",
            "version": learner.version,
        },
    )
    assert response.status_code == 302
    latest = learner.history.latest()
    assert latest.history_user == office
    assert latest.history_type == "~"

    client.force_login(dsl)
    detail = client.get(learner.get_absolute_url()).content.decode()
    history_url = reverse("compliance:history", args=["learner", learner.pk])
    assert history_url in detail
    page = client.get(history_url).content.decode()
    assert "Olive Clerk" in page
    assert "Last name" in page
    assert "Khan-Smith" in page


def test_many_to_many_changes_are_in_history_with_names(client, dsl, community):
    form_class = community["my_class"]
    newcomer = factories.StaffMemberFactory(first_name="Nadia", last_name="Newcomer")
    client.force_login(dsl)
    client.post(
        reverse("compliance:class_edit", args=[form_class.pk]),
        {
            "name": form_class.name,
            "year_group": "3",
            "teachers": [newcomer.pk],
            "version": form_class.version,
        },
    )
    page = client.get(reverse("compliance:history", args=["class", form_class.pk])).content.decode()
    assert "Nadia Newcomer" in page
    assert "Tom Teacher" in page  # removed, shown as the old value


def test_history_of_a_login_is_for_the_dsl_only(client, dsl, headteacher, teacher):
    url = reverse("compliance:history", args=["user", teacher.pk])
    client.force_login(headteacher)
    assert client.get(url).status_code == 403
    client.force_login(dsl)
    assert client.get(url).status_code == 200


def test_history_of_unknown_kinds_and_records_is_404(client, dsl, community):
    client.force_login(dsl)
    assert client.get(reverse("compliance:history", args=["nothing", 1])).status_code == 404
    assert client.get(reverse("compliance:history", args=["learner", 999999])).status_code == 404


def test_the_audit_page_filters_by_person_kind_and_date(client, dsl, office, community):
    client.force_login(office)
    client.post(
        reverse("compliance:class_edit", args=[community["my_class"].pk]),
        {
            "name": "3A renamed",
            "year_group": "3",
            "teachers": [],
            "version": community["my_class"].version,
        },
    )
    client.force_login(dsl)
    url = reverse("compliance:audit")
    everything = client.get(url)
    total = everything.context["page_obj"].paginator.count
    assert total >= 10

    by_office = client.get(url, {"person": office.pk})
    rows = by_office.context["rows"]
    assert rows and all(row["who"] == office for row in rows)
    expected = FormClass.history.filter(history_user=office).count()
    assert by_office.context["page_obj"].paginator.count == expected

    learners_only = client.get(url, {"kind": "learner"})
    assert learners_only.context["page_obj"].paginator.count == Learner.history.count()

    tomorrow = datetime.date.today() + datetime.timedelta(days=2)
    future = client.get(url, {"date_from": tomorrow.isoformat()})
    assert future.context["page_obj"].paginator.count == 0

    bad = client.get(url, {"person": "x", "kind": "<b>", "date_from": "31/31/2020", "page": "z"})
    assert bad.status_code == 200
