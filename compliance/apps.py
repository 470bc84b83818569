from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = "School community and policy"

    def ready(self) -> None:
        from compliance import panels

        panels.register()
