"""The signed-in user's devices API (session authentication, like every /api/ view)."""

from __future__ import annotations

import uuid

from django.conf import settings
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from devices import selectors, services
from devices.agent_client import agent_command_line
from devices.api.serializers import (
    DeviceOutputSerializer,
    DeviceTokenOutputSerializer,
    PairingCodeOutputSerializer,
)


class DeviceListApi(APIView):
    def get(self, request):
        devices = selectors.device_list_for_user(user=request.user)
        return Response(
            {
                "devices": DeviceOutputSerializer(devices, many=True).data,
                "online_threshold_seconds": settings.DEVICE_ONLINE_THRESHOLD_SECONDS,
            }
        )


class DeviceDetailApi(APIView):
    """One device: read it (with its tokens), rename it (PATCH), unpair it (DELETE)."""

    class RenameInputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100, trim_whitespace=True)

    def get(self, request, device_id: uuid.UUID):
        device = selectors.device_get_for_user(user=request.user, device_id=device_id)
        tokens = selectors.device_tokens_for_device(device=device)
        data = DeviceOutputSerializer(device).data
        data["tokens"] = DeviceTokenOutputSerializer(tokens, many=True).data
        return Response(data)

    def patch(self, request, device_id: uuid.UUID):
        device = selectors.device_get_for_user(user=request.user, device_id=device_id)
        data = self.RenameInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        device = services.device_rename(device=device, name=data.validated_data["name"])
        return Response(DeviceOutputSerializer(device).data)

    def delete(self, request, device_id: uuid.UUID):
        device = selectors.device_get_for_user(user=request.user, device_id=device_id)
        services.device_unpair(device=device)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeviceTokenRevokeApi(APIView):
    """Revoke one of the device's tokens; the device stays paired."""

    def post(self, request, device_id: uuid.UUID, token_id: uuid.UUID):
        device = selectors.device_get_for_user(user=request.user, device_id=device_id)
        device_token = selectors.device_token_get_for_device(device=device, token_id=token_id)
        services.device_token_revoke(device_token=device_token)
        return Response(DeviceTokenOutputSerializer(device_token).data)


class PairingCodeCreateApi(APIView):
    """A new one-time pairing code. The plain code is in this answer only."""

    def post(self, request):
        issued = services.pairing_code_create(user=request.user)
        data = PairingCodeOutputSerializer(issued.pairing_code).data
        data["code"] = issued.code
        data["expires_in_seconds"] = settings.DEVICE_PAIRING_CODE_TTL_MINUTES * 60
        data["agent_command"] = agent_command_line(
            server_url=request.build_absolute_uri("/"), code=issued.code
        )
        response = Response(data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response


class PairingCodeStatusApi(APIView):
    """Whether a code is still waiting, used (and by which device) or expired. For polling."""

    def get(self, request, pairing_code_id: uuid.UUID):
        pairing_code = selectors.pairing_code_get_for_user(
            user=request.user, pairing_code_id=pairing_code_id
        )
        return Response(PairingCodeOutputSerializer(pairing_code).data)
