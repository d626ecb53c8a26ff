"""The signed-in user's devices API (session authentication, like every /api/ view)."""

from __future__ import annotations

import uuid

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from devices import agent_commands, presence, registry, selectors, services
from devices.api.serializers import (
    DeviceDetailOutputSerializer,
    DeviceListItemSerializer,
    DeviceListSerializer,
    DeviceOutputSerializer,
    DeviceTokenOutputSerializer,
    IssuedPairingCodeSerializer,
    PairingCodeOutputSerializer,
)
from visiona.api import fields
from visiona.api.schema import error_response
from visiona.api.scopes import Scope

DEVICE_NOT_FOUND = error_response("device_not_found: unknown, unpaired or another user's device.")


class DeviceListApi(APIView):
    token_scope = Scope.READ

    # Its own id: the detail view's GET would otherwise take devices_retrieve too.
    @extend_schema(operation_id="devices_list", responses=DeviceListSerializer)
    def get(self, request):
        # Online from the registry (one lookup for all), not from the database.
        devices = list(selectors.device_list_for_user(user=request.user))
        context = {"presences": presence.presences(devices=devices)}
        data = DeviceOutputSerializer(devices, many=True, context=context).data
        added = registry.device_api_values(devices=devices)  # e.g. deployments' pin
        return Response(
            {
                "devices": [{**item, **added[str(item["id"])]} for item in data],
                "online_threshold_seconds": settings.DEVICE_ONLINE_THRESHOLD_SECONDS,
            }
        )


class DeviceDetailApi(APIView):
    """One device: read it (with its tokens), rename it (PATCH), unpair it (DELETE)."""

    token_scope = {"get": Scope.READ, "patch": Scope.DEPLOY, "delete": Scope.DEPLOY}

    class RenameInputSerializer(fields.InputSerializer):
        name = fields.CharField(max_length=100, trim_whitespace=True)

    @extend_schema(responses={200: DeviceDetailOutputSerializer, 404: DEVICE_NOT_FOUND})
    def get(self, request, device_id: uuid.UUID):
        device = selectors.device_get_for_user(user=request.user, device_id=device_id)
        tokens = selectors.device_tokens_for_device(device=device)
        data = DeviceOutputSerializer(device).data
        data.update(registry.device_api_values(devices=[device])[str(device.pk)])
        data["tokens"] = DeviceTokenOutputSerializer(tokens, many=True).data
        return Response(data)

    @extend_schema(
        operation_id="devices_rename",
        request=RenameInputSerializer,
        responses={
            200: DeviceListItemSerializer,
            400: error_response("validation_failed: the name is not valid."),
            404: DEVICE_NOT_FOUND,
        },
    )
    def patch(self, request, device_id: uuid.UUID):
        device = selectors.device_get_for_user(user=request.user, device_id=device_id)
        data = self.RenameInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        device = services.device_rename(device=device, name=data.validated_data["name"])
        # The device as the list shows it, the apps' fields (its pin) included.
        answer = DeviceOutputSerializer(device).data
        answer.update(registry.device_api_values(devices=[device])[str(device.pk)])
        return Response(answer)

    @extend_schema(responses={204: None, 404: DEVICE_NOT_FOUND})
    def delete(self, request, device_id: uuid.UUID):
        device = selectors.device_get_for_user(user=request.user, device_id=device_id)
        services.device_unpair(device=device)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeviceTokenRevokeApi(APIView):
    """Revoke one of the device's tokens; the device stays paired."""

    token_scope = Scope.DEPLOY

    @extend_schema(
        request=None,
        responses={
            200: DeviceTokenOutputSerializer,
            404: error_response("device_not_found, device_token_not_found"),
        },
    )
    def post(self, request, device_id: uuid.UUID, token_id: uuid.UUID):
        device = selectors.device_get_for_user(user=request.user, device_id=device_id)
        device_token = selectors.device_token_get_for_device(device=device, token_id=token_id)
        services.device_token_revoke(device_token=device_token)
        return Response(DeviceTokenOutputSerializer(device_token).data)


class PairingCodeCreateApi(APIView):
    """A new one-time pairing code. The plain code is in this answer only."""

    token_scope = Scope.DEPLOY

    @extend_schema(
        request=None,
        responses={
            201: IssuedPairingCodeSerializer,
            429: error_response("too_many_pairing_codes: too many codes are still waiting."),
        },
    )
    def post(self, request):
        issued = services.pairing_code_create(user=request.user)
        data = PairingCodeOutputSerializer(issued.pairing_code).data
        data["code"] = issued.code
        data["expires_in_seconds"] = settings.DEVICE_PAIRING_CODE_TTL_MINUTES * 60
        data["agent_command"] = agent_commands.pair_command(
            server_url=request.build_absolute_uri("/"), code=issued.code
        )
        response = Response(data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response


class PairingCodeStatusApi(APIView):
    """Whether a code is still waiting, used (and by which device) or expired. For polling."""

    token_scope = Scope.READ

    @extend_schema(
        responses={
            200: PairingCodeOutputSerializer,
            404: error_response("pairing_code_not_found: unknown, or another user's code."),
        }
    )
    def get(self, request, pairing_code_id: uuid.UUID):
        pairing_code = selectors.pairing_code_get_for_user(
            user=request.user, pairing_code_id=pairing_code_id
        )
        return Response(PairingCodeOutputSerializer(pairing_code).data)


class PairingCodeRevokeApi(APIView):
    """End one of your waiting codes now, so no agent can pair with it (owner only)."""

    token_scope = Scope.DEPLOY

    @extend_schema(
        request=None,
        responses={
            200: PairingCodeOutputSerializer,
            404: error_response("pairing_code_not_found: unknown, or another user's code."),
            409: error_response("pairing_code_used: the code has already paired a device."),
        },
    )
    def post(self, request, pairing_code_id: uuid.UUID):
        pairing_code = selectors.pairing_code_get_for_user(
            user=request.user, pairing_code_id=pairing_code_id
        )
        pairing_code = services.pairing_code_revoke(pairing_code=pairing_code)
        return Response(PairingCodeOutputSerializer(pairing_code).data)
