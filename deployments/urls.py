"""Deployment URLs, mounted by visiona/urls.py at /devices/ (the pages), /api/agent/
(the agent's side) and /api/ (the user's API). Paths and names are those they had
when deployments lived in devices/, so links and clients did not change."""

from django.urls import path

from deployments import group_views, rollout_views, views
from deployments.api import agent, groups, rollouts
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
    path("<uuid:device_id>/pin/", group_views.device_pin, name="devices-pin"),
    path("<uuid:device_id>/unpin/", group_views.device_unpin, name="devices-unpin"),
    path("<uuid:device_id>/rollback/", group_views.device_rollback, name="devices-rollback"),
    path("rollouts/", rollout_views.rollout_list, name="devices-rollouts"),
    path("rollouts/new/", rollout_views.rollout_new, name="devices-rollout-new"),
    path("rollouts/<uuid:rollout_id>/", rollout_views.rollout_detail, name="devices-rollout"),
    path(
        "rollouts/<uuid:rollout_id>/<slug:action>/",
        rollout_views.rollout_action,
        name="devices-rollout-action",
    ),
]

agent_api_urlpatterns = [
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

# The user's deployments (docs/deployments.md).
api_urlpatterns = [
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
