"""Import learners and staff from an MIS export (placeholder until the importer lands)."""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse

from compliance import access


def import_upload(request):
    if not access.may_import(request.user):
        raise PermissionDenied("Only the DSL and the office import from the MIS.")
    return HttpResponse("Import is being built.")
