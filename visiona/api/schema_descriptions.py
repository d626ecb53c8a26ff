"""Descriptions of the conversion, devices and system API views for the OpenAPI
document, as drf-spectacular view extensions: these plain APIViews do not say
what they read and answer. Each block is the ``@extend_schema`` its view would
carry; move it onto the view when that app is next edited, and delete it here.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiViewExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers

# --- System (visiona/health.py) -------------------------------------------------


class SystemInfoSchema(OpenApiViewExtension):
    target_class = "visiona.health.SystemInfoApi"

    def view_replacement(self):
        @extend_schema_view(
            get=extend_schema(
                responses=inline_serializer(
                    "SystemInfo",
                    {
                        "service": serializers.CharField(),
                        "version": serializers.CharField(),
                        "environment": serializers.CharField(),
                    },
                )
            )
        )
        class Described(self.target_class):
            pass

        return Described


_DEVICE_SUMMARY_FIELDS = {
    "total": serializers.IntegerField(),
    "online": serializers.IntegerField(),
    "offline": serializers.IntegerField(),
    "last_seen_at": serializers.DateTimeField(allow_null=True),
}


class SystemHealthSchema(OpenApiViewExtension):
    target_class = "visiona.health.SystemHealthApi"

    def view_replacement(self):
        @extend_schema_view(
            get=extend_schema(
                responses=inline_serializer(
                    "SystemHealth",
                    {
                        "status": serializers.ChoiceField(choices=["ok", "degraded"]),
                        "checks": serializers.DictField(child=serializers.CharField()),
                        "conversion_enabled": serializers.BooleanField(),
                        "devices": inline_serializer("DeviceSummary", _DEVICE_SUMMARY_FIELDS),
                    },
                )
            )
        )
        class Described(self.target_class):
            pass

        return Described


# --- Conversion (conversion/api.py) ---------------------------------------------

_JOB_ID = OpenApiParameter("job_id", OpenApiTypes.STR, OpenApiParameter.PATH)


class ConversionInitSchema(OpenApiViewExtension):
    target_class = "conversion.api.ConversionInitApi"

    def view_replacement(self):
        from conversion.api import JobOutputSerializer

        upload = inline_serializer(
            "ConversionUpload",
            {
                "platform": serializers.ChoiceField(choices=["520", "720", "530", "630", "730"]),
                "model": serializers.FileField(help_text="The .onnx model."),
                "ref_images": serializers.ListField(
                    child=serializers.FileField(), required=False, max_length=100
                ),
                "model_id": serializers.IntegerField(required=False),
                "version": serializers.CharField(required=False),
            },
        )

        @extend_schema_view(
            post=extend_schema(
                request={"multipart/form-data": upload}, responses={201: JobOutputSerializer}
            )
        )
        class Described(self.target_class):
            pass

        return Described


class ConversionActiveSchema(OpenApiViewExtension):
    target_class = "conversion.api.ConversionActiveApi"

    def view_replacement(self):
        from conversion.api import JobOutputSerializer

        @extend_schema_view(
            get=extend_schema(
                responses=inline_serializer(
                    "ActiveConversion", {"job": JobOutputSerializer(allow_null=True)}
                )
            )
        )
        class Described(self.target_class):
            pass

        return Described


class ConversionJobSchema(OpenApiViewExtension):
    target_class = "conversion.api.ConversionJobApi"

    def view_replacement(self):
        from conversion.api import JobOutputSerializer

        @extend_schema_view(get=extend_schema(parameters=[_JOB_ID], responses=JobOutputSerializer))
        class Described(self.target_class):
            pass

        return Described


class ConversionPromoteSchema(OpenApiViewExtension):
    target_class = "conversion.api.ConversionPromoteApi"

    def view_replacement(self):
        from conversion.api import SavedModelOutputSerializer

        class PromoteInputSerializer(self.target_class.InputSerializer):
            pass

        @extend_schema_view(
            post=extend_schema(
                parameters=[_JOB_ID],
                request=PromoteInputSerializer,
                responses=inline_serializer(
                    "PromotedModel", {"model": SavedModelOutputSerializer()}
                ),
            )
        )
        class Described(self.target_class):
            pass

        return Described


class ConversionDownloadSchema(OpenApiViewExtension):
    target_class = "conversion.api.ConversionDownloadApi"

    def view_replacement(self):
        @extend_schema_view(
            get=extend_schema(
                parameters=[_JOB_ID],
                responses={
                    302: OpenApiResponse(
                        description="Location: the NEF at FAA, with a short-lived token."
                    )
                },
            )
        )
        class Described(self.target_class):
            pass

        return Described


# --- Devices (devices/api/views.py, devices/api/agent.py) -----------------------


class DeviceListSchema(OpenApiViewExtension):
    target_class = "devices.api.views.DeviceListApi"

    def view_replacement(self):
        from devices.api.serializers import DeviceOutputSerializer

        @extend_schema_view(
            get=extend_schema(
                operation_id="devices_list",
                responses=inline_serializer(
                    "DeviceList",
                    {
                        "devices": DeviceOutputSerializer(many=True),
                        "online_threshold_seconds": serializers.IntegerField(),
                    },
                ),
            )
        )
        class Described(self.target_class):
            pass

        return Described


class DeviceDetailSchema(OpenApiViewExtension):
    target_class = "devices.api.views.DeviceDetailApi"

    def view_replacement(self):
        from devices.api.serializers import DeviceOutputSerializer, DeviceTokenOutputSerializer

        class DeviceDetailOutputSerializer(DeviceOutputSerializer):
            tokens = DeviceTokenOutputSerializer(many=True, read_only=True)

            class Meta(DeviceOutputSerializer.Meta):
                fields = [*DeviceOutputSerializer.Meta.fields, "tokens"]

        @extend_schema_view(
            get=extend_schema(responses=DeviceDetailOutputSerializer),
            patch=extend_schema(
                request=self.target_class.RenameInputSerializer,
                responses=DeviceOutputSerializer,
                operation_id="devices_rename",
            ),
            delete=extend_schema(responses={204: None}),
        )
        class Described(self.target_class):
            pass

        return Described


class DeviceTokenRevokeSchema(OpenApiViewExtension):
    target_class = "devices.api.views.DeviceTokenRevokeApi"

    def view_replacement(self):
        from devices.api.serializers import DeviceTokenOutputSerializer

        @extend_schema_view(post=extend_schema(request=None, responses=DeviceTokenOutputSerializer))
        class Described(self.target_class):
            pass

        return Described


class PairingCodeCreateSchema(OpenApiViewExtension):
    target_class = "devices.api.views.PairingCodeCreateApi"

    def view_replacement(self):
        from devices.api.serializers import PairingCodeOutputSerializer

        class IssuedPairingCodeSerializer(PairingCodeOutputSerializer):
            code = serializers.CharField(read_only=True, help_text="Shown in this answer only.")
            expires_in_seconds = serializers.IntegerField(read_only=True)
            agent_command = serializers.CharField(read_only=True)

            class Meta(PairingCodeOutputSerializer.Meta):
                fields = [
                    *PairingCodeOutputSerializer.Meta.fields,
                    "code",
                    "expires_in_seconds",
                    "agent_command",
                ]

        @extend_schema_view(
            post=extend_schema(request=None, responses={201: IssuedPairingCodeSerializer})
        )
        class Described(self.target_class):
            pass

        return Described


class PairingCodeStatusSchema(OpenApiViewExtension):
    target_class = "devices.api.views.PairingCodeStatusApi"

    def view_replacement(self):
        from devices.api.serializers import PairingCodeOutputSerializer

        @extend_schema_view(get=extend_schema(responses=PairingCodeOutputSerializer))
        class Described(self.target_class):
            pass

        return Described


class AgentPairSchema(OpenApiViewExtension):
    target_class = "devices.api.agent.AgentPairApi"

    def view_replacement(self):
        class AgentPairInputSerializer(self.target_class.InputSerializer):
            pass  # a name of its own: every view's nested serializer is "InputSerializer"

        @extend_schema_view(
            post=extend_schema(
                request=AgentPairInputSerializer,
                responses={
                    201: inline_serializer(
                        "AgentPairing",
                        {
                            "device_id": serializers.UUIDField(),
                            "token": serializers.CharField(help_text="Shown in this answer only."),
                            "token_expires_at": serializers.DateTimeField(),
                            "heartbeat_interval_seconds": serializers.IntegerField(),
                        },
                    )
                },
            )
        )
        class Described(self.target_class):
            pass

        return Described


class AgentHeartbeatSchema(OpenApiViewExtension):
    target_class = "devices.api.agent.AgentHeartbeatApi"

    def view_replacement(self):
        class AgentHeartbeatInputSerializer(self.target_class.InputSerializer):
            pass

        @extend_schema_view(
            post=extend_schema(
                request=AgentHeartbeatInputSerializer,
                responses=inline_serializer(
                    "AgentHeartbeat",
                    {
                        "device_id": serializers.UUIDField(),
                        "connection_status": serializers.CharField(),
                        "last_seen_at": serializers.DateTimeField(),
                        "heartbeat_interval_seconds": serializers.IntegerField(),
                    },
                ),
            )
        )
        class Described(self.target_class):
            pass

        return Described


class AgentMeSchema(OpenApiViewExtension):
    target_class = "devices.api.agent.AgentMeApi"

    def view_replacement(self):
        from devices.api.agent import AgentDeviceOutputSerializer

        class AgentMeOutputSerializer(AgentDeviceOutputSerializer):
            token_expires_at = serializers.DateTimeField()

        @extend_schema_view(get=extend_schema(responses=AgentMeOutputSerializer))
        class Described(self.target_class):
            pass

        return Described
