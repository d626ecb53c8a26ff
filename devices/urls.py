"""Device URLs, mounted by visiona/urls.py at /devices/, /api/devices/, /api/agent/
and /downloads/ (the agent's package)."""

from django.urls import path

from devices import views
from devices.api import agent, relay
from devices.api import views as api

page_urlpatterns = [
    path("", views.device_list, name="devices"),
    path("pair/", views.device_pair, name="devices-pair"),
    path(
        "pair/codes/<uuid:pairing_code_id>/revoke/",
        views.pairing_code_revoke,
        name="devices-pairing-code-revoke",
    ),
    path("<uuid:device_id>/", views.device_detail, name="devices-detail"),
    path("<uuid:device_id>/rename/", views.device_rename, name="devices-rename"),
    path("<uuid:device_id>/unpair/", views.device_unpair, name="devices-unpair"),
    path(
        "<uuid:device_id>/tokens/<uuid:token_id>/revoke/",
        views.device_token_revoke,
        name="devices-token-revoke",
    ),
]

api_urlpatterns = [
    path("", api.DeviceListApi.as_view(), name="api-devices"),
    path("pairing-codes", api.PairingCodeCreateApi.as_view(), name="api-devices-pairing-codes"),
    path(
        "pairing-codes/<uuid:pairing_code_id>",
        api.PairingCodeStatusApi.as_view(),
        name="api-devices-pairing-code",
    ),
    path(
        "pairing-codes/<uuid:pairing_code_id>/revoke",
        api.PairingCodeRevokeApi.as_view(),
        name="api-devices-pairing-code-revoke",
    ),
    path("<uuid:device_id>", api.DeviceDetailApi.as_view(), name="api-devices-detail"),
    path(
        "<uuid:device_id>/tokens/<uuid:token_id>/revoke",
        api.DeviceTokenRevokeApi.as_view(),
        name="api-devices-token-revoke",
    ),
    path(
        "<uuid:device_id>/agent/<path:path>",
        relay.DeviceAgentApi.as_view(),
        name="api-devices-agent",
    ),
]

# Mounted at /api/system/ beside the health and info endpoints.
system_api_urlpatterns = [
    path("deps", relay.SystemDepsApi.as_view(), name="api-system-deps"),
]

agent_api_urlpatterns = [
    path("pair", agent.AgentPairApi.as_view(), name="api-agent-pair"),
    path("heartbeat", agent.AgentHeartbeatApi.as_view(), name="api-agent-heartbeat"),
    path("me", agent.AgentMeApi.as_view(), name="api-agent-me"),
]

download_urlpatterns = [
    path("", views.client_downloads, name="downloads"),
    path("<str:filename>", views.client_download, name="downloads-file"),
]
