"""Devices' records with a history page (compliance renders it, with field differences)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from compliance.access import has_role
from compliance.history import register_history_kind
from compliance.roles import Role
from devices import access
from devices.models import CallHome, Confiscation, Exemption, SchoolDevice, VisitorDeviceAgreement


def _device(user, pk):
    try:
        return access.school_devices_for(user).get(pk=pk)
    except (SchoolDevice.DoesNotExist, ValueError, TypeError):
        raise Http404("No such device.") from None


def _confiscation(user, pk) -> Confiscation:
    confiscation = access.get_confiscation(user, pk)
    if not access.may_move_custody(user) and not has_role(user, Role.DSL):
        raise PermissionDenied("The history of custody is for the office and the DSL team.")
    return confiscation


def _call_home(user, pk) -> CallHome:
    try:
        return access.calls_for(user).get(pk=pk)
    except (CallHome.DoesNotExist, ValueError, TypeError):
        raise Http404("No such call.") from None


def _visit_agreement(user, pk) -> VisitorDeviceAgreement:
    if not access.may_use_desk(user):
        raise PermissionDenied("The reception records are for the office and the senior team.")
    try:
        return VisitorDeviceAgreement.objects.get(pk=pk)
    except (VisitorDeviceAgreement.DoesNotExist, ValueError, TypeError):
        raise Http404("No such agreement.") from None


def register() -> None:
    register_history_kind("device", SchoolDevice, _device)
    register_history_kind("exemption", Exemption, access.get_exemption)
    register_history_kind("confiscation", Confiscation, _confiscation)
    register_history_kind("callhome", CallHome, _call_home)
    register_history_kind("visitoragreement", VisitorDeviceAgreement, _visit_agreement)
