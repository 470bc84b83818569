from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents, searches and referrals"

    def ready(self) -> None:
        from django.urls import reverse

        from compliance.demo import register_demo_seeder
        from compliance.models import Learner
        from compliance.record_links import RecordLink, register_record_link
        from incidents import access, demo, history, reminders, retention, subject_access
        from incidents.views import chronology, concerns, incident, queue, report, searches

        for area in (report, queue, incident, searches, chronology, concerns):
            area.register_panels()
        history.register()
        reminders.register()
        from incidents import evidence

        evidence.register()
        register_demo_seeder("incidents", demo.seed, order=20)
        register_demo_seeder("incidents_concerns", demo.seed_concerns, order=21)
        from incidents.report import register as register_report_sections

        register_report_sections()
        retention.register()
        subject_access.register()
        register_record_link(
            RecordLink(
                model=Learner,
                label="Chronology",
                url=lambda learner: reverse("incidents:chronology", args=[learner.pk]),
                visible=lambda user, learner: access.may_see_chronology(user),
            )
        )
