"""The compliance app's own dashboard panels."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse

from compliance import access
from compliance.dashboard import Panel, register_panel
from compliance.models import (
    Acknowledgement,
    FormClass,
    Learner,
    ParentCarer,
    PolicyVersion,
    School,
    StaffMember,
    User,
    Visit,
    Visitor,
)
from compliance.roles import Role
from compliance.selectors import acknowledgement_threshold, key_contacts, request_school

_COMMUNITY_LINKS = [
    (StaffMember, "Staff", "compliance:staff_list"),
    (FormClass, "Classes", "compliance:class_list"),
    (Learner, "Learners", "compliance:learner_list"),
    (ParentCarer, "Parents and carers", "compliance:parent_list"),
    (Visitor, "Visitors", "compliance:visitor_list"),
    (Visit, "Visits", "compliance:visit_list"),
]


def _community_context(request) -> dict:
    user = request.user
    links = [
        {"label": label, "url": reverse(url)}
        for model, label, url in _COMMUNITY_LINKS
        if access.may_view_kind(user, model)
    ]
    tools = []
    if access.may_edit_kind(user, School):
        tools.append({"label": "School details", "url": reverse("compliance:school")})
    if access.may_import(user):
        tools.append({"label": "Import from the MIS", "url": reverse("compliance:import")})
    if access.may_view_audit(user):
        tools.append({"label": "Audit history", "url": reverse("compliance:audit")})
        tools.append({"label": "Who opened which record", "url": reverse("compliance:access_log")})
    if access.may_export_subject_access(user):
        tools.append(
            {"label": "Subject access export", "url": reverse("compliance:subject_access_choose")}
        )
    return {"links": links, "tools": tools}


def _my_classes_context(request) -> dict:
    classes = (
        access.visible(request.user, FormClass)
        .annotate(on_roll=Count("learners", filter=Q(learners__left__isnull=True)))
        .order_by("year_group", "name")
    )
    return {"classes": classes}


def acknowledgement_items(staff: StaffMember | None) -> list[dict]:
    """For each kind: the staff member's latest acknowledgement and whether one is due.

    The policy asks again only after a version marked as a material change (an
    acknowledgement of that version or a later one counts); the acceptable use policy is
    not versioned here, so any acknowledgement of it counts. Two queries.
    """
    latest: dict[str, Acknowledgement] = {}
    in_force = False
    threshold = acknowledgement_threshold()
    if staff is not None:
        acks = Acknowledgement.objects.filter(staff=staff).select_related("policy_version")
        for ack in acks.order_by("acknowledged_at", "pk"):
            latest[ack.kind] = ack
            if (
                ack.kind == Acknowledgement.Kind.POLICY
                and threshold is not None
                and ack.policy_version is not None
                and ack.policy_version.date_written >= threshold.date_written
            ):
                in_force = True
    items = []
    for kind in Acknowledgement.Kind:
        ack = latest.get(kind.value)
        if kind == Acknowledgement.Kind.POLICY:
            due = threshold is not None and not in_force
        else:
            due = ack is None
        # "a new version": acknowledged before, asked again after a material change
        items.append({"kind": kind, "ack": ack, "due": due, "again": due and ack is not None})
    return items


def _acknowledgements_context(request) -> dict:
    staff = StaffMember.objects.filter(user=request.user).first()
    return {"staff": staff, "items": acknowledgement_items(staff) if staff else []}


def _key_contacts_context(request) -> dict:
    return {"contacts": key_contacts(request_school(request))}


def register() -> None:
    register_panel(
        Panel(
            key="policy_review",
            title="The policy",
            template="compliance/panels/policy_review.html",
            visible=access.has_any_role,
            order=1,
        )
    )
    register_panel(
        Panel(
            key="my_classes",
            title="My classes",
            template="compliance/panels/my_classes.html",
            visible=lambda user: access.has_role(user, Role.STAFF),
            context=_my_classes_context,
            order=20,
        )
    )
    register_panel(
        Panel(
            key="community",
            title="School community",
            template="compliance/panels/community.html",
            visible=lambda user: (
                access.may_view_kind(user, Learner) or access.may_view_kind(user, Visitor)
            ),
            context=_community_context,
            order=30,
        )
    )
    register_panel(
        Panel(
            key="acknowledgements",
            title="Your acknowledgements",
            template="compliance/panels/acknowledgements.html",
            visible=access.has_any_role,
            context=_acknowledgements_context,
            reads=(Acknowledgement, PolicyVersion, StaffMember),
            order=5,
        )
    )
    register_panel(
        Panel(
            key="key_contacts",
            title="Key contacts",
            template="compliance/panels/key_contacts.html",
            visible=access.has_any_role,
            context=_key_contacts_context,
            reads=(School, StaffMember, User),
            order=90,
        )
    )
