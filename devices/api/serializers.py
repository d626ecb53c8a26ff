"""What the devices API shows. Never a hash, never a stored secret."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from rest_framework import serializers

from devices import presence, registry
from devices.models import Device, DeviceToken, PairingCode


class DeviceOutputSerializer(serializers.ModelSerializer):
    """``context["presences"]``: the devices' presence by id (devices.presence), asked
    of the registry once for a list; a device missing from it is asked alone."""

    connection_status = serializers.SerializerMethodField(
        help_text="online while the device's tunnel is open (its agent runs); from its "
        "heartbeats only when the tunnel registry cannot answer (connection_known_from)"
    )
    connection_known_from = serializers.SerializerMethodField(
        help_text="tunnel, or heartbeat when the tunnel registry could not answer"
    )
    tunnel_connected_at = serializers.SerializerMethodField()
    last_seen_at = serializers.SerializerMethodField(
        help_text="its latest sign of life: a heartbeat, or its relay node vouching for its "
        "tunnel; null: never seen"
    )
    paired_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Device
        fields = [
            "id",
            "name",
            "serial",
            "chip",
            "agent_version",
            "agent_status",
            "registration_status",
            "connection_status",
            "connection_known_from",
            "tunnel_connected_at",
            "last_seen_at",
            "paired_at",
        ]

    def _presence(self, device: Device) -> presence.Presence:
        key = str(device.pk)
        given = self.context.get("presences") or {}
        if key in given:
            return given[key]
        # Asked once per device, whichever of the fields asks first.
        asked: dict[str, presence.Presence] = self.__dict__.setdefault("_asked", {})
        if key not in asked:
            asked.update(presence.presences(devices=[device]))
        return asked[key]

    def get_connection_status(self, device: Device) -> str:
        return self._presence(device).status

    def get_connection_known_from(self, device: Device) -> str:
        return self._presence(device).known_from

    def get_tunnel_connected_at(self, device: Device) -> datetime | None:
        tunnel = self._presence(device).tunnel
        return tunnel.connected_at if tunnel else None

    def get_last_seen_at(self, device: Device) -> datetime | None:
        return self._presence(device).last_seen_at


class DeviceTokenOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    status = serializers.SerializerMethodField()

    class Meta:
        model = DeviceToken
        fields = ["id", "status", "created_at", "expires_at", "last_used_at", "revoked_at"]

    def get_status(self, device_token: DeviceToken) -> str:
        if device_token.revoked_at is not None:
            return "revoked"
        return "active" if device_token.expires_at > timezone.now() else "expired"


class PairingCodeOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    status = serializers.SerializerMethodField()
    device = serializers.SerializerMethodField()

    class Meta:
        model = PairingCode
        fields = ["id", "status", "created_at", "expires_at", "used_at", "device"]

    def get_status(self, pairing_code: PairingCode) -> str:
        return pairing_code.status()

    def get_device(self, pairing_code: PairingCode) -> dict | None:
        device = pairing_code.device
        if device is None or device.deleted_at is not None:
            return None
        return {"id": str(device.pk), "name": device.name, "chip": device.chip}


# The shapes below describe answers the views assemble themselves, for the schema.


class _WithApiParts:
    """For the document: a device's fields, then what the apps above registered
    (devices/registry.py: deployments' pin); the views add their values."""

    def get_fields(self):
        fields = super().get_fields()  # type: ignore[misc]
        for part in registry.device_api_parts():
            fields.update(part.fields())
        return fields


class DeviceListItemSerializer(_WithApiParts, DeviceOutputSerializer):
    class Meta(DeviceOutputSerializer.Meta):
        pass


class DeviceListSerializer(serializers.Serializer):
    devices = DeviceListItemSerializer(many=True)
    online_threshold_seconds = serializers.IntegerField()


class DeviceDetailOutputSerializer(_WithApiParts, DeviceOutputSerializer):
    tokens = DeviceTokenOutputSerializer(many=True, read_only=True)

    class Meta(DeviceOutputSerializer.Meta):
        fields = [*DeviceOutputSerializer.Meta.fields, "tokens"]


class IssuedPairingCodeSerializer(PairingCodeOutputSerializer):
    code = serializers.CharField(read_only=True, help_text="Shown in this answer only.")
    expires_in_seconds = serializers.IntegerField(read_only=True)
    agent_command = serializers.CharField(
        read_only=True, help_text="The command that pairs the agent (visiona-agent) with this code."
    )

    class Meta(PairingCodeOutputSerializer.Meta):
        fields = [
            *PairingCodeOutputSerializer.Meta.fields,
            "code",
            "expires_in_seconds",
            "agent_command",
        ]
