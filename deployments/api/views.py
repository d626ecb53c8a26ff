"""The signed-in user's deployments API: put a model on devices, follow it, cancel it.

Owner only: another user's deployment, model or device is "not found".
"""

from __future__ import annotations

import uuid

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from deployments import selectors as deployment_selectors
from deployments import services as deployment_services
from deployments.api.serializers import DeploymentDetailSerializer, DeploymentOutputSerializer
from deployments.choices import DeploymentState
from visiona.api import fields
from visiona.api.parsers import JSONParser
from visiona.api.schema import error_response
from visiona.api.scopes import Scope

NOT_FOUND = error_response("deployment_not_found: unknown, or another user's deployment.")
MAX_DEVICES = 50


class DeploymentPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class DeploymentResultSerializer(serializers.Serializer):
    device_id = serializers.UUIDField()
    outcome = serializers.ChoiceField(
        choices=["created", "already_installed", "already_in_progress"],
        help_text=(
            "created: a new deployment; already_in_progress: the unfinished one of this "
            "model; already_installed: the device's last install has the same SHA-256."
        ),
    )
    deployment = DeploymentOutputSerializer()


class DeploymentCreateOutputSerializer(serializers.Serializer):
    results = DeploymentResultSerializer(many=True)


class DeploymentPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = DeploymentOutputSerializer(many=True)


class DeploymentListApi(APIView):
    """The user's deployments, newest first (GET); deploy a model to devices (POST)."""

    token_scope = {"get": Scope.READ, "post": Scope.DEPLOY}
    parser_classes = [JSONParser]

    class FilterSerializer(fields.QuerySerializer):
        device = serializers.UUIDField(required=False)
        model = serializers.IntegerField(required=False, min_value=1)
        # An empty value (``?state=``, as a form's "any" option sends) means no filter.
        state = serializers.ChoiceField(
            choices=DeploymentState.choices, required=False, allow_blank=True
        )
        page = serializers.IntegerField(required=False, min_value=1)
        page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)

        def to_internal_value(self, data):
            # A form's empty value would read as "absent"; the document says an id.
            empty = [name for name in ("device", "model") if data.get(name, None) == ""]
            if empty:
                message = _("Give an id, or leave the parameter out.")
                raise serializers.ValidationError({name: [message] for name in empty})
            return super().to_internal_value(data)

    @extend_schema_serializer(component_name="DeploymentCreateInput")
    class InputSerializer(fields.InputSerializer):
        model_id = fields.IntegerField(min_value=1)
        device_ids = serializers.ListField(
            child=serializers.UUIDField(), min_length=1, max_length=MAX_DEVICES
        )

    @extend_schema(
        operation_id="deployments_list",
        parameters=[FilterSerializer],
        responses={
            200: DeploymentPageSerializer,
            400: error_response("validation_failed: a filter is not valid."),
            404: error_response("not_found: the page is past the last one."),
        },
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        values = filters.validated_data
        deployments = deployment_selectors.deployment_list_for_user(
            user=request.user,
            device_id=values.get("device"),
            model_id=values.get("model"),
            state=values.get("state"),
        )
        paginator = DeploymentPagination()
        page = paginator.paginate_queryset(deployments, request, view=self)
        return paginator.get_paginated_response(DeploymentOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="deployments_create",
        request=InputSerializer,
        responses={
            201: DeploymentCreateOutputSerializer,
            400: error_response(
                "validation_failed; chip_mismatch: a device's chip is not among the model's "
                "(details: devices, model_chips); nothing is created."
            ),
            404: error_response("model_not_found, device_not_found: unknown or not yours."),
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        results = deployment_services.deployments_create(
            user=request.user,
            model_id=data.validated_data["model_id"],
            device_ids=data.validated_data["device_ids"],
        )
        body = {
            "results": [
                {
                    "device_id": str(result.device.pk),
                    "outcome": result.outcome,
                    "deployment": DeploymentOutputSerializer(result.deployment).data,
                }
                for result in results
            ]
        }
        return Response(body, status=status.HTTP_201_CREATED)


class DeploymentDetailApi(APIView):
    """One deployment, with its history (``events``, oldest first)."""

    token_scope = Scope.READ

    @extend_schema(
        operation_id="deployments_retrieve",
        responses={200: DeploymentDetailSerializer, 404: NOT_FOUND},
    )
    def get(self, request, deployment_id: uuid.UUID):
        deployment = deployment_selectors.deployment_get_for_user(
            user=request.user, deployment_id=deployment_id
        )
        return Response(DeploymentDetailSerializer(deployment).data)


class DeploymentCancelApi(APIView):
    """Cancel an unfinished deployment; the device stops and deletes its partial file."""

    token_scope = Scope.DEPLOY

    @extend_schema(
        operation_id="deployments_cancel",
        request=None,
        responses={
            200: DeploymentOutputSerializer,
            404: NOT_FOUND,
            409: error_response("deployment_finished: installed, failed or cancelled already."),
        },
    )
    def post(self, request, deployment_id: uuid.UUID):
        deployment = deployment_services.deployment_cancel(
            user=request.user, deployment_id=deployment_id
        )
        return Response(DeploymentOutputSerializer(deployment).data)
