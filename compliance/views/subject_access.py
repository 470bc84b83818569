"""Subject access: the DSL finds a person and downloads everything held on them."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from compliance import access
from compliance.policy import RULES as POLICY_RULES
from compliance.subject_access import (
    PERSON_MODELS,
    PersonKind,
    may_export,
    people_matching,
    subject_access_export,
)

PAGE_SIZE = 25


def _require_dsl(user) -> None:
    if not may_export(user):
        raise PermissionDenied("Only the DSL exports everything held on a person.")


class PersonSearchForm(forms.Form):
    kind = forms.ChoiceField(choices=PersonKind.choices, label="Kind of person")
    q = forms.CharField(required=False, max_length=100, label="Name")


def _details(kind: str, person) -> str:
    """A line that tells two people of the same name apart."""
    if kind == PersonKind.LEARNER:
        parts = [person.get_year_group_display(), f"born {person.date_of_birth:%d/%m/%Y}"]
        if person.form_class:
            parts.insert(1, f"class {person.form_class}")
        if person.left:
            parts.append(f"left {person.left:%d/%m/%Y}")
        return ", ".join(parts)
    if kind == PersonKind.PARENT:
        children = ", ".join(learner.full_name for learner in person.learners.all())
        relationship = person.get_relationship_display()
        return f"{relationship} of {children}" if children else relationship
    if kind == PersonKind.STAFF:
        parts = [person.job_title or person.get_staff_type_display()]
        if person.user:
            parts.append(f"login {person.user.username}")
        if not person.active:
            parts.append("no longer active")
        return ", ".join(parts)
    return ", ".join(filter(None, [person.get_visitor_type_display(), person.organisation]))


@require_GET
def subject_access_choose(request):
    _require_dsl(request.user)
    data = request.GET.copy()
    data.setdefault("kind", PersonKind.LEARNER)
    form = PersonSearchForm(data)
    page = None
    rows = []
    if form.is_valid():
        kind = form.cleaned_data["kind"]
        people = people_matching(kind=kind, text=form.cleaned_data["q"])
        page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
        rows = [
            {
                "name": person.full_name,
                "details": _details(kind, person),
                "export_url": reverse("compliance:subject_access_export", args=[kind, person.pk]),
            }
            for person in page
        ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "compliance/subject_access.html",
        {
            "form": form,
            "page_obj": page,
            "rows": rows,
            "query_string": query.urlencode(),
            "policy_rule": POLICY_RULES["confidentiality"],
        },
    )


@require_POST
def subject_access_export_view(request, kind: str, pk: int):
    _require_dsl(request.user)
    model = PERSON_MODELS.get(kind)
    if model is None:
        raise Http404("No such kind of person.")
    person = access.get_for_view(request.user, model, pk)
    filename, content = subject_access_export(person=person, by=request.user)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("subject-access/", subject_access_choose, name="subject_access_choose"),
    path(
        "subject-access/<slug:kind>/<int:pk>/export/",
        subject_access_export_view,
        name="subject_access_export",
    ),
]
