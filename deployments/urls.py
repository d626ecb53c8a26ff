"""Deployment URLs, mounted by visiona/urls.py at /devices/ (the pages), /api/agent/
(the agent's side) and /api/ (the user's API). Paths and names are those they had
when deployments lived in devices/, so links and clients did not change."""

from django.urls import path

from deployments import group_views, rollout_views, run_views, views
from deployments.api import agent, agent_runs, groups, rollouts, runs
from deployments.api import views as api

page_urlpatterns = [
    path("deploy/<int:model_id>/", views.deploy, name="devices-deploy"),
    path(
        "deploy/<int:model_id>/progress/",
        views.deploy_progress,
        name="devices-deploy-progress",
    ),
    path(
        "deployments/<uuid:deployment_id>/cancel/",
        views.deployment_cancel,
        name="devices-deployment-cancel",
    ),
    # Groups, pins, rollback and rollouts (docs/deployments.md, "Rollouts").
    path("groups/", group_views.group_list, name="devices-groups"),
    path("groups/<uuid:group_id>/", group_views.group_detail, name="devices-group"),
    path("groups/<uuid:group_id>/rename/", group_views.group_rename, name="devices-group-rename"),
    path("groups/<uuid:group_id>/delete/", group_views.group_delete, name="devices-group-delete"),
    path(
        "groups/<uuid:group_id>/devices/",
        group_views.group_devices,
        name="devices-group-devices",
    ),
    path(
        "groups/<uuid:group_id>/rollback/",
        group_views.group_rollback,
        name="devices-group-rollback",
    ),
    path("groups/<uuid:group_id>/pin/", group_views.group_pin, name="devices-group-pin"),
    path("groups/<uuid:group_id>/unpin/", group_views.group_unpin, name="devices-group-unpin"),
    path("<uuid:device_id>/pin/", group_views.device_pin, name="devices-pin"),
    path("<uuid:device_id>/unpin/", group_views.device_unpin, name="devices-unpin"),
    path("<uuid:device_id>/rollback/", group_views.device_rollback, name="devices-rollback"),
    path("rollouts/", rollout_views.rollout_list, name="devices-rollouts"),
    path("rollouts/new/", rollout_views.rollout_new, name="devices-rollout-new"),
    path("rollouts/<uuid:rollout_id>/", rollout_views.rollout_detail, name="devices-rollout"),
    path(
        "rollouts/<uuid:rollout_id>/rollback/",
        rollout_views.rollout_rollback,
        name="devices-rollout-rollback",
    ),
    path(
        "rollouts/<uuid:rollout_id>/<slug:action>/",
        rollout_views.rollout_action,
        name="devices-rollout-action",
    ),
    path(
        "deployments/<uuid:deployment_id>/retry/",
        views.deployment_retry,
        name="devices-deployment-retry",
    ),
]

# Runs' pages, mounted at /runs/ (docs/runs.md).
run_page_urlpatterns = [
    path("", run_views.run_list, name="runs"),
    path("new/<int:model_id>/", run_views.run_new, name="runs-new"),
    path("<uuid:run_id>/", run_views.run_detail, name="runs-detail"),
    path("<uuid:run_id>/cancel/", run_views.run_cancel, name="runs-cancel"),
    path("<uuid:run_id>/agreement/", run_views.run_agreement, name="runs-agreement"),
]

agent_api_urlpatterns = [
    path("runs", agent_runs.AgentRunListApi.as_view(), name="api-agent-runs"),
    path(
        "runs/<uuid:run_id>/inputs/<int:index>",
        agent_runs.AgentRunInputApi.as_view(),
        name="api-agent-run-input",
    ),
    path(
        "runs/<uuid:run_id>/inputs/<int:index>/result",
        agent_runs.AgentRunResultApi.as_view(),
        name="api-agent-run-result",
    ),
    path(
        "runs/<uuid:run_id>/state",
        agent_runs.AgentRunStateApi.as_view(),
        name="api-agent-run-state",
    ),
    path("deployments", agent.AgentDeploymentListApi.as_view(), name="api-agent-deployments"),
    path(
        "deployments/<uuid:deployment_id>/file",
        agent.AgentDeploymentFileApi.as_view(),
        name="api-agent-deployment-file",
    ),
    path(
        "deployments/<uuid:deployment_id>/state",
        agent.AgentDeploymentStateApi.as_view(),
        name="api-agent-deployment-state",
    ),
]

