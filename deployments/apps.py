from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeploymentsConfig(AppConfig):
    name = "deployments"
    verbose_name = _("Deployments")

    def ready(self) -> None:
        from deployments import device_parts, model_parts, rollout_smoke
        from visiona.registry import register_schema_enum

        device_parts.register()
        model_parts.register()  # what uses a model, on the page that confirms its delete
        rollout_smoke.register()  # the health gate's smoke run (issue 24's runs)
        # A deployment's state and the states an agent may report: one field name, two enums.
        register_schema_enum("DeploymentStateEnum", "deployments.choices.DeploymentState")
        register_schema_enum("DeploymentReportStateEnum", "deployments.services.REPORTABLE")
        # Runs: four more "state" fields (the run, an input, its reference, the report).
        register_schema_enum("RunStateEnum", "deployments.run_choices.RunState")
        register_schema_enum("RunInputStateEnum", "deployments.run_choices.RunInputState")
        register_schema_enum("RunReferenceStateEnum", "deployments.run_choices.ReferenceState")
        register_schema_enum("RunReportStateEnum", "deployments.run_services.REPORTABLE")
        # Rollouts: the rollout's own state (its phases' and devices' are named already).
        register_schema_enum("RolloutStateEnum", "deployments.rollout_choices.RolloutState")
