"""Shared view pieces: every view fetches its records through `compliance.access`."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Model, QuerySet
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.generic import CreateView, DetailView, ListView, UpdateView

from compliance import access, services
from compliance.concurrency import StaleEdit, save_if_current
from compliance.policy import RULES as POLICY_RULES
from compliance.record_links import links_for
from compliance.selectors import joined


class PolicyRuleMixin:
    """Puts the policy section a page carries out into the template context."""

    policy_rule: str | None = None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.policy_rule:
            context["policy_rule"] = POLICY_RULES[self.policy_rule]
        return context


class RecordListView(PolicyRuleMixin, ListView):
    """A filtered, searchable, paginated list of the records this user may see."""

    filterset_class = None
    paginate_by = 25
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[str, ...] = ()

    def base_queryset(self) -> QuerySet:
        qs = access.visible(self.request.user, self.model)
        qs = joined(qs, self.select_related)
        if self.prefetch_related:
            qs = qs.prefetch_related(*self.prefetch_related)
        return qs

    def filterset_kwargs(self) -> dict:
        return {}

    def get_queryset(self) -> QuerySet:
        self.filterset = self.filterset_class(
            self.request.GET or None,
            queryset=self.base_queryset(),
            request=self.request,
            **self.filterset_kwargs(),
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
        context["may_add"] = access.may_edit_kind(self.request.user, self.model)
        query = self.request.GET.copy()
        query.pop("page", None)
        context["query_string"] = query.urlencode()
        return context


class RecordDetailView(PolicyRuleMixin, DetailView):
    select_related: tuple[str, ...] = ()
    # a record about a child: every read is logged (policy section 9, confidentiality)
    confidential = False

    def get_object(self, queryset=None) -> Model:
        qs = joined(self.model.objects.all(), self.select_related)
        obj = access.get_for_view(self.request.user, self.model, self.kwargs["pk"], qs)
        if self.confidential:
            services.record_access_log(user=self.request.user, record=obj)
        return obj

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["may_edit"] = access.may_edit_kind(user, self.model)
        context["may_view_history"] = access.may_view_history(user, self.object)
        context["record_links"] = links_for(user, self.object)
        return context


class SavedMessageMixin:
    """Saves through `save` (a view may route it through a service) and confirms what was saved."""

    def save(self, form) -> Model:
        return form.save()

    def form_valid(self, form):
        self.object = self.save(form)
        messages.success(self.request, f"Saved {self.model._meta.verbose_name} {self.object}.")
        return HttpResponseRedirect(self.get_success_url())


class RecordCreateView(PolicyRuleMixin, SavedMessageMixin, CreateView):
    template_name = "compliance/record_form.html"
    list_url: str = ""

    def dispatch(self, request, *args, **kwargs):
        access.require_edit_kind(request.user, self.model)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = f"Add a {self.model._meta.verbose_name}"
        context["cancel_url"] = reverse(self.list_url)
        return context


class RecordUpdateView(PolicyRuleMixin, SavedMessageMixin, UpdateView):
    """Edits a record; a save based on a stale copy shows both versions instead (409)."""

    template_name = "compliance/record_form.html"

    def form_valid(self, form):
        try:
            return save_if_current(
                instance=form.instance,
                expected_version=form.cleaned_data["version"],
                write=lambda: super(RecordUpdateView, self).form_valid(form),
            )
        except StaleEdit as stale:
            return conflict_response(self.request, form, stale.current)

    def get_object(self, queryset=None) -> Model:
        return access.get_for_edit(self.request.user, self.model, self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = f"Edit {self.object}"
        context["cancel_url"] = self.object.get_absolute_url()
        return context


def conflict_response(request, form, current: Model):
    """Both versions side by side: what this person typed, and what is saved now."""
    rows = []
    for name, field in form.fields.items():
        if name == "version" or field.widget.is_hidden:
            continue
        typed = form.cleaned_data.get(name)
        saved = getattr(current, name, None)
        if hasattr(saved, "all"):  # many-to-many
            saved = ", ".join(str(item) for item in saved.all()) or "(none)"
            typed = ", ".join(str(item) for item in typed or []) or "(none)"
        elif hasattr(current, f"get_{name}_display"):
            saved = getattr(current, f"get_{name}_display")()
            typed = dict(field.choices).get(typed, typed) if hasattr(field, "choices") else typed
        rows.append(
            {
                "label": field.label or name,
                "typed": "" if typed is None else typed,
                "saved": "" if saved is None else saved,
                "differs": str(typed or "") != str(saved or ""),
            }
        )
    latest = current.history.select_related("history_user").first()
    return render(
        request,
        "compliance/conflict.html",
        {
            "object": current,
            "rows": rows,
            "latest": latest,
            "edit_url": request.path,
        },
        status=409,
    )