# The user's deployments (docs/deployments.md) and runs (docs/runs.md).
api_urlpatterns = [
    path("runs", runs.RunListApi.as_view(), name="api-runs"),
    path("runs/<uuid:run_id>", runs.RunDetailApi.as_view(), name="api-runs-detail"),
    path("runs/<uuid:run_id>/inputs", runs.RunInputsApi.as_view(), name="api-runs-inputs"),
    path(
        "runs/<uuid:run_id>/inputs/<int:index>/output",
        runs.RunOutputApi.as_view(),
        name="api-runs-output",
    ),
    path("runs/<uuid:run_id>/outputs", runs.RunOutputsZipApi.as_view(), name="api-runs-outputs"),
    path("runs/<uuid:run_id>/cancel", runs.RunCancelApi.as_view(), name="api-runs-cancel"),
    path("runs/<uuid:run_id>/agreement", runs.RunAgreementApi.as_view(), name="api-runs-agreement"),
    path("deployments", api.DeploymentListApi.as_view(), name="api-deployments"),
    path(
        "deployments/<uuid:deployment_id>",
        api.DeploymentDetailApi.as_view(),
        name="api-deployments-detail",
    ),
    path(
        "deployments/<uuid:deployment_id>/cancel",
        api.DeploymentCancelApi.as_view(),
        name="api-deployments-cancel",
    ),
    # Groups, pins, rollback and rollouts (docs/deployments.md, "Rollouts").
    path("groups", groups.GroupListApi.as_view(), name="api-groups"),
    path("groups/<uuid:group_id>", groups.GroupDetailApi.as_view(), name="api-groups-detail"),
    path(
        "groups/<uuid:group_id>/devices/add",
        groups.GroupDevicesAddApi.as_view(),
        name="api-groups-devices-add",
    ),
    path(
        "groups/<uuid:group_id>/devices/remove",
        groups.GroupDevicesRemoveApi.as_view(),
        name="api-groups-devices-remove",
    ),
    path(
        "groups/<uuid:group_id>/rollback",
        groups.GroupRollbackApi.as_view(),
        name="api-groups-rollback",
    ),
    path("groups/<uuid:group_id>/pin", groups.GroupPinApi.as_view(), name="api-groups-pin"),
    path("groups/<uuid:group_id>/unpin", groups.GroupUnpinApi.as_view(), name="api-groups-unpin"),
    path(
        "devices/<uuid:device_id>/rollback",
        groups.DeviceRollbackApi.as_view(),
        name="api-devices-rollback",
    ),
    path("devices/<uuid:device_id>/pin", groups.DevicePinApi.as_view(), name="api-devices-pin"),
    path(
        "devices/<uuid:device_id>/unpin",
        groups.DeviceUnpinApi.as_view(),
        name="api-devices-unpin",
    ),
    path("rollouts", rollouts.RolloutListApi.as_view(), name="api-rollouts"),
    path(
        "rollouts/<uuid:rollout_id>",
        rollouts.RolloutDetailApi.as_view(),
        name="api-rollouts-detail",
    ),
    *(
        path(
            f"rollouts/<uuid:rollout_id>/{name}",
            view.as_view(),
            name=f"api-rollouts-{name}",
        )
        for name, view in (
            ("pause", rollouts.RolloutPauseApi),
            ("resume", rollouts.RolloutResumeApi),
            ("retry", rollouts.RolloutRetryApi),
            ("rollback", rollouts.RolloutRollbackApi),
        )
    ),
]
