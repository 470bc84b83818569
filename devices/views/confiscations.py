"""Confiscation and custody (policy section 6): a device taken from a learner, and every move
of it until it is returned or handed to the police.

Any member of staff records what they took, for a learner in their classes; the office,
the DSL team and the headteacher see every confiscation and record custody; only the DSL
team and the headteacher hand a device to the police (`devices.services`). A confiscation
is about a child: every opening of one is logged.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from compliance import access as community_access
from compliance.access import has_role
from compliance.dashboard import Panel, register_panel
from compliance.models import Learner, StaffMember
from compliance.policy import RULES as POLICY_RULES
from compliance.policy import PolicyRule
from compliance.roles import SENIOR
from compliance.services import record_access_log
from compliance.transitions import Refused
from devices import access, services
from devices.forms_register import (
    ConfiscationFilter,
    ConfiscationForm,
    ConfiscationReturnForm,
    MoveForm,
    PoliceForm,
)
from devices.models import Confiscation, CustodyEvent
from devices.views.register import FilteredListView

POLICE_RULE = PolicyRule(
    "6",
    "Learners use of mobile and smart technology",
    "If there is suspicion that material on a learner's personal device or mobile phone may be "
    "illegal, or may provide evidence relating to a criminal offence, the device will be handed "
    "over to the police for further investigation.",
)


def may_hand_to_police(user) -> bool:
    """The rule `services.confiscation_hand_to_police` applies; here it only decides whether
    the page offers the form."""
    return has_role(user, *SENIOR)


class ConfiscationList(FilteredListView):
    model = Confiscation
    filterset_class = ConfiscationFilter
    template_name = "devices/confiscation_list.html"
    policy_rule = "learners"

    def records(self):
        return access.confiscations_for(self.request.user).select_related(
            "learner", "learner__form_class", "category", "taken_by"
        )

    def may_add(self) -> bool:
        return access.may_record_confiscation(self.request.user)


def _learners_for(user):
    """Learners on roll this user may record a confiscation for: their classes' for staff."""
    return (
        community_access.visible(user, Learner)
        .filter(left__isnull=True)
        .select_related("form_class")
        .order_by("last_name", "first_name", "pk")
    )


def _takers_for(user, own: StaffMember | None):
    """Who may be named as having taken it. A member of staff records only what they took
    (it is what they see afterwards); the custodians record for anyone."""
    if access.may_move_custody(user):
        return StaffMember.objects.filter(active=True)
    if own is None:
        return StaffMember.objects.none()
    return StaffMember.objects.filter(pk=own.pk)


def confiscation_add(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not access.may_record_confiscation(user):
        raise PermissionDenied("Your role does not record confiscations.")
    own = access.staff_member_of(user)
    form = ConfiscationForm(
        request.POST or None,
        learners=_learners_for(user),
        takers=_takers_for(user, own),
        taker=own,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            confiscation = services.confiscation_record(
                learner=data["learner"],
                category=data["category"],
                description=data["description"],
                reason=data["reason"],
                stored_where=data["stored_where"],
                taken_by=data["taken_by"],
                taken_at=data["taken_at"],
                by=user,
            )
        except Refused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"Recorded confiscation #{confiscation.pk}.")
            return redirect(confiscation)
    return render(
        request,
        "devices/confiscation_form.html",
        {
            "form": form,
            "title": "Record a confiscation",
            "no_staff_record": own is None and not access.may_move_custody(user),
            "policy_rule": POLICY_RULES["learners"],
            "cancel_url": reverse("devices:confiscation_list"),
        },
    )


def _detail(
    request: HttpRequest,
    confiscation: Confiscation,
    *,
    bound: Form | None = None,
    refused: str = "",
) -> HttpResponse:
    """The confiscation and its chain of custody; after a refused action, with the reason
    and what was typed. Every rendering is a read of a record about a child: logged."""
    user = request.user
    record_access_log(user=user, record=confiscation)

    def shown(form_class) -> Form:
        return bound if isinstance(bound, form_class) else form_class()

    held = confiscation.status == Confiscation.Status.HELD
    custodian = access.may_move_custody(user)
    events = CustodyEvent.objects.filter(confiscation=confiscation).select_related("by")
    return render(
        request,
        "devices/confiscation_detail.html",
        {
            "object": confiscation,
            "events": events.order_by("at", "pk"),
            "move_form": shown(MoveForm),
            "return_form": shown(ConfiscationReturnForm),
            "police_form": shown(PoliceForm),
            # the form just sent, if any (shown again with what was typed)
            "form": bound,
            # a form just sent is shown again even if its step is no longer open (the device
            # moved on meanwhile), so that what was typed is not lost
            "may_move": (held and custodian) or isinstance(bound, MoveForm),
            "may_return": (held and custodian) or isinstance(bound, ConfiscationReturnForm),
            "may_police": (held and may_hand_to_police(user)) or isinstance(bound, PoliceForm),
            # custodians see every learner; link to the child's record for them
            "may_open_learner": custodian,
            "custodian": custodian,
            "refused": refused,
            "policy_rule": POLICY_RULES["learners"],
            "police_rule": POLICE_RULE,
        },
    )


@require_GET
def confiscation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, access.get_confiscation(request.user, pk))


