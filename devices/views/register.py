"""The school device register (policy section 4) and the device categories (section 1).

The office, the DSL and the headteacher keep the register (`devices.access`). A device's
details are edited with the versioned pattern (a stale save shows both versions); its
status and holder change only through the POST-only actions, each a transition function
in `devices.services` whose refusal comes back to the page with the reason.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import CreateView, ListView

from compliance.access import has_role
from compliance.dashboard import Panel, register_panel
from compliance.models import Acknowledgement, StaffMember
from compliance.policy import RULES as POLICY_RULES
from compliance.policy import PolicyRule
from compliance.roles import Role
from compliance.transitions import Refused
from compliance.views.base import PolicyRuleMixin, RecordUpdateView, SavedMessageMixin
from devices import access, services
from devices.forms_register import DeviceFilter, IssueForm, LostForm, SchoolDeviceForm
from devices.models import DeviceCategory, DeviceLoan, SchoolDevice

# Section 1's list of the devices the policy covers, quoted on the categories page.
SCOPE_DEVICES = PolicyRule(
    "1",
    "Policy aims and scope",
    "This includes mobile phones and personal devices such as tablets, e-readers, games "
    "consoles and wearable technology, such as smart watches and fitness trackers, which "
    "facilitate communication or have the capability to record sound or images.",
)

# Everyone who works with devices or learners sees what each kind of device can do.
_CATEGORY_READERS = (Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER, Role.OFFICE, Role.STAFF)


class FilteredListView(PolicyRuleMixin, ListView):
    """A filtered, searchable, paginated list of the records `records()` gives this user.

    The devices app's counterpart of `compliance.views.base.RecordListView`, whose access
    questions are about the community's kinds of record.
    """

    filterset_class: type | None = None
    paginate_by = 25

    def records(self) -> QuerySet:
        raise NotImplementedError

    def may_add(self) -> bool:
        return False

    def get_queryset(self) -> QuerySet:
        self.filterset = self.filterset_class(
            self.request.GET or None, queryset=self.records(), request=self.request
        )
        return self.filterset.qs.order_by(*self.model._meta.ordering)

    def paginate_queryset(self, queryset, page_size):
        # a page number out of range or not a number shows the nearest page, not a 404
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get("page"))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        context["may_add"] = self.may_add()
        query = self.request.GET.copy()
        query.pop("page", None)
        context["query_string"] = query.urlencode()
        return context


def get_device(user, pk) -> SchoolDevice:
    """The device, for someone who keeps the register (403 for anyone else, 404 if none)."""
    devices = access.school_devices_for(user).select_related("category", "holder")
    try:
        return devices.get(pk=pk)
    except (SchoolDevice.DoesNotExist, ValueError, TypeError):
        raise Http404("No such device.") from None


# Categories (section 1) ---------------------------------------------------------------


@require_GET
def category_list(request: HttpRequest) -> HttpResponse:
    if not has_role(request.user, *_CATEGORY_READERS):
        raise PermissionDenied("Your role does not use the device categories.")
    return render(
        request,
        "devices/category_list.html",
        {"categories": DeviceCategory.objects.order_by("name"), "policy_rule": SCOPE_DEVICES},
    )


# The register (section 4) -------------------------------------------------------------


class DeviceList(FilteredListView):
    model = SchoolDevice
    filterset_class = DeviceFilter
    template_name = "devices/device_list.html"
    policy_rule = "school_devices"

    def records(self) -> QuerySet:
        return access.school_devices_for(self.request.user).select_related("category", "holder")

    def may_add(self) -> bool:
        return access.may_manage_school_devices(self.request.user)


class DeviceCreate(PolicyRuleMixin, SavedMessageMixin, CreateView):
    model = SchoolDevice
    form_class = SchoolDeviceForm
    template_name = "compliance/record_form.html"
    policy_rule = "school_devices"

    def dispatch(self, request, *args, **kwargs):
        access.school_devices_for(request.user)  # 403 unless they keep the register
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = "Add a school device"
        context["cancel_url"] = reverse("devices:device_list")
        return context


class DeviceUpdate(RecordUpdateView):
    """The device's details; a save based on a stale copy shows both versions (409)."""

    model = SchoolDevice
    form_class = SchoolDeviceForm
    policy_rule = "school_devices"

    def get_object(self, queryset=None) -> SchoolDevice:
        return get_device(self.request.user, self.kwargs["pk"])


def _aup_acknowledged_at(staff: StaffMember | None):
    if staff is None:
        return None
    latest = (
        Acknowledgement.objects.filter(staff=staff, kind=Acknowledgement.Kind.AUP)
        .order_by("-acknowledged_at")
        .first()
    )
    return latest.acknowledged_at if latest else None


