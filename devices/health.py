"""What devices adds to ``GET /api/system/health`` (registered in DevicesConfig.ready()):
the user's devices' connection, from the database and the tunnel registry (a device
is online while its tunnel is open: devices.presence)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from devices.selectors import device_connection_summary
from devices.tunnel import bounded_registrations, tunnel_summary
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
    # One registry lookup for both parts, bounded: a slow or failing one is not fatal
    # (the online count falls back to heartbeats, the tunnel counts as not connected).
    registrations = bounded_registrations(user=user)
    return {
        "devices": device_connection_summary(user=user, registrations=registrations),
        **tunnel_summary(user=user, registrations=registrations),
    }
