"""The signed-in user's runs API (docs/runs.md): run a model installed on a device on
a set of inputs, follow it, read its figures, download its outputs, cancel it.

Owner only: another user's run, model or device is "not found".
"""

from __future__ import annotations

import uuid

from django.http import StreamingHttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView
from visiona_client.inference_contract import (
    CHANNEL_ORDERS,
    DEFAULT_REPEAT,
    MAX_REPEAT,
    NPZ_TYPE,
    SCALES,
    InferOptions,
)

from deployments import run_files, run_selectors, run_services
from deployments.api.run_serializers import (
    RunInputListSerializer,
    RunInputOutputSerializer,
    RunOutputSerializer,
)
from deployments.errors import RunInputMissing
from deployments.run_choices import RunInputState, RunState
from deployments.run_uploads import files_to_disk
from deployments.run_zip import outputs_zip
from models_repo.storage import CHUNK
from models_repo.transfer import too_large_upload_name, upload_was_too_large
from visiona.api import fields
from visiona.api.schema import error_response
from visiona.api.scopes import Scope

NOT_FOUND = error_response("run_not_found: unknown, or another user's run.")


class RunPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class RunPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = RunOutputSerializer(many=True)


class RunListApi(APIView):
    """The user's runs, newest first (GET); run a model on a device (POST, multipart)."""

    token_scope = {"get": Scope.READ, "post": Scope.DEPLOY}
    parser_classes = [MultiPartParser]

    class FilterSerializer(fields.QuerySerializer):
        model = fields.IntegerField(required=False, min_value=1)
        device = serializers.UUIDField(required=False)
        # As /api/deployments' and /api/rollouts': an empty value (``?state=``, as a
        # form's "any" option sends) means no filter; an unknown one is refused.
        state = serializers.ChoiceField(choices=RunState.choices, required=False, allow_blank=True)
        page = fields.IntegerField(required=False, min_value=1)
        page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)

    @extend_schema_serializer(component_name="RunCreate")
    class InputSerializer(serializers.Serializer):
        model_id = fields.IntegerField(min_value=1)
        device_id = serializers.UUIDField()
        repeat = serializers.IntegerField(min_value=1, max_value=MAX_REPEAT, default=DEFAULT_REPEAT)
        channel_order = serializers.ChoiceField(choices=CHANNEL_ORDERS, default="rgb")
        scale = serializers.ChoiceField(choices=list(SCALES), default="unit")
        # Refused empty here too (the service refuses it for the page), so the
        # document says minItems; the same words as the service's.
        inputs = serializers.ListField(
            child=serializers.FileField(allow_empty_file=True),
            allow_empty=False,
            error_messages={"empty": _("Choose at least one input.")},
            help_text="Repeat the field: images (PNG, JPEG, BMP), .npy or .npz files.",
        )

    def initial(self, request, *args, **kwargs):
        if request.method == "POST":
            files_to_disk(request._request)
        super().initial(request, *args, **kwargs)

    @extend_schema(
        operation_id="runs_list",
        parameters=[FilterSerializer],
        responses={
            200: RunPageSerializer,
            400: error_response("validation_failed: a filter is not valid."),
            404: error_response("not_found: the page is past the last one."),
        },
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        runs = run_selectors.run_list_for_user(
            user=request.user,
            model_id=filters.validated_data.get("model"),
            device_id=filters.validated_data.get("device"),
            state=filters.validated_data.get("state"),
        )
        paginator = RunPagination()
        page = paginator.paginate_queryset(runs, request, view=self)
        return paginator.get_paginated_response(RunOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="runs_create",
        request={"multipart/form-data": InputSerializer},
        responses={
            201: RunOutputSerializer,
            400: error_response("validation_failed, chip_mismatch"),
            404: error_response("model_not_found, device_not_found"),
            409: error_response("model_not_installed: deploy the model to the device first."),
            413: error_response("payload_too_large: an input or all of them over the limits."),
        },
    )
    def post(self, request):
        fields_given = ("model_id", "device_id", "repeat", "channel_order", "scale")
        data = {name: request.data[name] for name in fields_given if name in request.data}
        data["inputs"] = request.FILES.getlist("inputs")
        if upload_was_too_large(request._request):
            raise run_services.input_too_large(too_large_upload_name(request._request))
        form = self.InputSerializer(data=data)
        form.is_valid(raise_exception=True)
        values = form.validated_data
        inputs = [
            run_services.NewInput(
                name=upload.name or f"input-{index}",
                content_type=run_services.input_type_of(upload.name or "", upload.content_type),
                size_bytes=upload.size or 0,
                chunks=upload.chunks(CHUNK),
            )
            for index, upload in enumerate(values["inputs"])
        ]
        run = run_services.run_create(
            user=request.user,
            model_id=values["model_id"],
            device_id=str(values["device_id"]),
            inputs=inputs,
            options=InferOptions(values["repeat"], values["channel_order"], values["scale"]),
        )
        return Response(RunOutputSerializer(run).data, status=status.HTTP_201_CREATED)


class RunDetailApi(APIView):
    token_scope = Scope.READ

    @extend_schema(operation_id="runs_read", responses={200: RunOutputSerializer, 404: NOT_FOUND})
    def get(self, request, run_id: uuid.UUID):
        run = run_selectors.run_get_for_user(user=request.user, run_id=run_id)
        return Response(RunOutputSerializer(run).data)


class RunInputsApi(APIView):
    """Each input: its timings, its agreement per output, where its outputs are."""

    token_scope = Scope.READ

    @extend_schema(
        operation_id="runs_inputs", responses={200: RunInputListSerializer, 404: NOT_FOUND}
    )
    def get(self, request, run_id: uuid.UUID):
        run = run_selectors.run_get_for_user(user=request.user, run_id=run_id)
        items = run_selectors.run_inputs(run=run)
        return Response({"inputs": RunInputOutputSerializer(items, many=True).data})


class RunOutputApi(APIView):
    """One input's outputs as the device gave them: an ``.npz`` of arrays by name."""

    token_scope = Scope.READ

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="runs_output",
        responses={(200, NPZ_TYPE): OpenApiResponse(OpenApiTypes.BINARY), 404: NOT_FOUND},
    )
    def get(self, request, run_id: uuid.UUID, index: int):
        run = run_selectors.run_get_for_user(user=request.user, run_id=run_id)
        item = run_selectors.run_input_get(run=run, index=index)
        if item.state != RunInputState.DONE:
            raise RunInputMissing()
        response = StreamingHttpResponse(run_files.chunks(item.output_file), content_type=NPZ_TYPE)
        response["Content-Length"] = str(item.output_size_bytes)
        response["Content-Disposition"] = f'attachment; filename="{item.index:03d}-outputs.npz"'
        return response