def _detail(
    request: HttpRequest,
    device: SchoolDevice,
    *,
    issue_form: IssueForm | None = None,
    lost_form: LostForm | None = None,
    refused: str = "",
    fix: dict | None = None,
) -> HttpResponse:
    """The device page; after a refused action, with the reason and what was typed.

    Only those who keep the register reach it (`get_device`). The steps the device's status
    allows are offered; a form just sent is shown again even if its step is no longer
    open (someone else got there first), so that what was typed is not lost.
    """
    Status = SchoolDevice.Status
    may_issue = device.status == Status.IN_STORE or issue_form is not None
    may_return = device.status == Status.ISSUED
    may_report_lost = device.status in (Status.IN_STORE, Status.ISSUED) or lost_form is not None
    loans = DeviceLoan.objects.filter(device=device).select_related(
        "staff", "issued_by", "returned_to"
    )
    return render(
        request,
        "devices/device_detail.html",
        {
            "object": device,
            "loans": loans,
            "holder_aup_at": _aup_acknowledged_at(device.holder),
            "may_issue": may_issue,
            "may_return": may_return,
            "may_report_lost": may_report_lost,
            "show_actions": may_issue or may_return or may_report_lost,
            "issue_form": issue_form or IssueForm(),
            "lost_form": lost_form or LostForm(),
            # the form just sent, if any (shown again with what was typed)
            "form": issue_form or lost_form,
            "refused": refused,
            "fix": fix,
            "policy_rule": POLICY_RULES["school_devices"],
        },
    )


@require_GET
def device_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, get_device(request.user, pk))


def _aup_fix(staff: StaffMember) -> dict | None:
    """How to put right a missing acceptable use acknowledgement (shown with the refusal)."""
    if services.has_acknowledged_aup(staff):
        return None
    return {"staff": staff, "has_login": staff.user_id is not None}


@require_POST
def device_issue(request: HttpRequest, pk: int) -> HttpResponse:
    device = get_device(request.user, pk)
    form = IssueForm(request.POST)
    if not form.is_valid():
        return _detail(request, device, issue_form=form, refused="Choose who to issue it to.")
    staff = form.cleaned_data["staff"]
    try:
        services.device_issue(device=device, staff=staff, by=request.user)
    except Refused as refused:
        return _detail(request, device, issue_form=form, refused=str(refused), fix=_aup_fix(staff))
    messages.success(request, f"Issued {device.asset_tag} to {staff}.")
    return redirect(device)


@require_POST
def device_return(request: HttpRequest, pk: int) -> HttpResponse:
    device = get_device(request.user, pk)
    try:
        services.device_return(device=device, by=request.user)
    except Refused as refused:
        return _detail(request, device, refused=str(refused))
    messages.success(request, f"{device.asset_tag} is back in store.")
    return redirect(device)


@require_POST
def device_report_lost(request: HttpRequest, pk: int) -> HttpResponse:
    device = get_device(request.user, pk)
    form = LostForm(request.POST)
    if not form.is_valid():
        return _detail(
            request,
            device,
            lost_form=form,
            refused="Say what happened: when and where it was last seen.",
        )
    try:
        services.device_report_lost(
            device=device, details=form.cleaned_data["details"], by=request.user
        )
    except Refused as refused:
        return _detail(request, device, lost_form=form, refused=str(refused))
    messages.success(request, f"{device.asset_tag} is recorded as lost or stolen.")
    return redirect(device)


urlpatterns = [
    path("categories/", category_list, name="category_list"),
    path("school-devices/", DeviceList.as_view(), name="device_list"),
    path("school-devices/add/", DeviceCreate.as_view(), name="device_add"),
    path("school-devices/<int:pk>/", device_detail, name="device_detail"),
    path("school-devices/<int:pk>/edit/", DeviceUpdate.as_view(), name="device_edit"),
    path("school-devices/<int:pk>/issue/", device_issue, name="device_issue"),
    path("school-devices/<int:pk>/return/", device_return, name="device_return"),
    path("school-devices/<int:pk>/lost/", device_report_lost, name="device_report_lost"),
]


# Dashboard ----------------------------------------------------------------------------


def _devices_panel_context(request: HttpRequest) -> dict:
    Status = SchoolDevice.Status
    # one query: a count per status
    counts = SchoolDevice.objects.aggregate(
        **{status.value: Count("pk", filter=Q(status=status)) for status in Status}
    )
    register = reverse("devices:device_list")
    return {
        "statuses": [
            {
                "label": status.label,
                "count": counts[status.value],
                "url": f"{register}?status={status.value}",
            }
            for status in Status
        ],
        "total": sum(counts.values()),
        "register_url": register,
        "add_url": reverse("devices:device_add"),
        "categories_url": reverse("devices:category_list"),
    }


def register_panels() -> None:
    """Dashboard panels of this area (called from DevicesConfig.ready)."""
    register_panel(
        Panel(
            key="school_devices",
            title="School devices",
            template="devices/panels/devices.html",
            visible=access.may_manage_school_devices,
            context=_devices_panel_context,
            reads=(SchoolDevice,),
            order=40,
        )
    )
