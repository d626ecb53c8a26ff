"""The conversion JSON API. Views validate, call a service, serialize."""

from __future__ import annotations

from django.http import HttpResponseRedirect
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.parsers import BaseParser, DataAndFiles
from rest_framework.response import Response
from rest_framework.views import APIView

from conversion import limits, services, upload_lease
from conversion.serializers import (
    ActiveConversionSerializer,
    ConversionUploadSerializer,
    JobOutputSerializer,
    PromotedModelSerializer,
)
from models_repo.serializers import ModelOutputSerializer
from visiona.api import fields
from visiona.api.schema import error_response
from visiona.api.scopes import Scope

JOB_ID = OpenApiParameter(
    "job_id", OpenApiTypes.STR, OpenApiParameter.PATH, pattern=f"^{limits.JOB_ID_PATTERN}$"
)
JOB_NOT_FOUND = error_response("job_not_found: unknown, or another user's job.")
JOB_NOT_READY = error_response(
    "job_not_completed: no NEF yet; artifact_unavailable: the converter no longer has it."
)
CONVERSION_DISABLED = error_response("conversion_disabled: conversion is not configured here.")
CONVERTER_UNAVAILABLE = error_response("converter_unavailable: the converter did not answer well.")


class UnparsedMultipartParser(BaseParser):
    """Claims multipart/form-data and reads nothing.

    The upload view streams the raw body itself. DRF's CSRF check reads
    ``request.POST``; with the default parsers that would parse and spool the
    whole upload before the view runs. With this one it sees an empty form and
    falls back to the X-CSRFToken header.
    """

    media_type = "multipart/form-data"

    def parse(self, stream, media_type=None, parser_context=None) -> DataAndFiles:
        return DataAndFiles({}, {})


class ConversionInitApi(APIView):
    """Upload an ONNX model and reference images (multipart), streamed to the converter."""

    token_scope = Scope.CONVERT

    parser_classes = [UnparsedMultipartParser]

    @extend_schema(
        description=(
            "Upload an ONNX model and its reference images as multipart/form-data. The body "
            "is streamed to the converter as it arrives, never parsed or stored whole here. "
            "The user_id sent on is always the signed-in user's: one from the client is dropped."
        ),
        request={"multipart/form-data": ConversionUploadSerializer},
        responses={
            201: JobOutputSerializer,
            400: error_response(
                "validation_failed: a field is missing or refused (chip, file type, too many "
                "images…), or the ONNX pre-flight found a blocker (details.preflight is its "
                "report: chip, blockers, warnings, summary); malformed_request, "
                "upload_interrupted: the form could not be read."
            ),
            409: error_response(
                "active_job_exists: details.active_job is the unfinished job; "
                "upload_in_progress: another upload of this user is still streaming."
            ),
            411: error_response("length_required: the request states no Content-Length."),
            413: error_response(
                "payload_too_large: the upload, or one of its files, is too large."
            ),
            415: error_response("unsupported_media_type: not multipart/form-data."),
            500: error_response(
                "idp_misconfigured: our credentials are refused (contact support)."
            ),
            501: CONVERSION_DISABLED,
            502: CONVERTER_UNAVAILABLE,
            503: error_response(
                "service_busy: the converter is busy, see Retry-After; idp_unavailable: "
                "Member Center is down; upload_not_accepted: upload the model again."
            ),
        },
    )
    def post(self, request):
        # Save the session now: a long upload may outlive it, and a failing save
        # at the end would turn an accepted job into an error. A token's request has
        # no session to keep (saving would store an empty one).
        if request.auth is None:
            request.session.save()
            request.session.modified = False
        job = services.job_start(
            user=request.user,
            stream=request._request,
            content_type=request.META.get("CONTENT_TYPE", ""),
            content_length=_content_length(request),
        )
        return Response(JobOutputSerializer(job).data, status=status.HTTP_201_CREATED)


def _content_length(request) -> int | None:
    try:
        value = int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    return value if value >= 0 else None