def _act(request: HttpRequest, pk: int, form_class, step, done: str) -> HttpResponse:
    """Run one custody step: the form, then the transition; a refusal comes back to the page."""
    confiscation = access.get_confiscation(request.user, pk)
    form = form_class(request.POST)
    if not form.is_valid():
        return _detail(
            request, confiscation, bound=form, refused="Nothing was recorded: check the form below."
        )
    try:
        step(confiscation, form.cleaned_data)
    except Refused as refused:
        return _detail(request, confiscation, bound=form, refused=str(refused))
    messages.success(request, done)
    return redirect(confiscation)


@require_POST
def confiscation_move(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        MoveForm,
        lambda c, data: services.confiscation_move(
            confiscation=c, stored_where=data["stored_where"], by=request.user
        ),
        "Recorded the move.",
    )


@require_POST
def confiscation_return(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        ConfiscationReturnForm,
        lambda c, data: services.confiscation_return(
            confiscation=c, returned_to=data["returned_to"], by=request.user
        ),
        "Recorded the return of the device.",
    )


@require_POST
def confiscation_police(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        PoliceForm,
        lambda c, data: services.confiscation_hand_to_police(
            confiscation=c,
            officer=data["officer"],
            reference=data["reference"],
            at=data["at"],
            by=request.user,
        ),
        "Recorded the hand-over to the police.",
    )


urlpatterns = [
    path("confiscations/", ConfiscationList.as_view(), name="confiscation_list"),
    path("confiscations/add/", confiscation_add, name="confiscation_add"),
    path("confiscations/<int:pk>/", confiscation_detail, name="confiscation_detail"),
    path("confiscations/<int:pk>/move/", confiscation_move, name="confiscation_move"),
    path("confiscations/<int:pk>/return/", confiscation_return, name="confiscation_return"),
    path("confiscations/<int:pk>/police/", confiscation_police, name="confiscation_police"),
]


# Dashboard ----------------------------------------------------------------------------


def _held_panel_context(request: HttpRequest) -> dict:
    user = request.user
    held = access.confiscations_for(user).filter(status=Confiscation.Status.HELD).count()
    listing = reverse("devices:confiscation_list")
    return {
        "held": held,
        "own_only": not access.may_move_custody(user),
        "held_url": f"{listing}?status={Confiscation.Status.HELD.value}",
        "list_url": listing,
        "add_url": reverse("devices:confiscation_add"),
        "categories_url": reverse("devices:category_list"),
    }


def register_panels() -> None:
    """Dashboard panels of this area (called from DevicesConfig.ready)."""
    register_panel(
        Panel(
            key="devices_held",
            title="Devices held",
            template="devices/panels/confiscations.html",
            visible=access.may_record_confiscation,
            context=_held_panel_context,
            reads=(Confiscation,),
            order=41,
        )
    )
