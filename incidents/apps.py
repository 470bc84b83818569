from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents, searches and referrals"

    def ready(self) -> None:
        from incidents.views import chronology, incident, queue, report, searches

        for area in (report, queue, incident, searches, chronology):
            area.register_panels()
