"""The agent API: what the program on a device calls.

``pair`` is authenticated by the one-time code it carries; everything else by
the device token (``Authorization: Bearer vad_...``).
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from devices import registry, services
from devices.authentication import DeviceTokenAuthentication, IsDeviceAgent
from devices.choices import Chip
from visiona.api import fields
from visiona.api.parsers import JSONParser
from visiona.api.schema import error_response
from visiona.api.scopes import NOT_FOR_TOKENS, PUBLIC
from visiona.client_address import client_address

SERIAL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
AGENT_STATUS_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"


def heartbeat_interval_seconds() -> int:
    # Three heartbeats per threshold: one lost request does not turn a device offline.
    return max(1, settings.DEVICE_ONLINE_THRESHOLD_SECONDS // 3)


class AgentDeviceOutputSerializer(serializers.Serializer):
    device_id = serializers.UUIDField(source="pk")
    name = serializers.CharField()
    serial = serializers.CharField()
    chip = serializers.CharField()
    agent_version = serializers.CharField()
    agent_status = serializers.CharField()
    registration_status = serializers.CharField()
    connection_status = serializers.SerializerMethodField()
    last_seen_at = serializers.DateTimeField(allow_null=True, help_text="Null: never seen.")

    def get_connection_status(self, device) -> str:
        return device.connection_status()


TUNNEL_URL_HELP = "Where the agent dials its tunnel (the relay's public WebSocket URL)."


class AgentMeOutputSerializer(AgentDeviceOutputSerializer):
    token_expires_at = serializers.DateTimeField()
    tunnel_url = serializers.CharField(help_text=TUNNEL_URL_HELP)


class AgentPairingSerializer(serializers.Serializer):
    device_id = serializers.UUIDField()
    token = serializers.CharField(help_text="Shown in this answer only.")
    token_expires_at = serializers.DateTimeField()
    heartbeat_interval_seconds = serializers.IntegerField()


class AgentHeartbeatSerializer(serializers.Serializer):
    device_id = serializers.UUIDField()
    connection_status = serializers.CharField()
    last_seen_at = serializers.DateTimeField()
    heartbeat_interval_seconds = serializers.IntegerField()
    tunnel_url = serializers.CharField(help_text=TUNNEL_URL_HELP)

    def get_fields(self):
        # Then what the apps above registered (devices/registry.py): deployments' work.
        fields = super().get_fields()
        for part in registry.heartbeat_parts():
            fields.update(part.fields())
        return fields


DEVICE_TOKEN_INVALID = error_response(
    "unauthenticated: no device token; device_token_invalid: expired, revoked or unpaired."
)


# The agent is a program speaking JSON. Forms would also read an empty value as
# "not sent" (DRF's rule for HTML forms), unlike what the document says.
AGENT_PARSERS = [JSONParser]


class AgentApiView(APIView):
    token_scope = NOT_FOR_TOKENS

    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = [IsDeviceAgent]
    parser_classes = AGENT_PARSERS


class AgentPairApi(APIView):
    """Exchange a pairing code for a device and its token (shown this once)."""

    token_scope = PUBLIC  # the one-time pairing code is the credential

    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = AGENT_PARSERS

    @extend_schema_serializer(component_name="AgentPairInput")
    class InputSerializer(fields.InputSerializer):
        code = fields.CharField(max_length=32)
        serial = fields.RegexField(SERIAL_PATTERN)
        chip = serializers.ChoiceField(choices=Chip.choices)
        name = fields.CharField(max_length=100, required=False, allow_blank=True)
        agent_version = fields.CharField(max_length=64, required=False, allow_blank=True)

    @extend_schema(
        request=InputSerializer,
        responses={
            201: AgentPairingSerializer,
            400: error_response(
                "pairing_code_invalid: wrong, expired or used; validation_failed: a field."
            ),
            409: error_response("serial_already_paired: unpair that device first."),
            429: error_response("rate_limited: too many failed attempts; see Retry-After."),
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The real client behind our TLS proxy: one noisy agent must not block all pairing.
        result = services.device_pair(**data.validated_data, client_address=client_address(request))
        response = Response(
            {
                "device_id": str(result.device.pk),
                "token": result.token,
                "token_expires_at": result.device_token.expires_at,
                "heartbeat_interval_seconds": heartbeat_interval_seconds(),
            },
            status=status.HTTP_201_CREATED,
        )
        response["Cache-Control"] = "no-store"
        return response


class AgentHeartbeatApi(AgentApiView):
    """The agent is alive: records ``last_seen_at``, its status and version."""

    @extend_schema_serializer(component_name="AgentHeartbeatInput")
    class InputSerializer(fields.InputSerializer):
        status = fields.RegexField(AGENT_STATUS_PATTERN, required=False, default="ready")
        agent_version = fields.CharField(max_length=64, required=False, allow_blank=True)

    @extend_schema(
        request=InputSerializer,
        responses={
            200: AgentHeartbeatSerializer,
            400: error_response("validation_failed"),
            401: DEVICE_TOKEN_INVALID,
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        device = services.device_heartbeat(
            device=request.auth.device,
            agent_status=data.validated_data["status"],
            agent_version=data.validated_data.get("agent_version", ""),
        )
        answer = {
            "device_id": str(device.pk),
            "connection_status": device.connection_status(),
            "last_seen_at": device.last_seen_at,
            "heartbeat_interval_seconds": heartbeat_interval_seconds(),
            # From the server, so the agent needs no flag to find the relay.
            "tunnel_url": settings.RELAY_PUBLIC_URL,
        }
        for part in registry.heartbeat_parts():
            answer.update(part.values(device=device))
        return Response(answer)


class AgentMeApi(AgentApiView):
    """The device this token belongs to, as the server sees it."""

    @extend_schema(responses={200: AgentMeOutputSerializer, 401: DEVICE_TOKEN_INVALID})
    def get(self, request):
        data = AgentDeviceOutputSerializer(request.auth.device).data
        data["token_expires_at"] = request.auth.expires_at
        data["tunnel_url"] = settings.RELAY_PUBLIC_URL
        return Response(data)
