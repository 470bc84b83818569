from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "devices"
    verbose_name = "Devices, registers and exemptions"

    def ready(self) -> None:
        from devices.views import confiscations, exemptions, handin, register

        for area in (register, handin, confiscations, exemptions):
            area.register_panels()
