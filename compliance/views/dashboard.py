"""The dashboard at `/`: the panels registered for this user's roles."""

from django.shortcuts import render

from compliance.dashboard import panels_for


def dashboard(request):
    return render(request, "compliance/dashboard.html", {"panels": panels_for(request)})
