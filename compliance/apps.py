from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = "School community and policy"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from compliance import audit_db, evidence, panels, retention, security_log, subject_access
        from compliance.views import history, review

        history.register_kinds()
        panels.register()
        retention.register()
        subject_access.register()
        review.register()
        evidence.register()
        post_migrate.connect(audit_db._after_migrate, sender=self)
        security_log.connect()
