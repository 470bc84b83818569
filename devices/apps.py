from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "devices"
    verbose_name = "Devices, registers and exemptions"

    def ready(self) -> None:
        from compliance.demo import register_demo_seeder
        from devices import demo, evidence, history, reminders
        from devices.views import confiscations, exemptions, handin, reception, register

        for area in (register, handin, confiscations, exemptions, reception):
            area.register_panels()
        reception.register_record_links()
        register_demo_seeder("devices", demo.seed, order=10)
        history.register()
        reminders.register()
        evidence.register()
        from devices.report import register as register_report_sections

        register_report_sections()
