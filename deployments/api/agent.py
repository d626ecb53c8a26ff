"""The agent's side of deployments: its work, the file, its reports (docs/deployments.md).

Device token only; a deployment of another device is ``not_found``.
"""

from __future__ import annotations

import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response
from visiona_client.server_api import AGENT_ACCEPTS_HEADER

from deployments import file as deployment_file
from deployments import selectors as deployment_selectors
from deployments import services as deployment_services
from deployments.api.serializers import (
    AgentDeploymentStateSerializer,
    WorkItemListSerializer,
    work_items,
)
from deployments.choices import DeploymentState
from deployments.errors import DeploymentFinished
from deployments.rollout_choices import RestoredFrom
from devices.api.agent import DEVICE_TOKEN_INVALID, AgentApiView
from visiona.api import fields
from visiona.api.schema import error_response
from visiona.errors import NotFound

NOT_THIS_DEVICE = error_response("not_found: unknown, or another device's deployment.")
ERROR_CODE_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"


class AgentDeploymentListApi(AgentApiView):
    """The device's unfinished deployments, oldest first (at most 20): its work."""

    @extend_schema(
        operation_id="agent_deployments_list",
        responses={200: WorkItemListSerializer, 401: DEVICE_TOKEN_INVALID},
    )
    def get(self, request):
        work = deployment_selectors.deployment_work_for_device(device=request.auth.device)
        return Response({"deployments": work_items(work)})


class AgentDeploymentFileApi(AgentApiView):
    """The deployment's NEF file, streamed; one byte range with Range (and If-Range)."""

    def perform_content_negotiation(self, request, force=False):
        # The answer is bytes whatever the agent accepts (no 406); errors stay JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="agent_deployments_file",
        parameters=[
            OpenApiParameter(
                "Range",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="One range: bytes=N-, bytes=N-M or bytes=-N.",
            ),
            OpenApiParameter(
                "If-Range",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description='The ETag ("<sha256>"): the range only if the file is that one.',
            ),
            OpenApiParameter(
                AGENT_ACCEPTS_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description=(
                    '"presigned": the agent follows one redirect to the models bucket '
                    "(without its token, with the same Range)."
                ),
            ),
        ],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description='The whole file; ETag: "<sha256>".'
            ),
            (206, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The range asked for, with Content-Range."
            ),
            302: OpenApiResponse(
                description=(
                    "With S3 storage, to an agent that accepts presigned: Location is the "
                    "file's presigned URL in the bucket (5 minutes; ask here again for a "
                    "new one)."
                )
            ),
            (416, "application/octet-stream"): OpenApiResponse(
                description="The range starts past the end: Content-Range: bytes */SIZE."
            ),
            401: DEVICE_TOKEN_INVALID,
            404: NOT_THIS_DEVICE,
            409: error_response("deployment_finished: installed, failed or cancelled."),
            503: error_response("model_file_unavailable: the stored file cannot be read."),
        },
    )
    def get(self, request, deployment_id: uuid.UUID):
        deployment = deployment_selectors.deployment_get_for_device(
            device=request.auth.device, deployment_id=deployment_id
        )
        if deployment is None:
            raise NotFound()
        if deployment.is_final:
            raise DeploymentFinished()
        return deployment_file.file_response(request._request, deployment)


class AgentDeploymentStateApi(AgentApiView):
    """The agent reports where the deployment is (docs/deployments.md, "States")."""

    @extend_schema_serializer(component_name="AgentDeploymentStateInput")
    class InputSerializer(fields.InputSerializer):
        state = serializers.ChoiceField(choices=deployment_services.REPORTABLE)
        bytes_done = fields.IntegerField(min_value=0, required=False)
        bytes_total = fields.IntegerField(min_value=0, required=False)
        error_code = fields.RegexField(ERROR_CODE_PATTERN, required=False)
        error_message = fields.CharField(max_length=500, required=False, allow_blank=True)
        restored_from = serializers.ChoiceField(
            choices=RestoredFrom.choices,
            required=False,
            help_text=(
                "With installed, for a rollback: where the model came from (still in place, "
                "the kept copy in .previous/, or a fresh download)."
            ),
        )

    @extend_schema(
        operation_id="agent_deployments_state",
        request=InputSerializer,
        responses={
            200: AgentDeploymentStateSerializer,
            400: error_response("validation_failed"),
            401: DEVICE_TOKEN_INVALID,
            404: NOT_THIS_DEVICE,
            409: error_response(
                "deployment_cancelled: stop and delete the partial file; deployment_finished: "
                "already installed or failed; invalid_transition: not from this state."
            ),
        },
    )
    def post(self, request, deployment_id: uuid.UUID):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        deployment = deployment_services.deployment_report(
            device=request.auth.device,
            deployment_id=deployment_id,
            state=DeploymentState(values["state"]),
            bytes_done=values.get("bytes_done"),
            bytes_total=values.get("bytes_total"),
            error_code=values.get("error_code", ""),
            error_message=values.get("error_message", ""),
            restored_from=values.get("restored_from", ""),
        )
        return Response(AgentDeploymentStateSerializer(deployment).data)
