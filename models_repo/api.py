"""The My models API. Views validate, call a service or selector, serialize."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http.response import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotAuthenticated
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from models_repo import reference, selectors, services
from models_repo.choices import ModelSource
from models_repo.errors import ModelFileTooLarge, ReferenceNotFound
from models_repo.selectors import DEFAULT_SORT, MODEL_SORTS
from models_repo.serializers import ModelOutputSerializer
from models_repo.storage import CHUNK
from models_repo.transfer import limit_upload_size, model_file_response, upload_was_too_large
from visiona.api import fields
from visiona.api.pagination import PageNumberPagination
from visiona.api.parsers import JSONParser
from visiona.api.schema import error_response
from visiona.api.scopes import Scope
from visiona.chips import Chip
from visiona.models import User

NOT_FOUND = error_response("model_not_found: unknown, deleted or another user's model.")


class ModelPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class ModelPageSerializer(serializers.Serializer):
    """What the list answers (DRF's page-number pagination), for the schema."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ModelOutputSerializer(many=True)


class ModelListApi(APIView):
    """The signed-in user's models (GET), or upload a NEF they already have (POST)."""

    token_scope = {"get": Scope.READ, "post": Scope.CONVERT}

    parser_classes = [MultiPartParser, FormParser]

    class FilterSerializer(fields.QuerySerializer):
        # An empty value (``?chip=``, as a form's "any" option sends) means no filter.
        chip = serializers.ChoiceField(choices=Chip.choices, required=False, allow_blank=True)
        # DRF's metaclass moves declared fields off the class, so this one does not
        # replace Field.source as the stubs believe; the query parameter is "source".
        source = serializers.ChoiceField(  # type: ignore[assignment]
            choices=ModelSource.choices, required=False, allow_blank=True
        )
        search = serializers.CharField(required=False, allow_blank=True, max_length=200)
        sort = serializers.ChoiceField(
            choices=list(MODEL_SORTS), default=DEFAULT_SORT, allow_blank=True
        )
        page = serializers.IntegerField(required=False, min_value=1)
        page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)

    @extend_schema_serializer(component_name="ModelUpload")
    class UploadInputSerializer(fields.InputSerializer):
        # Empty files pass here so the service refuses them in the pages' words.
        file = serializers.FileField(allow_empty_file=True, help_text="The .nef file.")
        name = serializers.CharField(
            max_length=200, required=False, allow_blank=True, help_text="Default: the file name."
        )
        chips = serializers.MultipleChoiceField(
            choices=Chip.choices, allow_empty=False, help_text="Repeat the field for each chip."
        )
        description = serializers.CharField(required=False, allow_blank=True, default="")

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Before authentication: its CSRF check is the first to read the body.
        if request.method == "POST":
            limit_upload_size(request._request)
        super().initial(request, *args, **kwargs)

    @extend_schema(
        operation_id="models_list",
        summary="List my models",
        parameters=[FilterSerializer],
        responses={
            200: ModelPageSerializer,
            400: error_response("validation_failed: a filter is not valid."),
            404: error_response("not_found: the page is past the last one."),
        },
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        values = {key: filters.validated_data.get(key) for key in ("chip", "source", "search")}
        models = selectors.model_list_for_user(
            user=request.user, sort=filters.validated_data["sort"] or DEFAULT_SORT, **values
        )
        paginator = ModelPagination()
        page = paginator.paginate_queryset(models, request, view=self)
        return paginator.get_paginated_response(ModelOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="models_upload",
        summary="Upload a NEF model",
        request={"multipart/form-data": UploadInputSerializer},
        responses={
            201: ModelOutputSerializer,
            400: error_response(
                "validation_failed: not a .nef file, empty, no chip, chips other than the "
                "one the NEF's header names…"
            ),
            409: error_response(
                "model_name_taken: a live model already has this name; model_already_stored: "
                "the same file (SHA-256) is already one of your models (details.model_id, "
                "details.model_url)."
            ),
            413: error_response("payload_too_large: the file is over MODELS_MAX_UPLOAD_BYTES."),
        },
    )
    def post(self, request: Request) -> Response:
        request.data  # noqa: B018  (parses the body, which notices an oversized file)
        if upload_was_too_large(request._request):
            raise ModelFileTooLarge(limit_bytes=settings.MODELS_MAX_UPLOAD_BYTES)
        if not isinstance(request.user, User):  # IsAuthenticated has let only users in
            raise NotAuthenticated()
        data = self.UploadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        model = services.model_upload(
            owner=request.user,
            upload=data.validated_data["file"],
            chips=data.validated_data["chips"],
            name=data.validated_data.get("name", ""),
            description=data.validated_data["description"],
        )
        return Response(ModelOutputSerializer(model).data, status=status.HTTP_201_CREATED)


class ModelDetailApi(APIView):
    """One model: read it, change its name, description or chips (PATCH), delete it."""

    token_scope = {"get": Scope.READ, "patch": Scope.CONVERT, "delete": Scope.CONVERT}

    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema_serializer(component_name="ModelUpdate")
    class UpdateInputSerializer(fields.InputSerializer):
        name = fields.CharField(max_length=200, required=False)
        description = fields.CharField(required=False, allow_blank=True)
        chips = serializers.MultipleChoiceField(
            choices=Chip.choices, required=False, allow_empty=False
        )

    @extend_schema(summary="Read a model", responses={200: ModelOutputSerializer, 404: NOT_FOUND})
    def get(self, request: Request, model_id: int) -> Response:
        model = selectors.model_get_for_user(user=request.user, model_id=model_id)
        return Response(ModelOutputSerializer(model).data)

    @extend_schema(
        summary="Rename, describe or retarget a model",
        request=UpdateInputSerializer,
        responses={
            200: ModelOutputSerializer,
            400: error_response("validation_failed"),
            404: NOT_FOUND,
            409: error_response("model_name_taken: a live model already has this name."),
        },
    )
    def patch(self, request: Request, model_id: int) -> Response:
        model = selectors.model_get_for_user(user=request.user, model_id=model_id)
        # Partial: a form or multipart body without ``chips`` reads as an empty list
        # otherwise (QueryDict), which the field refuses; absent means unchanged.
        data = self.UpdateInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        model = services.model_update(model=model, **data.validated_data)
        return Response(ModelOutputSerializer(model).data)

    @extend_schema(
        summary="Delete a model (it leaves every list; its name is free again)",
        responses={204: None, 404: NOT_FOUND},
    )
    def delete(self, request: Request, model_id: int) -> Response:
        model = selectors.model_get_for_user(user=request.user, model_id=model_id)
        services.model_delete(model=model)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ModelDownloadApi(APIView):
    """The model's NEF file, streamed (``<name>.nef``)."""

    token_scope = Scope.READ

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        # The answer is a file whatever the client accepts (no 406); errors stay JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        summary="Download a model's NEF file",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The NEF file, with a Repr-Digest (sha-256)."
            ),
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, model_id: int) -> HttpResponseBase:
        model = selectors.model_get_for_user(user=request.user, model_id=model_id)
        return model_file_response(request, model)


