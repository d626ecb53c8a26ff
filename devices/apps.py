from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DevicesConfig(AppConfig):
    name = "devices"
    verbose_name = _("Devices")

    def ready(self) -> None:
        from devices import health, token_changes
        from devices.api import schema  # noqa: F401  (registers the device-token scheme)
        from visiona.registry import register_health_part

        register_health_part("devices", fields=health.health_fields, values=health.health_values)
        token_changes.connect_signals()
