"""The signed-in user's device groups, pins and rollbacks (docs/deployments.md).

Owner only: another user's group or device is "not found". Writes need the ``deploy``
scope, reads ``read``.
"""

from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from deployments import group_selectors, group_services, rollback_services, rollout_selectors
from deployments.api.fleet_serializers import (
    GroupDetailSerializer,
    GroupPinSerializer,
    GroupRollbackSerializer,
    GroupSerializer,
    PinSerializer,
    group_data,
)
from deployments.api.serializers import DeploymentOutputSerializer
from deployments.group_models import GROUP_NAME_MAX_CHARS, PIN_REASON_MAX_CHARS, Pin
from devices import presence
from visiona.api import fields
from visiona.api.parsers import JSONParser
from visiona.api.schema import error_response
from visiona.api.scopes import Scope
from visiona.chips import Chip

GROUP_NOT_FOUND = error_response("group_not_found: unknown, or another user's group.")
DEVICE_NOT_FOUND = error_response("device_not_found: unknown, or another user's device.")
MAX_DEVICES = 500


def _detail(user, group) -> dict:
    devices = presence.with_presence(group_selectors.group_devices(group=group))
    return group_data(
        group,
        devices=devices,
        pins=group_selectors.pins_for_devices(devices=devices),
        active=rollout_selectors.active_rollout_of_group(group_id=group.pk),
    )


class GroupListSerializer(serializers.Serializer):
    groups = GroupSerializer(many=True)


