from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DevicesConfig(AppConfig):
    name = "devices"
    verbose_name = _("Devices")

    def ready(self) -> None:
        from devices import agent_work, deployment_push, deployment_selectors, health
        from devices.api import schema  # noqa: F401  (registers the device-token scheme)
        from visiona.registry import register_health_part, register_schema_enum

        register_health_part("devices", fields=health.health_fields, values=health.health_values)
        # A deployment's state and the states an agent may report: one field name, two enums.
        register_schema_enum("DeploymentStateEnum", "devices.choices.DeploymentState")
        register_schema_enum("DeploymentReportStateEnum", "devices.deployment_services.REPORTABLE")
        # A device that reconnects is told of deployments made while it was away.
        agent_work.register_work_finder(
            "deployments",
            find=deployment_selectors.devices_with_unfinished_work,
            path="/" + deployment_push.PUSH_PATH,
        )
