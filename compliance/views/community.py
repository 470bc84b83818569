"""List, detail, create and edit pages for the school community."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q
from django.shortcuts import redirect, render
from django.urls import reverse

from compliance import access, filters, forms, services
from compliance.concurrency import StaleEdit, save_if_current
from compliance.models import (
    FormClass,
    Learner,
    ParentCarer,
    School,
    StaffMember,
    Visit,
    Visitor,
)
from compliance.params import key_from
from compliance.policy import RULES
from compliance.views.base import (
    RecordCreateView,
    RecordDetailView,
    RecordListView,
    RecordUpdateView,
    conflict_response,
)

# School: one row, seen by everyone with a role, edited by the DSL and headteacher.


def school_detail(request):
    access.visible(request.user, School)
    school = School.current()
    return render(
        request,
        "compliance/school_detail.html",
        {
            "object": school,
            "may_edit": access.may_edit_kind(request.user, School),
            "may_view_history": school is not None
            and access.may_view_history(request.user, school),
        },
    )


def school_edit(request):
    access.require_edit_kind(request.user, School)
    school = School.current() or School()
    form = forms.SchoolForm(request.POST or None, instance=school)
    if request.method == "POST" and form.is_valid():
        try:
            if school.pk is None:
                form.save()
            else:
                save_if_current(
                    instance=form.instance,
                    expected_version=form.cleaned_data["version"],
                    write=form.save,
                )
        except StaleEdit as stale:
            return conflict_response(request, form, stale.current)
        messages.success(request, "Saved the school's details.")
        return redirect("compliance:school")
    return render(
        request,
        "compliance/record_form.html",
        {
            "form": form,
            "title": "School details",
            "policy_rule": RULES["breaches"],
            "cancel_url": reverse("compliance:school"),
        },
    )


# Staff


class StaffList(RecordListView):
    model = StaffMember
    filterset_class = filters.StaffFilter
    select_related = ("user",)
    template_name = "compliance/staff_list.html"


class StaffDetail(RecordDetailView):
    model = StaffMember
    select_related = ("user",)
    template_name = "compliance/staff_detail.html"
    policy_rule = "staff"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["classes"] = self.object.form_classes.all()
        context["may_manage_login"] = access.may_manage_logins(self.request.user)
        return context


class StaffCreate(RecordCreateView):
    list_url = "compliance:staff_list"
    model = StaffMember
    form_class = forms.StaffMemberForm
    policy_rule = "scope"


class StaffUpdate(RecordUpdateView):
    model = StaffMember
    form_class = forms.StaffMemberForm
    policy_rule = "scope"

    def save(self, form):
        # through the service, so that deactivating a member also closes their login
        return services.staff_save(staff=form.save(commit=False))


def staff_login(request, pk: int):
    """Give a staff member a login and roles, or change them (DSL and headteacher)."""
    staff = access.get_for_view(
        request.user, StaffMember, pk, StaffMember.objects.select_related("user")
    )
    if not access.may_manage_logins(request.user):
        raise PermissionDenied("Only the DSL or the headteacher gives logins and roles.")
    initial = {}
    if staff.user:
        initial = {"username": staff.user.username, "roles": sorted(staff.user.roles)}
    form = forms.StaffLoginForm(request.POST or None, staff=staff, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.staff_set_login(
            staff=staff,
            username=form.cleaned_data["username"],
            roles=form.cleaned_data["roles"],
            password=form.cleaned_data["password"] or None,
        )
        messages.success(request, f"Saved the login and roles of {staff}.")
        return redirect(staff)
    return render(
        request,
        "compliance/record_form.html",
        {
            "form": form,
            "title": f"Login and roles for {staff}",
            "policy_rule": RULES["confidentiality"],
            "cancel_url": staff.get_absolute_url(),
        },
    )


# Classes


class ClassList(RecordListView):
    model = FormClass
    filterset_class = filters.FormClassFilter
    template_name = "compliance/class_list.html"

    def base_queryset(self):
        return (
            super()
            .base_queryset()
            .annotate(on_roll=Count("learners", filter=Q(learners__left__isnull=True)))
            .prefetch_related(
                Prefetch("teachers", queryset=StaffMember.objects.order_by("last_name"))
            )
        )


class ClassDetail(RecordDetailView):
    model = FormClass
    template_name = "compliance/class_detail.html"
    policy_rule = "hand_in"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["teachers"] = self.object.teachers.all()
        context["learners"] = self.object.learners.filter(left__isnull=True)
        return context


class ClassCreate(RecordCreateView):
    list_url = "compliance:class_list"
    model = FormClass
    form_class = forms.FormClassForm
    policy_rule = "hand_in"


class ClassUpdate(RecordUpdateView):
    model = FormClass
    form_class = forms.FormClassForm
    policy_rule = "hand_in"


# Learners


class LearnerList(RecordListView):
    model = Learner
    filterset_class = filters.LearnerFilter
    select_related = ("form_class",)
    template_name = "compliance/learner_list.html"

    def filterset_kwargs(self):
        return {"form_classes": access.visible(self.request.user, FormClass)}


class LearnerDetail(RecordDetailView):
    model = Learner
    select_related = ("form_class",)
    template_name = "compliance/learner_detail.html"
    policy_rule = "learners"
    confidential = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["parents"] = self.object.parents_carers.all()
        return context


class LearnerCreate(RecordCreateView):
    list_url = "compliance:learner_list"
    model = Learner
    form_class = forms.LearnerForm
    policy_rule = "learners"


class LearnerUpdate(RecordUpdateView):
    model = Learner
    form_class = forms.LearnerForm
    policy_rule = "learners"


# Parents and carers


class ParentList(RecordListView):
    model = ParentCarer
    filterset_class = filters.ParentCarerFilter
    prefetch_related = ("learners",)
    template_name = "compliance/parent_list.html"


class ParentDetail(RecordDetailView):
    model = ParentCarer
    template_name = "compliance/parent_detail.html"
    policy_rule = "parents"
    confidential = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["learners"] = (
            access.visible(self.request.user, Learner)
            .filter(parents_carers=self.object)
            .select_related("form_class")
        )
        return context


class ParentCreate(RecordCreateView):
    list_url = "compliance:parent_list"
    model = ParentCarer
    form_class = forms.ParentCarerForm
    policy_rule = "parents"


class ParentUpdate(RecordUpdateView):
    model = ParentCarer
    form_class = forms.ParentCarerForm
    policy_rule = "parents"


# Visitors and visits


class VisitorList(RecordListView):
    model = Visitor
    filterset_class = filters.VisitorFilter
    template_name = "compliance/visitor_list.html"


class VisitorDetail(RecordDetailView):
    model = Visitor
    template_name = "compliance/visitor_detail.html"
    policy_rule = "visitors"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["visits"] = self.object.visits.select_related("host")[:50]
        return context


class VisitorCreate(RecordCreateView):
    list_url = "compliance:visitor_list"
    model = Visitor
    form_class = forms.VisitorForm
    policy_rule = "visitors"


class VisitorUpdate(RecordUpdateView):
    model = Visitor
    form_class = forms.VisitorForm
    policy_rule = "visitors"


class VisitList(RecordListView):
    model = Visit
    filterset_class = filters.VisitFilter
    select_related = ("visitor", "host")
    template_name = "compliance/visit_list.html"


class VisitDetail(RecordDetailView):
    model = Visit
    select_related = ("visitor", "host")
    template_name = "compliance/visit_detail.html"
    policy_rule = "visits"


class VisitCreate(RecordCreateView):
    list_url = "compliance:visit_list"
    model = Visit
    form_class = forms.VisitForm
    policy_rule = "visits"

    def get_initial(self):
        initial = super().get_initial()
        visitor = key_from(self.request.GET.get("visitor"))
        if visitor is not None:
            initial["visitor"] = visitor
        return initial


class VisitUpdate(RecordUpdateView):
    model = Visit
    form_class = forms.VisitForm
    policy_rule = "visits"