class ConversionActiveApi(APIView):
    """The signed-in user's unfinished job, or null; and whether an upload of theirs is
    still streaming (no job yet). What a new upload would be refused for, asked first."""

    token_scope = Scope.READ

    @extend_schema(
        responses={
            200: ActiveConversionSerializer,
            501: CONVERSION_DISABLED,
            502: CONVERTER_UNAVAILABLE,
        }
    )
    def get(self, request):
        job = services.active_job_find(user=request.user)
        return Response(
            {
                "job": JobOutputSerializer(job).data if job else None,
                "upload_in_progress": upload_lease.upload_in_progress(user=request.user),
            }
        )


class ConversionJobApi(APIView):
    token_scope = Scope.READ

    @extend_schema(
        parameters=[JOB_ID],
        responses={
            200: JobOutputSerializer,
            404: JOB_NOT_FOUND,
            501: CONVERSION_DISABLED,
            502: CONVERTER_UNAVAILABLE,
        },
    )
    def get(self, request, job_id: str):
        job = services.job_get(user=request.user, job_id=job_id)
        return Response(JobOutputSerializer(job).data)


class ConversionPromoteApi(APIView):
    """Save the job's NEF into My models. Idempotent: always the same model; bytes the
    user already has as another model are pointed to (409), not stored twice."""

    token_scope = Scope.CONVERT

    @extend_schema_serializer(component_name="PromoteInput")
    class InputSerializer(fields.InputSerializer):
        name = fields.CharField(max_length=200, required=False, allow_blank=True)
        keep_onnx = serializers.BooleanField(
            required=False,
            default=False,
            help_text="Also keep the source ONNX beside the NEF, as the reference runs on "
            "a device are compared with.",
        )

    @extend_schema(
        parameters=[JOB_ID],
        request=InputSerializer,
        responses={
            200: PromotedModelSerializer,
            400: error_response("validation_failed: the name is not valid."),
            404: JOB_NOT_FOUND,
            409: error_response(
                "job_not_completed: no NEF yet; artifact_unavailable: the converter no longer "
                "has it; model_already_stored: the same NEF (SHA-256) is already one of your "
                "models (details.model_id, details.model_url), which is not stored twice."
            ),
            501: CONVERSION_DISABLED,
            502: error_response("converter_unavailable, faa_unavailable: an upstream failed."),
        },
    )
    def post(self, request, job_id: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        model = services.job_promote(
            user=request.user,
            job_id=job_id,
            name=data.validated_data.get("name") or None,
            keep_onnx=data.validated_data["keep_onnx"],
        )
        return Response({"model": ModelOutputSerializer(model).data})


class ConversionCancelApi(APIView):
    """Cancel the unfinished job, where the converter can (today's answers 501)."""

    token_scope = Scope.CONVERT

    @extend_schema(
        parameters=[JOB_ID],
        request=None,
        responses={
            200: JobOutputSerializer,
            404: JOB_NOT_FOUND,
            409: error_response("job_not_cancellable: the job has already finished."),
            501: error_response(
                "cancel_not_supported: the converter cannot cancel jobs yet; "
                "conversion_disabled: conversion is not configured here."
            ),
            502: CONVERTER_UNAVAILABLE,
        },
    )
    def post(self, request, job_id: str):
        job = services.job_cancel(user=request.user, job_id=job_id)
        return Response(JobOutputSerializer(job).data)


class ConversionDownloadApi(APIView):
    """302 to FAA with a short-lived delegated token; the token is in Location only."""

    token_scope = Scope.READ

    @extend_schema(
        parameters=[
            JOB_ID,
            OpenApiParameter(
                "Location",
                OpenApiTypes.URI,
                OpenApiParameter.HEADER,
                description="The NEF at FAA, with a short-lived token: a secret, do not log it.",
                response=[302],
            ),
        ],
        responses={
            302: OpenApiResponse(description="Fetch the NEF from Location. No body."),
            404: JOB_NOT_FOUND,
            409: JOB_NOT_READY,
            501: CONVERSION_DISABLED,
            502: error_response(
                "converter_unavailable, mc_token_unavailable, download_token_failed: "
                "an upstream failed."
            ),
        },
    )
    def get(self, request, job_id: str):
        url = services.job_download_url(user=request.user, job_id=job_id)
        response = HttpResponseRedirect(url)
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        return response
