"""Who may do what with devices, registers, confiscations and exemptions.

It stands on `compliance.access` (roles, the Rule table, 403-versus-404) and adds the
rules of policy sections 4 to 7. Views call these before anything else.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from compliance.access import has_role
from compliance.models import FormClass, Learner, StaffMember
from compliance.roles import Role
from devices.models import Agreement, CallHome, Confiscation, Exemption, SchoolDevice

SENIOR = (Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER)
DESK = (*SENIOR, Role.OFFICE)


def staff_member_of(user) -> StaffMember | None:
    if not user.is_authenticated:
        return None
    cached = getattr(user, "_staff_member_cache", False)
    if cached is False:
        cached = StaffMember.objects.filter(user=user, active=True).first()
        user._staff_member_cache = cached
    return cached


# School devices (section 4): the office keeps the register; DSL and headteacher too.


def may_manage_school_devices(user) -> bool:
    return has_role(user, Role.OFFICE, Role.DSL, Role.HEADTEACHER)


def school_devices_for(user) -> QuerySet:
    if not may_manage_school_devices(user):
        raise PermissionDenied("The device register is kept by the office, the DSL and the head.")
    return SchoolDevice.objects.all()


# The daily hand-in register (section 6).


def register_classes_for(user) -> QuerySet:
    """Classes whose register this user may keep: their own; the whole school for the
    DSL, deputies and headteacher; the office sees every class (learners hand in at the
    office when the school chooses that)."""
    if has_role(user, *SENIOR, Role.OFFICE):
        return FormClass.objects.all()
    if has_role(user, Role.STAFF):
        staff = staff_member_of(user)
        if staff is None:
            return FormClass.objects.none()
        return FormClass.objects.filter(teachers=staff)
    raise PermissionDenied("Your role does not keep the hand-in register.")


def get_register_class(user, pk) -> FormClass:
    classes = register_classes_for(user)
    try:
        return classes.get(pk=pk)
    except (FormClass.DoesNotExist, ValueError, TypeError):
        raise Http404("No such class.") from None


def may_see_whole_school_register(user) -> bool:
    return has_role(user, *SENIOR, Role.OFFICE)


def may_see_uncollected(user) -> bool:
    """Uncollected devices at the end of the day: teacher (their class), office, DSL, head."""
    return has_role(user, *SENIOR, Role.OFFICE, Role.STAFF)


# Confiscations (section 6): any member of staff may take a device; custody moves are
# recorded by the DSL, deputies, headteacher and office (who keep the safe).


def may_record_confiscation(user) -> bool:
    return has_role(user, *SENIOR, Role.OFFICE, Role.STAFF)


def confiscations_for(user) -> QuerySet:
    if has_role(user, *SENIOR, Role.OFFICE):
        return Confiscation.objects.all()
    if has_role(user, Role.STAFF):
        staff = staff_member_of(user)
        return Confiscation.objects.filter(taken_by=staff) if staff else Confiscation.objects.none()
    raise PermissionDenied("Your role does not see confiscations.")


def may_move_custody(user) -> bool:
    return has_role(user, *SENIOR, Role.OFFICE)


def get_confiscation(user, pk) -> Confiscation:
    try:
        return confiscations_for(user).select_related("learner", "category", "taken_by").get(pk=pk)
    except (Confiscation.DoesNotExist, ValueError, TypeError):
        raise Http404("No such confiscation.") from None


# Exemptions (sections 5, 6, 7): the headteacher decides every one.


def may_decide_exemptions(user) -> bool:
    return has_role(user, Role.HEADTEACHER)


def may_request_exemption(user, kind: str) -> bool:
    if kind == Exemption.Kind.LEARNER_EXCEPTIONAL:
        return has_role(user, *SENIOR, Role.OFFICE, Role.STAFF)
    if kind in (Exemption.Kind.STAFF_TEACHING_TIME, Exemption.Kind.STAFF_REMOTE_LEARNING):
        return has_role(user, *SENIOR, Role.OFFICE, Role.STAFF)
    if kind == Exemption.Kind.VISITOR_WITH_LEARNERS:
        return has_role(user, *SENIOR, Role.OFFICE)
    return False


def may_record_signatures(user) -> bool:
    """Signatures are captured in person by the headteacher, the DSL team or the office."""
    return has_role(user, *SENIOR, Role.OFFICE)


def exemptions_for(user) -> QuerySet:
    """The DSL team and headteacher see all; the office sees visitors' and those it raised;
    staff see their own and those they raised."""
    if has_role(user, *SENIOR):
        return Exemption.objects.all()
    filters = Q(requested_by=user)
    if has_role(user, Role.OFFICE):
        filters |= Q(visitor__isnull=False)
    if has_role(user, Role.STAFF, Role.OFFICE):
        staff = staff_member_of(user)
        if staff is not None:
            filters |= Q(staff=staff)
        return Exemption.objects.filter(filters)
    raise PermissionDenied("Your role does not see exemptions.")


def get_exemption(user, pk) -> Exemption:
    try:
        return (
            exemptions_for(user)
            .select_related("learner", "learner__form_class", "staff", "visitor", "category")
            .get(pk=pk)
        )
    except (Exemption.DoesNotExist, ValueError, TypeError):
        raise Http404("No such exemption.") from None


def learners_for_requests(user) -> QuerySet:
    """Learners a user may raise an exemption for: their class; all for senior and office."""
    if has_role(user, *SENIOR, Role.OFFICE):
        return Learner.objects.filter(left__isnull=True)
    staff = staff_member_of(user)
    if staff is None:
        return Learner.objects.none()
    return Learner.objects.filter(form_class__teachers=staff, left__isnull=True)


# Reception (sections 6 and 7): the desk, who is on site, calls home.


def may_use_desk(user) -> bool:
    """The office keeps the desk; the DSL team and the headteacher may do what it does."""
    return has_role(user, *DESK)


def may_see_on_site(user) -> bool:
    """Who is on site, with the use each visitor agreed: any member of staff, to challenge
    a visitor (section 7)."""
    return has_role(user, *DESK, Role.STAFF)


def may_log_calls(user) -> bool:
    """The office takes and makes most calls; the DSL team, headteacher and teachers too."""
    return has_role(user, *DESK, Role.STAFF)


def may_see_calls(user) -> bool:
    """The log is for the office, the DSL team and the headteacher; a teacher sees the
    calls they logged."""
    return has_role(user, *DESK)


def calls_for(user) -> QuerySet:
    if may_see_calls(user):
        return CallHome.objects.all()
    if may_log_calls(user):
        return CallHome.objects.filter(recorded_by=user)
    raise PermissionDenied("Calls home are logged by the office and staff.")


def learners_for_calls(user) -> QuerySet:
    """Learners on roll a user may log a call for: every one for the desk; a teacher's
    own classes."""
    on_roll = Learner.objects.filter(left__isnull=True)
    if has_role(user, *DESK):
        return on_roll
    staff = staff_member_of(user)
    if staff is None:
        return Learner.objects.none()
    return on_roll.filter(form_class__teachers=staff)


# Agreements: an agreement follows its exemption, except at the desk.


def office_signs_at_the_desk(user, agreement: Agreement) -> bool:
    """Signatures are captured in person, and parents come to the office to sign: the office
    opens any agreement still awaiting signatures (not the exemption behind it)."""
    return has_role(user, Role.OFFICE) and agreement.status == Agreement.Status.AWAITING_SIGNATURES


def may_open_agreement(user, agreement: Agreement) -> bool:
    if agreement.exemption_id is None:  # a visitor's at reception
        return has_role(user, *DESK)
    return (
        office_signs_at_the_desk(user, agreement)
        or exemptions_for(user).filter(pk=agreement.exemption_id).exists()
    )
