"""Pre-existing relationship declarations (policy section 5).

A member of staff declares, re-confirms and may end their own declarations; the DSL,
deputies and the headteacher see every declaration; the DSL or the headteacher records the
discussion. Governors and the office see none. Every open of a declaration is logged.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from compliance import access, services
from compliance import relationship_services as rel
from compliance.concurrency import StaleEdit
from compliance.dashboard import Panel, register_panel
from compliance.forms_relationships import (
    DeclarationFilter,
    DeclarationForm,
    DiscussionForm,
    EndForm,
)
from compliance.models import PolicyReview, RelationshipDeclaration, StaffMember
from compliance.policy import PolicyRule
from compliance.transitions import Refused
from compliance.views.base import RecordListView, conflict_response

RELATIONSHIP_RULE = PolicyRule(
    "5",
    "Staff use of mobile and smart technology",
    "Members of staff are not permitted to use their own personal phones or devices for "
    "contacting learners or parents and carers. Any pre-existing relationships or "
    "circumstances, which could compromise staff's ability to comply with this, will be "
    "discussed with the DSL and headteacher.",
)

Status = RelationshipDeclaration.Status


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _fetch(user, pk: int, *, log: bool = False) -> RelationshipDeclaration:
    qs = RelationshipDeclaration.objects.select_related(
        "staff",
        "discussed_with_dsl",
        "discussed_with_head",
        "discussion_recorded_by",
        "ended_by",
    )
    declaration = access.get_for_view(user, RelationshipDeclaration, pk, qs)
    if log:
        services.record_access_log(user=user, record=declaration)
    return declaration


def declare(request):
    _require(rel.may_declare(request.user), "Members of staff declare their own relationships.")
    form = DeclarationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            declaration = rel.declaration_create(by=request.user, **form.cleaned_data)
        except Refused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(
                request,
                f"Thank you: declaration {declaration.reference} is with the DSL and the "
                "headteacher, who will arrange to discuss it with you.",
            )
            return redirect("compliance:relationship_mine")
    context = {
        "form": form,
        "title": "Declare a pre-existing relationship",
        "policy_rule": RELATIONSHIP_RULE,
        "cancel_url": reverse("compliance:relationship_mine"),
    }
    return render(request, "compliance/record_form.html", context)


def mine(request):
    user = request.user
    _require(rel.may_declare(user), "Members of staff declare their own relationships.")
    since = rel.last_review_at()
    declarations = list(
        RelationshipDeclaration.objects.filter(staff__user=user).select_related("staff")
    )
    for declaration in declarations:
        declaration.reconfirm = (
            since is not None
            and declaration.status != Status.ENDED
            and declaration.confirmed_at < since
        )
    context = {
        "declarations": declarations,
        "has_staff_record": rel.own_staff(user) is not None,
        "policy_rule": RELATIONSHIP_RULE,
    }
    return render(request, "compliance/relationship_mine.html", context)


class DeclarationList(RecordListView):
    """Every declaration, for the DSL, deputies and the headteacher."""

    model = RelationshipDeclaration
    filterset_class = DeclarationFilter
    select_related = ("staff",)
    template_name = "compliance/relationship_list.html"

    def dispatch(self, request, *args, **kwargs):
        _require(rel.may_read_all(request.user), "The DSL, deputies and the headteacher see these.")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_add"] = False
        context["policy_rule"] = RELATIONSHIP_RULE
        return context


def detail(request, pk: int):
    user = request.user
    declaration = _fetch(user, pk, log=True)
    own = declaration.staff.user_id == user.pk
    open_ = declaration.status != Status.ENDED
    context = {
        "declaration": declaration,
        "policy_rule": RELATIONSHIP_RULE,
        "own": own,
        "reconfirm": rel.needs_reconfirming(declaration),
        "may_discuss": open_ and not own and rel.may_record_discussion(user),
        "may_confirm": open_ and own,
        "may_end": open_ and (own or rel.may_record_discussion(user)),
        "end_form": EndForm(),
        "may_view_history": access.may_view_history(user, declaration),
        "learners": declaration.learners.all() if rel.may_read_all(user) else (),
        "parents": declaration.parents.all() if rel.may_read_all(user) else (),
    }
    return render(request, "compliance/relationship_detail.html", context)


def discuss(request, pk: int):
    user = request.user
    _require(rel.may_record_discussion(user), "The DSL or the headteacher records the discussion.")
    declaration = _fetch(user, pk)
    if declaration.staff.user_id == user.pk:
        raise PermissionDenied("Someone other than the person who declared it records this.")
    if declaration.status == Status.ENDED:
        raise Http404("This declaration no longer applies.")
    initial = {}
    if declaration.status == Status.DISCUSSED:
        initial = {
            "discussed_with_dsl": declaration.discussed_with_dsl_id,
            "discussed_with_head": declaration.discussed_with_head_id,
            "outcome": declaration.outcome,
            "arrangements": declaration.arrangements,
            "learners": list(declaration.learners.values_list("pk", flat=True)),
            "parents": list(declaration.parents.values_list("pk", flat=True)),
        }
    form = DiscussionForm(request.POST or None, declaration=declaration, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        expected = data.pop("version")
        try:
            rel.declaration_discuss(
                declaration=declaration, by=user, expected_version=expected, **data
            )
        except StaleEdit as stale:
            return conflict_response(request, form, stale.current)
        except Refused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"Discussion of {declaration.reference} recorded.")
            return redirect(declaration)
    context = {
        "form": form,
        "title": f"Record the discussion of {declaration.reference}",
        "policy_rule": RELATIONSHIP_RULE,
        "cancel_url": declaration.get_absolute_url(),
        "declaration": declaration,
    }
    return render(request, "compliance/relationship_discuss.html", context)


@require_POST
def confirm(request, pk: int):
    declaration = _fetch(request.user, pk)
    try:
        rel.declaration_confirm(declaration=declaration, by=request.user)
    except Refused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(
            request, f"Thank you: you confirmed {declaration.reference} still applies."
        )
    return redirect(declaration)


@require_POST
def end(request, pk: int):
    declaration = _fetch(request.user, pk)
    form = EndForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the declaration no longer applies.")
        return redirect(declaration)
    try:
        rel.declaration_end(
            declaration=declaration, by=request.user, reason=form.cleaned_data["reason"]
        )
    except Refused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"{declaration.reference} no longer applies.")
    return redirect(declaration)


# Dashboard: the queue for the DSL and the head; a nudge for the staff member


def _panel_context(request) -> dict:
    """Two queries: when the policy was last reviewed; then both counts at once."""
    user = request.user
    since = rel.last_review_at()
    mine_to_confirm = Q(staff__user=user) & ~Q(status=Status.ENDED)
    mine_to_confirm &= Q(confirmed_at__lt=since) if since else Q(confirmed_at__isnull=True)
    counts = RelationshipDeclaration.objects.aggregate(
        mine_to_confirm=Count("pk", filter=mine_to_confirm),
        awaiting=Count("pk", filter=Q(status=Status.DECLARED)),
    )
    return {
        "mine_to_confirm": counts["mine_to_confirm"],
        "awaiting": counts["awaiting"] if rel.may_read_all(user) else None,
    }


def register() -> None:
    """Panel, history page, subject access section and demo records (from review.register)."""
    from compliance import demo_relationships, subject_access
    from compliance.demo import register_demo_seeder
    from compliance.history import register_history_kind

    register_panel(
        Panel(
            key="relationships",
            title="Pre-existing relationships",
            template="compliance/panels/relationships.html",
            visible=rel.may_declare,
            context=_panel_context,
            reads=(RelationshipDeclaration, PolicyReview, StaffMember),
            order=6,
        )
    )

    def fetch(user, pk):
        declaration = _fetch(user, pk)
        # the history names who recorded and discussed it: the DSL and the headteacher
        _require(access.may_view_history(user, declaration), "Only the DSL and head see this.")
        return declaration

    register_history_kind("relationship", RelationshipDeclaration, fetch)
    subject_access.register_section(
        subject_access.SubjectSection(
            "relationships",
            "Pre-existing relationships declared",
            {subject_access.PersonKind.STAFF},
            rel.subject_access_rows,
            order=30,
        )
    )
    register_demo_seeder("compliance_relationships", demo_relationships.seed, order=6)


urlpatterns = [
    path("relationships/", DeclarationList.as_view(), name="relationship_list"),
    path("relationships/mine/", mine, name="relationship_mine"),
    path("relationships/declare/", declare, name="relationship_declare"),
    path("relationships/<int:pk>/", detail, name="relationship_detail"),
    path("relationships/<int:pk>/discuss/", discuss, name="relationship_discuss"),
    path("relationships/<int:pk>/confirm/", confirm, name="relationship_confirm"),
    path("relationships/<int:pk>/end/", end, name="relationship_end"),
]
