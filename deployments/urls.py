"""Deployment URLs, mounted by visiona/urls.py at /devices/ (the pages), /api/agent/
(the agent's side) and /api/ (the user's API). Paths and names are those they had
when deployments lived in devices/, so links and clients did not change."""

from django.urls import path

from deployments import views
from deployments.api import agent
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
    path(
        "deployments/<uuid:deployment_id>/retry/",
        views.deployment_retry,
        name="devices-deployment-retry",
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
]
