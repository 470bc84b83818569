from incidents.views import chronology, concerns, incident, queue, report, searches

app_name = "incidents"

urlpatterns = [
    *report.urlpatterns,
    *queue.urlpatterns,
    *incident.urlpatterns,
    *searches.urlpatterns,
    *chronology.urlpatterns,
    *concerns.urlpatterns,
]
