from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DevicesConfig(AppConfig):
    name = "devices"
    verbose_name = _("Devices")

    def ready(self) -> None:
        from devices import errors, health, token_changes
        from devices.api import schema  # noqa: F401  (registers the device-token scheme)
        from visiona.registry import register_error_page, register_health_part

        register_health_part("devices", fields=health.health_fields, values=health.health_values)
        token_changes.connect_signals()
        # nginx's answer when the relay node it was sent to does not answer
        # (deploy/nginx/templates/visiona-locations.inc.template, @visiona_relay).
        register_error_page("device-unreachable", errors.DeviceUnreachable)
