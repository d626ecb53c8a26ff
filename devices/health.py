"""What devices adds to ``GET /api/system/health`` (registered in DevicesConfig.ready()):
the user's devices' connection, from the database and the tunnel registry."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from devices.liveness import connection_summary
from devices.selectors import device_list_for_user
from devices.tunnel import health_registrations, tunnel_summary
from visiona.models import User


class DeviceSummarySerializer(serializers.Serializer):
    total = serializers.IntegerField()
    online = serializers.IntegerField()
    offline = serializers.IntegerField()
    last_seen_at = serializers.DateTimeField(allow_null=True)


def health_fields() -> dict[str, serializers.Field]:
    return {
        "devices": DeviceSummarySerializer(),
        "tunnel_connected": serializers.BooleanField(
            help_text="Whether one of your devices holds a tunnel now (false if unknown)."
        ),
        "agent_last_seen_at": serializers.DateTimeField(
            allow_null=True, help_text="Your agents' latest heartbeat or tunnel sign of life."
        ),
        "agent_session_count": serializers.IntegerField(
            help_text="How many of your devices hold a tunnel now."
        ),
    }


def health_values(user: User) -> dict[str, Any]:
    # One registry lookup for both parts, bounded: a slow or failing one is not fatal.
    tunnels = health_registrations(user=user)
    return {
        "devices": connection_summary(devices=device_list_for_user(user=user), tunnels=tunnels),
        **tunnel_summary(user=user, registrations=tunnels),
    }