class ModelReferenceApi(APIView):
    """The model's reference: the original ONNX runs are compared with (docs/runs.md).
    GET downloads it, POST (multipart ``file``) keeps or replaces it, DELETE forgets it."""

    token_scope = {"get": Scope.READ, "post": Scope.CONVERT, "delete": Scope.CONVERT}
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema_serializer(component_name="ModelReferenceUpload")
    class UploadInputSerializer(serializers.Serializer):
        file = serializers.FileField(allow_empty_file=True, help_text="The .onnx file.")

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if request.method == "POST":
            limit_upload_size(request._request, settings.MODELS_MAX_REFERENCE_BYTES)
        super().initial(request, *args, **kwargs)

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        summary="Download a model's reference ONNX",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
            404: error_response(
                "model_not_found: no such model of yours; reference_not_found: none is kept."
            ),
        },
    )
    def get(self, request: Request, model_id: int) -> HttpResponseBase:
        model = selectors.model_get_for_user(user=request.user, model_id=model_id)
        if not model.has_reference:
            raise ReferenceNotFound()
        return reference.reference_response(request, model)

    @extend_schema(
        summary="Keep (or replace) a model's reference ONNX",
        request={"multipart/form-data": UploadInputSerializer},
        responses={
            200: ModelOutputSerializer,
            400: error_response("validation_failed: not an .onnx file, or empty."),
            404: NOT_FOUND,
            413: error_response("payload_too_large: over MODELS_MAX_REFERENCE_BYTES."),
        },
    )
    def post(self, request: Request, model_id: int) -> Response:
        model = selectors.model_get_for_user(user=request.user, model_id=model_id)
        request.data  # noqa: B018  (parses the body, which notices an oversized file)
        if upload_was_too_large(request._request):
            raise ModelFileTooLarge(limit_bytes=settings.MODELS_MAX_REFERENCE_BYTES)
        data = self.UploadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        model = reference.model_reference_store(
            model=model, filename=upload.name or "", chunks=upload.chunks(CHUNK)
        )
        return Response(ModelOutputSerializer(model).data)

    @extend_schema(
        summary="Forget a model's reference ONNX",
        responses={200: ModelOutputSerializer, 404: NOT_FOUND},
    )
    def delete(self, request: Request, model_id: int) -> Response:
        model = selectors.model_get_for_user(user=request.user, model_id=model_id)
        return Response(ModelOutputSerializer(reference.model_reference_delete(model=model)).data)
