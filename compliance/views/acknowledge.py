"""Staff acknowledge the policy and the acceptable use policy from their dashboard."""

from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from compliance import services
from compliance.models import Acknowledgement, StaffMember
from compliance.transitions import Refused


@require_POST
def acknowledge(request):
    staff = StaffMember.objects.filter(user=request.user).first()
    kind = request.POST.get("kind", "")
    if staff is None:
        messages.error(request, "Your login is not linked to a staff record; ask the DSL.")
    elif kind not in Acknowledgement.Kind.values:
        messages.error(request, "Choose what you are acknowledging.")
    else:
        try:
            services.acknowledgement_record(staff=staff, kind=kind, by=request.user)
        except Refused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(
                request, f"Thank you: you acknowledged the {Acknowledgement.Kind(kind).label}."
            )
    return redirect("dashboard")