class RunOutputsZipApi(APIView):
    """Every input's outputs in one ``.zip`` (one ``.npz`` per input), streamed."""

    token_scope = Scope.READ

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="runs_outputs_zip",
        responses={(200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY), 404: NOT_FOUND},
    )
    def get(self, request, run_id: uuid.UUID):
        run = run_selectors.run_get_for_user(user=request.user, run_id=run_id)
        return outputs_zip(run)


class RunCancelApi(APIView):
    token_scope = Scope.DEPLOY

    @extend_schema(
        operation_id="runs_cancel",
        request=None,
        responses={
            200: RunOutputSerializer,
            404: NOT_FOUND,
            409: error_response("run_finished"),
        },
    )
    def post(self, request, run_id: uuid.UUID):
        run = run_services.run_cancel(user=request.user, run_id=run_id)
        return Response(RunOutputSerializer(run).data)


class RunAgreementApi(APIView):
    """Compare (again) a completed run with the model's original ONNX, in the background."""

    token_scope = Scope.DEPLOY

    @extend_schema(
        operation_id="runs_agreement",
        request=None,
        responses={
            202: RunOutputSerializer,
            404: NOT_FOUND,
            409: error_response("reference_not_found; run_not_completed"),
        },
    )
    def post(self, request, run_id: uuid.UUID):
        run = run_services.run_agreement_request(user=request.user, run_id=run_id)
        run.refresh_from_db()
        return Response(RunOutputSerializer(run).data, status=status.HTTP_202_ACCEPTED)
