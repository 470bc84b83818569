"""Import learners and staff from an MIS export: the DSL and the office upload a CSV file."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.validators import FileExtensionValidator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from compliance import access, importers
from compliance.importers import ImportKind
from compliance.policy import RULES

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
# Hundreds of problems are more than anyone reads on a page; the command lists them all.
ERRORS_SHOWN = 500

_AFTER_IMPORT = {
    ImportKind.LEARNERS: "compliance:learner_list",
    ImportKind.STAFF: "compliance:staff_list",
}


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        label="What the file holds",
        choices=ImportKind.choices,
        widget=forms.RadioSelect,
        initial=ImportKind.LEARNERS,
    )
    file = forms.FileField(
        label="CSV file",
        validators=[FileExtensionValidator(["csv"], "Choose a .csv file.")],
        help_text="Saved from the MIS or Excel as 'CSV UTF-8 (comma delimited)', at most 2 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                "The file is larger than 2 MB; an MIS export for one school is much smaller. "
                "Check you chose the right file."
            )
        return upload


@require_http_methods(["GET", "POST"])
def import_upload(request):
    if not access.may_import(request.user):
        raise PermissionDenied("Only the DSL and the office import from the MIS.")
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        # anything but the Import button only checks: the safe choice if the browser is unsure
        dry_run = request.POST.get("action") != "import"
        kind = form.cleaned_data["kind"]
        result = importers.run_import(
            kind=kind,
            rows_or_file=form.cleaned_data["file"].read(),
            dry_run=dry_run,
            user=request.user,
        )
        if result.saved:
            messages.success(request, result.summary)
            return redirect(_AFTER_IMPORT[ImportKind(kind)])
    return render(
        request,
        "compliance/import.html",
        {
            "form": form,
            "result": result,
            "errors_shown": result.errors[:ERRORS_SHOWN] if result else [],
            "errors_hidden": max(len(result.errors) - ERRORS_SHOWN, 0) if result else 0,
            "columns": _columns(),
            "policy_rule": RULES["scope"],
        },
    )


def _columns() -> list[dict[str, str]]:
    contact = ", ".join(f"contact1_{name}" for name in importers.CONTACT_FIELDS)
    return [
        {
            "kind": "Learners",
            "required": ", ".join(importers.LEARNER_REQUIRED),
            "optional": f"joined, left; for up to two parents/carers {contact} "
            "and the same with contact2_",
        },
        {
            "kind": "Staff",
            "required": ", ".join(importers.STAFF_REQUIRED),
            "optional": ", ".join(importers.STAFF_OPTIONAL),
        },
    ]