class GroupListApi(APIView):
    """The user's groups by name (GET); a new group, with devices or none (POST)."""

    token_scope = {"get": Scope.READ, "post": Scope.DEPLOY}
    parser_classes = [JSONParser]

    @extend_schema_serializer(component_name="GroupCreateInput")
    class InputSerializer(serializers.Serializer):
        name = fields.CharField(max_length=GROUP_NAME_MAX_CHARS)
        device_ids = serializers.ListField(
            child=serializers.UUIDField(), required=False, max_length=MAX_DEVICES
        )

    @extend_schema(operation_id="groups_list", responses={200: GroupListSerializer})
    def get(self, request):
        groups = list(group_selectors.group_list_for_user(user=request.user))
        active = rollout_selectors.active_rollouts_by_group(groups=groups)
        rows = [group_data(group, active=active.get(group.pk)) for group in groups]
        return Response({"groups": GroupSerializer(rows, many=True).data})

    @extend_schema(
        operation_id="groups_create",
        request=InputSerializer,
        responses={
            201: GroupDetailSerializer,
            400: error_response("validation_failed: no name, or too long."),
            404: DEVICE_NOT_FOUND,
            409: error_response("group_name_taken: you have a group of that name."),
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        group = group_services.group_create(
            user=request.user,
            name=data.validated_data["name"],
            device_ids=data.validated_data.get("device_ids", []),
        )
        body = GroupDetailSerializer(_detail(request.user, group)).data
        return Response(body, status=status.HTTP_201_CREATED)


class GroupDetailApi(APIView):
    """One group with its devices (GET), renamed (PATCH), deleted (DELETE: its devices
    stay; its rollouts keep its name)."""

    token_scope = {"get": Scope.READ, "patch": Scope.DEPLOY, "delete": Scope.DEPLOY}
    parser_classes = [JSONParser]

    @extend_schema_serializer(component_name="GroupRenameInput")
    class InputSerializer(serializers.Serializer):
        name = fields.CharField(max_length=GROUP_NAME_MAX_CHARS)

    @extend_schema(
        operation_id="groups_retrieve", responses={200: GroupDetailSerializer, 404: GROUP_NOT_FOUND}
    )
    def get(self, request, group_id: uuid.UUID):
        group = group_selectors.group_get_for_user(user=request.user, group_id=group_id)
        return Response(GroupDetailSerializer(_detail(request.user, group)).data)

    @extend_schema(
        operation_id="groups_rename",
        request=InputSerializer,
        responses={
            200: GroupDetailSerializer,
            400: error_response("validation_failed"),
            404: GROUP_NOT_FOUND,
            409: error_response("group_name_taken"),
        },
    )
    def patch(self, request, group_id: uuid.UUID):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        group = group_services.group_rename(
            user=request.user, group_id=group_id, name=data.validated_data["name"]
        )
        group = group_selectors.group_get_for_user(user=request.user, group_id=group.pk)
        return Response(GroupDetailSerializer(_detail(request.user, group)).data)

    @extend_schema(operation_id="groups_delete", responses={204: None, 404: GROUP_NOT_FOUND})
    def delete(self, request, group_id: uuid.UUID):
        group_services.group_delete(user=request.user, group_id=group_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupDevicesAddApi(APIView):
    """Add devices to a group: by id, and/or every one of your devices with a chip (with
    neither, nothing is added)."""

    token_scope = Scope.DEPLOY
    parser_classes = [JSONParser]

    @extend_schema_serializer(component_name="GroupDevicesAddInput")
    class InputSerializer(serializers.Serializer):
        device_ids = serializers.ListField(
            child=serializers.UUIDField(), required=False, max_length=MAX_DEVICES
        )
        chip = serializers.ChoiceField(
            choices=Chip.choices, required=False, help_text="Every device of yours with it."
        )

    @extend_schema(
        operation_id="groups_devices_add",
        request=InputSerializer,
        responses={
            200: GroupDetailSerializer,
            400: error_response("validation_failed"),
            404: error_response("group_not_found, device_not_found: nothing was added."),
        },
    )
    def post(self, request, group_id: uuid.UUID):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        group = group_services.group_add_devices(
            user=request.user,
            group_id=group_id,
            device_ids=data.validated_data.get("device_ids", []),
            chip=data.validated_data.get("chip", ""),
        )
        return Response(GroupDetailSerializer(_detail(request.user, group)).data)


class GroupDevicesRemoveApi(APIView):
    """Take devices out of a group (they stay paired, and in their other groups)."""

    token_scope = Scope.DEPLOY
    parser_classes = [JSONParser]

    @extend_schema_serializer(component_name="GroupDevicesRemoveInput")
    class InputSerializer(serializers.Serializer):
        device_ids = serializers.ListField(
            child=serializers.UUIDField(), min_length=1, max_length=MAX_DEVICES
        )

    @extend_schema(
        operation_id="groups_devices_remove",
        request=InputSerializer,
        responses={
            200: GroupDetailSerializer,
            400: error_response("validation_failed"),
            404: error_response("group_not_found, device_not_found: nothing was removed."),
        },
    )
    def post(self, request, group_id: uuid.UUID):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        group = group_services.group_remove_devices(
            user=request.user, group_id=group_id, device_ids=data.validated_data["device_ids"]
        )
        return Response(GroupDetailSerializer(_detail(request.user, group)).data)


def rollback_results(results) -> dict:
    return {
        "results": [
            {
                "device_id": result.device.pk,
                "outcome": "sent" if result.deployment is not None else "skipped",
                "code": result.code,
                "message": result.reason,
                "deployment": result.deployment,
            }
            for result in results
        ]
    }


class GroupRollbackApi(APIView):
    """Bring back, on every device of the group, the model it had before its current one.
    A device with nothing to go back to is skipped with the reason."""

    token_scope = Scope.DEPLOY

    @extend_schema(
        operation_id="groups_rollback",
        request=None,
        responses={
            200: GroupRollbackSerializer,
            404: GROUP_NOT_FOUND,
            409: error_response(
                "rollout_in_progress: roll back the rollout (details: rollout_id); "
                "group_empty: the group has no devices."
            ),
        },
    )
    def post(self, request, group_id: uuid.UUID):
        results = rollback_services.group_rollback(user=request.user, group_id=group_id)
        return Response(GroupRollbackSerializer(rollback_results(results)).data)


class DeviceRollbackApi(APIView):
    """Bring back the model the device had before its current one (a deployment of kind
    rollback: the agent's kept copy after checking its digest, or a fresh download)."""

    token_scope = Scope.DEPLOY

    @extend_schema(
        operation_id="devices_rollback",
        request=None,
        responses={
            201: DeploymentOutputSerializer,
            404: DEVICE_NOT_FOUND,
            409: error_response(
                "nothing_to_roll_back: no installed model, or none before it; rollback_in_progress."
            ),
        },
    )
    def post(self, request, device_id: uuid.UUID):
        rollback = rollback_services.device_rollback(user=request.user, device_id=device_id)
        return Response(DeploymentOutputSerializer(rollback).data, status=status.HTTP_201_CREATED)


# A pin's input, the same for a device's pin and a group's (a comment: a docstring would
# become the components' description in the OpenAPI document).
class PinInputSerializer(serializers.Serializer):
    reason = fields.CharField(max_length=PIN_REASON_MAX_CHARS, required=False, allow_blank=True)


# The OpenAPI document names the device's input and the group's apart; these keep the
# names (a component is named once per class).
@extend_schema_serializer(component_name="DevicePinInput")
class DevicePinInputSerializer(PinInputSerializer):
    pass


@extend_schema_serializer(component_name="GroupPinInput")
class GroupPinInputSerializer(PinInputSerializer):
    pass


def _pin_answer(
    serializer: type[serializers.Serializer], pin: Pin | None, **subject_id: uuid.UUID
) -> Response:
    """The answer to a pin (``pin``) or an unpin (None): the subject's id (``device_id=``
    or ``group_id=``), whether it is pinned, why and since when."""
    body = {
        **subject_id,
        "pinned": pin is not None,
        "reason": pin.reason if pin is not None else "",
        "pinned_at": pin.pinned_at if pin is not None else None,
    }
    return Response(serializer(body).data)


def _reason_given(request) -> str:
    """The body's reason ("" when it gives none); a bad body is a validation_failed 400."""
    data = PinInputSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    return data.validated_data.get("reason", "")


class DevicePinApi(APIView):
    """Pin the device: rollouts leave it out, with the reason."""

    token_scope = Scope.DEPLOY
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="devices_pin",
        request=DevicePinInputSerializer,
        responses={
            200: PinSerializer,
            400: error_response("validation_failed"),
            404: DEVICE_NOT_FOUND,
        },
    )
    def post(self, request, device_id: uuid.UUID):
        pin = group_services.device_pin(
            user=request.user, device_id=device_id, reason=_reason_given(request)
        )
        return _pin_answer(PinSerializer, pin, device_id=pin.device_id)


class DeviceUnpinApi(APIView):
    """Unpin the device: the next rollouts include it again."""

    token_scope = Scope.DEPLOY

    @extend_schema(
        operation_id="devices_unpin",
        request=None,
        responses={200: PinSerializer, 404: DEVICE_NOT_FOUND},
    )
    def post(self, request, device_id: uuid.UUID):
        group_services.device_unpin(user=request.user, device_id=device_id)
        return _pin_answer(PinSerializer, None, device_id=device_id)


class GroupPinApi(APIView):
    """Pin the group: every device in it is left out of rollouts (of this group or any
    other), with the reason, from the next phase of those under way."""

    token_scope = Scope.DEPLOY
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="groups_pin",
        request=GroupPinInputSerializer,
        responses={
            200: GroupPinSerializer,
            400: error_response("validation_failed"),
            404: GROUP_NOT_FOUND,
        },
    )
    def post(self, request, group_id: uuid.UUID):
        pin = group_services.group_pin(
            user=request.user, group_id=group_id, reason=_reason_given(request)
        )
        return _pin_answer(GroupPinSerializer, pin, group_id=pin.group_id)


class GroupUnpinApi(APIView):
    """Unpin the group: the next rollouts include its devices again (unless pinned
    themselves, or in another pinned group)."""

    token_scope = Scope.DEPLOY

    @extend_schema(
        operation_id="groups_unpin",
        request=None,
        responses={200: GroupPinSerializer, 404: GROUP_NOT_FOUND},
    )
    def post(self, request, group_id: uuid.UUID):
        group_services.group_unpin(user=request.user, group_id=group_id)
        return _pin_answer(GroupPinSerializer, None, group_id=group_id)
